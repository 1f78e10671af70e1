// The bridge network on the real kernel, in a throwaway network namespace the test thread makes
// (iptables runs as its child, so in that namespace too): nothing touches the host's network.

#include <algorithm>
#include <fcntl.h>
#include <future>
#include <sched.h>

#include <gtest/gtest.h>

#include "base/child_process.hpp"
#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"
#include "helpers/requirements.hpp"
#include "network/bridge_network.hpp"
#include "network/netlink.hpp"

namespace grove::network {
namespace {

using grove::testing::missing_programs;
using grove::testing::missing_root;

constexpr const char* kThreadNetns = "/proc/thread-self/ns/net";

// Runs `fn` on a thread of its own inside a fresh network namespace.
template <typename F>
auto in_fresh_netns(F fn) {
    return std::async(std::launch::async,
                      [fn = std::move(fn)] {
                          EXPECT_EQ(::unshare(CLONE_NEWNET), 0);
                          return fn();
                      })
        .get();
}

// A namespace for a container, the thread staying where it is.
base::UniqueFd make_netns() {
    auto own = base::UniqueFd::open(kThreadNetns, O_RDONLY);
    EXPECT_EQ(::unshare(CLONE_NEWNET), 0);
    auto made = base::UniqueFd::open(kThreadNetns, O_RDONLY);
    EXPECT_EQ(::setns(own->get(), CLONE_NEWNET), 0);
    return std::move(*made);
}

std::vector<AddressInfo> addresses_in(int netns_fd) {
    auto own = base::UniqueFd::open(kThreadNetns, O_RDONLY);
    EXPECT_EQ(::setns(netns_fd, CLONE_NEWNET), 0);
    auto netlink = Netlink::open();
    EXPECT_EQ(::setns(own->get(), CLONE_NEWNET), 0);
    return *netlink->addresses();
}

std::string nat_rules() {
    auto out = base::run_command({.argv = {"iptables", "-w", "-t", "nat", "-S"}},
                                 std::chrono::milliseconds(10000));
    return out ? out->out : "";
}

// Each test runs in a fresh network namespace with a state directory of its own.
class BridgeNetworkTest : public ::testing::Test {
protected:
    void SetUp() override {
        GROVE_REQUIRE(missing_root());
        GROVE_REQUIRE(missing_programs({"iptables"}));
        auto made = base::TempDir::create("bridge");
        ASSERT_TRUE(made);
        dir_.emplace(std::move(*made));
    }
    const std::filesystem::path& dir() const { return dir_->path(); }

private:
    std::optional<base::TempDir> dir_;
};

TEST_F(BridgeNetworkTest, ROOT_AttachMakesTheBridgeVethAndAddressesAndTheLastDetachRemovesThem) {
    in_fresh_netns([&] {
        BridgeNetwork network({.dir = dir()});
        auto first_ns = make_netns();
        auto second_ns = make_netns();
        const std::string first(64, 'a');
        const std::string second(64, 'b');

        auto endpoint = network.attach(first, first_ns.get());
        ASSERT_TRUE(endpoint) << endpoint.error().to_string();
        EXPECT_EQ(to_string(endpoint->address), "172.31.0.2");
        EXPECT_EQ(to_string(endpoint->gateway), "172.31.0.1");
        EXPECT_EQ(endpoint->subnet.prefix, 16);
        EXPECT_EQ(endpoint->mac, "02:42:ac:1f:00:02");
        auto second_endpoint = network.attach(second, second_ns.get());
        ASSERT_TRUE(second_endpoint) << second_endpoint.error().to_string();
        EXPECT_EQ(to_string(second_endpoint->address), "172.31.0.3");

        auto host = Netlink::open();
        ASSERT_TRUE(host);
        const auto bridge = host->link(kBridgeName);
        ASSERT_TRUE(bridge);
        EXPECT_TRUE(bridge->up);
        const auto veth = host->link(host_veth_name(first));
        ASSERT_TRUE(veth);
        EXPECT_EQ(veth->master, bridge->index);
        const auto host_addresses = *host->addresses();
        EXPECT_TRUE(std::any_of(host_addresses.begin(), host_addresses.end(), [&](const auto& a) {
            return a.index == bridge->index && to_string(a.address) == "172.31.0.1";
        }));
        const auto inside = addresses_in(first_ns.get());
        EXPECT_TRUE(std::any_of(inside.begin(), inside.end(), [](const AddressInfo& a) {
            return to_string(a.address) == "172.31.0.2" && a.prefix == 16;
        }));
        EXPECT_NE(
            nat_rules().find("-A GROVE-POSTROUTING -s 172.31.0.0/16 ! -o grove0 -j MASQUERADE"),
            std::string::npos)
            << nat_rules();

        ASSERT_TRUE(network.detach(first));
        EXPECT_FALSE(host->link(host_veth_name(first)));
        EXPECT_TRUE(host->link(kBridgeName));  // the second container still uses it
        ASSERT_TRUE(network.detach(second));
        EXPECT_FALSE(host->link(kBridgeName));
        EXPECT_EQ(nat_rules().find("GROVE"), std::string::npos) << nat_rules();
        EXPECT_TRUE(Ipam(dir() / "leases").leases()->empty());
    });
}

TEST_F(BridgeNetworkTest, ROOT_DetachStaleReleasesTheLeasesOfRemovedContainers) {
    in_fresh_netns([&] {
        BridgeNetwork network({.dir = dir() / "network"});
        const auto live = dir() / "containers" / "live";
        const auto removed = dir() / "containers" / "removed";
        std::filesystem::create_directories(live);
        auto live_ns = make_netns();
        auto removed_ns = make_netns();
        ASSERT_TRUE(network.attach(live, live_ns.get()));
        ASSERT_TRUE(network.attach(removed, removed_ns.get()));
        ASSERT_TRUE(network.detach_stale());
        const auto leases = *Ipam(dir() / "network" / "leases").leases();
        ASSERT_EQ(leases.size(), 1U);
        EXPECT_EQ(leases[0].owner, live.string());
        EXPECT_FALSE(Netlink::open()->link(host_veth_name(removed)));
        std::filesystem::remove(live);
        ASSERT_TRUE(network.detach_stale());
        EXPECT_FALSE(Netlink::open()->link(kBridgeName));
    });
}

TEST_F(BridgeNetworkTest, ROOT_AHeldBridgeOutlivesItsLastContainerUntilTheHoldEnds) {
    in_fresh_netns([&] {
        BridgeNetwork network({.dir = dir()});
        auto held = network.hold();
        ASSERT_TRUE(held);
        std::optional<BridgeNetwork::Hold> hold(std::move(*held));
        auto ns = make_netns();
        ASSERT_TRUE(network.attach("one", ns.get()));
        ASSERT_TRUE(network.detach("one"));
        EXPECT_TRUE(Netlink::open()->link(kBridgeName));  // kept for the next container
        hold.reset();
        EXPECT_FALSE(Netlink::open()->link(kBridgeName));
        EXPECT_EQ(nat_rules().find("GROVE"), std::string::npos) << nat_rules();
    });
}

TEST_F(BridgeNetworkTest, ROOT_ASubnetOverlappingAHostRouteIsSkipped) {
    in_fresh_netns([&] {
        // A host route into 172.31.0.0/16: a bridge there would shadow it.
        auto host = Netlink::open();
        ASSERT_TRUE(host->add_bridge("taken0", 1500));
        const auto taken = host->link("taken0");
        ASSERT_TRUE(host->add_address(taken->index, *parse_ipv4("172.31.9.1"), 24));
        ASSERT_TRUE(host->set_up(taken->index));
        BridgeNetwork network({.dir = dir()});
        auto ns = make_netns();
        const auto endpoint = network.attach("one", ns.get());
        ASSERT_TRUE(endpoint) << endpoint.error().to_string();
        EXPECT_EQ(to_string(endpoint->subnet), "172.30.0.0/16");
        ASSERT_TRUE(network.detach("one"));
    });
}

}  // namespace
}  // namespace grove::network
