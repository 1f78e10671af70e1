// The `grove` CLI as people use it, each command run twice: on the fixture's store (embedded)
// and against the fixture's groved (--host). Plus what only one place has: the configuration
// file and its order, the error for a daemon that is not there, shell completion, and what a real
// terminal gets (a pty through script(1)): box drawing, colours, NO_COLOR.

#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include <fmt/ranges.h>

#include "base/child_process.hpp"
#include "base/json.hpp"
#include "base/scope_exit.hpp"
#include "groved_fixture.hpp"
#include "helpers/local_registry.hpp"
#include "helpers/requirements.hpp"
#include "helpers/test_images.hpp"

namespace grove::testing {
namespace {

class CliTest : public GrovedFixture, public ::testing::WithParamInterface<bool> {
protected:
    std::vector<std::string> env(std::vector<std::string> extra = {}) const {
        extra.push_back("XDG_CONFIG_HOME=" + (dir_->path() / "config").string());
        extra.push_back("PATH=/usr/bin:/bin");
        return extra;
    }

    std::vector<std::string> place() const {
        if (GetParam()) {
            return {"--host", "unix://" + socket().string()};
        }
        return {"--root", root().string()};
    }

    // Runs `grove <place> <args...>` with `extra_env`.
    base::CommandOutput grove(std::vector<std::string> args,
                              std::vector<std::string> extra_env = {},
                              bool with_place = true) {
        std::vector<std::string> argv = {GROVE_BINARY};
        if (with_place) {
            const auto where = place();
            argv.insert(argv.end(), where.begin(), where.end());
        }
        argv.insert(argv.end(), args.begin(), args.end());
        auto out = base::run_command({.argv = argv, .env = env(std::move(extra_env))},
                                     std::chrono::minutes(1));
        EXPECT_TRUE(out) << out.error().to_string();
        return out.value_or(base::CommandOutput{.status = {.code = -1}});
    }

    // The same in a pseudo-terminal (script(1)): what a person sees, escapes included.
    std::string on_tty(std::vector<std::string> args, std::vector<std::string> extra_env) {
        std::string line = GROVE_BINARY;
        for (const auto& word : place()) {
            line += " '" + word + "'";
        }
        for (const auto& word : args) {
            line += " '" + word + "'";
        }
        auto out = base::run_command(
            {.argv = {"script", "-qec", line, "/dev/null"}, .env = env(std::move(extra_env))},
            std::chrono::minutes(1));
        EXPECT_TRUE(out) << out.error().to_string();
        return out ? out->out : "";
    }

