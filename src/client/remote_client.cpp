#include "client/remote_client.hpp"

#include <cmath>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "client/wire.hpp"
#include "daemon/stream_repr.hpp"
#include "store/metadata/image_table.hpp"
#include "store/metadata/uuid.hpp"

namespace grove::client {
namespace {

using base::Json;

Result<Json> json_body(const HttpResponse& response) {
    return base::parse_json(response.body);
}

Result<std::vector<ImageInfo>> images_of(const Json& body) {
    std::vector<ImageInfo> images;
    for (const auto& image : body.value("images", Json::array())) {
        GROVE_ASSIGN_OR_RETURN(auto info, image_from_json(image));
        images.push_back(std::move(info));
    }
    return images;
}

// A registry reference as ConTree's import wants it: docker://<domain>/<path>:<tag>.
std::string registry_url(std::string_view reference) {
    return reference.find("://") != std::string_view::npos ? std::string(reference)
                                                           : "docker://" + std::string(reference);
}

// What both import routes (a registry's, an uploaded file's) take from ImportOptions.
void add_import_fields(Json& request, const ImportOptions& options) {
    if (options.tag) {
        request["tag"] = *options.tag;
    }
    if (options.platform) {
        request["platform"] = *options.platform;
    }
}

// One run through its steps: upload the files, spawn, follow the events to the completion. Every
// step after the first starts from the previous one's completion, on the loop's thread.
class RemoteRun : public std::enable_shared_from_this<RemoteRun> {
public:
    RemoteRun(HttpLoop& http, std::string uuid, RunOptions options)
        : http_(http), uuid_(std::move(uuid)), options_(std::move(options)) {}

    std::future<Result<RunResult>> start() {
        auto future = promise_.get_future();
        upload(0);
        return future;
    }

private:
    void fail(Error error) { promise_.set_value(std::move(error)); }

    // `next` with the response of a request that must succeed.
    void send(HttpRequest request, std::function<void(HttpResponse)> next) {
        http_.submit(std::move(request), [self = shared_from_this(),
                                          next = std::move(next)](Result<HttpResponse> response) {
            if (!response) {
                return self->fail(std::move(response).error());
            }
            if (response->status >= 400) {
                return self->fail(http_error(*response));
            }
            next(std::move(*response));
        });
    }

    void upload(size_t index) {
        if (index == options_.files.size()) {
            return spawn();
        }
        send({.method = "POST",
              .path = "/v1/files",
              .body = options_.files[index].content,
              .content_type = "application/octet-stream"},
             [self = shared_from_this(), index](HttpResponse response) {
                 auto body = json_body(response);
                 if (!body) {
                     return self->fail(std::move(body).error());
                 }
                 self->uploads_.push_back(body->value("uuid", ""));
                 self->upload(index + 1);
             });
    }

    Json spawn_request() const {
        Json env = Json::object();
        for (const auto& [key, value] : options_.env) {
            env[key] = value;
        }
        Json files = Json::object();
        for (size_t i = 0; i < options_.files.size(); ++i) {
            files[options_.files[i].path] = {
                {"uuid", uploads_[i]}, {"mode", fmt::format("{:04o}", options_.files[i].mode)}};
        }
        Json body{{"image", uuid_},
                  {"env", std::move(env)},
                  {"cwd", options_.cwd},
                  {"hostname", options_.hostname},
                  {"disposable", options_.disposable},
                  {"files", std::move(files)}};
        Json stdin_repr = daemon::stream_repr(options_.stdin_data);
        stdin_repr["close"] = true;
        body["stdin"] = std::move(stdin_repr);
        if (options_.shell) {
            body["command"] = *options_.shell;
            body["shell"] = true;
        } else if (!options_.command.empty()) {
            body["command"] = options_.command.front();
            body["args"] =
                std::vector<std::string>(options_.command.begin() + 1, options_.command.end());
        }
        if (options_.timeout) {
            body["timeout"] = std::chrono::duration<double>(*options_.timeout).count();
        }
        if (options_.tag) {
            body["tag"] = *options_.tag;
        }
        if (options_.uid) {
            body["uid"] = *options_.uid;
        }
        if (options_.gid) {
            body["gid"] = *options_.gid;
        }
        const RunLimits& limits = options_.limits;
        Json caps = Json::object();
        if (limits.memory_bytes) {
            caps["memory_bytes"] = *limits.memory_bytes;
        }
        if (limits.pids) {
            caps["pids"] = *limits.pids;
        }
        if (limits.cpus) {
            caps["cpus"] = *limits.cpus;
        }
        if (limits.max_layer_bytes) {
            caps["max_layer_bytes"] = *limits.max_layer_bytes;
        }
        body["resources_limits"] = std::move(caps);
        // grove's extensions, sent only when set: a ConTree server ignores them, as unknown.
        if (options_.network != "none") {
            body["network"] = options_.network;
        }
        if (!options_.runtime.empty()) {
            body["runtime"] = options_.runtime;
        }
        return body;
    }

