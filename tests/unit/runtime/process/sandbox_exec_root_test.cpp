// SandboxExec: processes started in a running sandbox share its namespaces, filesystem and
// restrictions, report their own status, and die with the sandbox.

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>

#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"
#include "helpers/busybox_rootfs.hpp"
#include "helpers/process_probes.hpp"
#include "helpers/rootfs_plan.hpp"
#include "runtime/process/container_init.hpp"
#include "runtime/process/sandbox_exec.hpp"
#include "runtime/process/sandbox_process.hpp"

namespace grove::runtime::process {
namespace {

namespace fs = std::filesystem;
using caps::kDockerDefaultCaps;
using std::chrono::milliseconds;
using testing::count_open_fds;
using testing::read_some;
using testing::read_text;
using testing::status_hex;

// A process's output and how it ended.
struct Outcome {
    RunExit exit{};
    std::string out;
};

class SandboxExecTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (geteuid() != 0 || !fs::exists("/bin/busybox")) {
            return;
        }
        auto dir = base::TempDir::create("grove-exec-test-");
        ASSERT_TRUE(dir.has_value());
        dir_ = new base::TempDir(std::move(*dir));
        const fs::path rootfs = dir_->path() / "rootfs";
        testing::make_busybox_rootfs(rootfs, {"sh", "echo", "id", "hostname", "cat", "grep",
                                              "sleep", "true", "kill", "ls", "rm"});
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
        spec.hostname = "exec-box";
        spec.plan = *plan_;
        spec.seccomp = program_;
        return spec;
    }

    // A sandbox running `script`, with its stdin and stdout on pipes of the test's.
    struct Sandbox {
        SandboxProcess process;
        base::UniqueFd in;   // the command's stdin
        base::UniqueFd out;  // the command's stdout and stderr
    };
    Sandbox start_sandbox(const ProcessSpec& s) const {
        auto in = base::Pipe::create();
        auto out = base::Pipe::create();
        EXPECT_TRUE(in.has_value() && out.has_value());
        ProcessSpec with_pipes = s;
        with_pipes.stdin_fd = in->read.get();
        with_pipes.stdout_fd = out->write.get();
        with_pipes.stderr_fd = out->write.get();
        auto process = SandboxProcess::start(with_pipes);
        EXPECT_TRUE(process.has_value()) << process.error().to_string();
        return Sandbox{std::move(*process), std::move(in->write), std::move(out->read)};
    }

