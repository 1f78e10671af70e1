#include "containers/shim/start_container.hpp"

#include <csignal>
#include <fcntl.h>
#include <linux/mount.h>
#include <pty.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/error.hpp"
#include "runtime/rootfs/mount_plan.hpp"
#include "runtime/rootfs/overlay_mount.hpp"
#include "runtime/seccomp/filter.hpp"

namespace grove::containers {
namespace {

namespace fs = std::filesystem;

// A volatile overlay marks its work dir, and refuses to mount it again (the upper may have
// lost writes in a crash): each start gets a fresh one, the upper is kept.
Result<void> fresh_work_dir(const fs::path& work) {
    std::error_code ec;
    fs::remove_all(work, ec);
    if (ec) {
        return base::errno_error(ec.value(), "remove '{}'", work.string());
    }
    if (::mkdir(work.c_str(), 0700) != 0) {
        return base::last_errno_error("create '{}'", work.string());
    }
    return {};
}

Result<void> make_read_only(int mount_fd) {
    mount_attr attr{};
    attr.attr_set = MOUNT_ATTR_RDONLY;
    if (::syscall(SYS_mount_setattr, mount_fd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) != 0) {
        return base::last_errno_error("make the rootfs read-only");
    }
    return {};
}

}  // namespace

Result<StartedContainer> start_container(const ContainerPaths& paths, const ShimConfig& config) {
    GROVE_TRY(fresh_work_dir(paths.work()));
    GROVE_ASSIGN_OR_RETURN(auto overlay, runtime::rootfs::OverlayMount::create(
                                             config.lowers, paths.upper(), paths.work()));
    runtime::rootfs::RootfsOptions options{
        .rootfs = paths.rootfs(),
        .rootfs_fd = overlay.fd(),
        .generated_files = runtime::rootfs::identity_files(config.hostname, config.host_network)};
    GROVE_TRY(runtime::rootfs::prepare_mountpoints(overlay.fd(), options));
    if (config.read_only) {
        GROVE_TRY(make_read_only(overlay.fd()));
    }
    GROVE_ASSIGN_OR_RETURN(const auto* seccomp, runtime::seccomp::default_program());

    StartedContainer started;
    runtime::process::ProcessSpec spec{
        .argv = config.argv,
        .env = config.env,
        .cwd = config.cwd,
        .uid = config.uid,
        .gid = config.gid,
        .hostname = config.hostname,
        .plan = runtime::rootfs::build_plan(options),
        .seccomp = seccomp,
        .new_network = !config.host_network,
        .parent_death_signal = SIGKILL,
        .controlling_tty = config.tty,
    };
    auto cgroups = runtime::cgroup::Manager::detect();
    if (cgroups) {
        GROVE_ASSIGN_OR_RETURN(started.cgroup,
                               (*cgroups)->create("ctr-" + config.id, config.limits));
        spec.cgroup_fd = started.cgroup->dir_fd();
    } else if (config.limits.memory_bytes || config.limits.pids || config.limits.cpus) {
        return base::make_error(Code::kUnimplemented,
                                "resource limits need cgroups, which this host lacks");
    }

    base::UniqueFd stdin_read;
    base::UniqueFd out_write;
    base::UniqueFd err_write;
    if (config.tty) {
        int master = -1;
        int slave = -1;
        if (::openpty(&master, &slave, nullptr, nullptr, nullptr) != 0) {
            return base::last_errno_error("openpty");
        }
        started.stdout_read.reset(master);
        out_write.reset(slave);
        ::fcntl(master, F_SETFD, FD_CLOEXEC);
        ::fcntl(slave, F_SETFD, FD_CLOEXEC);
        spec.stdin_fd = spec.stdout_fd = spec.stderr_fd = slave;
        if (config.open_stdin) {
            GROVE_ASSIGN_OR_RETURN(started.stdin_write, started.stdout_read.dup());
        }
    } else {
        GROVE_ASSIGN_OR_RETURN(base::Pipe out, base::Pipe::create());
        GROVE_ASSIGN_OR_RETURN(base::Pipe err, base::Pipe::create());
        started.stdout_read = std::move(out.read);
        started.stderr_read = std::move(err.read);
        out_write = std::move(out.write);
        err_write = std::move(err.write);
        spec.stdout_fd = out_write.get();
        spec.stderr_fd = err_write.get();
        if (config.open_stdin) {
            GROVE_ASSIGN_OR_RETURN(base::Pipe in, base::Pipe::create());
            stdin_read = std::move(in.read);
            started.stdin_write = std::move(in.write);
            spec.stdin_fd = stdin_read.get();
        }
    }
    auto* cgroup = started.cgroup.get();
    GROVE_ASSIGN_OR_RETURN(
        started.process,
        runtime::process::SandboxProcess::start(spec, [&](pid_t pid) -> Result<void> {
            return cgroup != nullptr && !spec.cgroup_fd ? cgroup->add_process(pid) : Result<void>{};
        }));
    return started;
}

}  // namespace grove::containers
