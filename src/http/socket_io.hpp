#pragma once

// Blocking-style I/O on a non-blocking socket: every wait is a poll() bounded by a deadline and
// interruptible by a WakeSignal, so a connection thread never blocks where shutdown cannot
// reach it. Writes use MSG_NOSIGNAL (no SIGPIPE); a peer that went away is a Cancelled error.

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include <grove/result.hpp>

#include "base/unique_fd.hpp"

namespace grove::http::detail {

using Clock = std::chrono::steady_clock;

// An eventfd that stays readable once signalled, waking every poll() that includes it.
class WakeSignal {
public:
    static Result<std::shared_ptr<WakeSignal>> create();

    void signal();
    bool signalled() const { return signalled_.load(std::memory_order_acquire); }
    int fd() const { return fd_.get(); }

private:
    explicit WakeSignal(base::UniqueFd fd) : fd_(std::move(fd)) {}

    base::UniqueFd fd_;
    std::atomic<bool> signalled_{false};
};

class SocketIo {
public:
    // `cancel` (the server's forced shutdown) fails every wait once signalled. It is shared
    // because a hijacked stream may outlive the connection that created it.
    SocketIo(base::UniqueFd fd, std::shared_ptr<const WakeSignal> cancel);

    // Reads at least one byte, or returns 0 at EOF. DeadlineExceeded at `deadline` (none: no
    // limit), Cancelled when `cancel` fires or the peer reset the connection.
    Result<size_t> read_some(std::span<char> out, std::optional<Clock::time_point> deadline);
    // Writes every part, in order, in as few syscalls as the socket allows; each wait for
    // buffer space is bounded by `timeout` (a client that stops reading is dropped).
    Result<void> write_all(std::span<const std::string_view> parts,
                           std::chrono::milliseconds timeout);
    Result<void> write_all(std::string_view data, std::chrono::milliseconds timeout) {
        return write_all(std::span<const std::string_view>(&data, 1), timeout);
    }

    enum class Ready { kReadable, kTimeout, kWoken };
    // Waits until the socket is readable (data or EOF), `deadline` passes, or `wake` or the
    // cancel signal fires.
    Ready wait_readable(Clock::time_point deadline, const WakeSignal* wake);

    // shutdown(2); errors (the peer already gone) are ignored.
    void shutdown(int how);
    int fd() const { return fd_.get(); }
    // Gives up the socket, switched back to blocking mode.
    base::UniqueFd release();
    // Closes the socket now.
    void close() { fd_.reset(); }
    const std::shared_ptr<const WakeSignal>& cancel_signal() const { return cancel_; }

private:
    // poll() for `events` until `deadline`; kWoken when `wake` or `cancel_` fired.
    Ready wait(short events, std::optional<Clock::time_point> deadline, const WakeSignal* wake);

    base::UniqueFd fd_;
    std::shared_ptr<const WakeSignal> cancel_;
};

}  // namespace grove::http::detail
