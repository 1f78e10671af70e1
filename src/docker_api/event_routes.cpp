// GET /events: the daemon's events as a chunked stream of JSON lines, with since/until/filters.

#include <charconv>

#include "base/error.hpp"
#include "base/time_point.hpp"
#include "daemon/wire_time.hpp"
#include "docker_api/filters.hpp"
#include "docker_api/routes.hpp"

namespace grove::docker_api {
namespace {

// Docker's times: unix seconds with an optional fraction ("1700000000.000000001", what the CLI
// sends), or base::parse_time_point's forms (RFC 3339, "10m" back from now).
Result<std::optional<int64_t>> parse_event_time(const http::Request& request,
                                                std::string_view name,
                                                int64_t now) {
    const auto text = request.query().get(name);
    if (!text || text->empty()) {
        return std::optional<int64_t>();
    }
    const size_t dot = text->find('.');
    if (dot != std::string_view::npos) {
        int64_t seconds = 0;
        const auto [end, err] = std::from_chars(text->data(), text->data() + dot, seconds);
        std::string fraction(text->substr(dot + 1));
        if (err == std::errc() && end == text->data() + dot && !fraction.empty() &&
            fraction.size() <= 9 && fraction.find_first_not_of("0123456789") == std::string::npos) {
            fraction.resize(9, '0');
            return std::optional<int64_t>(seconds * 1'000'000'000 + std::stoll(fraction));
        }
    }
    GROVE_ASSIGN_OR_RETURN(const int64_t at, base::with_context(base::parse_time_point(*text, now),
                                                                "invalid {} '{}'", name, *text));
    return std::optional<int64_t>(at);
}

// The event filter, as dockerd: "health_status", "exec_create" and "exec_start" also match
// their actions with a detail after the colon ("health_status: healthy").
bool event_matches(const Filters& filters, std::string_view action) {
    if (filters.accepts("event", action)) {
        return true;
    }
    const std::string_view kind = action.substr(0, action.find(':'));
    return (kind == "health_status" || kind == "exec_create" || kind == "exec_start") &&
           filters.values("event").contains(std::string(kind));
}

bool matches(const Filters& filters, const DockerEvent& event) {
    if (!filters.accepts("type", event.type) || !event_matches(filters, event.action)) {
        return false;
    }
    if (filters.has("image")) {
        const auto name = event.attributes.find("name");
        const bool named =
            name != event.attributes.end() && filters.values("image").contains(name->second);
        if (!named && !filters.values("image").contains(event.id)) {
            return false;
        }
    }
    return true;
}

base::Json event_json(const DockerEvent& event) {
    return {{"status", event.action},
            {"id", event.id},
            {"Type", event.type},
            {"Action", event.action},
            {"Actor", {{"ID", event.id}, {"Attributes", event.attributes}}},
            {"scope", "local"},
            {"time", event.time_ns / 1'000'000'000},
            {"timeNano", event.time_ns}};
}

Result<void> events(DockerEvents& bus, http::Request& request, http::ResponseWriter& writer) {
    const int64_t now = daemon::now_ns();
    GROVE_ASSIGN_OR_RETURN(const auto since, parse_event_time(request, "since", now));
    GROVE_ASSIGN_OR_RETURN(const auto until, parse_event_time(request, "until", now));
    GROVE_ASSIGN_OR_RETURN(
        const Filters filters,
        Filters::parse(request, {"type", "event", "image", "container", "label", "scope"}));
    std::optional<std::chrono::system_clock::time_point> deadline;
    if (until) {
        deadline = std::chrono::system_clock::time_point(
            std::chrono::duration_cast<std::chrono::system_clock::duration>(
                std::chrono::nanoseconds(*until)));
    }
    // Subscribed before the head goes out: a client that acts once it has the head (aiodocker,
    // docker-py's tests) must see the events of what it does.
    uint64_t cursor = since ? bus.begin() : bus.end();
    GROVE_TRY(start_json_stream(writer));
    const auto stop = request.stop_token();
    for (;;) {
        const bool past = until && daemon::now_ns() >= *until;
        // Once `until` has passed, only what is already there is sent.
        const auto batch = bus.next(
            &cursor, stop, past ? std::optional(std::chrono::system_clock::now()) : deadline);
        for (const auto& event : batch) {
            if ((since && event.time_ns < *since) || (until && event.time_ns > *until) ||
                !matches(filters, event)) {
                continue;
            }
            GROVE_TRY(write_json_line(writer, event_json(event)));
        }
        if (stop.stop_requested() || (until && daemon::now_ns() >= *until)) {
            return writer.finish();
        }
    }
}

}  // namespace

void add_event_routes(http::Router& router, const DockerServices& services) {
    DockerEvents& bus = services.events;
    route(router, services, "GET", "/events",
          [&bus](http::Request& r, http::ResponseWriter& w) { return events(bus, r, w); });
}

}  // namespace grove::docker_api
