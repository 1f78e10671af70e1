#pragma once

// What the parent computes for a command before it clones (the children may not allocate),
// shared by SandboxProcess (the run's command) and SandboxExec (more processes in a running
// sandbox).

#include <functional>
#include <string>
#include <string_view>
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

// A command step's failure as an error: execve names `argv0`, setrlimit the resource of
// `rlimits` it failed on, other steps their step_name().
Error command_error(const std::string& argv0,
                    const std::vector<Rlimit>& rlimits,
                    const Report& report);

// Waits on the report pipe for the command's execve, which closes the last copy (EOF); a
// failed step writes a Report instead, which `describe` turns into the error, with `who` as
// context.
Result<void> await_execve(int report_fd,
                          std::string_view who,
                          const std::function<Error(const Report&)>& describe);

}  // namespace grove::runtime::process::detail
