// Runs through engine::Runner on the busybox test image: inputs and outputs, snapshots and the
// image tree, timeouts and process trees, isolation and escape attempts, limits, and parallel
// runs. Each test is a real container: namespaces, an overlay, seccomp, a cgroup.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <signal.h>
#include <sstream>
#include <sys/stat.h>
#include <thread>

#include <gtest/gtest.h>

#include "base/child_process.hpp"
#include "base/json.hpp"
#include "base/temp_dir.hpp"
#include "engine/host_cgroups.hpp"
#include "engine/runner.hpp"
#include "helpers/process_probes.hpp"
#include "helpers/requirements.hpp"
#include "helpers/run_dirs.hpp"
#include "helpers/test_images.hpp"
#include "image/layout_source.hpp"
#include "runtime/oci/runtime.hpp"

namespace grove::engine {
namespace {

class RunTest : public ::testing::Test {
protected:
    void SetUp() override {
        GROVE_REQUIRE(grove::testing::missing_root());
        GROVE_REQUIRE(grove::testing::missing_overlay());
        auto images = grove::testing::TestImages::load();
        ASSERT_TRUE(images) << images.error().to_string();
        auto dir = base::TempDir::create("grove-run-", "/var/tmp");
        ASSERT_TRUE(dir);
        dir_.emplace(std::move(dir).value());
        auto store = image::ImageStore::open(dir_->path() / "root", base::Logger::stderr_text());
        ASSERT_TRUE(store) << store.error().to_string();
        store_ = std::move(store).value();
        auto source = image::LayoutSource::open(images->dir() / "busybox", "latest");
        ASSERT_TRUE(source);
        auto imported = store_->import(**source, {.tag = "busybox"});
        ASSERT_TRUE(imported) << imported.error().to_string();
        base_ = imported->image;
        const auto log = base::Logger::stderr_text();
        runner_.emplace(*store_, host_cgroups(log, true), log);
    }

    RunResult run(RunRequest request) {
        if (request.image.empty()) {
            request.image = base_.uuid;
        }
        auto result = runner_->run(request);
        EXPECT_TRUE(result) << result.error().to_string();
        return std::move(result).value_or(RunResult{});
    }
    RunResult sh(const std::string& script, RunRequest request = {}) {
        request.shell = script;
        return run(std::move(request));
    }

