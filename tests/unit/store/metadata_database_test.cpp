#include <atomic>
#include <cerrno>
#include <fstream>
#include <latch>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "metadata_fixture.hpp"
#include "store/metadata/migrations.hpp"
#include "store/metadata/sqlite_error.hpp"

namespace grove::store {
namespace {

using DatabaseTest = MetadataTest;

// The single value of a one-row, one-column query.
std::string query_text(Database& db, std::string_view sql) {
    auto stmt = db.prepare(sql);
    EXPECT_TRUE(stmt) << stmt.error().to_string();
    auto row = stmt->step();
    EXPECT_TRUE(row && *row);
    return stmt->column_text(0);
}

TEST_F(DatabaseTest, OpenConfiguresConnectionAndCreatesSchema) {
    EXPECT_EQ(query_text(db(), "PRAGMA journal_mode"), "wal");
    EXPECT_EQ(query_text(db(), "PRAGMA foreign_keys"), "1");
    EXPECT_EQ(query_text(db(), "PRAGMA synchronous"), "2");  // FULL
    EXPECT_EQ(query_text(db(), "PRAGMA busy_timeout"), "10000");
    EXPECT_EQ(query_text(db(),
                         "SELECT group_concat(name, ',') FROM (SELECT name FROM "
                         "sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                         "ORDER BY name)"),
              "image_blobs,image_pins,images,layers,session_branches,session_states,sessions,tags");
    auto version = db().user_version();
    ASSERT_TRUE(version);
    EXPECT_EQ(*version, migrations().back().version);
}

TEST_F(DatabaseTest, MigrationsAreNumberedFromOneWithoutGaps) {
    int expected = 1;
    for (const Migration& migration : migrations()) {
        EXPECT_EQ(migration.version, expected++);
        EXPECT_FALSE(migration.sql.empty());
    }
}

TEST_F(DatabaseTest, ReopenKeepsDataAndSchemaVersion) {
    const std::string uuid = add(image(1));
    db_.reset();
    auto reopened = Database::open(db_path());
    ASSERT_TRUE(reopened) << reopened.error().to_string();
    auto version = reopened->user_version();
    ASSERT_TRUE(version);
    EXPECT_EQ(*version, migrations().back().version);
    auto got = ImageTable(*reopened).get(uuid);
    ASSERT_TRUE(got) << got.error().to_string();
    EXPECT_EQ(got->uuid, uuid);
}

TEST_F(DatabaseTest, MigrationToVersion2ComputesLayerDepths) {
    db_.reset();
    const auto path = dir_->path() / "v1.db";
    {
        sqlite3* raw = nullptr;
        ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
        const std::string v1 = std::string(migrations()[0].sql) +
                               "PRAGMA user_version = 1;"
                               "INSERT INTO layers (id, key, parent, state) VALUES "
                               "(1, 'a', NULL, 'ready'), (2, 'b', 1, 'ready'), "
                               "(3, 'c', 2, 'pending'), (4, 'd', 1, 'ready'), (5, 'e', NULL, "
                               "'ready');";
        EXPECT_EQ(sqlite3_exec(raw, v1.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
            << sqlite3_errmsg(raw);
        sqlite3_close(raw);
    }
    auto migrated = Database::open(path);
    ASSERT_TRUE(migrated) << migrated.error().to_string();
    EXPECT_EQ(query_text(*migrated,
                         "SELECT group_concat(depth, ',') FROM (SELECT depth FROM "
                         "layers ORDER BY id)"),
              "1,2,3,2,1");
    EXPECT_EQ(query_text(*migrated, "SELECT count(*) FROM layers WHERE merges IS NOT NULL"), "0");
    EXPECT_EQ(LayerTable(*migrated).get(3)->depth, 3);
}

TEST_F(DatabaseTest, NewerSchemaIsRefused) {
    ASSERT_TRUE(db().exec("PRAGMA user_version = 999"));
    db_.reset();
    auto reopened = Database::open(db_path());
    ASSERT_FALSE(reopened);
    EXPECT_EQ(reopened.error().code(), Code::kFailedPrecondition);
    EXPECT_NE(reopened.error().message().find("schema version 999 is newer"), std::string::npos)
        << reopened.error().message();
}

TEST_F(DatabaseTest, MissingDirectoryIsNotFound) {
    auto opened = Database::open(dir_->path() / "no" / "such" / "metadata.db");
    ASSERT_FALSE(opened);
    EXPECT_EQ(opened.error().code(), Code::kNotFound) << opened.error().to_string();
    EXPECT_EQ(opened.error().sys_errno(), ENOENT);
}

TEST_F(DatabaseTest, FileThatIsNotADatabaseIsDataLoss) {
    const auto path = dir_->path() / "garbage.db";
    std::ofstream(path) << std::string(4096, 'x');
    auto opened = Database::open(path);
    ASSERT_FALSE(opened);
    EXPECT_EQ(opened.error().code(), Code::kDataLoss) << opened.error().to_string();
}

TEST_F(DatabaseTest, FailedTransactionRollsBackEverything) {
    ImageRecord record = image(1);
    auto result = db().transaction([&]() -> Result<void> {
        GROVE_ASSIGN_OR_RETURN(const int64_t layer,
                               LayerTable(db()).insert_pending(LayerRecord{.key = "k"}));
        GROVE_TRY(LayerTable(db()).mark_ready(layer, 1));
        record.top_layer = layer;
        record.tag = "t";
        GROVE_TRY(ImageTable(db()).insert(record, std::vector<std::string>{"sha256:a"}));
        return Error(Code::kAborted, "late failure");
    });
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code(), Code::kAborted);
    EXPECT_EQ(query_text(db(),
                         "SELECT (SELECT count(*) FROM images) + (SELECT count(*) FROM "
                         "layers) + (SELECT count(*) FROM tags) + (SELECT count(*) FROM "
                         "image_blobs)"),
              "0");
}

TEST_F(DatabaseTest, FailedNestedTransactionRollsBackOnlyItself) {
    const ImageRecord first = image(1);
    auto result = db().transaction([&]() -> Result<void> {
        GROVE_TRY(ImageTable(db()).insert(first, {}));
        // The duplicate fails inside its own savepoint, after its blob rows would have gone in.
        auto duplicate = ImageTable(db()).insert(first, std::vector<std::string>{"sha256:a"});
        EXPECT_FALSE(duplicate);
        return {};
    });
    ASSERT_TRUE(result) << result.error().to_string();
    EXPECT_EQ(query_text(db(), "SELECT count(*) FROM images"), "1");
    EXPECT_EQ(query_text(db(), "SELECT count(*) FROM image_blobs"), "0");
}

TEST_F(DatabaseTest, SqliteErrorsMapToCodes) {
    EXPECT_EQ(code_from_sqlite(SQLITE_CONSTRAINT_UNIQUE, 0), Code::kAlreadyExists);
    EXPECT_EQ(code_from_sqlite(SQLITE_CONSTRAINT_PRIMARYKEY, 0), Code::kAlreadyExists);
    EXPECT_EQ(code_from_sqlite(SQLITE_CONSTRAINT_FOREIGNKEY, 0), Code::kFailedPrecondition);
    EXPECT_EQ(code_from_sqlite(SQLITE_CONSTRAINT_CHECK, 0), Code::kFailedPrecondition);
    EXPECT_EQ(code_from_sqlite(SQLITE_BUSY, 0), Code::kUnavailable);
    EXPECT_EQ(code_from_sqlite(SQLITE_BUSY_SNAPSHOT, 0), Code::kUnavailable);
    EXPECT_EQ(code_from_sqlite(SQLITE_LOCKED, 0), Code::kUnavailable);
    EXPECT_EQ(code_from_sqlite(SQLITE_CORRUPT, 0), Code::kDataLoss);
    EXPECT_EQ(code_from_sqlite(SQLITE_NOTADB, 0), Code::kDataLoss);
    EXPECT_EQ(code_from_sqlite(SQLITE_FULL, 0), Code::kResourceExhausted);
    EXPECT_EQ(code_from_sqlite(SQLITE_IOERR_WRITE, ENOSPC), Code::kResourceExhausted);
    EXPECT_EQ(code_from_sqlite(SQLITE_IOERR_WRITE, 0), Code::kInternal);
    EXPECT_EQ(code_from_sqlite(SQLITE_ERROR, 0), Code::kInternal);
}

TEST_F(DatabaseTest, RawForeignKeyViolationIsFailedPreconditionWithSqliteMessage) {
    auto result = db().exec(
        "INSERT INTO images (uuid, parent, kind, created_ns, operation, config_json) VALUES "
        "('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002', "
        "'run', 1, 'op', '{}')");
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code(), Code::kFailedPrecondition);
    EXPECT_NE(result.error().message().find("FOREIGN KEY constraint failed"), std::string::npos)
        << result.error().message();
}

TEST_F(DatabaseTest, BindOutOfRangeIsReportedByStep) {
    auto stmt = db().prepare("SELECT ?1");
    ASSERT_TRUE(stmt);
    stmt->bind(1, ~uint64_t{0});
    auto row = stmt->step();
    ASSERT_FALSE(row);
    EXPECT_EQ(row.error().code(), Code::kOutOfRange);
}

// Two connections stand in for two processes: SQLite locks the file the same way for both.
TEST_F(DatabaseTest, TwoConnectionsWriteConcurrentlyWithoutBusyErrors) {
    constexpr int kPerWriter = 15;
    std::latch start(2);
    std::atomic<int> failures{0};
    auto writer = [&](const std::string& name) {
        auto opened = Database::open(db_path());
        if (!opened) {
            ADD_FAILURE() << opened.error().to_string();
            ++failures;
            start.count_down();
            return;
        }
        // Both connections are open before either writes, so their transactions overlap.
        start.arrive_and_wait();
        for (int i = 0; i < kPerWriter; ++i) {
            auto result = opened->transaction([&]() -> Result<void> {
                LayerTable layers(*opened);
                GROVE_ASSIGN_OR_RETURN(
                    const int64_t layer,
                    layers.insert_pending(LayerRecord{.key = fmt::format("{}-{}", name, i)}));
                GROVE_TRY(layers.mark_ready(layer, 1));
                ImageRecord record = image(i);
                record.top_layer = layer;
                GROVE_TRY(ImageTable(*opened).insert(record, {}));
                // Read back through the list, as a concurrent API call would.
                GROVE_TRY(ImageTable(*opened).list({.limit = 5}));
                return {};
            });
            if (!result) {
                ADD_FAILURE() << result.error().to_string();
                ++failures;
            }
        }
    };
    {
        std::jthread a(writer, "a");
        std::jthread b(writer, "b");
    }
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(query_text(db(), "SELECT count(*) FROM images"), std::to_string(2 * kPerWriter));
}

}  // namespace
}  // namespace grove::store