    void spawn() {
        if (options_.command.empty() && !options_.shell) {
            return fail(Error(Code::kInvalidArgument, "a run needs a command or a shell string"));
        }
        send({.method = "POST", .path = "/v1/instances", .body = base::dump_json(spawn_request())},
             [self = shared_from_this()](HttpResponse response) {
                 auto body = json_body(response);
                 if (!body) {
                     return self->fail(std::move(body).error());
                 }
                 self->follow(body->value("uuid", ""));
             });
    }

    void follow(const std::string& operation) {
        auto self = shared_from_this();
        auto stream =
            std::make_shared<EventStream>([self](const Json& event) { self->on_event(event); });
        send({.path = "/v1/operations/" + operation + "/events?follow=1",
              .on_body =
                  [stream](std::string_view chunk) {
                      stream->feed(chunk);
                  }},
             [self](HttpResponse) { self->finish(); });
    }

    void on_event(const Json& event) {
        const std::string type = event.value("type", "");
        const int spid = event.value("spid", -1);
        const Json data = event.value("data", Json::object());
        if ((type == "stdout" || type == "stderr") && spid == 1) {
            auto bytes = daemon::decode_stream_repr(data);
            if (!bytes) {
                return;
            }
            const bool out = type == "stdout";
            (out ? result_.stdout_data : result_.stderr_data).append(*bytes);
            if (const auto& callback = (out ? options_.stdout_to : options_.stderr_to).callback) {
                callback(*bytes);
            }
        } else if (type == "exit" && spid == 1) {
            const int code = data.value("code", -1);
            const int signal = data.value("signal", -1);
            result_.exit_code = code == -1 && signal > 0 ? 128 + signal : code;
            result_.timed_out = data.value("timed_out", false);
            result_.elapsed = std::chrono::milliseconds(data.value("duration_ms", int64_t{0}));
        } else if (type == "completion") {
            completion_ = data;
        }
    }

    void finish() {
        if (!completion_) {
            return fail(Error(Code::kUnavailable, "the event stream ended before the completion"));
        }
        const std::string status = completion_->value("status", "");
        if (status != "SUCCESS") {
            const auto error = completion_->find("error");
            const std::string message = error != completion_->end() && error->is_string()
                                            ? error->get<std::string>()
                                            : "the run ended " + status;
            return fail(Error(status == "CANCELLED" ? Code::kCancelled : Code::kInternal, message));
        }
        if (const auto image = completion_->find("result_image_uuid");
            image != completion_->end() && image->is_string()) {
            result_.image = image->get<std::string>();
        }
        promise_.set_value(std::move(result_));
    }

