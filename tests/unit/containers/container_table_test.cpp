// The containers' records in a real SQLite database.

#include "containers/container_table.hpp"

#include <gtest/gtest.h>

#include "base/temp_dir.hpp"
#include "containers/names.hpp"

namespace grove::containers {
namespace {

class ContainerTableTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto dir = base::TempDir::create("grove-ctr-table-");
        ASSERT_TRUE(dir);
        dir_.emplace(std::move(dir).value());
        auto db = store::Database::open(dir_->path() / "containers.db", container_schema());
        ASSERT_TRUE(db) << db.error().to_string();
        db_.emplace(std::move(db).value());
    }

    Container make(std::string name, int64_t created) {
        Container c;
        c.id = new_container_id();
        c.name = std::move(name);
        c.image_uuid = "img";
        c.image_ref = "busybox";
        c.created_ns = created;
        c.entrypoint = {"/bin/sh"};
        c.cmd = {"-c", "true"};
        c.labels = {{"a", "1"}};
        c.stop_signal = 15;
        c.config.id = c.id;
        c.config.argv = {"/bin/sh", "-c", "true"};
        return c;
    }

    std::optional<base::TempDir> dir_;
    std::optional<store::Database> db_;
};

TEST_F(ContainerTableTest, InsertGetUpdateRemove) {
    ContainerTable table(*db_);
    auto c = make("web", 1);
    ASSERT_TRUE(table.insert(c));
    auto got = table.get(c.id);
    ASSERT_TRUE(got) << got.error().to_string();
    EXPECT_EQ(got->name, "web");
    EXPECT_EQ(got->cmd, c.cmd);
    EXPECT_EQ(got->labels, c.labels);
    EXPECT_EQ(got->config.argv, c.config.argv);
    EXPECT_EQ(got->state.status, Status::kCreated);

    ContainerState state{.status = Status::kExited,
                         .pid = 0,
                         .exit_code = 3,
                         .oom_killed = true,
                         .error = "e",
                         .started_ns = 5,
                         .finished_ns = 6};
    ASSERT_TRUE(table.set_state(c.id, state, 2));
    got = table.get(c.id);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->state.status, Status::kExited);
    EXPECT_EQ(got->state.exit_code, 3);
    EXPECT_TRUE(got->state.oom_killed);
    EXPECT_EQ(got->state.finished_ns, 6);
    EXPECT_EQ(got->restart_count, 2);

    ASSERT_TRUE(table.remove(c.id));
    EXPECT_EQ(table.get(c.id).error().code(), Code::kNotFound);
    EXPECT_EQ(table.remove(c.id).error().code(), Code::kNotFound);
}

TEST_F(ContainerTableTest, NamesAreUniqueAndListIsNewestFirst) {
    ContainerTable table(*db_);
    auto a = make("first", 1);
    auto b = make("second", 2);
    ASSERT_TRUE(table.insert(a));
    ASSERT_TRUE(table.insert(b));
    EXPECT_EQ(table.insert(make("first", 3)).error().code(), Code::kAlreadyExists);
    EXPECT_EQ(table.set_name(b.id, "first").error().code(), Code::kAlreadyExists);
    ASSERT_TRUE(table.set_name(b.id, "renamed"));
    auto all = table.all();
    ASSERT_TRUE(all);
    ASSERT_EQ(all->size(), 2u);
    EXPECT_EQ((*all)[0].name, "renamed");
    EXPECT_EQ((*all)[1].name, "first");
}

TEST_F(ContainerTableTest, RestartPolicyManualStopAndHealthcheck) {
    ContainerTable table(*db_);
    auto c = make("policy", 1);
    c.restart = {.kind = RestartKind::kOnFailure, .max_retries = 3};
    c.healthcheck = Healthcheck{.test = {"CMD", "true"}, .interval_ns = 5, .retries = 2};
    ASSERT_TRUE(table.insert(c));
    auto plain = make("plain", 2);
    ASSERT_TRUE(table.insert(plain));
    ASSERT_TRUE(table.set_manually_stopped(c.id, true));

    auto got = table.get(c.id);
    ASSERT_TRUE(got) << got.error().to_string();
    EXPECT_EQ(got->restart.kind, RestartKind::kOnFailure);
    EXPECT_EQ(got->restart.max_retries, 3);
    EXPECT_TRUE(got->manually_stopped);
    ASSERT_TRUE(got->healthcheck);
    EXPECT_EQ(got->healthcheck->test, (std::vector<std::string>{"CMD", "true"}));
    EXPECT_EQ(got->healthcheck->interval_ns, 5);
    EXPECT_EQ(got->healthcheck->retries, 2);
    auto other = table.get(plain.id);
    ASSERT_TRUE(other);
    EXPECT_EQ(other->restart.kind, RestartKind::kNo);
    EXPECT_FALSE(other->manually_stopped);
    EXPECT_FALSE(other->healthcheck);
}

}  // namespace
}  // namespace grove::containers
