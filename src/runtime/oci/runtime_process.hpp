#pragma once

// RuntimeProcess: one run through an OCI runtime (crun, runc or runsc) with the shape of
// process::SandboxProcess, so a Runner can pick either backend:
//
//   start(runtime, spec, {.run_dir})  writes <run_dir>/config.json (the bundle) and the generated
//                                     files under <run_dir>/files, and runs
//                                     `<runtime> --root <run_dir>/state ... run --bundle <run_dir>
//                                     --pid-file <run_dir>/container.pid <id>` in the foreground,
//                                     with the spec's stdin/stdout/stderr as the runtime's (no
//                                     pty); returns once the container runs
//   kill(sig)                         `<runtime> kill <id> <sig>`
//   wait(timeout) -> RunExit          the runtime's own exit, which is the command's
//   close()                           kill, reap, `<runtime> delete --force <id>`
//
// Differences from the native backend, all inherent to OCI runtimes:
// - The command is the container's PID 1; there is no grove init in between. Signals other than
//   SIGKILL reach it only if it installed a handler (the kernel's rule for a namespace's init),
//   and SIGKILL ends the whole PID namespace.
// - Runtimes report a command killed by signal N as exit code 128+N, so RunExit.signal is N for
//   any exit code in 129..192 (the convention Docker lives with): a command that itself exits 137
//   reads as killed by SIGKILL.
// - The runtime's own failures (a missing executable, a bad mount) print on the run's stderr,
//   since the runtime shares it with the container; grove also reads them from the runtime's
//   JSON log and fails start() or wait() with them instead of returning an exit code.
// - crun hands the caller's fds to the command as they are, and runsc donates them to its
//   sandbox; runc in the foreground copies each stream through a pipe of its own, so the command
//   sees pipes, and the order between what it writes to stdout and to stderr is not kept.
// - RunExit.usage is the runtime process's, which includes the command it reaped (for runsc, the
//   sandbox's whole user-space kernel).

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <sys/types.h>

#include <grove/result.hpp>

#include "base/child_process.hpp"
#include "runtime/oci/config.hpp"
#include "runtime/oci/runtime.hpp"
#include "runtime/process/sandbox_process.hpp"

namespace grove::runtime::oci {

struct StartOptions {
    // An existing directory the caller owns and removes: it becomes the bundle and holds the
    // runtime's state (--root), its log and the container's pid file. One run per directory.
    std::filesystem::path run_dir;
    // Empty: a fresh "grove-<pid>-<n>-<random>". Also names the cgroup ("/grove/<id>").
    std::string container_id;
    // How long start() waits for the container to be running.
    std::chrono::milliseconds start_timeout = std::chrono::seconds(60);
};

class RuntimeProcess {
public:
    RuntimeProcess(RuntimeProcess&& other) noexcept;
    RuntimeProcess& operator=(RuntimeProcess&& other) noexcept;
    RuntimeProcess(const RuntimeProcess&) = delete;
    RuntimeProcess& operator=(const RuntimeProcess&) = delete;
    // close(), best effort: nothing of the run survives its owner.
    ~RuntimeProcess();

    // Returns once the container runs (the runtime wrote its pid file) or has already exited.
    // Fails with the runtime's own error when it gave up before that; Unimplemented when the
    // spec has resource limits and this runtime cannot enforce them here.
    static Result<RuntimeProcess> start(const Runtime& runtime,
                                        const ContainerSpec& spec,
                                        const StartOptions& options);

    const std::string& id() const { return id_; }
    const std::filesystem::path& run_dir() const { return run_dir_; }
    // The host pid of the runtime process (`crun run`), not of the container.
    pid_t pid() const { return child_ ? child_->pid() : -1; }
    // The host pid of the container's PID 1 (for runsc, of the sandbox), from the pid file.
    Result<pid_t> container_pid() const;

    // `<runtime> kill <id> <sig>`; a no-op once the run ended. SIGKILL ends the whole container.
    Result<void> kill(int sig);

    // Waits for the run's end; nullopt when `timeout` passes first (the caller then kills).
    // Without a timeout, waits as long as it takes. After the first result, returns it again.
    Result<std::optional<process::RunExit>> wait(std::optional<std::chrono::milliseconds> timeout);

    // Ends the run if it still goes on (kill, then SIGKILL of the runtime if it does not react),
    // reaps the runtime and deletes the container from the runtime's state, cgroup included.
    Result<void> close();

private:
    RuntimeProcess(Runtime runtime,
                   Invocation invocation,
                   std::filesystem::path run_dir,
                   std::string id,
                   std::string cgroups_path,
                   base::ChildProcess child)
        : runtime_(std::move(runtime)),
          invocation_(std::move(invocation)),
          run_dir_(std::move(run_dir)),
          id_(std::move(id)),
          cgroups_path_(std::move(cgroups_path)),
          child_(std::move(child)) {}

    // The last error `<runtime> run` logged (runtimes end with the summary), if any.
    std::optional<std::string> runtime_error() const;
    Result<base::CommandOutput> invoke(std::vector<std::string> subcommand) const;

    Runtime runtime_;
    Invocation invocation_;
    std::filesystem::path run_dir_;
    std::string id_;
    // The cgroup path grove chose for the run (empty when the caller chose one), whose
    // directories a failed runtime may leave behind.
    std::string cgroups_path_;
    std::optional<base::ChildProcess> child_;  // the foreground `<runtime> run`
    std::optional<process::RunExit> exit_;
    std::optional<Error> failure_;  // the runtime's own error, once it exited
    bool clean_exit_ = false;  // the runtime exited by itself without an error: nothing to delete
    bool closed_ = false;
};

}  // namespace grove::runtime::oci