    HttpLoop& http_;
    const std::string uuid_;
    const RunOptions options_;
    std::promise<Result<RunResult>> promise_;
    std::vector<std::string> uploads_;  // the files' upload UUIDs, in options_.files' order
    RunResult result_;
    std::optional<Json> completion_;
};

}  // namespace

Result<Endpoint> parse_host(const RemoteOptions& options) {
    std::string_view host = options.host;
    if (host.starts_with("unix://")) {
        host.remove_prefix(7);
    }
    if (host.starts_with("/")) {
        return Endpoint{
            .unix_path = std::string(host), .base_url = "http://localhost", .token = options.token};
    }
    if (host.starts_with("http://") || host.starts_with("https://")) {
        while (host.ends_with("/")) {
            host.remove_suffix(1);
        }
        return Endpoint{.base_url = std::string(host), .token = options.token};
    }
    if (host.starts_with("tcp://")) {
        return Endpoint{.base_url = "http://" + std::string(host.substr(6)),
                        .token = options.token};
    }
    return base::make_error(Code::kInvalidArgument,
                            "host '{}': want unix:///path, /path, http(s)://host:port or "
                            "tcp://host:port",
                            options.host);
}

Result<std::vector<ImageInfo>> RemoteClient::list_images(const ImageListOptions& options) {
    std::string query = "/v1/images?limit=" + std::to_string(options.number.value_or(1000));
    if (options.tagged) {
        query += "&tagged=1";
    }
    if (options.tag_prefix) {
        query += "&tag=" + escape_query(*options.tag_prefix);
    }
    if (options.since) {
        query += "&since=" + escape_query(iso8601(*options.since));
    }
    if (options.until) {
        query += "&until=" + escape_query(iso8601(*options.until));
    }
    GROVE_ASSIGN_OR_RETURN(const auto response, http_->call({.path = query}));
    GROVE_ASSIGN_OR_RETURN(const Json body, json_body(response));
    return images_of(body);
}

Result<ImageInfo> RemoteClient::find_image(std::string_view ref, bool strict) {
    if (store::is_uuid(ref)) {
        if (!strict) {
            return ImageInfo{.uuid = std::string(ref)};
        }
        GROVE_ASSIGN_OR_RETURN(const auto response,
                               http_->call({.path = "/v1/inspect/" + std::string(ref) + "/"}));
        GROVE_ASSIGN_OR_RETURN(const Json body, json_body(response));
        return image_from_json(body);
    }
    // A tag (groved sorts the exact match first, within the page), else a unique UUID prefix,
    // as the store resolves.
    GROVE_ASSIGN_OR_RETURN(const auto tagged, list_images({.tag_prefix = std::string(ref)}));
    if (!tagged.empty() && tagged.front().tag == ref) {
        return tagged.front();
    }
    if (store::is_uuid_prefix(ref) && ref.size() >= store::ImageTable::kMinUuidPrefix) {
        GROVE_ASSIGN_OR_RETURN(
            const auto response,
            http_->call({.path = "/v1/images?limit=2&uuid=" + escape_query(ref)}));
        GROVE_ASSIGN_OR_RETURN(const Json body, json_body(response));
        GROVE_ASSIGN_OR_RETURN(const auto prefixed, images_of(body));
        if (prefixed.size() == 1) {
            return prefixed.front();
        }
        if (prefixed.size() > 1) {
            return base::make_error(Code::kFailedPrecondition, "image id prefix '{}' is ambiguous",
                                    ref);
        }
    }
    return base::make_error(Code::kNotFound, "no image is tagged or has an id starting '{}'", ref);
}

Result<std::string> RemoteClient::wait_for_image(
    const std::string& operation, const std::function<void(const ImportProgress&)>& progress) {
    std::optional<Json> completion;
    EventStream stream([&](const Json& event) {
        const std::string type = event.value("type", "");
        if (type == "completion") {
            completion = event.value("data", Json::object());
        } else if (type == "progress" && progress) {
            progress(import_progress_from_json(event.value("data", Json::object())));
        }
    });
    GROVE_TRY(http_->call({.path = "/v1/operations/" + operation + "/events?follow=1",
                           .on_body = [&](std::string_view chunk) {
                               stream.feed(chunk);
                           }}));
    if (!completion) {
        return base::make_error(Code::kUnavailable, "operation '{}': no completion", operation);
    }
    if (completion->value("status", "") != "SUCCESS") {
        const auto error = completion->find("error");
        return Error(Code::kInternal, error != completion->end() && error->is_string()
                                          ? error->get<std::string>()
                                          : "operation " + operation + " failed");
    }
    return completion->value("result_image_uuid", "");
}

// A file is uploaded (POST /v1/files), then imported from there by groved's own route; a
// directory would need packing first, which is left to the caller.
Result<ImageInfo> RemoteClient::import_file(const image::SourceSpec& spec,
                                            std::string_view transport,
                                            const ImportOptions& options) {
    if (std::filesystem::is_directory(spec.path)) {
        return base::make_error(Code::kUnimplemented,
                                "importing the directory '{}' works on the local store only; "
                                "against groved, import a file (oci-archive:, docker-archive:, "
                                "rootfs:<tarball>)",
                                spec.path.string());
    }
    GROVE_ASSIGN_OR_RETURN(auto file, base::UniqueFd::open(spec.path, O_RDONLY | O_CLOEXEC));
    struct stat st {};
    if (::fstat(file.get(), &st) != 0) {
        return base::last_errno_error("stat '{}'", spec.path.string());
    }
    GROVE_ASSIGN_OR_RETURN(const auto uploaded,
                           http_->call({.method = "POST",
                                        .path = "/v1/files",
                                        .body_fd = file.get(),
                                        .body_size = static_cast<uint64_t>(st.st_size),
                                        .content_type = "application/octet-stream"}));
    GROVE_ASSIGN_OR_RETURN(const Json upload, json_body(uploaded));
    Json request{{"file", upload.value("uuid", "")}, {"transport", transport}};
    if (!spec.ref.empty()) {
        request["ref"] = spec.ref;
    }
    add_import_fields(request, options);
    GROVE_ASSIGN_OR_RETURN(const auto response, http_->call({.method = "POST",
                                                             .path = "/grove/v1/images/import",
                                                             .body = base::dump_json(request)}));
    GROVE_ASSIGN_OR_RETURN(const Json body, json_body(response));
    if (options.progress) {
        options.progress({.finished = true});
    }
    return image_from_json(body);
}

Result<ImageInfo> RemoteClient::import_image(std::string_view reference,
                                             const ImportOptions& options) {
    GROVE_ASSIGN_OR_RETURN(const auto spec, image::parse_source_spec(reference));
    if (spec.transport != image::Transport::kRegistry) {
        return import_file(spec, reference.substr(0, reference.find(':')), options);
    }
    Json registry{{"url", registry_url(reference)}};
    if (options.credentials) {
        registry["credentials"] = {{"username", options.credentials->username},
                                   {"password", options.credentials->password}};
    }
    Json request{{"registry", std::move(registry)}, {"timeout", options.timeout.count()}};
    add_import_fields(request, options);
    GROVE_ASSIGN_OR_RETURN(const auto response, http_->call({.method = "POST",
                                                             .path = "/v1/images/import",
                                                             .body = base::dump_json(request)}));
    GROVE_ASSIGN_OR_RETURN(const Json body, json_body(response));
    GROVE_ASSIGN_OR_RETURN(const std::string uuid,
                           wait_for_image(body.value("uuid", ""), options.progress));
    if (options.progress) {
        options.progress({.finished = true});
    }
    return find_image(uuid, true);
}

Result<ImageInfo> RemoteClient::tag_image(const std::string& uuid, std::string_view tag) {
    GROVE_ASSIGN_OR_RETURN(const auto response,
                           http_->call({.method = "PATCH",
                                        .path = "/v1/images/" + uuid + "/tag",
                                        .body = base::dump_json({{"tag", tag}})}));
    GROVE_ASSIGN_OR_RETURN(const Json body, json_body(response));
    return image_from_json(body);
}

Result<std::vector<ImageInfo>> RemoteClient::lineage(const std::string& uuid) {
    std::vector<ImageInfo> ancestors;
    GROVE_ASSIGN_OR_RETURN(ImageInfo image, find_image(uuid, true));
    while (image.parent) {
        GROVE_ASSIGN_OR_RETURN(image, find_image(*image.parent, true));
        ancestors.push_back(image);
    }
    return ancestors;
}

Result<std::vector<FileEntry>> RemoteClient::list_files(const std::string& uuid,
                                                        std::string_view path) {
    GROVE_ASSIGN_OR_RETURN(
        const auto response,
        http_->call({.path = "/v1/inspect/" + uuid + "/list?path=" + escape_query(path)}));
    GROVE_ASSIGN_OR_RETURN(const Json body, json_body(response));
    std::vector<FileEntry> entries;
    for (const auto& file : body.value("files", Json::array())) {
        GROVE_ASSIGN_OR_RETURN(auto entry, file_entry_from_json(file));
        entries.push_back(std::move(entry));
    }
    return entries;
}

Result<std::string> RemoteClient::read_file(const std::string& uuid, std::string_view path) {
    GROVE_ASSIGN_OR_RETURN(
        auto response,
        http_->call({.path = "/v1/inspect/" + uuid + "/download?path=" + escape_query(path)}));
    return std::move(response.body);
}

Result<void> RemoteClient::archive_path(const std::string& uuid, std::string_view path, int fd) {
    Result<void> written;
    GROVE_TRY(http_->call({.path = "/v1/inspect/" + uuid + "/archive?path=" + escape_query(path),
                           .on_body = [&](std::string_view chunk) {
                               if (written) {
                                   written = base::write_all(fd, chunk);
                               }
                           }}));
    return written;
}

Result<GrepResult> RemoteClient::grep_image(const std::string& uuid, const GrepOptions& options) {
    std::string query =
        "/v1/inspect/" + uuid + "/grep?limit=" + std::to_string(options.max_matches);
    for (const auto& pattern : options.patterns) {
        query += "&pattern=" + escape_query(pattern);
    }
    for (const auto& path : options.paths) {
        query += "&path=" + escape_query(path);
    }
    for (const auto& glob : options.include_globs) {
        query += "&glob=" + escape_query(glob);
    }
    if (options.ignore_case) {
        query += "&case=insensitive";
    }
    if (options.fixed_strings) {
        query += "&fixed=1";
    }
    GROVE_ASSIGN_OR_RETURN(const auto response, http_->call({.path = query}));
    GROVE_ASSIGN_OR_RETURN(const Json body, json_body(response));
    return grep_result_from_json(body);
}

Result<std::string> RemoteClient::remove_image(std::string_view ref, bool force) {
    GROVE_ASSIGN_OR_RETURN(
        const auto response,
        http_->call({.method = "DELETE",
                     .path = "/grove/v1/images/" + escape_query(ref) + (force ? "?force=1" : "")}));
    GROVE_ASSIGN_OR_RETURN(const Json body, json_body(response));
    return body.value("uuid", "");
}

Result<void> RemoteClient::untag_image(std::string_view tag) {
    GROVE_ASSIGN_OR_RETURN(const ImageInfo image, find_image(tag, true));
    if (image.tag != tag) {
        return base::make_error(Code::kNotFound, "no image is tagged '{}'", tag);
    }
    GROVE_TRY(http_->call({.method = "DELETE",
                           .path = "/v1/images/" + image.uuid + "/tag?tag=" + escape_query(tag)}));
    return {};
}

Result<PruneResult> RemoteClient::prune_images() {
    GROVE_ASSIGN_OR_RETURN(const auto response,
                           http_->call({.method = "POST", .path = "/grove/v1/images/prune"}));
    GROVE_ASSIGN_OR_RETURN(const Json body, json_body(response));
    return prune_result_from_json(body);
}

std::future<Result<RunResult>> RemoteClient::start_run(const std::string& uuid,
                                                       RunOptions options) {
    return std::make_shared<RemoteRun>(*http_, uuid, std::move(options))->start();
}

Result<SessionInfo> RemoteClient::session_call(std::string method,
                                               std::string path,
                                               std::string body) {
    GROVE_ASSIGN_OR_RETURN(const auto response,
                           http_->call({.method = std::move(method),
                                        .path = "/grove/v1/sessions" + std::move(path),
                                        .body = std::move(body)}));
    GROVE_ASSIGN_OR_RETURN(const Json json, json_body(response));
    return session_from_json(json);
}

Result<SessionInfo> RemoteClient::create_session(std::string_view name, std::string_view ref) {
    return session_call("POST", "", base::dump_json({{"name", name}, {"image", ref}}));
}

Result<SessionInfo> RemoteClient::get_session(std::string_view name) {
    return session_call("GET", "/" + escape_query(name), "");
}

Result<std::vector<SessionInfo>> RemoteClient::list_sessions() {
    GROVE_ASSIGN_OR_RETURN(const auto response, http_->call({.path = "/grove/v1/sessions"}));
    GROVE_ASSIGN_OR_RETURN(const Json body, json_body(response));
    std::vector<SessionInfo> sessions;
    for (const auto& session : body.value("sessions", Json::array())) {
        GROVE_ASSIGN_OR_RETURN(auto info, session_from_json(session));
        sessions.push_back(std::move(info));
    }
    return sessions;
}

Result<void> RemoteClient::remove_session(std::string_view name) {
    GROVE_TRY(
        http_->call({.method = "DELETE", .path = "/grove/v1/sessions/" + escape_query(name)}));
    return {};
}

Result<SessionInfo> RemoteClient::branch_session(std::string_view name, std::string_view branch) {
    return session_call("POST", "/" + escape_query(name) + "/branches",
                        base::dump_json({{"name", branch}}));
}

Result<SessionInfo> RemoteClient::checkout_session(std::string_view name, std::string_view branch) {
    return session_call("POST", "/" + escape_query(name) + "/checkout",
                        base::dump_json({{"branch", branch}}));
}

Result<SessionInfo> RemoteClient::rollback_session(std::string_view name, int64_t steps) {
    return session_call("POST", "/" + escape_query(name) + "/rollback",
                        base::dump_json({{"steps", steps}}));
}

Result<SessionInfo> RemoteClient::record_run(std::string_view name, const SessionRun& run) {
    const Json body{{"parent", run.parent.value_or(0)},
                    {"image", run.image},
                    {"command", run.command},
                    {"exit_code", run.exit_code},
                    {"timed_out", run.timed_out},
                    {"elapsed_ns", run.elapsed.count()},
                    {"stdout", daemon::stream_repr(run.stdout_data)},
                    {"stderr", daemon::stream_repr(run.stderr_data)}};
    return session_call("POST", "/" + escape_query(name) + "/runs", base::dump_json(body));
}

Result<std::vector<SessionRun>> RemoteClient::session_history(std::string_view name,
                                                              size_t limit,
                                                              std::string_view branch) {
    std::string path =
        "/grove/v1/sessions/" + escape_query(name) + "/history?limit=" + std::to_string(limit);
    if (!branch.empty()) {
        path += "&branch=" + escape_query(branch);
    }
    GROVE_ASSIGN_OR_RETURN(const auto response, http_->call({.path = path}));
    GROVE_ASSIGN_OR_RETURN(const Json body, json_body(response));
    std::vector<SessionRun> runs;
    for (const auto& state : body.value("states", Json::array())) {
        GROVE_ASSIGN_OR_RETURN(auto run, session_run_from_json(state));
        runs.push_back(std::move(run));
    }
    return runs;
}

Result<std::vector<OperationInfo>> RemoteClient::list_operations(
    const OperationListOptions& options) {
    std::string path = "/v1/operations?limit=" + std::to_string(options.number.value_or(1000));
    if (options.status) {
        path += "&status=" + escape_query(*options.status);
    }
    GROVE_ASSIGN_OR_RETURN(const auto response, http_->call({.path = path}));
    GROVE_ASSIGN_OR_RETURN(const Json body, json_body(response));
    std::vector<OperationInfo> operations;
    for (const auto& item : body.is_array() ? body : body.value("operations", Json::array())) {
        GROVE_ASSIGN_OR_RETURN(auto operation, operation_from_json(item));
        if (!operation.finished()) {
            // The list leaves out the metadata (the command): asked for the few still going.
            GROVE_ASSIGN_OR_RETURN(operation, get_operation(operation.uuid));
        }
        operations.push_back(std::move(operation));
    }
    return operations;
}

Result<OperationInfo> RemoteClient::get_operation(std::string_view uuid) {
    GROVE_ASSIGN_OR_RETURN(const auto response,
                           http_->call({.path = "/v1/operations/" + escape_query(uuid)}));
    GROVE_ASSIGN_OR_RETURN(const Json body, json_body(response));
    return operation_from_json(body);
}

Result<OperationInfo> RemoteClient::wait_operation(std::string_view uuid) {
    // The log ends with the completion; groved makes the operation finished before that.
    const std::string events = "/v1/operations/" + escape_query(uuid) + "/events?follow=1";
    GROVE_TRY(http_->call({.path = events, .on_body = [](std::string_view) {
                           }}));
    return get_operation(uuid);
}

Result<void> RemoteClient::cancel_operation(std::string_view uuid) {
    GROVE_TRY(http_->call({.method = "DELETE", .path = "/v1/operations/" + escape_query(uuid)}));
    return {};
}

}  // namespace grove::client

namespace grove {

Result<std::unique_ptr<Client>> Client::remote(const RemoteOptions& options) {
    GROVE_ASSIGN_OR_RETURN(auto endpoint, client::parse_host(options));
    GROVE_ASSIGN_OR_RETURN(auto http, client::HttpLoop::start(std::move(endpoint)));
    auto client = std::make_unique<client::RemoteClient>(std::move(http));
    // Fails early, with a clear error, when groved is not there or refuses the token.
    GROVE_TRY(client->list_images({.number = 1}));
    return std::unique_ptr<Client>(std::move(client));
}

}  // namespace grove
