#include "network/port_proxy.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <list>
#include <map>
#include <memory>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include "base/error.hpp"

namespace grove::network {
namespace {

sockaddr_in socket_address(Ipv4 address, uint16_t port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(address.value);
    addr.sin_port = htons(port);
    return addr;
}

// Copies both ways until both sides are done, passing each half-close on.
void relay(base::UniqueFd client, Ipv4 target, uint16_t port) {
    base::UniqueFd upstream(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const auto addr = socket_address(target, port);
    if (!upstream.valid() ||
        ::connect(upstream.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
        return;  // closing the client tells it, as docker-proxy does
    }
    pollfd fds[2] = {{client.get(), POLLIN, 0}, {upstream.get(), POLLIN, 0}};
    const int peer[2] = {upstream.get(), client.get()};
    char buffer[65536];
    int open = 2;
    while (open > 0 && ::poll(fds, 2, -1) >= 0) {
        for (int i = 0; i < 2; ++i) {
            if (fds[i].revents == 0) {
                continue;
            }
            const ssize_t n = ::read(fds[i].fd, buffer, sizeof(buffer));
            if (n <= 0) {
                ::shutdown(peer[i], SHUT_WR);
                fds[i].fd = -1;  // poll skips it from now on
                --open;
                continue;
            }
            if (!base::write_all(peer[i], std::string_view(buffer, static_cast<size_t>(n)))) {
                return;
            }
        }
    }
}

[[noreturn]] void serve_tcp(int listener, Ipv4 target, uint16_t port) {
    struct Connection {
        std::shared_ptr<std::atomic<bool>> done = std::make_shared<std::atomic<bool>>(false);
        std::jthread thread;
    };
    std::list<Connection> connections;
    for (;;) {
        base::UniqueFd client(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
        connections.remove_if([](const Connection& c) { return c.done->load(); });  // joins
        if (client.valid()) {
            auto& c = connections.emplace_back();
            c.thread =
                std::jthread([fd = std::move(client), target, port, done = c.done]() mutable {
                    relay(std::move(fd), target, port);
                    done->store(true);
                });
        }
    }
}

// Each peer gets a socket connected to the container, so replies find their way back.
[[noreturn]] void serve_udp(int listener, Ipv4 target, uint16_t port) {
    std::map<std::string, base::UniqueFd> upstreams;
    std::list<std::jthread> repliers;
    const auto addr = socket_address(target, port);
    char buffer[65536];
    for (;;) {
        sockaddr_in from{};
        socklen_t from_len = sizeof(from);
        const ssize_t n = ::recvfrom(listener, buffer, sizeof(buffer), 0,
                                     reinterpret_cast<sockaddr*>(&from), &from_len);
        if (n < 0) {
            continue;
        }
        const std::string key(reinterpret_cast<const char*>(&from), from_len);
        auto it = upstreams.find(key);
        if (it == upstreams.end()) {
            base::UniqueFd upstream(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
            if (!upstream.valid() ||
                ::connect(upstream.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) !=
                    0) {
                continue;
            }
            const int fd = upstream.get();
            it = upstreams.emplace(key, std::move(upstream)).first;
            repliers.emplace_back([fd, listener, from] {
                char reply[65536];
                for (;;) {
                    const ssize_t got = ::recv(fd, reply, sizeof(reply), 0);
                    if (got >= 0) {
                        ::sendto(listener, reply, static_cast<size_t>(got), 0,
                                 reinterpret_cast<const sockaddr*>(&from), sizeof(from));
                    }
                }
            });
        }
        ::send(it->second.get(), buffer, static_cast<size_t>(n), 0);
    }
}

}  // namespace

Result<std::vector<base::UniqueFd>> bind_ports(std::vector<PortBinding>& bindings) {
    std::vector<base::UniqueFd> sockets;
    for (auto& binding : bindings) {
        const bool udp = binding.protocol == "udp";
        if (!udp && binding.protocol != "tcp") {
            return base::make_error(Code::kInvalidArgument, "unsupported protocol '{}'",
                                    binding.protocol);
        }
        const auto host_ip = binding.host_ip.empty() ? Ipv4{} : parse_ipv4(binding.host_ip);
        if (!host_ip) {
            return base::make_error(Code::kInvalidArgument, "bad host address '{}'",
                                    binding.host_ip);
        }
        base::UniqueFd sock(::socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0));
        if (!sock.valid()) {
            return base::last_errno_error("socket");
        }
        const int on = 1;
        ::setsockopt(sock.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
        auto addr = socket_address(*host_ip, binding.host_port);
        if (::bind(sock.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
            return base::last_errno_error("bind {}:{}/{}", to_string(*host_ip), binding.host_port,
                                          binding.protocol);
        }
        if (!udp && ::listen(sock.get(), 128) != 0) {
            return base::last_errno_error("listen on {}:{}", to_string(*host_ip),
                                          binding.host_port);
        }
        socklen_t len = sizeof(addr);
        ::getsockname(sock.get(), reinterpret_cast<sockaddr*>(&addr), &len);
        binding.host_port = ntohs(addr.sin_port);
        sockets.push_back(std::move(sock));
    }
    return sockets;
}

Result<pid_t> start_proxy(std::vector<base::UniqueFd> sockets,
                          const std::vector<PortBinding>& bindings,
                          Ipv4 target) {
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
        return base::last_errno_error("fork the port proxy");
    }
    if (pid > 0) {
        return pid;
    }
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) {
        ::_exit(0);
    }
    // Only the sockets and stderr: a copy of the caller's other fds (the pipe a shim reports
    // on, whose reader waits for its end; a container's stdin pipe; the shim's lock) would keep
    // them open after the caller closed them.
    const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    ::dup2(null, STDIN_FILENO);
    ::dup2(null, STDOUT_FILENO);
    std::vector<unsigned> keep;
    for (const auto& sock : sockets) {
        keep.push_back(static_cast<unsigned>(sock.get()));
    }
    std::sort(keep.begin(), keep.end());
    unsigned from = 3;
    for (const unsigned fd : keep) {
        if (fd > from) {
            ::close_range(from, fd - 1, 0);
        }
        from = fd + 1;
    }
    ::close_range(from, ~0U, 0);
    std::list<std::jthread> servers;
    for (size_t i = 0; i < sockets.size(); ++i) {
        const int fd = sockets[i].get();
        const uint16_t port = bindings[i].container_port;
        if (bindings[i].protocol == "udp") {
            servers.emplace_back([fd, target, port] { serve_udp(fd, target, port); });
        } else {
            servers.emplace_back([fd, target, port] { serve_tcp(fd, target, port); });
        }
    }
    for (;;) {
        ::pause();
    }
}

}  // namespace grove::network
