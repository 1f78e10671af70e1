#include "daemon/subprocesses.hpp"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <fcntl.h>
#include <optional>
#include <poll.h>
#include <pthread.h>
#include <string>
#include <sys/eventfd.h>
#include <thread>
#include <unistd.h>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "daemon/event_data.hpp"
#include "daemon/instance_request.hpp"
#include "daemon/output_events.hpp"
#include "runtime/process/sandbox_exec.hpp"

namespace grove::daemon {
namespace {

using Clock = std::chrono::steady_clock;

// After its exit, what a subprocess left in its pipes is read, but no more than this: a
// process it started in the background may hold them open and go on writing.
constexpr int kDrainReads = 64;

Result<void> set_nonblocking(int fd) {
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
        return base::last_errno_error("set fd {} non-blocking", fd);
    }
    return {};
}

base::Json spawn_event_data(const SubprocessRequest& request,
                            const std::vector<std::string>& argv,
                            const engine::RunningSandbox& sandbox,
                            const std::string& cwd,
                            int pid,
                            uint64_t truncate_at) {
    const auto timeout =
        request.timeout_seconds ? base::Json(*request.timeout_seconds) : base::Json();
    return {{"pid", pid},
            {"command", argv.front()},
            {"args", std::vector<std::string>(argv.begin() + 1, argv.end())},
            {"shell", request.shell},
            {"cwd", cwd},
            {"uid", sandbox.uid()},
            {"gid", sandbox.gid()},
            {"timeout", timeout},
            {"truncate_at", truncate_at},
            {"env", subprocess_env_json(request)}};
}

}  // namespace

struct Subprocesses::Child {
    Child(int spid_in, uint64_t truncate_at_in, runtime::process::SandboxExec process_in)
        : spid(spid_in), truncate_at(truncate_at_in), process(std::move(process_in)) {}

    const int spid;
    const uint64_t truncate_at;
    base::UniqueFd out;  // read ends, non-blocking
    base::UniqueFd err;
    base::UniqueFd wake;  // eventfd: stdin was queued or closed
    Clock::time_point started;
    std::optional<Clock::time_point> deadline;

    std::mutex mutex;
    // The process: kill() comes from request threads, wait() from the pump.
    runtime::process::SandboxExec process;
    base::UniqueFd in;  // write end, non-blocking; reset once closed
    std::string pending_stdin;
    bool close_stdin = false;  // once pending_stdin is written
    std::atomic<bool> exited{false};

    std::jthread pump;  // last: joined before the rest goes
};

Subprocesses::Subprocesses(EventLog& log) : log_(log) {}

Subprocesses::~Subprocesses() {
    finish();
}

void Subprocesses::attach(std::shared_ptr<engine::RunningSandbox> sandbox, uint64_t truncate_at) {
    std::lock_guard lock(mutex_);
    if (state_ != State::kWaiting) {
        return;
    }
    sandbox_ = std::move(sandbox);
    truncate_at_ = truncate_at;
    state_ = State::kRunning;
    state_changed_.notify_all();
}

void Subprocesses::finish() {
    std::map<int, std::unique_ptr<Child>> children;
    {
        std::lock_guard lock(mutex_);
        state_ = State::kFinished;
        sandbox_.reset();
        children.swap(children_);
        state_changed_.notify_all();
    }
    for (auto& [spid, child] : children) {
        std::lock_guard lock(child->mutex);
        if (!child->exited) {
            (void)child->process.kill(SIGKILL);
        }
    }
    children.clear();  // joins each pump once its process is reaped and its exit logged
}

std::vector<std::unique_ptr<Subprocesses::Child>> Subprocesses::take_exited() {
    std::vector<std::unique_ptr<Child>> exited;
    for (auto it = children_.begin(); it != children_.end();) {
        if (it->second->exited) {
            collected_.insert(it->first);
            exited.push_back(std::move(it->second));
            it = children_.erase(it);
        } else {
            ++it;
        }
    }
    return exited;
}

