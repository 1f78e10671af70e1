// The bridge network through groved's Docker API, on the real kernel: published ports answer on
// the host's loopback (a fixed and a random port), containers reach the gateway and each other,
// inspect and `docker port` tell Docker's fields, removal leaves no veth or lease behind, and a
// groved killed with -9 and started again leaves a container's port working. All traffic stays
// on this machine: the tests only talk to 127.0.0.1 and the bridge's own subnet.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>

#include "docker_fixture.hpp"
#include "helpers/requirements.hpp"
#include "network/bridge_network.hpp"
#include "network/ipam.hpp"
#include "network/netlink.hpp"

namespace grove::testing {
namespace {

constexpr const char* kPage = "hello from grove's bridge";

// A port free on the host's loopback right now.
uint16_t free_port() {
    base::UniqueFd sock(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    EXPECT_EQ(::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::getsockname(sock.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);
    return ntohs(addr.sin_port);
}

// GET / from 127.0.0.1:port with a raw socket: the whole response, empty if none came.
std::string http_get(uint16_t port) {
    base::UniqueFd sock(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    timeval timeout{.tv_sec = 5, .tv_usec = 0};
    ::setsockopt(sock.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
        return "";
    }
    const std::string request = "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n";
    if (!base::write_all(sock.get(), request)) {
        return "";
    }
    return base::read_all(sock.get()).value_or("");
}

// Polls until the page comes (httpd starts after the container does).
std::string page_on(uint16_t port) {
    std::string got;
    for (int i = 0; i < 100 && got.find(kPage) == std::string::npos; ++i) {
        got = http_get(port);
        if (got.find(kPage) == std::string::npos) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }
    return got;
}

class DockerNetworkTest : public DockerFixture {
protected:
    void SetUp() override {
        DockerFixture::SetUp();
        if (!IsSkipped()) {
            GROVE_REQUIRE(missing_file(kDockerCli, "docker.io"));
            GROVE_REQUIRE(missing_programs({"iptables"}));
        }
    }

    std::string inspect(const std::string& name, const std::string& format) {
        std::string out = docker_ok({"inspect", "--format", format, name});
        while (!out.empty() && out.back() == '\n') {
            out.pop_back();
        }
        return out;
    }

    // A busybox httpd serving kPage on the container's port 80.
    std::string run_web(const std::string& name, const std::vector<std::string>& publish) {
        std::vector<std::string> args{"run", "-d", "--name", name};
        for (const auto& p : publish) {
            args.insert(args.end(), {"-p", p});
        }
        args.insert(args.end(), {"busybox", "sh", "-c",
                                 std::string("mkdir -p /www && echo \"") + kPage +
                                     "\" > /www/index.html && exec httpd -f -p 80 -h /www"});
        std::string id = docker_ok(args);
        while (!id.empty() && id.back() == '\n') {
            id.pop_back();
        }
        return id;
    }
};

TEST_F(DockerNetworkTest, ROOT_PublishedPortsServeTheContainerOnLoopback) {
    GROVE_REQUIRE(missing_root());
    const uint16_t port = free_port();
    const std::string id = run_web("web", {fmt::format("{}:80", port), "80"});
    EXPECT_NE(page_on(port).find(kPage), std::string::npos);

    // The random one: the kernel's choice, told by docker port and inspect.
    const std::string ports = docker_ok({"port", "web"});
    EXPECT_NE(ports.find(fmt::format("80/tcp -> 0.0.0.0:{}", port)), std::string::npos) << ports;
    const std::string random =
        inspect("web", "{{(index (index .NetworkSettings.Ports \"80/tcp\") 1).HostPort}}");
    ASSERT_FALSE(random.empty());
    EXPECT_NE(random, std::to_string(port));
    EXPECT_NE(page_on(static_cast<uint16_t>(std::stoi(random))).find(kPage), std::string::npos);

    // Docker's fields.
    const std::string ip = inspect("web", "{{.NetworkSettings.IPAddress}}");
    const auto address = network::parse_ipv4(ip);
    ASSERT_TRUE(address) << ip;
    const std::string gateway = inspect("web", "{{.NetworkSettings.Gateway}}");
    EXPECT_EQ(inspect("web", "{{.NetworkSettings.IPPrefixLen}}"), "16");
    EXPECT_EQ(inspect("web", "{{.NetworkSettings.MacAddress}}"), network::mac_for(*address));
    EXPECT_EQ(inspect("web", "{{.NetworkSettings.Networks.bridge.IPAddress}}"), ip);
    EXPECT_EQ(inspect("web", "{{.NetworkSettings.Networks.bridge.Gateway}}"), gateway);
    EXPECT_EQ(inspect("web", "{{json .HostConfig.PortBindings}}"),
              fmt::format(
                  R"({{"80/tcp":[{{"HostIp":"","HostPort":"{}"}},{{"HostIp":"","HostPort":""}}]}})",
                  port));
    const std::string listed = docker_ok({"ps", "--format", "{{.Ports}}"});
    EXPECT_NE(listed.find(fmt::format("0.0.0.0:{}->80/tcp", port)), std::string::npos) << listed;
    EXPECT_NE(docker_ok({"exec", "web", "cat", "/etc/hosts"}).find(ip + "\t" + id.substr(0, 12)),
              std::string::npos);

    // The container reaches the gateway (the host, whose proxy listens there too), and a second
    // container reaches the first by its address.
    EXPECT_NE(docker_ok({"exec", "web", "wget", "-q", "-O", "-",
                         fmt::format("http://{}:{}/", gateway, port)})
                  .find(kPage),
              std::string::npos);
    EXPECT_NE(docker_ok({"run", "--rm", "busybox", "wget", "-q", "-O", "-",
                         fmt::format("http://{}:80/", ip)})
                  .find(kPage),
              std::string::npos);

    // A host port that is taken fails the start.
    const auto clash = docker(
        {"run", "-d", "--name", "clash", "-p", fmt::format("{}:80", port), "busybox", "true"});
    EXPECT_NE(clash.status.code, 0) << clash.out;
    EXPECT_NE(clash.err.find("in use"), std::string::npos) << clash.err;
    docker_ok({"rm", "-f", "clash"});

    // Stats count eth0's traffic.
    const auto stats = docker_call({.path = "/containers/web/stats?stream=0"});
    const auto json = base::parse_json(stats.body);
    ASSERT_TRUE(json) << stats.body;
    EXPECT_GT((*json)["networks"]["eth0"].value("rx_bytes", 0), 0) << stats.body;

    // Removal leaves no veth and no lease; the port is closed.
    docker_ok({"rm", "-f", "web"});
    auto host = network::Netlink::open();
    ASSERT_TRUE(host);
    EXPECT_FALSE(host->link(network::host_veth_name(id)));
    const auto leases =
        network::Ipam(std::filesystem::path(network::kDefaultNetworkDir) / "leases").leases();
    ASSERT_TRUE(leases);
    for (const auto& lease : *leases) {
        EXPECT_EQ(lease.owner.find(id), std::string::npos) << lease.owner;
    }
    EXPECT_EQ(http_get(port).find(kPage), std::string::npos);
}

// docker run -P publishes what the image exposes (its config's ExposedPorts, here from a commit
// with EXPOSE) and what --expose adds, each on a random host port, as dockerd merges the image's
// ExposedPorts into the container's.
TEST_F(DockerNetworkTest, ROOT_PublishAllPublishesTheImagesExposedPorts) {
    GROVE_REQUIRE(missing_root());
    docker_ok({"run", "--name", "exposer", "busybox", "true"});
    docker_ok({"commit", "--change", "EXPOSE 80", "exposer", "exposed:web"});
    docker_ok({"run", "-d", "--name", "all", "-P", "--expose", "81/udp", "exposed:web", "sh", "-c",
               std::string("mkdir -p /www && echo \"") + kPage +
                   "\" > /www/index.html && exec httpd -f -p 80 -h /www"});
    const std::string ports = docker_ok({"port", "all"});
    EXPECT_NE(ports.find("80/tcp -> 0.0.0.0:"), std::string::npos) << ports;
    EXPECT_NE(ports.find("81/udp -> 0.0.0.0:"), std::string::npos) << ports;
    EXPECT_EQ(inspect("all", "{{.HostConfig.PublishAllPorts}}"), "true");
    const std::string web =
        inspect("all", "{{(index (index .NetworkSettings.Ports \"80/tcp\") 0).HostPort}}");
    ASSERT_FALSE(web.empty());
    EXPECT_NE(page_on(static_cast<uint16_t>(std::stoi(web))).find(kPage), std::string::npos);

    // Without -P nothing is published.
    docker_ok({"run", "-d", "--name", "quiet", "exposed:web", "sleep", "30"});
    EXPECT_EQ(docker_ok({"port", "quiet"}), "");
    docker_ok({"rm", "-f", "all", "quiet", "exposer"});
    docker_ok({"rmi", "exposed:web"});
}

TEST_F(DockerNetworkTest, ROOT_NoneAndHostStayAsTheyWere) {
    GROVE_REQUIRE(missing_root());
    const std::string none =
        docker_ok({"run", "--rm", "--network", "none", "busybox", "cat", "/proc/net/dev"});
    EXPECT_EQ(none.find("eth0"), std::string::npos) << none;
    const std::string bridged = docker_ok({"run", "--rm", "busybox", "cat", "/proc/net/dev"});
    EXPECT_NE(bridged.find("eth0"), std::string::npos) << bridged;
    const auto networks = docker_call({.path = "/networks"});
    EXPECT_EQ(networks.status, 200);
    EXPECT_NE(networks.body.find(R"("Name":"bridge")"), std::string::npos) << networks.body;
    EXPECT_EQ(docker_ok({"network", "inspect", "--format", "{{.Driver}}", "none"}), "null\n");
}

TEST_F(DockerNetworkTest, ROOT_APortKeepsWorkingAcrossADaemonKilledAndRestarted) {
    GROVE_REQUIRE(missing_root());
    const uint16_t port = free_port();
    run_web("kept", {fmt::format("127.0.0.1:{}:80", port)});
    ASSERT_NE(page_on(port).find(kPage), std::string::npos);
    stop_daemon(SIGKILL);
    EXPECT_NE(page_on(port).find(kPage), std::string::npos);  // the shim serves it meanwhile
    start_daemon();
    EXPECT_NE(page_on(port).find(kPage), std::string::npos);
    EXPECT_EQ(inspect("kept", "{{(index (index .NetworkSettings.Ports \"80/tcp\") 0).HostIp}}"),
              "127.0.0.1");
    docker_ok({"rm", "-f", "kept"});
}

}  // namespace
}  // namespace grove::testing
