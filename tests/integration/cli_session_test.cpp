// `grove session`, run as a user runs it: the real binary on the fixture's store, and the same
// commands against the fixture's groved with --host. The active session lives in a temporary
// XDG_CONFIG_HOME.

#include "base/child_process.hpp"
#include "base/json.hpp"
#include "groved_fixture.hpp"

namespace grove::testing {
namespace {

class CliSessionTest : public GrovedFixture, public ::testing::WithParamInterface<bool> {
protected:
    // Runs `grove <place> <args...>`, the place being --root or (remote) --host.
    base::CommandOutput grove(std::vector<std::string> args) {
        std::vector<std::string> argv = {GROVE_BINARY};
        if (GetParam()) {
            argv.insert(argv.end(), {"--host", "unix://" + socket().string()});
        } else {
            argv.insert(argv.end(), {"--root", root().string()});
        }
        argv.insert(argv.end(), args.begin(), args.end());
        auto out = base::run_command(
            {.argv = argv,
             .env =
                 std::vector<std::string>{"XDG_CONFIG_HOME=" + (dir_->path() / "config").string(),
                                          "PATH=/usr/bin:/bin"}},
            std::chrono::minutes(1));
        EXPECT_TRUE(out) << out.error().to_string();
        return out.value_or(base::CommandOutput{.status = {.code = -1}});
    }
};

TEST_P(CliSessionTest, ROOT_NewRunBranchRollbackLogAndRemove) {
    auto none = grove({"session", "log"});
    EXPECT_EQ(none.status.code, 1);
    EXPECT_NE(none.err.find("grove session new"), std::string::npos) << none.err;

    auto created = grove({"session", "new", "work", "busybox"});
    ASSERT_TRUE(created.status.success()) << created.err;
    EXPECT_NE(created.out.find("session work on branch main"), std::string::npos);

    auto first = grove({"session", "run", "-s", "echo 1 > /n; echo ran"});
    ASSERT_TRUE(first.status.success()) << first.err;
    EXPECT_EQ(first.out, "ran\n");
    auto failed = grove({"session", "run", "--", "sh", "-c", "echo 2 > /n; exit 7"});
    EXPECT_EQ(failed.status.code, 7) << "the command's exit code is grove's";
    ASSERT_TRUE(grove({"session", "branch", "try"}).status.success());
    ASSERT_TRUE(grove({"session", "run", "-s", "echo 3 > /n"}).status.success());
    ASSERT_TRUE(grove({"session", "checkout", "main"}).status.success());
    ASSERT_TRUE(grove({"session", "rollback"}).status.success());
    auto cat = grove({"session", "run", "--json", "--disposable", "--", "cat", "/n"});
    ASSERT_TRUE(cat.status.success()) << cat.err;
    EXPECT_EQ(base::parse_json(cat.out).value_or(base::Json())["stdout"], "1\n") << cat.out;

    auto log = grove({"session", "log", "--json"});
    ASSERT_TRUE(log.status.success()) << log.err;
    auto runs = base::parse_json(log.out);
    ASSERT_TRUE(runs) << log.out;
    ASSERT_EQ(runs->size(), 2u) << log.out;
    EXPECT_EQ((*runs)[0]["command"], "echo 1 > /n; echo ran");
    EXPECT_EQ((*runs)[0]["stdout"], "ran\n");
    EXPECT_EQ((*runs)[1]["command"], "");
    auto human = grove({"session", "log"});
    EXPECT_NE(human.out.find("exit 0"), std::string::npos) << human.out;
    EXPECT_NE(human.out.find("(base)"), std::string::npos) << human.out;

    auto listed = grove({"session", "ls"});
    EXPECT_NE(listed.out.find("* work"), std::string::npos) << listed.out;
    EXPECT_NE(listed.out.find("main"), std::string::npos) << listed.out;
    ASSERT_TRUE(grove({"session", "rm", "work"}).status.success());
    EXPECT_EQ(grove({"session", "run", "-s", "true"}).status.code, 1);
}

std::string place_name(const ::testing::TestParamInfo<bool>& place) {
    return place.param ? "Remote" : "Embedded";
}

INSTANTIATE_TEST_SUITE_P(Places, CliSessionTest, ::testing::Values(false, true), place_name);

}  // namespace
}  // namespace grove::testing
