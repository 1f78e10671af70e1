#include "containers/shim/supervisor.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <functional>
#include <list>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "base/error.hpp"
#include "base/parse_number.hpp"
#include "containers/shim/control.hpp"
#include "containers/shim/log_file.hpp"

namespace grove::containers {
namespace {

constexpr size_t kChunk = 64 * 1024;
constexpr size_t kMaxStdinBacklog = 1 << 20;

std::vector<std::string_view> split_words(std::string_view text) {
    std::vector<std::string_view> words;
    size_t at = 0;
    while ((at = text.find_first_not_of(' ', at)) != std::string_view::npos) {
        const size_t end = std::min(text.find(' ', at), text.size());
        words.push_back(text.substr(at, end - at));
        at = end;
    }
    return words;
}

// One request line, read with a deadline: a client that connects and says nothing cannot hold
// the loop for long.
std::optional<std::string> read_request(int fd) {
    const timeval timeout{.tv_sec = 1, .tv_usec = 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    return read_line(fd, 64 * 1024);
}

void send_line(int fd, const std::string& text) {
    (void)::send(fd, text.data(), text.size(), MSG_NOSIGNAL);
}

void reply(int fd, const Result<void>& result) {
    send_line(fd, result ? std::string("ok\n") : "err " + result.error().message() + "\n");
}

// `data` as the client reads it: a frame, or the raw bytes of a terminal's one stream.
void append_output(std::string& out, bool tty, LogStream stream, std::string_view data) {
    if (!tty) {
        const auto header =
            frame_header(static_cast<uint8_t>(stream), static_cast<uint32_t>(data.size()));
        out.append(header.data(), header.size());
    }
    out.append(data);
}

// An attached client that cannot take the container's output at once is dropped rather than
// left to stall the container (whose pipe would fill) and every other client: the log keeps
// all of it for them.
bool send_output(int fd, bool tty, LogStream stream, std::string_view data) {
    std::string frame;
    append_output(frame, tty, stream, data);
    const ssize_t n = ::send(fd, frame.data(), frame.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    return n == static_cast<ssize_t>(frame.size());
}

// One read of an output fd: its bytes, or nullopt once it ended (the fd is then closed). A
// pty's master reads EIO once no slave is open, and may be non-blocking (shared with stdin).
std::optional<std::string> read_output(base::UniqueFd& fd) {
    char buf[kChunk];
    const ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
        return std::string();
    }
    if (n <= 0) {
        fd.reset();
        return std::nullopt;
    }
    return std::string(buf, static_cast<size_t>(n));
}

// What clients send for a process's stdin, written as the process takes it.
class StdinFeed {
public:
    explicit StdinFeed(base::UniqueFd fd) : fd_(std::move(fd)) {
        if (fd_.valid()) {
            ::fcntl(fd_.get(), F_SETFL, ::fcntl(fd_.get(), F_GETFL) | O_NONBLOCK);
        }
    }
    bool open() const { return fd_.valid(); }
    // Input waits while the process has not taken the previous input.
    bool full() const { return !backlog_.empty(); }
    int pending_fd() const { return backlog_.empty() ? -1 : fd_.get(); }
    void push(std::string_view data) {
        if (fd_.valid() && backlog_.size() < kMaxStdinBacklog) {
            backlog_.append(data);
            feed();
        }
    }
    void feed() {
        const ssize_t n = ::write(fd_.get(), backlog_.data(), backlog_.size());
        if (n > 0) {
            backlog_.erase(0, static_cast<size_t>(n));
            if (closing_ && backlog_.empty()) {
                close();
            }
        } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
            close();  // the process closed its stdin
        }
    }
    void close() {
        backlog_.clear();
        fd_.reset();
    }
    // EOF once what is pending has been written (a stdin-once client went away).
    void close_when_fed() {
        closing_ = true;
        if (backlog_.empty()) {
            close();
        }
    }

private:
    base::UniqueFd fd_;
    std::string backlog_;
    bool closing_ = false;
};

struct Client {
    enum class Kind { kAttach, kWait };
    base::UniqueFd fd;
    Kind kind;
    bool stdin_once = false;  // its EOF is the container's stdin's (Docker's StdinOnce)
    bool gone = false;        // removed after the turn: handlers of the same turn may refer to it
};

// A process exec'd in the container and the connection that started it (gone once detached).
struct Exec {
    std::string id;
    StartedExec started;
    StdinFeed stdin;
    base::UniqueFd client;
    bool tty;
    bool input_done = false;
    std::optional<runtime::process::RunExit> exit;
    // Output the client has not taken yet. An exec's output has no log to fall back on, so a
    // slow client is waited for: while this holds bytes the process's pipes are not read, and
    // the process waits on its own pipe, not the shim.
    std::string pending;

