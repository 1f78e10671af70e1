// The published ports' proxy on loopback, no root needed: a "container" is a socket of the test.

#include "network/port_proxy.hpp"

#include <csignal>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

namespace grove::network {
namespace {

const Ipv4 kLoopback{0x7f000001};

sockaddr_in loopback(uint16_t port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(kLoopback.value);
    addr.sin_port = htons(port);
    return addr;
}

// A socket bound on loopback (port 0: any) and its port.
std::pair<base::UniqueFd, uint16_t> bound(int type) {
    base::UniqueFd sock(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
    auto addr = loopback(0);
    EXPECT_EQ(::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    socklen_t len = sizeof(addr);
    ::getsockname(sock.get(), reinterpret_cast<sockaddr*>(&addr), &len);
    return {std::move(sock), ntohs(addr.sin_port)};
}

class PortProxyTest : public ::testing::Test {
protected:
    void TearDown() override {
        if (proxy_ > 0) {
            ::kill(proxy_, SIGKILL);
            ::waitpid(proxy_, nullptr, 0);
        }
    }

    // Publishes `port` of the "container" on a random loopback port; the host port.
    uint16_t publish(const std::string& protocol, uint16_t port) {
        std::vector<PortBinding> bindings{
            {.protocol = protocol, .container_port = port, .host_ip = "127.0.0.1", .host_port = 0}};
        auto sockets = bind_ports(bindings);
        EXPECT_TRUE(sockets) << sockets.error().to_string();
        EXPECT_NE(bindings[0].host_port, 0);
        auto pid = start_proxy(std::move(*sockets), bindings, kLoopback);
        EXPECT_TRUE(pid);
        proxy_ = *pid;
        return bindings[0].host_port;
    }

    pid_t proxy_ = 0;
};

TEST_F(PortProxyTest, RelaysTcpBothWaysWithHalfCloses) {
    auto [server, port] = bound(SOCK_STREAM);
    ASSERT_EQ(::listen(server.get(), 8), 0);
    const uint16_t host_port = publish("tcp", port);

    base::UniqueFd client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const auto addr = loopback(host_port);
    ASSERT_EQ(::connect(client.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0);
    ASSERT_TRUE(base::write_all(client.get(), "ping"));
    ::shutdown(client.get(), SHUT_WR);

    base::UniqueFd accepted(::accept4(server.get(), nullptr, nullptr, SOCK_CLOEXEC));
    ASSERT_TRUE(accepted.valid());
    EXPECT_EQ(base::read_all(accepted.get()).value_or(""), "ping");  // EOF passed on
    ASSERT_TRUE(base::write_all(accepted.get(), "pong"));
    accepted.reset();
    EXPECT_EQ(base::read_all(client.get()).value_or(""), "pong");
}

TEST_F(PortProxyTest, RelaysUdpRepliesToTheirSender) {
    auto [server, port] = bound(SOCK_DGRAM);
    const uint16_t host_port = publish("udp", port);

    auto [client, unused] = bound(SOCK_DGRAM);
    const auto addr = loopback(host_port);
    ASSERT_EQ(::sendto(client.get(), "ping", 4, 0, reinterpret_cast<const sockaddr*>(&addr),
                       sizeof(addr)),
              4);
    char buffer[16] = {};
    sockaddr_in from{};
    socklen_t from_len = sizeof(from);
    ASSERT_EQ(::recvfrom(server.get(), buffer, sizeof(buffer), 0,
                         reinterpret_cast<sockaddr*>(&from), &from_len),
              4);
    EXPECT_EQ(std::string(buffer, 4), "ping");
    ASSERT_EQ(
        ::sendto(server.get(), "pong", 4, 0, reinterpret_cast<const sockaddr*>(&from), from_len),
        4);
    ASSERT_EQ(::recv(client.get(), buffer, sizeof(buffer), 0), 4);
    EXPECT_EQ(std::string(buffer, 4), "pong");
}

TEST_F(PortProxyTest, ATakenPortFailsToBind) {
    auto [taken, port] = bound(SOCK_STREAM);
    ASSERT_EQ(::listen(taken.get(), 1), 0);
    std::vector<PortBinding> bindings{
        {.protocol = "tcp", .container_port = 80, .host_ip = "127.0.0.1", .host_port = port}};
    const auto sockets = bind_ports(bindings);
    ASSERT_FALSE(sockets);
    EXPECT_NE(sockets.error().to_string().find("in use"), std::string::npos)
        << sockets.error().to_string();
}

}  // namespace
}  // namespace grove::network
