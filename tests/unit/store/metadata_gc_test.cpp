#include <gtest/gtest.h>

#include "metadata_fixture.hpp"
#include "store/metadata/gc_queries.hpp"

namespace grove::store {
namespace {

using GcQueriesTest = MetadataTest;

TEST_F(GcQueriesTest, UnreferencedLayersAreReadyOrphansChildrenFirst) {
    const int64_t l1 = add_layer("l1");
    const int64_t l2 = add_layer("l2", l1);
    const int64_t l3 = add_layer("l3", l2);
    const int64_t orphan_on_l2 = add_layer("l4", l2);
    const int64_t standalone = add_layer("l5");
    const int64_t under_pending = add_layer("l6");
    add_pending_layer("l7", under_pending);
    ImageRecord record = image(1);
    record.top_layer = l3;
    add(record);

    GcQueries gc(db());
    auto unreferenced = gc.unreferenced_layers();
    ASSERT_TRUE(unreferenced) << unreferenced.error().to_string();
    std::vector<int64_t> ids;
    ids.reserve(unreferenced->size());
    for (const auto& layer : *unreferenced) {
        ids.push_back(layer.id);
    }
    EXPECT_EQ(ids, (std::vector{standalone, orphan_on_l2}));

    // Once the image is gone its whole chain is garbage, and removing in order always succeeds.
    ASSERT_TRUE(ImageTable(db()).remove(record.uuid));
    unreferenced = gc.unreferenced_layers();
    ASSERT_TRUE(unreferenced);
    ASSERT_EQ(unreferenced->size(), 5u);
    LayerTable layers(db());
    for (const auto& layer : *unreferenced) {
        auto removed = layers.remove(layer.id);
        EXPECT_TRUE(removed) << removed.error().to_string();
    }
    EXPECT_TRUE(gc.unreferenced_layers().value_or(std::vector{LayerRecord{}}).empty());
}

TEST_F(GcQueriesTest, ReferencedBlobsFollowImages) {
    const std::string first = add(image(1), {"sha256:m1", "sha256:shared", "sha256:shared"});
    add(image(2), {"sha256:m2", "sha256:shared"});
    GcQueries gc(db());
    EXPECT_EQ(gc.referenced_blobs().value_or(std::set<std::string>{}),
              (std::set<std::string>{"sha256:m1", "sha256:m2", "sha256:shared"}));
    ASSERT_TRUE(ImageTable(db()).remove(first));
    EXPECT_EQ(gc.referenced_blobs().value_or(std::set<std::string>{}),
              (std::set<std::string>{"sha256:m2", "sha256:shared"}));
}

}  // namespace
}  // namespace grove::store
