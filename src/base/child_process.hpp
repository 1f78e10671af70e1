#pragma once

// ChildProcess owns a child: its pid and a pidfd (clone3 with CLONE_PIDFD), so a signal can
// never reach a recycled pid. Unless it was waited for or released, the destructor SIGKILLs and
// reaps it (crun's cleanup_pid), so no early return leaks a process or a zombie.
//
// spawn() is safe in a multi-threaded process: every string and array is prepared before the
// clone, and the child makes only async-signal-safe syscalls until execve. An exec failure is
// reported to the parent with its errno over a CLOEXEC pipe, so spawn() fails instead of
// returning a child that exits 127.

#include <chrono>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include <grove/result.hpp>

#include "unique_fd.hpp"

namespace grove::base {

struct ExitStatus {
    enum class Kind { kExited, kSignaled };

    Kind kind = Kind::kExited;
    int code = 0;  // the exit code, or the signal number when kind is kSignaled

    bool success() const { return kind == Kind::kExited && code == 0; }
    // "exit code 3", "signal 9 (Killed)"
    std::string to_string() const;
};

struct SpawnOptions {
    // argv[0] names the program; without a '/', it is looked up in PATH (the parent's).
    std::vector<std::string> argv;
    // The child's environment; nullopt inherits the parent's.
    std::optional<std::vector<std::string>> env;
    // The child's working directory; empty inherits the parent's.
    std::string cwd;
    // Borrowed fds that become the child's 0, 1 and 2; -1 inherits the parent's.
    int stdin_fd = -1;
    int stdout_fd = -1;
    int stderr_fd = -1;
    // Sent to the child when the spawning thread dies (PR_SET_PDEATHSIG); 0 for none.
    int parent_death_signal = 0;
};

class ChildProcess {
public:
    ChildProcess(ChildProcess&& other) noexcept;
    ChildProcess& operator=(ChildProcess&& other) noexcept;
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;
    ~ChildProcess();

    static Result<ChildProcess> spawn(const SpawnOptions& options);

    pid_t pid() const { return pid_; }
    int pidfd() const { return pidfd_.get(); }

    // pidfd_send_signal; succeeds without effect once the child has been reaped.
    Result<void> signal(int sig);
    Result<ExitStatus> wait();
    // nullopt when the child is still running after `timeout`.
    Result<std::optional<ExitStatus>> wait_for(std::chrono::milliseconds timeout);
    // Stops owning the child: it is neither killed nor reaped by this object any more.
    [[nodiscard]] pid_t release();

private:
    ChildProcess(pid_t pid, UniqueFd pidfd) : pid_(pid), pidfd_(std::move(pidfd)) {}
    void kill_and_reap();

    pid_t pid_ = -1;
    UniqueFd pidfd_;
    std::optional<ExitStatus> status_;
};

// The path of `name` as execve would run it: `name` itself if it contains a '/', else the first
// executable match in $PATH. NotFound otherwise.
Result<std::string> find_program(const std::string& name);

// The NULL-terminated char* array execve takes, pointing into `strings` (which must outlive it).
// Built before a clone, since the child may not allocate.
std::vector<char*> exec_strings(const std::vector<std::string>& strings);

struct CommandOutput {
    ExitStatus status;
    std::string out;
    std::string err;
};

// Runs a command to completion with stdin from /dev/null (or options.stdin_fd), capturing stdout
// and stderr; options.stdout_fd and stderr_fd are ignored. Past `timeout` the child is killed and
// the call fails with DeadlineExceeded.
Result<CommandOutput> run_command(SpawnOptions options, std::chrono::milliseconds timeout);

}  // namespace grove::base
