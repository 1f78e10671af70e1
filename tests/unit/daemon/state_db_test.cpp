#include "daemon/state_db.hpp"

#include <gtest/gtest.h>

#include "base/json.hpp"
#include "daemon/event_table.hpp"
#include "daemon/file_table.hpp"
#include "daemon/operation_table.hpp"
#include "state_fixture.hpp"

namespace grove::daemon {
namespace {

using StateDbTest = StateTest;

TEST_F(StateDbTest, ASecondDaemonOnTheSameRootIsRefused) {
    auto second = StateDb::open(dir_->path());
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code(), Code::kUnavailable);
}

int64_t synchronous(store::Database& db) {
    auto stmt = db.prepare("PRAGMA synchronous");
    EXPECT_TRUE(stmt && *stmt->step());
    return stmt ? stmt->column_int64(0) : -1;
}

TEST_F(StateDbTest, OnlyUnsyncedBodiesCommitWithoutFsync) {
    constexpr int64_t kNormal = 1;
    constexpr int64_t kFull = 2;
    state_->with([&](store::Database& db) { EXPECT_EQ(synchronous(db), kFull); });
    const auto record = operation(1);
    auto inserted = state_->with_unsynced([&](store::Database& db) {
        EXPECT_EQ(synchronous(db), kNormal);
        return OperationTable(db).insert(record);
    });
    EXPECT_TRUE(inserted);
    state_->with([&](store::Database& db) {
        EXPECT_EQ(synchronous(db), kFull) << "with() commits are fsynced again";
        EXPECT_TRUE(OperationTable(db).get(record.uuid)) << "the unsynced commit is visible";
    });
}

TEST_F(StateDbTest, RestartFailsUnfinishedOperationsAndKeepsEverythingElse) {
    const auto pending = operation(1);
    const auto executing = operation(2);
    const auto done = operation(3);
    std::string file_uuid;
    state_->with([&](store::Database& db) {
        OperationTable operations(db);
        ASSERT_TRUE(operations.insert(pending));
        ASSERT_TRUE(operations.insert(executing));
        ASSERT_TRUE(operations.insert(done));
        ASSERT_TRUE(operations.advance(executing.uuid, OperationStatus::kExecuting, 5));
        const std::vector<EventRecord> log{{.id = 0, .type = "init"}, {.id = 1, .type = "spawn"}};
        ASSERT_TRUE(EventTable(db).append(executing.uuid, log));
        ASSERT_TRUE(operations.finish(done.uuid, {.status = OperationStatus::kSuccess}, 6));
        file_uuid = FileTable(db).put(std::string(64, 'f'), 7, 8)->uuid;
    });
    EXPECT_EQ(state_->recovered(), 0u);

    reopen();
    EXPECT_EQ(state_->recovered(), 2u);
    state_->with([&](store::Database& db) {
        OperationTable operations(db);
        for (const auto& uuid : {pending.uuid, executing.uuid}) {
            auto record = operations.get(uuid);
            ASSERT_TRUE(record);
            EXPECT_EQ(record->status, OperationStatus::kFailed);
            EXPECT_EQ(record->error, kRestartedError);
            EXPECT_TRUE(record->finished_ns);
        }
        EXPECT_EQ(operations.get(done.uuid)->status, OperationStatus::kSuccess);
        EXPECT_TRUE(operations.unfinished()->empty());

        auto log = EventTable(db).list(executing.uuid, -1);
        ASSERT_EQ(log->size(), 3u) << "the log keeps its events and gains a completion";
        EXPECT_EQ(log->back().id, 2);
        EXPECT_EQ(log->back().type, "completion");
        auto data = base::parse_json(log->back().data_json);
        ASSERT_TRUE(data);
        EXPECT_EQ((*data)["status"], "FAILED");
        EXPECT_EQ((*data)["error"], kRestartedError);
        EXPECT_TRUE(EventTable(db).list(done.uuid, -1)->empty());

        EXPECT_EQ(FileTable(db).get(file_uuid)->size, 7u);
    });

    reopen();
    EXPECT_EQ(state_->recovered(), 0u) << "recovery happens once";
}

}  // namespace
}  // namespace grove::daemon
