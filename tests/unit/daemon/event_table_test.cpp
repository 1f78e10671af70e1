#include "daemon/event_table.hpp"

#include <gtest/gtest.h>

#include "daemon/operation_table.hpp"
#include "state_fixture.hpp"

namespace grove::daemon {
namespace {

using EventTableTest = StateTest;

EventRecord event(int64_t id, std::string type) {
    return EventRecord{.id = id, .ts_ns = 1000 + id, .spid = 1, .type = std::move(type)};
}

TEST_F(EventTableTest, AppendsAndListsAfterAnId) {
    const auto op = operation(1);
    state_->with([&](store::Database& db) {
        ASSERT_TRUE(OperationTable(db).insert(op));
        EventTable events(db);
        EXPECT_EQ(*events.next_id(op.uuid), 0);
        const std::vector<EventRecord> batch{event(0, "init"), event(1, "spawn"),
                                             event(2, "stdout")};
        ASSERT_TRUE(events.append(op.uuid, batch));
        EXPECT_EQ(*events.next_id(op.uuid), 3);

        auto all = events.list(op.uuid, -1);
        ASSERT_TRUE(all);
        ASSERT_EQ(all->size(), 3u);
        EXPECT_EQ((*all)[0].type, "init");
        EXPECT_EQ((*all)[2].ts_ns, 1002);

        auto after = events.list(op.uuid, 1);
        ASSERT_EQ(after->size(), 1u) << "`after` is exclusive";
        EXPECT_EQ(after->front().id, 2);
        EXPECT_TRUE(events.list(op.uuid, 2)->empty());
    });
}

TEST_F(EventTableTest, ABatchWithATakenIdAddsNothing) {
    const auto op = operation(1);
    state_->with([&](store::Database& db) {
        ASSERT_TRUE(OperationTable(db).insert(op));
        EventTable events(db);
        const std::vector<EventRecord> first{event(0, "init")};
        ASSERT_TRUE(events.append(op.uuid, first));
        const std::vector<EventRecord> clash{event(1, "spawn"), event(0, "again")};
        EXPECT_EQ(events.append(op.uuid, clash).error().code(), Code::kAlreadyExists);
        EXPECT_EQ(events.list(op.uuid, -1)->size(), 1u);
    });
}

TEST_F(EventTableTest, EventsNeedTheirOperation) {
    state_->with([&](store::Database& db) {
        const std::vector<EventRecord> batch{event(0, "init")};
        EXPECT_EQ(EventTable(db).append(store::new_uuid(), batch).error().code(),
                  Code::kFailedPrecondition);
    });
}

}  // namespace
}  // namespace grove::daemon
