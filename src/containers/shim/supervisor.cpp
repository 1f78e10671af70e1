#include "containers/shim/supervisor.hpp"

#include <cerrno>
#include <charconv>
#include <csignal>
#include <fcntl.h>
#include <list>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/error.hpp"
#include "containers/shim/control.hpp"
#include "containers/shim/log_file.hpp"

namespace grove::containers {
namespace {

constexpr size_t kChunk = 64 * 1024;
constexpr size_t kMaxStdinBacklog = 1 << 20;

struct Client {
    enum class Kind { kAttach, kWait };
    base::UniqueFd fd;
    Kind kind;
};

std::optional<long> number(std::string_view text) {
    long value = 0;
    const auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (err != std::errc() || end != text.data() + text.size() || text.empty()) {
        return std::nullopt;
    }
    return value;
}

// One request line, read with a deadline: a client that connects and says nothing cannot hold
// the loop for long.
std::optional<std::string> read_request(int fd) {
    const timeval timeout{.tv_sec = 1, .tv_usec = 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    std::string line;
    char c = 0;
    while (line.size() < 4096) {
        const ssize_t n = ::read(fd, &c, 1);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return std::nullopt;
        }
        if (c == '\n') {
            return line;
        }
        line += c;
    }
    return std::nullopt;
}

void reply(int fd, const Result<void>& result) {
    const std::string text =
        result ? std::string("ok\n") : "err " + result.error().message() + "\n";
    (void)::send(fd, text.data(), text.size(), MSG_NOSIGNAL);
}

class Supervisor {
public:
    Supervisor(StartedContainer& container, const ShimConfig& config, LogWriter log, int listen_fd)
        : container_(container), config_(config), log_(std::move(log)), listen_fd_(listen_fd) {}

    Result<ExitRecord> run() {
        while (!exit_ || container_.stdout_read.valid() || container_.stderr_read.valid()) {
            std::vector<pollfd> fds;
            fds.push_back({listen_fd_, POLLIN, 0});
            fds.push_back({exit_ ? -1 : container_.process->pidfd(), POLLIN, 0});
            fds.push_back({container_.stdout_read.get(), POLLIN, 0});
            fds.push_back({container_.stderr_read.get(), POLLIN, 0});
            fds.push_back({stdin_backlog_.empty() ? -1 : container_.stdin_write.get(), POLLOUT, 0});
            for (const auto& client : clients_) {
                // Attached input waits while the container has not taken the previous input.
                const bool reading = client.kind == Client::Kind::kWait || stdin_backlog_.empty();
                fds.push_back({client.fd.get(), static_cast<short>(reading ? POLLIN : 0), 0});
            }
            if (::poll(fds.data(), fds.size(), -1) < 0) {
                if (errno == EINTR) {
                    continue;
                }
                return base::last_errno_error("poll");
            }
            if (fds[1].revents != 0) {
                GROVE_ASSIGN_OR_RETURN(const auto exit,
                                       container_.process->wait(std::chrono::milliseconds(0)));
                exit_ = exit;
            }
            if (fds[2].revents != 0) {
                GROVE_TRY(forward(container_.stdout_read, LogStream::kStdout));
            }
            if (fds[3].revents != 0) {
                GROVE_TRY(forward(container_.stderr_read, LogStream::kStderr));
            }
            if (fds[4].revents != 0) {
                feed_stdin();
            }
            auto client = clients_.begin();
            for (size_t i = 5; i < fds.size(); ++i) {
                auto current = client++;
                if (fds[i].revents != 0 && !on_client_input(*current)) {
                    clients_.erase(current);
                }
            }
            if (fds[0].revents != 0) {
                accept_client();
            }
        }
        ExitRecord record{.exit_code = exit_->exit_code,
                          .signal = exit_->signal,
                          .oom_killed = false,
                          .finished_ns = now_ns()};
        if (container_.cgroup) {
            if (const auto stats = container_.cgroup->stats()) {
                record.oom_killed = stats->oom_killed;
            }
            GROVE_TRY(container_.cgroup->close());
        }
        return record;
    }

private:
    // A read of the container's output: to the log and to every attached client.
    Result<void> forward(base::UniqueFd& fd, LogStream stream) {
        char buf[kChunk];
        const ssize_t n = ::read(fd.get(), buf, sizeof(buf));
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) {  // a pty's master may be non-blocking
            return {};
        }
        if (n <= 0) {  // EOF; a pty's master reads EIO once no slave is open
            fd.reset();
            return {};
        }
        const std::string_view data(buf, static_cast<size_t>(n));
        GROVE_TRY(log_.append(stream, now_ns(), data));
        const auto header = frame_header(static_cast<uint8_t>(stream), static_cast<uint32_t>(n));
        for (auto it = clients_.begin(); it != clients_.end();) {
            if (it->kind == Client::Kind::kAttach && !send_output(it->fd.get(), header, data)) {
                it = clients_.erase(it);
            } else {
                ++it;
            }
        }
        return {};
    }