    std::optional<base::TempDir> dir_;
    std::unique_ptr<image::ImageStore> store_;
    store::ImageRecord base_;
    std::optional<Runner> runner_;
};

TEST_F(RunTest, ROOT_InputsAndOutputs) {
    auto r = sh("echo out; echo err >&2; exit 3");
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_EQ(r.stdout_data, "out\n");
    EXPECT_EQ(r.stderr_data, "err\n");
    EXPECT_FALSE(r.result_image) << "runs are disposable by default";

    r = run({.argv = {"/bin/sh", "-c", "echo $A $B; pwd; id -u; id -g; hostname"},
             .env = {"A=1", "B=two words"},
             .cwd = "/tmp",
             .uid = 1000,
             .gid = 1001,
             .hostname = "box"});
    EXPECT_EQ(r.stdout_data, "1 two words\n/tmp\n1000\n1001\nbox\n");

    std::string big(1 << 20, 'x');
    r = run({.argv = {"/bin/wc", "-c"}, .stdin_data = big});
    EXPECT_EQ(r.stdout_data.substr(r.stdout_data.find_first_not_of(' ')), "1048576\n");

    // A command that never reads a large stdin must not take the caller down with SIGPIPE.
    r = run({.argv = {"/bin/true"}, .stdin_data = std::string(8 << 20, 'y')});
    EXPECT_EQ(r.exit_code, 0);

    r = sh("printf '\\000\\001\\377'");
    EXPECT_EQ(r.stdout_data, std::string("\0\1\377", 3)) << "binary output";

    r = sh("yes | head -c 100000", {.output_limit = 1000});
    EXPECT_EQ(r.stdout_data.size(), 1000u);
    EXPECT_TRUE(r.stdout_truncated);

    r = sh("kill -9 $$");
    EXPECT_EQ(r.signal, SIGKILL);
    EXPECT_EQ(r.exit_code, 128 + SIGKILL);
}

TEST_F(RunTest, ROOT_SnapshotsFormATree) {
    auto unchanged = sh("cat /etc/passwd > /dev/null", {.disposable = false});
    ASSERT_TRUE(unchanged.result_image);
    EXPECT_FALSE(unchanged.changed);
    EXPECT_EQ(unchanged.result_image->uuid, base_.uuid) << "one UUID per filesystem state";

    auto first = sh("echo 1 > /root/state; rm /etc/group", {.disposable = false, .tag = "s1"});
    ASSERT_TRUE(first.result_image);
    EXPECT_TRUE(first.changed);
    EXPECT_EQ(first.result_image->parent, base_.uuid);
    EXPECT_EQ(first.result_image->tag, "s1");

    auto second =
        sh("cat /root/state; ls /etc/group 2>/dev/null || echo no-group; echo 2 >> /root/state",
           {.image = "s1", .disposable = false});
    EXPECT_EQ(second.stdout_data, "1\nno-group\n");
    ASSERT_TRUE(second.result_image);
    EXPECT_EQ(store_->lineage(second.result_image->uuid)->size(), 2u);

    // A branch from the base never sees the other branch's files.
    auto branch = sh("cat /root/state 2>/dev/null || echo clean");
    EXPECT_EQ(branch.stdout_data, "clean\n");
    EXPECT_EQ(store_->children(base_.uuid)->size(), 1u);
}

// The busybox image has no etc/hostname, etc/hosts or etc/resolv.conf: they come from a mount
// point layer stacked on top, never from the run's upper, so a commit holds only what the
// command wrote and /etc keeps the image's attributes.
TEST_F(RunTest, ROOT_MountPointsComeFromALayerNotFromTheRun) {
    auto r = sh("cat /etc/hostname; echo x > /etc/added", {.hostname = "box", .disposable = false});
    EXPECT_EQ(r.stdout_data, "box\n");
    ASSERT_TRUE(r.result_image);
    const auto root = dir_->path() / "root";
    const auto layer = root / "layers" / std::to_string(*r.result_image->top_layer);
    std::vector<std::string> entries;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(layer)) {
        entries.push_back(entry.path().lexically_relative(layer).string());
    }
    std::sort(entries.begin(), entries.end());
    EXPECT_EQ(entries, (std::vector<std::string>{"etc", "etc/added"}));
    const auto files = store_->filesystem(base_);
    ASSERT_TRUE(files);
    const auto image_etc = files->lookup("/etc");
    ASSERT_TRUE(image_etc);
    struct stat etc {};
    ASSERT_EQ(::stat((layer / "etc").c_str(), &etc), 0);
    EXPECT_EQ(etc.st_mode, image_etc->st.st_mode);
    EXPECT_EQ(etc.st_uid, image_etc->st.st_uid);
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(root / "stubs"), {}), 1)
        << "one mount point layer, shared by every run of the image";
}

TEST_F(RunTest, ROOT_PreservedEnvGoesIntoTheResultImage) {
    auto kept = run({.argv = {"true"},
                     .env = {"GREETING=hello there"},
                     .disposable = false,
                     .preserve_env = true});
    ASSERT_TRUE(kept.result_image);
    EXPECT_TRUE(kept.changed) << "the same files under another config are another image";
    EXPECT_NE(kept.result_image->uuid, base_.uuid);
    EXPECT_EQ(kept.result_image->top_layer, base_.top_layer) << "no new layer for no new file";
    auto later = sh("echo $GREETING", {.image = kept.result_image->uuid});
    EXPECT_EQ(later.stdout_data, "hello there\n");

    auto plain = run({.argv = {"true"}, .env = {"GREETING=hi"}, .disposable = false});
    ASSERT_TRUE(plain.result_image);
    EXPECT_EQ(plain.result_image->uuid, base_.uuid) << "without preserve_env the env is the run's";
}

