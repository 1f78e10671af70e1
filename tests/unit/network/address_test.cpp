#include "network/address.hpp"

#include <gtest/gtest.h>

namespace grove::network {
namespace {

TEST(Address, ParsesAndFormatsDottedQuads) {
    const auto address = parse_ipv4("172.31.0.2");
    ASSERT_TRUE(address);
    EXPECT_EQ(address->value, 0xac1f0002U);
    EXPECT_EQ(to_string(*address), "172.31.0.2");
    EXPECT_FALSE(parse_ipv4("172.31.0"));
    EXPECT_FALSE(parse_ipv4("host"));
}

TEST(Address, SubnetsKnowTheirGatewayMembersAndOverlaps) {
    const auto subnet = parse_subnet("172.31.5.9/16");
    ASSERT_TRUE(subnet);
    EXPECT_EQ(to_string(*subnet), "172.31.0.0/16");
    EXPECT_EQ(to_string(subnet->gateway()), "172.31.0.1");
    EXPECT_TRUE(subnet->contains(*parse_ipv4("172.31.255.254")));
    EXPECT_FALSE(subnet->contains(*parse_ipv4("172.30.0.1")));
    EXPECT_TRUE(subnet->overlaps(*parse_subnet("172.31.8.0/24")));
    EXPECT_TRUE(subnet->overlaps(*parse_subnet("172.16.0.0/12")));
    EXPECT_FALSE(subnet->overlaps(*parse_subnet("172.30.0.0/16")));
    EXPECT_FALSE(parse_subnet("172.31.0.0/33"));
}

TEST(Address, MacFollowsTheAddressAsDockers) {
    EXPECT_EQ(mac_for(*parse_ipv4("172.17.0.2")), "02:42:ac:11:00:02");
}

}  // namespace
}  // namespace grove::network
