#pragma once

// OperationTable records operations (records.hpp) in the daemon's state database. A row is
// inserted PENDING, moves forward through its statuses, and is finished exactly once: finish()
// refuses a terminal row, so a cancellation and a worker's completion cannot both win.

#include <optional>
#include <string_view>
#include <vector>

#include <grove/result.hpp>

#include "daemon/records.hpp"
#include "store/metadata/database.hpp"

namespace grove::daemon {

class OperationTable {
public:
    explicit OperationTable(store::Database& db) : db_(db) {}

    // AlreadyExists if the uuid is taken; InvalidArgument if it is not a lowercase UUID.
    Result<void> insert(const OperationRecord& record);
    // NotFound if there is no such operation.
    Result<OperationRecord> get(std::string_view uuid);
    Result<std::vector<OperationRecord>> list(const OperationFilter& filter);
    // Moves an unfinished operation to ASSIGNED or EXECUTING; EXECUTING also records
    // `started_ns` and the input image. FailedPrecondition if it is finished already.
    Result<void> advance(std::string_view uuid,
                         OperationStatus status,
                         int64_t now_ns,
                         const std::optional<std::string>& image_uuid = std::nullopt);
    // Finishes an unfinished operation. FailedPrecondition if it is finished already, NotFound
    // if it does not exist.
    Result<void> finish(std::string_view uuid, const OperationOutcome& outcome, int64_t now_ns);
    // The operations not finished, oldest first (startup recovery).
    Result<std::vector<OperationRecord>> unfinished();

private:
    store::Database& db_;
};

}  // namespace grove::daemon
