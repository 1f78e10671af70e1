#pragma once

// UniqueFd owns one file descriptor (the shape of seastar's file_desc): move-only, closes on
// destruction, never retries close() on EINTR (on Linux the fd is released even then).
// A parameter of type `int` borrows an fd; `UniqueFd&&` takes ownership. Every factory opens
// with O_CLOEXEC and reports errno with the syscall's name and arguments.

#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <utility>

#include <grove/result.hpp>

namespace grove::base {

class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept {
        if (this != &other) {
            reset(other.release());
        }
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd() { reset(); }

    int get() const { return fd_; }
    bool valid() const { return fd_ >= 0; }
    explicit operator bool() const { return valid(); }

    // Gives up ownership without closing.
    [[nodiscard]] int release() { return std::exchange(fd_, -1); }
    // Closes the owned fd (if any) and owns `fd` instead.
    void reset(int fd = -1);

    Result<UniqueFd> dup() const;

    // openat(dirfd, path, flags | O_CLOEXEC, mode). `dirfd` may be AT_FDCWD.
    static Result<UniqueFd> open_at(int dirfd, const std::string& path, int flags, mode_t mode = 0);
    static Result<UniqueFd> open(const std::string& path, int flags, mode_t mode = 0);
    // An anonymous memory file (memfd_create with MFD_CLOEXEC).
    static Result<UniqueFd> memfd(const std::string& name);
    // A pidfd for `pid` (pidfd_open), so signals never reach a recycled pid.
    static Result<UniqueFd> pidfd_open(pid_t pid);

private:
    int fd_ = -1;
};

struct Pipe {
    UniqueFd read;
    UniqueFd write;

    // pipe2 with O_CLOEXEC; `flags` may add O_NONBLOCK or O_DIRECT.
    static Result<Pipe> create(int flags = 0);
};

struct SocketPair {
    std::array<UniqueFd, 2> ends;

    // socketpair(AF_UNIX, type | SOCK_CLOEXEC); `type` is SOCK_STREAM or SOCK_SEQPACKET.
    static Result<SocketPair> create(int type);
};

// Waits until `fd` polls readable (a pidfd does once its process exited): true when it does,
// false when `timeout` passes first; no timeout waits for ever. Retries EINTR.
Result<bool> wait_readable(int fd, std::optional<std::chrono::milliseconds> timeout);

// Reads until EOF or `limit` bytes, retrying EINTR.
Result<std::string> read_all(int fd, size_t limit = static_cast<size_t>(-1));
// Writes all of `data`, retrying EINTR and short writes.
Result<void> write_all(int fd, std::string_view data);

}  // namespace grove::base
