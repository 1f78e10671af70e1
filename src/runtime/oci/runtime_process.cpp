#include "runtime/oci/runtime_process.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <random>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "base/error.hpp"
#include "base/json.hpp"
#include "base/unique_fd.hpp"

namespace grove::runtime::oci {
namespace {

namespace fs = std::filesystem;
using base::make_error;
using base::UniqueFd;
using std::chrono::milliseconds;

constexpr const char* kConfigFile = "config.json";
constexpr const char* kPidFile = "container.pid";
constexpr const char* kStateDir = "state";
constexpr const char* kFilesDir = "files";  // the generated files the container binds
constexpr const char* kLogFile = "runtime.log";
// `kill`, `delete` and `state` log elsewhere: a kill refused because the container was exiting
// must not read as the run's failure.
constexpr const char* kCommandsLogFile = "runtime-commands.log";
// The runtime gets a fixed environment rather than the daemon's.
constexpr const char* kRuntimePath =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
// `kill`, `delete` and `state` are quick; runsc's take tens of milliseconds.
constexpr milliseconds kCommandTimeout = std::chrono::seconds(30);
// How long close() lets the runtime react to `kill` before it SIGKILLs the runtime itself.
constexpr milliseconds kKillGrace = std::chrono::seconds(10);

std::string fresh_id() {
    static std::atomic<uint64_t> counter{0};
    std::random_device random;
    return fmt::format("grove-{}-{}-{:08x}", ::getpid(), counter.fetch_add(1),
                       static_cast<uint32_t>(random()));
}

// runc's rule for IDs (^[\w+-\.]+$), which the others accept too; the ID also names the cgroup
// and state directories, so it must never contain '/' or be "." or "..".
Result<void> validate_id(const std::string& id) {
    const bool valid_chars = std::all_of(id.begin(), id.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '+' || c == '-' ||
               c == '.';
    });
    if (id.empty() || id.size() > 128 || !valid_chars || id == "." || id == "..") {
        return make_error(Code::kInvalidArgument, "invalid container id '{}'", id);
    }
    return {};
}

// The native runtime never raises a hard limit; the OCI runtime, running as root, would.
Result<std::vector<process::Rlimit>> clamp_rlimits(std::vector<process::Rlimit> limits) {
    for (auto& limit : limits) {
        rlimit current{};
        if (::getrlimit(static_cast<__rlimit_resource>(limit.resource), &current) != 0) {
            return base::last_errno_error("getrlimit({})", limit.resource);
        }
        limit.hard = std::min<uint64_t>(limit.hard, current.rlim_max);
        limit.soft = std::min(limit.soft, limit.hard);
    }
    return limits;
}

// runsc mounts a sandbox-private tmpfs on /tmp when the image's /tmp is an empty directory and
// no mount names it (an optimisation of gVisor's), so a run's /tmp would never reach its upper
// directory and snapshot. Binding the directory onto itself is such a mount. Only a real
// directory: a symlink would be resolved on the host, outside the rootfs.
void adapt_for_gvisor(base::Json& config, const fs::path& rootfs) {
    std::error_code ec;
    if (fs::symlink_status(rootfs / "tmp", ec).type() == fs::file_type::directory) {
        config["mounts"].push_back({{"destination", "/tmp"},
                                    {"type", "bind"},
                                    {"source", (rootfs / "tmp").string()},
                                    {"options", base::Json::array({"rbind", "rprivate"})}});
    }
}

// Best effort, after `delete`: the directories of the run's own cgroup that a runtime which
// failed half-way created and never removed. rmdir only ever removes an empty group.
void remove_cgroup_leftovers(const std::string& cgroups_path) {
    const fs::path relative = fs::path(cgroups_path).relative_path();
    if (relative.empty()) {
        return;
    }
    const fs::path root = "/sys/fs/cgroup";
    ::rmdir((root / relative).c_str());  // v2
    std::error_code ec;
    for (const auto& hierarchy : fs::directory_iterator(root, ec)) {  // v1
        ::rmdir((hierarchy.path() / relative).c_str());
    }
}

std::string trimmed(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
        text.pop_back();
    }
    return text;
}

}  // namespace

