#include <fmt/format.h>
#include <gtest/gtest.h>

#include "metadata_fixture.hpp"

namespace grove::store {
namespace {

using LayerTableTest = MetadataTest;

std::vector<int64_t> ids_of(const std::vector<LayerRecord>& layers) {
    std::vector<int64_t> ids;
    ids.reserve(layers.size());
    for (const auto& layer : layers) {
        ids.push_back(layer.id);
    }
    return ids;
}

TEST_F(LayerTableTest, InsertPendingThenMarkReady) {
    LayerTable layers(db());
    auto id = layers.insert_pending(LayerRecord{.key = "sha256:chain",
                                                .diff_id = "sha256:diff",
                                                .blob_digest = "sha256:blob",
                                                .ready = true});  // ignored: always pending
    ASSERT_TRUE(id) << id.error().to_string();
    auto pending = layers.get(*id);
    ASSERT_TRUE(pending);
    EXPECT_FALSE(pending->ready);
    EXPECT_EQ(pending->key, "sha256:chain");
    EXPECT_EQ(pending->diff_id, "sha256:diff");
    EXPECT_EQ(pending->blob_digest, "sha256:blob");
    EXPECT_EQ(pending->parent, std::nullopt);

    ASSERT_TRUE(layers.mark_ready(*id, 12345));
    auto ready = layers.get(*id);
    ASSERT_TRUE(ready);
    EXPECT_TRUE(ready->ready);
    EXPECT_EQ(ready->size, 12345u);

    auto twice = layers.mark_ready(*id, 1);
    ASSERT_FALSE(twice);
    EXPECT_EQ(twice.error().code(), Code::kFailedPrecondition);
    auto unknown = layers.mark_ready(*id + 100, 1);
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().code(), Code::kNotFound);
}

TEST_F(LayerTableTest, FindByKeyAndDuplicateKey) {
    const int64_t id = add_layer("run:x");
    LayerTable layers(db());
    auto found = layers.find("run:x");
    ASSERT_TRUE(found);
    ASSERT_TRUE(found->has_value());
    EXPECT_EQ((*found)->id, id);
    auto missing = layers.find("run:y");
    ASSERT_TRUE(missing);
    EXPECT_FALSE(missing->has_value());

    auto duplicate = layers.insert_pending(LayerRecord{.key = "run:x"});
    ASSERT_FALSE(duplicate);
    EXPECT_EQ(duplicate.error().code(), Code::kAlreadyExists);
    EXPECT_NE(duplicate.error().message().find("insert layer 'run:x'"), std::string::npos);
}

TEST_F(LayerTableTest, UnknownParentIsFailedPrecondition) {
    auto inserted = LayerTable(db()).insert_pending(LayerRecord{.key = "k", .parent = 99});
    ASSERT_FALSE(inserted);
    EXPECT_EQ(inserted.error().code(), Code::kFailedPrecondition);
    EXPECT_NE(inserted.error().message().find("parent layer 99 does not exist"), std::string::npos);
}

TEST_F(LayerTableTest, ChainIsBottomFirst) {
    const int64_t bottom = add_layer("l1");
    const int64_t middle = add_layer("l2", bottom);
    const int64_t top = add_layer("l3", middle);
    add_layer("sibling", middle);
    LayerTable layers(db());
    auto chain = layers.chain(top);
    ASSERT_TRUE(chain) << chain.error().to_string();
    EXPECT_EQ(ids_of(*chain), (std::vector{bottom, middle, top}));
    EXPECT_EQ(ids_of(layers.chain(bottom).value_or(std::vector<LayerRecord>{})),
              (std::vector{bottom}));
    auto unknown = layers.chain(top + 100);
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().code(), Code::kNotFound);
}

TEST_F(LayerTableTest, PendingListsOnlyPendingOldestFirst) {
    const int64_t first = add_pending_layer("p1");
    add_layer("ready");
    const int64_t second = add_pending_layer("p2", first);
    auto pending = LayerTable(db()).pending();
    ASSERT_TRUE(pending);
    EXPECT_EQ(ids_of(*pending), (std::vector{first, second}));
}

TEST_F(LayerTableTest, RemoveRefusedWhileReferenced) {
    const int64_t bottom = add_layer("l1");
    const int64_t top = add_layer("l2", bottom);
    ImageRecord record = image(1);
    record.top_layer = top;
    add(record);
    LayerTable layers(db());
    for (const int64_t id : {bottom, top}) {
        auto refused = layers.remove(id);
        ASSERT_FALSE(refused);
        EXPECT_EQ(refused.error().code(), Code::kFailedPrecondition);
    }
    EXPECT_NE(layers.remove(top).error().message().find("1 image(s), 0 child layer(s)"),
              std::string::npos);

    ASSERT_TRUE(ImageTable(db()).remove(record.uuid));
    ASSERT_TRUE(layers.remove(top));
    ASSERT_TRUE(layers.remove(bottom));
    auto unknown = layers.remove(bottom);
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().code(), Code::kNotFound);
}

