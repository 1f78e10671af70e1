#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>

#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"
#include "helpers/busybox_rootfs.hpp"
#include "helpers/mounts.hpp"
#include "helpers/process_probes.hpp"
#include "helpers/rootfs_plan.hpp"
#include "runtime/cgroup/cgroup.hpp"
#include "runtime/process/sandbox_process.hpp"

namespace grove::runtime::process {
namespace {

namespace fs = std::filesystem;
using caps::cap_bit;
using caps::kDockerDefaultCaps;
using std::chrono::milliseconds;
using testing::count_open_fds;
using testing::read_some;
using testing::read_text;
using testing::status_hex;

// Host processes in the PID namespace `ns` (the target of a /proc/N/ns/pid link).
int count_processes_in(const std::string& ns) {
    int count = 0;
    for (const auto& entry : fs::directory_iterator("/proc")) {
        const std::string name = entry.path().filename();
        std::error_code ec;
        if (name.find_first_not_of("0123456789") == std::string::npos &&
            fs::read_symlink(entry.path() / "ns/pid", ec) == ns) {
            ++count;
        }
    }
    return count;
}

struct Outcome {
    RunExit exit{};
    std::string out;
};

class SandboxProcessTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (geteuid() != 0 || !fs::exists("/bin/busybox")) {
            return;
        }
        auto dir = base::TempDir::create("grove-process-test-");
        ASSERT_TRUE(dir.has_value());
        dir_ = new base::TempDir(std::move(*dir));
        const fs::path rootfs = dir_->path() / "rootfs";
        testing::make_busybox_rootfs(
            rootfs, {"sh", "echo", "id", "hostname", "pwd", "env", "cat", "grep", "sleep",
                     "unshare", "mount", "true", "kill", "ls"});
        auto plan = testing::plan_for_directory({.rootfs = rootfs});
        ASSERT_TRUE(plan.has_value()) << plan.error().to_string();
        plan_ = new rootfs::Plan(std::move(*plan));
    }
    static void TearDownTestSuite() {
        delete plan_;
        delete dir_;
    }

    void SetUp() override {
        if (geteuid() != 0) {
            GTEST_SKIP() << "needs root";
        }
        if (plan_ == nullptr) {
            GTEST_SKIP() << "needs a static /bin/busybox (busybox-static)";
        }
        auto program = seccomp::default_program();
        ASSERT_TRUE(program.has_value()) << program.error().to_string();
        program_ = *program;
    }

    ProcessSpec spec(const std::string& script) const {
        ProcessSpec spec;
        spec.argv = {"sh", "-c", script};
        spec.env = {"PATH=/bin", "HOME=/"};
        spec.plan = *plan_;
        spec.seccomp = program_;
        return spec;
    }

    // Runs `spec` to completion with stdout and stderr captured together.
    static Outcome run(ProcessSpec spec) {
        Outcome result;
        auto pipe = base::Pipe::create();
        EXPECT_TRUE(pipe.has_value());
        spec.stdout_fd = pipe->write.get();
        spec.stderr_fd = pipe->write.get();
        auto process = SandboxProcess::start(spec);
        EXPECT_TRUE(process.has_value()) << process.error().to_string();
        if (!process.has_value()) {
            return result;
        }
        pipe->write.reset();
        auto out = base::read_all(pipe->read.get());
        EXPECT_TRUE(out.has_value());
        result.out = out.value_or("");
        auto exit = process->wait(std::nullopt);
        EXPECT_TRUE(exit.has_value() && exit->has_value());
        if (exit.has_value() && exit->has_value()) {
            result.exit = **exit;
        }
        return result;
    }

    static inline base::TempDir* dir_ = nullptr;
    static inline rootfs::Plan* plan_ = nullptr;
    const seccomp::Program* program_ = nullptr;
};

TEST_F(SandboxProcessTest, ROOT_CapturesOutputAndExitCode) {
    Outcome ok = run(spec("echo hello; echo oops >&2"));
    EXPECT_EQ(ok.out, "hello\noops\n");
    EXPECT_EQ(ok.exit.exit_code, 0);
    EXPECT_EQ(ok.exit.signal, 0);

    Outcome three = run(spec("exit 3"));
    EXPECT_EQ(three.exit.exit_code, 3);
    EXPECT_EQ(three.exit.signal, 0);
}

