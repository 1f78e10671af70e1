#include <cstdio>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sched.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"
#include "helpers/mounts.hpp"
#include "runtime/rootfs/apply_plan.hpp"
#include "runtime/rootfs/overlay_mount.hpp"

namespace grove::runtime::rootfs {
namespace {

namespace fs = std::filesystem;

constexpr const char* kScript =
    "cat /proc/self/status | head -1; ls /dev; echo kcore=$(cat /proc/kcore | wc -c); "
    "touch /sys/x 2>&1; echo host=$(cat /etc/hostname); grep ' /proc/sys ' /proc/mounts; "
    "echo cwd=$(pwd); ls -l /dev/null /dev/tty; echo x > /dev/null && echo null-ok; "
    "echo zero=$(head -c 5 /dev/zero | wc -c); echo binds=$(grep -c ' /dev/null ' /proc/mounts)";

// Runs kScript in a child that enters a new mount namespace and applies `plan`. Returns the
// child's output; a failed apply_plan prints its step and errno.
std::string run_in_container(const Plan& plan, int* exit_code) {
    auto pipe = base::Pipe::create();
    if (!pipe.has_value()) {
        return "pipe failed";
    }
    const pid_t pid = fork();
    if (pid == 0) {
        dup2(pipe->write.get(), STDOUT_FILENO);
        dup2(pipe->write.get(), STDERR_FILENO);
        if (unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS) != 0) {
            _exit(101);
        }
        int step = -1;
        const int rc = apply_plan(plan, &step);
        if (rc != 0) {
            dprintf(STDOUT_FILENO, "apply_plan failed at step %d: errno %d\n", step, -rc);
            _exit(100);
        }
        execl("/bin/busybox", "sh", "-c", kScript, static_cast<char*>(nullptr));
        _exit(127);
    }
    pipe->write.reset();
    auto out = base::read_all(pipe->read.get());
    int status = 0;
    waitpid(pid, &status, 0);
    *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return out.has_value() ? *out : "read failed";
}

TEST(ApplyPlan, ROOT_BusyboxContainer) {
    if (geteuid() != 0) {
        GTEST_SKIP() << "needs root";
    }
    if (!fs::exists("/bin/busybox")) {
        GTEST_SKIP() << "needs a static /bin/busybox (busybox-static)";
    }
    auto dir = base::TempDir::create("grove-apply-test-");
    ASSERT_TRUE(dir.has_value());
    const fs::path root = dir->path();
    const std::string mounts_before = testing::mounts_under(root);
    {
        fs::create_directories(root / "layer/bin");
        fs::create_directories(root / "layer/etc");
        fs::copy_file("/bin/busybox", root / "layer/bin/busybox");
        for (const char* tool : {"sh", "ls", "cat", "head", "touch", "wc", "grep", "pwd"}) {
            fs::create_symlink("busybox", root / "layer/bin" / tool);
        }
        for (const char* sub : {"upper", "work", "rootfs"}) {
            fs::create_directories(root / sub);
        }
        // Detached: the child attaches it in its own namespace, the host never sees it.
        auto overlay = OverlayMount::create({root / "layer"}, root / "upper", root / "work");
        ASSERT_TRUE(overlay.has_value()) << overlay.error().to_string();

        const RootfsOptions options{.rootfs = root / "rootfs",
                                    .rootfs_fd = overlay->fd(),
                                    .generated_files = {{"etc/hostname", "grove-test\n"}}};
        auto created = prepare_mountpoints(overlay->fd(), options);
        ASSERT_TRUE(created.has_value()) << created.error().to_string();
        EXPECT_EQ(*created, (std::vector<std::string>{"proc", "dev", "sys", "etc/hostname"}));
        EXPECT_TRUE(fs::is_directory(root / "upper/proc")) << "mount points land in the upper";

        int exit_code = -1;
        const std::string out = run_in_container(build_plan(options), &exit_code);
        EXPECT_EQ(exit_code, 0) << out;
        EXPECT_NE(out.find("Name:\tcat"), std::string::npos) << out;
        for (const char* node :
             {"null", "zero", "full", "random", "urandom", "tty", "ptmx", "pts", "shm", "mqueue"}) {
            EXPECT_NE(out.find(std::string(node) + "\n"), std::string::npos) << node << "\n" << out;
        }
        EXPECT_NE(out.find("kcore=0\n"), std::string::npos) << out;
        EXPECT_NE(out.find("Read-only file system"), std::string::npos) << out;
        EXPECT_NE(out.find("host=grove-test\n"), std::string::npos) << out;
        EXPECT_NE(out.find(" /proc/sys proc ro,"), std::string::npos) << out;
        EXPECT_NE(out.find("cwd=/\n"), std::string::npos) << out;
        // Made with mknod, not bound: devices that work, with no mount of their own.
        EXPECT_NE(out.find("crw-rw-rw-    1 0        0           1,   3"), std::string::npos)
            << out;
        EXPECT_NE(out.find("crw-rw-rw-    1 0        0           5,   0"), std::string::npos)
            << out;
        EXPECT_NE(out.find("null-ok\nzero=5\nbinds=0\n"), std::string::npos) << out;
        EXPECT_FALSE(fs::exists(root / "upper/sys/x"));
        EXPECT_EQ(fs::file_size(root / "upper/etc/hostname"), 0u)
            << "the generated file lives on the child's tmpfs, not in the upper";
        EXPECT_TRUE(fs::is_empty(root / "rootfs")) << "nothing was attached on the host";
    }
    EXPECT_EQ(testing::mounts_under(root), mounts_before) << "a mount leaked to the host";
}

// An image's absolute symlink resolves inside the rootfs, never to the host path it names.
TEST(ApplyPlan, ROOT_SymlinkInImageCannotEscape) {
    if (geteuid() != 0) {
        GTEST_SKIP() << "needs root";
    }
    auto dir = base::TempDir::create("grove-escape-test-");
    ASSERT_TRUE(dir.has_value());
    const fs::path root = dir->path();
    fs::create_directories(root / "host-target");
    fs::create_directories(root / "rootfs");
    fs::create_symlink(root / "host-target", root / "rootfs/sys");
    const RootfsOptions options{.rootfs = root / "rootfs"};
    const auto root_fd = base::UniqueFd::open((root / "rootfs").string(), O_PATH | O_DIRECTORY);
    ASSERT_TRUE(root_fd.has_value());
    ASSERT_TRUE(prepare_mountpoints(root_fd->get(), options).has_value());
    const Plan plan = build_plan(options);
    const std::string mounts_before = testing::mounts_under(root);
    int exit_code = -1;
    const std::string out = run_in_container(plan, &exit_code);
    EXPECT_EQ(exit_code, 100) << out;
    size_t sys_step = 0;
    while (plan.ops[sys_step].target != "sys") {
        ++sys_step;
    }
    EXPECT_EQ(out, "apply_plan failed at step " + std::to_string(sys_step) + ": errno " +
                       std::to_string(ENOENT) + "\n");
    EXPECT_TRUE(fs::is_empty(root / "host-target"));
    EXPECT_EQ(testing::mounts_under(root), mounts_before);
}

}  // namespace
}  // namespace grove::runtime::rootfs
