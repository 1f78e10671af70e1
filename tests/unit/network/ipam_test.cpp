#include "network/ipam.hpp"

#include <gtest/gtest.h>

#include "base/temp_dir.hpp"

namespace grove::network {
namespace {

const Subnet kSubnet = *parse_subnet("10.9.0.0/29");  // hosts .2 to .6 after the gateway

TEST(Ipam, HandsOutTheLowestFreeAddressOncePerOwner) {
    auto dir = base::TempDir::create("ipam");
    ASSERT_TRUE(dir);
    Ipam ipam(dir->path() / "leases");
    EXPECT_EQ(to_string(*ipam.allocate(kSubnet, "a")), "10.9.0.2");
    EXPECT_EQ(to_string(*ipam.allocate(kSubnet, "b")), "10.9.0.3");
    EXPECT_EQ(to_string(*ipam.allocate(kSubnet, "a")), "10.9.0.2");  // already held
    ASSERT_TRUE(ipam.release("a"));
    EXPECT_EQ(to_string(*ipam.allocate(kSubnet, "c")), "10.9.0.2");
}

TEST(Ipam, LeasesOutliveTheObjectSoARestartDoesNotReuseThem) {
    auto dir = base::TempDir::create("ipam");
    ASSERT_TRUE(dir);
    ASSERT_TRUE(Ipam(dir->path() / "leases").allocate(kSubnet, "a"));
    Ipam again(dir->path() / "leases");
    EXPECT_EQ(to_string(*again.allocate(kSubnet, "b")), "10.9.0.3");
    const auto leases = again.leases();
    ASSERT_TRUE(leases);
    EXPECT_EQ(leases->size(), 2U);
}

TEST(Ipam, AFullSubnetIsResourceExhausted) {
    auto dir = base::TempDir::create("ipam");
    ASSERT_TRUE(dir);
    Ipam ipam(dir->path() / "leases");
    for (const char* owner : {"a", "b", "c", "d", "e"}) {
        ASSERT_TRUE(ipam.allocate(kSubnet, owner));
    }
    const auto full = ipam.allocate(kSubnet, "f");
    ASSERT_FALSE(full);
    EXPECT_EQ(full.error().code(), Code::kResourceExhausted);
}

}  // namespace
}  // namespace grove::network