    // Runs `script` in the sandbox to completion, stdout and stderr captured together.
    Outcome exec(const SandboxProcess& sandbox, const std::string& script, ExecSpec s = {}) const {
        Outcome result;
        auto pipe = base::Pipe::create();
        EXPECT_TRUE(pipe.has_value());
        if (s.argv.empty()) {
            s.argv = {"sh", "-c", script};
        }
        if (s.env.empty()) {
            s.env = {"PATH=/bin"};
        }
        if (s.seccomp == nullptr) {
            s.seccomp = program_;
        }
        s.stdout_fd = pipe->write.get();
        s.stderr_fd = pipe->write.get();
        auto process = SandboxExec::start(sandbox.pidfd(), s);
        EXPECT_TRUE(process.has_value()) << process.error().to_string();
        if (!process.has_value()) {
            return result;
        }
        pipe->write.reset();
        result.out = base::read_all(pipe->read.get()).value_or("");
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

TEST_F(SandboxExecTest, ROOT_SharesTheFilesystemHostnameAndPidNamespace) {
    Sandbox box = start_sandbox(
        spec("echo from-main > /tmp/exec-main; echo ready; read go; cat /tmp/exec-sub; "
             "rm /tmp/exec-main /tmp/exec-sub"));
    EXPECT_EQ(read_some(box.out.get()), "ready\n");

    Outcome sub = exec(box.process,
                       "cat /tmp/exec-main; hostname; cat /proc/2/comm; echo $$; "
                       "echo from-sub > /tmp/exec-sub");
    EXPECT_EQ(sub.exit.exit_code, 0) << sub.out;
    EXPECT_TRUE(sub.out.starts_with("from-main\nexec-box\nsh\n")) << sub.out;
    const int pid = std::stoi(sub.out.substr(sub.out.rfind("sh\n") + 3));
    EXPECT_GT(pid, 2) << "a pid of the sandbox's namespace, after init and the command";

    ASSERT_TRUE(base::write_all(box.in.get(), "go\n").has_value());
    box.in.reset();
    EXPECT_EQ(base::read_all(box.out.get()).value_or(""), "from-sub\n");
    auto exit = box.process.wait(std::nullopt);
    ASSERT_TRUE(exit.has_value() && exit->has_value());
    EXPECT_EQ((*exit)->exit_code, 0);
}

TEST_F(SandboxExecTest, ROOT_JoinsEveryNamespaceOfTheSandbox) {
    Sandbox box = start_sandbox(spec("sleep 100"));
    auto pipe = base::Pipe::create();
    ASSERT_TRUE(pipe.has_value());
    ExecSpec s{.argv = {"sh", "-c", "echo started; exec sleep 100"},
               .env = {"PATH=/bin"},
               .seccomp = program_,
               .stdout_fd = pipe->write.get()};
    auto process = SandboxExec::start(box.process.pidfd(), s);
    ASSERT_TRUE(process.has_value()) << process.error().to_string();
    pipe->write.reset();
    EXPECT_EQ(read_some(pipe->read.get()), "started\n");
    const fs::path init = "/proc/" + std::to_string(box.process.pid());
    const fs::path self = "/proc/" + std::to_string(process->pid());
    for (const char* ns : {"mnt", "uts", "ipc", "net", "pid", "cgroup"}) {
        EXPECT_EQ(fs::read_symlink(self / "ns" / ns), fs::read_symlink(init / "ns" / ns)) << ns;
        EXPECT_NE(fs::read_symlink(self / "ns" / ns),
                  fs::read_symlink("/proc/self/ns/" + std::string(ns)))
            << ns;
    }
    const std::string status = read_text(self / "status");
    EXPECT_NE(status.find("NSpid:\t" + std::to_string(process->pid()) + "\t" +
                          std::to_string(process->sandbox_pid()) + "\n"),
              std::string::npos)
        << status;
    ASSERT_TRUE(process->kill(SIGKILL).has_value());
    auto exit = process->wait(milliseconds(5000));
    ASSERT_TRUE(exit.has_value() && exit->has_value());
    EXPECT_EQ((*exit)->signal, SIGKILL);
}

TEST_F(SandboxExecTest, ROOT_HasTheCommandsRestrictions) {
    Sandbox box = start_sandbox(spec("sleep 100"));
    Outcome root = exec(box.process, "cat /proc/self/status; id -u");
    EXPECT_EQ(status_hex(root.out, "CapEff"), kDockerDefaultCaps) << root.out;
    EXPECT_EQ(status_hex(root.out, "CapBnd"), kDockerDefaultCaps);
    EXPECT_EQ(status_hex(root.out, "CapAmb"), 0U);
    EXPECT_NE(root.out.find("NoNewPrivs:\t1\n"), std::string::npos);
    EXPECT_NE(root.out.find("Seccomp:\t2\n"), std::string::npos);
    EXPECT_TRUE(root.out.ends_with("\n0\n")) << root.out;

    ProcessSpec user_spec = spec("sleep 100");
    user_spec.uid = 1000;
    user_spec.gid = 1001;
    user_spec.groups = {10};
    user_spec.cwd = "/tmp";
    user_spec.rlimits = {{RLIMIT_NOFILE, 64, 64}};
    Sandbox user_box = start_sandbox(user_spec);
    ExecSpec as_user = exec_spec(user_spec);
    EXPECT_EQ(as_user.uid, 1000u);
    EXPECT_EQ(as_user.cwd, "/tmp");
    as_user.argv = {"sh", "-c", "cat /proc/self/status; id -u; id -G; pwd; ulimit -n"};
    Outcome user = exec(user_box.process, "", as_user);
    EXPECT_EQ(user.exit.exit_code, 0) << user.out;
    EXPECT_EQ(status_hex(user.out, "CapEff"), 0U) << user.out;
    EXPECT_EQ(status_hex(user.out, "CapPrm"), 0U);
    EXPECT_NE(user.out.find("NoNewPrivs:\t1\n"), std::string::npos);
    EXPECT_NE(user.out.find("Seccomp:\t2\n"), std::string::npos);
    EXPECT_TRUE(user.out.ends_with("\n1000\n1001 10\n/tmp\n64\n")) << user.out;
}

TEST_F(SandboxExecTest, ROOT_ReportsItsOwnExitCodeAndSignal) {
    Sandbox box = start_sandbox(spec("sleep 100"));
    Outcome seven = exec(box.process, "echo out; echo err >&2; exit 7");
    EXPECT_EQ(seven.out, "out\nerr\n");
    EXPECT_EQ(seven.exit.exit_code, 7);
    EXPECT_EQ(seven.exit.signal, 0);

    Outcome killed = exec(box.process, "kill -9 $$");
    EXPECT_EQ(killed.exit.signal, SIGKILL);
    EXPECT_EQ(killed.exit.exit_code, 128 + SIGKILL);

    auto process = SandboxExec::start(
        box.process.pidfd(), {.argv = {"sleep", "100"}, .env = {"PATH=/bin"}, .seccomp = program_});
    ASSERT_TRUE(process.has_value()) << process.error().to_string();
    // Its parent is the small reaper program, not a copy of ours. start() returns at the
    // helper's execve, before the reaper names itself (its comm is the memfd's until then).
    const pid_t helper = grove::testing::parent_of(process->pid());
    for (int i = 0; i < 100 && grove::testing::comm_of(helper) != "grove-exec"; ++i) {
        std::this_thread::sleep_for(milliseconds(10));
    }
    EXPECT_EQ(grove::testing::comm_of(helper), "grove-exec");
    auto early = process->wait(milliseconds(100));
    ASSERT_TRUE(early.has_value());
    EXPECT_FALSE(early->has_value());
    ASSERT_TRUE(process->kill(SIGTERM).has_value());
    auto exit = process->wait(milliseconds(5000));
    ASSERT_TRUE(exit.has_value() && exit->has_value());
    EXPECT_EQ((*exit)->signal, SIGTERM);
    EXPECT_TRUE(process->kill(SIGTERM).has_value()) << "a no-op once it ended";

    auto still = box.process.wait(milliseconds(0));
    ASSERT_TRUE(still.has_value());
    EXPECT_FALSE(still->has_value()) << "killing a process leaves the sandbox running";
}

TEST_F(SandboxExecTest, ROOT_DiesWithTheSandbox) {
    // The command ends on its own: init exits, the PID namespace goes, the process with it.
    Sandbox box = start_sandbox(spec("read x"));
    auto process = SandboxExec::start(
        box.process.pidfd(), {.argv = {"sleep", "100"}, .env = {"PATH=/bin"}, .seccomp = program_});
    ASSERT_TRUE(process.has_value()) << process.error().to_string();
    box.in.reset();
    auto exit = process->wait(milliseconds(5000));
    ASSERT_TRUE(exit.has_value() && exit->has_value());
    EXPECT_EQ((*exit)->signal, SIGKILL);

    // The sandbox is killed.
    Sandbox killed = start_sandbox(spec("sleep 100"));
    process =
        SandboxExec::start(killed.process.pidfd(),
                           {.argv = {"sleep", "100"}, .env = {"PATH=/bin"}, .seccomp = program_});
    ASSERT_TRUE(process.has_value()) << process.error().to_string();
    ASSERT_TRUE(killed.process.kill(SIGKILL).has_value());
    exit = process->wait(milliseconds(5000));
    ASSERT_TRUE(exit.has_value() && exit->has_value());
    EXPECT_EQ((*exit)->signal, SIGKILL);

    // Nothing starts in a sandbox that is over.
    ASSERT_TRUE(killed.process.wait(milliseconds(5000)).has_value());
    auto late = SandboxExec::start(killed.process.pidfd(),
                                   {.argv = {"true"}, .env = {"PATH=/bin"}, .seccomp = program_});
    ASSERT_FALSE(late.has_value());
    EXPECT_EQ(late.error().code(), Code::kFailedPrecondition) << late.error().to_string();
}

TEST_F(SandboxExecTest, ROOT_StartFailuresNameTheStep) {
    Sandbox box = start_sandbox(spec("sleep 100"));
    auto missing = SandboxExec::start(
        box.process.pidfd(), {.argv = {"/bin/nope"}, .env = {"PATH=/bin"}, .seccomp = program_});
    ASSERT_FALSE(missing.has_value());
    EXPECT_NE(missing.error().to_string().find("execve '/bin/nope': No such file or directory"),
              std::string::npos)
        << missing.error().to_string();

    auto searched =
        SandboxExec::start(box.process.pidfd(), {.argv = {"nope"}, .env = {"PATH=/bin"}});
    ASSERT_FALSE(searched.has_value());
    EXPECT_NE(searched.error().to_string().find("execve 'nope'"), std::string::npos);

    auto cwd = SandboxExec::start(box.process.pidfd(),
                                  {.argv = {"true"}, .env = {"PATH=/bin"}, .cwd = "/missing"});
    ASSERT_FALSE(cwd.has_value());
    EXPECT_NE(cwd.error().to_string().find("chdir"), std::string::npos) << cwd.error().to_string();

    // A cgroup.procs file the helper cannot write itself to fails the start, and leaves no
    // child behind (the destructor reaps the helper).
    auto read_only = base::UniqueFd::open("/dev/null", O_RDONLY);
    ASSERT_TRUE(read_only.has_value());
    auto refused = SandboxExec::start(box.process.pidfd(),
                                      {.argv = {"true"}, .cgroup_procs = {read_only->get()}});
    ASSERT_FALSE(refused.has_value());
    EXPECT_NE(refused.error().to_string().find(detail::step_name(detail::Step::kJoinCgroup)),
              std::string::npos)
        << refused.error().to_string();
    EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), 0) << "only the sandbox's init is our child";
}