Result<int> Subprocesses::create(const SubprocessRequest& request, std::chrono::milliseconds wait) {
    std::shared_ptr<engine::RunningSandbox> sandbox;
    uint64_t truncate_at = 0;
    std::vector<std::unique_ptr<Child>> exited;  // joined when this goes, without mutex_
    {
        std::unique_lock lock(mutex_);
        exited = take_exited();
        state_changed_.wait_for(lock, wait, [&] { return state_ != State::kWaiting; });
        if (state_ == State::kWaiting) {
            return base::make_error(Code::kFailedPrecondition,
                                    "the instance has not started its command yet");
        }
        if (state_ == State::kFinished) {
            return base::make_error(Code::kFailedPrecondition, "the instance has finished");
        }
        if (children_.size() >= kMaxRunning) {
            return base::make_error(Code::kResourceExhausted,
                                    "{} subprocesses are running in this instance already",
                                    children_.size());
        }
        sandbox = sandbox_;
        truncate_at = truncate_at_;
    }

    GROVE_ASSIGN_OR_RETURN(base::Pipe in, base::Pipe::create());
    GROVE_ASSIGN_OR_RETURN(base::Pipe out, base::Pipe::create());
    GROVE_ASSIGN_OR_RETURN(base::Pipe err, base::Pipe::create());
    GROVE_TRY(set_nonblocking(in.write.get()));
    GROVE_TRY(set_nonblocking(out.read.get()));
    GROVE_TRY(set_nonblocking(err.read.get()));
    const int wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake < 0) {
        return base::last_errno_error("eventfd");
    }
    base::UniqueFd wake_fd(wake);
    engine::ExecRequest exec{.argv = command_argv(request.command, request.args, request.shell),
                             .cwd = request.cwd,
                             .stdin_fd = in.read.get(),
                             .stdout_fd = out.write.get(),
                             .stderr_fd = err.write.get()};
    for (const auto& [key, value] : request.env) {
        exec.env.push_back(key + "=" + value);
    }
    const auto started = Clock::now();
    GROVE_ASSIGN_OR_RETURN(auto process, sandbox->exec(exec));
    in.read.reset();
    out.write.reset();
    err.write.reset();

    std::lock_guard lock(mutex_);
    if (state_ == State::kFinished) {
        // The instance ended while the process started: `process` is killed and reaped here.
        return base::make_error(Code::kFailedPrecondition, "the instance has finished");
    }
    const int spid = next_spid_++;
    log_.append(spid, kSpawnEvent,
                spawn_event_data(request, exec.argv, *sandbox, sandbox->cwd_of(exec),
                                 process.sandbox_pid(), truncate_at));
    auto child = std::make_unique<Child>(spid, truncate_at, std::move(process));
    child->out = std::move(out.read);
    child->err = std::move(err.read);
    child->wake = std::move(wake_fd);
    child->in = std::move(in.write);
    child->started = started;
    if (request.timeout_seconds) {
        child->deadline = started + std::chrono::seconds(*request.timeout_seconds);
    }
    child->pending_stdin = request.stdin_data;
    child->close_stdin = request.close_stdin;
    Child& running = *child;
    running.pump = std::jthread([this, &running] { pump(running); });
    children_.emplace(spid, std::move(child));
    return spid;
}

Result<Subprocesses::Child*> Subprocesses::running_child(int spid) {
    if (state_ == State::kFinished) {
        return base::make_error(Code::kFailedPrecondition, "the instance has finished");
    }
    const auto it = children_.find(spid);
    if (it != children_.end()) {
        return it->second.get();
    }
    if (collected_.contains(spid)) {
        return base::make_error(Code::kFailedPrecondition, "subprocess {} has exited", spid);
    }
    return base::make_error(Code::kNotFound, "no subprocess {} in this instance", spid);
}

Result<void> Subprocesses::write_stdin(int spid, std::string_view data, bool close) {
    std::lock_guard lock(mutex_);
    GROVE_ASSIGN_OR_RETURN(Child * child, running_child(spid));
    std::lock_guard child_lock(child->mutex);
    if (child->exited) {
        return base::make_error(Code::kFailedPrecondition, "subprocess {} has exited", spid);
    }
    if (child->close_stdin || !child->in.valid()) {
        return base::make_error(Code::kFailedPrecondition, "the stdin of subprocess {} is closed",
                                spid);
    }
    if (child->pending_stdin.size() + data.size() > kMaxPendingStdin) {
        return base::make_error(Code::kResourceExhausted,
                                "subprocess {} has not read the stdin it was sent yet", spid);
    }
    child->pending_stdin.append(data);
    child->close_stdin = close;
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(child->wake.get(), &one, sizeof(one));
    return {};
}

