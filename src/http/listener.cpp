#include "http/listener.hpp"

#include <arpa/inet.h>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <system_error>
#include <unistd.h>

#include <fmt/format.h>

#include "base/error.hpp"

namespace grove::http::detail {
namespace fs = std::filesystem;
namespace {

Result<sockaddr_un> unix_address(const fs::path& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string& s = path.native();
    if (s.size() >= sizeof(addr.sun_path)) {
        return base::make_error(Code::kInvalidArgument,
                                "unix socket path '{}' is longer than {} bytes", s,
                                sizeof(addr.sun_path) - 1);
    }
    std::memcpy(addr.sun_path, s.c_str(), s.size() + 1);
    return addr;
}

const sockaddr* as_sockaddr(const sockaddr_un& addr) {
    return reinterpret_cast<const sockaddr*>(&addr);  // NOLINT: the sockets API
}

Result<base::UniqueFd> unix_stream_socket() {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        return base::last_errno_error("socket(AF_UNIX)");
    }
    return base::UniqueFd(fd);
}

// An existing file at `path`: a socket nobody accepts on is removed; anything else is an error.
Result<void> remove_stale_socket(const fs::path& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) {
            return {};
        }
        return base::last_errno_error("stat '{}'", path.native());
    }
    if (!S_ISSOCK(st.st_mode)) {
        return base::make_error(Code::kFailedPrecondition, "'{}' exists and is not a socket",
                                path.native());
    }
    GROVE_ASSIGN_OR_RETURN(const sockaddr_un addr, unix_address(path));
    const int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe < 0) {
        return base::last_errno_error("socket(AF_UNIX)");
    }
    const base::UniqueFd probe_fd(probe);
    if (::connect(probe, as_sockaddr(addr), sizeof(addr)) == 0) {
        return base::make_error(Code::kAlreadyExists, "another server is listening on '{}'",
                                path.native());
    }
    const int err = errno;
    if (err != ECONNREFUSED) {
        return base::errno_error(err, "probe socket '{}'", path.native());
    }
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        return base::last_errno_error("remove stale socket '{}'", path.native());
    }
    return {};
}

// Unique among the process's listeners, and among processes by the pid.
std::string temp_suffix() {
    static std::atomic<unsigned> counter{0};
    return fmt::format("{}-{}", ::getpid(), counter.fetch_add(1));
}

std::string format_address(const sockaddr_storage& ss) {
    std::array<char, INET6_ADDRSTRLEN> text{};
    if (ss.ss_family == AF_INET) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(&ss);  // NOLINT: sockets API
        ::inet_ntop(AF_INET, &in->sin_addr, text.data(), text.size());
        return fmt::format("{}:{}", text.data(), ntohs(in->sin_port));
    }
    if (ss.ss_family == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&ss);  // NOLINT: sockets API
        ::inet_ntop(AF_INET6, &in6->sin6_addr, text.data(), text.size());
        return fmt::format("[{}]:{}", text.data(), ntohs(in6->sin6_port));
    }
    return "unknown";
}

uint16_t port_of(const sockaddr_storage& ss) {
    if (ss.ss_family == AF_INET) {
        return ntohs(reinterpret_cast<const sockaddr_in*>(&ss)->sin_port);  // NOLINT
    }
    if (ss.ss_family == AF_INET6) {
        return ntohs(reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_port);  // NOLINT
    }
    return 0;
}

}  // namespace

Result<ListenSocket> ListenSocket::unix_socket(const UnixListenerOptions& options) {
    const fs::path& path = options.path;
    if (path.empty() || !path.has_filename()) {
        return base::make_error(Code::kInvalidArgument, "bad unix socket path '{}'", path.native());
    }
    GROVE_ASSIGN_OR_RETURN(const sockaddr_un addr, unix_address(path));
    std::error_code ec;
    if (path.has_parent_path()) {
        fs::create_directories(path.parent_path(), ec);
        if (ec) {
            return base::errno_error(ec.value(), "create directory '{}'",
                                     path.parent_path().native());
        }
    }
    GROVE_TRY(remove_stale_socket(path));

    // Bind under a temporary name, set mode and group, then rename into place: the socket
    // never appears at `path` with the wrong permissions (umask is process-wide, so it cannot
    // be changed around bind() in a threaded daemon).
    GROVE_ASSIGN_OR_RETURN(base::UniqueFd fd, unix_stream_socket());
    const fs::path temp = path.parent_path() / (".grove-" + temp_suffix() + ".sock");
    auto temp_addr = unix_address(temp);
    const bool via_temp = temp_addr.has_value();
    const fs::path& bind_path = via_temp ? temp : path;
    const sockaddr_un& bind_addr = via_temp ? *temp_addr : addr;
    if (::bind(fd.get(), as_sockaddr(bind_addr), sizeof(bind_addr)) != 0) {
        return base::last_errno_error("bind '{}'", bind_path.native());
    }
    auto unlink_temp = [&] {
        ::unlink(bind_path.c_str());
    };
    if (::chmod(bind_path.c_str(), options.mode) != 0) {
        Error error = base::last_errno_error("chmod '{}'", bind_path.native());
        unlink_temp();
        return error;
    }
    if (options.group && ::lchown(bind_path.c_str(), static_cast<uid_t>(-1), *options.group) != 0) {
        Error error =
            base::last_errno_error("chown '{}' to group {}", bind_path.native(), *options.group);
        unlink_temp();
        return error;
    }
    if (::listen(fd.get(), SOMAXCONN) != 0) {
        Error error = base::last_errno_error("listen on '{}'", bind_path.native());
        unlink_temp();
        return error;
    }
    if (via_temp && ::rename(temp.c_str(), path.c_str()) != 0) {
        Error error = base::last_errno_error("rename '{}' to '{}'", temp.native(), path.native());
        unlink_temp();
        return error;
    }
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        return base::last_errno_error("stat '{}'", path.native());
    }
    ListenSocket socket;
    socket.fd_ = std::move(fd);
    socket.info_ = ListenerInfo{.transport = Transport::kUnix, .address = path.native()};
    socket.path_ = path;
    socket.dev_ = st.st_dev;
    socket.ino_ = st.st_ino;
    return socket;
}

