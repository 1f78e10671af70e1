// Containers' files (containers::Manager's file methods):
//   GET|HEAD /containers/{id}/archive?path=P   a tar of P (HEAD: only the stat header)
//   PUT /containers/{id}/archive?path=DIR      a tar extracted into DIR
//   GET /containers/{id}/export                the whole filesystem as a tar
//   GET /containers/{id}/changes               [{Path, Kind}]
//   POST /commit?container=&repo=&tag=&...     the container as a new image
// The stat of an archived path travels in X-Docker-Container-Path-Stat: base64 of
// {"name","size","mode","mtime","linkTarget"}, mode in Go's os.FileMode bits.

#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include "api/tar_stream.hpp"
#include "base/base64.hpp"
#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "containers/manager.hpp"
#include "daemon/wire_time.hpp"
#include "docker_api/image_names.hpp"
#include "docker_api/routes.hpp"
#include "inspect/file_info.hpp"

namespace grove::docker_api {
namespace {

// Go's os.FileMode type bits.
constexpr uint32_t kModeDir = 1U << 31;
constexpr uint32_t kModeSymlink = 1U << 27;
constexpr uint32_t kModeDevice = 1U << 26;
constexpr uint32_t kModeNamedPipe = 1U << 25;
constexpr uint32_t kModeSocket = 1U << 24;
constexpr uint32_t kModeSetuid = 1U << 23;
constexpr uint32_t kModeSetgid = 1U << 22;
constexpr uint32_t kModeCharDevice = 1U << 21;
constexpr uint32_t kModeSticky = 1U << 20;

uint32_t go_file_mode(const inspect::FileInfo& info) {
    uint32_t mode = info.mode & 0777;
    mode |= (info.mode & S_ISUID) != 0 ? kModeSetuid : 0;
    mode |= (info.mode & S_ISGID) != 0 ? kModeSetgid : 0;
    mode |= (info.mode & S_ISVTX) != 0 ? kModeSticky : 0;
    switch (info.type) {
        case inspect::EntryType::kDirectory:
            return mode | kModeDir;
        case inspect::EntryType::kSymlink:
            return mode | kModeSymlink;
        case inspect::EntryType::kFifo:
            return mode | kModeNamedPipe;
        case inspect::EntryType::kSocket:
            return mode | kModeSocket;
        case inspect::EntryType::kCharDevice:
            return mode | kModeDevice | kModeCharDevice;
        case inspect::EntryType::kBlockDevice:
            return mode | kModeDevice;
        case inspect::EntryType::kFile:
            return mode;
    }
    return mode;
}

// The last component of the path as the client wrote it ("." for "/dir/."), which names the
// archive's top entry as in dockerd.
std::string base_name(std::string_view path) {
    while (path.size() > 1 && path.ends_with('/')) {
        path.remove_suffix(1);
    }
    const size_t slash = path.rfind('/');
    return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

std::string query_path(const http::Request& request) {
    const auto path = request.query().get("path");
    return path && !path->empty() ? std::string(*path) : std::string("/");
}

// The header value for `path`: lstat'ed; a symlink's linkTarget is where it resolves to.
Result<std::string> path_stat(const inspect::LayerStack& files, const std::string& path) {
    GROVE_ASSIGN_OR_RETURN(const auto info,
                           inspect::stat_path(files, path, inspect::Follow::kNoFinal, nullptr));
    std::string link_target;
    if (info.type == inspect::EntryType::kSymlink) {
        auto resolved = files.lookup(path, inspect::Follow::kFinal);
        link_target = resolved ? resolved->path : info.symlink_target;
    }
    const base::Json stat = {{"name", base_name(path)},
                             {"size", info.size},
                             {"mode", go_file_mode(info)},
                             {"mtime", daemon::rfc3339_nanos(info.mtime_ns)},
                             {"linkTarget", link_target}};
    return base::base64_encode(base::dump_json(stat));
}

Result<void> get_archive(containers::Manager& manager,
                         http::Request& request,
                         http::ResponseWriter& writer) {
    const std::string path = query_path(request);
    GROVE_ASSIGN_OR_RETURN(const auto files, manager.filesystem(param(request, "id")));
    GROVE_ASSIGN_OR_RETURN(const std::string stat, path_stat(files, path));
    http::StreamHead head{.status = 200};
    head.headers.set("Content-Type", "application/x-tar");
    head.headers.set("X-Docker-Container-Path-Stat", stat);
    GROVE_TRY(writer.start(std::move(head)));
    if (request.method() == "HEAD") {
        return writer.finish();
    }
    GROVE_ASSIGN_OR_RETURN(const auto users, inspect::UserDb::load(files));
    const std::string name = base_name(path);
    return api::stream_tar(
        files, &users, path,
        {.follow = inspect::Follow::kNoFinal,
         .top_name = name == "/" ? std::nullopt : std::optional<std::string>(name)},
        writer);
}

// The body is copied into a pipe by this thread while another extracts from it; an extraction
// that fails closes the pipe, which ends the copy with EPIPE, and its error is the answer.
Result<void> put_archive(containers::Manager& manager,
                         http::Request& request,
                         http::ResponseWriter& writer) {
    const std::string id = param(request, "id");
    const std::string path = query_path(request);
    archive::ApplyOptions options{.detect_compression = true,
                                  .whiteouts = false,
                                  .keep_dir_kinds = query_flag(request, "noOverwriteDirNonDir")};
    if (query_flag(request, "copyUIDGID")) {
        GROVE_ASSIGN_OR_RETURN(const auto c, manager.inspect(id));
        options.owner = std::pair{c.config.uid, c.config.gid};
    }
    GROVE_ASSIGN_OR_RETURN(auto pipe, base::Pipe::create());
    Result<void> extracted;
    std::jthread extractor([&, in = std::move(pipe.read)]() mutable {
        extracted = manager.extract(id, path, in.get(), options);
        // Whatever follows the tar's end (the zero blocks clients pad with) is read and dropped.
        char drain[64 * 1024];
        while (extracted && ::read(in.get(), drain, sizeof(drain)) > 0) {
        }
        in.reset();
    });
    auto copied = request.copy_body_to(pipe.write.get());
    pipe.write.reset();
    extractor.join();
    GROVE_TRY(extracted);
    GROVE_TRY(copied);
    return writer.send(http::Response::empty(200));
}

Result<void> export_container(containers::Manager& manager,
                              http::Request& request,
                              http::ResponseWriter& writer) {
    GROVE_ASSIGN_OR_RETURN(const auto files, manager.filesystem(param(request, "id")));
    GROVE_ASSIGN_OR_RETURN(const auto users, inspect::UserDb::load(files));
    http::StreamHead head{.status = 200};
    head.headers.set("Content-Type", "application/x-tar");
    GROVE_TRY(writer.start(std::move(head)));
    return api::stream_tar(files, &users, "/", {}, writer);
}

Result<void> changes(containers::Manager& manager,
                     http::Request& request,
                     http::ResponseWriter& writer) {
    GROVE_ASSIGN_OR_RETURN(const auto list, manager.changes(param(request, "id")));
    base::Json body = base::Json::array();
    for (const auto& change : list) {
        body.push_back({{"Path", change.path}, {"Kind", static_cast<int>(change.kind)}});
    }
    return send_json(writer, 200, body);
}

Result<void> commit(const DockerServices& services,
                    containers::Manager& manager,
                    http::Request& request,
                    http::ResponseWriter& writer) {
    const auto& query = request.query();
    const std::string container(query.get("container").value_or(""));
    const std::string repo(query.get("repo").value_or(""));
    const std::string tag(query.get("tag").value_or(""));
    std::optional<std::string> name;
    if (!repo.empty()) {
        auto ref = oci::Reference::parse(tag.empty() ? repo : repo + ":" + tag);
        if (!ref || ref->digest) {
            return base::make_error(Code::kInvalidArgument, "invalid reference format");
        }
        name = ref->familiar();
    }
    containers::CommitSpec spec{.tag = std::nullopt,
                                .author = std::string(query.get("author").value_or("")),
                                .comment = std::string(query.get("comment").value_or("")),
                                .changes = {},
                                .config_json = std::nullopt,
                                .pause = query_flag(request, "pause", true)};
    for (const auto change : query.get_all("changes")) {
        // The CLI sends one parameter per --change; older clients joined them with newlines.
        size_t start = 0;
        while (start <= change.size()) {
            const size_t end = std::min(change.find('\n', start), change.size());
            if (end > start) {
                spec.changes.emplace_back(change.substr(start, end - start));
            }
            start = end + 1;
        }
    }
    GROVE_ASSIGN_OR_RETURN(std::string body, request.read_body_to_string());
    if (!body.empty()) {
        spec.config_json = std::move(body);
    }
    GROVE_ASSIGN_OR_RETURN(const auto c, manager.inspect(container));
    GROVE_ASSIGN_OR_RETURN(auto image, manager.commit(c.id, spec));
    if (name) {
        GROVE_ASSIGN_OR_RETURN(image, name_image(services.images, image, *name));
    }
    services.events.publish(
        {.type = "container",
         .action = "commit",
         .id = c.id,
         .attributes = {{"comment", spec.comment}, {"imageID", docker_id(image.uuid)}}});
    return send_json(writer, 201, {{"Id", docker_id(image.uuid)}});
}

}  // namespace

void add_container_file_routes(http::Router& router,
                               const DockerServices& services,
                               containers::Manager& manager) {
    route(router, services, "GET", "/containers/{id}/archive",
          [&manager](http::Request& r, http::ResponseWriter& w) {
              return get_archive(manager, r, w);
          });
    route(router, services, "PUT", "/containers/{id}/archive",
          [&manager](http::Request& r, http::ResponseWriter& w) {
              return put_archive(manager, r, w);
          },
          {.max_body_size = uint64_t{64} << 30});
    route(router, services, "GET", "/containers/{id}/export",
          [&manager](http::Request& r, http::ResponseWriter& w) {
              return export_container(manager, r, w);
          });
    route(router, services, "GET", "/containers/{id}/changes",
          [&manager](http::Request& r, http::ResponseWriter& w) { return changes(manager, r, w); });
    route(router, services, "POST", "/commit",
          [services, &manager](http::Request& r, http::ResponseWriter& w) {
              return commit(services, manager, r, w);
          });
}

}  // namespace grove::docker_api
