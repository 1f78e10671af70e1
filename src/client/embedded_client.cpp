#include "client/embedded_client.hpp"

#include <cstdlib>
#include <thread>

#include <boost/asio/post.hpp>

#include "base/error.hpp"
#include "client/engine_request.hpp"
#include "engine/host_cgroups.hpp"
#include "image/layer_phase.hpp"
#include "image/prune.hpp"
#include "image/registry_source.hpp"
#include "image/source_spec.hpp"
#include "inspect/grep.hpp"
#include "inspect/read_file.hpp"
#include "inspect/tar_export.hpp"
#include "inspect/user_db.hpp"
#include "registry/client.hpp"
#include "store/metadata/uuid.hpp"

namespace grove::client {
namespace {

int64_t to_ns(Clock::time_point time) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
}

ImageInfo image_info(const store::ImageRecord& image) {
    return {.uuid = image.uuid,
            .tag = image.tag,
            .parent = image.parent,
            .kind = std::string(store::image_kind_name(image.kind)),
            .created = Clock::time_point(std::chrono::duration_cast<Clock::duration>(
                std::chrono::nanoseconds(image.created_ns))),
            .size = image.size_logical};
}

template <typename T, typename F>
Result<std::vector<T>> map_all(const auto& items, F&& convert) {
    std::vector<T> out;
    out.reserve(items.size());
    for (const auto& item : items) {
        out.push_back(convert(item));
    }
    return out;
}

SessionInfo session_info(const store::SessionRecord& session) {
    SessionInfo info{.name = session.name,
                     .branch = session.branch,
                     .head = session.current().head,
                     .image = session.current().image};
    for (const auto& branch : session.branches) {
        info.branches.push_back({.name = branch.name, .head = branch.head, .image = branch.image});
    }
    return info;
}

SessionRun session_run(const store::SessionState& state) {
    return {.id = state.id,
            .parent = state.parent,
            .image = state.image,
            .command = state.command,
            .exit_code = state.exit_code,
            .timed_out = state.timed_out,
            .elapsed = std::chrono::nanoseconds(state.elapsed_ns),
            .stdout_data = state.stdout_data,
            .stderr_data = state.stderr_data};
}

Result<SessionInfo> as_info(Result<store::SessionRecord> session) {
    GROVE_TRY(session);
    return session_info(*session);
}

}  // namespace

EmbeddedClient::EmbeddedClient(const EmbeddedOptions& options,
                               base::Logger log,
                               std::unique_ptr<image::ImageStore> store,
                               size_t parallel_runs)
    : options_(options),
      log_(std::move(log)),
      store_(std::move(store)),
      runner_(*store_, engine::host_cgroups(log_, /*tune_host=*/true), log_),
      pool_(parallel_runs) {}

EmbeddedClient::~EmbeddedClient() {
    pool_.join();
}

Result<std::vector<ImageInfo>> EmbeddedClient::list_images(const ImageListOptions& options) {
    store::ImageFilter filter{
        .limit = options.number, .tagged_only = options.tagged, .tag_prefix = options.tag_prefix};
    if (options.since) {
        filter.since_ns = to_ns(*options.since);
    }
    if (options.until) {
        filter.until_ns = to_ns(*options.until);
    }
    GROVE_ASSIGN_OR_RETURN(const auto images, store_->list(filter));
    return map_all<ImageInfo>(images, image_info);
}

Result<ImageInfo> EmbeddedClient::find_image(std::string_view ref, bool strict) {
    if (!strict && store::is_uuid(ref)) {
        return ImageInfo{.uuid = std::string(ref)};
    }
    GROVE_ASSIGN_OR_RETURN(const auto image, store_->find(ref));
    return image_info(image);
}

Result<ImageInfo> EmbeddedClient::import_image(std::string_view reference,
                                               const ImportOptions& options) {
    registry::RegistryFlags flags{.mirrors = options_.registry_mirrors,
                                  .insecure = options_.insecure_registries,
                                  .auth_files = options_.auth_files};
    GROVE_ASSIGN_OR_RETURN(auto config, registry::RegistryConfig::from_flags(flags));
    std::unique_ptr<registry::Client> registry;
    image::SourceContext sources{
        .scratch = store_->paths().root,
        .registry = [&](const oci::Reference& ref) -> Result<std::unique_ptr<image::ImageSource>> {
            if (options.credentials && !options.credentials->username.empty()) {
                config.hosts[ref.domain].credentials = registry::Credentials{
                    options.credentials->username, options.credentials->password};
            }
            registry = std::make_unique<registry::Client>(config);
            return std::make_unique<image::RegistrySource>(*registry, ref);
        }};
    GROVE_ASSIGN_OR_RETURN(auto source, image::open_source(reference, sources));
    image::ImportOptions settings{.tag = options.tag};
    if (options.platform) {
        GROVE_ASSIGN_OR_RETURN(settings.platform, oci::Platform::parse(*options.platform));
    }
    if (options.progress) {
        settings.progress = [&](const image::LayerProgress& p) {
            options.progress({.layer = p.index,
                              .layers = p.count,
                              .digest = p.digest,
                              .phase = std::string(image::phase_name(p.phase)),
                              .done = p.done,
                              .total = p.total});
        };
    }
    GROVE_ASSIGN_OR_RETURN(const auto imported, store_->import(*source, settings));
    if (options.progress) {
        options.progress({.finished = true});
    }
    return image_info(imported.image);
}

