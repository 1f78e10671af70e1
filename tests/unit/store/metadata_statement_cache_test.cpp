// Prepared statements are cached per SQL text (store/metadata/statement_cache.hpp): a statement
// used again must behave as a fresh one, and two users of one text must not share it.

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "metadata_fixture.hpp"
#include "store/metadata/statement_cache.hpp"

namespace grove::store {
namespace {

using StatementCacheTest = MetadataTest;

TEST(StatementCache, KeepsStatementsByTextUpToItsCapacity) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK);
    auto prepared = [db](const char* sql) {
        sqlite3_stmt* stmt = nullptr;
        EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr), SQLITE_OK);
        return stmt;
    };
    {
        StatementCache cache(2);
        sqlite3_stmt* one = prepared("SELECT 1");
        StatementCache::Entry* entry = cache.insert("SELECT 1", one);
        ASSERT_NE(entry, nullptr);
        EXPECT_EQ(entry->stmt, one);
        EXPECT_FALSE(entry->lent);
        EXPECT_EQ(cache.find("SELECT 1"), entry);
        EXPECT_EQ(cache.find("SELECT 2"), nullptr);
        ASSERT_NE(cache.insert("SELECT 2", prepared("SELECT 2")), nullptr);
        sqlite3_stmt* third = prepared("SELECT 3");
        EXPECT_EQ(cache.insert("SELECT 3", third), nullptr);  // full: the caller keeps it
        sqlite3_finalize(third);
    }  // finalizes what it kept, or closing would fail with BUSY
    EXPECT_EQ(sqlite3_close(db), SQLITE_OK);
}

TEST_F(StatementCacheTest, AReusedStatementStartsWithoutTheLastBindings) {
    {
        auto stmt = db().prepare("SELECT ?1");
        ASSERT_TRUE(stmt) << stmt.error().to_string();
        stmt->bind(1, int64_t{42});
        ASSERT_TRUE(stmt->step().value_or(false));
        EXPECT_EQ(stmt->column_int64(0), 42);
    }
    auto again = db().prepare("SELECT ?1");
    ASSERT_TRUE(again) << again.error().to_string();
    ASSERT_TRUE(again->step().value_or(false));
    EXPECT_EQ(again->column_optional_int64(0), std::nullopt);
}

TEST_F(StatementCacheTest, TwoUsersOfOneTextGetStatementsOfTheirOwn) {
    ASSERT_TRUE(
        db().exec("CREATE TABLE numbers (n INTEGER); "
                  "INSERT INTO numbers VALUES (1), (2), (3)"));
    constexpr std::string_view kSql = "SELECT n FROM numbers ORDER BY n";
    auto outer = db().prepare(kSql);
    ASSERT_TRUE(outer);
    ASSERT_TRUE(outer->step().value_or(false));
    EXPECT_EQ(outer->column_int64(0), 1);
    {
        auto inner = db().prepare(kSql);
        ASSERT_TRUE(inner);
        ASSERT_TRUE(inner->step().value_or(false));
        EXPECT_EQ(inner->column_int64(0), 1);
    }
    ASSERT_TRUE(outer->step().value_or(false));
    EXPECT_EQ(outer->column_int64(0), 2);  // not restarted by the inner one
}

// A cached statement left mid-way is reset when its Statement goes: else it would keep its
// table locked and the connection's read transaction open.
TEST_F(StatementCacheTest, AStatementLeftMidWayReleasesItsTable) {
    ASSERT_TRUE(
        db().exec("CREATE TABLE numbers (n INTEGER); "
                  "INSERT INTO numbers VALUES (1), (2)"));
    {
        auto stmt = db().prepare("SELECT n FROM numbers");
        ASSERT_TRUE(stmt);
        ASSERT_TRUE(stmt->step().value_or(false));
    }
    auto dropped = db().exec("DROP TABLE numbers");
    EXPECT_TRUE(dropped) << dropped.error().to_string();
}

TEST_F(StatementCacheTest, AnEmptyStatementIsAnError) {
    auto stmt = db().prepare("  -- nothing");
    ASSERT_FALSE(stmt);
    EXPECT_EQ(stmt.error().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace grove::store
