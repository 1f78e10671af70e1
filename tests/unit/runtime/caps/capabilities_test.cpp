// Capability names and dockerd's CapAdd/CapDrop arithmetic (moby oci/caps TweakCapabilities).

#include "runtime/caps/capabilities.hpp"

#include <fstream>

#include <gtest/gtest.h>

namespace grove::runtime::caps {
namespace {

uint64_t adjusted(const std::vector<std::string>& add, const std::vector<std::string>& drop) {
    const auto caps = adjust_capabilities(kDockerDefaultCaps, add, drop);
    EXPECT_TRUE(caps) << caps.error().to_string();
    return caps.value_or(0);
}

TEST(Capabilities, NamesMatchTheKernelsNumbers) {
    EXPECT_EQ(capability_name(CAP_SYS_ADMIN), "CAP_SYS_ADMIN");
    EXPECT_EQ(capability_name(CAP_CHECKPOINT_RESTORE), "CAP_CHECKPOINT_RESTORE");
    EXPECT_EQ(capability_name(64), "");
    EXPECT_EQ(capability_from_name("CAP_NET_RAW"), CAP_NET_RAW);
    EXPECT_EQ(capability_from_name("NET_RAW"), std::nullopt) << "exact names only";
    EXPECT_EQ(capability_from_name("cap_net_raw"), std::nullopt);
}

TEST(Capabilities, KnownAreTheKernels) {
    std::ifstream file("/proc/sys/kernel/cap_last_cap");
    int last = 0;
    ASSERT_TRUE(file >> last);
    EXPECT_EQ(known_capabilities(), (uint64_t{2} << std::min(last, CAP_LAST_CAP)) - 1);
}

TEST(Capabilities, NoChangeKeepsTheBase) {
    EXPECT_EQ(adjusted({}, {}), kDockerDefaultCaps);
    EXPECT_EQ((kDockerDefaultCaps & cap_bit(CAP_NET_RAW)), 0u) << "grove's default lacks NET_RAW";
    EXPECT_EQ((kDockerDefaultCaps & cap_bit(CAP_MKNOD)), 0u);
}

TEST(Capabilities, NamesWithOrWithoutPrefixInAnyCase) {
    const uint64_t with_raw = kDockerDefaultCaps | cap_bit(CAP_NET_RAW);
    EXPECT_EQ(adjusted({"NET_RAW"}, {}), with_raw);
    EXPECT_EQ(adjusted({"cap_net_raw"}, {}), with_raw);
    EXPECT_EQ(adjusted({"Net_Raw"}, {}), with_raw);
    EXPECT_EQ(adjusted({}, {"chown", "CAP_KILL"}),
              kDockerDefaultCaps & ~cap_bit(CAP_CHOWN) & ~cap_bit(CAP_KILL));
}

TEST(Capabilities, DropsThenAdds) {
    // A capability both dropped and added stays, as dockerd's order has it.
    EXPECT_EQ(adjusted({"MKNOD", "CHOWN"}, {"CHOWN", "SETUID"}),
              (kDockerDefaultCaps & ~cap_bit(CAP_SETUID)) | cap_bit(CAP_MKNOD));
}

TEST(Capabilities, All) {
    EXPECT_EQ(adjusted({}, {"ALL"}), 0u);
    EXPECT_EQ(adjusted({"CHOWN"}, {"all"}), cap_bit(CAP_CHOWN));
    EXPECT_EQ(adjusted({"ALL"}, {}), known_capabilities());
    EXPECT_EQ(adjusted({"ALL"}, {"SYS_ADMIN"}), known_capabilities() & ~cap_bit(CAP_SYS_ADMIN));
    // ALL in both: every capability but the dropped ones, here all of them.
    EXPECT_EQ(adjusted({"ALL"}, {"ALL"}), known_capabilities());
}

TEST(Capabilities, UnknownNameIsInvalidInDockerdsWords) {
    for (const auto& [add, drop] :
         std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>>{
             {{"foo"}, {}}, {{}, {"CAP_FOO"}}, {{"CHOWN", "foo"}, {"ALL"}}}) {
        const auto caps = adjust_capabilities(kDockerDefaultCaps, add, drop);
        ASSERT_FALSE(caps);
        EXPECT_EQ(caps.error().code(), Code::kInvalidArgument);
        EXPECT_EQ(caps.error().message(), "unknown capability: \"CAP_FOO\"");
    }
}

}  // namespace
}  // namespace grove::runtime::caps