Result<ImageInfo> EmbeddedClient::tag_image(const std::string& uuid, std::string_view tag) {
    GROVE_ASSIGN_OR_RETURN(const auto image, store_->tag(uuid, tag));
    return image_info(image);
}

Result<std::vector<ImageInfo>> EmbeddedClient::lineage(const std::string& uuid) {
    GROVE_ASSIGN_OR_RETURN(const auto images, store_->lineage(uuid));
    return map_all<ImageInfo>(images, image_info);
}

Result<std::vector<FileEntry>> EmbeddedClient::list_files(const std::string& uuid,
                                                          std::string_view path) {
    GROVE_ASSIGN_OR_RETURN(const auto image, store_->find(uuid));
    GROVE_ASSIGN_OR_RETURN(const auto files, store_->filesystem(image));
    GROVE_ASSIGN_OR_RETURN(const auto dir, files.lookup(path));
    GROVE_ASSIGN_OR_RETURN(const auto entries, files.list(dir));
    std::vector<FileEntry> out;
    for (const auto& entry : entries) {
        FileEntry file{.name = entry.name,
                       .size = static_cast<uint64_t>(entry.st.st_size),
                       .mode = entry.st.st_mode,
                       .is_dir = S_ISDIR(entry.st.st_mode),
                       .is_symlink = S_ISLNK(entry.st.st_mode)};
        if (file.is_symlink) {
            GROVE_ASSIGN_OR_RETURN(const auto link, files.child(dir, entry.name));
            GROVE_ASSIGN_OR_RETURN(file.symlink_to, files.read_link(link));
        }
        out.push_back(std::move(file));
    }
    return out;
}

Result<std::string> EmbeddedClient::read_file(const std::string& uuid, std::string_view path) {
    GROVE_ASSIGN_OR_RETURN(const auto image, store_->find(uuid));
    GROVE_ASSIGN_OR_RETURN(const auto files, store_->filesystem(image));
    std::string content;
    GROVE_TRY(
        inspect::read_file(files, path, [&](std::span<const std::byte> chunk) -> Result<void> {
            content.append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
            return {};
        }));
    return content;
}

Result<void> EmbeddedClient::archive_path(const std::string& uuid, std::string_view path, int fd) {
    GROVE_ASSIGN_OR_RETURN(const auto image, store_->find(uuid));
    GROVE_ASSIGN_OR_RETURN(const auto files, store_->filesystem(image));
    GROVE_ASSIGN_OR_RETURN(const auto users, inspect::UserDb::load(files));
    return inspect::write_tar(files, path, fd, &users);
}

Result<GrepResult> EmbeddedClient::grep_image(const std::string& uuid, const GrepOptions& options) {
    GROVE_ASSIGN_OR_RETURN(const auto image, store_->find(uuid));
    GROVE_ASSIGN_OR_RETURN(const auto files, store_->filesystem(image));
    inspect::GrepOptions grep{.patterns = options.patterns,
                              .fixed_strings = options.fixed_strings,
                              .ignore_case = options.ignore_case,
                              .include_globs = options.include_globs,
                              .max_matches = options.max_matches};
    if (!options.paths.empty()) {
        grep.paths = options.paths;
    }
    GROVE_ASSIGN_OR_RETURN(const auto found, inspect::grep(files, grep));
    GrepResult result{.truncated = found.truncated, .files_searched = found.files_searched};
    for (const auto& match : found.matches) {
        result.matches.push_back({.path = match.path, .line = match.line, .text = match.text});
    }
    return result;
}

Result<std::string> EmbeddedClient::remove_image(std::string_view ref, bool force) {
    GROVE_ASSIGN_OR_RETURN(const auto image, store_->find(ref));
    GROVE_TRY(store_->remove(image.uuid, {.force = force}));
    return image.uuid;
}

Result<void> EmbeddedClient::untag_image(std::string_view tag) {
    return store_->untag(tag);
}

Result<PruneResult> EmbeddedClient::prune_images() {
    GROVE_ASSIGN_OR_RETURN(auto pruned, image::prune_untagged(*store_));
    return PruneResult{.removed = std::move(pruned.removed),
                       .layers_removed = pruned.collected.layers_removed,
                       .blobs_removed = pruned.collected.blobs_removed,
                       .bytes_freed = pruned.collected.bytes_freed};
}

