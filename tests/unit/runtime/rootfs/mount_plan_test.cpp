#include "runtime/rootfs/mount_plan.hpp"

#include <algorithm>
#include <fcntl.h>
#include <filesystem>
#include <string>
#include <sys/mount.h>
#include <sys/stat.h>
#include <vector>

#include <gtest/gtest.h>

#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"
#include "runtime/rootfs/overlay_mount.hpp"

namespace grove::runtime::rootfs {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> targets_of(const Plan& plan, OpKind kind) {
    std::vector<std::string> out;
    for (const auto& op : plan.ops) {
        if (op.kind == kind) {
            out.push_back(op.target);
        }
    }
    return out;
}

const MountOp* find(const Plan& plan, OpKind kind, const std::string& target) {
    auto it = std::find_if(plan.ops.begin(), plan.ops.end(), [&](const MountOp& op) {
        return op.kind == kind && op.target == target;
    });
    return it == plan.ops.end() ? nullptr : &*it;
}

TEST(BuildPlan, DefaultOrder) {
    const Plan plan = build_plan({.rootfs = "/run/grove/r1/rootfs"});
    EXPECT_EQ(plan.rootfs, "/run/grove/r1/rootfs");
    ASSERT_GE(plan.ops.size(), 5u);
    EXPECT_EQ(plan.ops[0].kind, OpKind::kMakeRootPrivate);
    EXPECT_EQ(plan.ops[1].kind, OpKind::kBindRootfs);
    EXPECT_EQ(plan.ops.back().kind, OpKind::kPivotRoot);
    EXPECT_EQ(targets_of(plan, OpKind::kMount),
              (std::vector<std::string>{"proc", "dev", "dev/pts", "dev/shm", "dev/mqueue", "sys"}));
    EXPECT_EQ(targets_of(plan, OpKind::kMkdir),
              (std::vector<std::string>{"dev/pts", "dev/shm", "dev/mqueue"}));

    const MountOp* proc = find(plan, OpKind::kMount, "proc");
    ASSERT_NE(proc, nullptr);
    EXPECT_EQ(proc->fstype, "proc");
    EXPECT_EQ(proc->flags, static_cast<unsigned long>(MS_NOSUID | MS_NODEV | MS_NOEXEC));
    const MountOp* sys = find(plan, OpKind::kMount, "sys");
    ASSERT_NE(sys, nullptr);
    EXPECT_EQ(sys->fstype, "sysfs");
    EXPECT_NE(sys->flags & MS_RDONLY, 0u);
    const MountOp* pts = find(plan, OpKind::kMount, "dev/pts");
    ASSERT_NE(pts, nullptr);
    EXPECT_EQ(pts->data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
    const MountOp* shm = find(plan, OpKind::kMount, "dev/shm");
    ASSERT_NE(shm, nullptr);
    EXPECT_EQ(shm->data, "mode=1777,size=64m");
    EXPECT_EQ(shm->flags, static_cast<unsigned long>(MS_NOSUID | MS_NODEV | MS_NOEXEC));

    // Mounts come before what is mounted inside them: /dev before its nodes, proc before masks.
    auto index = [&](OpKind kind, const std::string& target) {
        return find(plan, kind, target) - plan.ops.data();
    };
    EXPECT_LT(index(OpKind::kMount, "dev"), index(OpKind::kDevice, "dev/null"));
    EXPECT_LT(index(OpKind::kMount, "proc"), index(OpKind::kMask, "proc/kcore"));
    EXPECT_LT(index(OpKind::kMount, "sys"), index(OpKind::kMask, "sys/firmware"));
}

TEST(BuildPlan, DeviceNodesAndSymlinks) {
    const Plan plan = build_plan({.rootfs = "/r"});
    for (const auto& node : kDeviceNodes) {
        const MountOp* device = find(plan, OpKind::kDevice, "dev/" + node.name);
        ASSERT_NE(device, nullptr) << node.name;
        struct stat host {};
        ASSERT_EQ(::stat(("/dev/" + node.name).c_str(), &host), 0) << node.name;
        EXPECT_EQ(device->device, host.st_rdev) << node.name << " is the host's device";
    }
    const MountOp* ptmx = find(plan, OpKind::kSymlink, "dev/ptmx");
    ASSERT_NE(ptmx, nullptr);
    EXPECT_EQ(ptmx->source, "pts/ptmx");
}

TEST(BuildPlan, MaskedAndReadonlyPaths) {
    const Plan plan = build_plan({.rootfs = "/r"});
    EXPECT_EQ(targets_of(plan, OpKind::kMask), kDefaultMaskedPaths);
    EXPECT_EQ(targets_of(plan, OpKind::kReadOnly), kDefaultReadonlyPaths);
    EXPECT_NE(std::find(kDefaultMaskedPaths.begin(), kDefaultMaskedPaths.end(), "proc/kcore"),
              kDefaultMaskedPaths.end());
    for (const auto& op : plan.ops) {
        if (op.kind == OpKind::kMask || op.kind == OpKind::kReadOnly) {
            EXPECT_TRUE(op.optional) << op.target;
        }
    }
    const Plan custom =
        build_plan({.rootfs = "/r", .masked_paths = {"proc/x"}, .readonly_paths = {"proc/y"}});
    EXPECT_EQ(targets_of(custom, OpKind::kMask), std::vector<std::string>{"proc/x"});
    EXPECT_EQ(targets_of(custom, OpKind::kReadOnly), std::vector<std::string>{"proc/y"});
}

TEST(BuildPlan, GeneratedFilesAreWrittenByTheChild) {
    const Plan none = build_plan({.rootfs = "/r"});
    EXPECT_TRUE(targets_of(none, OpKind::kWriteFile).empty());
    EXPECT_EQ(none.rootfs_fd, -1);

    const Plan plan = build_plan(
        {.rootfs = "/r",
         .rootfs_fd = 7,
         .generated_files = {{"etc/hostname", "box\n"}, {"etc/resolv.conf", "# none\n"}}});
    EXPECT_EQ(plan.rootfs_fd, 7);
    EXPECT_EQ(targets_of(plan, OpKind::kWriteFile),
              (std::vector<std::string>{"etc/hostname", "etc/resolv.conf"}));
    EXPECT_EQ(find(plan, OpKind::kWriteFile, "etc/hostname")->data, "box\n");
    // Written after /sys is mounted and before pivot_root, like the binds they replace.
    const auto index = [&](OpKind kind, const std::string& target) {
        return find(plan, kind, target) - plan.ops.data();
    };
    EXPECT_LT(index(OpKind::kMount, "sys"), index(OpKind::kWriteFile, "etc/hostname"));
    EXPECT_LT(index(OpKind::kWriteFile, "etc/resolv.conf"), index(OpKind::kPivotRoot, ""));
}

TEST(BuildPlan, UserMountsComeBeforeTheMasks) {
    const Plan plan =
        build_plan({.rootfs = "/r",
                    .generated_files = {{"etc/hosts", ""}},
                    .mounts = {{.target = "data", .source = "/srv/data", .read_only = true},
                               {.target = "run/x", .flags = MS_NOEXEC, .data = "size=1m"}}});
    const MountOp* bind = find(plan, OpKind::kBind, "data");
    ASSERT_NE(bind, nullptr);
    EXPECT_EQ(bind->source, "/srv/data");
    EXPECT_EQ(bind->flags, static_cast<unsigned long>(MS_REC | MS_RDONLY));
    const MountOp* tmpfs = find(plan, OpKind::kMount, "run/x");
    ASSERT_NE(tmpfs, nullptr);
    EXPECT_EQ(tmpfs->fstype, "tmpfs");
    EXPECT_EQ(tmpfs->flags, static_cast<unsigned long>(MS_NOEXEC));
    EXPECT_EQ(tmpfs->data, "size=1m");
    // A user mount over /proc cannot unmask it: the masks come after.
    const auto index = [&](OpKind kind, const std::string& target) {
        return find(plan, kind, target) - plan.ops.data();
    };
    EXPECT_LT(index(OpKind::kWriteFile, "etc/hosts"), index(OpKind::kBind, "data"));
    EXPECT_LT(index(OpKind::kMount, "run/x"), index(OpKind::kMask, "proc/kcore"));
    EXPECT_EQ(mountpoints({.rootfs = "/r",
                           .mounts = {{.target = "a/b/c", .source = "/f", .directory = false}}}),
              (std::vector<Mountpoint>{{"proc", true},
                                       {"dev", true},
                                       {"sys", true},
                                       {"a", true},
                                       {"a/b", true},
                                       {"a/b/c", false}}));
}

TEST(Mountpoints, ParentsBeforeChildren) {
    EXPECT_EQ(
        mountpoints({.rootfs = "/r", .generated_files = {{"etc/hostname", ""}, {"etc/hosts", ""}}}),
        (std::vector<Mountpoint>{{"proc", true},
                                 {"dev", true},
                                 {"sys", true},
                                 {"etc", true},
                                 {"etc/hostname", false},
                                 {"etc/hosts", false}}));
}

TEST(PrepareMountpoints, CreatesOnlyWhatIsMissing) {
    auto dir = base::TempDir::create("grove-rootfs-");
    ASSERT_TRUE(dir.has_value());
    const fs::path root = dir->path();
    fs::create_directories(root / "proc");
    fs::create_directories(root / "etc");
    // A dangling absolute symlink must not create anything outside the rootfs.
    fs::create_symlink("/nonexistent-grove-test/resolv.conf", root / "etc/resolv.conf");
    const auto root_fd = base::UniqueFd::open(root.string(), O_PATH | O_DIRECTORY);
    ASSERT_TRUE(root_fd.has_value());
    auto created = prepare_mountpoints(
        root_fd->get(),
        {.rootfs = root, .generated_files = {{"etc/hostname", ""}, {"etc/resolv.conf", ""}}});
    ASSERT_TRUE(created.has_value()) << created.error().to_string();
    EXPECT_EQ(*created,
              (std::vector<std::string>{"dev", "sys", "etc/hostname", "etc/resolv.conf"}));
    EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(root / "etc/resolv.conf")));
    EXPECT_FALSE(fs::exists(root / "etc/hosts"));
    EXPECT_FALSE(fs::exists("/nonexistent-grove-test"));
    auto again = prepare_mountpoints(root_fd->get(),
                                     {.rootfs = root, .generated_files = {{"etc/hostname", ""}}});
    ASSERT_TRUE(again.has_value());
    EXPECT_TRUE(again->empty());
}