RuntimeProcess::RuntimeProcess(RuntimeProcess&& other) noexcept
    : runtime_(std::move(other.runtime_)),
      invocation_(std::move(other.invocation_)),
      run_dir_(std::move(other.run_dir_)),
      id_(std::move(other.id_)),
      cgroups_path_(std::move(other.cgroups_path_)),
      child_(std::exchange(other.child_, std::nullopt)),
      exit_(std::exchange(other.exit_, std::nullopt)),
      failure_(std::exchange(other.failure_, std::nullopt)),
      clean_exit_(other.clean_exit_),
      closed_(std::exchange(other.closed_, true)) {}

RuntimeProcess& RuntimeProcess::operator=(RuntimeProcess&& other) noexcept {
    if (this != &other) {
        (void)close();
        runtime_ = std::move(other.runtime_);
        invocation_ = std::move(other.invocation_);
        run_dir_ = std::move(other.run_dir_);
        id_ = std::move(other.id_);
        cgroups_path_ = std::move(other.cgroups_path_);
        child_ = std::exchange(other.child_, std::nullopt);
        exit_ = std::exchange(other.exit_, std::nullopt);
        failure_ = std::exchange(other.failure_, std::nullopt);
        clean_exit_ = other.clean_exit_;
        closed_ = std::exchange(other.closed_, true);
    }
    return *this;
}

RuntimeProcess::~RuntimeProcess() {
    (void)close();
}