TEST_F(RunTest, ROOT_TimeoutsKillTheWholeTree) {
    const auto start = std::chrono::steady_clock::now();
    auto r = sh("trap '' TERM; sleep 100 & sleep 100", {.timeout = std::chrono::milliseconds(300)});
    EXPECT_TRUE(r.timed_out);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
    // A daemonised process dies with the run: nothing of it is left on the host.
    auto daemon = sh("setsid sleep 1000 > /dev/null 2>&1 & echo started");
    EXPECT_EQ(daemon.stdout_data, "started\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto ps = base::run_command({.argv = {"pgrep", "-f", "sleep 1000"}}, std::chrono::seconds(5));
    ASSERT_TRUE(ps);
    EXPECT_FALSE(ps->status.success()) << "left behind: " << ps->out;
}

// Each syscall an escape needs, tried by a static program injected into the run: every one is
// refused, by the dropped capabilities, seccomp, or both. setns fails earlier still: opening
// init's namespace needs ptrace access to init, which holds capabilities the command lacks.
TEST_F(RunTest, ROOT_EscapeSyscallsAreRefused) {
    std::ifstream in(GROVE_ESCAPE_PROBE, std::ios::binary);
    std::string probe((std::istreambuf_iterator<char>(in)), {});
    ASSERT_FALSE(probe.empty()) << GROVE_ESCAPE_PROBE;
    auto r = run({.argv = {"/probe"},
                  .files = {{.path = "/probe", .content = std::move(probe), .mode = 0755}}});
    ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
    std::map<std::string, std::string> outcome;
    std::istringstream lines(r.stdout_data);
    for (std::string name, err; lines >> name >> err;) {
        outcome[name] = err;
    }
    const std::map<std::string, std::string> expected = {
        {"ptrace-init", "EPERM"},    {"raw-socket", "EPERM"},   {"packet-socket", "EPERM"},
        {"finit-module", "EPERM"},   {"init-module", "EPERM"},  {"unshare-user", "EPERM"},
        {"unshare-mount", "EPERM"},  {"setns-mount", "EACCES"}, {"mount-tmpfs", "EPERM"},
        {"open-by-handle", "EPERM"}, {"keyctl", "EPERM"},       {"bpf", "EPERM"},
        {"perf-event", "EPERM"},     {"reboot", "EPERM"},       {"mknod", "EPERM"}};
    EXPECT_EQ(outcome, expected) << r.stdout_data;
}

TEST_F(RunTest, ROOT_CancelKillsTheRunAndKeepsNothing) {
    auto cancel = CancelSignal::create();
    ASSERT_TRUE(cancel);
    std::jthread canceller([signal = *cancel] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        signal->cancel();
    });
    const auto start = std::chrono::steady_clock::now();
    auto r = sh("echo begun; echo x > /written; trap '' TERM; sleep 100",
                {.disposable = false, .cancel = *cancel});
    EXPECT_TRUE(r.cancelled);
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.signal, SIGKILL);
    EXPECT_EQ(r.stdout_data, "begun\n") << "output up to the cancellation is kept";
    EXPECT_FALSE(r.result_image) << "a cancelled run commits nothing";
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
    store_->wait_for_cleanup();
    EXPECT_EQ(grove::testing::run_dirs_left(dir_->path() / "root" / "runs"), 0u);

    // Cancelled before it starts: refused, nothing prepared.
    auto again = runner_->run({.image = base_.uuid, .shell = "true", .cancel = *cancel});
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code(), Code::kCancelled);
}

TEST_F(RunTest, ROOT_IsolationAndEscapeAttempts) {
    auto r =
        sh("grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status;"
           "mount -t tmpfs x /mnt 2>/dev/null && echo MOUNTED;"
           "unshare -U true 2>/dev/null && echo UNSHARED;"
           "ls /proc/1/root/ > /dev/null 2>&1; cat /proc/kcore 2>/dev/null | head -c 1 | wc -c;"
           "touch /sys/x 2>/dev/null && echo SYSRW;"
           "echo 1 > /proc/sys/kernel/panic 2>/dev/null && echo PROCSYSRW;"
           "mknod /tmp/dev c 1 1 2>/dev/null && echo MKNOD;"
           "cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' ';"
           "ps -o pid,comm | wc -l");
    EXPECT_NE(r.stdout_data.find("NoNewPrivs:\t1"), std::string::npos) << r.stdout_data;
    EXPECT_NE(r.stdout_data.find("Seccomp:\t2"), std::string::npos) << r.stdout_data;
    EXPECT_EQ(r.stdout_data.find("CapEff:\t000001ffffffffff"), std::string::npos);
    for (const char* escaped : {"MOUNTED", "UNSHARED", "SYSRW", "PROCSYSRW", "MKNOD"}) {
        EXPECT_EQ(r.stdout_data.find(escaped), std::string::npos) << escaped << "\n"
                                                                  << r.stdout_data;
    }
    EXPECT_NE(r.stdout_data.find("\n0\nlo\n"), std::string::npos)
        << "masked kcore, only lo: " << r.stdout_data;
}

