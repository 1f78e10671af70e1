#pragma once

// The folded result of one process of an instance (ConTree's InstanceResult shape, §3.10 of the
// contract), read back from the operation's log: the `spawn`, `stdout`, `stderr`, `truncated`
// and `exit` events of its spid. The log is the one record of a subprocess, kept live in memory
// and durably with the finished operation, so the same fold answers while it runs, after it
// exited and after the daemon restarted.
//   {state: {exit_code, pid, signal, timed_out, continued, core_dump, stopped},
//    stdout: StreamRepr + truncated, stderr: ..., resources (once exited)}
// exit_code and signal are -1 while the process runs; a process killed by a signal has
// exit_code -1 and that signal.

#include <vector>

#include <grove/result.hpp>

#include "base/json.hpp"
#include "daemon/records.hpp"

namespace grove::daemon {

// NotFound when the log has no process `spid`.
Result<base::Json> fold_process_result(const std::vector<EventRecord>& events, int spid);

}  // namespace grove::daemon