Result<RuntimeProcess> RuntimeProcess::start(const Runtime& runtime,
                                             const ContainerSpec& spec,
                                             const StartOptions& options) {
    GROVE_TRY(runtime.check_limits(spec.limits));
    const std::string id = options.container_id.empty() ? fresh_id() : options.container_id;
    GROVE_TRY(validate_id(id));
    if (!fs::is_directory(options.run_dir)) {
        return make_error(Code::kNotFound, "{}: run directory '{}' does not exist", runtime.name(),
                          options.run_dir.string());
    }

    ContainerSpec effective = spec;
    std::string own_cgroup;
    if (effective.cgroups_path.empty()) {
        // Under grove's parent group, next to the native runs', so a leftover is findable.
        own_cgroup = effective.cgroups_path = fmt::format("/{}/{}", cgroup::kParentGroup, id);
    }
    GROVE_ASSIGN_OR_RETURN(effective.process.rlimits, clamp_rlimits(spec.process.rlimits));
    effective.files_dir = options.run_dir / kFilesDir;
    if (::mkdir(effective.files_dir.c_str(), 0755) != 0) {
        return base::last_errno_error("create '{}'", effective.files_dir.string());
    }
    for (const auto& generated : spec.rootfs.generated_files) {
        GROVE_ASSIGN_OR_RETURN(
            UniqueFd file,
            UniqueFd::open(generated_file_path(effective.files_dir, generated.target).string(),
                           O_WRONLY | O_CREAT | O_EXCL, 0644));
        GROVE_TRY(base::write_all(file.get(), generated.content));
    }
    GROVE_ASSIGN_OR_RETURN(base::Json config, make_config(effective));
    if (runtime.kind() == RuntimeKind::kRunsc) {
        adapt_for_gvisor(config, spec.rootfs.rootfs);
    }
    {
        GROVE_ASSIGN_OR_RETURN(UniqueFd file,
                               UniqueFd::open((options.run_dir / kConfigFile).string(),
                                              O_WRONLY | O_CREAT | O_EXCL, 0644));
        GROVE_TRY(base::write_all(file.get(), config.dump(2) + "\n"));
    }
    const fs::path state_root = options.run_dir / kStateDir;
    if (::mkdir(state_root.c_str(), 0700) != 0) {
        return base::last_errno_error("create runtime state directory '{}'", state_root.string());
    }
    Invocation invocation{.state_root = state_root,
                          .log_file = options.run_dir / kLogFile,
                          .new_network = spec.process.new_network};

    // Watched before the runtime starts, so the pid file cannot appear unnoticed.
    UniqueFd inotify(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    if (!inotify) {
        return base::last_errno_error("inotify_init1");
    }
    if (::inotify_add_watch(inotify.get(), options.run_dir.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO) <
        0) {
        return base::last_errno_error("watch '{}'", options.run_dir.string());
    }

    GROVE_ASSIGN_OR_RETURN(UniqueFd dev_null, UniqueFd::open("/dev/null", O_RDWR));
    const auto stdio_or_null = [&](int fd) {
        return fd >= 0 ? fd : dev_null.get();
    };
    const fs::path pid_file = options.run_dir / kPidFile;
    base::SpawnOptions spawn{
        .argv = runtime.argv(invocation, {"run", "--bundle", options.run_dir.string(), "--pid-file",
                                          pid_file.string(), id}),
        .env = std::vector<std::string>{kRuntimePath},
        .stdin_fd = stdio_or_null(spec.process.stdin_fd),
        .stdout_fd = stdio_or_null(spec.process.stdout_fd),
        .stderr_fd = stdio_or_null(spec.process.stderr_fd),
    };
    GROVE_ASSIGN_OR_RETURN(base::ChildProcess child, runtime.spawn(spawn));
    RuntimeProcess process(runtime, std::move(invocation), options.run_dir, id, own_cgroup,
                           std::move(child));

    // From here on the destructor kills and deletes whatever the runtime got to create.
    const auto deadline = std::chrono::steady_clock::now() + options.start_timeout;
    while (true) {
        std::error_code ec;
        const auto size = fs::file_size(pid_file, ec);
        if (!ec && size > 0) {
            return process;  // the container runs
        }
        const auto left =
            std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            return make_error(Code::kDeadlineExceeded,
                              "{}: container '{}' was not running after {} ms", runtime.name(), id,
                              options.start_timeout.count());
        }
        pollfd fds[2] = {{inotify.get(), POLLIN, 0}, {process.child_->pidfd(), POLLIN, 0}};
        if (::poll(fds, 2, static_cast<int>(left.count())) < 0 && errno != EINTR) {
            return base::last_errno_error("poll for container '{}' to start", id);
        }
        if ((fds[1].revents & POLLIN) != 0) {
            break;  // the runtime exited before (or right after) writing the pid file
        }
        char events[4096];
        while (::read(inotify.get(), events, sizeof(events)) > 0) {
        }
    }
    // The run may simply have been quick: only an error in the runtime's log is a failure, which
    // wait() reports.
    auto ended = process.wait(milliseconds(0));
    if (!ended.has_value()) {
        return std::move(ended).error();
    }
    return process;
}

Result<pid_t> RuntimeProcess::container_pid() const {
    std::ifstream in(run_dir_ / kPidFile);
    pid_t pid = 0;
    if (!(in >> pid) || pid <= 0) {
        return make_error(Code::kNotFound, "{}: container '{}' has no pid file yet",
                          runtime_.name(), id_);
    }
    return pid;
}

std::optional<std::string> RuntimeProcess::runtime_error() const {
    std::ifstream in(invocation_.log_file);
    std::optional<std::string> error;
    for (std::string line; std::getline(in, line);) {
        auto entry = base::parse_json(line);
        if (!entry || !entry->is_object()) {
            continue;
        }
        const std::string level = entry->value("level", "");
        if (level == "error" || level == "fatal" || level == "panic") {
            error = entry->value("msg", line);  // the last one: runtimes end with the summary
        }
    }
    return error;
}

Result<base::CommandOutput> RuntimeProcess::invoke(std::vector<std::string> subcommand) const {
    Invocation invocation = invocation_;
    invocation.log_file = run_dir_ / kCommandsLogFile;
    return runtime_.run({.argv = runtime_.argv(invocation, std::move(subcommand)),
                         .env = std::vector<std::string>{kRuntimePath}},
                        kCommandTimeout);
}

