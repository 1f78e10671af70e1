// ImageTable::list and ImageTable::resolve.

#include <gtest/gtest.h>

#include "metadata_fixture.hpp"

namespace grove::store {
namespace {

class ImageListTest : public MetadataTest {
protected:
    // Images at created_ns 10, 20, 20, 30; the two at 20 differ only by uuid.
    void SetUp() override {
        MetadataTest::SetUp();
        ImageRecord oldest = image(10);
        oldest.kind = ImageKind::kImported;
        oldest.tag = "busybox:latest";
        ImageRecord tie_b = image(20, add(oldest));
        tie_b.uuid = "bbbb0000-0000-4000-8000-000000000000";
        tie_b.tag = "team_a/base";
        ImageRecord tie_a = image(20, oldest.uuid);
        tie_a.uuid = "aaaa0000-0000-4000-8000-000000000000";
        ImageRecord newest = image(30, add(tie_a));
        newest.tag = "teamxa/other";
        add(tie_b);
        add(newest);
        all_ = {newest.uuid, tie_a.uuid, tie_b.uuid, oldest.uuid};
    }

    std::vector<std::string> list(const ImageFilter& filter) {
        auto listed = ImageTable(db()).list(filter);
        EXPECT_TRUE(listed) << listed.error().to_string();
        return listed ? uuids_of(*listed) : std::vector<std::string>{};
    }

    std::vector<std::string> all_;  // newest first
};

TEST_F(ImageListTest, NewestFirstWithTiesByUuid) {
    EXPECT_EQ(list({}), all_);
}

TEST_F(ImageListTest, LimitAndOffsetPageStably) {
    EXPECT_EQ(list({.limit = 2}), (std::vector{all_[0], all_[1]}));
    EXPECT_EQ(list({.limit = 2, .offset = 2}), (std::vector{all_[2], all_[3]}));
    EXPECT_EQ(list({.offset = 3}), (std::vector{all_[3]}));
    EXPECT_TRUE(list({.limit = 0}).empty());
}

TEST_F(ImageListTest, TaggedOnlyAndTagPrefix) {
    EXPECT_EQ(list({.tagged_only = true}), (std::vector{all_[0], all_[2], all_[3]}));
    // '_' is literal, not LIKE's wildcard: "team_" must not match "teamxa/other".
    EXPECT_EQ(list({.tag_prefix = "team_"}), (std::vector{all_[2]}));
    EXPECT_EQ(list({.tag_prefix = "team"}), (std::vector{all_[0], all_[2]}));
    EXPECT_TRUE(list({.tag_prefix = "nothing"}).empty());
}

TEST_F(ImageListTest, UuidPrefix) {
    EXPECT_EQ(list({.uuid_prefix = "aaaa"}), (std::vector{all_[1]}));
    EXPECT_EQ(list({.uuid_prefix = std::string(all_[2])}), (std::vector{all_[2]}));
}

TEST_F(ImageListTest, Kind) {
    EXPECT_EQ(list({.kind = ImageKind::kImported}), (std::vector{all_[3]}));
    EXPECT_EQ(list({.kind = ImageKind::kRun}), (std::vector{all_[0], all_[1], all_[2]}));
}

TEST_F(ImageListTest, SinceIsInclusiveUntilExclusive) {
    EXPECT_EQ(list({.since_ns = 20}), (std::vector{all_[0], all_[1], all_[2]}));
    EXPECT_EQ(list({.until_ns = 20}), (std::vector{all_[3]}));
    EXPECT_EQ(list({.since_ns = 20, .until_ns = 30}), (std::vector{all_[1], all_[2]}));
}

TEST_F(ImageListTest, FiltersCombine) {
    EXPECT_EQ(list({.limit = 1, .tagged_only = true, .kind = ImageKind::kRun, .since_ns = 15}),
              (std::vector{all_[0]}));
}

using ResolveTest = ImageListTest;

TEST_F(ResolveTest, ByTagFullUuidAndUniquePrefix) {
    ImageTable images(db());
    EXPECT_EQ(images.resolve("busybox:latest").value_or(""), all_[3]);
    EXPECT_EQ(images.resolve(all_[0]).value_or(""), all_[0]);
    EXPECT_EQ(images.resolve("aaaa0").value_or(""), all_[1]);
}

TEST_F(ResolveTest, TagWinsOverUuidPrefix) {
    ImageRecord record = image(40);
    record.tag = "aaaa";
    add(record);
    EXPECT_EQ(ImageTable(db()).resolve("aaaa").value_or(""), record.uuid);
}

TEST_F(ResolveTest, AmbiguousPrefixListsCandidates) {
    ImageRecord record = image(40);
    record.uuid = "aaaa0000-0000-4000-8000-000000000001";
    add(record);
    auto resolved = ImageTable(db()).resolve("aaaa");
    ASSERT_FALSE(resolved);
    EXPECT_EQ(resolved.error().code(), Code::kFailedPrecondition);
    EXPECT_EQ(resolved.error().message(),
              "image id prefix 'aaaa' is ambiguous: aaaa0000-0000-4000-8000-000000000000, "
              "aaaa0000-0000-4000-8000-000000000001");
}

TEST_F(ResolveTest, UnknownShortAndMissingAreNotFound) {
    ImageTable images(db());
    for (const std::string& ref :
         std::vector<std::string>{"nope:latest", "aaa", "cccc", new_uuid()}) {
        auto resolved = images.resolve(ref);
        ASSERT_FALSE(resolved) << ref;
        EXPECT_EQ(resolved.error().code(), Code::kNotFound) << ref;
    }
    auto short_prefix = images.resolve("aaa");
    EXPECT_NE(short_prefix.error().message().find("prefixes need 4 characters"), std::string::npos);
}

}  // namespace
}  // namespace grove::store
