#include "unique_fd.hpp"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "error.hpp"

namespace grove::base {

void UniqueFd::reset(int fd) {
    if (fd_ >= 0) {
        ::close(fd_);
    }
    fd_ = fd;
}

Result<UniqueFd> UniqueFd::dup() const {
    const int fd = ::fcntl(fd_, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) {
        return last_errno_error("dup fd {}", fd_);
    }
    return UniqueFd(fd);
}

Result<UniqueFd> UniqueFd::open_at(int dirfd, const std::string& path, int flags, mode_t mode) {
    const int fd = ::openat(dirfd, path.c_str(), flags | O_CLOEXEC, mode);
    if (fd < 0) {
        return last_errno_error("open '{}'", path);
    }
    return UniqueFd(fd);
}

Result<UniqueFd> UniqueFd::open(const std::string& path, int flags, mode_t mode) {
    return open_at(AT_FDCWD, path, flags, mode);
}

Result<UniqueFd> UniqueFd::memfd(const std::string& name) {
    const int fd = ::memfd_create(name.c_str(), MFD_CLOEXEC);
    if (fd < 0) {
        return last_errno_error("memfd_create '{}'", name);
    }
    return UniqueFd(fd);
}

Result<UniqueFd> UniqueFd::pidfd_open(pid_t pid) {
    const long fd = ::syscall(SYS_pidfd_open, pid, 0);
    if (fd < 0) {
        return last_errno_error("pidfd_open {}", pid);
    }
    return UniqueFd(static_cast<int>(fd));
}

Result<Pipe> Pipe::create(int flags) {
    int fds[2];
    if (::pipe2(fds, flags | O_CLOEXEC) != 0) {
        return last_errno_error("pipe2");
    }
    return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

Result<SocketPair> SocketPair::create(int type) {
    int fds[2];
    if (::socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, fds) != 0) {
        return last_errno_error("socketpair");
    }
    return SocketPair{{UniqueFd(fds[0]), UniqueFd(fds[1])}};
}

Result<bool> wait_readable(int fd, std::optional<std::chrono::milliseconds> timeout) {
    const auto deadline =
        std::chrono::steady_clock::now() + timeout.value_or(std::chrono::milliseconds(0));
    pollfd pfd{fd, POLLIN, 0};
    for (;;) {
        int wait_ms = -1;
        if (timeout) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            wait_ms = static_cast<int>(std::max<int64_t>(0, left.count()));
        }
        const int ready = ::poll(&pfd, 1, wait_ms);
        if (ready >= 0) {
            return ready > 0;
        }
        if (errno != EINTR) {
            return last_errno_error("poll fd {}", fd);
        }
    }
}

Result<std::string> read_all(int fd, size_t limit) {
    std::string out;
    char buf[64 * 1024];
    while (out.size() < limit) {
        const size_t want = std::min(sizeof(buf), limit - out.size());
        const ssize_t n = ::read(fd, buf, want);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return last_errno_error("read fd {}", fd);
        }
        if (n == 0) {
            break;
        }
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

Result<void> write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return last_errno_error("write fd {}", fd);
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
    return {};
}

}  // namespace grove::base
