#include <gtest/gtest.h>

#include "metadata_fixture.hpp"
#include "store/metadata/session_table.hpp"
#include "store/metadata/uuid.hpp"

namespace grove::store {
namespace {

using SessionTableTest = MetadataTest;

SessionState run_state(int64_t parent, const std::string& image, const std::string& command) {
    return {.parent = parent,
            .image = image,
            .command = command,
            .exit_code = 1,
            .elapsed_ns = 5,
            .stdout_data = "out\xff",
            .stderr_data = "err",
            .created_ns = 10};
}

TEST_F(SessionTableTest, RunsAdvanceTheCheckedOutBranch) {
    const std::string base = add(image(1));
    const std::string next = add(image(2, base));
    SessionTable sessions(db());
    auto created = sessions.create("work", base, 7);
    ASSERT_TRUE(created) << created.error().to_string();
    EXPECT_EQ(created->branch, "main");
    EXPECT_EQ(created->current().image, base);
    const int64_t root = created->current().head;

    auto appended = sessions.append("work", run_state(root, next, "make"));
    ASSERT_TRUE(appended) << appended.error().to_string();
    EXPECT_EQ(appended->current().image, next);
    auto history = sessions.history("work", 100);
    ASSERT_TRUE(history);
    ASSERT_EQ(history->size(), 2u);
    EXPECT_EQ((*history)[0].command, "make");
    EXPECT_EQ((*history)[0].stdout_data, "out\xff");
    EXPECT_EQ((*history)[0].exit_code, 1);
    EXPECT_EQ((*history)[0].parent, root);
    EXPECT_EQ((*history)[1].id, root);
    EXPECT_EQ(sessions.history("work", 1)->size(), 1u);

    // A run from a head that moved meanwhile is refused, so no run is lost.
    auto stale = sessions.append("work", run_state(root, next, "stale"));
    ASSERT_FALSE(stale);
    EXPECT_EQ(stale.error().code(), Code::kAborted);
}

TEST_F(SessionTableTest, BranchesCheckoutAndRollback) {
    const std::string base = add(image(1));
    const std::string a = add(image(2, base));
    const std::string b = add(image(3, a));
    SessionTable sessions(db());
    const int64_t root = sessions.create("s", base, 1)->current().head;
    const int64_t first = sessions.append("s", run_state(root, a, "a"))->current().head;

    auto branched = sessions.branch("s", "try");
    ASSERT_TRUE(branched) << branched.error().to_string();
    EXPECT_EQ(branched->branch, "try");
    EXPECT_EQ(sessions.branch("s", "try").error().code(), Code::kAlreadyExists);
    ASSERT_TRUE(sessions.append("s", run_state(first, b, "b")));
    EXPECT_EQ(sessions.get("s")->current().image, b);

    auto main = sessions.checkout("s", "main");
    ASSERT_TRUE(main);
    EXPECT_EQ(main->current().image, a);
    EXPECT_EQ(sessions.checkout("s", "none").error().code(), Code::kNotFound);
    auto rolled = sessions.rollback("s", 1);
    ASSERT_TRUE(rolled) << rolled.error().to_string();
    EXPECT_EQ(rolled->current().image, base);
    EXPECT_EQ(sessions.rollback("s", 1).error().code(), Code::kOutOfRange);

    // Any branch's history, whichever is checked out: what `grove tree` draws.
    auto other = sessions.history("s", 100, "try");
    ASSERT_TRUE(other) << other.error().to_string();
    ASSERT_EQ(other->size(), 3u);
    EXPECT_EQ((*other)[0].command, "b");
    EXPECT_EQ(sessions.history("s", 100)->size(), 1u) << "main, checked out, is at the base";
    EXPECT_EQ(sessions.history("s", 100, "none").error().code(), Code::kNotFound);
    EXPECT_EQ(sessions.checkout("s", "try")->current().image, b);
}

TEST_F(SessionTableTest, ASessionPinsTheImagesOfItsHistory) {
    const std::string base = add(image(1));
    const std::string run = add(image(2, base));
    SessionTable sessions(db());
    const int64_t root = sessions.create("s", base, 1)->current().head;
    ASSERT_TRUE(sessions.append("s", run_state(root, run, "x")));
    ASSERT_TRUE(sessions.rollback("s", 1));

    // Rolled back past, the run's image is still in the session's states.
    auto refused = ImageTable(db()).remove(run);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code(), Code::kFailedPrecondition);
    EXPECT_NE(refused.error().message().find("session 's'"), std::string::npos);

    ASSERT_TRUE(sessions.remove("s"));
    EXPECT_EQ(sessions.get("s").error().code(), Code::kNotFound);
    EXPECT_TRUE(ImageTable(db()).remove(run));
    EXPECT_EQ(sessions.remove("s").error().code(), Code::kNotFound);
}

TEST_F(SessionTableTest, NamesAndImagesAreChecked) {
    SessionTable sessions(db());
    EXPECT_EQ(sessions.create("work", new_uuid(), 1).error().code(), Code::kNotFound);
    const std::string base = add(image(1));
    for (const char* bad : {"", "a/b", "with space"}) {
        EXPECT_EQ(sessions.create(bad, base, 1).error().code(), Code::kInvalidArgument) << bad;
    }
    ASSERT_TRUE(sessions.create("work", base, 1));
    EXPECT_EQ(sessions.create("work", base, 1).error().code(), Code::kAlreadyExists);
    EXPECT_EQ(sessions.branch("work", "a/b").error().code(), Code::kInvalidArgument);
    ASSERT_TRUE(sessions.create("other", base, 1));
    auto listed = sessions.list();
    ASSERT_TRUE(listed);
    ASSERT_EQ(listed->size(), 2u);
    EXPECT_EQ(listed->front().name, "other");
}

}  // namespace
}  // namespace grove::store
