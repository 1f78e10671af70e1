#include "http/server.hpp"

#include <array>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <system_error>
#include <thread>
#include <unistd.h>
#include <vector>

#include "base/error.hpp"
#include "http/connection.hpp"
#include "http/listener.hpp"

namespace grove::http {
namespace {

using detail::Clock;

// A refused connection (503) is kept for this long, its input read and dropped, so that the
// client reads the response instead of a reset.
constexpr auto kRefusedLinger = std::chrono::seconds(1);
constexpr size_t kMaxRefusedLingering = 256;
// After accept() failed for lack of fds (EMFILE), the acceptor rests this long instead of
// spinning on a listener that stays readable.
constexpr auto kAcceptPause = std::chrono::milliseconds(100);
constexpr int kAcceptBurst = 64;

}  // namespace

class Server::Impl {
public:
    Impl(ServerOptions options, base::Logger log);

    Result<ListenerInfo> add_listener(Result<detail::ListenSocket> socket, Router router);
    Result<void> start();
    void shutdown(std::chrono::milliseconds grace);
    size_t active_connections() const;

private:
    enum class State { kIdle, kRunning, kStopped };
    struct Listener {
        std::optional<detail::ListenSocket> socket;  // reset when shutdown stops accepting
        Router router;                               // outlives every connection using it
    };
    struct Served {
        std::unique_ptr<detail::Connection> connection;
        std::jthread thread;  // declared last: joined before the connection is destroyed
    };
    struct Refused {
        base::UniqueFd fd;
        Clock::time_point deadline;
    };

    void accept_loop();
    void accept_from(Listener& listener, std::vector<Refused>& refused);
    void refuse(base::UniqueFd fd, const Router& router, std::vector<Refused>& refused);
    void run_connection(detail::Connection* connection);
    void wake_acceptor();
    // Joins the threads of finished connections (all of them with `all`) and frees them.
    void reap(bool all);

    detail::ServerShared shared_;
    std::optional<Error> init_error_;
    base::UniqueFd accept_wake_;  // eventfd counter: connections ended, or stop
    std::atomic<bool> accept_stop_{false};
    std::vector<std::unique_ptr<Listener>> listeners_;

    mutable std::mutex mu_;
    std::condition_variable cv_;
    State state_ = State::kIdle;              // guarded by mu_
    std::map<uint64_t, Served> connections_;  // guarded by mu_
    std::vector<uint64_t> finished_;          // guarded by mu_
    size_t active_ = 0;                       // guarded by mu_
    uint64_t next_id_ = 1;                    // guarded by mu_

