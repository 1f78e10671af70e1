// Long-lived containers through containers::Manager on the busybox test image, each under its
// real grove-shim: lifecycle and state, surviving the manager (a daemon restart), a shim killed
// with -9, logs, attach and stdin, tty, pause, update, and nothing left after removal.

#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <poll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>

#include "base/child_process.hpp"
#include "base/json.hpp"
#include "base/temp_dir.hpp"
#include "containers/manager.hpp"
#include "helpers/mounts.hpp"
#include "helpers/process_probes.hpp"
#include "helpers/requirements.hpp"
#include "helpers/test_images.hpp"
#include "image/layout_source.hpp"

namespace grove::containers {
namespace {

namespace fs = std::filesystem;
using grove::testing::parent_of;

class ContainersTest : public ::testing::Test {
protected:
    void SetUp() override {
        GROVE_REQUIRE(grove::testing::missing_root());
        GROVE_REQUIRE(grove::testing::missing_overlay());
        auto images = grove::testing::TestImages::load();
        ASSERT_TRUE(images) << images.error().to_string();
        auto dir = base::TempDir::create("grove-ctr-", "/var/tmp");
        ASSERT_TRUE(dir);
        dir_.emplace(std::move(dir).value());
        auto store = image::ImageStore::open(root(), base::Logger::stderr_text());
        ASSERT_TRUE(store) << store.error().to_string();
        store_ = std::move(store).value();
        auto source = image::LayoutSource::open(images->dir() / "busybox", "latest");
        ASSERT_TRUE(source);
        auto imported = store_->import(**source, {.tag = "busybox"});
        ASSERT_TRUE(imported) << imported.error().to_string();
        image_ = imported->image.uuid;
        open_manager();
    }

    void TearDown() override {
        if (manager_) {
            // Every test removes what it made; force the rest so no shim outlives the test.
            if (auto all = manager_->list({.all = true})) {
                for (const auto& c : *all) {
                    (void)manager_->remove(c.id, true);
                }
            }
        }
    }

    fs::path root() const { return dir_->path() / "root"; }

    void open_manager() {
        manager_.reset();
        auto manager = Manager::open(
            *store_,
            {.root = root(), .shim = GROVE_SHIM_BINARY, .log = base::Logger::stderr_text()});
        ASSERT_TRUE(manager) << manager.error().to_string();
        manager_ = std::move(manager).value();
    }

    Container create(ContainerSpec spec) {
        if (spec.image.empty()) {
            spec.image = "busybox";
        }
        auto c = manager_->create(spec);
        EXPECT_TRUE(c) << c.error().to_string();
        return std::move(c).value_or(Container{});
    }
    Container started(const std::string& script, ContainerSpec spec = {}) {
        spec.cmd = {"/bin/sh", "-c", script};
        auto c = create(std::move(spec));
        auto ok = manager_->start(c.id);
        EXPECT_TRUE(ok) << ok.error().to_string();
        return c;
    }

    // The log as text, stdout and stderr apart; with `until`, follows until it appears.
    std::pair<std::string, std::string> logs(const std::string& id, const std::string& until = {}) {
        std::string out;
        std::string err;
        auto read = manager_->logs(id, {.follow = !until.empty()}, [&](const LogRecord& r) {
            (r.stream == LogStream::kStdout ? out : err) += r.bytes;
            return until.empty() || out.find(until) == std::string::npos;
        });
        EXPECT_TRUE(read) << read.error().to_string();
        return {out, err};
    }

    WaitResult wait_exit(const std::string& id) {
        auto r = manager_->wait(id, WaitCondition::kNotRunning);
        EXPECT_TRUE(r) << r.error().to_string();
        return r.value_or(WaitResult{.exit_code = -1});
    }

    Container inspect(const std::string& id) {
        auto c = manager_->inspect(id);
        EXPECT_TRUE(c) << c.error().to_string();
        return std::move(c).value_or(Container{});
    }

    // The cgroup directories of container `id` on this host (v1: one per hierarchy).
    static std::vector<fs::path> cgroup_dirs(const std::string& id) {
        std::vector<fs::path> found;
        std::error_code ec;
        for (const auto& entry : fs::directory_iterator("/sys/fs/cgroup", ec)) {
            for (const auto& dir : {entry.path() / "grove" / ("ctr-" + id),
                                    fs::path("/sys/fs/cgroup/grove") / ("ctr-" + id)}) {
                if (fs::exists(dir, ec)) {
                    found.push_back(dir);
                }
            }
        }
        return found;
    }

