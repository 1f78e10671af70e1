#include "daemon/file_table.hpp"

#include <gtest/gtest.h>

#include "state_fixture.hpp"

namespace grove::daemon {
namespace {

using FileTableTest = StateTest;

const std::string kShaA(64, 'a');
const std::string kShaB(64, 'b');

TEST_F(FileTableTest, TheSameContentKeepsItsUuid) {
    state_->with([&](store::Database& db) {
        FileTable files(db);
        auto first = files.put(kShaA, 10, 100);
        ASSERT_TRUE(first) << first.error().to_string();
        EXPECT_TRUE(store::is_uuid(first->uuid));
        EXPECT_EQ(first->created_ns, 100);

        auto again = files.put(kShaA, 10, 200);
        ASSERT_TRUE(again);
        EXPECT_EQ(again->uuid, first->uuid);
        EXPECT_EQ(again->created_ns, 100);
        EXPECT_EQ(again->updated_ns, 200);

        auto other = files.put(kShaB, 3, 300);
        EXPECT_NE(other->uuid, first->uuid);

        EXPECT_EQ(files.get(first->uuid)->sha256, kShaA);
        EXPECT_EQ(files.get(store::new_uuid()).error().code(), Code::kNotFound);
        EXPECT_EQ((*files.find_by_sha256(kShaB))->uuid, other->uuid);
        EXPECT_FALSE(*files.find_by_sha256(std::string(64, 'c')));
    });
}

TEST_F(FileTableTest, ListsNewestUploadFirst) {
    state_->with([&](store::Database& db) {
        FileTable files(db);
        ASSERT_TRUE(files.put(kShaA, 1, 100));
        ASSERT_TRUE(files.put(kShaB, 1, 200));
        auto all = files.list({});
        ASSERT_EQ(all->size(), 2u);
        EXPECT_EQ(all->front().sha256, kShaB);
        ASSERT_TRUE(files.put(kShaA, 1, 300));
        EXPECT_EQ(files.list({})->front().sha256, kShaA) << "a re-upload counts as new";
        EXPECT_EQ(files.list({.limit = 1})->size(), 1u);
        EXPECT_EQ(files.list({.since_ns = 250})->size(), 1u);
        EXPECT_EQ(files.list({.until_ns = 250})->size(), 1u);
    });
}

TEST_F(FileTableTest, RefusesWhatIsNotASha256) {
    state_->with([&](store::Database& db) {
        EXPECT_EQ(FileTable(db).put("ABC", 1, 1).error().code(), Code::kInvalidArgument);
        EXPECT_EQ(FileTable(db).put(std::string(64, 'A'), 1, 1).error().code(),
                  Code::kInvalidArgument);
    });
}

}  // namespace
}  // namespace grove::daemon
