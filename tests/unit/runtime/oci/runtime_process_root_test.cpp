// RuntimeProcess against every OCI runtime grove supports, each in a busybox rootfs. A runtime
// that is not installed, or cannot run a container on this host, skips with the reason.

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"
#include "helpers/busybox_rootfs.hpp"
#include "helpers/mounts.hpp"
#include "helpers/process_probes.hpp"
#include "helpers/requirements.hpp"
#include "runtime/oci/hide_cgroup2.hpp"
#include "runtime/oci/runtime_process.hpp"

namespace grove::runtime::oci {
namespace {

namespace fs = std::filesystem;
using caps::kDockerDefaultCaps;
using process::RunExit;
using std::chrono::milliseconds;
using testing::count_open_fds;
using testing::read_some;
using testing::read_text;
using testing::status_hex;

// The container's processes as the host sees them: those in the PID namespace of its PID 1, and
// those whose command line names its run directory (runsc's sandbox and gofer, which live in the
// host's PID namespace).
struct Footprint {
    std::string ns;  // empty when the container's "PID 1" is a host process (runsc's sandbox)
    std::string run_dir;
};

Footprint footprint_of(const RuntimeProcess& process) {
    Footprint out{.run_dir = process.run_dir().string()};
    auto pid = process.container_pid();
    EXPECT_TRUE(pid.has_value()) << pid.error().to_string();
    if (pid.has_value()) {
        std::error_code ec;
        out.ns = fs::read_symlink("/proc/" + std::to_string(*pid) + "/ns/pid", ec).string();
        if (out.ns == fs::read_symlink("/proc/self/ns/pid").string()) {
            out.ns.clear();
        }
    }
    return out;
}

int count_processes(const Footprint& footprint) {
    int count = 0;
    for (const auto& entry : fs::directory_iterator("/proc")) {
        const std::string name = entry.path().filename();
        if (name.find_first_not_of("0123456789") != std::string::npos) {
            continue;
        }
        std::error_code ec;
        std::string cmdline = read_text(entry.path() / "cmdline");
        std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
        const bool in_ns =
            !footprint.ns.empty() && fs::read_symlink(entry.path() / "ns/pid", ec) == footprint.ns;
        if (in_ns || cmdline.find(footprint.run_dir) != std::string::npos) {
            ++count;
        }
    }
    return count;
}

// The cgroup v1 directory of `pid` in the hierarchy of `controller`.
fs::path v1_cgroup_of(pid_t pid, const std::string& controller) {
    std::istringstream lines(read_text("/proc/" + std::to_string(pid) + "/cgroup"));
    for (std::string line; std::getline(lines, line);) {
        // "5:memory:/grove/<id>"
        const size_t first = line.find(':');
        const size_t second = line.find(':', first + 1);
        if (first == std::string::npos || second == std::string::npos) {
            continue;
        }
        std::string controllers = line.substr(first + 1, second - first - 1);
        std::istringstream names(controllers);
        for (std::string name; std::getline(names, name, ',');) {
            if (name == controller) {
                return fs::path("/sys/fs/cgroup") / controller / line.substr(second + 2);
            }
        }
    }
    return {};
}

struct Outcome {
    RunExit exit{};
    std::string out;
    std::string err;
};

class OciRuntimeTest : public ::testing::TestWithParam<const char*> {
protected:
    static void SetUpTestSuite() {
        if (geteuid() != 0 || !fs::exists("/bin/busybox")) {
            return;
        }
        auto dir = base::TempDir::create("grove-oci-test-");
        ASSERT_TRUE(dir.has_value());
        dir_ = new base::TempDir(std::move(*dir));
        const fs::path rootfs = dir_->path() / "rootfs";
        testing::make_busybox_rootfs(
            rootfs, {"sh", "echo", "id", "hostname", "pwd", "env", "cat", "grep", "sleep",
                     "unshare", "mount", "true", "kill", "ls", "ip", "dd"});
        options_ =
            new rootfs::RootfsOptions{.rootfs = rootfs,
                                      .generated_files = {{"etc/hostname", "grove-box\n"},
                                                          {"etc/hosts", "127.0.0.1\tlocalhost\n"},
                                                          {"etc/resolv.conf", "# no network\n"}}};
        auto root_fd = base::UniqueFd::open(rootfs.string(), O_PATH | O_DIRECTORY);
        ASSERT_TRUE(root_fd.has_value());
        auto created = rootfs::prepare_mountpoints(root_fd->get(), *options_);
        ASSERT_TRUE(created.has_value()) << created.error().to_string();
    }
    static void TearDownTestSuite() {
        delete options_;
        delete dir_;
    }