    std::optional<base::TempDir> dir_;
    std::unique_ptr<image::ImageStore> store_;
    std::string image_;
    std::unique_ptr<Manager> manager_;
};

TEST_F(ContainersTest, ROOT_RunsToItsExitWithStateAndLogs) {
    auto c =
        create({.name = "/first",
                .cmd = std::vector<std::string>{"/bin/sh", "-c",
                                                "echo out; echo err >&2; echo $A; pwd; exit 3"},
                .env = {"A=from-env"},
                .workdir = "/tmp",
                .labels = {{"tier", "web"}}});
    EXPECT_EQ(c.id.size(), 64u);
    EXPECT_EQ(c.name, "first");
    EXPECT_EQ(c.image_uuid, image_);
    EXPECT_EQ(c.labels.at("tier"), "web");
    EXPECT_EQ(inspect("first").state.status, Status::kCreated);
    EXPECT_EQ(inspect(c.id.substr(0, 10)).id, c.id);

    auto start = manager_->start("first");
    ASSERT_TRUE(start) << start.error().to_string();
    EXPECT_TRUE(*start);
    EXPECT_EQ(wait_exit(c.id).exit_code, 3);
    const auto done = inspect(c.id);
    EXPECT_EQ(done.state.status, Status::kExited);
    EXPECT_EQ(done.state.exit_code, 3);
    EXPECT_EQ(done.state.pid, 0);
    EXPECT_GT(done.state.started_ns, c.created_ns);
    EXPECT_GE(done.state.finished_ns, done.state.started_ns);
    const auto [out, err] = logs(c.id);
    EXPECT_EQ(out, "out\nfrom-env\n/tmp\n");
    EXPECT_EQ(err, "err\n");

    // Started again: the same filesystem (the upper is kept), a second exit.
    auto again = create({.name = "writer",
                         .cmd = std::vector<std::string>{
                             "/bin/sh", "-c", "cat /kept 2>/dev/null; echo kept > /kept"}});
    ASSERT_TRUE(manager_->start("writer"));
    wait_exit(again.id);
    ASSERT_TRUE(manager_->start("writer"));
    wait_exit(again.id);
    EXPECT_EQ(logs(again.id).first, "kept\n");

    ASSERT_TRUE(manager_->remove(c.id, false));
    ASSERT_TRUE(manager_->remove("writer", false));
}

TEST_F(ContainersTest, ROOT_RunningContainerSurvivesTheManager) {
    auto c = started(
        "trap 'echo got term; exit 7' TERM; i=0; while [ $i -lt 3 ]; do echo line$i; "
        "i=$((i+1)); done; echo ready; while true; do sleep 0.05; done");
    logs(c.id, "ready");
    const pid_t pid = inspect(c.id).state.pid;
    ASSERT_GT(pid, 0);
    const pid_t shim = parent_of(pid);

    // A daemon restart: the manager goes, the container does not.
    manager_.reset();
    ASSERT_EQ(::kill(pid, 0), 0) << "the container died with its manager";
    open_manager();
    const auto adopted = inspect(c.id);
    EXPECT_EQ(adopted.state.status, Status::kRunning);
    EXPECT_EQ(adopted.state.pid, pid);
    EXPECT_EQ(parent_of(pid), shim);

    auto stopped = manager_->stop(c.id, std::chrono::seconds(10));
    ASSERT_TRUE(stopped) << stopped.error().to_string();
    EXPECT_TRUE(*stopped);
    const auto done = inspect(c.id);
    EXPECT_EQ(done.state.status, Status::kExited);
    EXPECT_EQ(done.state.exit_code, 7);
    EXPECT_EQ(logs(c.id).first, "line0\nline1\nline2\nready\ngot term\n");
    EXPECT_FALSE(*manager_->stop(c.id, std::nullopt)) << "stopping a stopped container is a no-op";

    // kill after another restart.
    ASSERT_TRUE(manager_->start(c.id));
    logs(c.id, "ready\ngot term\nline0\nline1\nline2\nready");
    manager_.reset();
    open_manager();
    ASSERT_TRUE(manager_->kill(c.id, SIGKILL));
    EXPECT_EQ(wait_exit(c.id).exit_code, 137);
    EXPECT_EQ(manager_->kill(c.id, SIGKILL).error().code(), Code::kFailedPrecondition);
    ASSERT_TRUE(manager_->remove(c.id, false));
}

// The command is init here, as another user, whose uid switch clears the parent-death signal
// (armed again: SandboxProcessTest.ROOT_AnInitCommandKeepsItsParentDeathSignalAsAnotherUser).
TEST_F(ContainersTest, ROOT_AShimKilledWithNineTakesItsContainer) {
    auto c = started("echo ready; exec sleep 1000", {.user = "1000"});
    logs(c.id, "ready");
    const pid_t pid = inspect(c.id).state.pid;
    const pid_t shim = parent_of(pid);
    ASSERT_GT(shim, 1);
    ASSERT_EQ(::kill(shim, SIGKILL), 0);
    const auto result = wait_exit(c.id);
    EXPECT_EQ(result.exit_code, 137);
    EXPECT_NE(result.error.find("shim died"), std::string::npos) << result.error;
    const auto dead = inspect(c.id);
    EXPECT_EQ(dead.state.status, Status::kExited);
    // Its init is gone (PR_SET_PDEATHSIG), and its cgroup with it.
    while (::kill(pid, 0) == 0 && parent_of(pid) != 0) {
        // init's death is SIGKILL's: it may take a moment to be reaped by the host's init
        std::this_thread::yield();
    }
    EXPECT_TRUE(cgroup_dirs(c.id).empty());
    ASSERT_TRUE(manager_->remove(c.id, false));
}

TEST_F(ContainersTest, ROOT_RemoveLeavesNothing) {
    auto c = started("echo ready; sleep 1000", {.limits = {.memory_bytes = 64 << 20, .pids = 50}});
    logs(c.id, "ready");
    const fs::path dir = root() / "containers" / c.id;
    EXPECT_TRUE(fs::exists(dir / "upper"));
    EXPECT_FALSE(cgroup_dirs(c.id).empty());
    EXPECT_EQ(manager_->remove(c.id, false).error().code(), Code::kFailedPrecondition);
    const size_t fds = grove::testing::count_open_fds();
    auto removed = manager_->remove(c.id, true);
    ASSERT_TRUE(removed) << removed.error().to_string();
    EXPECT_EQ(manager_->inspect(c.id).error().code(), Code::kNotFound);
    EXPECT_FALSE(fs::exists(dir));
    manager_->wait_for_cleanup();
    EXPECT_TRUE(fs::is_empty(dir.parent_path())) << "the directory moved aside is gone too";
    EXPECT_TRUE(cgroup_dirs(c.id).empty());
    EXPECT_EQ(grove::testing::mounts_under(dir_->path()), "");
    EXPECT_LE(grove::testing::count_open_fds(), fds);
    // A directory moved aside and left by a crash goes when a manager opens.
    ASSERT_TRUE(fs::create_directories(dir.parent_path() / (".removed-" + c.id) / "upper"));
    open_manager();
    manager_->wait_for_cleanup();
    EXPECT_TRUE(fs::is_empty(dir.parent_path()));
}

TEST_F(ContainersTest, ROOT_NamesAndListFilters) {
    auto a = create(
        {.name = "alpha", .cmd = std::vector<std::string>{"true"}, .labels = {{"app", "x"}}});
    auto b = started("echo ready; sleep 1000", {.name = "beta", .labels = {{"app", "y"}}});
    logs(b.id, "ready");
    auto g = create({.name = "gamma", .cmd = std::vector<std::string>{"/bin/sh", "-c", "exit 2"}});
    ASSERT_TRUE(manager_->start("gamma"));
    wait_exit(g.id);
    EXPECT_EQ(
        manager_
            ->create({.image = "busybox", .name = "alpha", .cmd = std::vector<std::string>{"true"}})
            .error()
            .code(),
        Code::kAlreadyExists);
    EXPECT_EQ(manager_->create({.image = "busybox", .name = "bad name"}).error().code(),
              Code::kInvalidArgument);
    auto unnamed = create({.cmd = std::vector<std::string>{"true"}});
    EXPECT_FALSE(unnamed.name.empty());

    auto names = [&](const ListFilter& filter) {
        std::vector<std::string> out;
        auto list = manager_->list(filter);
        EXPECT_TRUE(list) << list.error().to_string();
        for (const auto& c : list.value_or(std::vector<Container>{})) {
            out.push_back(c.name);
        }
        return out;
    };
    using V = std::vector<std::string>;
    EXPECT_EQ(names({}), V{"beta"});
    EXPECT_EQ(names({.all = true}), (V{unnamed.name, "gamma", "beta", "alpha"}));
    EXPECT_EQ(names({.limit = 2}), (V{unnamed.name, "gamma"}));
    EXPECT_EQ(names({.status = {Status::kExited}}), V{"gamma"});
    EXPECT_EQ(names({.status = {Status::kCreated}}), (V{unnamed.name, "alpha"}));
    EXPECT_EQ(names({.all = true, .labels = {"app"}}), (V{"beta", "alpha"}));
    EXPECT_EQ(names({.all = true, .labels = {"app=x"}}), V{"alpha"});
    EXPECT_EQ(names({.all = true, .names = {"amm"}}), V{"gamma"});
    EXPECT_EQ(names({.all = true, .ids = {a.id.substr(0, 8)}}), V{"alpha"});
    EXPECT_EQ(names({.all = true, .exited = {2}}), V{"gamma"});
    EXPECT_EQ(names({.all = true, .since = "beta"}), (V{unnamed.name, "gamma"}));
    EXPECT_EQ(names({.all = true, .before = "beta"}), V{"alpha"});
    EXPECT_EQ(names({.all = true, .ancestors = {image_}}).size(), 4u);

    ASSERT_TRUE(manager_->rename("alpha", "/delta"));
    EXPECT_EQ(inspect(a.id).name, "delta");
    EXPECT_EQ(manager_->rename("delta", "beta").error().code(), Code::kAlreadyExists);
    EXPECT_EQ(manager_->inspect("alpha").error().code(), Code::kNotFound);
}

TEST_F(ContainersTest, ROOT_LogsTailSinceAndFollow) {
    auto c = started("for i in 1 2 3 4 5; do echo l$i; done; echo e >&2");
    wait_exit(c.id);
    auto read = [&](LogOptions options) {
        std::string text;
        auto r = manager_->logs(c.id, options, [&](const LogRecord& rec) {
            text += rec.bytes;
            return true;
        });
        EXPECT_TRUE(r) << r.error().to_string();
        return text;
    };
    EXPECT_EQ(read({}), "l1\nl2\nl3\nl4\nl5\ne\n");
    EXPECT_EQ(read({.tail = 2}), "l5\ne\n");
    EXPECT_EQ(read({.stderr = false, .tail = 2}), "l4\nl5\n");
    EXPECT_EQ(read({.stdout = false}), "e\n");
    EXPECT_EQ(read({.tail = 0}), "");
    EXPECT_EQ(read({.since_ns = now_ns()}), "");
    EXPECT_EQ(read({.until_ns = 1}), "");
    // Follow on a stopped container returns what there is.
    EXPECT_EQ(read({.follow = true}), "l1\nl2\nl3\nl4\nl5\ne\n");
}

TEST_F(ContainersTest, ROOT_AttachFeedsStdinAndStreamsOutput) {
    auto c = started("echo ready; while read line; do echo got $line; done; echo bye >&2; exit 4",
                     {.open_stdin = true});
    logs(c.id, "ready");
    auto conn = manager_->attach(c.id);
    ASSERT_TRUE(conn) << conn.error().to_string();
    ASSERT_TRUE(base::write_all(conn->get(), "hello\n"));
    std::string frames;
    while (frames.size() < 8 + 10) {
        const std::string chunk = grove::testing::read_some(conn->get());
        ASSERT_FALSE(chunk.empty());
        frames += chunk;
    }
    EXPECT_EQ(frames, std::string("\1\0\0\0\0\0\0\x0agot hello\n", 18));
    ASSERT_TRUE(manager_->close_stdin(c.id));
    EXPECT_EQ(wait_exit(c.id).exit_code, 4);
    // The attached client got stderr too, and then the end.
    std::string rest;
    while (true) {
        const std::string chunk = grove::testing::read_some(conn->get());
        if (chunk.empty()) {
            break;
        }
        rest += chunk;
    }
    EXPECT_EQ(rest, std::string("\2\0\0\0\0\0\0\x04"
                                "bye\n",
                                12));
    EXPECT_EQ(manager_->attach(c.id).error().code(), Code::kFailedPrecondition);
}

TEST_F(ContainersTest, ROOT_TtyIsTheControllingTerminal) {
    auto c = started("echo ready; read size; stty size; test -t 0 && echo is-a-tty",
                     {.tty = true, .open_stdin = true});
    logs(c.id, "ready");
    ASSERT_TRUE(manager_->resize(c.id, 33, 120));
    auto conn = manager_->attach(c.id);
    ASSERT_TRUE(conn);
    ASSERT_TRUE(base::write_all(conn->get(), "go\n"));
    EXPECT_EQ(wait_exit(c.id).exit_code, 0);
    const auto out = logs(c.id).first;
    EXPECT_NE(out.find("33 120\r\n"), std::string::npos) << out;
    EXPECT_NE(out.find("is-a-tty\r\n"), std::string::npos) << out;
    auto plain = create({.cmd = std::vector<std::string>{"true"}});
    EXPECT_EQ(manager_->resize(plain.id, 1, 1).error().code(), Code::kFailedPrecondition);
}

TEST_F(ContainersTest, ROOT_PauseUpdateRestart) {
    GROVE_REQUIRE(grove::testing::missing_cgroup_controller("freezer"));
    auto c = started("echo ready; sleep 1000 & sleep 1000");
    logs(c.id, "ready");
    ASSERT_TRUE(manager_->pause(c.id));
    auto paused = inspect(c.id);
    EXPECT_EQ(paused.state.status, Status::kPaused);
    EXPECT_TRUE(paused.state.running());
    EXPECT_EQ(manager_->pause(c.id).error().code(), Code::kFailedPrecondition);
    ASSERT_TRUE(manager_->unpause(c.id));
    EXPECT_EQ(inspect(c.id).state.status, Status::kRunning);
    EXPECT_EQ(manager_->unpause(c.id).error().code(), Code::kFailedPrecondition);

    const auto stats = manager_->stats(c.id);
    ASSERT_TRUE(stats) << stats.error().to_string();
    EXPECT_GE(stats->pids_current, 2u);  // the two sleeps (sh execs the last)
    EXPECT_GT(stats->cpu_usage_ns, 0u);
    auto updated = manager_->update(c.id, {.pids = 77});
    ASSERT_TRUE(updated) << updated.error().to_string();
    EXPECT_EQ(inspect(c.id).config.limits.pids, 77u);
    bool seen = false;
    for (const auto& dir : cgroup_dirs(c.id)) {
        if (fs::exists(dir / "pids.max")) {
            EXPECT_EQ(grove::testing::read_text(dir / "pids.max"), "77\n");
            seen = true;
        }
    }
    EXPECT_TRUE(seen);

    // A paused container stops too (SIGKILL thaws it); restart runs it again.
    ASSERT_TRUE(manager_->pause(c.id));
    ASSERT_TRUE(manager_->stop(c.id, std::chrono::seconds(0)));
    EXPECT_EQ(inspect(c.id).state.exit_code, 137);
    EXPECT_EQ(manager_->stats(c.id).error().code(), Code::kFailedPrecondition);
    const pid_t first = inspect(c.id).state.pid;
    ASSERT_TRUE(manager_->restart(c.id, std::chrono::seconds(0)));
    const auto restarted = inspect(c.id);
    EXPECT_EQ(restarted.state.status, Status::kRunning);
    EXPECT_NE(restarted.state.pid, first);
    ASSERT_TRUE(manager_->remove(c.id, true));
}

TEST_F(ContainersTest, ROOT_WaitConditions) {
    auto c = create({.cmd = std::vector<std::string>{"/bin/sh", "-c", "exit 5"}});
    auto not_running = manager_->wait(c.id, WaitCondition::kNotRunning);
    ASSERT_TRUE(not_running);
    EXPECT_EQ(not_running->exit_code, 0) << "a created container is not running";
    ASSERT_TRUE(manager_->start(c.id));
    EXPECT_EQ(wait_exit(c.id).exit_code, 5);

    // The waiters start while the container still runs (it ends on its own half a second
    // later): the next exit is this run's, and removal comes after it.
    auto d = started("sleep 0.5; exit 6");
    std::thread next([&] {
        auto r = manager_->wait(d.id, WaitCondition::kNextExit);
        ASSERT_TRUE(r) << r.error().to_string();
        EXPECT_EQ(r->exit_code, 6);
    });
    std::thread removed([&] {
        auto r = manager_->wait(d.id, WaitCondition::kRemoved);
        ASSERT_TRUE(r) << r.error().to_string();
        EXPECT_EQ(r->exit_code, 6);
    });
    next.join();
    ASSERT_TRUE(manager_->remove(d.id, false));
    removed.join();
    EXPECT_EQ(manager_->wait(d.id, WaitCondition::kRemoved).error().code(), Code::kNotFound);

    // next-exit on a container that is not running: the exit after its next start.
    auto later = create({.cmd = std::vector<std::string>{"/bin/sh", "-c", "sleep 0.5; exit 8"}});
    auto other = create({.cmd = std::vector<std::string>{"true"}});
    std::thread after_start([&] {
        auto r = manager_->wait(later.id, WaitCondition::kNextExit);
        ASSERT_TRUE(r) << r.error().to_string();
        EXPECT_EQ(r->exit_code, 8);
    });
    ASSERT_TRUE(manager_->start(other.id)) << "another container's start is not this one's";
    ASSERT_TRUE(manager_->start(later.id));
    after_start.join();
    // A start and exit that both came before the waiter looked, after the caller saw it stopped
    // (docker run's wait, then start): that exit is the next one.
    const int64_t seen = manager_->inspect(later.id)->state.started_ns;
    ASSERT_TRUE(manager_->start(later.id));
    EXPECT_EQ(wait_exit(later.id).exit_code, 8);
    auto raced = manager_->wait(later.id, WaitCondition::kNextExit, {}, seen);
    ASSERT_TRUE(raced) << raced.error().to_string();
    EXPECT_EQ(raced->exit_code, 8);

    std::stop_source stop;
    auto e = started("sleep 1000");
    std::thread cancelled([&] {
        EXPECT_EQ(manager_->wait(e.id, WaitCondition::kNotRunning, stop.get_token()).error().code(),
                  Code::kCancelled);
    });
    stop.request_stop();
    cancelled.join();
}

TEST_F(ContainersTest, ROOT_StartFailuresAreReported) {
    auto c = create({.cmd = std::vector<std::string>{"/no/such/binary"}});
    auto start = manager_->start(c.id);
    ASSERT_FALSE(start);
    EXPECT_NE(start.error().message().find("/no/such/binary"), std::string::npos)
        << start.error().to_string();
    const auto state = inspect(c.id).state;
    EXPECT_EQ(state.status, Status::kCreated);
    EXPECT_FALSE(state.error.empty());
    EXPECT_EQ(manager_->create({.image = "busybox", .entrypoint = std::vector<std::string>{}})
                  .error()
                  .code(),
              Code::kInvalidArgument);
}

// Everything a stream sends until its end, split into stdout and stderr by Docker's frames.
std::pair<std::string, std::string> read_frames(int fd) {
    std::string all;
    while (true) {
        const std::string chunk = grove::testing::read_some(fd);
        if (chunk.empty()) {
            break;
        }
        all += chunk;
    }
    std::pair<std::string, std::string> out;
    size_t at = 0;
    while (at + 8 <= all.size()) {
        const auto* h = reinterpret_cast<const unsigned char*>(all.data() + at);
        const size_t len = (size_t{h[4]} << 24) | (size_t{h[5]} << 16) | (size_t{h[6]} << 8) | h[7];
        (h[0] == 1 ? out.first : out.second) += all.substr(at + 8, len);
        at += 8 + len;
    }
    EXPECT_EQ(at, all.size()) << "a torn frame";
    return out;
}

TEST_F(ContainersTest, ROOT_ExecRunsInsideTheContainer) {
    auto c = started(
        "echo main > /tmp/shared; echo ready; while [ ! -e /tmp/done ]; do sleep 0.02; done; "
        "exit 9",
        {.hostname = "execbox"});
    logs(c.id, "ready");

    auto id = manager_->exec_create(
        c.id, {.cmd = {"/bin/sh", "-c",
                       "hostname; cat /tmp/shared; echo $E $PWD; id -u; echo err >&2; exit 3"},
               .env = {"E=x"},
               .workdir = "/tmp",
               .user = "65534"});
    ASSERT_TRUE(id) << id.error().to_string();
    EXPECT_EQ(id->size(), 64u);
    EXPECT_FALSE(manager_->exec_inspect(*id)->running);
    auto conn = manager_->exec_start(*id);
    ASSERT_TRUE(conn) << conn.error().to_string();
    const auto [out, err] = read_frames(conn->get());
    EXPECT_EQ(out, "execbox\nmain\nx /tmp\n65534\n");
    EXPECT_EQ(err, "err\n");
    auto info = manager_->exec_inspect(*id);
    ASSERT_TRUE(info);
    EXPECT_FALSE(info->running);
    EXPECT_EQ(info->exit_code, 3);
    EXPECT_GT(info->pid, 0);
    EXPECT_EQ(manager_->exec_start(*id).error().code(), Code::kFailedPrecondition);

    // stdin: what is written goes in, closing the write side is EOF.
    auto cat = manager_->exec_create(c.id, {.cmd = {"cat"}, .open_stdin = true});
    ASSERT_TRUE(cat);
    auto cat_conn = manager_->exec_start(*cat);
    ASSERT_TRUE(cat_conn);
    ASSERT_TRUE(base::write_all(cat_conn->get(), "abc\n"));
    ASSERT_EQ(::shutdown(cat_conn->get(), SHUT_WR), 0);
    EXPECT_EQ(read_frames(cat_conn->get()).first, "abc\n");
    EXPECT_EQ(manager_->exec_inspect(*cat)->exit_code, 0);

    // Detached: the stream is closed at once, the process runs on (and ends the container).
    auto done = manager_->exec_create(c.id, {.cmd = {"touch", "/tmp/done"}});
    ASSERT_TRUE(done);
    ASSERT_TRUE(manager_->exec_start(*done));
    EXPECT_EQ(wait_exit(c.id).exit_code, 9);
    EXPECT_EQ(manager_->exec_create(c.id, {.cmd = {"true"}}).error().code(),
              Code::kFailedPrecondition);
    EXPECT_EQ(manager_->exec_inspect("nope").error().code(), Code::kNotFound);
    ASSERT_TRUE(manager_->remove(c.id, false));
    EXPECT_EQ(manager_->exec_inspect(*id).error().code(), Code::kNotFound);
}

TEST_F(ContainersTest, ROOT_ReadOnlyRootfsAndHostname) {
    auto c = started("hostname; touch /x 2>/dev/null || echo read-only; touch /tmp/y || true",
                     {.hostname = "boxy", .read_only = true});
    wait_exit(c.id);
    EXPECT_EQ(logs(c.id).first, "boxy\nread-only\n");
}

// A tar of the files under `dir` (names relative to it), made by the system's tar.
fs::path make_tar(const fs::path& dir, const fs::path& tar, std::vector<std::string> names = {}) {
    std::vector<std::string> argv{"tar", "-C", dir.string(), "-cf", tar.string()};
    if (names.empty()) {
        names.push_back(".");
    }
    argv.insert(argv.end(), names.begin(), names.end());
    auto out = base::run_command({.argv = argv}, std::chrono::seconds(30));
    EXPECT_TRUE(out && out->status.success()) << (out ? out->err : out.error().to_string());
    return tar;
}

std::string write_text(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
    return text;
}

TEST_F(ContainersTest, ROOT_ChangesAreTheUpperOverTheImage) {
    auto c = started(
        "echo x >> /etc/passwd; rm /etc/group; mkdir /new; echo n > /new/f; rm -rf /usr; "
        "mkdir -p /usr/local");
    ASSERT_EQ(wait_exit(c.id).exit_code, 0);
    auto changes = manager_->changes(c.id);
    ASSERT_TRUE(changes) << changes.error().to_string();
    std::vector<std::pair<std::string, ChangeKind>> got;
    for (const auto& change : *changes) {
        got.emplace_back(change.path, change.kind);
    }
    const std::vector<std::pair<std::string, ChangeKind>> want{
        {"/etc", ChangeKind::kModified},        {"/etc/group", ChangeKind::kDeleted},
        {"/etc/passwd", ChangeKind::kModified}, {"/new", ChangeKind::kAdded},
        {"/new/f", ChangeKind::kAdded},         {"/usr", ChangeKind::kDeleted},
        {"/usr/local", ChangeKind::kAdded}};
    EXPECT_EQ(got, want);
    // A fresh container has none.
    auto fresh = create({.cmd = std::vector<std::string>{"true"}});
    EXPECT_TRUE(manager_->changes(fresh.id)->empty());
}

TEST_F(ContainersTest, ROOT_FilesReadThroughTheStackStayInside) {
    // The symlinks point at the host's root and at a host directory: both resolve inside.
    const fs::path host_dir = dir_->path() / "outside";
    fs::create_directories(host_dir);
    write_text(host_dir / "secret", "host\n");
    auto c = started(fmt::format("ln -s /../../../.. /up; ln -s {} /out; echo mine > /tmp/f",
                                 host_dir.string()));
    ASSERT_EQ(wait_exit(c.id).exit_code, 0);
    auto files = manager_->filesystem(c.id);
    ASSERT_TRUE(files) << files.error().to_string();
    auto passwd = files->lookup("/up/etc/passwd");
    ASSERT_TRUE(passwd) << passwd.error().to_string();
    EXPECT_EQ(passwd->path, "/etc/passwd");
    EXPECT_EQ(files->lookup("/out/secret").error().code(), Code::kNotFound);
    EXPECT_TRUE(files->lookup("/tmp/f"));
    EXPECT_TRUE(files->lookup("/bin/busybox"));
    EXPECT_EQ(manager_->filesystem("nope").error().code(), Code::kNotFound);
}

TEST_F(ContainersTest, ROOT_ExtractIntoAStoppedContainer) {
    const fs::path src = dir_->path() / "src";
    write_text(src / "hello", "hi\n");
    write_text(src / "sub" / "inner", "in\n");
    const fs::path tar = make_tar(src, dir_->path() / "in.tar");
    const fs::path host_dir = dir_->path() / "outside";
    fs::create_directories(host_dir);
    // /link leads to the container's own copy of the host directory's path.
    auto c = started(fmt::format("mkdir -p {0}; ln -s {0} /link", host_dir.string()));
    ASSERT_EQ(wait_exit(c.id).exit_code, 0);

    auto in = base::UniqueFd::open(tar, O_RDONLY);
    ASSERT_TRUE(in);
    auto extracted = manager_->extract(c.id, "/link", in->get(), {.whiteouts = false});
    ASSERT_TRUE(extracted) << extracted.error().to_string();
    EXPECT_TRUE(fs::is_empty(host_dir));
    EXPECT_EQ(grove::testing::mounts_under(root()), "");
    const auto upper = root() / "containers" / c.id / "upper";
    EXPECT_EQ(grove::testing::read_text(upper / host_dir.relative_path() / "sub" / "inner"),
              "in\n");

    // A missing directory, a file, and a tar whose entry climbs a symlink it planted.
    in = base::UniqueFd::open(tar, O_RDONLY);
    EXPECT_EQ(manager_->extract(c.id, "/nope", in->get(), {}).error().code(), Code::kNotFound);
    in = base::UniqueFd::open(tar, O_RDONLY);
    EXPECT_EQ(manager_->extract(c.id, "/etc/passwd", in->get(), {}).error().code(),
              Code::kInvalidArgument);
    const fs::path evil = dir_->path() / "evil";
    fs::create_directories(evil / "a");
    fs::create_symlink(host_dir, evil / "esc");
    const fs::path evil_tar = make_tar(evil, dir_->path() / "evil.tar", {"esc"});
    fs::remove(evil / "esc");
    fs::create_directories(evil / "esc");
    write_text(evil / "esc" / "planted", "x");
    auto appended = base::run_command(
        {.argv = {"tar", "-C", evil.string(), "-rf", evil_tar.string(), "esc/planted"}},
        std::chrono::seconds(30));
    ASSERT_TRUE(appended && appended->status.success());
    in = base::UniqueFd::open(evil_tar, O_RDONLY);
    EXPECT_FALSE(manager_->extract(c.id, "/", in->get(), {}));
    EXPECT_TRUE(fs::is_empty(host_dir));

    // A container never started gets them too, and sees them when it starts.
    auto reader = create({.cmd = std::vector<std::string>{"cat", "/src/hello", "/src/sub/inner"}});
    const fs::path named = make_tar(dir_->path(), dir_->path() / "named.tar", {"src"});
    in = base::UniqueFd::open(named, O_RDONLY);
    ASSERT_TRUE(manager_->extract(reader.id, "/", in->get(), {}));
    ASSERT_TRUE(manager_->start(reader.id));
    EXPECT_EQ(wait_exit(reader.id).exit_code, 0);
    EXPECT_EQ(logs(reader.id).first, "hi\nin\n");
}

TEST_F(ContainersTest, ROOT_ExtractIntoARunningContainer) {
    const fs::path src = dir_->path() / "src";
    write_text(src / "hello", "live\n");
    const fs::path tar = make_tar(src, dir_->path() / "in.tar");
    auto c = started("echo ready; while [ ! -e /tmp/hello ]; do sleep 0.02; done; cat /tmp/hello");
    logs(c.id, "ready");
    auto in = base::UniqueFd::open(tar, O_RDONLY);
    ASSERT_TRUE(in);
    auto extracted = manager_->extract(c.id, "/tmp", in->get(),
                                       {.whiteouts = false, .owner = std::pair{7u, 8u}});
    ASSERT_TRUE(extracted) << extracted.error().to_string();
    EXPECT_EQ(wait_exit(c.id).exit_code, 0);
    EXPECT_EQ(logs(c.id).first, "ready\nlive\n");
    auto files = manager_->filesystem(c.id);
    ASSERT_TRUE(files);
    auto hello = files->lookup("/tmp/hello");
    ASSERT_TRUE(hello);
    EXPECT_EQ(hello->st.st_uid, 7u);
    EXPECT_EQ(hello->st.st_gid, 8u);
}

TEST_F(ContainersTest, ROOT_CommitMakesAChildImage) {
    auto c = started("echo saved > /committed; rm /etc/group; echo ready; sleep 1000",
                     {.env = {"FROM_CTR=1"}});
    logs(c.id, "ready");
    auto image = manager_->commit(
        c.id,
        {.tag = "committed:1",
         .author = "me",
         .comment = "a commit",
         .changes = {
             "CMD [\"/bin/sh\", \"-c\", \"cat /committed; test -e /etc/group || echo no-group; "
             "echo $FROM_CTR $A\"]",
             "ENV A=2"}});
    ASSERT_TRUE(image) << image.error().to_string();
    EXPECT_EQ(image->parent, image_);
    EXPECT_EQ(image->tag, "committed:1");
    // Paused around the copy, running again after it.
    EXPECT_EQ(inspect(c.id).state.status, Status::kRunning);
    ASSERT_TRUE(manager_->kill(c.id, SIGKILL));
    wait_exit(c.id);

    auto child = create({.image = "committed:1"});
    ASSERT_TRUE(manager_->start(child.id));
    EXPECT_EQ(wait_exit(child.id).exit_code, 0);
    EXPECT_EQ(logs(child.id).first, "saved\nno-group\n1 2\n");
    auto config = base::parse_json(image->config_json);
    ASSERT_TRUE(config);
    EXPECT_EQ((*config)["author"], "me");
    EXPECT_EQ(manager_->commit(c.id, {.changes = {"FROM x"}}).error().code(),
              Code::kInvalidArgument);
}

TEST_F(ContainersTest, ROOT_AContainersImageIsPinned) {
    auto c = create({.cmd = std::vector<std::string>{"true"}});
    auto removed = store_->remove(image_, {.force = true});
    ASSERT_FALSE(removed);
    EXPECT_EQ(removed.error().code(), Code::kFailedPrecondition);
    EXPECT_NE(removed.error().message().find(c.id), std::string::npos);
    EXPECT_EQ(store_->user_of(image_).value(), "container " + c.id);
    // Still pinned by a manager opened again (a daemon restart), and GC keeps its layers. Pins
    // are not fsynced: one a power cut lost is made again then.
    ASSERT_TRUE(store_->unpin("container " + c.id));
    open_manager();
    EXPECT_EQ(store_->user_of(image_).value(), "container " + c.id);
    ASSERT_TRUE(store_->collect_garbage());
    ASSERT_TRUE(manager_->start(c.id));
    EXPECT_EQ(wait_exit(c.id).exit_code, 0);
    EXPECT_FALSE(store_->remove(image_, {.force = true}));
    ASSERT_TRUE(manager_->remove(c.id, false));
    EXPECT_EQ(store_->user_of(image_).value(), std::nullopt);
    // And one of a container that is gone (its unpin lost) is dropped.
    ASSERT_TRUE(store_->pin("container " + c.id, image_));
    open_manager();
    EXPECT_EQ(store_->user_of(image_).value(), std::nullopt);
    EXPECT_TRUE(store_->remove(image_, {.force = true}));
}

// Polls inspect until `done` holds (5 s at most).
template <typename Done>
Container inspect_until(Manager& manager, const std::string& id, Done done) {
    for (int i = 0; i < 500; ++i) {
        auto c = manager.inspect(id);
        if (c && done(*c)) {
            return *c;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << "container " << id << " never reached the state";
    return manager.inspect(id).value_or(Container{});
}

TEST_F(ContainersTest, ROOT_RestartPolicies) {
    EXPECT_EQ(restart_policy("always", 2).error().code(), Code::kInvalidArgument);
    EXPECT_EQ(restart_policy("sometimes", 0).error().code(), Code::kInvalidArgument);

    // on-failure:2: two restarts (after 100 and 200 ms), then it stays exited.
    auto failing = started("echo run; exit 3",
                           {.restart = {.kind = RestartKind::kOnFailure, .max_retries = 2}});
    auto done = inspect_until(*manager_, failing.id, [](const Container& c) {
        return c.restart_count == 2 && c.state.status == Status::kExited;
    });
    EXPECT_EQ(done.state.exit_code, 3);
    EXPECT_EQ(logs(failing.id).first, "run\nrun\nrun\n");

    // always: back after a clean exit too, until stopped.
    auto always = started("echo up; sleep 0.05", {.restart = {.kind = RestartKind::kAlways}});
    inspect_until(*manager_, always.id, [](const Container& c) { return c.restart_count >= 2; });
    ASSERT_TRUE(manager_->stop(always.id, std::chrono::seconds(0)));
    const auto stopped = inspect(always.id);
    EXPECT_EQ(stopped.state.status, Status::kExited);
    EXPECT_TRUE(stopped.manually_stopped);
    std::this_thread::sleep_for(std::chrono::milliseconds(400));  // longer than any backoff yet
    EXPECT_EQ(inspect(always.id).restart_count, stopped.restart_count);
    EXPECT_EQ(inspect(always.id).state.status, Status::kExited);

    // no: stays exited.
    auto plain = started("exit 1");
    EXPECT_EQ(wait_exit(plain.id).exit_code, 1);
    EXPECT_EQ(inspect(plain.id).restart_count, 0);

    // unless-stopped, exiting while no manager is open: the next one restarts it.
    auto later = started(
        "if [ -e /tmp/n ]; then cat /tmp/n; sleep 100; fi; echo run > /tmp/n; echo ready; "
        "while [ ! -e /tmp/go ]; do sleep 0.02; done",
        {.restart = {.kind = RestartKind::kUnlessStopped}});
    logs(later.id, "ready");
    const int pid = inspect(later.id).state.pid;
    manager_.reset();
    std::ofstream(fmt::format("/proc/{}/root/tmp/go", pid)) << "";
    const auto exit_file = root() / "containers" / later.id / "exit.json";
    for (int i = 0; i < 500 && !fs::exists(exit_file); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    open_manager();
    inspect_until(*manager_, later.id, [](const Container& c) {
        return c.restart_count == 1 && c.state.status == Status::kRunning;
    });
    EXPECT_EQ(logs(later.id, "ready\nrun\n").first, "ready\nrun\n");
    ASSERT_TRUE(manager_->remove(later.id, true));
}

TEST_F(ContainersTest, ROOT_HealthchecksRunAsExecs) {
    constexpr int64_t kMs = 1'000'000;
    auto c = started("touch /tmp/ok; echo ready; sleep 1000",
                     {.healthcheck = {.test = {"CMD-SHELL", "echo probed; test -e /tmp/ok"},
                                      .interval_ns = 50 * kMs,
                                      .retries = 2}});
    logs(c.id, "ready");
    auto healthy = inspect_until(*manager_, c.id, [](const Container& x) {
        return x.health && x.health->status == "healthy";
    });
    ASSERT_FALSE(healthy.health->log.empty());
    EXPECT_EQ(healthy.health->log.back().exit_code, 0);
    EXPECT_EQ(healthy.health->log.back().output, "probed\n");
    fs::remove(fmt::format("/proc/{}/root/tmp/ok", healthy.state.pid));
    auto unhealthy = inspect_until(*manager_, c.id, [](const Container& x) {
        return x.health && x.health->status == "unhealthy";
    });
    EXPECT_GE(unhealthy.health->failing_streak, 2);
    EXPECT_LE(unhealthy.health->log.size(), 5u);
    EXPECT_EQ(unhealthy.health->log.back().exit_code, 1);
    // Probes leave no exec behind.
    EXPECT_FALSE(fs::exists(root() / "containers" / c.id / "execs") &&
                 !fs::is_empty(root() / "containers" / c.id / "execs"));

    // A probe past its timeout is killed and fails.
    auto slow = started("sleep 1000", {.healthcheck = {.test = {"CMD", "sleep", "10"},
                                                       .interval_ns = 20 * kMs,
                                                       .timeout_ns = 100 * kMs,
                                                       .retries = 1}});
    auto timed_out = inspect_until(*manager_, slow.id, [](const Container& x) {
        return x.health && x.health->status == "unhealthy";
    });
    EXPECT_EQ(timed_out.health->log.back().exit_code, -1);
    EXPECT_NE(timed_out.health->log.back().output.find("exceeded timeout"), std::string::npos);
    ASSERT_TRUE(manager_->kill(slow.id, SIGKILL));
    wait_exit(slow.id);
    inspect_until(*manager_, slow.id, [](const Container& x) { return !x.health; });
}

}  // namespace
}  // namespace grove::containers
