#include "flaky_proxy.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <charconv>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include "base/error.hpp"

namespace grove::testing {
namespace {

constexpr size_t kChunk = 64 << 10;

sockaddr_in loopback(uint16_t port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return addr;
}

// Connects to "127.0.0.1:PORT".
Result<base::UniqueFd> connect_to(const std::string& host_port) {
    const size_t colon = host_port.rfind(':');
    if (colon == std::string::npos || host_port.substr(0, colon) != "127.0.0.1") {
        return base::make_error(Code::kInvalidArgument, "upstream '{}' is not 127.0.0.1:PORT",
                                host_port);
    }
    base::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) {
        return base::last_errno_error("socket");
    }
    uint16_t port = 0;
    std::from_chars(host_port.data() + colon + 1, host_port.data() + host_port.size(), port);
    const sockaddr_in addr = loopback(port);
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
        return base::last_errno_error("connect to '{}'", host_port);
    }
    return fd;
}

// Sends all of `data`; false once the peer is gone. MSG_NOSIGNAL: no SIGPIPE in the test.
bool send_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
}

std::string lowercase(std::string text) {
    for (char& c : text) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c + 32);
        }
    }
    return text;
}

std::string without_range(const std::string& head) {
    std::string out;
    for (size_t start = 0; start < head.size();) {
        const size_t end = head.find("\r\n", start) + 2;
        const std::string line = head.substr(start, end - start);
        if (!lowercase(line).starts_with("range:")) {
            out += line;
        }
        start = end;
    }
    return out;
}

}  // namespace

Result<std::unique_ptr<FlakyProxy>> FlakyProxy::start(FlakyProxyOptions options) {
    base::UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!listener) {
        return base::last_errno_error("socket");
    }
    sockaddr_in addr = loopback(0);
    socklen_t len = sizeof(addr);
    if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(listener.get(), 64) != 0 ||
        ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        return base::last_errno_error("listen on a loopback port");
    }
    base::UniqueFd stop(::eventfd(0, EFD_CLOEXEC));
    if (!stop) {
        return base::last_errno_error("eventfd");
    }
    return std::make_unique<FlakyProxy>(Key(), std::move(options), std::move(listener),
                                        std::move(stop), ntohs(addr.sin_port));
}

FlakyProxy::FlakyProxy(
    Key /*key*/, FlakyProxyOptions options, base::UniqueFd listener, base::UniqueFd stop, int port)
    : options_(std::move(options)),
      listener_(std::move(listener)),
      stop_(std::move(stop)),
      host_(fmt::format("127.0.0.1:{}", port)) {
    acceptor_ = std::jthread([this] { accept_loop(); });
}

FlakyProxy::~FlakyProxy() {
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
        // Unblocks a worker stuck in send() to a client that stopped reading.
        for (int fd : live_) {
            ::shutdown(fd, SHUT_RDWR);
        }
    }
    // Wakes every poll(); an eventfd write of 1 cannot fail short of a bad fd.
    static_cast<void>(eventfd_write(stop_.get(), 1));
    acceptor_.join();
    std::vector<std::jthread> workers;
    {
        const std::lock_guard lock(mutex_);
        workers.swap(workers_);
    }
    // The workers join as `workers` goes out of scope, before the fds they use close.
}

std::vector<std::string> FlakyProxy::request_heads() const {
    const std::lock_guard lock(mutex_);
    return heads_;
}

void FlakyProxy::accept_loop() {
    for (;;) {
        pollfd fds[] = {{listener_.get(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            return;
        }
        if (fds[1].revents != 0) {
            return;
        }
        base::UniqueFd client(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!client) {
            continue;
        }
        const int index = connections_++;
        const std::lock_guard lock(mutex_);
        if (stopping_) {
            return;
        }
        workers_.emplace_back(
            [this, index, fd = std::move(client)]() mutable { serve(std::move(fd), index); });
    }
}

void FlakyProxy::serve(base::UniqueFd client, int index) {
    if (!track(client.get())) {
        return;
    }
    if (!options_.redirect_to.empty()) {
        redirect(client.get());
    } else if (auto upstream = connect_to(options_.upstream); upstream && track(upstream->get())) {
        forward(client.get(), upstream->get(), index < options_.flaky_connections);
        untrack(upstream->get());
    }
    untrack(client.get());
}

void FlakyProxy::forward(int client, int upstream, bool flaky) {
    std::string pending;  // request bytes short of a whole head
    uint64_t sent = 0;    // response bytes forwarded
    std::string buffer(kChunk, '\0');
    for (;;) {
        pollfd fds[] = {{client, POLLIN, 0}, {upstream, POLLIN, 0}, {stop_.get(), POLLIN, 0}};
        if (::poll(fds, 3, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            return;
        }
        if (fds[2].revents != 0) {
            return;
        }
        if (fds[0].revents != 0) {
            const ssize_t n = ::recv(client, buffer.data(), buffer.size(), 0);
            if (n <= 0) {
                return;
            }
            pending.append(buffer.data(), static_cast<size_t>(n));
            for (size_t end; (end = pending.find("\r\n\r\n")) != std::string::npos;) {
                const std::string head = pending.substr(0, end + 4);
                pending.erase(0, end + 4);
                record(head);
                if (!send_all(upstream, options_.strip_range ? without_range(head) : head)) {
                    return;
                }
            }
        }
        if (fds[1].revents != 0) {
            const ssize_t n = ::recv(upstream, buffer.data(), buffer.size(), 0);
            if (n <= 0) {
                return;
            }
            auto count = static_cast<uint64_t>(n);
            if (flaky) {
                count = std::min(count, options_.drop_after_bytes - sent);
            }
            if (!send_all(client, std::string_view(buffer.data(), count))) {
                return;
            }
            sent += count;
            if (flaky && sent >= options_.drop_after_bytes) {
                return;  // the caller closes the connection mid-response
            }
        }
    }
}

void FlakyProxy::redirect(int client) {
    std::string head;
    if (!read_head(client, head)) {
        return;
    }
    record(head);
    const size_t path_start = head.find(' ') + 1;
    const std::string path = head.substr(path_start, head.find(' ', path_start) - path_start);
    const std::string response =
        lowercase(head).find("\r\nauthorization:") == std::string::npos
            ? "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"flaky\"\r\n"
              "Content-Length: 0\r\nConnection: close\r\n\r\n"
            : fmt::format(
                  "HTTP/1.1 307 Temporary Redirect\r\nLocation: {}{}\r\n"
                  "Content-Length: 0\r\nConnection: close\r\n\r\n",
                  options_.redirect_to, path);
    static_cast<void>(send_all(client, response));
}

bool FlakyProxy::read_head(int fd, std::string& head) {
    std::string buffer(4096, '\0');
    for (;;) {
        if (const size_t end = head.find("\r\n\r\n"); end != std::string::npos) {
            head.resize(end + 4);
            return true;
        }
        pollfd fds[] = {{fd, POLLIN, 0}, {stop_.get(), POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            return false;
        }
        if (fds[1].revents != 0) {
            return false;
        }
        const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
        if (n <= 0) {
            return false;
        }
        head.append(buffer.data(), static_cast<size_t>(n));
    }
}

void FlakyProxy::record(const std::string& head) {
    const std::lock_guard lock(mutex_);
    heads_.push_back(head);
}

bool FlakyProxy::track(int fd) {
    const std::lock_guard lock(mutex_);
    if (stopping_) {
        return false;
    }
    live_.insert(fd);
    return true;
}

void FlakyProxy::untrack(int fd) {
    const std::lock_guard lock(mutex_);
    live_.erase(fd);
}

}  // namespace grove::testing