TEST_F(LayerTableTest, DepthIsTheChainLength) {
    const int64_t bottom = add_layer("l1");
    const int64_t middle = add_layer("l2", bottom);
    const int64_t top = add_layer("l3", middle);
    LayerTable layers(db());
    EXPECT_EQ(layers.get(bottom)->depth, 1);
    EXPECT_EQ(layers.get(middle)->depth, 2);
    EXPECT_EQ(layers.get(top)->depth, 3);
}

TEST_F(LayerTableTest, TopOfChainReadsOnlyTheTop) {
    std::vector<int64_t> chain{add_layer("l0")};
    for (int i = 1; i < 10; ++i) {
        chain.push_back(add_layer("l" + std::to_string(i), chain.back()));
    }
    LayerTable layers(db());
    auto top3 = layers.top_of_chain(chain[9], 3);
    ASSERT_TRUE(top3) << top3.error().to_string();
    EXPECT_EQ(ids_of(*top3), (std::vector{chain[9], chain[8], chain[7]}));
    EXPECT_EQ(ids_of(layers.top_of_chain(chain[1], 5).value_or(std::vector<LayerRecord>{})),
              (std::vector{chain[1], chain[0]}));
    EXPECT_TRUE(layers.top_of_chain(chain[1], 0).value_or(std::vector{LayerRecord{}}).empty());
    auto unknown = layers.top_of_chain(chain[9] + 100, 2);
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().code(), Code::kNotFound);
}

TEST_F(LayerTableTest, MergedLayerIsFoundByTheLayerItMerges) {
    const int64_t bottom = add_layer("l1");
    const int64_t top = add_layer("l2", bottom);
    LayerTable layers(db());
    EXPECT_FALSE(layers.merged(top).value_or(LayerRecord{}));
    auto merged = layers.insert_pending(LayerRecord{.key = "merged:top", .merges = top});
    ASSERT_TRUE(merged) << merged.error().to_string();
    auto found = layers.merged(top);
    ASSERT_TRUE(found && *found);
    EXPECT_EQ((*found)->id, *merged);
    EXPECT_EQ((*found)->merges, top);
    EXPECT_EQ((*found)->depth, 1);
    EXPECT_EQ((*found)->parent, std::nullopt);
    EXPECT_FALSE((*found)->ready);

    auto twice = layers.insert_pending(LayerRecord{.key = "merged:again", .merges = top});
    ASSERT_FALSE(twice);
    EXPECT_EQ(twice.error().code(), Code::kAlreadyExists);
    auto with_parent =
        layers.insert_pending(LayerRecord{.key = "merged:p", .parent = top, .merges = bottom});
    ASSERT_FALSE(with_parent);
    EXPECT_EQ(with_parent.error().code(), Code::kFailedPrecondition);
    auto unknown = layers.insert_pending(LayerRecord{.key = "merged:u", .merges = top + 100});
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().code(), Code::kFailedPrecondition);

    // The layer it merges cannot go first.
    auto refused = layers.remove(top);
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message().find("1 merged layer(s)"), std::string::npos)
        << refused.error().message();
    ASSERT_TRUE(layers.remove(*merged));
    ASSERT_TRUE(layers.remove(top));
}

TEST_F(LayerTableTest, ChainAboveMergedStopsAtTheDeepestReadyMergedLayer) {
    std::vector<int64_t> chain{add_layer("l0")};
    for (int i = 1; i < 8; ++i) {
        chain.push_back(add_layer("l" + std::to_string(i), chain.back()));
    }
    LayerTable layers(db());
    // Without merged layers: the whole chain, top first.
    auto all = layers.chain_above_merged(chain[7]);
    ASSERT_TRUE(all) << all.error().to_string();
    EXPECT_EQ(all->size(), 8u);
    EXPECT_EQ(all->front().id, chain[7]);
    EXPECT_EQ(all->back().id, chain[0]);

    // A pending merged layer does not count; a ready one ends the walk, included.
    const int64_t pending = add_pending_layer("merged:5");
    ASSERT_TRUE(
        db().exec(fmt::format("UPDATE layers SET merges = {} WHERE id = {}", chain[5], pending)));
    EXPECT_EQ(layers.chain_above_merged(chain[7])->size(), 8u);
    auto ready = layers.insert_pending(LayerRecord{.key = "merged:3", .merges = chain[3]});
    ASSERT_TRUE(ready);
    ASSERT_TRUE(layers.mark_ready(*ready, 1));
    EXPECT_EQ(ids_of(layers.chain_above_merged(chain[7]).value_or(std::vector<LayerRecord>{})),
              (std::vector{chain[7], chain[6], chain[5], chain[4], chain[3]}));
    EXPECT_EQ(ids_of(layers.chain_above_merged(chain[3]).value_or(std::vector<LayerRecord>{})),
              (std::vector{chain[3]}));
}

TEST_F(LayerTableTest, IdsAreNeverReused) {
    const int64_t first = add_layer("a");
    ASSERT_TRUE(LayerTable(db()).remove(first));
    EXPECT_GT(add_layer("b"), first);
}

}  // namespace
}  // namespace grove::store
