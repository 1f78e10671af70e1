#include <chrono>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "metadata_fixture.hpp"
#include "store/metadata/tag_table.hpp"

namespace grove::store {
namespace {

using ImageTableTest = MetadataTest;

TEST_F(ImageTableTest, InsertThenGetRoundTripsEveryField) {
    const int64_t layer = add_layer("sha256:chain");
    const ImageRecord root = image(5);
    add(root);
    const ImageRecord record{.uuid = new_uuid(),
                             .parent = root.uuid,
                             .tag = "busybox:latest",
                             .kind = ImageKind::kImported,
                             .created_ns = 1'700'000'000'000'000'000,
                             .operation = "import docker.io/library/busybox:latest",
                             .config_json = R"({"architecture":"amd64"})",
                             .manifest_digest = "sha256:m",
                             .platform = "linux/amd64",
                             .top_layer = layer,
                             .size_logical = 4096,
                             .size_physical = 1024};
    add(record, {"sha256:m", "sha256:c"});
    auto got = ImageTable(db()).get(record.uuid);
    ASSERT_TRUE(got) << got.error().to_string();
    EXPECT_EQ(got->uuid, record.uuid);
    EXPECT_EQ(got->parent, record.parent);
    EXPECT_EQ(got->tag, record.tag);
    EXPECT_EQ(got->kind, record.kind);
    EXPECT_EQ(got->created_ns, record.created_ns);
    EXPECT_EQ(got->operation, record.operation);
    EXPECT_EQ(got->config_json, record.config_json);
    EXPECT_EQ(got->manifest_digest, record.manifest_digest);
    EXPECT_EQ(got->platform, record.platform);
    EXPECT_EQ(got->top_layer, record.top_layer);
    EXPECT_EQ(got->size_logical, record.size_logical);
    EXPECT_EQ(got->size_physical, record.size_physical);
}

TEST_F(ImageTableTest, GetUnknownIsNotFound) {
    auto got = ImageTable(db()).get(new_uuid());
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error().code(), Code::kNotFound);
}

TEST_F(ImageTableTest, InsertRejectsMalformedUuidAndDuplicates) {
    ImageRecord record = image(1);
    record.uuid = "ABC";
    auto bad = ImageTable(db()).insert(record, {});
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code(), Code::kInvalidArgument);

    const ImageRecord good = image(1);
    add(good);
    auto duplicate = ImageTable(db()).insert(good, {});
    ASSERT_FALSE(duplicate);
    EXPECT_EQ(duplicate.error().code(), Code::kAlreadyExists) << duplicate.error().to_string();
}

TEST_F(ImageTableTest, UnknownParentIsRefusedWithClearMessage) {
    const std::string missing = new_uuid();
    const ImageRecord record = image(1, missing);
    auto inserted = ImageTable(db()).insert(record, {});
    ASSERT_FALSE(inserted);
    EXPECT_EQ(inserted.error().code(), Code::kFailedPrecondition);
    EXPECT_EQ(
        inserted.error().message(),
        fmt::format("insert image '{}': parent image '{}' does not exist", record.uuid, missing));
}

TEST_F(ImageTableTest, UnknownOrPendingTopLayerIsRefused) {
    ImageRecord record = image(1);
    record.top_layer = 42;
    auto unknown = ImageTable(db()).insert(record, {});
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().code(), Code::kFailedPrecondition);
    EXPECT_NE(unknown.error().message().find("layer 42 does not exist"), std::string::npos);

    const int64_t bottom = add_pending_layer("pending-bottom");
    record.top_layer = add_layer("ready-top", bottom);
    auto pending = ImageTable(db()).insert(record, {});
    ASSERT_FALSE(pending);
    EXPECT_EQ(pending.error().code(), Code::kFailedPrecondition);
    EXPECT_NE(pending.error().message().find("'pending-bottom') is still pending"),
              std::string::npos)
        << pending.error().message();
}

