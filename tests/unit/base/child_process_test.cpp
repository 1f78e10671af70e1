#include "base/child_process.hpp"

#include <csignal>
#include <dirent.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>

namespace grove::base {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kTimeout{10'000};

Result<CommandOutput> sh(const std::string& script) {
    return run_command({.argv = {"/bin/sh", "-c", script}}, kTimeout);
}

TEST(ChildProcess, CapturesOutputAndExitCode) {
    auto r = sh("echo out; echo err >&2; exit 3");
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(r->out, "out\n");
    EXPECT_EQ(r->err, "err\n");
    EXPECT_EQ(r->status.kind, ExitStatus::Kind::kExited);
    EXPECT_EQ(r->status.code, 3);
    EXPECT_FALSE(r->status.success());
    EXPECT_EQ(r->status.to_string(), "exit code 3");
}

TEST(ChildProcess, OutputLargerThanAPipeArrivesWhole) {
    auto r = sh("head -c 1000000 /dev/zero; head -c 300000 /dev/zero >&2");
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
    EXPECT_TRUE(r->status.success()) << r->err.substr(0, 200);
    EXPECT_EQ(r->out.size(), 1000000u);
    EXPECT_EQ(r->err.size(), 300000u);
}

TEST(ChildProcess, SearchesPath) {
    auto r = run_command({.argv = {"true"}}, kTimeout);
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_TRUE(r->status.success());
}

TEST(ChildProcess, MissingProgramFailsSpawn) {
    auto r = ChildProcess::spawn({.argv = {"grove-no-such-program"}});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), Code::kNotFound);
    EXPECT_EQ(r.error().message(), "program 'grove-no-such-program' not found in PATH");
}

TEST(ChildProcess, FindProgramSearchesPath) {
    auto sh_path = find_program("sh");
    ASSERT_TRUE(sh_path);
    EXPECT_EQ(sh_path->back(), 'h');
    EXPECT_EQ(sh_path->front(), '/');
    EXPECT_EQ(*find_program("./relative/prog"), "./relative/prog");
    EXPECT_EQ(find_program("grove-no-such-program").error().code(), Code::kNotFound);
}

TEST(ChildProcess, ExecFailureIsReportedWithErrno) {
    // /dev/null exists but is not executable: execve fails with EACCES in the child.
    auto r = ChildProcess::spawn({.argv = {"/dev/null"}});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().sys_errno(), EACCES);
    EXPECT_EQ(r.error().message(), "spawn '/dev/null': execve: Permission denied");
}

TEST(ChildProcess, BadCwdIsReported) {
    auto r = ChildProcess::spawn({.argv = {"/bin/true"}, .cwd = "/no/such/dir"});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), Code::kNotFound);
    EXPECT_EQ(r.error().message(),
              "spawn '/bin/true': change directory: No such file or directory");
}

TEST(ChildProcess, EnvAndCwdAreApplied) {
    auto r = run_command({.argv = {"/bin/sh", "-c", "echo $GROVE_X; pwd"},
                          .env = std::vector<std::string>{"GROVE_X=42"},
                          .cwd = "/tmp"},
                         kTimeout);
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(r->out, "42\n/tmp\n");
}

TEST(ChildProcess, OnlyStdioIsInherited) {
    // An fd the parent opened without O_CLOEXEC must still not leak into the child.
    const int leaky = ::open("/dev/null", O_RDONLY);
    ASSERT_GE(leaky, 0);
    auto r = sh("ls /proc/self/fd");
    ::close(leaky);
    ASSERT_TRUE(r) << r.error().to_string();
    // 0, 1, 2 and the fd ls itself opens for /proc/self/fd.
    EXPECT_EQ(r->out, "0\n1\n2\n3\n");
}

TEST(ChildProcess, StdinFromFd) {
    auto pipe = Pipe::create();
    ASSERT_TRUE(pipe);
    ASSERT_TRUE(write_all(pipe->write.get(), "from stdin"));
    pipe->write.reset();
    auto r = run_command({.argv = {"/bin/cat"}, .stdin_fd = pipe->read.get()}, kTimeout);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->out, "from stdin");
}

