#include "docker_api/image_names.hpp"

#include <gtest/gtest.h>

#include "store/metadata/uuid.hpp"

namespace grove::docker_api {
namespace {

TEST(DockerImageIds, EveryPrefixOfAnIdLeadsBackToItsUuid) {
    const std::string uuid = store::new_uuid();
    const std::string id = docker_id(uuid);
    ASSERT_TRUE(id.starts_with("sha256:"));
    ASSERT_EQ(id.size(), 7u + 64u);
    EXPECT_EQ(uuid_prefix_of_id(id), uuid);
    EXPECT_EQ(uuid_prefix_of_id(id.substr(7)), uuid);
    EXPECT_EQ(uuid_prefix_of_id(id.substr(7, 32)), uuid);
    // docker's short ids: 12 digits, a UUID prefix with its first dash.
    EXPECT_EQ(uuid_prefix_of_id(id.substr(7, 12)), uuid.substr(0, 13));
    EXPECT_EQ(uuid_prefix_of_id(id.substr(7, 8)), uuid.substr(0, 8));
    EXPECT_EQ(docker_id(uuid), id) << "stable";
    EXPECT_NE(docker_id(store::new_uuid()), id);
}

TEST(DockerImageIds, AWrongSecondHalfOrNonHexIsNoId) {
    const std::string id = docker_id(store::new_uuid());
    const std::string wrong = id.substr(0, id.size() - 1) + (id.back() == '0' ? "1" : "0");
    EXPECT_EQ(uuid_prefix_of_id(wrong), std::nullopt);
    EXPECT_EQ(uuid_prefix_of_id("busybox"), std::nullopt);
    EXPECT_EQ(uuid_prefix_of_id("sha256:"), std::nullopt);
    EXPECT_EQ(uuid_prefix_of_id(id + "0"), std::nullopt);
}

TEST(DockerImageNames, ReferencesMapToFamiliarTags) {
    const auto busybox = oci::Reference::parse("docker.io/library/busybox");
    ASSERT_TRUE(busybox);
    EXPECT_EQ(tag_candidates(*busybox),
              (std::vector<std::string>{"busybox:latest", "busybox",
                                        "docker.io/library/busybox:latest"}));
    const auto local = oci::Reference::parse("127.0.0.1:5000/team/app:1");
    ASSERT_TRUE(local);
    EXPECT_EQ(tag_candidates(*local)[0], "127.0.0.1:5000/team/app:1");
    EXPECT_EQ(tag_candidates(*local).size(), 2u);

    EXPECT_EQ(repo_tag_of("busybox"), "busybox:latest");
    EXPECT_EQ(repo_tag_of("busybox:1.36"), "busybox:1.36");
    EXPECT_EQ(repo_tag_of("127.0.0.1:5000/team/app"), "127.0.0.1:5000/team/app:latest");
    EXPECT_EQ(repo_tag_of("127.0.0.1:5000/team/app:1"), "127.0.0.1:5000/team/app:1");
}

}  // namespace
}  // namespace grove::docker_api