TEST_F(RunTest, ROOT_InjectedFilesStayInsideTheSandbox) {
    // The image holds symlinks that would lead to the host's /etc and /tmp if followed there.
    auto prep = sh("ln -s /etc /root/etc-link; ln -s ../../../../../../tmp /root/up-link",
                   {.disposable = false});
    ASSERT_TRUE(prep.result_image);
    const std::string marker = "grove-injected-" + std::to_string(::getpid());
    auto r = run({.image = prep.result_image->uuid,
                  .argv = {"/bin/sh", "-c",
                           "cat /etc/" + marker + " /tmp/" + marker +
                               "; stat -c '%a %u %g' /opt/new/dir/tool"},
                  .files = {{"/root/etc-link/" + marker, "via etc link\n"},
                            {"/root/up-link/" + marker, "via up link\n"},
                            {"/opt/new/dir/tool", "#!/bin/sh\n", 04755, 1000, 1001}}});
    EXPECT_EQ(r.stdout_data, "via etc link\nvia up link\n4755 1000 1001\n") << r.stderr_data;
    EXPECT_FALSE(std::filesystem::exists("/etc/" + marker)) << "written on the host";
    EXPECT_FALSE(std::filesystem::exists("/tmp/" + marker)) << "written on the host";

    auto relative =
        runner_->run({.image = base_.uuid, .argv = {"/bin/true"}, .files = {{"relative", "x"}}});
    ASSERT_FALSE(relative);
    EXPECT_EQ(relative.error().code(), Code::kInvalidArgument);
}

TEST_F(RunTest, ROOT_ImageUserNamesResolveThroughTheImagesPasswd) {
    // An image whose config says User=<spec>: the base's files plus one, committed by the store.
    auto image_with_user = [&](const std::string& user) {
        auto config = base::parse_json(base_.config_json).value();
        config["config"]["User"] = user;
        auto dirs = store_->prepare_run(base_);
        EXPECT_TRUE(dirs) << dirs.error().to_string();
        std::ofstream(dirs->upper() / ("user-" + user)) << user;
        auto committed = store_->commit_run(std::move(dirs).value(), base_,
                                            {.operation = "test", .config_json = config.dump()});
        EXPECT_TRUE(committed) << committed.error().to_string();
        return committed->image.uuid;
    };
    EXPECT_EQ(run({.image = image_with_user("nobody"), .argv = {"/bin/sh", "-c", "id -u; id -g"}})
                  .stdout_data,
              "65534\n65534\n");
    EXPECT_EQ(
        run({.image = image_with_user("nobody:root"), .argv = {"/bin/sh", "-c", "id -u; id -g"}})
            .stdout_data,
        "65534\n0\n");
    EXPECT_EQ(run({.image = image_with_user("4242"), .argv = {"/bin/sh", "-c", "id -u; id -g"}})
                  .stdout_data,
              "4242\n0\n")
        << "an unknown numeric user gets group 0, as in Docker";
    auto ghost = runner_->run({.image = image_with_user("ghost"), .argv = {"/bin/true"}});
    ASSERT_FALSE(ghost);
    EXPECT_EQ(ghost.error().code(), Code::kNotFound);
    EXPECT_NE(ghost.error().message().find("'ghost'"), std::string::npos);
}

TEST_F(RunTest, ROOT_LimitsAreEnforced) {
    GROVE_REQUIRE(grove::testing::missing_cgroup_controller("pids"));
    GROVE_REQUIRE(grove::testing::missing_cgroup_controller("memory"));
    auto bomb = sh("for i in $(seq 64); do sleep 5 & done; echo done",
                   {.timeout = std::chrono::seconds(20), .limits = {.pids = 16}});
    EXPECT_NE(bomb.stderr_data.find("fork"), std::string::npos) << bomb.stderr_data;
    auto hog = sh("x=$(head -c 300000000 /dev/zero | tr '\\0' a); echo survived",
                  {.timeout = std::chrono::seconds(30), .limits = {.memory_bytes = 32 << 20}});
    EXPECT_TRUE(hog.oom_killed);
    EXPECT_LE(hog.memory_peak_bytes, 32u << 20);
    // The OOM killer takes the process that used the memory (busybox sort holds its whole input),
    // not the container's init: the run goes on, as in Docker.
    auto sorter = sh("head -c 300000000 /dev/zero | tr '\\0' a | sort > /dev/null; echo survived",
                     {.timeout = std::chrono::seconds(30), .limits = {.memory_bytes = 32 << 20}});
    EXPECT_TRUE(sorter.oom_killed);
    EXPECT_EQ(sorter.stdout_data, "survived\n") << sorter.stderr_data;
    EXPECT_EQ(sorter.exit_code, 0);
}

