// /v1/files: content-addressed uploads, their listing, and the existence probes.
//   POST /files                       the raw body (chunked or not) -> {uuid, sha256, size}
//   GET  /files[?sha256=H]            the list; with sha256, that one file (contree-mcp)
//   HEAD /files?sha256=H | ?uuid=U    200 or 404 (contree-mcp, the old SDK)
//   GET  /files/{sha256}, HEAD        the file, or 404

#include "api/contree_json.hpp"
#include "api/query.hpp"
#include "api/routes.hpp"
#include "base/error.hpp"
#include "daemon/wire_time.hpp"

namespace grove::api {
namespace {

Result<daemon::FileRecord> by_sha256(daemon::Files& files, std::string_view sha256) {
    GROVE_ASSIGN_OR_RETURN(auto file, files.find_by_sha256(sha256));
    if (!file) {
        return base::make_error(Code::kNotFound, "file with sha256 '{}' not found", sha256);
    }
    return *std::move(file);
}

base::Json file_response_json(const daemon::FileRecord& file) {
    return {{"uuid", file.uuid}, {"sha256", file.sha256}, {"size", file.size}};
}

Result<void> upload(daemon::Files& files, http::Request& request, http::ResponseWriter& writer) {
    GROVE_ASSIGN_OR_RETURN(
        const auto file, files.upload([&](std::span<char> out) { return request.read_body(out); }));
    return send_json(writer, 201, file_response_json(file));
}

Result<void> list(daemon::Files& files, http::Request& request, http::ResponseWriter& writer) {
    const auto& query = request.query();
    if (const auto sha256 = query.get("sha256")) {
        GROVE_ASSIGN_OR_RETURN(const auto file, by_sha256(files, *sha256));
        return send_json(writer, 200, file_response_json(file));
    }
    GROVE_ASSIGN_OR_RETURN(const Page page, parse_page(query));
    const int64_t now = daemon::now_ns();
    daemon::FileFilter filter{.limit = page.limit, .offset = page.offset};
    GROVE_ASSIGN_OR_RETURN(filter.since_ns, parse_time(query, "since", now));
    GROVE_ASSIGN_OR_RETURN(filter.until_ns, parse_time(query, "until", now));
    GROVE_ASSIGN_OR_RETURN(const auto found, files.list(filter));
    base::Json out = base::Json::array();
    for (const auto& file : found) {
        out.push_back(file_json(file));
    }
    return send_json(writer, 200, {{"files", std::move(out)}});
}

Result<void> probe(daemon::Files& files, http::Request& request, http::ResponseWriter& writer) {
    const auto& query = request.query();
    if (const auto sha256 = query.get("sha256")) {
        GROVE_TRY(by_sha256(files, *sha256));
    } else if (const auto uuid = query.get("uuid")) {
        GROVE_TRY(files.get(*uuid));
    } else {
        return base::make_error(Code::kInvalidArgument, "give sha256 or uuid");
    }
    return writer.send(http::Response::empty(200));
}

Result<void> get(daemon::Files& files, http::Request& request, http::ResponseWriter& writer) {
    GROVE_ASSIGN_OR_RETURN(const auto file, by_sha256(files, param(request, "sha256")));
    return send_json(writer, 200, file_json(file));
}

}  // namespace

void add_file_routes(http::Router& v1, const RouteContext& context) {
    daemon::Files& files = context.services.files;
    route(v1, context, "POST", "/files",
          [&files](http::Request& req, http::ResponseWriter& w) { return upload(files, req, w); },
          {.max_body_size = context.options.max_upload_bytes});
    route(v1, context, "GET", "/files",
          [&files](http::Request& req, http::ResponseWriter& w) { return list(files, req, w); });
    route(v1, context, "HEAD", "/files",
          [&files](http::Request& req, http::ResponseWriter& w) { return probe(files, req, w); });
    route(v1, context, "GET", "/files/{sha256}",
          [&files](http::Request& req, http::ResponseWriter& w) { return get(files, req, w); });
}

}  // namespace grove::api
