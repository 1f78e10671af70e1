#include "daemon/event_data.hpp"

#include "daemon/wire_time.hpp"

namespace grove::daemon {
namespace {

int64_t micros(const timeval& tv) {
    return static_cast<int64_t>(tv.tv_sec) * 1'000'000 + tv.tv_usec;
}

int64_t millis(int64_t ns) {
    return ns / 1'000'000;
}

template <typename T>
base::Json optional_json(const std::optional<T>& value) {
    return value ? base::Json(*value) : base::Json();
}

}  // namespace

base::Json init_event_data(int64_t started_ns) {
    return {{"started_at", rfc3339_nanos(started_ns)},
            {"runtime_path", "grove"},
            {"verbose", false},
            {"init_pid", kInitPid}};
}

base::Json exit_event_data(const ProcessExit& exit) {
    const rusage& u = exit.usage;
    return {{"pid", kCommandPid},
            {"code", exit.code},
            {"signal", exit.signal},
            {"timed_out", exit.timed_out},
            {"duration_ms", millis(exit.duration_ns)},
            {"resources",
             {{"user_time_us", micros(u.ru_utime)},
              {"sys_time_us", micros(u.ru_stime)},
              {"max_rss_kb", u.ru_maxrss},
              {"shared_memory", u.ru_ixrss},
              {"unshared_memory", u.ru_idrss},
              {"swaps", u.ru_nswap},
              {"minor_faults", u.ru_minflt},
              {"major_faults", u.ru_majflt},
              {"voluntary_ctx_switches", u.ru_nvcsw},
              {"involuntary_ctx_switches", u.ru_nivcsw},
              {"block_input_ops", u.ru_inblock},
              {"block_output_ops", u.ru_oublock},
              {"ipc_msgs_sent", u.ru_msgsnd},
              {"ipc_msgs_received", u.ru_msgrcv},
              {"signals_received", u.ru_nsignals}}}};
}

base::Json instance_resources(const ProcessExit& exit) {
    const rusage& u = exit.usage;
    const double elapsed = static_cast<double>(exit.duration_ns) / 1e9;
    return {{"elapsed_time", elapsed},
            {"monotonic_time", elapsed},
            {"max_rss", u.ru_maxrss},
            {"user_cpu_time", static_cast<double>(micros(u.ru_utime)) / 1e6},
            {"system_cpu_time", static_cast<double>(micros(u.ru_stime)) / 1e6},
            {"cost", 0},
            {"block_input", u.ru_inblock},
            {"block_output", u.ru_oublock},
            {"page_faults", u.ru_minflt},
            {"page_faults_io", u.ru_majflt},
            {"voluntary_switches", u.ru_nvcsw},
            {"involuntary_switches", u.ru_nivcsw},
            {"shared_memory", u.ru_ixrss},
            {"unshared_memory", u.ru_idrss},
            {"signals", u.ru_nsignals},
            {"swaps", u.ru_nswap}};
}

base::Json truncated_event_data(std::string_view stream, uint64_t emitted, uint64_t dropped) {
    return {{"stream", stream}, {"bytes_emitted", emitted}, {"bytes_dropped", dropped}};
}

base::Json size_cap_event_data(uint64_t limit_bytes) {
    return {{"limit_bytes", limit_bytes}, {"file_size", nullptr}};
}

base::Json completion_event_data(const OperationOutcome& outcome, int64_t duration_ns) {
    return {{"status", operation_status_name(outcome.status)},
            {"error", optional_json(outcome.error)},
            {"duration_ms", millis(duration_ns)},
            {"result_image_uuid", optional_json(outcome.result_image_uuid)},
            {"image_size_bytes", optional_json(outcome.image_size)}};
}

}  // namespace grove::daemon