TEST(ChildProcess, SwappedStdioFdsDoNotClobberEachOther) {
    // The child's stdout is our fd 2 and its stderr our fd 1: a naive dup2 order loses one.
    auto out = Pipe::create();
    auto err = Pipe::create();
    ASSERT_TRUE(out && err);
    auto child = ChildProcess::spawn({.argv = {"/bin/sh", "-c", "echo o; echo e >&2"},
                                      .stdout_fd = out->write.get(),
                                      .stderr_fd = err->write.get()});
    ASSERT_TRUE(child);
    out->write.reset();
    err->write.reset();
    EXPECT_EQ(*read_all(out->read.get()), "o\n");
    EXPECT_EQ(*read_all(err->read.get()), "e\n");
    EXPECT_TRUE(child->wait()->success());
}

TEST(ChildProcess, SignalAndWaitReportSignal) {
    auto child = ChildProcess::spawn({.argv = {"/bin/sleep", "60"}});
    ASSERT_TRUE(child);
    ASSERT_TRUE(child->signal(SIGTERM));
    auto status = child->wait();
    ASSERT_TRUE(status);
    EXPECT_EQ(status->kind, ExitStatus::Kind::kSignaled);
    EXPECT_EQ(status->code, SIGTERM);
    EXPECT_EQ(status->to_string(), "signal 15 (Terminated)");
    EXPECT_TRUE(child->signal(SIGKILL)) << "signalling a reaped child is a no-op";
}

TEST(ChildProcess, WaitForTimesOut) {
    auto child = ChildProcess::spawn({.argv = {"/bin/sleep", "60"}});
    ASSERT_TRUE(child);
    auto status = child->wait_for(milliseconds(50));
    ASSERT_TRUE(status);
    EXPECT_FALSE(status->has_value());
}

TEST(ChildProcess, DestructorKillsAndReaps) {
    pid_t pid = -1;
    {
        auto child = ChildProcess::spawn({.argv = {"/bin/sleep", "60"}});
        ASSERT_TRUE(child);
        pid = child->pid();
    }
    // Reaped: no zombie is left, so the pid is no longer our child.
    siginfo_t info{};
    EXPECT_EQ(::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG), -1);
    EXPECT_EQ(errno, ECHILD);
}

TEST(ChildProcess, ReleaseLeavesChildRunning) {
    pid_t pid = -1;
    {
        auto child = ChildProcess::spawn({.argv = {"/bin/sleep", "60"}});
        ASSERT_TRUE(child);
        pid = child->release();
    }
    EXPECT_EQ(::kill(pid, 0), 0);
    ::kill(pid, SIGKILL);
    int status = 0;
    EXPECT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(status));
}

TEST(ChildProcess, RunCommandKillsOnTimeout) {
    const auto start = std::chrono::steady_clock::now();
    auto r = run_command({.argv = {"/bin/sleep", "60"}}, milliseconds(100));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), Code::kDeadlineExceeded);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(ChildProcess, SpawnFromManyThreads) {
    // spawn() is used from a multi-threaded daemon: concurrent spawns must not interfere.
    std::vector<std::jthread> threads;
    std::atomic<int> ok{0};
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 10; ++i) {
                auto r = sh("echo " + std::to_string(t * 100 + i));
                if (r && r->out == std::to_string(t * 100 + i) + "\n") {
                    ++ok;
                }
            }
        });
    }
    threads.clear();
    EXPECT_EQ(ok.load(), 40);
}

TEST(ChildProcess, BlockedAndIgnoredSignalsAreReset) {
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigset_t old;
    ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &block, &old), 0);
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    struct sigaction old_pipe {};
    ASSERT_EQ(sigaction(SIGPIPE, &ignore, &old_pipe), 0);

    auto r = sh("grep -E '^Sig(Blk|Ign)' /proc/self/status");
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    sigaction(SIGPIPE, &old_pipe, nullptr);
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_NE(r->out.find("SigBlk:\t0000000000000000"), std::string::npos) << r->out;
    // sh may ignore some signals itself, but not SIGPIPE (bit 13, mask 0x1000).
    const auto ign = r->out.substr(r->out.find("SigIgn:\t") + 8, 16);
    EXPECT_EQ(std::stoull(ign, nullptr, 16) & 0x1000, 0u) << r->out;
}

}  // namespace
}  // namespace grove::base