    std::jthread acceptor_;
};

Server::Impl::Impl(ServerOptions options, base::Logger log)
    : shared_{.options = options, .log = std::move(log)} {
    auto init = [&]() -> Result<void> {
        GROVE_ASSIGN_OR_RETURN(shared_.idle_stop, detail::WakeSignal::create());
        GROVE_ASSIGN_OR_RETURN(shared_.force_stop, detail::WakeSignal::create());
        GROVE_ASSIGN_OR_RETURN(shared_.monitor, detail::HangupMonitor::create());
        const int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (fd < 0) {
            return base::last_errno_error("eventfd");
        }
        accept_wake_.reset(fd);
        return {};
    };
    if (auto result = init(); !result) {
        init_error_ = std::move(result).error();
    }
}

Result<ListenerInfo> Server::Impl::add_listener(Result<detail::ListenSocket> socket,
                                                Router router) {
    GROVE_ASSIGN_OR_RETURN(detail::ListenSocket listen_socket, std::move(socket));
    {
        const std::lock_guard lock(mu_);
        if (state_ != State::kIdle) {
            return Error(Code::kFailedPrecondition, "listeners must be added before start()");
        }
    }
    const ListenerInfo info = listen_socket.info();
    listeners_.push_back(std::make_unique<Listener>(
        Listener{.socket = std::move(listen_socket), .router = std::move(router)}));
    shared_.log.info("http listening", {{"address", info.address}});
    return info;
}

Result<void> Server::Impl::start() {
    if (init_error_) {
        return *init_error_;
    }
    const std::lock_guard lock(mu_);
    if (state_ != State::kIdle) {
        return Error(Code::kFailedPrecondition, "the server was already started");
    }
    if (listeners_.empty()) {
        return Error(Code::kFailedPrecondition, "the server has no listener");
    }
    state_ = State::kRunning;
    acceptor_ = std::jthread([this] { accept_loop(); });
    return {};
}

void Server::Impl::wake_acceptor() {
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(accept_wake_.get(), &one, sizeof(one));
}

void Server::Impl::accept_loop() {
    std::vector<Refused> refused;
    std::vector<pollfd> fds;
    while (!accept_stop_.load()) {
        fds.clear();
        fds.push_back({.fd = accept_wake_.get(), .events = POLLIN, .revents = 0});
        for (const auto& listener : listeners_) {
            fds.push_back({.fd = listener->socket->fd(), .events = POLLIN, .revents = 0});
        }
        std::optional<Clock::time_point> next_deadline;
        for (const Refused& r : refused) {
            fds.push_back({.fd = r.fd.get(), .events = POLLIN, .revents = 0});
            if (!next_deadline || r.deadline < *next_deadline) {
                next_deadline = r.deadline;
            }
        }
        int timeout = -1;
        if (next_deadline) {
            const auto left =
                std::chrono::ceil<std::chrono::milliseconds>(*next_deadline - Clock::now());
            timeout = static_cast<int>(std::clamp<int64_t>(left.count(), 0, 60'000));
        }
        if (::poll(fds.data(), fds.size(), timeout) < 0 && errno != EINTR) {
            shared_.log.error("http acceptor: poll failed", {{"errno", errno}});
            break;
        }
        if (fds[0].revents != 0) {
            uint64_t count = 0;
            [[maybe_unused]] const ssize_t n = ::read(accept_wake_.get(), &count, sizeof(count));
        }
        reap(false);
        if (accept_stop_.load()) {
            break;
        }
        for (size_t i = 0; i < listeners_.size(); ++i) {
            if (fds[1 + i].revents != 0) {
                accept_from(*listeners_[i], refused);
            }
        }
        // Refused connections: drop their input until EOF or their deadline. The ones refused
        // in this round were not polled and are at the end of the vector.
        const size_t first_refused = 1 + listeners_.size();
        const auto now = Clock::now();
        for (size_t i = 0; first_refused + i < fds.size() && i < refused.size(); ++i) {
            if (fds[first_refused + i].revents == 0) {
                continue;
            }
            std::array<char, 4096> scratch{};
            const ssize_t n =
                ::recv(refused[i].fd.get(), scratch.data(), scratch.size(), MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                refused[i].deadline = now;  // the client closed: done
            }
        }
        std::erase_if(refused, [&](const Refused& r) { return r.deadline <= now; });
    }
}

void Server::Impl::accept_from(Listener& listener, std::vector<Refused>& refused) {
    for (int i = 0; i < kAcceptBurst; ++i) {
        auto accepted = listener.socket->accept();
        if (!accepted) {
            shared_.log.warn("http accept failed", {{"error", accepted.error().to_string()}});
            // EMFILE and friends leave the listener readable: rest instead of spinning.
            std::this_thread::sleep_for(kAcceptPause);
            return;
        }
        if (!*accepted) {
            return;
        }
        detail::ListenSocket::Accepted& conn = **accepted;
        std::unique_lock lock(mu_);
        if (active_ >= shared_.options.max_connections) {
            lock.unlock();
            refuse(std::move(conn.fd), listener.router, refused);
            continue;
        }
        const uint64_t id = next_id_++;
        auto connection = std::make_unique<detail::Connection>(
            shared_, listener.router, id, std::move(conn.fd), std::move(conn.peer));
        detail::Connection* raw = connection.get();
        Served& served = connections_[id];
        served.connection = std::move(connection);
        try {
            served.thread = std::jthread([this, raw] { run_connection(raw); });
        } catch (const std::system_error& e) {
            // No thread to serve it (RLIMIT_NPROC, memory): the connection is closed unanswered.
            connections_.erase(id);
            lock.unlock();
            shared_.log.error("http: cannot start a connection thread", {{"error", e.what()}});
            return;
        }
        ++active_;
    }
}

void Server::Impl::refuse(base::UniqueFd fd, const Router& router, std::vector<Refused>& refused) {
    Response response =
        detail::render_error_with(router.options(), 503, "too many connections; retry later");
    response.headers.set("Content-Length", std::to_string(response.body.size()));
    response.headers.set("Connection", "close");
    if (auto head = detail::format_head(503, reason_phrase(503), response.headers)) {
        const std::string text = *head + response.body;
        // Best effort: a fresh socket's buffer takes a small response whole.
        [[maybe_unused]] const ssize_t n =
            ::send(fd.get(), text.data(), text.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    ::shutdown(fd.get(), SHUT_WR);
    shared_.log.warn("http connection refused: too many connections",
                     {{"max_connections", shared_.options.max_connections}});
    if (refused.size() < kMaxRefusedLingering) {
        refused.push_back({.fd = std::move(fd), .deadline = Clock::now() + kRefusedLinger});
    }
}

void Server::Impl::run_connection(detail::Connection* connection) {
    connection->run();
    const uint64_t id = connection->id();
    {
        const std::lock_guard lock(mu_);
        --active_;
        finished_.push_back(id);
    }
    cv_.notify_all();
    wake_acceptor();
}

void Server::Impl::reap(bool all) {
    std::vector<Served> done;
    {
        const std::lock_guard lock(mu_);
        if (all) {
            for (auto& [id, served] : connections_) {
                done.push_back(std::move(served));
            }
            connections_.clear();
        } else {
            for (const uint64_t id : finished_) {
                if (const auto it = connections_.find(id); it != connections_.end()) {
                    done.push_back(std::move(it->second));
                    connections_.erase(it);
                }
            }
        }
        finished_.clear();
    }
    for (Served& served : done) {
        if (served.thread.joinable()) {
            served.thread.join();
        }
    }
}

void Server::Impl::shutdown(std::chrono::milliseconds grace) {
    {
        const std::lock_guard lock(mu_);
        if (state_ == State::kStopped) {
            return;
        }
        state_ = State::kStopped;
    }
    const auto deadline = Clock::now() + grace;
    if (shared_.idle_stop) {
        shared_.idle_stop->signal();  // idle connections close; responses say Connection: close
    }
    accept_stop_.store(true);
    if (accept_wake_) {
        wake_acceptor();
    }
    if (acceptor_.joinable()) {
        acceptor_.join();
    }
    for (auto& listener : listeners_) {
        listener->socket.reset();  // new connections are refused from here on
    }

    std::vector<std::stop_source> to_stop;
    {
        std::unique_lock lock(mu_);
        cv_.wait_until(lock, deadline, [&] { return active_ == 0; });
        if (active_ > 0) {
            shared_.log.warn("http shutdown: grace period over, cancelling requests",
                             {{"connections", active_}});
            for (auto& [id, served] : connections_) {
                to_stop.push_back(served.connection->stop_source());
            }
        }
    }
    if (!to_stop.empty()) {
        shared_.force_stop->signal();  // every socket wait fails from now on
        for (std::stop_source& source : to_stop) {
            source.request_stop();
        }
        std::unique_lock lock(mu_);
        while (!cv_.wait_for(lock, std::chrono::seconds(10), [&] { return active_ == 0; })) {
            shared_.log.warn("http shutdown: waiting for handlers to return",
                             {{"connections", active_}});
        }
    }
    reap(true);
    shared_.log.info("http server stopped");
}

size_t Server::Impl::active_connections() const {
    const std::lock_guard lock(mu_);
    return active_;
}

// ---------------------------------------------------------------------------------------------

Server::Server(ServerOptions options, base::Logger log)
    : impl_(std::make_unique<Impl>(options, std::move(log))) {}

Server::~Server() {
    impl_->shutdown(std::chrono::milliseconds(0));
}

Result<ListenerInfo> Server::listen_unix(UnixListenerOptions options, Router router) {
    GROVE_TRY(router.validate());
    return impl_->add_listener(detail::ListenSocket::unix_socket(options), std::move(router));
}

Result<ListenerInfo> Server::listen_tcp(TcpListenerOptions options, Router router) {
    GROVE_TRY(router.validate());
    return impl_->add_listener(detail::ListenSocket::tcp_socket(options), std::move(router));
}

Result<void> Server::start() {
    return impl_->start();
}

void Server::shutdown(std::chrono::milliseconds grace) {
    impl_->shutdown(grace);
}

size_t Server::active_connections() const {
    return impl_->active_connections();
}

}  // namespace grove::http
