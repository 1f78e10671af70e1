#pragma once

// The rows of the daemon's state (state_db.hpp), as plain values.
//
// Vocabulary (ConTree's): an operation is one asynchronous piece of work a client asked for, of a
// kind: `instance` (a run in a sandbox) or `image_import` (an image pulled from a registry). It
// moves PENDING (queued) -> ASSIGNED (a worker took it) -> EXECUTING -> one terminal status:
// SUCCESS (the orchestration worked; the command's own exit code is in the result), FAILED (with
// an error) or CANCELLED. Its events are its log: integer ids from 0, in order, each tagged with
// the process it concerns (spid 0: the sandbox itself, 1: the main command). A file is an upload,
// content-addressed: one row per distinct sha256.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <grove/result.hpp>

namespace grove::daemon {

enum class OperationKind { kInstance, kImageImport };

enum class OperationStatus { kPending, kAssigned, kExecuting, kSuccess, kFailed, kCancelled };

// "instance", "image_import": the wire and stored names.
std::string_view operation_kind_name(OperationKind kind);
// InvalidArgument for an unknown name (it comes from a client or a corrupt row alike; the
// table readers turn it into DataLoss).
Result<OperationKind> operation_kind_from_name(std::string_view name);
// "PENDING", ..., "CANCELLED".
std::string_view operation_status_name(OperationStatus status);
Result<OperationStatus> operation_status_from_name(std::string_view name);
bool is_terminal(OperationStatus status);

struct OperationRecord {
    std::string uuid;
    OperationKind kind = OperationKind::kInstance;
    OperationStatus status = OperationStatus::kPending;
    std::optional<std::string> error;
    int64_t created_ns = 0;                  // unix time in nanoseconds
    std::optional<int64_t> started_ns;       // when it began EXECUTING
    std::optional<int64_t> finished_ns;      // when it reached a terminal status
    std::string request_json = "{}";         // the request, secrets masked (ConTree's `metadata`)
    std::optional<std::string> result_json;  // instance: the main process's result
    std::optional<std::string> image_uuid;   // the input image, once resolved
    std::optional<std::string> result_image_uuid;
    std::optional<std::string> result_tag;
    std::optional<uint64_t> image_size;  // bytes of the result image

    // Time spent executing (or queued, if it never started), up to `now_ns` while unfinished.
    int64_t duration_ns(int64_t now_ns) const;
};

// What finishes an operation (OperationTable::finish).
struct OperationOutcome {
    OperationStatus status = OperationStatus::kSuccess;  // terminal
    std::optional<std::string> error;
    std::optional<std::string> result_json;
    std::optional<std::string> result_image_uuid;
    std::optional<std::string> result_tag;
    std::optional<uint64_t> image_size;
};

// Every member narrows the list; the order is newest first, ties broken by uuid, so paging with
// limit/offset is stable.
struct OperationFilter {
    std::optional<size_t> limit;
    size_t offset = 0;
    std::optional<OperationStatus> status;
    std::optional<OperationKind> kind;
    std::optional<int64_t> since_ns;  // created_ns >= since_ns
    std::optional<int64_t> until_ns;  // created_ns < until_ns
};

struct EventRecord {
    int64_t id = 0;  // from 0, per operation
    int64_t ts_ns = 0;
    int spid = 0;
    std::string type;              // init, spawn, stdout, stderr, exit, truncated, completion, ...
    std::string data_json = "{}";  // the event's payload, a JSON object
};

struct FileRecord {
    std::string uuid;
    std::string sha256;  // lowercase hex, 64 digits
    uint64_t size = 0;
    int64_t created_ns = 0;
    int64_t updated_ns = 0;  // the last upload of the same content
};

struct FileFilter {
    std::optional<size_t> limit;
    size_t offset = 0;
    std::optional<int64_t> since_ns;  // updated_ns >= since_ns
    std::optional<int64_t> until_ns;  // updated_ns < until_ns
};

}  // namespace grove::daemon
