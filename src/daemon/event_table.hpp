#pragma once

// EventTable stores the event logs of operations (records.hpp): append-only, ids from 0 in
// order per operation.

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include <grove/result.hpp>

#include "daemon/records.hpp"
#include "store/metadata/database.hpp"

namespace grove::daemon {

class EventTable {
public:
    explicit EventTable(store::Database& db) : db_(db) {}

    // Appends `events` (ids assigned by the caller, in order) in one transaction. AlreadyExists
    // if an id is taken; FailedPrecondition if the operation does not exist.
    Result<void> append(std::string_view operation, std::span<const EventRecord> events);
    // The events with id > `after`, in order (after = -1: all of them).
    Result<std::vector<EventRecord>> list(std::string_view operation, int64_t after);
    // The id the next event of `operation` gets: 0 for an empty log.
    Result<int64_t> next_id(std::string_view operation);

private:
    store::Database& db_;
};

}  // namespace grove::daemon
