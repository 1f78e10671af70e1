#include "engine/runner.hpp"

#include <algorithm>
#include <charconv>
#include <csignal>
#include <fcntl.h>
#include <map>
#include <poll.h>
#include <pthread.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <variant>

#include "base/error.hpp"
#include "base/json.hpp"
#include "base/scope_exit.hpp"
#include "base/unique_fd.hpp"
#include "engine/disk_usage.hpp"
#include "engine/image_defaults.hpp"
#include "oci/image_config.hpp"
#include "runtime/oci/runtime_process.hpp"
#include "runtime/process/sandbox_process.hpp"
#include "runtime/rootfs/mount_plan.hpp"
#include "runtime/rootfs/overlay_mount.hpp"
#include "runtime/seccomp/filter.hpp"

namespace grove::engine {
namespace {

using Clock = std::chrono::steady_clock;

// The image config `config_json` with config.Env replaced by `env`.
Result<std::string> with_env(const std::string& config_json, const std::vector<std::string>& env) {
    GROVE_ASSIGN_OR_RETURN(auto config, base::parse_json(config_json));
    if (!config.is_object()) {
        return base::make_error(Code::kDataLoss, "the image config is not a JSON object");
    }
    if (!config.contains("config") || !config["config"].is_object()) {
        config["config"] = base::Json::object();
    }
    config["config"]["Env"] = env;
    return config.dump();
}

struct Captured {
    std::string data;
    bool truncated = false;
};

// A run's process tree, from grove's own runtime or an OCI runtime: the same three operations.
class RunProcess {
public:
    explicit RunProcess(runtime::process::SandboxProcess p) : process_(std::move(p)) {}
    explicit RunProcess(runtime::oci::RuntimeProcess p) : process_(std::move(p)) {}

    // SIGKILL: for grove's init and an OCI container's PID 1 alike, the whole PID namespace dies.
    Result<void> kill() {
        return std::visit([](auto& p) -> Result<void> { return p.kill(SIGKILL); }, process_);
    }
    // grove's init's pidfd (borrowed); -1 for an OCI runtime's process.
    int init_pidfd() const {
        const auto* native = std::get_if<runtime::process::SandboxProcess>(&process_);
        return native != nullptr ? native->pidfd() : -1;
    }
    Result<runtime::process::RunExit> wait() {
        return std::visit(
            [](auto& p) -> Result<runtime::process::RunExit> {
                GROVE_ASSIGN_OR_RETURN(const auto exit, p.wait(std::nullopt));
                return *exit;  // without a timeout, wait() returns only with the exit
            },
            process_);
    }

private:
    std::variant<runtime::process::SandboxProcess, runtime::oci::RuntimeProcess> process_;
};

// Starts the run's process: through `oci` when set, else grove's own runtime (which joins the
// cgroup the spec names).
Result<RunProcess> start_process(const std::optional<runtime::oci::Runtime>& oci,
                                 const runtime::process::ProcessSpec& spec,
                                 const runtime::rootfs::RootfsOptions& options,
                                 const runtime::cgroup::Limits& limits,
                                 const std::filesystem::path& run_dir) {
    if (oci) {
        GROVE_ASSIGN_OR_RETURN(auto process,
                               runtime::oci::RuntimeProcess::start(
                                   *oci, {.process = spec, .rootfs = options, .limits = limits},
                                   {.run_dir = run_dir}));
        return RunProcess(std::move(process));
    }
    GROVE_ASSIGN_OR_RETURN(auto process, runtime::process::SandboxProcess::start(spec));
    return RunProcess(std::move(process));
}

enum class PumpEnd { kEof, kDeadline, kCancelled, kLayerTooLarge };

// Watches the size of a run's upper directory while it runs. A walk costs O(entries), so walks
// are spaced to keep their share of one CPU near 5% (at least 100 ms apart): a run can overshoot
// the limit by what it writes in one interval, and commit checks the final size exactly.
class LayerWatch {
public:
    LayerWatch(std::filesystem::path upper, std::optional<uint64_t> limit)
        : upper_(std::move(upper)), limit_(limit), next_(Clock::now() + kMinInterval) {}