TEST_F(SandboxExecTest, ROOT_JoinsTheRunsCgroupV1) {
    const fs::path pids = "/sys/fs/cgroup/pids";
    if (read_text("/proc/self/mountinfo").find(" " + pids.string() + " ") == std::string::npos) {
        GTEST_SKIP() << "no cgroup v1 pids hierarchy at " << pids;
    }
    const std::string name = "grove-exec-test-" + std::to_string(getpid());
    ASSERT_TRUE(fs::create_directory(pids / name));
    {
        Sandbox box = start_sandbox(spec("sleep 100"));
        auto procs = base::UniqueFd::open(pids / name / "cgroup.procs", O_WRONLY | O_CLOEXEC);
        ASSERT_TRUE(procs.has_value()) << procs.error().to_string();
        auto process = SandboxExec::start(
            box.process.pidfd(),
            {.argv = {"/bin/sleep", "100"}, .seccomp = program_, .cgroup_procs = {procs->get()}});
        ASSERT_TRUE(process.has_value()) << process.error().to_string();
        const std::string cgroup = read_text("/proc/" + std::to_string(process->pid()) + "/cgroup");
        EXPECT_NE(cgroup.find(":pids:/" + name + "\n"), std::string::npos) << cgroup;
        ASSERT_TRUE(process->kill(SIGKILL).has_value());
        ASSERT_TRUE(process->wait(std::nullopt).has_value());
    }
    EXPECT_TRUE(fs::remove(pids / name)) << "the cgroup is empty once the process is reaped";
}