Result<void> Subprocesses::kill(int spid, int sig) {
    std::lock_guard lock(mutex_);
    GROVE_ASSIGN_OR_RETURN(Child * child, running_child(spid));
    std::lock_guard child_lock(child->mutex);
    if (child->exited) {
        return base::make_error(Code::kFailedPrecondition, "subprocess {} has exited", spid);
    }
    return child->process.kill(sig);
}

void Subprocesses::pump(Child& child) {
    // A subprocess that exits without reading its stdin closes the pipe: the write must fail
    // with EPIPE, not raise SIGPIPE (blocked in this thread only).
    sigset_t pipe_signal;
    sigemptyset(&pipe_signal);
    sigaddset(&pipe_signal, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);

    OutputEvents output(log_, child.truncate_at, child.spid);
    const engine::Stream streams[2] = {engine::Stream::kStdout, engine::Stream::kStderr};
    // stdout, stderr, stdin (when there is something to write), wake, the process's end.
    pollfd fds[5] = {{child.out.get(), POLLIN, 0},
                     {child.err.get(), POLLIN, 0},
                     {-1, POLLOUT, 0},
                     {child.wake.get(), POLLIN, 0},
                     {child.process.wait_fd(), POLLIN, 0}};
    bool timed_out = false;
    char buf[64 * 1024];
    const auto read_stream = [&](int i) {
        const ssize_t n = ::read(fds[i].fd, buf, sizeof(buf));
        if (n > 0) {
            output.add(streams[i], std::string_view(buf, static_cast<size_t>(n)));
            return true;
        }
        if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
            fds[i].fd = -1;  // EOF: every writer is gone
        }
        return false;
    };
    for (;;) {
        {
            std::lock_guard lock(child.mutex);
            if (child.in.valid() && child.pending_stdin.empty() && child.close_stdin) {
                child.in.reset();
            }
            fds[2].fd = child.in.valid() && !child.pending_stdin.empty() ? child.in.get() : -1;
        }
        int wait_ms = -1;
        if (child.deadline && !timed_out) {
            const auto left =
                std::chrono::ceil<std::chrono::milliseconds>(*child.deadline - Clock::now());
            wait_ms = static_cast<int>(std::max<int64_t>(left.count(), 0));
        }
        const int ready = ::poll(fds, 5, wait_ms);
        if (ready < 0 && errno != EINTR) {
            break;  // cannot happen with valid fds; the wait below still reaps
        }
        if (child.deadline && !timed_out && Clock::now() >= *child.deadline) {
            std::lock_guard lock(child.mutex);
            timed_out = true;
            (void)child.process.kill(SIGKILL);
        }
        if (ready <= 0) {
            continue;
        }
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd >= 0 && fds[i].revents != 0) {
                read_stream(i);
            }
        }
        if (fds[3].revents != 0) {
            uint64_t count = 0;
            [[maybe_unused]] const ssize_t n = ::read(child.wake.get(), &count, sizeof(count));
        }
        if (fds[2].fd >= 0 && fds[2].revents != 0) {
            std::lock_guard lock(child.mutex);
            const ssize_t n =
                ::write(child.in.get(), child.pending_stdin.data(), child.pending_stdin.size());
            if (n > 0) {
                child.pending_stdin.erase(0, static_cast<size_t>(n));
            } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
                child.pending_stdin.clear();  // EPIPE: nobody reads it any more
                child.in.reset();
            }
        }
        if (fds[4].revents != 0) {
            break;
        }
    }
    for (int i = 0; i < 2; ++i) {
        for (int reads = 0; fds[i].fd >= 0 && reads < kDrainReads && read_stream(i); ++reads) {
        }
    }
    output.finish();

    ProcessExit exit{.code = -1, .signal = SIGKILL, .timed_out = timed_out};
    {
        std::lock_guard lock(child.mutex);
        auto waited = child.process.wait(std::nullopt);
        if (waited && *waited) {
            const runtime::process::RunExit& status = **waited;
            exit.code = status.signal != 0 ? -1 : status.exit_code;
            exit.signal = status.signal != 0 ? status.signal : -1;
            exit.usage = status.usage;
        }
        child.in.reset();
        child.wake.reset();
        child.pending_stdin.clear();
        child.exited = true;
    }
    child.out.reset();
    child.err.reset();
    exit.duration_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - child.started).count();
    exit.pid = child.process.sandbox_pid();
    log_.append(child.spid, kExitEvent, exit_event_data(exit));
}

}  // namespace grove::daemon