TEST_F(SandboxProcessTest, ROOT_ReportsTheCommandsSignal) {
    Outcome killed = run(spec("kill -9 $$"));
    EXPECT_EQ(killed.exit.signal, SIGKILL);
    EXPECT_EQ(killed.exit.exit_code, 128 + SIGKILL);
}

TEST_F(SandboxProcessTest, ROOT_AppliesIdentityEnvCwdAndHostname) {
    ProcessSpec s = spec("id -u; id -g; id -G; hostname; pwd; env | grep FOO; echo $$");
    s.uid = 1000;
    s.gid = 1001;
    s.groups = {10, 1002};
    s.cwd = "/tmp";
    s.hostname = "grove-box";
    s.env.push_back("FOO=bar");
    Outcome r = run(s);
    EXPECT_EQ(r.exit.exit_code, 0) << r.out;
    EXPECT_EQ(r.out, "1000\n1001\n1001 10 1002\ngrove-box\n/tmp\nFOO=bar\n2\n");
}

TEST_F(SandboxProcessTest, ROOT_DropsCapabilitiesAndSetsNoNewPrivsAndSeccomp) {
    Outcome root = run(spec("cat /proc/self/status"));
    EXPECT_EQ(status_hex(root.out, "CapEff"), kDockerDefaultCaps) << root.out;
    EXPECT_EQ(status_hex(root.out, "CapPrm"), kDockerDefaultCaps);
    EXPECT_EQ(status_hex(root.out, "CapBnd"), kDockerDefaultCaps);
    EXPECT_EQ(status_hex(root.out, "CapAmb"), 0U);
    EXPECT_NE(root.out.find("NoNewPrivs:\t1\n"), std::string::npos);
    EXPECT_NE(root.out.find("Seccomp:\t2\n"), std::string::npos);

    // A non-root user keeps the bounding set but, with no ambient caps, no effective ones.
    ProcessSpec user = spec("cat /proc/self/status");
    user.uid = 1000;
    user.gid = 1000;
    Outcome u = run(user);
    EXPECT_EQ(status_hex(u.out, "CapEff"), 0U) << u.out;
    EXPECT_EQ(status_hex(u.out, "CapPrm"), 0U);
    EXPECT_EQ(status_hex(u.out, "CapBnd"), kDockerDefaultCaps);

    ProcessSpec narrow = spec("cat /proc/self/status");
    narrow.capabilities = cap_bit(CAP_CHOWN) | cap_bit(CAP_KILL);
    Outcome n = run(narrow);
    EXPECT_EQ(status_hex(n.out, "CapEff"), narrow.capabilities) << n.out;
    EXPECT_EQ(status_hex(n.out, "CapBnd"), narrow.capabilities);
}

