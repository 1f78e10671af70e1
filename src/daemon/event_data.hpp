#pragma once

// The payloads (`data`) of the events in an operation's log, in ConTree's shapes (see
// docs/api.md and the ConTree spec, section 4.2). Each builder returns a JSON object; the log
// stores it as text.

#include <cstdint>
#include <string_view>
#include <sys/resource.h>

#include "base/json.hpp"
#include "daemon/records.hpp"

namespace grove::daemon {

// Event types, as they appear in `type`.
inline constexpr std::string_view kInitEvent = "init";
inline constexpr std::string_view kSpawnEvent = "spawn";
inline constexpr std::string_view kStdoutEvent = "stdout";
inline constexpr std::string_view kStderrEvent = "stderr";
inline constexpr std::string_view kExitEvent = "exit";
inline constexpr std::string_view kTruncatedEvent = "truncated";
inline constexpr std::string_view kSizeCapEvent = "size_cap";
inline constexpr std::string_view kCompletionEvent = "completion";
// grove's: an import's per-layer progress (spid 0; docs/api.md). ConTree clients pass unknown
// event types through.
inline constexpr std::string_view kProgressEvent = "progress";

// spid 0 is the sandbox itself (init, completion); 1 the main process.
inline constexpr int kSandboxSpid = 0;
inline constexpr int kMainSpid = 1;
// Pids inside the sandbox's PID namespace: grove's init is 1, and the command it starts first, 2.
inline constexpr int kInitPid = 1;
inline constexpr int kCommandPid = 2;

// {started_at, runtime_path, verbose, init_pid}
base::Json init_event_data(int64_t started_ns);

struct ProcessExit {
    int code = 0;  // -1 when killed by a signal
    int signal = -1;
    bool timed_out = false;
    int64_t duration_ns = 0;
    rusage usage{};
    int pid = kCommandPid;  // in the sandbox
};
// {pid, code, signal, timed_out, duration_ms, resources{...}}
base::Json exit_event_data(const ProcessExit& exit);
// The ProcessExit an exit event's data records (durations to the millisecond, times to the
// microsecond); fields it lacks keep their defaults.
ProcessExit process_exit_from_event(const base::Json& data);
// ConTree's InstanceResult `resources` (elapsed_time, max_rss, ...) from the same values.
base::Json instance_resources(const ProcessExit& exit);

// {stream, bytes_emitted, bytes_dropped}
base::Json truncated_event_data(std::string_view stream, uint64_t emitted, uint64_t dropped);
// {limit_bytes, file_size}: file_size is null, since the run is stopped as soon as its changes
// are found over the limit, without measuring by how much.
base::Json size_cap_event_data(uint64_t limit_bytes);
// {status, error, duration_ms, result_image_uuid, image_size_bytes}
base::Json completion_event_data(const OperationOutcome& outcome, int64_t duration_ns);

}  // namespace grove::daemon
