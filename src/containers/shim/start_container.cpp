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
#include "runtime/rootfs/tmpfs_options.hpp"
#include "runtime/seccomp/filter.hpp"

namespace grove::containers {
namespace {

namespace fs = std::filesystem;

bool empty_dir(const fs::path& dir) {
    std::error_code ec;
    return fs::is_empty(dir, ec) && !ec;
}

// A volatile overlay marks its work dir, and refuses to mount it again (the upper may have
// lost writes in a crash): a start after another gets a fresh one. The used one is only renamed
// here and removed once the container runs (remove_old_work_dir): an ext4 rmdir is ~0.3 ms. A
// new container's is empty and is kept.
Result<void> fresh_work_dir(const ContainerPaths& paths) {
    const fs::path work = paths.work();
    if (empty_dir(work)) {
        return {};
    }
    std::error_code ec;
    fs::remove_all(paths.old_work(), ec);  // left by a shim that died before removing it
    if (ec) {
        return base::errno_error(ec.value(), "remove '{}'", paths.old_work().string());
    }
    if (::rename(work.c_str(), paths.old_work().c_str()) != 0 && errno != ENOENT) {
        return base::last_errno_error("move '{}' aside", work.string());
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

// The child's ends of a container's (or an exec's) stdio, and ours.
struct Stdio {
    base::UniqueFd stdin_write;  // with open_stdin
    base::UniqueFd stdout_read;  // the pty's master with tty
    base::UniqueFd stderr_read;
    base::UniqueFd stdin_read;  // the child's; the pty's slave with tty
    base::UniqueFd out_write;
    base::UniqueFd err_write;
    int child_stdin() const { return stdin_read.get(); }
    int child_stdout() const { return out_write.get(); }
    int child_stderr() const { return err_write.valid() ? err_write.get() : out_write.get(); }
};

Result<Stdio> make_stdio(bool tty, bool open_stdin) {
    Stdio io;
    if (tty) {
        int master = -1;
        int slave = -1;
        if (::openpty(&master, &slave, nullptr, nullptr, nullptr) != 0) {
            return base::last_errno_error("openpty");
        }
        io.stdout_read.reset(master);
        io.out_write.reset(slave);
        ::fcntl(master, F_SETFD, FD_CLOEXEC);
        ::fcntl(slave, F_SETFD, FD_CLOEXEC);
        GROVE_ASSIGN_OR_RETURN(io.stdin_read, io.out_write.dup());
        if (open_stdin) {
            GROVE_ASSIGN_OR_RETURN(io.stdin_write, io.stdout_read.dup());
        }
        return io;
    }
    GROVE_ASSIGN_OR_RETURN(base::Pipe out, base::Pipe::create());
    GROVE_ASSIGN_OR_RETURN(base::Pipe err, base::Pipe::create());
    io.stdout_read = std::move(out.read);
    io.stderr_read = std::move(err.read);
    io.out_write = std::move(out.write);
    io.err_write = std::move(err.write);
    if (open_stdin) {
        GROVE_ASSIGN_OR_RETURN(base::Pipe in, base::Pipe::create());
        io.stdin_read = std::move(in.read);
        io.stdin_write = std::move(in.write);
    }
    return io;
}

// The container's binds, volumes and tmpfs as its mount plan takes them. A bind's source is
// looked at now, as dockerd does at each start: a file needs a file to mount on, and a missing
// one is an error, unless it came from Binds (-v), which makes it a directory again.
Result<std::vector<runtime::rootfs::UserMount>> user_mounts(const ShimConfig& config) {
    std::vector<runtime::rootfs::UserMount> out;
    for (const auto& m : config.mounts) {
        runtime::rootfs::UserMount mount{.target = m.target.substr(1), .read_only = m.read_only};
        if (m.type == ContainerMount::Type::kTmpfs) {
            GROVE_ASSIGN_OR_RETURN(auto options,
                                   runtime::rootfs::parse_tmpfs_options(m.tmpfs_options));
            mount.flags = options.flags;
            mount.data = std::move(options.data);
        } else {
            std::error_code ec;
            if (m.create_source && !fs::exists(m.source, ec)) {
                fs::create_directories(m.source, ec);
            }
            const auto status = fs::status(m.source, ec);
            if (ec) {
                return base::make_error(Code::kInvalidArgument,
                                        "invalid mount config for type \"{}\": bind source path "
                                        "does not exist: {}",
                                        mount_type_name(m.type), m.source);
            }
            mount.source = m.source;
            mount.directory = fs::is_directory(status);
        }
        out.push_back(std::move(mount));
    }
    return out;
}

}  // namespace

Result<StartedContainer> start_container(const ContainerPaths& paths,
                                         const ShimConfig& config,
                                         base::UniqueFd netns) {
    GROVE_TRY(fresh_work_dir(paths));
    GROVE_ASSIGN_OR_RETURN(auto overlay, runtime::rootfs::OverlayMount::create(
                                             config.lowers, paths.upper(), paths.work()));
    StartedContainer started;
    if (!config.network_dir.empty()) {
        // Before the container: its ports' proxy is forked with none of the container's fds,
        // and a published port that is taken fails the start before anything runs.
        GROVE_ASSIGN_OR_RETURN(auto attached,
                               ContainerNetwork::attach(paths, config, std::move(netns)));
        started.network.emplace(std::move(attached));
        GROVE_TRY(started.network->publish(paths, config));
    }
    runtime::rootfs::RootfsOptions options{
        .rootfs = paths.rootfs(),
        .rootfs_fd = overlay.fd(),
        .generated_files =
            started.network
                ? runtime::rootfs::bridge_identity_files(
                      config.hostname, network::to_string(started.network->endpoint().address))
                : runtime::rootfs::identity_files(config.hostname, config.host_network)};
    GROVE_ASSIGN_OR_RETURN(options.mounts, user_mounts(config));
    GROVE_TRY(runtime::rootfs::prepare_mountpoints(overlay.fd(), options));
    if (config.read_only) {
        GROVE_TRY(make_read_only(overlay.fd()));
    }
    GROVE_ASSIGN_OR_RETURN(auto seccomp_fd, base::UniqueFd::open(paths.seccomp(), O_RDONLY));
    GROVE_ASSIGN_OR_RETURN(const std::string seccomp_bytes, base::read_all(seccomp_fd.get()));
    GROVE_ASSIGN_OR_RETURN(auto seccomp,
                           base::with_context(runtime::seccomp::program_from_bytes(seccomp_bytes),
                                              "read '{}'", paths.seccomp().string()));

    started.seccomp = std::make_unique<const runtime::seccomp::Program>(std::move(seccomp));
    runtime::process::ProcessSpec spec{
        .argv = config.argv,
        .env = config.env,
        .cwd = config.cwd,
        .uid = config.uid,
        .gid = config.gid,
        .hostname = config.hostname,
        .plan = runtime::rootfs::build_plan(options),
        .seccomp = started.seccomp.get(),
        .capabilities = config.capabilities,
        .new_network = !config.host_network,
        .netns_fd = started.network ? started.network->netns_fd() : netns.get(),
        .parent_death_signal = SIGKILL,
        .controlling_tty = config.tty,
        .command_is_init = !config.init,
    };
    auto cgroups = runtime::cgroup::Manager::detect();
    std::vector<base::UniqueFd> cgroup_procs;
    if (cgroups) {
        GROVE_ASSIGN_OR_RETURN(started.cgroup,
                               (*cgroups)->create("ctr-" + config.id, config.limits));
        GROVE_ASSIGN_OR_RETURN(cgroup_procs, runtime::process::join_cgroup(*started.cgroup, spec));
    } else if (config.limits.memory_bytes || config.limits.pids || config.limits.cpus) {
        return base::make_error(Code::kUnimplemented,
                                "resource limits need cgroups, which this host lacks");
    }

    GROVE_ASSIGN_OR_RETURN(Stdio io, make_stdio(config.tty, config.open_stdin));
    spec.stdin_fd = io.child_stdin();
    spec.stdout_fd = io.child_stdout();
    spec.stderr_fd = io.child_stderr();
    GROVE_ASSIGN_OR_RETURN(started.process, runtime::process::SandboxProcess::start(spec));
    started.stdin_write = std::move(io.stdin_write);
    started.stdout_read = std::move(io.stdout_read);
    started.stderr_read = std::move(io.stderr_read);
    started.exec_base = runtime::process::exec_spec(spec);
    return started;
}

void remove_old_work_dir(const ContainerPaths& paths) {
    std::error_code ignored;  // a leftover goes at the next start
    fs::remove_all(paths.old_work(), ignored);
}

Result<StartedExec> start_exec(StartedContainer& container, const ExecRequest& request) {
    if (request.argv.empty()) {
        return base::make_error(Code::kInvalidArgument, "exec: no command");
    }
    runtime::process::ExecSpec spec = container.exec_base;
    spec.argv = request.argv;
    spec.env = request.env;
    spec.cwd = request.cwd;
    spec.uid = request.uid;
    spec.gid = request.gid;
    GROVE_ASSIGN_OR_RETURN(Stdio io, make_stdio(request.tty, request.open_stdin));
    spec.stdin_fd = io.child_stdin();
    spec.stdout_fd = io.child_stdout();
    spec.stderr_fd = io.child_stderr();
    std::vector<base::UniqueFd> procs;  // v1: the helper joins each (v2 is cloned into it)
    if (container.cgroup != nullptr && !spec.cgroup_fd) {
        GROVE_ASSIGN_OR_RETURN(procs, container.cgroup->open_procs());
        for (const auto& file : procs) {
            spec.cgroup_procs.push_back(file.get());
        }
    }
    GROVE_ASSIGN_OR_RETURN(auto process,
                           runtime::process::SandboxExec::start(container.process->pidfd(), spec));
    return StartedExec{.process = std::move(process),
                       .stdin_write = std::move(io.stdin_write),
                       .stdout_read = std::move(io.stdout_read),
                       .stderr_read = std::move(io.stderr_read)};
}

}  // namespace grove::containers
