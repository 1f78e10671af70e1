// The parts of the public API both implementations share: Images, Image, Session and Sessions
// over Client's virtual calls, and the choice of implementation from the environment.

#include <cstdlib>
#include <fcntl.h>
#include <sys/stat.h>

#include <fmt/format.h>

#include <grove/client.hpp>

#include "base/error.hpp"
#include "base/unique_fd.hpp"

namespace grove {
namespace {

std::string describe(const RunOptions& options) {
    return options.shell ? *options.shell : fmt::format("{}", fmt::join(options.command, " "));
}

// What Client::start_run takes: stdin as bytes, outputs as callbacks, a known network.
Result<RunOptions> resolve_io(RunOptions options) {
    if (options.network != "none" && options.network != "host") {
        return base::make_error(Code::kInvalidArgument, "network must be none or host, not '{}'",
                                options.network);
    }
    if (options.stdin_file) {
        GROVE_ASSIGN_OR_RETURN(auto fd, base::UniqueFd::open(*options.stdin_file, O_RDONLY));
        GROVE_ASSIGN_OR_RETURN(options.stdin_data, base::read_all(fd.get()));
        options.stdin_file.reset();
    }
    for (Output* output : {&options.stdout_to, &options.stderr_to}) {
        if (!output->file) {
            continue;
        }
        GROVE_ASSIGN_OR_RETURN(
            auto opened,
            base::UniqueFd::open(*output->file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        auto fd = std::make_shared<base::UniqueFd>(std::move(opened));
        output->callback = [fd, next = std::move(output->callback)](std::string_view chunk) {
            (void)base::write_all(fd->get(), chunk);
            if (next) {
                next(chunk);
            }
        };
        output->file.reset();
    }
    return options;
}

bool valid_utf8(std::string_view text) {
    size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        const size_t length = c < 0x80           ? 1
                              : (c >> 5) == 0x6  ? 2
                              : (c >> 4) == 0xe  ? 3
                              : (c >> 3) == 0x1e ? 4
                                                 : 0;
        if (length == 0 || i + length > text.size()) {
            return false;
        }
        for (size_t k = 1; k < length; ++k) {
            if ((static_cast<unsigned char>(text[i + k]) >> 6) != 0x2) {
                return false;
            }
        }
        i += length;
    }
    return true;
}

}  // namespace

Result<FileUpload> FileUpload::from_local(const std::filesystem::path& local, std::string path) {
    GROVE_ASSIGN_OR_RETURN(auto fd, base::UniqueFd::open(local, O_RDONLY | O_CLOEXEC));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        return base::last_errno_error("stat '{}'", local.string());
    }
    GROVE_ASSIGN_OR_RETURN(std::string content, base::read_all(fd.get()));
    return FileUpload{
        .path = std::move(path), .content = std::move(content), .mode = st.st_mode & 07777};
}

Result<std::unique_ptr<Client>> Client::from_environment() {
    if (const char* host = std::getenv("GROVE_HOST"); host != nullptr && *host != '\0') {
        const char* token = std::getenv("GROVE_TOKEN");
        return remote({.host = host, .token = token != nullptr ? token : ""});
    }
    EmbeddedOptions options;
    if (const char* root = std::getenv("GROVE_ROOT"); root != nullptr && *root != '\0') {
        options.root = root;
    }
    return embedded(options);
}

std::future<Result<RunResult>> Image::run_async(const RunOptions& options) const {
    auto resolved = resolve_io(options);
    if (!resolved) {
        std::promise<Result<RunResult>> failed;
        failed.set_value(std::move(resolved).error());
        return failed.get_future();
    }
    return client_->start_run(info_.uuid, std::move(*resolved));
}

Result<RunResult> Image::run(const RunOptions& options) const {
    return run_async(options).get();
}

Result<PopenResult> Image::popen(std::vector<std::string> args, const PopenOptions& options) const {
    const std::string command = fmt::format("{}", fmt::join(args, " "));
    GROVE_ASSIGN_OR_RETURN(auto ran, run({.command = std::move(args),
                                          .stdin_data = options.input,
                                          .timeout = options.timeout,
                                          .disposable = true}));
    if (options.text && (!valid_utf8(ran.stdout_data) || !valid_utf8(ran.stderr_data))) {
        return base::make_error(Code::kInvalidArgument, "'{}' wrote output that is not UTF-8",
                                command);
    }
    if (options.check && ran.timed_out) {
        return base::make_error(Code::kDeadlineExceeded, "'{}' timed out", command);
    }
    if (options.check && ran.exit_code != 0) {
        return base::make_error(Code::kFailedPrecondition, "'{}' exited with status {}: {}",
                                command, ran.exit_code, ran.stderr_data);
    }
    return PopenResult{.exit_code = ran.exit_code,
                       .stdout_data = std::move(ran.stdout_data),
                       .stderr_data = std::move(ran.stderr_data)};
}

Result<std::vector<FileEntry>> Image::ls(std::string_view path) const {
    return client_->list_files(info_.uuid, path);
}

Result<std::string> Image::read(std::string_view path) const {
    return client_->read_file(info_.uuid, path);
}

Result<void> Image::download(std::string_view path, const std::filesystem::path& local) const {
    GROVE_ASSIGN_OR_RETURN(const std::string content, read(path));
    GROVE_ASSIGN_OR_RETURN(
        auto fd, base::UniqueFd::open(local, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    return base::write_all(fd.get(), content);
}

Result<void> Image::archive(std::string_view path, int fd) const {
    return client_->archive_path(info_.uuid, path, fd);
}

Result<GrepResult> Image::grep(const GrepOptions& options) const {
    return client_->grep_image(info_.uuid, options);
}

Result<Image> Image::tag(std::string_view tag) const {
    GROVE_ASSIGN_OR_RETURN(auto info, client_->tag_image(info_.uuid, tag));
    return Image(*client_, std::move(info));
}

Result<std::vector<ImageInfo>> Image::lineage() const {
    return client_->lineage(info_.uuid);
}

Result<std::vector<Image>> Images::list(const ImageListOptions& options) const {
    GROVE_ASSIGN_OR_RETURN(auto infos, client_.list_images(options));
    std::vector<Image> images;
    for (auto& info : infos) {
        images.push_back(Image(client_, std::move(info)));
    }
    return images;
}

Result<Image> Images::import_from(std::string_view reference, const ImportOptions& options) const {
    GROVE_ASSIGN_OR_RETURN(auto info, client_.import_image(reference, options));
    return Image(client_, std::move(info));
}

Result<Image> Images::pull(std::string_view tag, const ImportOptions& options) const {
    auto found = use(tag, true);
    if (found || found.error().code() != Code::kNotFound) {
        return found;
    }
    ImportOptions tagged = options;
    tagged.tag = tagged.tag.value_or(std::string(tag));
    return import_from(tag, tagged);
}

Result<Image> Images::use(std::string_view ref, bool strict) const {
    GROVE_ASSIGN_OR_RETURN(auto info, client_.find_image(ref, strict));
    return Image(client_, std::move(info));
}

Result<std::string> Images::remove(std::string_view ref, bool force) const {
    return client_.remove_image(ref, force);
}

Result<void> Images::untag(std::string_view tag) const {
    return client_.untag_image(tag);
}

Result<PruneResult> Images::prune() const {
    return client_.prune_images();
}

Result<Image> Images::result_of(const RunResult& run) const {
    if (!run.image) {
        return base::make_error(Code::kFailedPrecondition,
                                "the run was disposable: it left no image");
    }
    return use(*run.image, true);
}

Result<SessionInfo> Session::info() const {
    return client_->get_session(name_);
}

Result<Image> Session::head() const {
    GROVE_ASSIGN_OR_RETURN(const auto session, info());
    return client_->images().use(session.image, true);
}

Result<RunResult> Session::run(const RunOptions& options) const {
    GROVE_ASSIGN_OR_RETURN(const auto session, info());
    const Image head(*client_, {.uuid = session.image});
    GROVE_ASSIGN_OR_RETURN(auto result, head.run(options));
    if (options.disposable) {
        return result;
    }
    GROVE_TRY(client_->record_run(name_, {.parent = session.head,
                                          .image = result.image.value_or(session.image),
                                          .command = describe(options),
                                          .exit_code = result.exit_code,
                                          .timed_out = result.timed_out,
                                          .elapsed = result.elapsed,
                                          .stdout_data = result.stdout_data,
                                          .stderr_data = result.stderr_data}));
    return result;
}

Result<SessionInfo> Session::branch(std::string_view name) const {
    return client_->branch_session(name_, name);
}

Result<SessionInfo> Session::checkout(std::string_view name) const {
    return client_->checkout_session(name_, name);
}

Result<SessionInfo> Session::rollback(int64_t steps) const {
    return client_->rollback_session(name_, steps);
}

Result<std::vector<SessionRun>> Session::history(size_t limit, std::string_view branch) const {
    return client_->session_history(name_, limit, branch);
}

Result<std::vector<OperationInfo>> Operations::list(const OperationListOptions& options) const {
    return client_.list_operations(options);
}

Result<OperationInfo> Operations::wait(std::string_view uuid) const {
    return client_.wait_operation(uuid);
}

Result<void> Operations::cancel(std::string_view uuid) const {
    return client_.cancel_operation(uuid);
}

Result<ContainerInfo> Containers::create(const ContainerOptions& options) const {
    return client_.create_container(options);
}

Result<bool> Containers::start(std::string_view ref) const {
    return client_.start_container(ref);
}

Result<bool> Containers::stop(std::string_view ref,
                              std::optional<std::chrono::seconds> timeout) const {
    return client_.stop_container(ref, timeout);
}

Result<void> Containers::kill(std::string_view ref, int signal) const {
    return client_.kill_container(ref, signal);
}

Result<void> Containers::remove(std::string_view ref, bool force) const {
    return client_.remove_container(ref, force);
}

Result<std::vector<ContainerInfo>> Containers::list(bool all) const {
    return client_.list_containers(all);
}

Result<ContainerInfo> Containers::inspect(std::string_view ref) const {
    return client_.inspect_container(ref);
}

Result<void> Containers::logs(std::string_view ref, const ContainerLogOptions& options) const {
    return client_.container_logs(ref, options);
}

Result<int> Containers::exec(std::string_view ref, const ExecOptions& options) const {
    return client_.exec_in_container(ref, options);
}

Result<Session> Sessions::create(std::string_view name, std::string_view ref) const {
    GROVE_TRY(client_.create_session(name, ref));
    return Session(client_, std::string(name));
}

Result<Session> Sessions::get(std::string_view name) const {
    GROVE_TRY(client_.get_session(name));
    return Session(client_, std::string(name));
}

Result<std::vector<SessionInfo>> Sessions::list() const {
    return client_.list_sessions();
}

Result<void> Sessions::remove(std::string_view name) const {
    return client_.remove_session(name);
}

}  // namespace grove
