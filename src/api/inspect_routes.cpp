// /v1/inspect: reading images without running them.
//   GET /inspect/?tag=NAME                302 to "<uuid>/" (relative to /v1/inspect/)
//   GET /inspect, /inspect/{uuid}         302 to the same path with a trailing slash
//   GET /inspect/{uuid}/                  the Image
//   GET /inspect/{uuid}/list?path=P       DirectoryList; with `text`, ls -l style text
//   GET|HEAD /inspect/{uuid}/download?path=P    the file's bytes
//   GET|HEAD /inspect/{uuid}/archive?path=P     a PAX tar of the path, streamed
//   GET /inspect/{uuid}/grep?pattern=..   matches (pattern, path and glob repeat)
// A missing path is 404; a path of the wrong kind (a directory to download, a file to list) 422.

#include "api/contree_json.hpp"
#include "api/error_mapping.hpp"
#include "api/ls_text.hpp"
#include "api/query.hpp"
#include "api/routes.hpp"
#include "api/tar_stream.hpp"
#include "base/error.hpp"
#include "inspect/file_info.hpp"
#include "inspect/grep.hpp"
#include "inspect/read_file.hpp"
#include "inspect/tar_export.hpp"
#include "inspect/user_db.hpp"

namespace grove::api {
namespace {

std::string query_path(const http::Request& request) {
    const auto path = request.query().get("path");
    return path && !path->empty() ? std::string(*path) : std::string("/");
}

// The original query string with its '?', or "".
std::string query_suffix(const http::Request& request) {
    const size_t mark = request.target().find('?');
    return mark == std::string::npos ? std::string() : request.target().substr(mark);
}

Result<void> redirect(http::ResponseWriter& writer, std::string location) {
    http::Response response = http::Response::empty(302);
    response.headers.set("Location", std::move(location));
    return writer.send(std::move(response));
}

// Runs `body`; a path error it returns becomes its response (404 or 422).
Result<void> with_path_errors(http::ResponseWriter& writer,
                              const std::function<Result<void>()>& body) {
    auto result = body();
    if (!result && !writer.started()) {
        return writer.send(path_error_response(result.error()));
    }
    return result;
}

Result<inspect::LayerStack> image_files(image::ImageStore& images, const http::Request& request) {
    GROVE_ASSIGN_OR_RETURN(const auto image, images.find(param(request, "image_uuid")));
    return images.filesystem(image);
}

Result<void> find_by_tag(image::ImageStore& images,
                         http::Request& request,
                         http::ResponseWriter& writer) {
    const auto tag = request.query().get("tag");
    if (!tag || tag->empty()) {
        return base::make_error(Code::kInvalidArgument, "tag is required");
    }
    GROVE_ASSIGN_OR_RETURN(const auto image, images.find(*tag));
    return redirect(writer, image.uuid + "/");
}

Result<void> list(image::ImageStore& images, http::Request& request, http::ResponseWriter& writer) {
    GROVE_ASSIGN_OR_RETURN(const auto files, image_files(images, request));
    GROVE_ASSIGN_OR_RETURN(const auto users, inspect::UserDb::load(files));
    const std::string path = query_path(request);
    return with_path_errors(writer, [&]() -> Result<void> {
        GROVE_ASSIGN_OR_RETURN(const auto target,
                               inspect::stat_path(files, path, inspect::Follow::kFinal, &users));
        if (target.type != inspect::EntryType::kDirectory) {
            return base::make_error(Code::kFailedPrecondition, "'{}' is not a directory", path);
        }
        GROVE_ASSIGN_OR_RETURN(const auto entries, inspect::list_path(files, path, &users));
        if (request.query().contains("text")) {
            return writer.send(http::Response::text(200, ls_text(entries)));
        }
        base::Json items = base::Json::array();
        for (const auto& entry : entries) {
            items.push_back(file_item_json(entry));
        }
        return send_json(writer, 200, {{"path", path}, {"files", std::move(items)}});
    });
}

Result<void> download(image::ImageStore& images,
                      http::Request& request,
                      http::ResponseWriter& writer) {
    GROVE_ASSIGN_OR_RETURN(const auto files, image_files(images, request));
    const std::string path = query_path(request);
    return with_path_errors(writer, [&]() -> Result<void> {
        GROVE_ASSIGN_OR_RETURN(const auto info,
                               inspect::stat_path(files, path, inspect::Follow::kFinal, nullptr));
        if (info.type != inspect::EntryType::kFile) {
            return base::make_error(Code::kFailedPrecondition, "'{}' is not a regular file", path);
        }
        GROVE_TRY(writer.start({.headers = {{"Content-Type", "application/octet-stream"}},
                                .content_length = info.size}));
        if (request.method() == "HEAD") {
            return writer.finish();
        }
        GROVE_TRY(inspect::read_file(files, path, [&](std::span<const std::byte> chunk) {
            return writer.write(
                std::string_view(reinterpret_cast<const char*>(chunk.data()), chunk.size()));
        }));
        return writer.finish();
    });
}

Result<void> archive(image::ImageStore& images,
                     http::Request& request,
                     http::ResponseWriter& writer) {
    GROVE_ASSIGN_OR_RETURN(const auto files, image_files(images, request));
    GROVE_ASSIGN_OR_RETURN(const auto users, inspect::UserDb::load(files));
    const std::string path = query_path(request);
    return with_path_errors(writer, [&]() -> Result<void> {
        GROVE_TRY(inspect::stat_path(files, path, inspect::Follow::kFinal, nullptr));
        GROVE_TRY(writer.start({.headers = {{"Content-Type", "application/x-tar"}}}));
        if (request.method() == "HEAD") {
            return writer.finish();
        }
        return stream_tar(files, &users, path, {}, writer);
    });
}

bool ignores_case(std::optional<std::string_view> value) {
    if (!value) {
        return false;
    }
    for (const std::string_view v : {"insensitive", "ignore", "i", "false", "0", "no"}) {
        if (*value == v) {
            return true;
        }
    }
    return false;
}

Result<void> grep(image::ImageStore& images, http::Request& request, http::ResponseWriter& writer) {
    const auto& query = request.query();
    inspect::GrepOptions options;
    for (const auto pattern : query.get_all("pattern")) {
        options.patterns.emplace_back(pattern);
    }
    if (options.patterns.empty()) {
        return base::make_error(Code::kInvalidArgument, "pattern is required");
    }
    const auto paths = query.get_all("path");
    if (!paths.empty()) {
        options.paths.assign(paths.begin(), paths.end());
    }
    for (const auto glob : query.get_all("glob")) {
        options.include_globs.emplace_back(glob);
    }
    options.ignore_case = ignores_case(query.get("case"));
    options.fixed_strings = flag(query, "fixed") || flag(query, "fixed_strings");
    if (const auto limit = query.get("limit")) {
        GROVE_ASSIGN_OR_RETURN(const Page page, parse_page(query));
        options.max_matches = page.limit;
    }
    GROVE_ASSIGN_OR_RETURN(const auto files, image_files(images, request));
    return with_path_errors(writer, [&]() -> Result<void> {
        GROVE_ASSIGN_OR_RETURN(const auto found, inspect::grep(files, options));
        base::Json matches = base::Json::array();
        for (const auto& match : found.matches) {
            matches.push_back({{"path", match.path},
                               {"line", match.line},
                               {"line_number", match.line},
                               {"line_text", match.text}});
        }
        return send_json(writer, 200,
                         {{"path", options.paths.front()},
                          {"paths", options.paths},
                          {"patterns", options.patterns},
                          {"matches", std::move(matches)},
                          {"truncated", found.truncated},
                          {"files_searched", found.files_searched}});
    });
}

}  // namespace

void add_inspect_routes(http::Router& v1, const RouteContext& context) {
    image::ImageStore& images = context.services.images;
    const auto bind = [&images](Result<void> (*handler)(image::ImageStore&, http::Request&,
                                                        http::ResponseWriter&)) {
        return [&images, handler](http::Request& req, http::ResponseWriter& w) {
            return handler(images, req, w);
        };
    };
    route(v1, context, "GET", "/inspect", [](http::Request& req, http::ResponseWriter& w) {
        return redirect(w, api_base(req) + "/inspect/" + query_suffix(req));
    });
    route(v1, context, "GET", "/inspect/", bind(find_by_tag));
    route(v1, context, "GET", "/inspect/{image_uuid}",
          [](http::Request& req, http::ResponseWriter& w) {
              return redirect(w, api_base(req) + "/inspect/" + param(req, "image_uuid") + "/" +
                                     query_suffix(req));
          });
    route(v1, context, "GET", "/inspect/{image_uuid}/",
          [&images](http::Request& req, http::ResponseWriter& w) -> Result<void> {
              GROVE_ASSIGN_OR_RETURN(const auto image, images.find(param(req, "image_uuid")));
              return send_json(w, 200, image_json(image));
          });
    route(v1, context, "GET", "/inspect/{image_uuid}/list", bind(list));
    route(v1, context, "GET", "/inspect/{image_uuid}/download", bind(download));
    route(v1, context, "GET", "/inspect/{image_uuid}/archive", bind(archive));
    route(v1, context, "GET", "/inspect/{image_uuid}/grep", bind(grep));
}

}  // namespace grove::api