    // A client that cannot take the output at once is dropped rather than left to stall the
    // container (whose pipe would fill) and every other client.
    bool send_output(int fd, const std::array<char, 8>& header, std::string_view data) {
        std::string frame;
        if (!config_.tty) {  // a terminal's output is one raw stream
            frame.append(header.data(), header.size());
        }
        frame.append(data);
        const ssize_t n = ::send(fd, frame.data(), frame.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        return n == static_cast<ssize_t>(frame.size());
    }

    void feed_stdin() {
        const ssize_t n =
            ::write(container_.stdin_write.get(), stdin_backlog_.data(), stdin_backlog_.size());
        if (n > 0) {
            stdin_backlog_.erase(0, static_cast<size_t>(n));
        } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
            stdin_backlog_.clear();  // the container closed its stdin
            container_.stdin_write.reset();
        }
    }

    // False when the client is gone.
    bool on_client_input(Client& client) {
        char buf[kChunk];
        const ssize_t n = ::read(client.fd.get(), buf, sizeof(buf));
        if (n < 0 && errno == EINTR) {
            return true;
        }
        if (n <= 0) {
            return false;
        }
        if (client.kind == Client::Kind::kAttach && container_.stdin_write.valid() &&
            stdin_backlog_.size() < kMaxStdinBacklog) {
            stdin_backlog_.append(buf, static_cast<size_t>(n));
            feed_stdin();
        }
        return true;
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
            clients_.push_back({std::move(fd), kind});
            return;
        }
        if (verb == "stats") {
            auto stats = container_.cgroup ? container_.cgroup->stats()
                                           : Result<runtime::cgroup::Stats>(base::make_error(
                                                 Code::kUnimplemented, "statistics need cgroups"));
            const std::string text = stats ? "ok " + stats_to_json(*stats) + "\n"
                                           : "err " + stats.error().message() + "\n";
            (void)::send(fd.get(), text.data(), text.size(), MSG_NOSIGNAL);
            return;
        }
        reply(fd.get(), handle(verb, args));
    }

    Result<void> handle(std::string_view verb, std::string_view args) {
        if (verb == "kill") {
            const auto sig = number(args);
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
            stdin_backlog_.clear();
            container_.stdin_write.reset();
            return {};
        }
        if (verb == "resize") {
            const size_t space = args.find(' ');
            const auto rows = number(args.substr(0, space));
            const auto cols =
                space == std::string_view::npos ? std::nullopt : number(args.substr(space + 1));
            if (!config_.tty) {
                return base::make_error(Code::kFailedPrecondition, "the container has no tty");
            }
            if (!rows || !cols || *rows <= 0 || *cols <= 0 || *rows > 65535 || *cols > 65535) {
                return base::make_error(Code::kInvalidArgument, "bad size '{}'", args);
            }
            const winsize size{.ws_row = static_cast<unsigned short>(*rows),
                               .ws_col = static_cast<unsigned short>(*cols),
                               .ws_xpixel = 0,
                               .ws_ypixel = 0};
            if (::ioctl(container_.stdout_read.get(), TIOCSWINSZ, &size) != 0) {
                return base::last_errno_error("resize the tty");
            }
            return {};
        }
        return base::make_error(Code::kInvalidArgument, "unknown request '{}'", verb);
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
    const ShimConfig& config_;
    LogWriter log_;
    int listen_fd_;
    std::list<Client> clients_;
    std::string stdin_backlog_;
    bool paused_ = false;
    std::optional<runtime::process::RunExit> exit_;
};

}  // namespace

Result<void> supervise(StartedContainer& container,
                       const ContainerPaths& paths,
                       const ShimConfig& config,
                       int listen_fd) {
    if (container.stdin_write.valid() &&
        ::fcntl(container.stdin_write.get(), F_SETFL, O_NONBLOCK) != 0) {
        return base::last_errno_error("make the container's stdin non-blocking");
    }
    GROVE_ASSIGN_OR_RETURN(auto log,
                           LogWriter::open(paths.log(), paths.rotated_log(), config.log_max_bytes));
    Supervisor supervisor(container, config, std::move(log), listen_fd);
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