TEST_F(SandboxExecTest, ROOT_ClonesIntoACgroupV2Directory) {
    const fs::path unified = "/sys/fs/cgroup/unified";
    if (read_text("/proc/self/mountinfo").find(" " + unified.string() + " ") == std::string::npos) {
        GTEST_SKIP() << "no cgroup2 mount at " << unified;
    }
    const std::string name = "grove-exec-test-" + std::to_string(getpid());
    ASSERT_TRUE(fs::create_directory(unified / name));
    {
        auto dir = base::UniqueFd::open(unified / name, O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(dir.has_value()) << dir.error().to_string();
        Sandbox box = start_sandbox(spec("sleep 100"));
        auto process = SandboxExec::start(
            box.process.pidfd(),
            {.argv = {"/bin/sleep", "100"}, .seccomp = program_, .cgroup_fd = dir->get()});
        ASSERT_TRUE(process.has_value()) << process.error().to_string();
        const std::string cgroup = read_text("/proc/" + std::to_string(process->pid()) + "/cgroup");
        EXPECT_NE(cgroup.find("0::/" + name + "\n"), std::string::npos) << cgroup;
        ASSERT_TRUE(process->kill(SIGKILL).has_value());
        ASSERT_TRUE(process->wait(std::nullopt).has_value());
    }
    EXPECT_TRUE(fs::remove(unified / name)) << "the cgroup is empty once the process is reaped";
}

TEST_F(SandboxExecTest, ROOT_LeavesNoFdsOrZombies) {
    {
        Sandbox warm = start_sandbox(spec("true"));  // the reaper's memfd stays open for good
        ASSERT_TRUE(warm.process.wait(std::nullopt).has_value());
    }
    const size_t fds = count_open_fds();
    {
        Sandbox box = start_sandbox(spec("sleep 100"));
        exec(box.process, "echo hi");
        pid_t orphan = -1;
        {
            auto running = SandboxExec::start(box.process.pidfd(), {.argv = {"/bin/sleep", "100"}});
            ASSERT_TRUE(running.has_value()) << running.error().to_string();
            orphan = running->pid();
        }
        // Reaped by its helper, not left to the host's init (it would hold the sandbox's end).
        EXPECT_FALSE(fs::exists("/proc/" + std::to_string(orphan))) << "the process outlived it";
        EXPECT_FALSE(SandboxExec::start(box.process.pidfd(), {.argv = {"/bin/nope"}}).has_value());
        auto left = SandboxExec::start(box.process.pidfd(), {.argv = {"/bin/sleep", "100"}});
        ASSERT_TRUE(left.has_value()) << left.error().to_string();
        ASSERT_TRUE(box.process.kill(SIGKILL).has_value());
        ASSERT_TRUE(box.process.wait(std::nullopt).has_value());
    }  // `left` goes first: killed and reaped by its destructor
    EXPECT_EQ(count_open_fds(), fds);
    EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1) << "a zombie or a child was left";
    EXPECT_EQ(errno, ECHILD);
}

}  // namespace
}  // namespace grove::runtime::process