TEST_F(ImageTableTest, FindImportedMatchesManifestAndPlatform) {
    ImageRecord record = image(1);
    record.kind = ImageKind::kImported;
    record.manifest_digest = "sha256:m";
    record.platform = "linux/amd64";
    add(record);
    ImageTable images(db());
    auto found = images.find_imported("sha256:m", "linux/amd64");
    ASSERT_TRUE(found);
    ASSERT_TRUE(found->has_value());
    EXPECT_EQ((*found)->uuid, record.uuid);
    auto other = images.find_imported("sha256:m", "linux/arm64");
    ASSERT_TRUE(other);
    EXPECT_FALSE(other->has_value());

    // A concurrent second import of the same manifest loses the race cleanly.
    ImageRecord again = record;
    again.uuid = new_uuid();
    auto duplicate = images.insert(again, {});
    ASSERT_FALSE(duplicate);
    EXPECT_EQ(duplicate.error().code(), Code::kAlreadyExists);
}

TEST_F(ImageTableTest, ChildrenAndLineageOfDeepTreeAreFast) {
    constexpr int kDepth = 1000;
    // One statement builds the chain: through insert(), which prepares its statements on every
    // call, setup alone would take ~200 ms under ASan. insert() is covered above.
    ASSERT_TRUE(db().exec(fmt::format(R"sql(
        WITH RECURSIVE n (i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < {})
        INSERT INTO images (uuid, parent, kind, created_ns, operation, config_json)
        SELECT printf('%08x-0000-4000-8000-000000000000', i),
               iif(i = 0, NULL, printf('%08x-0000-4000-8000-000000000000', i - 1)),
               'run', i, 'op', '{{}}' FROM n)sql",
                                      kDepth)));
    std::vector<std::string> chain;
    chain.reserve(kDepth);
    for (int i = 0; i < kDepth; ++i) {
        chain.push_back(fmt::format("{:08x}-0000-4000-8000-000000000000", i));
    }
    const std::string sibling = add(image(kDepth, chain.front()));

    ImageTable images(db());
    const auto start = std::chrono::steady_clock::now();
    auto lineage = images.lineage(chain.back());
    auto children = images.children(chain.front());
    const auto elapsed = std::chrono::steady_clock::now() - start;
    ASSERT_TRUE(lineage) << lineage.error().to_string();
    ASSERT_TRUE(children) << children.error().to_string();
    EXPECT_LT(elapsed, std::chrono::milliseconds(100));

    ASSERT_EQ(lineage->size(), static_cast<size_t>(kDepth - 1));
    EXPECT_EQ(lineage->front().uuid, chain[kDepth - 2]);
    EXPECT_EQ(lineage->back().uuid, chain.front());
    EXPECT_EQ(uuids_of(*children), (std::vector<std::string>{sibling, chain[1]}));

    auto root_lineage = images.lineage(chain.front());
    ASSERT_TRUE(root_lineage);
    EXPECT_TRUE(root_lineage->empty());
    auto unknown = images.lineage(new_uuid());
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().code(), Code::kNotFound);
}

TEST_F(ImageTableTest, RemoveRefusesTaggedUnlessForced) {
    ImageRecord record = image(1);
    record.tag = "keep";
    add(record);
    ImageTable images(db());
    auto refused = images.remove(record.uuid);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code(), Code::kFailedPrecondition);
    EXPECT_NE(refused.error().message().find("tagged 'keep'"), std::string::npos);

    auto forced = images.remove(record.uuid, {.force = true});
    ASSERT_TRUE(forced) << forced.error().to_string();
    EXPECT_EQ(images.get(record.uuid).error().code(), Code::kNotFound);
    auto tag = TagTable(db()).get("keep");
    ASSERT_TRUE(tag);
    EXPECT_FALSE(tag->has_value());
}

TEST_F(ImageTableTest, RemoveRefusesParentsEvenWhenForced) {
    ImageRecord parent = image(1);
    parent.tag = "base";
    add(parent);
    const std::string child = add(image(2, parent.uuid));
    ImageTable images(db());
    for (const bool force : {false, true}) {
        auto refused = images.remove(parent.uuid, {.force = force});
        ASSERT_FALSE(refused);
        EXPECT_EQ(refused.error().code(), Code::kFailedPrecondition);
        EXPECT_NE(refused.error().message().find("1 child image(s)"), std::string::npos);
    }
    auto tag = TagTable(db()).get("base");
    ASSERT_TRUE(tag);
    EXPECT_EQ(*tag, parent.uuid);  // a refused force leaves the tag alone

    ASSERT_TRUE(images.remove(child));
    ASSERT_TRUE(images.remove(parent.uuid, {.force = true}));
    auto unknown = images.remove(parent.uuid);
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().code(), Code::kNotFound);
}

}  // namespace
}  // namespace grove::store
