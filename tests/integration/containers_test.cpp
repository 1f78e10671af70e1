// Long-lived containers through containers::Manager on the busybox test image, each under its
// real grove-shim: lifecycle and state, surviving the manager (a daemon restart), a shim killed
// with -9, logs, attach and stdin, tty, pause, update, and nothing left after removal.

#include <csignal>
#include <filesystem>
#include <fstream>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

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

    static pid_t parent_of(pid_t pid) {
        const std::string stat = grove::testing::read_text(fmt::format("/proc/{}/stat", pid));
        const size_t close = stat.rfind(')');
        if (close == std::string::npos) {
            return 0;
        }
        return std::atoi(stat.c_str() + close + 4);  // ") S <ppid>"
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

TEST_F(ContainersTest, ROOT_AShimKilledWithNineTakesItsContainer) {
    auto c = started("echo ready; exec sleep 1000");
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
    EXPECT_TRUE(cgroup_dirs(c.id).empty());
    EXPECT_EQ(grove::testing::mounts_under(dir_->path()), "");
    EXPECT_LE(grove::testing::count_open_fds(), fds);
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
    auto c = started("echo ready; sleep 1000");
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
    EXPECT_GE(stats->pids_current, 2u);  // sh and sleep
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

}  // namespace
}  // namespace grove::containers
