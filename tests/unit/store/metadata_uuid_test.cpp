#include <set>

#include <gtest/gtest.h>

#include "store/metadata/uuid.hpp"

namespace grove::store {
namespace {

TEST(Uuid, NewIsCanonicalVersion4) {
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        const std::string uuid = new_uuid();
        ASSERT_TRUE(is_uuid(uuid)) << uuid;
        EXPECT_EQ(uuid[14], '4') << uuid;
        EXPECT_NE(std::string_view("89ab").find(uuid[19]), std::string_view::npos) << uuid;
        EXPECT_TRUE(seen.insert(uuid).second) << "duplicate " << uuid;
    }
}

TEST(Uuid, RecognizesOnlyCanonicalLowercaseForm) {
    EXPECT_TRUE(is_uuid("0e8f9b5e-2b6c-4f1a-9d2e-1c3b5a7d9f00"));
    EXPECT_FALSE(is_uuid("0E8F9B5E-2B6C-4F1A-9D2E-1C3B5A7D9F00"));
    EXPECT_FALSE(is_uuid("0e8f9b5e2b6c4f1a9d2e1c3b5a7d9f00"));
    EXPECT_FALSE(is_uuid("0e8f9b5e-2b6c-4f1a-9d2e-1c3b5a7d9f0"));
    EXPECT_FALSE(is_uuid("0e8f9b5e-2b6c-4f1a-9d2e-1c3b5a7d9f0g"));
    EXPECT_TRUE(is_uuid_prefix(""));
    EXPECT_TRUE(is_uuid_prefix("0e8f9b5e-2b"));
    EXPECT_FALSE(is_uuid_prefix("0e8f9b5e2"));
    EXPECT_FALSE(is_uuid_prefix("0e8f9b5e-2b6c-4f1a-9d2e-1c3b5a7d9f000"));
}

}  // namespace
}  // namespace grove::store