    std::optional<Clock::time_point> next_check() const {
        return limit_ ? std::optional(next_) : std::nullopt;
    }
    // True when the upper has outgrown the limit.
    bool over_limit() {
        const auto start = Clock::now();
        const auto bytes = disk_usage(upper_);
        const auto now = Clock::now();
        next_ = now + std::max<Clock::duration>(kMinInterval, 20 * (now - start));
        return bytes.has_value() && *bytes > *limit_;
    }

private:
    static constexpr std::chrono::milliseconds kMinInterval{100};
    std::filesystem::path upper_;
    std::optional<uint64_t> limit_;
    Clock::time_point next_;
};

// Reads both streams until EOF, the deadline, a cancellation or an oversized layer.
Result<PumpEnd> pump_output(int out_fd,
                            int err_fd,
                            std::optional<Clock::time_point> deadline,
                            LayerWatch& watch,
                            const RunRequest& request,
                            Captured& out,
                            Captured& err) {
    // The third slot is the cancellation eventfd; poll() ignores a negative fd.
    pollfd fds[3] = {{out_fd, POLLIN, 0},
                     {err_fd, POLLIN, 0},
                     {request.cancel ? request.cancel->fd() : -1, POLLIN, 0}};
    Captured* sinks[2] = {&out, &err};
    const Stream streams[2] = {Stream::kStdout, Stream::kStderr};
    int open_streams = 2;
    char buf[64 * 1024];
    while (open_streams > 0) {
        const auto now = Clock::now();
        if (deadline && *deadline <= now) {
            return PumpEnd::kDeadline;
        }
        const auto check = watch.next_check();
        if (check && *check <= now && watch.over_limit()) {
            return PumpEnd::kLayerTooLarge;
        }
        int wait_ms = -1;
        for (const auto& wake : {deadline, watch.next_check()}) {
            if (wake) {
                const auto left = std::chrono::ceil<std::chrono::milliseconds>(*wake - now);
                const int ms = static_cast<int>(std::max<int64_t>(left.count(), 0));
                wait_ms = wait_ms < 0 ? ms : std::min(wait_ms, ms);
            }
        }
        const int ready = ::poll(fds, 3, wait_ms);
        if (ready < 0 && errno != EINTR) {
            return base::last_errno_error("poll the run's output");
        }
        if (ready > 0 && fds[2].revents != 0) {
            return PumpEnd::kCancelled;
        }
        for (int i = 0; i < 2 && ready > 0; ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0) {
                continue;
            }
            const ssize_t n = ::read(fds[i].fd, buf, sizeof(buf));
            if (n <= 0) {
                if (n < 0 && errno == EINTR) {
                    continue;
                }
                fds[i].fd = -1;
                --open_streams;
                continue;
            }
            const std::string_view chunk(buf, static_cast<size_t>(n));
            if (request.on_output) {
                request.on_output(streams[i], chunk);
            }
            Captured& sink = *sinks[i];
            const size_t room =
                request.output_limit - std::min(request.output_limit, sink.data.size());
            sink.data.append(chunk.substr(0, room));
            sink.truncated = sink.truncated || chunk.size() > room;
        }
    }
    return PumpEnd::kEof;
}

}  // namespace

