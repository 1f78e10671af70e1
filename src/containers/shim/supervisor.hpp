#pragma once

// The shim's loop, single-threaded around one poll(): the container's output goes to its log
// and to attached clients, the control socket's requests are served (control.hpp), and when
// init exits, the output is drained to EOF and the cgroup removed before exit.json is written,
// so the log is complete by the time exit.json says the container stopped. Control connections
// end after that (a "wait" returns), and the socket is removed.

#include <grove/result.hpp>

#include "containers/shim/shim_config.hpp"
#include "containers/shim/start_container.hpp"

namespace grove::containers {

// `listen_fd` is the bound, listening control socket. Fails if supervising failed (exit.json
// then says so, with exit code 137: the container dies with the shim).
Result<void> supervise(StartedContainer& container,
                       const ContainerPaths& paths,
                       const ShimConfig& config,
                       int listen_fd);

}  // namespace grove::containers
