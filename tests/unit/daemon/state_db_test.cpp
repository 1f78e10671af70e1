#include "daemon/state_db.hpp"

#include <latch>
#include <thread>

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

TEST_F(StateDbTest, OnlyUnsyncedWritesCommitWithoutFsync) {
    constexpr int64_t kNormal = 1;
    constexpr int64_t kFull = 2;
    state_->with([&](store::Database& db) { EXPECT_EQ(synchronous(db), kFull); });
    const auto record = operation(1);
    int64_t seen = -1;
    state_->queue_unsynced([&](store::Database& db) {
        seen = synchronous(db);
        EXPECT_TRUE(OperationTable(db).insert(record));
    });
    auto synced = state_->queue([&](store::Database& db) -> Result<void> {
        EXPECT_EQ(synchronous(db), kFull) << "queue() commits are fsynced";
        return {};
    });
    EXPECT_TRUE(synced.get());
    EXPECT_EQ(seen, kNormal);
    state_->with([&](store::Database& db) {
        EXPECT_EQ(synchronous(db), kFull) << "with() commits are fsynced again";
        EXPECT_TRUE(OperationTable(db).get(record.uuid)) << "the unsynced commit is visible";
    });
}

TEST_F(StateDbTest, QueuedWritesRunInOrderAndReportTheirResult) {
    const auto record = operation(1);
    auto inserted =
        state_->queue([&](store::Database& db) { return OperationTable(db).insert(record); });
    state_->queue_unsynced([&](store::Database& db) {
        EXPECT_TRUE(OperationTable(db).advance(record.uuid, OperationStatus::kExecuting, 5));
    });
    auto twice =
        state_->queue([&](store::Database& db) { return OperationTable(db).insert(record); });
    EXPECT_TRUE(inserted.get());
    const auto again = twice.get();
    ASSERT_FALSE(again) << "the second insert of one uuid fails";
    state_->drain();
    state_->with([&](store::Database& db) {
        EXPECT_EQ(OperationTable(db).get(record.uuid)->status, OperationStatus::kExecuting);
    });
}

TEST_F(StateDbTest, DrainWaitsForWhatWasQueuedBefore) {
    std::latch started(1);
    std::latch release(1);
    bool written = false;
    state_->queue_unsynced([&](store::Database&) {
        started.count_down();
        release.wait();
        written = true;
    });
    started.wait();
    std::jthread releaser([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        release.count_down();
    });
    state_->drain();
    EXPECT_TRUE(written);
}

TEST_F(StateDbTest, WhatIsQueuedIsWrittenBeforeTheStateCloses) {
    const auto record = operation(1);
    for (int i = 0; i < 20; ++i) {
        state_->queue_unsynced([&, i](store::Database& db) {
            if (i == 0) {
                EXPECT_TRUE(OperationTable(db).insert(record));
            } else {
                EXPECT_TRUE(
                    OperationTable(db).advance(record.uuid, OperationStatus::kExecuting, i));
            }
        });
    }
    state_.reset();
    reopen();
    state_->with([&](store::Database& db) {
        const auto got = OperationTable(db).get(record.uuid);
        ASSERT_TRUE(got) << "queued before the close, written before it";
        EXPECT_EQ(got->started_ns, 19);
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
