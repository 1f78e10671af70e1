#include <algorithm>

#include <gtest/gtest.h>

#include "metadata_fixture.hpp"
#include "store/metadata/image_table.hpp"
#include "store/metadata/pin_table.hpp"
#include "store/metadata/uuid.hpp"

namespace grove::store {
namespace {

using PinTableTest = MetadataTest;

TEST_F(PinTableTest, APinnedImageIsNotRemovedUntilUnpinned) {
    const std::string used = add(image(1));
    const std::string other = add(image(2));
    PinTable pins(db());
    ASSERT_TRUE(pins.pin("container a", used));
    ASSERT_TRUE(pins.pin("container b", used));
    EXPECT_EQ(pins.pinning(other).value(), std::nullopt);
    EXPECT_TRUE(pins.pinning(used).value().has_value());

    auto removed = ImageTable(db()).remove(used, {.force = true});
    ASSERT_FALSE(removed);
    EXPECT_EQ(removed.error().code(), Code::kFailedPrecondition);
    EXPECT_NE(removed.error().message().find("in use by container"), std::string::npos);

    ASSERT_TRUE(pins.unpin("container a"));
    ASSERT_TRUE(pins.unpin("container a"));  // idempotent
    EXPECT_FALSE(ImageTable(db()).remove(used, {}));
    // Pinning again moves the pin.
    ASSERT_TRUE(pins.pin("container b", other));
    EXPECT_TRUE(ImageTable(db()).remove(used, {}));
    EXPECT_EQ(pins.pin("container c", new_uuid()).error().code(), Code::kNotFound);
}

TEST_F(PinTableTest, HoldersAreFoundByPrefix) {
    const std::string used = add(image(1));
    PinTable pins(db());
    ASSERT_TRUE(pins.pin("container a", used));
    ASSERT_TRUE(pins.pin("container b", used));
    ASSERT_TRUE(pins.pin("other c", used));
    ASSERT_TRUE(pins.pin("container%_", used));  // LIKE's wildcards are plain characters here
    auto holders = pins.holders("container ").value();
    std::sort(holders.begin(), holders.end());
    EXPECT_EQ(holders, (std::vector<std::string>{"container a", "container b"}));
    EXPECT_EQ(pins.holders("container%").value(), std::vector<std::string>{"container%_"});
    EXPECT_TRUE(pins.holders("none").value().empty());
}

}  // namespace
}  // namespace grove::store
