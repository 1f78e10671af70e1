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

TEST_F(GcQueriesTest, MergedLayersStayWhileADeeperLayerIsInUse) {
    const int64_t l1 = add_layer("l1");
    const int64_t l2 = add_layer("l2", l1);
    const int64_t l3 = add_layer("l3", l2);
    LayerTable layers(db());
    auto merge = [&](int64_t layer) {
        auto id = layers.insert_pending(
            LayerRecord{.key = "merged:" + std::to_string(layer), .merges = layer});
        EXPECT_TRUE(id) << id.error().to_string();
        EXPECT_TRUE(layers.mark_ready(id.value_or(0), 1));
        return id.value_or(0);
    };
    const int64_t merged1 = merge(l1);
    const int64_t merged2 = merge(l2);
    const int64_t merged3 = merge(l3);
    ImageRecord deep = image(1);
    deep.top_layer = l3;
    add(deep);
    ImageRecord shallow = image(2);
    shallow.top_layer = l2;
    add(shallow);

    GcQueries gc(db());
    auto ids = [&] {
        std::vector<int64_t> out;
        for (const auto& layer : gc.unreferenced_layers().value_or(std::vector<LayerRecord>{})) {
            out.push_back(layer.id);
        }
        return out;
    };
    // Nothing is deeper than l3, so its merged layer is of no use; l1 and l2 have children.
    EXPECT_EQ(ids(), (std::vector{merged3}));
    ASSERT_TRUE(layers.remove(merged3));

    // Without the deep image, l2 has no child in use: its merged layer goes with l3, while the
    // shallow image keeps l1, l2 and the merged layer of l1, which its runs mount.
    ASSERT_TRUE(ImageTable(db()).remove(deep.uuid));
    EXPECT_EQ(ids(), (std::vector{merged2, l3}));
    ASSERT_TRUE(layers.remove(merged2));
    ASSERT_TRUE(layers.remove(l3));
    EXPECT_TRUE(ids().empty());

    // Without any image: the merged layer goes before the layers it merges.
    ASSERT_TRUE(ImageTable(db()).remove(shallow.uuid));
    const auto all = ids();
    EXPECT_EQ(all, (std::vector{merged1, l2, l1}));
    for (const int64_t id : all) {
        auto removed = layers.remove(id);
        EXPECT_TRUE(removed) << removed.error().to_string();
    }
}

TEST_F(GcQueriesTest, PendingMergedLayerKeepsItsChain) {
    const int64_t l1 = add_layer("l1");
    const int64_t l2 = add_layer("l2", l1);
    ASSERT_TRUE(LayerTable(db()).insert_pending(LayerRecord{.key = "merged:l2", .merges = l2}));
    auto unreferenced = GcQueries(db()).unreferenced_layers();
    ASSERT_TRUE(unreferenced);
    EXPECT_TRUE(unreferenced->empty());
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
