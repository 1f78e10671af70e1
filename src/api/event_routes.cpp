// GET /v1/operations/{operationId}/events: an operation's log as Server-Sent Events.
//   ?follow=1     keep the stream open until the operation completes (else replay and close)
//   ?since=N      only events with id > N (exclusive, so a reconnect resumes without repeats);
//                 the Last-Event-Id header does the same and wins over `since`
//   ?spid=N       only the events of that process
// Frames are "id: <id>\nevent: <type>\ndata: <the whole event as one line of JSON>\n\n"; while
// the operation is silent a ": keepalive" comment goes out every sse_keepalive. A failure after
// the stream started is reported in-band, as ConTree's server does: a comment, then an
// `sse_error` event, then the end of the stream; clients reconnect with Last-Event-Id.

#include <charconv>

#include "api/contree_json.hpp"
#include "api/query.hpp"
#include "api/routes.hpp"
#include "base/error.hpp"
#include "http/sse.hpp"

namespace grove::api {
namespace {

Result<std::optional<int64_t>> integer(std::optional<std::string_view> text,
                                       std::string_view what) {
    if (!text || text->empty()) {
        return std::optional<int64_t>{};
    }
    int64_t value = 0;
    const auto [end, err] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (err != std::errc() || end != text->data() + text->size()) {
        return base::make_error(Code::kInvalidArgument, "{} must be an integer, not '{}'", what,
                                *text);
    }
    return std::optional<int64_t>(value);
}

Result<void> stream_events(daemon::Operations& operations,
                           std::chrono::milliseconds keepalive,
                           http::Request& request,
                           http::ResponseWriter& writer) {
    const std::string uuid = param(request, "operationId");
    const bool follow = flag(request.query(), "follow");
    GROVE_ASSIGN_OR_RETURN(const auto since, integer(request.query().get("since"), "since"));
    GROVE_ASSIGN_OR_RETURN(const auto last,
                           integer(request.header("Last-Event-Id"), "Last-Event-Id"));
    GROVE_ASSIGN_OR_RETURN(const auto spid, integer(request.query().get("spid"), "spid"));
    int64_t after = last.value_or(since.value_or(-1));
    // Unknown operations are a plain 404, before the stream starts.
    GROVE_TRY(operations.get(uuid));

    http::SseStream sse(writer);
    GROVE_TRY(sse.start());
    const auto stop = request.stop_token();
    while (!stop.stop_requested()) {
        auto batch =
            operations.events(uuid, after, follow ? keepalive : std::chrono::milliseconds(0), stop);
        if (!batch) {
            GROVE_TRY(sse.comment("stream ended with error, retry since last event id"));
            GROVE_TRY(sse.send({.event = "sse_error", .data = batch.error().message()}));
            return sse.finish();
        }
        for (const auto& event : batch->events) {
            after = event.id;
            if (spid && event.spid != *spid) {
                continue;
            }
            GROVE_TRY(sse.send({.id = std::to_string(event.id),
                                .event = event.type,
                                .data = base::dump_json(event_json(event))}));
        }
        if (batch->finished || !follow) {
            break;
        }
        if (batch->events.empty()) {
            GROVE_TRY(sse.keepalive());
        }
    }
    return sse.finish();
}

}  // namespace

void add_event_routes(http::Router& v1, const RouteContext& context) {
    daemon::Operations& operations = context.services.operations;
    const auto keepalive = context.options.sse_keepalive;
    route(v1, context, "GET", "/operations/{operationId}/events",
          [&operations, keepalive](http::Request& req, http::ResponseWriter& w) {
              return stream_events(operations, keepalive, req, w);
          });
}

}  // namespace grove::api