TEST_F(SandboxProcessTest, ROOT_SeccompAndCapsDenyNamespacesAndMounts) {
    Outcome r =
        run(spec("unshare -U true && echo unshared; mount -t tmpfs none /mnt && echo mounted; "
                 "echo done"));
    EXPECT_EQ(r.out.find("unshared"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("mounted"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("done\n"), std::string::npos) << r.out;
}

TEST_F(SandboxProcessTest, ROOT_ExecFailureIsAStartError) {
    ProcessSpec s = spec("");
    s.argv = {"/bin/nope"};
    auto process = SandboxProcess::start(s);
    ASSERT_FALSE(process.has_value());
    EXPECT_NE(process.error().to_string().find("execve '/bin/nope': No such file or directory"),
              std::string::npos)
        << process.error().to_string();

    s.argv = {"nope"};  // searched in the container's PATH
    process = SandboxProcess::start(s);
    ASSERT_FALSE(process.has_value());
    EXPECT_NE(process.error().to_string().find("execve 'nope'"), std::string::npos);
}

TEST_F(SandboxProcessTest, ROOT_MountPlanFailureNamesTheStep) {
    ProcessSpec s = spec("true");
    s.plan.ops.push_back(
        {.kind = rootfs::OpKind::kBind, .target = "mnt", .source = "/nonexistent"});
    auto process = SandboxProcess::start(s);
    ASSERT_FALSE(process.has_value());
    const std::string expected = "mount plan step " + std::to_string(s.plan.ops.size() - 1);
    EXPECT_NE(process.error().to_string().find(expected), std::string::npos)
        << process.error().to_string();
}

TEST_F(SandboxProcessTest, ROOT_JoinsItsCgroupFirstAndSeesItAsItsRoot) {
    auto cgroups = cgroup::Manager::detect();
    if (!cgroups) {
        GTEST_SKIP() << "no usable cgroups: " << cgroups.error().to_string();
    }
    const std::string name = "grove-process-test-" + std::to_string(getpid());
    auto group = (*cgroups)->create(name, {});
    ASSERT_TRUE(group.has_value()) << group.error().to_string();
    {
        ProcessSpec s = spec("cat /proc/self/cgroup; echo end; exec sleep 100");
        auto files = join_cgroup(**group, s);
        ASSERT_TRUE(files.has_value()) << files.error().to_string();
        base::Pipe out = *base::Pipe::create();
        s.stdout_fd = out.write.get();
        auto process = SandboxProcess::start(s);
        ASSERT_TRUE(process.has_value()) << process.error().to_string();
        out.write.reset();
        // From the host, init is in the group in every hierarchy (v1) or the unified one (v2).
        const std::string host_view =
            read_text("/proc/" + std::to_string(process->pid()) + "/cgroup");
        std::istringstream lines(host_view);
        size_t joined = 0;
        for (std::string line; std::getline(lines, line);) {
            joined += line.ends_with("/" + std::string(cgroup::kParentGroup) + "/" + name);
        }
        EXPECT_GT(joined, 0u) << host_view;
        // Inside, the cgroup namespace starts at the run's group: every path is "/".
        std::string inside;
        char buf[4096];
        for (ssize_t n; (n = ::read(out.read.get(), buf, sizeof(buf))) > 0;) {
            inside.append(buf, static_cast<size_t>(n));
            if (inside.ends_with("end\n")) {
                break;
            }
        }
        ASSERT_TRUE(inside.ends_with("end\n")) << inside;
        std::istringstream seen(inside.substr(0, inside.size() - 4));
        for (std::string line; std::getline(seen, line);) {
            EXPECT_TRUE(line.ends_with(":/")) << inside;
        }
        ASSERT_TRUE(process->kill(SIGKILL).has_value());
        ASSERT_TRUE(process->wait(std::nullopt).has_value());
    }
    EXPECT_TRUE((*group)->close().has_value());
}

TEST_F(SandboxProcessTest, ROOT_ClonesIntoACgroupV2Directory) {
    const fs::path unified = "/sys/fs/cgroup/unified";
    if (read_text("/proc/self/mountinfo").find(" " + unified.string() + " ") == std::string::npos) {
        GTEST_SKIP() << "no cgroup2 mount at " << unified;
    }
    const std::string name = "grove-process-test-" + std::to_string(getpid());
    ASSERT_TRUE(fs::create_directory(unified / name));
    {
        auto dir = base::UniqueFd::open(unified / name, O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(dir.has_value()) << dir.error().to_string();
        ProcessSpec s = spec("exec sleep 100");
        s.cgroup_fd = dir->get();
        auto process = SandboxProcess::start(s);
        ASSERT_TRUE(process.has_value()) << process.error().to_string();
        const std::string cgroup = read_text("/proc/" + std::to_string(process->pid()) + "/cgroup");
        EXPECT_NE(cgroup.find("0::/" + name + "\n"), std::string::npos) << cgroup;
        ASSERT_TRUE(process->kill(SIGKILL).has_value());
        ASSERT_TRUE(process->wait(std::nullopt).has_value());
    }
    EXPECT_TRUE(fs::remove(unified / name)) << "the cgroup is empty once the run is over";
}

TEST_F(SandboxProcessTest, ROOT_DaemonizedChildDoesNotOutliveTheRun) {
    auto pipe = base::Pipe::create();
    ASSERT_TRUE(pipe.has_value());
    ProcessSpec s = spec("sleep 987 & echo started; sleep 0.2");
    s.stdout_fd = pipe->write.get();
    auto process = SandboxProcess::start(s);
    ASSERT_TRUE(process.has_value()) << process.error().to_string();
    pipe->write.reset();
    EXPECT_EQ(read_some(pipe->read.get()), "started\n");
    const std::string ns =
        fs::read_symlink("/proc/" + std::to_string(process->pid()) + "/ns/pid").string();
    EXPECT_EQ(count_processes_in(ns), 3) << "init, sh and the background sleep";
    auto out = base::read_all(pipe->read.get());  // EOF only once the sleep is gone too
    ASSERT_TRUE(out.has_value());
    EXPECT_EQ(*out, "");
    auto exit = process->wait(std::nullopt);
    ASSERT_TRUE(exit.has_value() && exit->has_value());
    EXPECT_EQ((*exit)->exit_code, 0);
    EXPECT_EQ(count_processes_in(ns), 0);
}

TEST_F(SandboxProcessTest, ROOT_TimeoutThenKill) {
    auto process = SandboxProcess::start(spec("sleep 100"));
    ASSERT_TRUE(process.has_value()) << process.error().to_string();
    auto early = process->wait(milliseconds(100));
    ASSERT_TRUE(early.has_value());
    EXPECT_FALSE(early->has_value());
    ASSERT_TRUE(process->kill(SIGKILL).has_value());
    auto exit = process->wait(milliseconds(5000));
    ASSERT_TRUE(exit.has_value() && exit->has_value());
    EXPECT_EQ((*exit)->signal, SIGKILL);
}

TEST_F(SandboxProcessTest, ROOT_IgnoredSigtermStillDiesWithSigkill) {
    auto pipe = base::Pipe::create();
    ASSERT_TRUE(pipe.has_value());
    ProcessSpec s = spec("trap '' TERM; echo ready; sleep 100; echo survived");
    s.stdout_fd = pipe->write.get();
    auto process = SandboxProcess::start(s);
    ASSERT_TRUE(process.has_value()) << process.error().to_string();
    pipe->write.reset();
    EXPECT_EQ(read_some(pipe->read.get()), "ready\n");  // the trap is in place
    ASSERT_TRUE(process->kill(SIGTERM).has_value());    // forwarded by init, ignored by sh
    auto still = process->wait(milliseconds(200));
    ASSERT_TRUE(still.has_value());
    EXPECT_FALSE(still->has_value());
    ASSERT_TRUE(process->kill(SIGKILL).has_value());
    auto exit = process->wait(milliseconds(5000));
    ASSERT_TRUE(exit.has_value() && exit->has_value());
    EXPECT_EQ((*exit)->signal, SIGKILL);
}

TEST_F(SandboxProcessTest, ROOT_SigtermIsForwardedToTheCommand) {
    auto process = SandboxProcess::start(spec("exec sleep 100"));
    ASSERT_TRUE(process.has_value()) << process.error().to_string();
    usleep(50 * 1000);  // let the exec'd sleep restore its default SIGTERM handling
    ASSERT_TRUE(process->kill(SIGTERM).has_value());
    auto exit = process->wait(milliseconds(5000));
    ASSERT_TRUE(exit.has_value() && exit->has_value());
    EXPECT_EQ((*exit)->signal, SIGTERM);
}

// With command_is_init the command is the namespace's init (Docker without --init): pid 1, a
// signal it has no handler for is dropped by the kernel, one it traps still reaches it, and its
// exit is the run's.
TEST_F(SandboxProcessTest, ROOT_TheCommandCanBeTheInit) {
    auto pipe = base::Pipe::create();
    ASSERT_TRUE(pipe.has_value());
    ProcessSpec s = spec(
        "trap 'echo got usr1; exit 5' USR1; echo \"pid $$ ready\"; "
        "while :; do sleep 0.05; done");
    s.stdout_fd = pipe->write.get();
    s.command_is_init = true;
    auto process = SandboxProcess::start(s);
    ASSERT_TRUE(process.has_value()) << process.error().to_string();
    pipe->write.reset();
    EXPECT_EQ(read_some(pipe->read.get()), "pid 1 ready\n");  // the trap is in place
    ASSERT_TRUE(process->kill(SIGTERM).has_value());          // no handler: dropped
    auto still = process->wait(milliseconds(300));
    ASSERT_TRUE(still.has_value());
    EXPECT_FALSE(still->has_value()) << "TERM killed the command";
    ASSERT_TRUE(process->kill(SIGUSR1).has_value());
    auto exit = process->wait(milliseconds(5000));
    ASSERT_TRUE(exit.has_value() && exit->has_value());
    EXPECT_EQ((*exit)->exit_code, 5);
    EXPECT_EQ(read_some(pipe->read.get()), "got usr1\n");

    s.argv = {"sh", "-c", "exit 7"};
    s.stdout_fd = -1;
    EXPECT_EQ(run(s).exit.exit_code, 7);
}

// The switch to another uid clears the parent-death signal; a command that is init arms it
// again, or a container whose shim died would live on unsupervised.
TEST_F(SandboxProcessTest, ROOT_AnInitCommandKeepsItsParentDeathSignalAsAnotherUser) {
    ProcessSpec s = spec("sleep 100");
    s.command_is_init = true;
    s.uid = 1000;
    s.gid = 1000;
    s.parent_death_signal = SIGKILL;
    std::optional<SandboxProcess> process;
    // The signal follows the death of the thread that started the process.
    std::thread([&] {
        auto started = SandboxProcess::start(s);
        ASSERT_TRUE(started.has_value()) << started.error().to_string();
        process.emplace(std::move(started).value());
    }).join();
    ASSERT_TRUE(process.has_value());
    auto exit = process->wait(milliseconds(5000));
    ASSERT_TRUE(exit.has_value() && exit->has_value()) << "the command outlived its parent";
    EXPECT_EQ((*exit)->signal, SIGKILL);
}

TEST_F(SandboxProcessTest, ROOT_RusageCoversTheTree) {
    Outcome r = run(spec("i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done"));
    EXPECT_EQ(r.exit.exit_code, 0);
    const auto& cpu = r.exit.usage.ru_utime;
    EXPECT_GT(cpu.tv_sec * 1000000 + cpu.tv_usec, 10000) << "at least 10 ms of user time";
}

TEST_F(SandboxProcessTest, ROOT_NetworkNoneHasOnlyLoopbackUp) {
    Outcome r = run(spec("cat /proc/net/dev; cat /sys/class/net/lo/flags; ls /sys/class/net"));
    EXPECT_EQ(r.exit.exit_code, 0) << r.out;
    EXPECT_NE(r.out.find("lo:"), std::string::npos) << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), ':'), 1) << "one device\n" << r.out;
    EXPECT_NE(r.out.find("0x9\n"), std::string::npos) << "IFF_UP|IFF_LOOPBACK\n" << r.out;
    EXPECT_TRUE(r.out.ends_with("\nlo\n")) << r.out;
}