    void SetUp() override {
        GROVE_REQUIRE(testing::missing_root());
        if (options_ == nullptr) {
            GTEST_SKIP() << "skipped: needs a static /bin/busybox (busybox-static)";
        }
        auto runtime = Runtime::find(GetParam());
        if (!runtime.has_value()) {
            GTEST_SKIP() << "skipped: " << runtime.error().to_string();
        }
        runtime_.emplace(std::move(*runtime));
        // Once per runtime and test process: can it run a container here at all?
        static std::map<std::string, std::optional<std::string>> unusable;
        if (!unusable.contains(GetParam())) {
            unusable[GetParam()] = probe();
        }
        if (const auto& reason = unusable[GetParam()]) {
            GTEST_SKIP() << "skipped: " << GetParam() << " cannot run containers here: " << *reason;
        }
    }

    std::optional<std::string> probe() {
        ContainerSpec s = spec("true");
        auto process = RuntimeProcess::start(*runtime_, s, {.run_dir = fresh_run_dir()});
        if (!process.has_value()) {
            return process.error().to_string();
        }
        auto exit = process->wait(milliseconds(60000));
        if (!exit.has_value()) {
            return exit.error().to_string();
        }
        if (!exit->has_value() || (*exit)->exit_code != 0) {
            return "'true' did not exit 0";
        }
        return std::nullopt;
    }

    ContainerSpec spec(const std::string& script) const {
        ContainerSpec spec;
        spec.process.argv = {"sh", "-c", script};
        spec.process.env = {"PATH=/bin", "HOME=/"};
        spec.process.hostname = "grove-box";
        spec.rootfs = *options_;
        return spec;
    }

    static fs::path fresh_run_dir() {
        static int n = 0;
        const fs::path dir = dir_->path() / "runs" / std::to_string(n++);
        fs::create_directories(dir);
        return dir;
    }

    Result<RuntimeProcess> start(const ContainerSpec& spec) const {
        return RuntimeProcess::start(*runtime_, spec, {.run_dir = fresh_run_dir()});
    }

    // Runs `spec` to completion, capturing stdout and stderr apart: runc copies each through a
    // pipe of its own, so their interleaving is not kept. Outputs here fit in a pipe's buffer,
    // so they are read once the run is over.
    Outcome run(ContainerSpec spec) const {
        Outcome result;
        auto out = base::Pipe::create();
        auto err = base::Pipe::create();
        EXPECT_TRUE(out.has_value() && err.has_value());
        spec.process.stdout_fd = out->write.get();
        spec.process.stderr_fd = err->write.get();
        auto process = start(spec);
        EXPECT_TRUE(process.has_value()) << process.error().to_string();
        if (!process.has_value()) {
            return result;
        }
        out->write.reset();
        err->write.reset();
        auto exit = process->wait(std::nullopt);
        EXPECT_TRUE(exit.has_value() && exit->has_value())
            << (exit.has_value() ? "" : exit.error().to_string());
        if (exit.has_value() && exit->has_value()) {
            result.exit = **exit;
        }
        result.out = base::read_all(out->read.get()).value_or("");
        result.err = base::read_all(err->read.get()).value_or("");
        return result;
    }

    bool is_gvisor() const { return runtime_->kind() == RuntimeKind::kRunsc; }