    void send_pending() {
        const ssize_t n =
            ::send(client.get(), pending.data(), pending.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            pending.erase(0, static_cast<size_t>(n));
        } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
            client.reset();  // it left: the output goes nowhere from now on
            pending.clear();
        }
    }
};

class Supervisor {
public:
    Supervisor(StartedContainer& container,
               const ContainerPaths& paths,
               const ShimConfig& config,
               LogWriter log,
               int listen_fd)
        : container_(container),
          paths_(paths),
          config_(config),
          log_(std::move(log)),
          listen_fd_(listen_fd),
          stdin_(std::move(container.stdin_write)) {}

    Result<ExitRecord> run() {
        while (!exit_ || container_.stdout_read.valid() || container_.stderr_read.valid()) {
            fds_.clear();
            handlers_.clear();
            watch_container();
            watch_execs();
            watch(listen_fd_, POLLIN, [this](short) { accept_client(); });
            if (::poll(fds_.data(), fds_.size(), -1) < 0) {
                if (errno == EINTR) {
                    continue;
                }
                return base::last_errno_error("poll");
            }
            // Handlers may change the lists the fds came from: they run after the poll, each
            // on the state it was registered with, and the lists are walked again next turn.
            for (size_t i = 0; i < fds_.size(); ++i) {
                if (fds_[i].revents != 0) {
                    GROVE_TRY(handlers_[i](fds_[i].revents));
                }
            }
            clients_.remove_if([](const Client& c) { return c.gone; });
            reap_execs();
        }
        ExitRecord record{.exit_code = exit_->exit_code,
                          .signal = exit_->signal,
                          .oom_killed = false,
                          .finished_ns = now_ns()};
        for (const auto& exec : execs_) {  // they died with the PID namespace
            const ExitRecord killed{.exit_code = 128 + SIGKILL,
                                    .signal = SIGKILL,
                                    .oom_killed = false,
                                    .finished_ns = record.finished_ns};
            (void)write_file_atomically(paths_.exec_exit(exec.id), to_json(killed));
        }
        execs_.clear();
        if (container_.cgroup) {
            if (const auto stats = container_.cgroup->stats()) {
                record.oom_killed = stats->oom_killed;
            }
            GROVE_TRY(container_.cgroup->close());
        }
        if (container_.network) {
            GROVE_TRY(container_.network->close());
        }
        return record;
    }

private:
    using Handler = std::function<Result<void>(short)>;

    void watch(int fd, short events, std::function<void(short)> handler) {
        watch_result(fd, events, [handler = std::move(handler)](short revents) -> Result<void> {
            handler(revents);
            return {};
        });
    }
    void watch_result(int fd, short events, Handler handler) {
        if (fd >= 0) {
            fds_.push_back({fd, events, 0});
            handlers_.push_back(std::move(handler));
        }
    }

    void watch_container() {
        if (!exit_) {
            watch_result(container_.process->pidfd(), POLLIN, [this](short) -> Result<void> {
                GROVE_ASSIGN_OR_RETURN(exit_,
                                       container_.process->wait(std::chrono::milliseconds(0)));
                return {};
            });
        }
        watch_result(container_.stdout_read.get(), POLLIN,
                     [this](short) { return forward(container_.stdout_read, LogStream::kStdout); });
        watch_result(container_.stderr_read.get(), POLLIN,
                     [this](short) { return forward(container_.stderr_read, LogStream::kStderr); });
        watch(stdin_.pending_fd(), POLLOUT, [this](short) { stdin_.feed(); });
        for (auto it = clients_.begin(); it != clients_.end(); ++it) {
            const bool reading = it->kind == Client::Kind::kWait || !stdin_.full();
            watch(it->fd.get(), reading ? POLLIN : 0, [this, it](short) {
                if (it->gone) {
                    return;
                }
                char buf[kChunk];
                const ssize_t n = ::read(it->fd.get(), buf, sizeof(buf));
                if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
                    it->gone = true;
                    if (it->stdin_once) {
                        stdin_.close_when_fed();
                    }
                } else if (n > 0 && it->kind == Client::Kind::kAttach) {
                    stdin_.push({buf, static_cast<size_t>(n)});
                }
            });
        }
    }

