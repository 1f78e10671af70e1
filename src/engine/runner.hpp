#pragma once

// Runner executes one run: a command in a fresh container made from an image, and (unless
// disposable) the snapshot of its filesystem as a new image. It composes the image store (run
// directories, commit) with the runtime (overlay, mount plan, cgroup, sandbox process); both the
// embedded engine (the `grove` CLI) and the daemon drive runs through it.
//
// A run: resolve the image -> prepare its run directories -> mount the overlay of its layers
// under a fresh upper dir -> write /etc/hostname, hosts, resolv.conf -> build the mount plan ->
// create the run's cgroup -> start the sandbox process -> stream stdin in and stdout/stderr out
// until exit or the deadline (then kill the whole tree) -> collect stats -> unmount -> commit
// or discard.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <sys/resource.h>
#include <vector>

#include <grove/result.hpp>

#include "base/log.hpp"
#include "engine/cancel.hpp"
#include "engine/cgroup_pool.hpp"
#include "engine/inject.hpp"
#include "engine/running_sandbox.hpp"
#include "image/image_store.hpp"
#include "runtime/cgroup/cgroup.hpp"
#include "runtime/process/netns_pool.hpp"

namespace grove::engine {

enum class Stream { kStdout, kStderr };

enum class Network {
    kNone,  // a network namespace of its own with only loopback (the default)
    kHost,  // the host's network namespace and resolv.conf; raw sockets stay denied (no NET_RAW)
};

struct RunRequest {
    std::string image;                 // a UUID, a unique UUID prefix or a tag
    std::vector<std::string> argv;     // the command; or:
    std::optional<std::string> shell;  // run as /bin/sh -c <shell>
    std::vector<std::string> env;      // KEY=VALUE, over the image config's Env
    std::string cwd;                   // empty: the image's WorkingDir, else "/"
    std::optional<uint32_t> uid;       // unset: the image's User (a name or a number), else 0
    std::optional<uint32_t> gid;
    std::string hostname = "sandbox";
    std::string stdin_data;           // written to the command's stdin, which is then closed
    std::vector<InjectedFile> files;  // written into the sandbox before the command starts
    std::optional<std::chrono::milliseconds> timeout;
    size_t output_limit = 1 << 20;  // bytes kept per stream; the rest is counted and dropped
    runtime::cgroup::Limits limits;
    Network network = Network::kNone;
    // Empty: grove's own runtime. "crun", "runc" or "runsc": that OCI runtime runs the same
    // container from a config.json (runtime/oci); it then manages the cgroup, and memory_peak
    // and oom_killed are not reported.
    std::string runtime;
    // Cap on the bytes the run's changes take: no file may grow past it (RLIMIT_FSIZE), a run
    // whose changes outgrow it is killed, and such a run commits nothing.
    std::optional<uint64_t> max_layer_bytes;
    bool disposable = true;  // no image is recorded
    std::optional<std::string> tag;
    // The run's env (merged over the image's) becomes the result image's config Env, so later
    // runs of it see those variables (ConTree's preserve_env).
    bool preserve_env = false;
    // Recorded with a new image (ImageRecord::operation): the daemon's operation UUID, which
    // ConTree shows as the image's operation_uuid. Empty: "run <command>".
    std::string operation;
    // Called with output as it arrives (from the calling thread).
    std::function<void(Stream, std::string_view)> on_output;
    // Raised by another thread: the run is killed as on a timeout and leaves no image.
    std::shared_ptr<const CancelSignal> cancel;
    // Called (from the calling thread) once the command runs, with its sandbox: the caller may
    // start more processes in it until the run ends it (running_sandbox.hpp).
    std::function<void(std::shared_ptr<RunningSandbox>)> on_started;
};

struct RunResult {
    int exit_code = 0;  // 128 + signal when killed
    int signal = 0;
    bool timed_out = false;
    bool cancelled = false;        // by RunRequest::cancel: killed, nothing committed
    bool layer_too_large = false;  // over RunRequest::max_layer_bytes: nothing committed
    bool oom_killed = false;
    std::string stdout_data;
    std::string stderr_data;
    bool stdout_truncated = false;
    bool stderr_truncated = false;
    std::chrono::nanoseconds elapsed{0};
    rusage usage{};
    uint64_t memory_peak_bytes = 0;
    // The image the run left: a new one, its parent when nothing changed, none when disposable.
    std::optional<store::ImageRecord> result_image;
    bool changed = false;
};

class Runner {
public:
    // `cgroups` may be null on a host without usable cgroups: limits are then refused.
    // `warm` fresh network namespaces and cgroups are kept ready for the next runs (NetnsPool,
    // CgroupPool); a process that makes one run (the CLI) wants 0.
    Runner(image::ImageStore& store,
           std::unique_ptr<runtime::cgroup::Manager> cgroups,
           base::Logger log,
           size_t warm = 2)
        : store_(store),
          cgroups_(std::move(cgroups)),
          log_(std::move(log)),
          cgroup_pool_(cgroups_ ? std::make_unique<CgroupPool>(*cgroups_, warm, log_) : nullptr),
          networks_(std::make_unique<runtime::process::NetnsPool>(warm)) {}

    Result<RunResult> run(const RunRequest& request);

private:
    image::ImageStore& store_;
    std::unique_ptr<runtime::cgroup::Manager> cgroups_;
    base::Logger log_;
    std::unique_ptr<CgroupPool> cgroup_pool_;  // over *cgroups_, so destroyed before it
    std::unique_ptr<runtime::process::NetnsPool> networks_;  // a pointer: Runner stays movable
};

}  // namespace grove::engine
