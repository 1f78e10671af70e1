#include "http/socket_io.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <system_error>
#include <unistd.h>
#include <vector>

#include <fmt/format.h>

#include "base/error.hpp"

namespace grove::http::detail {
namespace {

int poll_timeout_ms(std::optional<Clock::time_point> deadline) {
    if (!deadline) {
        return -1;
    }
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now());
    return static_cast<int>(std::clamp<int64_t>(left.count(), 0, 60'000));
}

bool peer_gone(int err) {
    return err == EPIPE || err == ECONNRESET || err == ENOTCONN || err == ESHUTDOWN;
}

// A recv/send that failed with `err`: the client going away is a cancellation, not a fault.
Error io_error(int err, const char* what) {
    if (peer_gone(err)) {
        return Error(Code::kCancelled, "client went away: " + std::system_category().message(err),
                     err);
    }
    return base::errno_error(err, "{} client", what);
}

// The error for a wait that did not end with the socket ready; nullopt when it did.
std::optional<Error> wait_error(SocketIo::Ready ready, const char* what) {
    switch (ready) {
        case SocketIo::Ready::kReadable:
            return std::nullopt;
        case SocketIo::Ready::kTimeout:
            return Error(Code::kDeadlineExceeded, fmt::format("timed out {} client", what));
        case SocketIo::Ready::kWoken:
            break;
    }
    return Error(Code::kCancelled, "server is shutting down");
}

}  // namespace

Result<std::shared_ptr<WakeSignal>> WakeSignal::create() {
    const int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) {
        return base::last_errno_error("eventfd");
    }
    return std::shared_ptr<WakeSignal>(new WakeSignal(base::UniqueFd(fd)));  // NOLINT
}

void WakeSignal::signal() {
    signalled_.store(true, std::memory_order_release);
    const uint64_t one = 1;
    // The counter only has to become non-zero; EAGAIN (already huge) is as good as success.
    [[maybe_unused]] const ssize_t n = ::write(fd_.get(), &one, sizeof(one));
}

SocketIo::SocketIo(base::UniqueFd fd, std::shared_ptr<const WakeSignal> cancel)
    : fd_(std::move(fd)), cancel_(std::move(cancel)) {}

SocketIo::Ready SocketIo::wait(short events,
                               std::optional<Clock::time_point> deadline,
                               const WakeSignal* wake) {
    std::array<pollfd, 3> fds{};
    nfds_t count = 0;
    fds[count++] = {.fd = fd_.get(), .events = events, .revents = 0};
    if (cancel_) {
        fds[count++] = {.fd = cancel_->fd(), .events = POLLIN, .revents = 0};
    }
    if (wake != nullptr) {
        fds[count++] = {.fd = wake->fd(), .events = POLLIN, .revents = 0};
    }
    for (;;) {
        if ((cancel_ && cancel_->signalled()) || (wake != nullptr && wake->signalled())) {
            return Ready::kWoken;
        }
        const int n = ::poll(fds.data(), count, poll_timeout_ms(deadline));
        if (n < 0 && errno != EINTR) {
            return Ready::kWoken;  // cannot happen with valid fds; treat as cancellation
        }
        for (nfds_t i = 1; i < count; ++i) {
            if (fds[i].revents != 0) {
                return Ready::kWoken;
            }
        }
        if (n > 0 && fds[0].revents != 0) {
            return Ready::kReadable;
        }
        if (deadline && Clock::now() >= *deadline) {
            return Ready::kTimeout;
        }
    }
}

SocketIo::Ready SocketIo::wait_readable(Clock::time_point deadline, const WakeSignal* wake) {
    return wait(POLLIN | POLLRDHUP, deadline, wake);
}

Result<size_t> SocketIo::read_some(std::span<char> out, std::optional<Clock::time_point> deadline) {
    for (;;) {
        const ssize_t n = ::recv(fd_.get(), out.data(), out.size(), MSG_DONTWAIT);
        if (n >= 0) {
            return static_cast<size_t>(n);
        }
        const int err = errno;
        if (err == EINTR) {
            continue;
        }
        if (err != EAGAIN && err != EWOULDBLOCK) {
            return io_error(err, "reading from");
        }
        if (auto error = wait_error(wait(POLLIN | POLLRDHUP, deadline, nullptr), "reading from")) {
            return *error;
        }
    }
}

Result<void> SocketIo::write_all(std::span<const std::string_view> parts,
                                 std::chrono::milliseconds timeout) {
    std::vector<iovec> iov;
    iov.reserve(parts.size());
    for (std::string_view part : parts) {
        if (!part.empty()) {
            iov.push_back(
                {.iov_base = const_cast<char*>(part.data()),  // NOLINT: iovec is not const
                 .iov_len = part.size()});
        }
    }
    size_t first = 0;
    while (first < iov.size()) {
        msghdr msg{};
        msg.msg_iov = iov.data() + first;
        msg.msg_iovlen = std::min<size_t>(iov.size() - first, IOV_MAX);
        const ssize_t n = ::sendmsg(fd_.get(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            const int err = errno;
            if (err == EINTR) {
                continue;
            }
            if (err != EAGAIN && err != EWOULDBLOCK) {
                return io_error(err, "writing to");
            }
            if (auto error =
                    wait_error(wait(POLLOUT, Clock::now() + timeout, nullptr), "writing to")) {
                return *error;
            }
            continue;
        }
        auto written = static_cast<size_t>(n);
        while (first < iov.size() && written >= iov[first].iov_len) {
            written -= iov[first].iov_len;
            ++first;
        }
        if (written > 0) {
            iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + written;
            iov[first].iov_len -= written;
        }
    }
    return {};
}

void SocketIo::shutdown(int how) {
    if (fd_) {
        ::shutdown(fd_.get(), how);
    }
}

base::UniqueFd SocketIo::release() {
    if (fd_) {
        const int flags = ::fcntl(fd_.get(), F_GETFL);
        if (flags >= 0) {
            ::fcntl(fd_.get(), F_SETFL, flags & ~O_NONBLOCK);
        }
    }
    return std::move(fd_);
}

}  // namespace grove::http::detail