    static base::Json json(const base::CommandOutput& out) {
        auto parsed = base::parse_json(out.out);
        EXPECT_TRUE(parsed) << out.out << out.err;
        return parsed.value_or(base::Json());
    }
};

TEST_P(CliTest, ROOT_RunWithNoImageRunsOnTheActiveSessionAndAdvancesIt) {
    auto none = grove({"run", "--", "true"});
    EXPECT_EQ(none.status.code, 1);
    EXPECT_NE(none.err.find("no active session"), std::string::npos) << none.err;

    auto used = grove({"use", "busybox"});
    ASSERT_TRUE(used.status.success()) << used.err;
    EXPECT_NE(used.out.find("session busybox on branch main"), std::string::npos) << used.out;
    ASSERT_TRUE(grove({"use", "busybox"}).status.success()) << "a second session: busybox-2";

    auto first = grove({"run", "--", "sh", "-c", "echo 1 > /n; echo ran"});
    ASSERT_TRUE(first.status.success()) << first.err;
    EXPECT_EQ(first.out, "ran\n");
    EXPECT_EQ(grove({"run", "--disposable", "-s", "echo 2 > /n"}).status.code, 0);
    auto read = grove({"run", "--json", "--", "cat", "/n"});
    EXPECT_EQ(json(read)["stdout"], "1\n") << "the disposable run left the head";
    EXPECT_TRUE(json(read)["result_image"].is_string());
    EXPECT_EQ(grove({"run", "-s", "exit 42"}).status.code, 42);
    EXPECT_EQ(grove({"run", "-t", "0.3", "-s", "sleep 30"}).status.code, 124);

    auto sessions = json(grove({"session", "ls", "--json"}));
    ASSERT_EQ(sessions.size(), 2u);
    EXPECT_EQ(sessions[1]["name"], "busybox-2");
    EXPECT_EQ(sessions[1]["active"], true);

    // An image before `--` (or -I) is a plain run of that image, sessions untouched.
    auto plain = grove({"run", "busybox", "--", "echo", "hi"});
    EXPECT_EQ(plain.out, "hi\n") << plain.err;
    auto flagged = grove({"run", "-I", "busybox", "--json", "--", "cat", "/n"});
    EXPECT_EQ(flagged.status.code, 1) << "busybox has no /n";
    EXPECT_EQ(json(flagged)["exit_code"], 1);
    auto log = json(grove({"session", "log", "--json"}));
    EXPECT_EQ(log.size(), 5u) << log.dump() << ": base, echo, cat, exit 42, timeout";
}

TEST_P(CliTest, ROOT_TreeDrawsTheSessionsBranchesWithTheHeadMarked) {
    ASSERT_TRUE(grove({"session", "new", "work", "busybox"}).status.success());
    ASSERT_TRUE(grove({"run", "-s", "echo 1 > /n"}).status.success());
    ASSERT_TRUE(grove({"session", "branch", "try"}).status.success());
    ASSERT_EQ(grove({"run", "-s", "echo 2 >> /n; exit 3"}).status.code, 3);
    ASSERT_TRUE(grove({"session", "checkout", "main"}).status.success());
    ASSERT_TRUE(grove({"run", "-s", "echo 3 >> /n"}).status.success());
    ASSERT_TRUE(grove({"session", "rollback"}).status.success());
    ASSERT_TRUE(grove({"run", "-s", "echo 4 >> /n"}).status.success());

    // #4 was rolled back: no branch reaches it, so the tree (like git's log) leaves it out.
    auto tree = grove({"tree"});
    ASSERT_TRUE(tree.status.success()) << tree.err;
    EXPECT_EQ(tree.out.find("\x1b["), std::string::npos) << "no colours when piped";
    EXPECT_EQ(tree.out.find("├"), std::string::npos) << "ASCII when piped: " << tree.out;
    EXPECT_NE(tree.out.find("session work on branch main\n#1 "), std::string::npos) << tree.out;
    EXPECT_NE(tree.out.find("[busybox] (base)\n`-- #2 "), std::string::npos) << tree.out;
    EXPECT_NE(tree.out.find("echo 1 > /n\n    |-- #3 "), std::string::npos) << tree.out;
    EXPECT_NE(tree.out.find("echo 2 >> /n; exit 3 (exit 3) <- try\n    `-- #5 "), std::string::npos)
        << tree.out;
    EXPECT_NE(tree.out.find("echo 4 >> /n <- HEAD -> main\n"), std::string::npos) << tree.out;
    EXPECT_EQ(tree.out.find("#4"), std::string::npos) << tree.out;

    auto states = json(grove({"tree", "--json"}))["states"];
    ASSERT_EQ(states.size(), 4u) << states.dump();
    EXPECT_EQ(states[3]["id"], 5);
    EXPECT_EQ(states[3]["head"], true);
    EXPECT_EQ(states[3]["branches"], base::Json::array({"main"}));
    EXPECT_EQ(states[2]["branches"], base::Json::array({"try"}));
    EXPECT_EQ(states[2]["exit_code"], 3);
    EXPECT_EQ(states[0]["tag"], "busybox");

    GROVE_REQUIRE(missing_programs({"script"}));
    const std::string drawn = on_tty({"tree"}, {"LANG=C.UTF-8", "TERM=xterm"});
    EXPECT_NE(drawn.find("└── #2 "), std::string::npos) << drawn;
    EXPECT_NE(drawn.find("    ├── #3 "), std::string::npos) << drawn;
    EXPECT_NE(drawn.find("\x1b[32mHEAD -> main\x1b[0m"), std::string::npos) << drawn;
    const std::string plain = on_tty({"tree"}, {"LANG=C", "TERM=xterm", "NO_COLOR=1"});
    EXPECT_EQ(plain.find("\x1b["), std::string::npos) << plain;
    EXPECT_NE(plain.find("    |-- #3 "), std::string::npos) << plain;
}

TEST_P(CliTest, ROOT_ImagesTagCatAndLsWorkTheSameEverywhere) {
    auto images = json(grove({"images", "--json"}));
    ASSERT_EQ(images.size(), 1u);
    EXPECT_EQ(images[0]["uuid"], busybox_);
    EXPECT_EQ(images[0]["kind"], "imported");
    auto table = grove({"images", "--tagged", "--prefix", "busy"});
    EXPECT_NE(table.out.find("IMAGE"), std::string::npos);
    EXPECT_NE(table.out.find(busybox_), std::string::npos) << table.out;
    EXPECT_EQ(json(grove({"images", "ls", "--prefix", "nope", "--json"})).size(), 0u);
    EXPECT_EQ(json(grove({"images", "--since", "2200-01-01", "--json"})).size(), 0u);

    auto tagged = grove({"tag", "busybox", "team/base"});
    ASSERT_TRUE(tagged.status.success()) << tagged.err;
    EXPECT_EQ(tagged.out, busybox_ + "\n");
    EXPECT_EQ(grove({"cat", "team/base", "/etc/passwd"}).out.substr(0, 5), "root:");
    EXPECT_EQ(grove({"cat", "team/base", "/no/such/file"}).status.code, 1);
    auto listed = json(grove({"ls", "team/base", "/etc", "--json"}));
    bool has_passwd = false;
    for (const auto& entry : listed) {
        has_passwd = has_passwd || entry["name"] == "passwd";
    }
    EXPECT_TRUE(has_passwd) << listed.dump();
    EXPECT_EQ(grove({"run", "--tag", "made", "team/base", "-s", "echo x > /x"}).status.code, 0);
    EXPECT_EQ(grove({"cat", "made", "/x"}).out, "x\n");
}

TEST_P(CliTest, ROOT_ImagesRmUntagAndPruneWorkTheSameEverywhere) {
    ASSERT_TRUE(grove({"run", "--tag", "made", "busybox", "-s", "echo x > /x"}).status.success());
    const auto made =
        json(grove({"images", "--prefix", "made", "--json"}))[0]["uuid"].get<std::string>();
    auto child = json(grove({"run", "--json", "made", "-s", "echo y > /y"}));
    ASSERT_TRUE(child["result_image"].is_string()) << child.dump();
    const auto leaf = child["result_image"].get<std::string>();

    auto tagged = grove({"images", "rm", "made"});
    EXPECT_EQ(tagged.status.code, 1);
    EXPECT_NE(tagged.err.find("grove: "), std::string::npos) << "a tagged image needs --force";
    ASSERT_EQ(grove({"images", "untag", "made"}).status.code, 0);
    EXPECT_EQ(grove({"images", "untag", "made"}).status.code, 1) << "no such tag any more";
    auto still = json(grove({"images", "--tagged", "--json"}));
    ASSERT_EQ(still.size(), 1u) << still.dump();
    EXPECT_EQ(still[0]["uuid"], busybox_);
    EXPECT_EQ(grove({"images", "rm", made}).status.code, 1) << "it has a child";

    auto pruned = grove({"images", "prune", "--json"});
    ASSERT_TRUE(pruned.status.success()) << pruned.err;
    EXPECT_EQ(json(pruned)["removed"], base::Json::array({leaf, made})) << "leaves first";
    EXPECT_EQ(json(grove({"images", "--json"})).size(), 1u);
    auto nothing = grove({"images", "prune"});
    EXPECT_EQ(nothing.out, "");
    EXPECT_NE(nothing.err.find("removed 0 images"), std::string::npos) << nothing.err;

    auto removed = grove({"images", "rm", "--force", "busybox"});
    EXPECT_EQ(removed.out, busybox_ + "\n") << removed.err;
    EXPECT_EQ(json(grove({"images", "--json"})).size(), 0u);
    auto gone = grove({"images", "rm", "busybox"});
    EXPECT_EQ(gone.status.code, 1);
    EXPECT_NE(gone.err.find("busybox"), std::string::npos) << gone.err;
}

TEST_P(CliTest, ROOT_GrepAndCpWorkTheSameEverywhere) {
    auto found = grove({"grep", "busybox", "^root:", "-p", "/etc/passwd"});
    EXPECT_EQ(found.status.code, 0) << found.err;
    EXPECT_EQ(found.out, "/etc/passwd:1:root:x:0:0:root:/root:/bin/sh\n");
    auto matches = json(grove({"grep", "--json", "busybox", "-i", "ROOT:X", "-p", "/etc/passwd"}));
    ASSERT_EQ(matches["matches"].size(), 1u) << matches.dump();
    EXPECT_EQ(matches["matches"][0]["line"], 1);
    EXPECT_EQ(matches["matches"][0]["path"], "/etc/passwd");
    EXPECT_EQ(grove({"grep", "busybox", "-F", "no such text", "-p", "/etc"}).status.code, 1);
    EXPECT_EQ(grove({"grep", "busybox", "bad[regex"}).status.code, 2);

    const auto dest = dir_->path() / "copies";
    std::filesystem::create_directories(dest);
    auto tree = grove({"cp", "busybox:/etc", dest.string()});
    ASSERT_TRUE(tree.status.success()) << tree.err;
    EXPECT_TRUE(std::filesystem::is_regular_file(dest / "etc" / "passwd"));
    EXPECT_EQ(grove({"cp", "busybox:/etc/", dest.string()}).status.code, 1) << "etc exists";
    ASSERT_TRUE(grove({"cp", "busybox:/etc/passwd", (dest / "pw").string()}).status.success());
    std::ifstream copied(dest / "pw");
    std::string first;
    std::getline(copied, first);
    EXPECT_EQ(first, "root:x:0:0:root:/root:/bin/sh");
    auto tar = grove({"cp", "busybox:/etc", "-"});
    ASSERT_TRUE(tar.status.success()) << tar.err;
    EXPECT_NE(tar.out.find("etc/passwd"), std::string::npos);
    EXPECT_EQ(grove({"cp", "busybox:/no/such", (dest / "x").string()}).status.code, 1);
    EXPECT_FALSE(std::filesystem::exists(dest / "x"));
}

// An archive is uploaded to groved first; --platform picks from an index on both.
TEST_P(CliTest, ROOT_ImportsArchivesWithAPlatformEverywhere) {
    auto images = TestImages::load();
    ASSERT_TRUE(images) << images.error().to_string();
    const auto archive = dir_->path() / "multiarch.tar";
    auto packed = base::run_command({.argv = {"tar", "-C", (images->dir() / "multiarch").string(),
                                              "-cf", archive.string(), "."}},
                                    std::chrono::seconds(30));
    ASSERT_TRUE(packed && packed->status.success());
    const std::string source = "oci-archive:" + archive.string() + ":latest";

    auto arm = grove({"import", "-q", "--platform", "linux/arm64/v8", "--tag", "arm", source});
    ASSERT_TRUE(arm.status.success()) << arm.err;
    EXPECT_EQ(arm.out.size(), 37u) << arm.out;
    EXPECT_EQ(grove({"cat", "arm", "/etc/grove-platform"}).out, "linux/arm64/v8\n");
    auto host = grove({"images", "import", "--tag", "amd", source});
    ASSERT_TRUE(host.status.success()) << host.err;
    EXPECT_NE(host.err.find("imported " + source + " as amd"), std::string::npos) << host.err;
    EXPECT_EQ(grove({"cat", "amd", "/etc/grove-platform"}).out, "linux/amd64\n");
    EXPECT_EQ(grove({"import", "--platform", "linux/s390x", source}).status.code, 1);
    EXPECT_EQ(grove({"import", "oci-archive:/no/such.tar"}).status.code, 1);

    auto layout = grove({"import", "-q", images->oci_ref("busybox")});
    if (GetParam()) {
        EXPECT_EQ(layout.status.code, 1);
        EXPECT_NE(layout.err.find("works on the local store only"), std::string::npos)
            << layout.err;
    } else {
        EXPECT_EQ(layout.out, busybox_ + "\n") << layout.err;
    }
}

// Per-layer bars redrawn in place, on the local store and through groved (from its import
// operation's progress events), ending with every layer's final state. multiarch's linux/amd64
// image is small (fast) and has two layers: busybox's, which the store has, and one of its own.
TEST_P(CliTest, ROOT_ImportFromARegistryDrawsPerLayerProgressOnATerminal) {
    GROVE_REQUIRE(missing_programs({"script", "docker-registry", "skopeo"}));
    auto images = TestImages::load();
    ASSERT_TRUE(images) << images.error().to_string();
    auto registry = LocalRegistry::start();
    ASSERT_TRUE(registry) << registry.error().to_string();
    ASSERT_TRUE(registry->push(images->oci_ref("multiarch"), "team/multi:1",
                               {"--all", "--preserve-digests"}));
    const std::string ref = registry->host() + "/team/multi:1";

    const std::string drawn =
        on_tty({"import", "--platform", "linux/amd64", ref, "--tag", "tm"}, {"TERM=xterm"});
    EXPECT_NE(drawn.find("\x1b[2Klayer 1/2 "), std::string::npos) << drawn;
    const size_t last = drawn.rfind("\x1b[2F");
    ASSERT_NE(last, std::string::npos) << "redrawn in place: " << drawn;
    const std::string final_state = drawn.substr(last);
    const auto line_of = [&](const std::string& layer) {
        const size_t at = final_state.find("\x1b[2Klayer " + layer + " ");
        return at == std::string::npos ? ""
                                       : final_state.substr(at, final_state.find('\n', at) - at);
    };
    EXPECT_NE(line_of("1/2").find(" already present "), std::string::npos) << final_state;
    EXPECT_NE(line_of("2/2").find(" done "), std::string::npos) << final_state;
    EXPECT_NE(final_state.find("imported " + ref + " as tm"), std::string::npos) << final_state;
    EXPECT_EQ(grove({"cat", "tm", "/etc/grove-platform"}).out, "linux/amd64\n");
}

TEST_P(CliTest, ROOT_PsWaitAndKillGrovedsOperations) {
    if (!GetParam()) {
        auto ps = grove({"ps", "--json"});
        EXPECT_TRUE(ps.status.success()) << ps.err;
        EXPECT_EQ(ps.out, "[]\n");
        EXPECT_NE(ps.err.find("the embedded engine has no operations"), std::string::npos)
            << ps.err;
        EXPECT_EQ(grove({"kill", "0192a3b4-0000-7000-8000-000000000000"}).status.code, 1);
        return;
    }
    const std::string done = spawn(R"({"image": ")" + busybox_ + R"(", "command": "true"})");
    const std::string slow =
        spawn(R"({"image": ")" + busybox_ + R"(", "command": "sleep", "args": ["60"]})");
    auto waited = grove({"wait", done});
    EXPECT_EQ(waited.status.code, 0) << waited.err;
    EXPECT_EQ(waited.out, done + " SUCCESS\n");

    auto running = json(grove({"ps", "--json"}));
    ASSERT_EQ(running.size(), 1u) << running.dump();
    EXPECT_EQ(running[0]["uuid"], slow);
    EXPECT_EQ(running[0]["kind"], "instance");
    EXPECT_EQ(running[0]["command"], "sleep 60");
    EXPECT_NE(grove({"ps"}).out.find(slow), std::string::npos);

    EXPECT_EQ(grove({"kill", slow}).out, slow + "\n");
    auto cancelled = json(grove({"wait", "--json", slow}));
    EXPECT_EQ(cancelled[0]["status"], "CANCELLED") << cancelled.dump();
    EXPECT_EQ(grove({"wait", slow}).status.code, 1);
    EXPECT_EQ(json(grove({"ps", "--json"})).size(), 0u);
    EXPECT_EQ(json(grove({"ps", "-a", "--json"})).size(), 2u);
    EXPECT_EQ(grove({"kill", slow}).status.code, 1) << "finished: not cancellable";
}

// Docker-style containers: on the local store each under its own grove-shim, with no daemon;
// against groved the ones its Docker API shows too. Each keeps running after the command that
// started it.
// The command traps TERM: as pid 1 of its container it would not get an unhandled one, as under
// dockerd.
TEST_P(CliTest, ROOT_ContainersWorkTheSameEverywhere) {
    auto created = grove({"container", "create", "--name", "web", "-e", "WHO=grove", "busybox",
                          "--", "sh", "-c",
                          "trap 'exit 143' TERM; echo ready $WHO; echo warm >&2; "
                          "while [ ! -e /go ]; do sleep 0.05; done; echo late; "
                          "while :; do sleep 0.05; done"});
    ASSERT_TRUE(created.status.success()) << created.err;
    // A failed assertion leaves no container running (its shim outlives the test).
    base::ScopeExit cleanup([&] { grove({"container", "rm", "-f", "web"}); });
    EXPECT_EQ(created.out.size(), 65u) << created.out;
    auto taken = grove({"container", "create", "--name", "web", "busybox"});
    EXPECT_EQ(taken.status.code, 1);
    EXPECT_NE(taken.err.find("already in use"), std::string::npos) << taken.err;
    EXPECT_EQ(grove({"container", "start", "web"}).out, "web\n");
    auto running = json(grove({"container", "ps", "--json"}));
    ASSERT_EQ(running.size(), 1u) << running.dump();
    EXPECT_EQ(running[0]["status"], "running");
    EXPECT_EQ(running[0]["name"], "web");
    EXPECT_EQ(running[0]["image"], "busybox");
    EXPECT_GT(running[0]["pid"].get<int>(), 0);
    if (GetParam()) {
        http::testing::CurlClient docker({.unix_path = docker_socket().string()});
        auto listed = docker.get("/containers/json");
        EXPECT_NE(listed.body.find("\"/web\""), std::string::npos)
            << "groved's Docker API shows the container its grove routes started: " << listed.body;
    }
    EXPECT_EQ(json(grove({"container", "inspect", "web"}))[0]["id"], running[0]["id"]);

    auto exec = grove(
        {"container", "exec", "web", "--", "sh", "-c", "echo out $WHO; echo err >&2; exit 4"});
    EXPECT_EQ(exec.status.code, 4) << exec.err;
    EXPECT_EQ(exec.out, "out grove\n");
    EXPECT_EQ(exec.err, "err\n");

    // A follower sees what comes after it started and ends when the container stops.
    auto follower = std::async(std::launch::async, [&] {
        return grove({"container", "logs", "-f", "web"});
    });
    EXPECT_EQ(grove({"container", "exec", "web", "--", "touch", "/go"}).status.code, 0);
    EXPECT_EQ(grove({"container", "logs", "web"}).err, "warm\n");
    for (int i = 0;
         i < 200 && grove({"container", "logs", "web"}).out.find("late") == std::string::npos;
         ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_TRUE(grove({"container", "stop", "-t", "1", "web"}).status.success());
    ASSERT_EQ(follower.wait_for(std::chrono::seconds(30)), std::future_status::ready);
    auto followed = follower.get();
    EXPECT_EQ(followed.out, "ready grove\nlate\n") << followed.err;
    EXPECT_EQ(followed.err, "warm\n");
    EXPECT_EQ(grove({"container", "logs", "--tail", "1", "web"}).out, "late\n");

    EXPECT_EQ(json(grove({"container", "ps", "--json"})).size(), 0u);
    auto table = grove({"container", "ps", "-a"});
    EXPECT_NE(table.out.find("web"), std::string::npos) << table.out;
    EXPECT_NE(table.out.find("exited"), std::string::npos) << table.out;
    for (auto refused :
         {grove({"container", "exec", "web", "--", "true"}), grove({"container", "kill", "web"})}) {
        EXPECT_EQ(refused.status.code, 1);
        EXPECT_NE(refused.err.find("not running"), std::string::npos) << refused.err;
    }
    for (const std::string command : {"start", "stop", "kill", "logs", "exec", "inspect", "rm"}) {
        auto unknown = command == "exec" ? grove({"container", "exec", "nope", "--", "true"})
                                         : grove({"container", command, "nope"});
        EXPECT_EQ(unknown.status.code, 1) << command;
        EXPECT_NE(unknown.err.find("no such container: nope"), std::string::npos)
            << command << ": " << unknown.err;
    }

    ASSERT_TRUE(grove({"container", "start", "web"}).status.success());
    EXPECT_EQ(grove({"container", "exec", "web", "--", "touch", "/go"}).status.code, 0);
    EXPECT_EQ(grove({"container", "kill", "-s", "TERM", "web"}).out, "web\n");
    // A follower ends when the container stops: here, a wait for the signal's effect.
    EXPECT_TRUE(grove({"container", "logs", "-f", "web"}).status.success());
    EXPECT_EQ(json(grove({"container", "inspect", "web"}))[0]["exit_code"], 143);
    ASSERT_TRUE(grove({"container", "start", "web"}).status.success());
    auto busy = grove({"container", "rm", "web"});
    EXPECT_EQ(busy.status.code, 1) << "running: needs -f";
    EXPECT_EQ(grove({"container", "rm", "-f", "web"}).out, "web\n");
    cleanup.dismiss();
    EXPECT_EQ(json(grove({"container", "ps", "-a", "--json"})).size(), 0u);
}

// --network and --runtime on a session's run and against groved, as on the local store with an
// image: in RunOptions, and groved's instance request as grove's extensions.
TEST_P(CliTest, ROOT_RunTakesNetworkAndRuntimeEverywhere) {
    // Interface names only: the counters move while the test runs.
    const std::string names = "grep : /proc/net/dev | cut -d: -f1 | tr -d ' '";
    const auto host_names =
        base::run_command({.argv = {"/bin/sh", "-c", names}}, std::chrono::seconds(10));
    ASSERT_TRUE(host_names);
    ASSERT_TRUE(grove({"use", "busybox"}).status.success());
    EXPECT_EQ(grove({"run", "--disposable", "-s", names}).out, "lo\n");
    auto on_host = grove({"run", "--disposable", "--network", "host", "-s", names});
    EXPECT_EQ(on_host.status.code, 0) << on_host.err;
    EXPECT_EQ(on_host.out, host_names->out);
    auto advanced = grove({"run", "--network", "host", "-s", "touch /advanced"});
    EXPECT_EQ(advanced.status.code, 0) << advanced.err;
    EXPECT_EQ(grove({"run", "--disposable", "--", "ls", "/advanced"}).out, "/advanced\n");
    if (GetParam()) {
        EXPECT_EQ(grove({"run", "--disposable", "--network", "host", "busybox", "-s", names}).out,
                  host_names->out);
    }
    if (base::find_program("crun").has_value()) {
        auto crun = grove({"run", "--disposable", "--runtime", "crun", "--", "echo", "hi"});
        EXPECT_EQ(crun.out, "hi\n") << crun.err;
    }
}

// An archive bigger than grove's memory imports everywhere: against groved it is uploaded in pieces
// from the file, so grove's peak memory stays far below the file's size.
TEST_P(CliTest, ROOT_ImportsAFileBiggerThanGrovesMemory) {
    GROVE_REQUIRE(missing_programs({"tar", "/usr/bin/time"}));
    constexpr size_t kMiB = 1 << 20;
    constexpr size_t kPayload = 160 * kMiB;
    const auto content = dir_->path() / "content";
    std::filesystem::create_directories(content);
    {
        std::ofstream payload(content / "payload", std::ios::binary);
        const std::string chunk(kMiB, 'g');
        for (size_t written = 0; written < kPayload; written += kMiB) {
            payload << chunk;
        }
    }
    const auto tarball = dir_->path() / "big.tar";
    auto packed = base::run_command(
        {.argv = {"tar", "cf", tarball.string(), "-C", content.string(), "payload"}},
        std::chrono::seconds(30));
    ASSERT_TRUE(packed && packed->status.success());
    std::filesystem::remove(content / "payload");

    // grove's peak resident memory in KiB for `args`, which must succeed.
    const auto peak_kib = [&](const std::vector<std::string>& args) -> size_t {
        std::vector<std::string> argv = {"/usr/bin/time", "-f", "max_rss_kib=%M", GROVE_BINARY};
        const auto where = place();
        argv.insert(argv.end(), where.begin(), where.end());
        argv.insert(argv.end(), args.begin(), args.end());
        auto ran = base::run_command({.argv = argv, .env = env()}, std::chrono::minutes(1));
        EXPECT_TRUE(ran && ran->status.success()) << (ran ? ran->err : ran.error().to_string());
        const size_t at = ran ? ran->err.rfind("max_rss_kib=") : std::string::npos;
        return at == std::string::npos ? SIZE_MAX : std::stoul(ran->err.substr(at + 12));
    };
    // A sanitized build's baseline is a few hundred MiB: compared with a command that reads
    // nothing.
    const size_t baseline_kib = peak_kib({"images", "--json"});
    const size_t import_kib =
        peak_kib({"import", "-q", "rootfs:" + tarball.string(), "--tag", "big"});
    if (GetParam()) {  // the local import's own buffers are the store's business
        EXPECT_LT(import_kib, baseline_kib + kPayload / 2 / 1024)
            << "grove held the file in memory: " << import_kib << " KiB at the peak, "
            << baseline_kib << " KiB for a listing";
    }
    auto listed = json(grove({"ls", "--json", "big", "/"}));
    bool found = false;
    for (const auto& entry : listed) {
        if (entry.value("name", "") == "payload") {
            found = true;
            EXPECT_EQ(entry.value("size", uint64_t{0}), kPayload);
        }
    }
    EXPECT_TRUE(found) << listed.dump();
}

std::string place_name(const ::testing::TestParamInfo<bool>& place) {
    return place.param ? "Remote" : "Embedded";
}

INSTANTIATE_TEST_SUITE_P(Places, CliTest, ::testing::Values(false, true), place_name);

class CliSetupTest : public CliTest {};

// Flags over the environment over ~/.config/grove/config, for host, token and root.
TEST_P(CliSetupTest, ROOT_ConfigFileThenEnvironmentThenFlags) {
    const std::string real = "unix://" + socket().string();
    const std::string absent = "unix://" + (dir_->path() / "absent.sock").string();
    std::filesystem::create_directories(dir_->path() / "config" / "grove");
    const auto config = dir_->path() / "config" / "grove" / "config";
    const std::string tcp = "http://127.0.0.1:" + std::to_string(port_);
    const auto listed = [&](std::vector<std::string> env, std::vector<std::string> flags = {}) {
        flags.insert(flags.end(), {"images", "--json"});
        return grove(flags, std::move(env), false);
    };

    std::ofstream(config) << "# grove's settings\nhost = " << real << "\n";
    EXPECT_TRUE(listed({}).status.success()) << "the file's host";
    auto env_wins = listed({"GROVE_HOST=" + absent});
    EXPECT_EQ(env_wins.status.code, 1);
    EXPECT_NE(env_wins.err.find("cannot reach groved at " + absent +
                                ": is it running? start it with `groved --listen " + absent),
              std::string::npos)
        << env_wins.err;
    EXPECT_TRUE(listed({"GROVE_HOST=" + absent}, {"--host", real}).status.success()) << "flag";

    std::ofstream(config) << "host = " << tcp << "\ntoken = wrong\n";
    EXPECT_EQ(listed({}).status.code, 1) << "the file's wrong token";
    EXPECT_TRUE(listed({std::string("GROVE_TOKEN=") + kTestToken}).status.success());
    EXPECT_TRUE(listed({"GROVE_TOKEN=wrong"}, {"--token", kTestToken}).status.success());

    std::ofstream(config) << "root = " << root().string() << "\n";
    auto local = listed({});
    ASSERT_TRUE(local.status.success()) << local.err;
    EXPECT_NE(local.out.find(busybox_), std::string::npos) << "the file's root";
    EXPECT_EQ(json(listed({"GROVE_ROOT=" + (dir_->path() / "empty").string()})).size(), 0u);
    EXPECT_EQ(json(listed({"GROVE_ROOT=/nonexistent"}, {"--root", root().string()})).size(), 1u);
    EXPECT_EQ(json(listed({"GROVE_HOST=" + absent}, {"--root", root().string()})).size(), 1u)
        << "--root on the command line beats a host from the environment";

    std::ofstream(config) << "colour = yes\n";
    auto bad = listed({});
    EXPECT_EQ(bad.status.code, 1);
    EXPECT_NE(bad.err.find("config:1"), std::string::npos) << bad.err;
}

TEST_P(CliSetupTest, ROOT_CompletionAndHelp) {
    auto script = grove({"completion", "bash"}, {}, false);
    ASSERT_TRUE(script.status.success()) << script.err;
    const auto file = dir_->path() / "grove.bash";
    std::ofstream(file) << script.out;
    auto completed = base::run_command(
        {.argv = {"bash", "-c",
                  "source " + file.string() +
                      " && complete -p grove && COMP_WORDS=(grove ses) COMP_CWORD=1 && _grove && "
                      "echo \"[${COMPREPLY[*]}]\" && COMP_WORDS=(grove session ro) COMP_CWORD=2 "
                      "&& _grove && echo \"[${COMPREPLY[*]}]\""}},
        std::chrono::seconds(10));
    ASSERT_TRUE(completed);
    EXPECT_TRUE(completed->status.success()) << completed->err;
    EXPECT_NE(completed->out.find("complete -o default -F _grove grove"), std::string::npos);
    EXPECT_NE(completed->out.find("[session]"), std::string::npos) << completed->out;
    EXPECT_NE(completed->out.find("[rollback]"), std::string::npos) << completed->out;
    EXPECT_NE(grove({"completion", "zsh"}, {}, false).out.find("bashcompinit"), std::string::npos);

    for (const auto& command :
         std::vector<std::vector<std::string>>{{"--help"},
                                               {"run", "--help"},
                                               {"tree", "--help"},
                                               {"images", "--help"},
                                               {"session", "rollback", "--help"},
                                               {"use", "--help"}}) {
        auto help = grove(command, {}, false);
        EXPECT_TRUE(help.status.success()) << command.front();
        EXPECT_NE(help.out.find("Usage"), std::string::npos) << help.out;
    }
}

// Per-layer lines redrawn in place on a terminal; one plain line per finished layer when piped.
TEST_P(CliSetupTest, ROOT_ImportDrawsProgressOnATerminalOnly) {
    GROVE_REQUIRE(missing_programs({"script"}));
    auto images = TestImages::load();
    ASSERT_TRUE(images) << images.error().to_string();
    const auto import_into = [&](const std::string& root) {
        return std::vector<std::string>{"--root", root, "import", images->oci_ref("busybox")};
    };
    auto piped = grove(import_into((dir_->path() / "piped").string()), {}, false);
    ASSERT_TRUE(piped.status.success()) << piped.err;
    EXPECT_EQ(piped.err.find("\x1b["), std::string::npos) << piped.err;
    EXPECT_NE(piped.err.find("layer 1/1 "), std::string::npos) << piped.err;
    EXPECT_NE(piped.err.find(" done "), std::string::npos) << piped.err;

    std::string line = GROVE_BINARY;
    for (const auto& word : import_into((dir_->path() / "tty").string())) {
        line += " '" + word + "'";
    }
    auto drawn = base::run_command(
        {.argv = {"script", "-qec", line, "/dev/null"}, .env = env({"TERM=xterm"})},
        std::chrono::minutes(1));
    ASSERT_TRUE(drawn);
    EXPECT_NE(drawn->out.find("\x1b[2Klayer 1/1 "), std::string::npos) << drawn->out;
    EXPECT_NE(drawn->out.find("\x1b[1F"), std::string::npos) << "redrawn in place: " << drawn->out;
}

// Every command and subcommand, found by walking `--help`'s own lists, answers --help.
TEST_P(CliSetupTest, ROOT_HelpOnEveryCommand) {
    std::vector<std::vector<std::string>> pending{{}};
    size_t visited = 0;
    while (!pending.empty()) {
        auto command = pending.back();
        pending.pop_back();
        ASSERT_LT(command.size(), 4u) << "a help that lists its own command again";
        command.push_back("--help");
        auto help = grove(command, {}, false);
        command.pop_back();
        const std::string name = "grove " + fmt::format("{}", fmt::join(command, " "));
        EXPECT_TRUE(help.status.success()) << name << ": " << help.err;
        EXPECT_NE(help.out.find("Usage"), std::string::npos) << name << ": " << help.out;
        ++visited;
        const size_t list = help.out.find("Subcommands:\n");
        if (list == std::string::npos) {
            continue;
        }
        std::istringstream lines(help.out.substr(list + 13));
        for (std::string line; std::getline(lines, line) && line.starts_with("  ");) {
            const size_t start = line.find_first_not_of(' ');
            auto sub = command;
            // "import, pull   Import an image...": the name, before its aliases.
            sub.push_back(line.substr(start, line.find_first_of(", ", start) - start));
            pending.push_back(std::move(sub));
        }
    }
    EXPECT_GE(visited, 35u) << "every command of src/cli/commands";
}

INSTANTIATE_TEST_SUITE_P(Once, CliSetupTest, ::testing::Values(false));

}  // namespace
}  // namespace grove::testing
