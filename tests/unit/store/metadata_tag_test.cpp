#include <gtest/gtest.h>

#include "metadata_fixture.hpp"
#include "store/metadata/tag_table.hpp"

namespace grove::store {
namespace {

using TagTableTest = MetadataTest;

std::optional<std::string> tag_of(Database& db, const std::string& uuid) {
    auto got = ImageTable(db).get(uuid);
    EXPECT_TRUE(got) << got.error().to_string();
    return got ? got->tag : std::nullopt;
}

TEST_F(TagTableTest, SetGetAndRemove) {
    const std::string uuid = add(image(1));
    TagTable tags(db());
    ASSERT_TRUE(tags.set("busybox:latest", uuid));
    EXPECT_EQ(tags.get("busybox:latest").value_or(std::nullopt), uuid);
    EXPECT_EQ(tag_of(db(), uuid), "busybox:latest");
    ASSERT_TRUE(tags.set("busybox:latest", uuid));  // setting it again changes nothing

    ASSERT_TRUE(tags.remove("busybox:latest"));
    EXPECT_EQ(tags.get("busybox:latest").value_or("error"), std::nullopt);
    EXPECT_EQ(tag_of(db(), uuid), std::nullopt);
    auto again = tags.remove("busybox:latest");
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code(), Code::kNotFound);
}

TEST_F(TagTableTest, SetMovesTagBetweenImages) {
    const std::string first = add(image(1));
    const std::string second = add(image(2));
    TagTable tags(db());
    ASSERT_TRUE(tags.set("team/agent/base", first));
    ASSERT_TRUE(tags.set("team/agent/base", second));
    EXPECT_EQ(tags.get("team/agent/base").value_or(std::nullopt), second);
    EXPECT_EQ(tag_of(db(), first), std::nullopt);
}

TEST_F(TagTableTest, ImageKeepsAtMostOneTag) {
    const std::string uuid = add(image(1));
    TagTable tags(db());
    ASSERT_TRUE(tags.set("old", uuid));
    ASSERT_TRUE(tags.set("new", uuid));
    EXPECT_EQ(tags.get("old").value_or("error"), std::nullopt);
    EXPECT_EQ(tag_of(db(), uuid), "new");
}

TEST_F(TagTableTest, TaggingUnknownImageIsNotFound) {
    auto set = TagTable(db()).set("t", new_uuid());
    ASSERT_FALSE(set);
    EXPECT_EQ(set.error().code(), Code::kNotFound);
}

TEST_F(TagTableTest, ValidatesSyntax) {
    for (const std::string& tag :
         std::vector<std::string>{"a", "busybox:latest", "team/agent/base", "x.y_z-1:2", "0abc",
                                  std::string(255, 'a')}) {
        EXPECT_TRUE(validate_tag(tag)) << tag;
    }
    for (const std::string& tag :
         std::vector<std::string>{"", std::string(256, 'a'), "Busybox", "-x", ".x", ":x", "a b",
                                  "a@b", "a\n", "0e8f9b5e-2b6c-4f1a-9d2e-1c3b5a7d9f00"}) {
        auto validated = validate_tag(tag);
        ASSERT_FALSE(validated) << tag;
        EXPECT_EQ(validated.error().code(), Code::kInvalidArgument) << tag;
    }
    const std::string uuid = add(image(1));
    auto set = TagTable(db()).set("Upper", uuid);
    ASSERT_FALSE(set);
    EXPECT_EQ(set.error().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace grove::store