Result<void> RuntimeProcess::kill(int sig) {
    if (!child_ || exit_ || failure_) {
        return {};
    }
    GROVE_ASSIGN_OR_RETURN(const bool gone, base::wait_readable(child_->pidfd(), milliseconds(0)));
    if (gone) {
        return {};  // the run already ended; wait() collects it
    }
    GROVE_ASSIGN_OR_RETURN(const auto out, invoke({"kill", id_, std::to_string(sig)}));
    if (out.status.success()) {
        return {};
    }
    // Refused because the container stopped between the check above and the kill: its runtime
    // exits right after.
    GROVE_ASSIGN_OR_RETURN(const bool ended,
                           base::wait_readable(child_->pidfd(), milliseconds(1000)));
    if (ended) {
        return {};
    }
    return make_error(Code::kFailedPrecondition, "{} kill {} {}: {} ({})", runtime_.name(), id_,
                      sig, trimmed(out.err), out.status.to_string());
}

Result<std::optional<process::RunExit>> RuntimeProcess::wait(
    std::optional<std::chrono::milliseconds> timeout) {
    if (exit_) {
        return exit_;
    }
    if (failure_) {
        return *failure_;
    }
    if (!child_) {
        return make_error(Code::kFailedPrecondition, "wait: the runtime process was moved from");
    }
    GROVE_ASSIGN_OR_RETURN(const bool exited, base::wait_readable(child_->pidfd(), timeout));
    if (!exited) {
        return std::optional<process::RunExit>{};
    }
    // The raw 5-argument waitid for the rusage, without reaping: ChildProcess::wait() reaps.
    siginfo_t info{};
    rusage usage{};
    while (::syscall(SYS_waitid, P_PIDFD, child_->pidfd(), &info, WEXITED | WNOWAIT, &usage) != 0) {
        if (errno != EINTR) {
            return base::last_errno_error("waitid {} run {}", runtime_.name(), child_->pid());
        }
    }
    GROVE_ASSIGN_OR_RETURN(const base::ExitStatus status, child_->wait());
    process::RunExit result{.exit_code = status.code, .signal = 0, .usage = usage};
    if (status.kind == base::ExitStatus::Kind::kSignaled) {
        // The runtime itself was killed (close() does that to a runtime that ignores `kill`).
        result.signal = status.code;
        result.exit_code = 128 + status.code;
    } else {
        if (auto error = runtime_error()) {
            failure_ = make_error(Code::kFailedPrecondition, "{}: container '{}' failed: {}",
                                  runtime_.name(), id_, *error);
            return *failure_;
        }
        clean_exit_ = true;
        if (status.code > 128 && status.code <= 128 + SIGRTMAX) {
            result.signal = status.code - 128;
        }
    }
    exit_ = result;
    return exit_;
}

Result<void> RuntimeProcess::close() {
    if (closed_) {
        return {};
    }
    closed_ = true;
    if (child_ && !exit_ && !failure_) {
        (void)kill(SIGKILL);
        auto waited = wait(kKillGrace);
        if (!waited.has_value() || !waited->has_value()) {
            // A runtime that cannot even deliver SIGKILL: end it, and let delete clean up.
            (void)child_->signal(SIGKILL);
            (void)wait(std::nullopt);
        }
    }
    child_.reset();
    if (clean_exit_) {
        return {};  // `run` deleted the container itself when it ended
    }
    GROVE_ASSIGN_OR_RETURN(const auto deleted, invoke({"delete", "--force", id_}));
    remove_cgroup_leftovers(cgroups_path_);
    if (deleted.status.success()) {
        return {};
    }
    // Refused only because there was nothing left to delete: done.
    GROVE_ASSIGN_OR_RETURN(const auto state, invoke({"state", id_}));
    if (!state.status.success()) {
        return {};
    }
    return make_error(Code::kInternal, "{} delete --force {}: {} ({})", runtime_.name(), id_,
                      trimmed(deleted.err), deleted.status.to_string());
}

}  // namespace grove::runtime::oci
