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
    return {{"pid", exit.pid},
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

ProcessExit process_exit_from_event(const base::Json& data) {
    const auto number = [&](std::string_view key, int64_t fallback) -> int64_t {
        const auto it = data.find(key);
        return it != data.end() && it->is_number_integer() ? it->get<int64_t>() : fallback;
    };
    const base::Json none = base::Json::object();
    const auto resources_it = data.find("resources");
    const base::Json& resources =
        resources_it != data.end() && resources_it->is_object() ? *resources_it : none;
    const auto usage = [&](std::string_view key) -> long {
        const auto it = resources.find(key);
        return it != resources.end() && it->is_number_integer() ? it->get<long>() : 0;
    };
    const auto time = [&](std::string_view key) {
        const int64_t us = usage(key);
        return timeval{.tv_sec = us / 1'000'000, .tv_usec = us % 1'000'000};
    };
    ProcessExit exit;
    exit.pid = static_cast<int>(number("pid", kCommandPid));
    exit.code = static_cast<int>(number("code", 0));
    exit.signal = static_cast<int>(number("signal", -1));
    const auto timed_out = data.find("timed_out");
    exit.timed_out = timed_out != data.end() && timed_out->is_boolean() && timed_out->get<bool>();
    exit.duration_ns = number("duration_ms", 0) * 1'000'000;
    rusage& u = exit.usage;
    u.ru_utime = time("user_time_us");
    u.ru_stime = time("sys_time_us");
    u.ru_maxrss = usage("max_rss_kb");
    u.ru_ixrss = usage("shared_memory");
    u.ru_idrss = usage("unshared_memory");
    u.ru_nswap = usage("swaps");
    u.ru_minflt = usage("minor_faults");
    u.ru_majflt = usage("major_faults");
    u.ru_nvcsw = usage("voluntary_ctx_switches");
    u.ru_nivcsw = usage("involuntary_ctx_switches");
    u.ru_inblock = usage("block_input_ops");
    u.ru_oublock = usage("block_output_ops");
    u.ru_msgsnd = usage("ipc_msgs_sent");
    u.ru_msgrcv = usage("ipc_msgs_received");
    u.ru_nsignals = usage("signals_received");
    return exit;
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