Result<RunResult> Runner::run(const RunRequest& request) {
    if (request.argv.empty() && !request.shell) {
        return base::make_error(Code::kInvalidArgument, "a run needs a command or a shell string");
    }
    if (request.runtime.empty() && !cgroups_ &&
        (request.limits.memory_bytes || request.limits.pids || request.limits.cpus)) {
        return base::make_error(Code::kUnimplemented,
                                "resource limits need cgroups, which this host lacks");
    }
    if (request.cancel && request.cancel->cancelled()) {
        return base::make_error(Code::kCancelled, "the run was cancelled before it started");
    }
    const auto started = Clock::now();
    GROVE_ASSIGN_OR_RETURN(const store::ImageRecord image, store_.find(request.image));
    GROVE_ASSIGN_OR_RETURN(const oci::ImageConfig config,
                           oci::parse_image_config(image.config_json));
    GROVE_ASSIGN_OR_RETURN(const auto image_user, resolve_image_user(store_, image, config.user));
    GROVE_ASSIGN_OR_RETURN(const auto* seccomp_program, runtime::seccomp::default_program());

    std::vector<runtime::rootfs::GeneratedFile> generated =
        runtime::rootfs::identity_files(request.hostname, request.network == Network::kHost);
    std::vector<image::MountpointNeed> needs;
    for (auto& point : runtime::rootfs::mountpoints({.generated_files = generated})) {
        needs.push_back({std::move(point.path), point.directory});
    }
    GROVE_ASSIGN_OR_RETURN(image::RunDirs dirs, store_.prepare_run(image, needs));
    const std::filesystem::path run_dir = dirs.upper().parent_path();
    const bool native = request.runtime.empty();
    // grove's init attaches the rootfs inside its own mount namespace, at a path that is only
    // covered there (so every run can share it: runs/); an OCI runtime needs a mounted path.
    const std::filesystem::path rootfs = native ? run_dir.parent_path() : run_dir / "rootfs";
    if (!native && ::mkdir(rootfs.c_str(), 0755) != 0) {
        return base::last_errno_error("create '{}'", rootfs.string());
    }
    std::vector<std::string> created;
    runtime::process::ProcessSpec spec;
    {
        GROVE_ASSIGN_OR_RETURN(auto overlay,
                               runtime::rootfs::OverlayMount::create(dirs.lowers_top_first(),
                                                                     dirs.upper(), dirs.work()));
        if (!native) {
            GROVE_TRY(overlay.attach(rootfs));
        }
        const runtime::rootfs::RootfsOptions options{.rootfs = rootfs,
                                                     .rootfs_fd = native ? overlay.fd() : -1,
                                                     .generated_files = std::move(generated)};
        if (!request.files.empty()) {
            GROVE_TRY(inject_files(overlay.fd(), request.files));
        }
        GROVE_ASSIGN_OR_RETURN(created,
                               runtime::rootfs::prepare_mountpoints(overlay.fd(), options));

        spec.argv = request.shell ? std::vector<std::string>{"/bin/sh", "-c", *request.shell}
                                  : request.argv;
        spec.env = merged_env(config, request.env);
        spec.cwd = !request.cwd.empty()          ? request.cwd
                   : !config.working_dir.empty() ? config.working_dir
                                                 : "/";
        spec.uid = request.uid.value_or(image_user.first);
        spec.gid = request.gid.value_or(request.uid ? *request.uid : image_user.second);
        spec.hostname = request.hostname;
        spec.plan = runtime::rootfs::build_plan(options);
        spec.seccomp = seccomp_program;
        spec.new_network = request.network == Network::kNone;
        base::UniqueFd netns;
        if (native && spec.new_network) {
            GROVE_ASSIGN_OR_RETURN(netns, networks_->take());
            spec.netns_fd = netns.get();
        }
        if (request.max_layer_bytes) {
            // One file can never outgrow the layer: the write fails (EFBIG) at once, before the
            // size watch would notice.
            spec.rlimits.push_back(
                {RLIMIT_FSIZE, *request.max_layer_bytes, *request.max_layer_bytes});
        }

        std::unique_ptr<runtime::cgroup::Cgroup> cgroup;
        std::vector<base::UniqueFd> cgroup_procs;
        std::optional<runtime::oci::Runtime> oci_runtime;
        if (!request.runtime.empty()) {
            GROVE_ASSIGN_OR_RETURN(oci_runtime, runtime::oci::Runtime::find(request.runtime));
        } else if (cgroups_) {
            GROVE_ASSIGN_OR_RETURN(cgroup, cgroup_pool_->take(request.limits));
            GROVE_ASSIGN_OR_RETURN(cgroup_procs, runtime::process::join_cgroup(*cgroup, spec));
        }
        GROVE_ASSIGN_OR_RETURN(base::Pipe in, base::Pipe::create());
        GROVE_ASSIGN_OR_RETURN(base::Pipe out, base::Pipe::create());
        GROVE_ASSIGN_OR_RETURN(base::Pipe err, base::Pipe::create());
        spec.stdin_fd = in.read.get();
        spec.stdout_fd = out.write.get();
        spec.stderr_fd = err.write.get();
        GROVE_ASSIGN_OR_RETURN(RunProcess process,
                               start_process(oci_runtime, spec, options, request.limits, run_dir));
        in.read.reset();
        out.write.reset();
        err.write.reset();
        std::shared_ptr<RunningSandbox> sandbox;
        if (request.on_started) {
            sandbox = std::make_shared<RunningSandbox>(spec, process.init_pidfd(), cgroup.get(),
                                                       request.runtime);
            request.on_started(sandbox);
        }
        // Ended before what it borrows (init's pidfd, the cgroup) goes, on every way out.
        base::ScopeExit end_sandbox([&sandbox] {
            if (sandbox) {
                sandbox->end();
            }
        });

        // stdin from its own thread: a command that writes before reading must not deadlock us.
        std::jthread feeder([&in, &request] {
            // A command that exits without reading its stdin closes the pipe: the write must
            // then fail with EPIPE, not raise SIGPIPE, whose default action kills this whole
            // process. Blocked in this thread only; a pending SIGPIPE dies with the thread.
            sigset_t pipe_signal;
            sigemptyset(&pipe_signal);
            sigaddset(&pipe_signal, SIGPIPE);
            pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);
            (void)base::write_all(in.write.get(), request.stdin_data);
            in.write.reset();
        });
        std::optional<Clock::time_point> deadline;
        if (request.timeout) {
            deadline = started + *request.timeout;
        }
        Captured out_data;
        Captured err_data;
        LayerWatch watch(dirs.upper(), request.max_layer_bytes);
        GROVE_ASSIGN_OR_RETURN(const PumpEnd end,
                               pump_output(out.read.get(), err.read.get(), deadline, watch, request,
                                           out_data, err_data));
        RunResult result;
        result.timed_out = end == PumpEnd::kDeadline;
        result.cancelled = end == PumpEnd::kCancelled;
        result.layer_too_large = end == PumpEnd::kLayerTooLarge;
        if (end != PumpEnd::kEof) {
            GROVE_TRY(process.kill());
        }
        GROVE_ASSIGN_OR_RETURN(const auto exit, process.wait());
        if (sandbox) {
            sandbox->end();
        }
        feeder.join();
        result.exit_code = exit.exit_code;
        result.signal = exit.signal;
        result.usage = exit.usage;
        result.stdout_data = std::move(out_data.data);
        result.stderr_data = std::move(err_data.data);
        result.stdout_truncated = out_data.truncated;
        result.stderr_truncated = err_data.truncated;
        if (cgroup) {
            GROVE_ASSIGN_OR_RETURN(const auto stats, cgroup->stats());
            result.oom_killed = stats.oom_killed;
            result.memory_peak_bytes = stats.memory_peak_bytes;
            cgroup_pool_->retire(std::move(cgroup));
        }
        GROVE_TRY(overlay.close());
        if (request.max_layer_bytes && !result.layer_too_large) {
            GROVE_ASSIGN_OR_RETURN(const uint64_t bytes, disk_usage(dirs.upper()));
            result.layer_too_large = bytes > *request.max_layer_bytes;
        }
        if (request.disposable || result.cancelled || result.layer_too_large) {
            dirs.discard();
        } else {
            std::optional<std::string> config_json;
            if (request.preserve_env) {
                GROVE_ASSIGN_OR_RETURN(config_json, with_env(image.config_json, spec.env));
            }
            GROVE_ASSIGN_OR_RETURN(
                auto committed,
                store_.commit_run(
                    std::move(dirs), image,
                    {.ignore_paths = created,
                     .operation = !request.operation.empty()
                                      ? request.operation
                                      : "run " + (request.shell ? *request.shell : spec.argv[0]),
                     .tag = request.tag,
                     .config_json = std::move(config_json)}));
            result.result_image = std::move(committed.image);
            result.changed = committed.changed;
        }
        result.elapsed = Clock::now() - started;
        return result;
    }
}

}  // namespace grove::engine
