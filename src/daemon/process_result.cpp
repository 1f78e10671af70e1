#include "daemon/process_result.hpp"

#include "base/error.hpp"
#include "daemon/event_data.hpp"
#include "daemon/stream_repr.hpp"

namespace grove::daemon {

Result<base::Json> fold_process_result(const std::vector<EventRecord>& events, int spid) {
    bool spawned = false;
    int pid = -1;
    std::string out;
    std::string err;
    bool out_truncated = false;
    bool err_truncated = false;
    std::optional<ProcessExit> exit;
    for (const auto& event : events) {
        if (event.spid != spid) {
            continue;
        }
        const bool is_out = event.type == kStdoutEvent;
        const bool is_err = event.type == kStderrEvent;
        if (!is_out && !is_err && event.type != kSpawnEvent && event.type != kExitEvent &&
            event.type != kTruncatedEvent) {
            continue;
        }
        GROVE_ASSIGN_OR_RETURN(const auto data, base::parse_json(event.data_json));
        if (event.type == kSpawnEvent) {
            spawned = true;
            const auto it = data.find("pid");
            pid = it != data.end() && it->is_number_integer() ? it->get<int>() : -1;
        } else if (is_out || is_err) {
            GROVE_ASSIGN_OR_RETURN(const auto bytes, decode_stream_repr(data));
            (is_out ? out : err) += bytes;
        } else if (event.type == kTruncatedEvent) {
            const auto stream = data.find("stream");
            const bool stdout_stream = stream != data.end() && *stream == kStdoutEvent;
            (stdout_stream ? out_truncated : err_truncated) = true;
        } else {
            exit = process_exit_from_event(data);
        }
    }
    if (!spawned) {
        return base::make_error(Code::kNotFound, "no process {} in this operation", spid);
    }
    const auto repr = [](const std::string& bytes, bool truncated) {
        base::Json json = stream_repr(bytes);
        json["truncated"] = truncated;
        return json;
    };
    base::Json result{{"state",
                       {{"exit_code", exit ? exit->code : -1},
                        {"pid", pid},
                        {"signal", exit ? exit->signal : -1},
                        {"timed_out", exit && exit->timed_out},
                        {"continued", false},
                        {"core_dump", false},
                        {"stopped", false}}},
                      {"stdout", repr(out, out_truncated)},
                      {"stderr", repr(err, err_truncated)}};
    if (exit) {
        result["resources"] = instance_resources(*exit);
    }
    return result;
}

}  // namespace grove::daemon
