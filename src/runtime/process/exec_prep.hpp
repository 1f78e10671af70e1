#pragma once

// What the parent computes for a command before it clones (the children may not allocate),
// shared by SandboxProcess (the run's command) and SandboxExec (more processes in a running
// sandbox).

#include <string>
#include <vector>

#include <grove/result.hpp>

#include "container_init.hpp"
#include "sandbox_process.hpp"

namespace grove::runtime::process::detail {

// execvp's search, done ahead: argv[0] when it holds a '/', else argv[0] under each directory of
// the PATH in `spec.env` (a default PATH without one). execve looks each up in the container.
std::vector<std::string> exec_candidates(const ProcessSpec& spec);
// The limits as setrlimit takes them, each hard limit clamped to the caller's own.
Result<std::vector<PreparedRlimit>> prepare_rlimits(const std::vector<Rlimit>& limits);

}  // namespace grove::runtime::process::detail
