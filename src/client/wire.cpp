#include "client/wire.hpp"

#include <cstdio>
#include <ctime>

#include <fmt/format.h>

#include "base/error.hpp"
#include "daemon/stream_repr.hpp"
#include "daemon/wire_time.hpp"

namespace grove::client {
namespace {

template <typename T>
T value_or(const base::Json& json, std::string_view key, T fallback) {
    const auto it = json.find(key);
    return it == json.end() || it->is_null() ? fallback : it->get<T>();
}

std::optional<std::string> optional_text(const base::Json& json, std::string_view key) {
    const auto it = json.find(key);
    return it == json.end() || it->is_null() ? std::nullopt
                                             : std::optional<std::string>(it->get<std::string>());
}

// nlohmann throws on a value of the wrong type; a malformed answer is an error, not a crash.
template <typename Body>
auto guarded(std::string_view what, Body&& body) -> Result<decltype(body())> {
    try {
        return body();
    } catch (const base::Json::exception& e) {
        return base::make_error(Code::kInternal, "groved sent a malformed {}: {}", what, e.what());
    }
}

}  // namespace

Result<ImageInfo> image_from_json(const base::Json& json) {
    return guarded("image", [&] {
        ImageInfo info{.uuid = json.at("uuid").get<std::string>(),
                       .tag = optional_text(json, "tag"),
                       .parent = optional_text(json, "parent_uuid"),
                       .kind = value_or<std::string>(json, "kind", "")};
        if (const auto created = optional_text(json, "created_at")) {
            info.created = parse_iso8601(*created).value_or(Clock::time_point());
        }
        if (const auto size = json.find("size"); size != json.end() && size->is_object()) {
            info.size = value_or<uint64_t>(*size, "logical", 0);
        }
        return info;
    });
}

Result<ContainerInfo> container_from_json(const base::Json& json) {
    return guarded("container", [&] {
        const auto time = [&](std::string_view key) -> std::optional<Clock::time_point> {
            const auto text = optional_text(json, key);
            if (!text) {
                return std::nullopt;
            }
            return parse_iso8601(*text).value_or(Clock::time_point());
        };
        return ContainerInfo{.id = json.at("id").get<std::string>(),
                             .name = value_or<std::string>(json, "name", ""),
                             .image = value_or<std::string>(json, "image", ""),
                             .image_uuid = value_or<std::string>(json, "image_uuid", ""),
                             .status = value_or<std::string>(json, "status", ""),
                             .exit_code = value_or<int>(json, "exit_code", 0),
                             .pid = value_or<int>(json, "pid", 0),
                             .command = value_or<std::vector<std::string>>(json, "command", {}),
                             .created = time("created").value_or(Clock::time_point()),
                             .started = time("started"),
                             .finished = time("finished")};
    });
}

ImportProgress import_progress_from_json(const base::Json& json) {
    // A malformed event is skipped (a default ImportProgress draws nothing), not an error: the
    // completion that follows is what counts.
    return guarded("progress event",
                   [&] {
                       return ImportProgress{.layer = value_or<size_t>(json, "layer", 0),
                                             .layers = value_or<size_t>(json, "layers", 0),
                                             .digest = value_or<std::string>(json, "digest", ""),
                                             .phase = value_or<std::string>(json, "phase", ""),
                                             .done = value_or<uint64_t>(json, "done", 0),
                                             .total = value_or<uint64_t>(json, "total", 0)};
                   })
        .value_or(ImportProgress{});
}

Result<GrepResult> grep_result_from_json(const base::Json& json) {
    return guarded("grep result", [&] {
        GrepResult result{.truncated = value_or<bool>(json, "truncated", false),
                          .files_searched = value_or<uint64_t>(json, "files_searched", 0)};
        for (const auto& match : json.at("matches")) {
            result.matches.push_back({.path = match.at("path").get<std::string>(),
                                      .line = value_or<uint64_t>(match, "line_number", 0),
                                      .text = value_or<std::string>(match, "line_text", "")});
        }
        return result;
    });
}

Result<PruneResult> prune_result_from_json(const base::Json& json) {
    return guarded("prune result", [&] {
        return PruneResult{.removed = json.at("removed").get<std::vector<std::string>>(),
                           .layers_removed = value_or<size_t>(json, "layers_removed", 0),
                           .blobs_removed = value_or<size_t>(json, "blobs_removed", 0),
                           .bytes_freed = value_or<uint64_t>(json, "bytes_freed", 0)};
    });
}

Result<OperationInfo> operation_from_json(const base::Json& json) {
    return guarded("operation", [&] {
        OperationInfo info{.uuid = json.at("uuid").get<std::string>(),
                           .kind = value_or<std::string>(json, "kind", ""),
                           .status = value_or<std::string>(json, "status", ""),
                           .error = optional_text(json, "error").value_or(""),
                           .result_image = optional_text(json, "result_image_uuid")};
        if (const auto created = optional_text(json, "created_at")) {
            info.created = parse_iso8601(*created).value_or(Clock::time_point());
        }
        if (const auto duration = json.find("duration");
            duration != json.end() && duration->is_number()) {
            info.duration = duration->get<double>();
        }
        if (const auto metadata = json.find("metadata");
            metadata != json.end() && metadata->is_object()) {
            info.command = optional_text(*metadata, "command").value_or("");
            if (const auto args = metadata->find("args");
                args != metadata->end() && args->is_array()) {
                for (const auto& arg : *args) {
                    if (arg.is_string()) {
                        info.command += " " + arg.get<std::string>();
                    }
                }
            }
        }
        return info;
    });
}

Result<SessionInfo> session_from_json(const base::Json& json) {
    return guarded("session", [&] {
        SessionInfo info{.name = json.at("name").get<std::string>(),
                         .branch = json.at("branch").get<std::string>(),
                         .head = json.at("head").get<int64_t>(),
                         .image = json.at("image").get<std::string>()};
        for (const auto& branch : json.at("branches")) {
            info.branches.push_back({.name = branch.at("name").get<std::string>(),
                                     .head = branch.at("head").get<int64_t>(),
                                     .image = branch.at("image").get<std::string>()});
        }
        return info;
    });
}

Result<SessionRun> session_run_from_json(const base::Json& json) {
    auto run = guarded("session run", [&] {
        return SessionRun{
            .id = json.at("id").get<int64_t>(),
            .parent = json.at("parent").is_null()
                          ? std::nullopt
                          : std::optional<int64_t>(json.at("parent").get<int64_t>()),
            .image = json.at("image").get<std::string>(),
            .command = json.at("command").get<std::string>(),
            .exit_code = json.at("exit_code").get<int>(),
            .timed_out = value_or(json, "timed_out", false),
            .elapsed = std::chrono::nanoseconds(value_or<int64_t>(json, "elapsed_ns", 0))};
    });
    GROVE_TRY(run);
    GROVE_ASSIGN_OR_RETURN(run->stdout_data,
                           daemon::decode_stream_repr(json.value("stdout", base::Json())));
    GROVE_ASSIGN_OR_RETURN(run->stderr_data,
                           daemon::decode_stream_repr(json.value("stderr", base::Json())));
    return run;
}

Result<FileEntry> file_entry_from_json(const base::Json& json) {
    return guarded("file entry", [&] {
        return FileEntry{.name = json.at("path").get<std::string>(),
                         .size = value_or<uint64_t>(json, "size", 0),
                         .mode = value_or<uint32_t>(json, "mode", 0),
                         .is_dir = value_or(json, "is_dir", false),
                         .is_symlink = value_or(json, "is_symlink", false),
                         .symlink_to = value_or<std::string>(json, "symlink_to", "")};
    });
}

std::string iso8601(Clock::time_point time) {
    return daemon::iso8601_micros(
        std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count());
}

Result<Clock::time_point> parse_iso8601(std::string_view text) {
    std::tm utc{};
    long micros = 0;
    int consumed = 0;
    const std::string copy(text);
    if (std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &utc.tm_year, &utc.tm_mon,
                    &utc.tm_mday, &utc.tm_hour, &utc.tm_min, &utc.tm_sec, &consumed) != 6) {
        return base::make_error(Code::kInvalidArgument, "bad time '{}'", text);
    }
    if (copy.size() > static_cast<size_t>(consumed) && copy[static_cast<size_t>(consumed)] == '.') {
        micros = std::strtol(copy.c_str() + consumed + 1, nullptr, 10);
    }
    utc.tm_year -= 1900;
    utc.tm_mon -= 1;
    return Clock::from_time_t(timegm(&utc)) + std::chrono::microseconds(micros);
}

std::string escape_query(std::string_view text) {
    std::string out;
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u) != 0 || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
            out += c;
        } else {
            out += fmt::format("%{:02X}", u);
        }
    }
    return out;
}

void EventStream::feed(std::string_view chunk) {
    buffer_.append(chunk);
    size_t end = 0;
    while ((end = buffer_.find("\n\n")) != std::string::npos) {
        const std::string frame = buffer_.substr(0, end);
        buffer_.erase(0, end + 2);
        std::string data;
        size_t start = 0;
        while (start < frame.size()) {
            size_t line_end = frame.find('\n', start);
            if (line_end == std::string::npos) {
                line_end = frame.size();
            }
            const std::string_view line(frame.data() + start, line_end - start);
            if (line.starts_with("data: ")) {
                data += line.substr(6);
            }
            start = line_end + 1;
        }
        if (auto json = base::parse_json(data); !data.empty() && json) {
            on_event_(*json);
        }
    }
}

}  // namespace grove::client