Result<RunResult> EmbeddedClient::run(const std::string& uuid, const RunOptions& options) {
    engine::RunRequest request = engine_request(uuid, options);
    if (request.argv.empty() && !request.shell) {
        return base::make_error(Code::kInvalidArgument, "a run needs a command or a shell string");
    }
    request.on_output = [&](engine::Stream stream, std::string_view chunk) {
        const auto& sink =
            stream == engine::Stream::kStdout ? options.stdout_to : options.stderr_to;
        if (sink.callback) {
            sink.callback(chunk);
        }
    };
    GROVE_ASSIGN_OR_RETURN(auto ran, runner_.run(request));
    if (ran.layer_too_large) {
        return base::make_error(Code::kResourceExhausted,
                                "the run's changes outgrew max_layer_bytes; nothing was kept");
    }
    RunResult result{.exit_code = ran.exit_code,
                     .timed_out = ran.timed_out,
                     .stdout_data = std::move(ran.stdout_data),
                     .stderr_data = std::move(ran.stderr_data),
                     .elapsed = ran.elapsed};
    if (ran.result_image) {
        result.image = ran.result_image->uuid;
    }
    return result;
}

std::future<Result<RunResult>> EmbeddedClient::start_run(const std::string& uuid,
                                                         RunOptions options) {
    auto task = std::make_shared<std::packaged_task<Result<RunResult>()>>(
        [this, uuid, options = std::move(options)] { return run(uuid, options); });
    auto future = task->get_future();
    boost::asio::post(pool_, [task] { (*task)(); });
    return future;
}

Result<SessionInfo> EmbeddedClient::create_session(std::string_view name, std::string_view ref) {
    GROVE_ASSIGN_OR_RETURN(const auto uuid,
                           store_->resolve(ref, image::ImageStore::Lookup::kStrict));
    const int64_t now = to_ns(Clock::now());
    return as_info(
        store_->with_sessions([&](auto& table) { return table.create(name, uuid, now); }));
}

Result<SessionInfo> EmbeddedClient::get_session(std::string_view name) {
    return as_info(store_->with_sessions([&](auto& table) { return table.get(name); }));
}

Result<std::vector<SessionInfo>> EmbeddedClient::list_sessions() {
    GROVE_ASSIGN_OR_RETURN(const auto sessions,
                           store_->with_sessions([](auto& table) { return table.list(); }));
    return map_all<SessionInfo>(sessions, session_info);
}

Result<void> EmbeddedClient::remove_session(std::string_view name) {
    return store_->with_sessions([&](auto& table) { return table.remove(name); });
}

Result<SessionInfo> EmbeddedClient::branch_session(std::string_view name, std::string_view branch) {
    return as_info(store_->with_sessions([&](auto& table) { return table.branch(name, branch); }));
}

Result<SessionInfo> EmbeddedClient::checkout_session(std::string_view name,
                                                     std::string_view branch) {
    return as_info(
        store_->with_sessions([&](auto& table) { return table.checkout(name, branch); }));
}

Result<SessionInfo> EmbeddedClient::rollback_session(std::string_view name, int64_t steps) {
    return as_info(store_->with_sessions([&](auto& table) { return table.rollback(name, steps); }));
}

Result<SessionInfo> EmbeddedClient::record_run(std::string_view name, const SessionRun& run) {
    store::SessionState state{.parent = run.parent,
                              .image = run.image,
                              .command = run.command,
                              .exit_code = run.exit_code,
                              .timed_out = run.timed_out,
                              .elapsed_ns = run.elapsed.count(),
                              .stdout_data = run.stdout_data,
                              .stderr_data = run.stderr_data,
                              .created_ns = to_ns(Clock::now())};
    return as_info(
        store_->with_sessions([&](auto& table) { return table.append(name, std::move(state)); }));
}

Result<std::vector<SessionRun>> EmbeddedClient::session_history(std::string_view name,
                                                                size_t limit,
                                                                std::string_view branch) {
    GROVE_ASSIGN_OR_RETURN(const auto states, store_->with_sessions([&](auto& table) {
        return table.history(name, limit, branch);
    }));
    return map_all<SessionRun>(states, session_run);
}

Error EmbeddedClient::no_operations() {
    return Error(Code::kUnimplemented,
                 "the embedded engine has no operations: its runs happen inside the process that "
                 "asks for them (use a groved, --host, to queue, list and cancel them)");
}

Result<std::vector<OperationInfo>> EmbeddedClient::list_operations(const OperationListOptions&) {
    return no_operations();
}

Result<OperationInfo> EmbeddedClient::wait_operation(std::string_view) {
    return no_operations();
}

Result<void> EmbeddedClient::cancel_operation(std::string_view) {
    return no_operations();
}

}  // namespace grove::client

namespace grove {

Result<std::unique_ptr<Client>> Client::embedded(const EmbeddedOptions& options) {
    auto log = base::Logger::stderr_text(base::LogLevel::kWarn);
    GROVE_ASSIGN_OR_RETURN(auto store, image::ImageStore::open(options.root, log));
    const size_t workers = options.parallel_runs > 0
                               ? options.parallel_runs
                               : std::max<size_t>(1, std::thread::hardware_concurrency());
    return std::unique_ptr<Client>(std::make_unique<client::EmbeddedClient>(
        options, std::move(log), std::move(store), workers));
}

}  // namespace grove