// Once the command runs, pid 1 is the small static reaper, not a copy of this process: the OOM
// killer, which picks the largest, must never prefer init to what used the memory.
TEST_F(SandboxProcessTest, ROOT_InitIsTheSmallReaperWhileTheCommandRuns) {
    // The sleep lets init finish its execve, which overlaps the command's start.
    Outcome r = run(spec("sleep 0.3; cat /proc/1/comm; grep VmRSS /proc/1/status"));
    EXPECT_EQ(r.exit.exit_code, 0) << r.out;
    EXPECT_TRUE(r.out.starts_with("grove-init\n")) << r.out;
    const size_t at = r.out.find("VmRSS:");
    ASSERT_NE(at, std::string::npos) << r.out;
    EXPECT_LT(std::strtoul(r.out.c_str() + at + 6, nullptr, 10), 2048u) << "KiB\n" << r.out;
}

TEST_F(SandboxProcessTest, ROOT_LeavesNoFdsMountsOrZombies) {
    run(spec("true"));  // the first run opens the reaper's memfd, kept for the process's life
    const std::string mounts = testing::mounts_under(dir_->path());
    const size_t fds = count_open_fds();
    run(spec("echo hi"));
    { auto killed = SandboxProcess::start(spec("sleep 100")); }  // destroyed while running
    ProcessSpec missing = spec("");
    missing.argv = {"/bin/nope"};
    EXPECT_FALSE(SandboxProcess::start(missing).has_value());
    EXPECT_EQ(count_open_fds(), fds);
    EXPECT_EQ(testing::mounts_under(dir_->path()), mounts);
    EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1) << "a zombie or a child was left";
    EXPECT_EQ(errno, ECHILD);
}

}  // namespace
}  // namespace grove::runtime::process