    void watch_execs() {
        for (auto& exec : execs_) {
            if (!exec.exit) {
                watch_result(
                    exec.started.process.wait_fd(), POLLIN, [&exec](short) -> Result<void> {
                        GROVE_ASSIGN_OR_RETURN(
                            exec.exit, exec.started.process.wait(std::chrono::milliseconds(0)));
                        return {};
                    });
            }
            const bool waiting = !exec.pending.empty() && exec.client.valid();
            for (auto [fd, stream] : {std::pair{&exec.started.stdout_read, LogStream::kStdout},
                                      std::pair{&exec.started.stderr_read, LogStream::kStderr}}) {
                watch(fd->get(), waiting ? 0 : POLLIN, [&exec, fd, stream](short) {
                    const auto data = read_output(*fd);
                    if (data && !data->empty() && exec.client.valid()) {
                        append_output(exec.pending, exec.tty, stream, *data);
                        exec.send_pending();
                    }
                });
            }
            if (waiting) {
                watch(exec.client.get(), POLLOUT, [&exec](short) { exec.send_pending(); });
            }
            watch(exec.stdin.pending_fd(), POLLOUT, [&exec](short) { exec.stdin.feed(); });
            if (exec.client.valid() && !exec.input_done) {
                watch(exec.client.get(), exec.stdin.full() ? 0 : POLLIN, [&exec](short) {
                    char buf[kChunk];
                    const ssize_t n = ::read(exec.client.get(), buf, sizeof(buf));
                    if (n > 0) {
                        exec.stdin.push({buf, static_cast<size_t>(n)});
                    } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                        // The client closed its side (or left): stdin ends, output may go on.
                        exec.input_done = true;
                        exec.stdin.close();
                    }
                });
            }
        }
    }

    // An exec whose process ended and whose output is drained and sent leaves its exit for the
    // manager, then its connection closes.
    void reap_execs() {
        for (auto it = execs_.begin(); it != execs_.end();) {
            if (it->exit && !it->started.stdout_read.valid() && !it->started.stderr_read.valid() &&
                (it->pending.empty() || !it->client.valid())) {
                const ExitRecord record{.exit_code = it->exit->exit_code,
                                        .signal = it->exit->signal,
                                        .oom_killed = false,
                                        .finished_ns = now_ns()};
                (void)write_file_atomically(paths_.exec_exit(it->id), to_json(record));
                it = execs_.erase(it);
            } else {
                ++it;
            }
        }
    }

    // A read of the container's output: to the log and to every attached client.
    Result<void> forward(base::UniqueFd& fd, LogStream stream) {
        const auto data = read_output(fd);
        if (!data || data->empty()) {
            return {};
        }
        GROVE_TRY(log_.append(stream, now_ns(), *data));
        for (auto& client : clients_) {
            if (client.kind == Client::Kind::kAttach && !client.gone &&
                !send_output(client.fd.get(), config_.tty, stream, *data)) {
                client.gone = true;
            }
        }
        return {};
    }

    void accept_client() {
        base::UniqueFd fd(::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC));
        if (!fd.valid()) {
            return;
        }
        const auto request = read_request(fd.get());
        if (!request) {
            return;
        }
        const std::string_view line = *request;
        const std::string_view verb = line.substr(0, line.find(' '));
        const std::string_view args =
            line.size() > verb.size() ? line.substr(verb.size() + 1) : std::string_view();
        if (verb == "wait" || verb == "attach") {
            reply(fd.get(), {});
            const auto kind = verb == "wait" ? Client::Kind::kWait : Client::Kind::kAttach;
            clients_.push_back({std::move(fd), kind, args == "stdin-once"});
            return;
        }
        if (verb == "exec") {
            if (auto started = exec(args)) {
                send_line(fd.get(), fmt::format("ok {}\n", *started));
                execs_.back().client = std::move(fd);
            } else {
                reply(fd.get(), started.error());
            }
            return;
        }
        if (verb == "stats") {
            auto stats = container_.cgroup ? container_.cgroup->stats()
                                           : Result<runtime::cgroup::Stats>(base::make_error(
                                                 Code::kUnimplemented, "statistics need cgroups"));
            send_line(fd.get(), stats ? "ok " + stats_to_json(*stats) + "\n"
                                      : "err " + stats.error().message() + "\n");
            return;
        }
        reply(fd.get(), handle(verb, args));
    }

    // "exec <id> <request json>": the process's host pid once started.
    Result<pid_t> exec(std::string_view args) {
        const size_t space = args.find(' ');
        if (space == std::string_view::npos || space == 0) {
            return base::make_error(Code::kInvalidArgument, "exec needs an id and a request");
        }
        if (exit_) {
            return base::make_error(Code::kFailedPrecondition, "the container has exited");
        }
        GROVE_ASSIGN_OR_RETURN(const auto request, exec_request_from_json(args.substr(space + 1)));
        if (::mkdir(paths_.execs().c_str(), 0700) != 0 && errno != EEXIST) {
            return base::last_errno_error("create '{}'", paths_.execs().string());
        }
        GROVE_ASSIGN_OR_RETURN(auto started, start_exec(container_, request));
        const pid_t pid = started.process.pid();
        auto stdin_write = std::move(started.stdin_write);
        execs_.push_back(Exec{.id = std::string(args.substr(0, space)),
                              .started = std::move(started),
                              .stdin = StdinFeed(std::move(stdin_write)),
                              .client = {},
                              .tty = request.tty});
        return pid;
    }

    Result<void> handle(std::string_view verb, std::string_view args) {
        if (verb == "kill") {
            const auto sig = base::parse_number<long>(args);
            if (!sig || *sig <= 0 || *sig >= NSIG) {
                return base::make_error(Code::kInvalidArgument, "bad signal '{}'", args);
            }
            if (exit_) {
                return base::make_error(Code::kFailedPrecondition, "the container has exited");
            }
            GROVE_TRY(container_.process->kill(static_cast<int>(*sig)));
            if (paused_ && *sig == SIGKILL) {  // a frozen process dies only once thawed
                GROVE_TRY(set_paused(false));
            }
            return {};
        }
        if (verb == "pause" || verb == "resume") {
            return set_paused(verb == "pause");
        }
        if (verb == "update") {
            if (!container_.cgroup) {
                return base::make_error(Code::kUnimplemented, "limits need cgroups");
            }
            GROVE_ASSIGN_OR_RETURN(const auto limits, limits_from_json(args));
            return container_.cgroup->update(limits);
        }
        if (verb == "close-stdin") {
            stdin_.close();
            return {};
        }
        if (verb == "resize") {
            return resize(args);
        }
        return base::make_error(Code::kInvalidArgument, "unknown request '{}'", verb);
    }

    // "<rows> <cols>" for the container's tty, "<rows> <cols> <exec id>" for an exec's.
    Result<void> resize(std::string_view args) {
        const auto words = split_words(args);
        const auto rows = words.size() >= 2 ? base::parse_number<long>(words[0]) : std::nullopt;
        const auto cols = words.size() >= 2 ? base::parse_number<long>(words[1]) : std::nullopt;
        if (!rows || !cols || *rows <= 0 || *cols <= 0 || *rows > 65535 || *cols > 65535 ||
            words.size() > 3) {
            return base::make_error(Code::kInvalidArgument, "bad size '{}'", args);
        }
        int tty = config_.tty ? container_.stdout_read.get() : -1;
        if (words.size() == 3) {
            const auto exec = std::find_if(execs_.begin(), execs_.end(),
                                           [&](const Exec& e) { return e.id == words[2]; });
            if (exec == execs_.end()) {
                return base::make_error(Code::kNotFound, "exec {} is not running", words[2]);
            }
            tty = exec->tty ? exec->started.stdout_read.get() : -1;
        }
        if (tty < 0) {
            return base::make_error(Code::kFailedPrecondition, "no tty to resize");
        }
        const winsize size{.ws_row = static_cast<unsigned short>(*rows),
                           .ws_col = static_cast<unsigned short>(*cols),
                           .ws_xpixel = 0,
                           .ws_ypixel = 0};
        if (::ioctl(tty, TIOCSWINSZ, &size) != 0) {
            return base::last_errno_error("resize the tty");
        }
        return {};
    }

    Result<void> set_paused(bool paused) {
        if (!container_.cgroup) {
            return base::make_error(Code::kUnimplemented, "pausing needs cgroups");
        }
        GROVE_TRY(container_.cgroup->freeze(paused));
        paused_ = paused;
        return {};
    }

    StartedContainer& container_;
    const ContainerPaths& paths_;
    const ShimConfig& config_;
    LogWriter log_;
    int listen_fd_;
    StdinFeed stdin_;
    std::list<Client> clients_;
    std::list<Exec> execs_;
    bool paused_ = false;
    std::optional<runtime::process::RunExit> exit_;
    std::vector<pollfd> fds_;
    std::vector<Handler> handlers_;
};

}  // namespace

Result<void> supervise(StartedContainer& container,
                       const ContainerPaths& paths,
                       const ShimConfig& config,
                       int listen_fd) {
    GROVE_ASSIGN_OR_RETURN(auto log,
                           LogWriter::open(paths.log(), paths.rotated_log(), config.log_max_bytes));
    Supervisor supervisor(container, paths, config, std::move(log), listen_fd);
    auto exit = supervisor.run();
    // Written while the clients are still connected: a client sees its connection end only
    // once the exit is on disk, and a manager that finds no socket finds the exit.
    const ExitRecord record =
        exit ? *exit
             : ExitRecord{.exit_code = 128 + SIGKILL,  // the container dies with us
                          .signal = SIGKILL,
                          .oom_killed = false,
                          .finished_ns = now_ns(),
                          .error = "shim: " + exit.error().to_string()};
    GROVE_TRY(write_file_atomically(paths.exit(), to_json(record)));
    ::unlink(ContainerPaths::kSocketName);
    if (!exit) {
        return exit.error();
    }
    return {};
}

}  // namespace grove::containers