TEST_F(RunTest, ROOT_FillingTheDiskStopsAtTheLayerLimit) {
    constexpr uint64_t kLimit = 4 << 20;
    // One big file: the write fails at the limit (RLIMIT_FSIZE), and nothing is committed.
    auto big = sh("dd if=/dev/zero of=/big bs=1M count=64 2>&1; echo rc=$?",
                  {.max_layer_bytes = kLimit, .disposable = false});
    EXPECT_NE(big.stdout_data.find("rc=1"), std::string::npos) << big.stdout_data;
    EXPECT_TRUE(big.layer_too_large);
    EXPECT_FALSE(big.result_image);
    // Endless small files: the size watch kills the run soon after the limit.
    const auto start = std::chrono::steady_clock::now();
    auto many =
        sh("i=0; while true; do head -c 65536 /dev/zero > /f$i; i=$((i+1)); done",
           {.timeout = std::chrono::seconds(60), .max_layer_bytes = kLimit, .disposable = false});
    EXPECT_TRUE(many.layer_too_large);
    EXPECT_FALSE(many.timed_out);
    EXPECT_EQ(many.signal, SIGKILL);
    EXPECT_FALSE(many.result_image);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
    // Under the limit, the run commits as usual.
    auto small =
        sh("head -c 100000 /dev/zero > /small", {.max_layer_bytes = kLimit, .disposable = false});
    EXPECT_FALSE(small.layer_too_large);
    EXPECT_TRUE(small.result_image);
    store_->wait_for_cleanup();
    EXPECT_EQ(grove::testing::run_dirs_left(dir_->path() / "root" / "runs"), 0u);
}

TEST_F(RunTest, ROOT_NetworkModes) {
    // Interface names only: the counters move while the test runs.
    const std::string names = "grep : /proc/net/dev | cut -d: -f1 | tr -d ' '";
    EXPECT_EQ(sh(names).stdout_data, "lo\n") << "network none: loopback only";
    const auto host_names =
        base::run_command({.argv = {"/bin/sh", "-c", names}}, std::chrono::seconds(10));
    ASSERT_TRUE(host_names);
    auto host = sh(names + "; cat /etc/resolv.conf", {.network = Network::kHost});
    std::ifstream host_resolv("/etc/resolv.conf");
    const std::string resolv((std::istreambuf_iterator<char>(host_resolv)), {});
    EXPECT_EQ(host.stdout_data, host_names->out + resolv);
}

// The OCI backend runs the same request as grove's own runtime, snapshot included.
TEST_F(RunTest, ROOT_OciRuntimesRunTheSameRequest) {
    size_t ran = 0;
    for (const char* name : {"crun", "runc", "runsc"}) {
        if (!runtime::oci::Runtime::find(name)) {
            continue;  // each is optional; runtime/oci's own tests say why one is missing
        }
        ++ran;
        SCOPED_TRACE(name);
        auto r = sh("echo $GREETING from $(pwd) as $(id -u); cat; echo kept > /root/" +
                        std::string(name) +
                        "; grep -c . /proc/net/dev; grep NoNewPrivs /proc/self/status; true",
                    {.env = {"GREETING=hello"},
                     .cwd = "/tmp",
                     .uid = 0,
                     .stdin_data = "from stdin\n",
                     .runtime = name,
                     .disposable = false});
        EXPECT_EQ(r.exit_code, 0) << r.stderr_data;
        // gVisor's /proc/self/status has no NoNewPrivs line.
        const std::string no_new_privs = name == std::string("runsc") ? "" : "NoNewPrivs:\t1\n";
        EXPECT_EQ(r.stdout_data, "hello from /tmp as 0\nfrom stdin\n3\n" + no_new_privs)
            << r.stderr_data;
        ASSERT_TRUE(r.result_image);
        EXPECT_EQ(sh(std::string("cat /root/") + name, {.image = r.result_image->uuid}).stdout_data,
                  "kept\n");
        auto killed = sh("sleep 100", {.timeout = std::chrono::milliseconds(500), .runtime = name});
        EXPECT_TRUE(killed.timed_out);
    }
    if (ran == 0) {
        GTEST_SKIP() << "no OCI runtime (crun, runc, runsc) is installed";
    }
}