Result<ListenSocket> ListenSocket::tcp_socket(const TcpListenerOptions& options) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(options.port);
    const int rc = ::getaddrinfo(options.host.empty() ? nullptr : options.host.c_str(),
                                 port.c_str(), &hints, &found);
    if (rc != 0) {
        return base::make_error(Code::kInvalidArgument, "resolve '{}': {}", options.host,
                                ::gai_strerror(rc));
    }
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, &::freeaddrinfo);
    std::optional<Error> last_error;
    for (const addrinfo* ai = list.get(); ai != nullptr; ai = ai->ai_next) {
        const int raw = ::socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (raw < 0) {
            last_error = base::last_errno_error("socket");
            continue;
        }
        base::UniqueFd fd(raw);
        const int one = 1;
        ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (::bind(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0) {
            last_error = base::last_errno_error("bind {}:{}", options.host, options.port);
            continue;
        }
        if (::listen(fd.get(), SOMAXCONN) != 0) {
            last_error = base::last_errno_error("listen on {}:{}", options.host, options.port);
            continue;
        }
        sockaddr_storage bound{};
        socklen_t len = sizeof(bound);
        if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &len) != 0) {  // NOLINT
            return base::last_errno_error("getsockname");
        }
        ListenSocket socket;
        socket.fd_ = std::move(fd);
        socket.info_ = ListenerInfo{
            .transport = Transport::kTcp, .address = format_address(bound), .port = port_of(bound)};
        return socket;
    }
    if (last_error) {
        return *std::move(last_error);
    }
    return base::make_error(Code::kInvalidArgument, "no address for '{}'", options.host);
}

ListenSocket::~ListenSocket() {
    if (!fd_ || !path_) {
        return;
    }
    struct stat st {};
    // A newer server may have replaced the file: remove it only if it is still ours.
    if (::lstat(path_->c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_) {
        ::unlink(path_->c_str());
    }
}

Result<std::optional<ListenSocket::Accepted>> ListenSocket::accept() const {
    for (;;) {
        sockaddr_storage addr{};
        socklen_t len = sizeof(addr);
        const int raw = ::accept4(fd_.get(), reinterpret_cast<sockaddr*>(&addr),  // NOLINT
                                  &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (raw < 0) {
            const int err = errno;
            if (err == EAGAIN || err == EWOULDBLOCK) {
                return std::optional<Accepted>();
            }
            // The connection died before it was accepted, or a signal came: try the next.
            if (err == EINTR || err == ECONNABORTED || err == EPROTO || err == EPERM) {
                continue;
            }
            return base::errno_error(err, "accept on '{}'", info_.address);
        }
        Accepted accepted{.fd = base::UniqueFd(raw)};
        accepted.peer.transport = info_.transport;
        if (info_.transport == Transport::kUnix) {
            accepted.peer.address = info_.address;
            ucred cred{};
            socklen_t cred_len = sizeof(cred);
            if (::getsockopt(raw, SOL_SOCKET, SO_PEERCRED, &cred, &cred_len) == 0) {
                accepted.peer.credentials =
                    PeerCredentials{.pid = cred.pid, .uid = cred.uid, .gid = cred.gid};
            }
        } else {
            accepted.peer.address = format_address(addr);
            // Frames are written as they are made; Nagle would hold small ones back.
            const int one = 1;
            ::setsockopt(raw, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        }
        return std::optional<Accepted>(std::move(accepted));
    }
}

}  // namespace grove::http::detail
