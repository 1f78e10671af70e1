#include "daemon/operation_table.hpp"

#include <gtest/gtest.h>

#include "state_fixture.hpp"

namespace grove::daemon {
namespace {

using OperationTableTest = StateTest;

TEST_F(OperationTableTest, InsertGetAndTheLifecycle) {
    const auto record = operation(100);
    state_->with([&](store::Database& db) {
        OperationTable table(db);
        ASSERT_TRUE(table.insert(record));
        EXPECT_EQ(table.insert(record).error().code(), Code::kAlreadyExists);

        auto got = table.get(record.uuid);
        ASSERT_TRUE(got) << got.error().to_string();
        EXPECT_EQ(got->status, OperationStatus::kPending);
        EXPECT_EQ(got->request_json, record.request_json);
        EXPECT_FALSE(got->started_ns);

        ASSERT_TRUE(table.advance(record.uuid, OperationStatus::kAssigned, 150));
        ASSERT_TRUE(table.advance(record.uuid, OperationStatus::kExecuting, 200,
                                  std::string("image-uuid")));
        got = table.get(record.uuid);
        EXPECT_EQ(got->status, OperationStatus::kExecuting);
        EXPECT_EQ(got->started_ns, 200);
        EXPECT_EQ(got->image_uuid, "image-uuid");
        EXPECT_EQ(got->duration_ns(260), 60);

        const OperationOutcome outcome{.status = OperationStatus::kSuccess,
                                       .result_json = R"({"state":{"exit_code":0}})",
                                       .result_image_uuid = "result",
                                       .result_tag = "t",
                                       .image_size = 4096};
        ASSERT_TRUE(table.finish(record.uuid, outcome, 300));
        got = table.get(record.uuid);
        EXPECT_EQ(got->status, OperationStatus::kSuccess);
        EXPECT_EQ(got->finished_ns, 300);
        EXPECT_EQ(got->duration_ns(999), 100) << "a finished operation's duration is fixed";
        EXPECT_EQ(got->result_image_uuid, "result");
        EXPECT_EQ(got->result_tag, "t");
        EXPECT_EQ(got->image_size, 4096u);
        EXPECT_EQ(got->result_json, outcome.result_json);
    });
}

TEST_F(OperationTableTest, AFinishedOperationCannotBeFinishedOrAdvancedAgain) {
    const auto record = operation(1);
    state_->with([&](store::Database& db) {
        OperationTable table(db);
        ASSERT_TRUE(table.insert(record));
        ASSERT_TRUE(table.finish(record.uuid, {.status = OperationStatus::kCancelled}, 2));
        EXPECT_EQ(
            table.finish(record.uuid, {.status = OperationStatus::kSuccess}, 3).error().code(),
            Code::kFailedPrecondition);
        EXPECT_EQ(table.advance(record.uuid, OperationStatus::kExecuting, 3).error().code(),
                  Code::kFailedPrecondition);
        EXPECT_EQ(table.get(record.uuid)->status, OperationStatus::kCancelled);
        EXPECT_EQ(
            table.finish(store::new_uuid(), {.status = OperationStatus::kFailed}, 3).error().code(),
            Code::kNotFound);
    });
}

TEST_F(OperationTableTest, ListFiltersAndPagesNewestFirst) {
    state_->with([&](store::Database& db) {
        OperationTable table(db);
        std::vector<std::string> uuids;
        for (int i = 0; i < 5; ++i) {
            auto record = operation(
                100 + i, i % 2 == 0 ? OperationKind::kInstance : OperationKind::kImageImport);
            ASSERT_TRUE(table.insert(record));
            uuids.push_back(record.uuid);
        }
        ASSERT_TRUE(table.finish(uuids[4], {.status = OperationStatus::kFailed}, 200));

        auto all = table.list({});
        ASSERT_TRUE(all);
        ASSERT_EQ(all->size(), 5u);
        EXPECT_EQ(all->front().uuid, uuids[4]);
        EXPECT_EQ(all->back().uuid, uuids[0]);

        auto page = table.list({.limit = 2, .offset = 1});
        ASSERT_EQ(page->size(), 2u);
        EXPECT_EQ((*page)[0].uuid, uuids[3]);
        EXPECT_EQ((*page)[1].uuid, uuids[2]);

        EXPECT_EQ(table.list({.kind = OperationKind::kImageImport})->size(), 2u);
        EXPECT_EQ(table.list({.status = OperationStatus::kFailed})->size(), 1u);
        EXPECT_EQ(table.list({.status = OperationStatus::kPending})->size(), 4u);
        EXPECT_EQ(table.list({.since_ns = 102})->size(), 3u);
        EXPECT_EQ(table.list({.since_ns = 101, .until_ns = 103})->size(), 2u);
        EXPECT_EQ(table.unfinished()->size(), 4u);
    });
}

TEST_F(OperationTableTest, RefusesIdsThatAreNotUuids) {
    auto record = operation(1);
    record.uuid = "not-a-uuid";
    state_->with([&](store::Database& db) {
        EXPECT_EQ(OperationTable(db).insert(record).error().code(), Code::kInvalidArgument);
    });
}

}  // namespace
}  // namespace grove::daemon