// RunRequest::on_started: processes started in the running sandbox share its filesystem (their
// writes are in the snapshot), its cgroup and its identity; the run's end closes it to them.
TEST_F(RunTest, ROOT_ProcessesStartInTheRunningSandbox) {
    std::shared_ptr<RunningSandbox> sandbox;
    std::optional<runtime::process::SandboxExec> writer;
    std::optional<runtime::process::SandboxExec> sleeper;
    auto pipe = base::Pipe::create();
    ASSERT_TRUE(pipe);
    std::string cgroup;
    auto r = sh(
        "while [ ! -f /tmp/from-exec ]; do sleep 0.05; done; cat /tmp/from-exec",
        {.env = {"A=main"},
         .uid = 1000,
         .gid = 1000,
         .disposable = false,
         .on_started = [&](std::shared_ptr<RunningSandbox> running) {
             sandbox = std::move(running);
             auto started = sandbox->exec({.argv = {"/bin/sh", "-c",
                                                    "echo $A $B $(id -u) > /tmp/x; "
                                                    "cat /tmp/x; exec mv /tmp/x /tmp/from-exec"},
                                           .env = {"B=exec"},
                                           .stdout_fd = pipe->write.get()});
             ASSERT_TRUE(started) << started.error().to_string();
             writer.emplace(std::move(started).value());
             started = sandbox->exec({.argv = {"/bin/sleep", "100"}});
             ASSERT_TRUE(started) << started.error().to_string();
             sleeper.emplace(std::move(started).value());
             cgroup =
                 grove::testing::read_text("/proc/" + std::to_string(sleeper->pid()) + "/cgroup");
         }});
    pipe->write.reset();
    EXPECT_EQ(r.exit_code, 0) << r.stderr_data;
    EXPECT_EQ(r.stdout_data, "main exec 1000\n") << "the run saw the process's file";
    ASSERT_TRUE(writer && sleeper);
    EXPECT_EQ(base::read_all(pipe->read.get()).value_or(""), "main exec 1000\n");
    auto wrote = writer->wait(std::chrono::seconds(5));
    EXPECT_TRUE(wrote && *wrote) << "reaped";
    auto slept = sleeper->wait(std::chrono::seconds(5));
    ASSERT_TRUE(slept && *slept) << "the process died with the sandbox";
    EXPECT_EQ((*slept)->signal, SIGKILL);
    if (host_cgroups(base::Logger::stderr_text(), false)) {
        EXPECT_NE(cgroup.find("/grove/run-"), std::string::npos) << cgroup;
    }

    ASSERT_TRUE(r.result_image);
    EXPECT_EQ(sh("cat /tmp/from-exec", {.image = r.result_image->uuid}).stdout_data,
              "main exec 1000\n")
        << "the process's writes are in the snapshot";
    ASSERT_TRUE(sandbox);
    EXPECT_TRUE(sandbox->ended());
    auto late = sandbox->exec({.argv = {"/bin/true"}});
    ASSERT_FALSE(late);
    EXPECT_EQ(late.error().code(), Code::kFailedPrecondition);
}

TEST_F(RunTest, ROOT_OciRunsHaveNoProcessesStartedInThem) {
    if (!runtime::oci::Runtime::find("crun")) {
        GTEST_SKIP() << "crun is not installed";
    }
    std::optional<Error> refused;
    auto r = sh("true", {.runtime = "crun", .on_started = [&](std::shared_ptr<RunningSandbox> s) {
                             auto started = s->exec({.argv = {"/bin/true"}});
                             refused = started ? std::nullopt : std::optional(started.error());
                         }});
    EXPECT_EQ(r.exit_code, 0);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->code(), Code::kUnimplemented) << refused->to_string();
}

TEST_F(RunTest, ROOT_EightParallelRunsFromOneImage) {
    std::vector<RunResult> results(8);
    {
        std::vector<std::jthread> threads;
        for (size_t i = 0; i < results.size(); ++i) {
            threads.emplace_back([&, i] {
                results[i] =
                    sh(fmt::format("ls /root; echo {} > /root/mine", i), {.disposable = false});
            });
        }
    }
    std::set<std::string> images;
    for (const auto& r : results) {
        EXPECT_EQ(r.stdout_data, "") << "no run sees another's file";
        ASSERT_TRUE(r.result_image);
        images.insert(r.result_image->uuid);
    }
    EXPECT_EQ(images.size(), 8u);
    EXPECT_EQ(store_->children(base_.uuid)->size(), 8u);
}

}  // namespace
}  // namespace grove::engine
