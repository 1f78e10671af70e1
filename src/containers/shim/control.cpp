#include "containers/shim/control.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <fmt/format.h>

#include "base/error.hpp"
#include "containers/shim/shim_config.hpp"

namespace grove::containers {

Result<base::UniqueFd> connect_shim(const std::filesystem::path& dir) {
    GROVE_ASSIGN_OR_RETURN(auto dir_fd, base::UniqueFd::open(dir, O_PATH | O_DIRECTORY));
    // Through the directory's fd: the socket's full path could pass sun_path's 108 bytes.
    const std::string path =
        fmt::format("/proc/self/fd/{}/{}", dir_fd.get(), ContainerPaths::kSocketName);
    base::UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!sock.valid()) {
        return base::last_errno_error("socket");
    }
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
    if (::connect(sock.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
        if (errno == ENOENT || errno == ECONNREFUSED) {
            return base::make_error(Code::kUnavailable, "the container's shim is not running");
        }
        return base::last_errno_error("connect to the shim of '{}'", dir.string());
    }
    return sock;
}

Result<std::string> shim_request(int fd, std::string_view request) {
    // send(MSG_NOSIGNAL): a shim that ends meanwhile must not kill the caller with SIGPIPE.
    const std::string sent = std::string(request) + "\n";
    if (::send(fd, sent.data(), sent.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(sent.size())) {
        if (errno == EPIPE || errno == ECONNRESET) {
            return base::make_error(Code::kUnavailable, "the shim ended during '{}'", request);
        }
        return base::last_errno_error("send '{}' to the shim", request);
    }
    const auto line = read_line(fd, 64 * 1024);
    if (!line) {
        if (errno != 0) {
            return base::last_errno_error("read the shim's reply");
        }
        return base::make_error(Code::kUnavailable, "the shim ended during '{}'", request);
    }
    if (*line == "ok" || line->starts_with("ok ")) {
        return line->size() > 3 ? line->substr(3) : std::string();
    }
    if (line->starts_with("err ")) {
        return base::make_error(Code::kFailedPrecondition, "{}", line->substr(4));
    }
    return base::make_error(Code::kInternal, "unexpected reply from the shim: '{}'", *line);
}

std::optional<std::string> read_line(int fd, size_t max) {
    std::string line;
    char buf[4096];
    while (line.size() < max) {
        errno = 0;
        const ssize_t peeked = ::recv(fd, buf, sizeof buf, MSG_PEEK);
        if (peeked < 0 && errno == EINTR) {
            continue;
        }
        if (peeked <= 0) {
            return std::nullopt;
        }
        const auto* end = static_cast<const char*>(std::memchr(buf, '\n', peeked));
        const size_t take = end != nullptr ? end - buf + 1 : static_cast<size_t>(peeked);
        // What was peeked is there to take: one stream reader, so nobody took it meanwhile.
        if (::recv(fd, buf, take, 0) != static_cast<ssize_t>(take)) {
            return std::nullopt;
        }
        if (end != nullptr) {
            line.append(buf, take - 1);
            return line;
        }
        line.append(buf, take);
    }
    return std::nullopt;
}

Result<std::string> shim_call(const std::filesystem::path& dir, std::string_view request) {
    GROVE_ASSIGN_OR_RETURN(auto fd, connect_shim(dir));
    return shim_request(fd.get(), request);
}

std::array<char, 8> frame_header(uint8_t stream, uint32_t length) {
    return {static_cast<char>(stream),
            0,
            0,
            0,
            static_cast<char>(length >> 24),
            static_cast<char>(length >> 16),
            static_cast<char>(length >> 8),
            static_cast<char>(length)};
}

}  // namespace grove::containers
