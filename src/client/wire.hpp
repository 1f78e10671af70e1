#pragma once

// What the remote client reads from and writes to groved's JSON: the public types from their
// wire shapes (docs/api.md), times, query escaping, and an incremental event stream parser.

#include <functional>
#include <string>
#include <string_view>

#include <grove/client.hpp>

#include "base/json.hpp"

namespace grove::client {

Result<ImageInfo> image_from_json(const base::Json& json);
Result<SessionInfo> session_from_json(const base::Json& json);
Result<OperationInfo> operation_from_json(const base::Json& json);
Result<SessionRun> session_run_from_json(const base::Json& json);
Result<FileEntry> file_entry_from_json(const base::Json& json);
// groved's import `progress` event data (docs/api.md).
ImportProgress import_progress_from_json(const base::Json& json);
Result<GrepResult> grep_result_from_json(const base::Json& json);
Result<PruneResult> prune_result_from_json(const base::Json& json);
Result<ContainerInfo> container_from_json(const base::Json& json);

// "2024-01-01T12:00:00.123456+00:00", as groved writes its records.
std::string iso8601(Clock::time_point time);
// "2024-01-01T12:00:00.123456+00:00" (groved's records), to the microsecond.
Result<Clock::time_point> parse_iso8601(std::string_view text);

// Percent-encodes everything but RFC 3986's unreserved characters and '/'.
std::string escape_query(std::string_view text);

// Splits an SSE body, fed in arbitrary chunks, into its events' `data` (comments dropped).
class EventStream {
public:
    explicit EventStream(std::function<void(const base::Json&)> on_event)
        : on_event_(std::move(on_event)) {}
    void feed(std::string_view chunk);

private:
    std::function<void(const base::Json&)> on_event_;
    std::string buffer_;
};

}  // namespace grove::client