TEST(LegacyMountData, FormatsAndBounds) {
    auto data = legacy_mount_data({"/l/2", "/l/1"}, "/u", "/w");
    ASSERT_TRUE(data.has_value());
    EXPECT_EQ(
        *data,
        "lowerdir=/l/2:/l/1,upperdir=/u,workdir=/w,volatile,metacopy=off,redirect_dir=nofollow,"
        "index=off");
    EXPECT_EQ(legacy_mount_data({"/a:b"}, "/u", "/w").error().code(), Code::kInvalidArgument);
    std::vector<fs::path> many(100, fs::path("/var/lib/grove/layers/a-rather-long-layer-name"));
    EXPECT_EQ(legacy_mount_data(many, {}, {}).error().code(), Code::kResourceExhausted);
    std::vector<fs::path> too_many(501, fs::path("/l"));
    EXPECT_EQ(legacy_mount_data(too_many, {}, {}).error().code(), Code::kOutOfRange);
    EXPECT_EQ(legacy_mount_data({}, {}, {}).error().code(), Code::kInvalidArgument);
}

TEST(OverlayMount, RefusesMoreThan500Lowers) {
    std::vector<fs::path> lowers(kMaxLowerLayers + 1, fs::path("/nonexistent"));
    auto mount = OverlayMount::create(lowers, "/u", "/w");
    ASSERT_FALSE(mount.has_value());
    EXPECT_EQ(mount.error().code(), Code::kOutOfRange);
}

}  // namespace
}  // namespace grove::runtime::rootfs