    static inline base::TempDir* dir_ = nullptr;
    static inline rootfs::RootfsOptions* options_ = nullptr;
    std::optional<Runtime> runtime_;
};

TEST_P(OciRuntimeTest, ROOT_CapturesOutputAndExitCode) {
    Outcome ok = run(spec("echo hello; echo oops >&2"));
    EXPECT_EQ(ok.out, "hello\n");
    EXPECT_EQ(ok.err, "oops\n");
    EXPECT_EQ(ok.exit.exit_code, 0);
    EXPECT_EQ(ok.exit.signal, 0);

    Outcome three = run(spec("exit 3"));
    EXPECT_EQ(three.exit.exit_code, 3);
    EXPECT_EQ(three.exit.signal, 0);
}

TEST_P(OciRuntimeTest, ROOT_PassesStdinThrough) {
    auto in = base::Pipe::create();
    auto out = base::Pipe::create();
    ASSERT_TRUE(in.has_value() && out.has_value());
    ContainerSpec s = spec("cat");
    s.process.stdin_fd = in->read.get();
    s.process.stdout_fd = out->write.get();
    auto process = start(s);
    ASSERT_TRUE(process.has_value()) << process.error().to_string();
    in->read.reset();
    out->write.reset();
    ASSERT_TRUE(base::write_all(in->write.get(), "from the caller\n").has_value());
    in->write.reset();
    auto text = base::read_all(out->read.get());
    ASSERT_TRUE(text.has_value());
    EXPECT_EQ(*text, "from the caller\n");
    auto exit = process->wait(std::nullopt);
    ASSERT_TRUE(exit.has_value() && exit->has_value());
    EXPECT_EQ((*exit)->exit_code, 0);
}

TEST_P(OciRuntimeTest, ROOT_AppliesIdentityEnvCwdAndHostname) {
    ContainerSpec s = spec("id -u; id -g; id -G; hostname; cat /etc/hostname; pwd; env | grep FOO");
    s.process.uid = 1000;
    s.process.gid = 1001;
    s.process.groups = {10, 1002};
    s.process.cwd = "/tmp";
    s.process.env.push_back("FOO=bar");
    Outcome r = run(s);
    EXPECT_EQ(r.exit.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(r.out, "1000\n1001\n1001 10 1002\ngrove-box\ngrove-box\n/tmp\nFOO=bar\n");
}

TEST_P(OciRuntimeTest, ROOT_KilledBySignalIs128PlusSignal) {
    auto process = start(spec("sleep 100"));
    ASSERT_TRUE(process.has_value()) << process.error().to_string();
    ASSERT_TRUE(process->kill(SIGKILL).has_value());
    auto exit = process->wait(milliseconds(10000));
    ASSERT_TRUE(exit.has_value() && exit->has_value())
        << (exit.has_value() ? "still running" : exit.error().to_string());
    EXPECT_EQ((*exit)->signal, SIGKILL);
    EXPECT_EQ((*exit)->exit_code, 128 + SIGKILL);
    EXPECT_TRUE(process->kill(SIGKILL).has_value()) << "a no-op once the run is over";
    auto again = process->wait(std::nullopt);
    ASSERT_TRUE(again.has_value() && again->has_value());
    EXPECT_EQ((*again)->exit_code, 128 + SIGKILL);
}

TEST_P(OciRuntimeTest, ROOT_SignalsReachTheCommandsHandler) {
    // The command is the container's PID 1: SIGTERM reaches it only through a handler.
    auto pipe = base::Pipe::create();
    ASSERT_TRUE(pipe.has_value());
    ContainerSpec s = spec(
        "trap 'echo got TERM; exit 7' TERM; echo ready; "
        "while true; do sleep 0.05; done");
    s.process.stdout_fd = pipe->write.get();
    auto process = start(s);
    ASSERT_TRUE(process.has_value()) << process.error().to_string();
    pipe->write.reset();
    EXPECT_EQ(read_some(pipe->read.get()), "ready\n");
    ASSERT_TRUE(process->kill(SIGTERM).has_value());
    auto exit = process->wait(milliseconds(10000));
    ASSERT_TRUE(exit.has_value() && exit->has_value());
    EXPECT_EQ((*exit)->exit_code, 7);
    EXPECT_EQ((*exit)->signal, 0);
    auto rest = base::read_all(pipe->read.get());
    ASSERT_TRUE(rest.has_value());
    EXPECT_EQ(*rest, "got TERM\n");
}

TEST_P(OciRuntimeTest, ROOT_NetworkNoneHasOnlyLoopbackUp) {
    Outcome r = run(spec("cat /proc/net/dev; ip link show lo"));
    EXPECT_EQ(r.exit.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("lo:"), std::string::npos) << r.out;
    const std::string devices = r.out.substr(0, r.out.find("1: lo:"));
    EXPECT_EQ(std::count(devices.begin(), devices.end(), ':'), 1) << "one device\n" << r.out;
    EXPECT_NE(r.out.find(",UP"), std::string::npos) << "lo is up\n" << r.out;
}

TEST_P(OciRuntimeTest, ROOT_HostNetworkSeesTheHostsInterfaces) {
    const auto interfaces = [](const std::string& net_dev) {
        std::vector<std::string> names;
        std::istringstream lines(net_dev);
        for (std::string line; std::getline(lines, line);) {
            const size_t colon = line.find(':');
            if (colon != std::string::npos) {
                std::istringstream name(line.substr(0, colon));
                names.emplace_back();
                name >> names.back();
            }
        }
        std::sort(names.begin(), names.end());
        return names;
    };
    const auto host = interfaces(read_text("/proc/net/dev"));
    ContainerSpec s = spec("cat /proc/net/dev");
    s.process.new_network = false;
    Outcome r = run(s);
    EXPECT_EQ(r.exit.exit_code, 0) << r.err;
    EXPECT_EQ(interfaces(r.out), host) << r.out;
}

TEST_P(OciRuntimeTest, ROOT_DropsCapabilitiesAndSetsNoNewPrivs) {
    Outcome root = run(spec("cat /proc/self/status"));
    EXPECT_EQ(status_hex(root.out, "CapEff"), kDockerDefaultCaps) << root.out;
    EXPECT_EQ(status_hex(root.out, "CapPrm"), kDockerDefaultCaps);
    EXPECT_EQ(status_hex(root.out, "CapBnd"), kDockerDefaultCaps);
    EXPECT_NE(root.out.find("Seccomp:\t2\n"), std::string::npos) << root.out;
    if (!is_gvisor()) {  // gVisor's /proc/self/status has neither line
        EXPECT_EQ(status_hex(root.out, "CapAmb"), 0U);
        EXPECT_NE(root.out.find("NoNewPrivs:\t1\n"), std::string::npos) << root.out;
    }

    // A non-root user keeps the bounding set but, with no ambient caps, no effective ones.
    ContainerSpec user = spec("cat /proc/self/status");
    user.process.uid = 1000;
    user.process.gid = 1000;
    Outcome u = run(user);
    EXPECT_EQ(status_hex(u.out, "CapEff"), 0U) << u.out;
    EXPECT_EQ(status_hex(u.out, "CapPrm"), 0U);
    EXPECT_EQ(status_hex(u.out, "CapBnd"), kDockerDefaultCaps);

    ContainerSpec narrow = spec("cat /proc/self/status");
    narrow.process.capabilities = caps::cap_bit(CAP_CHOWN) | caps::cap_bit(CAP_KILL);
    Outcome n = run(narrow);
    EXPECT_EQ(status_hex(n.out, "CapEff"), narrow.process.capabilities) << n.out;
    EXPECT_EQ(status_hex(n.out, "CapBnd"), narrow.process.capabilities);
}

TEST_P(OciRuntimeTest, ROOT_SeccompAndCapsDenyNamespacesAndMounts) {
    Outcome r =
        run(spec("unshare -U true && echo unshared; mount -t tmpfs none /mnt && echo mounted; "
                 "echo done"));
    EXPECT_EQ(r.out.find("unshared"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("mounted"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("done\n"), std::string::npos) << r.out;
}

TEST_P(OciRuntimeTest, ROOT_MasksKcoreAndKeepsProcSysReadOnly) {
    Outcome r =
        run(spec("[ -s /proc/kcore ] && echo kcore readable; "
                 "echo grove > /proc/sys/kernel/domainname && echo proc/sys written; "
                 "echo x > /sys/grove-test && echo sys written; echo done"));
    EXPECT_EQ(r.out.find("kcore readable"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("written"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("done\n"), std::string::npos) << r.out;
}

TEST_P(OciRuntimeTest, ROOT_WritesReachTheRootfs) {
    // The rootfs is the run's upper directory, later a snapshot: writes must land there, /tmp's
    // included (runsc would otherwise put a tmpfs of its own there).
    const std::string name = std::string(GetParam()) + "-written";
    Outcome r = run(spec("echo kept > /tmp/" + name + " && echo kept > /mnt/" + name));
    EXPECT_EQ(r.exit.exit_code, 0) << r.out << r.err;
    for (const char* dir : {"tmp", "mnt"}) {
        EXPECT_EQ(read_text(options_->rootfs / dir / name), "kept\n") << dir;
        fs::remove(options_->rootfs / dir / name);
    }
}

TEST_P(OciRuntimeTest, ROOT_MissingExecutableFailsWithTheRuntimesMessage) {
    ContainerSpec s = spec("");
    s.process.argv = {"/bin/nope"};
    auto devnull = base::UniqueFd::open("/dev/null", O_WRONLY);
    ASSERT_TRUE(devnull.has_value());
    s.process.stderr_fd = devnull->get();  // the runtime prints its error there too
    auto process = start(s);
    Result<std::optional<RunExit>> exit =
        process.has_value() ? process->wait(milliseconds(60000)) : std::move(process).error();
    ASSERT_FALSE(exit.has_value()) << "the run did not fail";
    EXPECT_EQ(exit.error().code(), Code::kFailedPrecondition);
    EXPECT_NE(exit.error().to_string().find("/bin/nope"), std::string::npos)
        << exit.error().to_string();
}

TEST_P(OciRuntimeTest, ROOT_TimeoutThenKillLeavesNothingBehind) {
    auto process = start(spec("sleep 1000 & sleep 1000"));
    ASSERT_TRUE(process.has_value()) << process.error().to_string();
    const Footprint footprint = footprint_of(*process);
    EXPECT_GE(count_processes(footprint), 1);

    auto early = process->wait(milliseconds(200));
    ASSERT_TRUE(early.has_value());
    EXPECT_FALSE(early->has_value());
    ASSERT_TRUE(process->kill(SIGKILL).has_value());
    auto exit = process->wait(milliseconds(10000));
    ASSERT_TRUE(exit.has_value() && exit->has_value());
    EXPECT_EQ((*exit)->signal, SIGKILL);
    EXPECT_EQ((*exit)->exit_code, 128 + SIGKILL);
    ASSERT_TRUE(process->close().has_value());
    EXPECT_EQ(count_processes(footprint), 0);
    for (const char* controller : {"memory", "pids", "cpu"}) {
        EXPECT_FALSE(fs::exists(fs::path("/sys/fs/cgroup") / controller / "grove" / process->id()))
            << controller << " group left behind";
    }
}

TEST_P(OciRuntimeTest, ROOT_DestroyedWhileRunningKillsAndDeletes) {
    Footprint footprint;
    {
        auto process = start(spec("sleep 1000"));
        ASSERT_TRUE(process.has_value()) << process.error().to_string();
        footprint = footprint_of(*process);
        EXPECT_GE(count_processes(footprint), 1);
    }
    EXPECT_EQ(count_processes(footprint), 0);
}

TEST_P(OciRuntimeTest, ROOT_RusageCoversTheCommand) {
    Outcome r = run(spec("i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done"));
    EXPECT_EQ(r.exit.exit_code, 0);
    const auto& cpu = r.exit.usage.ru_utime;
    const auto& sys = r.exit.usage.ru_stime;
    EXPECT_GT(cpu.tv_sec * 1000000 + cpu.tv_usec + sys.tv_sec * 1000000 + sys.tv_usec, 10000)
        << "at least 10 ms of CPU time";
}

TEST_P(OciRuntimeTest, ROOT_ResourceLimitsReachTheCgroup) {
    ContainerSpec s = spec("sleep 100");
    s.limits = {.memory_bytes = 64 << 20, .pids = 32, .cpus = 0.5};
    if (is_gvisor()) {
        auto refused = start(s);
        ASSERT_FALSE(refused.has_value());
        EXPECT_EQ(refused.error().code(), Code::kUnimplemented);
        EXPECT_NE(refused.error().to_string().find("pids limit"), std::string::npos);
        s.limits.pids.reset();
    }
    auto process = start(s);
    ASSERT_TRUE(process.has_value()) << process.error().to_string();
    auto pid = process->container_pid();
    ASSERT_TRUE(pid.has_value());
    const fs::path memory = v1_cgroup_of(*pid, "memory");
    const fs::path pids = v1_cgroup_of(*pid, "pids");
    const fs::path cpu = v1_cgroup_of(*pid, "cpu");
    if (memory.empty() || pids.empty() || cpu.empty()) {
        GTEST_SKIP() << "skipped: the checks read cgroup v1 files, and this is not a v1 host:\n"
                     << read_text("/proc/" + std::to_string(*pid) + "/cgroup");
    }
    EXPECT_EQ(memory, fs::path("/sys/fs/cgroup/memory/grove") / process->id());
    EXPECT_EQ(read_text(memory / "memory.limit_in_bytes"), std::to_string(64 << 20) + "\n");
    if (fs::exists(memory / "memory.memsw.limit_in_bytes")) {
        EXPECT_EQ(read_text(memory / "memory.memsw.limit_in_bytes"),
                  std::to_string(64 << 20) + "\n")
            << "no swap on top";
    }
    EXPECT_EQ(read_text(pids / "pids.max"), is_gvisor() ? "max\n" : "32\n");
    EXPECT_EQ(read_text(cpu / "cpu.cfs_quota_us"), "50000\n");
    EXPECT_EQ(read_text(cpu / "cpu.cfs_period_us"), "100000\n");
    ASSERT_TRUE(process->close().has_value());
    EXPECT_FALSE(fs::exists(memory)) << "the group is removed with the container";
}

TEST_P(OciRuntimeTest, ROOT_MemoryLimitStopsAnAllocation) {
    // dd allocates its 128 MiB block up front and fills it: over the 64 MiB limit, the kernel's
    // OOM killer ends the run (for runsc, the sandbox holding the memory).
    ContainerSpec s = spec("dd if=/dev/zero of=/dev/null bs=128M count=1 2>/dev/null && echo fit");
    s.limits = {.memory_bytes = 64 << 20};
    Outcome r = run(s);
    EXPECT_EQ(r.out.find("fit"), std::string::npos) << r.out;
    EXPECT_NE(r.exit.exit_code, 0);

    s.limits = {.memory_bytes = 512 << 20};
    Outcome roomy = run(s);
    EXPECT_EQ(roomy.out, "fit\n");
    EXPECT_EQ(roomy.exit.exit_code, 0);
}

TEST_P(OciRuntimeTest, ROOT_LeavesNoFdsOrMounts) {
    const std::string mounts = testing::mounts_under(dir_->path());
    const size_t fds = count_open_fds();
    run(spec("echo hi"));
    { auto killed = start(spec("sleep 100")); }  // destroyed while running
    ContainerSpec missing = spec("");
    missing.process.argv = {"/bin/nope"};
    auto devnull = base::UniqueFd::open("/dev/null", O_WRONLY);
    ASSERT_TRUE(devnull.has_value());
    missing.process.stderr_fd = devnull->get();
    {
        auto failed = start(missing);
        if (failed.has_value()) {
            EXPECT_FALSE(failed->wait(std::nullopt).has_value());
        }
    }
    devnull->reset();
    EXPECT_EQ(count_open_fds(), fds);
    EXPECT_EQ(testing::mounts_under(dir_->path()), mounts);
    EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1) << "a zombie or a child was left";
    EXPECT_EQ(errno, ECHILD);
}

INSTANTIATE_TEST_SUITE_P(Runtimes,
                         OciRuntimeTest,
                         ::testing::Values("crun", "runc", "runsc"),
                         [](const ::testing::TestParamInfo<const char*>& param_info) {
                             return std::string(param_info.param);
                         });

TEST(OciRuntime, UnknownRuntimeIsUnimplemented) {
    auto runtime = Runtime::find("kata");
    ASSERT_FALSE(runtime.has_value());
    EXPECT_EQ(runtime.error().code(), Code::kUnimplemented);
    EXPECT_NE(runtime.error().to_string().find("crun, runc or runsc"), std::string::npos);
}

TEST(OciRuntime, FindsInstalledRuntimesByName) {
    for (const auto name : kRuntimeNames) {
        auto runtime = Runtime::find(name);
        if (!runtime.has_value()) {
            EXPECT_EQ(runtime.error().code(), Code::kNotFound) << runtime.error().to_string();
            EXPECT_NE(runtime.error().to_string().find("Debian package"), std::string::npos);
            continue;
        }
        EXPECT_EQ(runtime->name(), name);
        EXPECT_TRUE(fs::path(runtime->path()).is_absolute()) << runtime->path();
        EXPECT_EQ(runtime->hides_cgroup2(),
                  runtime->kind() == RuntimeKind::kCrun && crun_refuses_host_cgroups());
    }
}

TEST(OciRuntime, ArgvCarriesTheGlobalFlags) {
    auto runtime = Runtime::find("runsc");
    if (!runtime.has_value()) {
        GTEST_SKIP() << "skipped: " << runtime.error().to_string();
    }
    const Invocation invocation{
        .state_root = "/r/state", .log_file = "/r/runtime.log", .new_network = true};
    const auto argv = runtime->argv(invocation, {"kill", "id", "9"});
    EXPECT_EQ(argv.front(), runtime->path());
    const std::vector<std::string> tail(argv.end() - 3, argv.end());
    EXPECT_EQ(tail, (std::vector<std::string>{"kill", "id", "9"}));
    EXPECT_NE(std::find(argv.begin(), argv.end(), "--network=none"), argv.end());
    EXPECT_NE(std::find(argv.begin(), argv.end(), "/r/state"), argv.end());
}

TEST(OciRuntime, PlainDirectoryIsNoHybridCgroupRoot) {
    auto dir = base::TempDir::create("grove-oci-cgroup-");
    ASSERT_TRUE(dir.has_value());
    fs::create_directories(dir->path() / "unified");
    EXPECT_FALSE(crun_refuses_host_cgroups(dir->path()));
}

}  // namespace
}  // namespace grove::runtime::oci
