#pragma once

// The shim's first job: the container's process tree, as a run's (engine/runner.cpp) but from
// a ShimConfig and for the long term: the overlay of the config's lowers over the container's
// own upper, the mount plan, a cgroup named after the container, stdio as pipes or a pty, and
// init bound to die with the shim (PR_SET_PDEATHSIG), so nothing runs unsupervised.

#include <memory>
#include <optional>

#include <grove/result.hpp>

#include "base/unique_fd.hpp"
#include "containers/shim/container_network.hpp"
#include "containers/shim/shim_config.hpp"
#include "runtime/cgroup/cgroup.hpp"
#include "runtime/process/sandbox_exec.hpp"
#include "runtime/process/sandbox_process.hpp"

namespace grove::containers {

struct StartedContainer {
    std::optional<runtime::process::SandboxProcess> process;
    std::unique_ptr<runtime::cgroup::Cgroup> cgroup;           // null on a host without cgroups
    std::unique_ptr<const runtime::seccomp::Program> seccomp;  // the container's and its execs'
    base::UniqueFd stdin_write;                                // with open_stdin
    base::UniqueFd stdout_read;                                // the pty's master with tty
    base::UniqueFd stderr_read;  // invalid with tty: a terminal has one stream
    // The command's identity and restrictions, for processes exec'd next to it.
    runtime::process::ExecSpec exec_base;
    // On the bridge network; closed when the container is done, before its exit is written.
    std::optional<ContainerNetwork> network;
};

// `netns`: a fresh network namespace to use, or invalid to make one (unused on the host's).
Result<StartedContainer> start_container(const ContainerPaths& paths,
                                         const ShimConfig& config,
                                         base::UniqueFd netns);

// Removes the work dir of the previous start, which start_container() only moved aside.
void remove_old_work_dir(const ContainerPaths& paths);

// A process started in the running container (docker exec), its stdio as pipes or a pty like
// the container's own.
struct StartedExec {
    runtime::process::SandboxExec process;
    base::UniqueFd stdin_write;  // with open_stdin
    base::UniqueFd stdout_read;  // the pty's master with tty
    base::UniqueFd stderr_read;
};

Result<StartedExec> start_exec(StartedContainer& container, const ExecRequest& request);

}  // namespace grove::containers
