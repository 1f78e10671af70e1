#pragma once

// EventLog is the event log of one operation while it is live (queued or running): the events
// in memory, in order, for the readers that follow it, and a mark of which of them are already
// in the database. Once the operation is finished its whole log is in the database
// (EventTable), and readers that come later read it there.
//
// Writers: the operation's worker (and a cancellation of a queued operation). Readers: any number
// of subscribers, each remembering the last id it saw; read() blocks until there is something
// after it, the log closes, the wait expires, or the reader's stop_token fires (its client went
// away), so a reader can send keep-alives between events.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <stop_token>
#include <string_view>
#include <vector>

#include "base/json.hpp"
#include "daemon/records.hpp"

namespace grove::daemon {

class EventLog {
public:
    // `first_id`: the id of the first event (0 for a new operation).
    explicit EventLog(int64_t first_id = 0) : next_id_(first_id) {}

    // Appends an event stamped with the current time, wakes the readers, returns its id.
    int64_t append(int spid, std::string_view type, const base::Json& data);
    // The log's last event (the completion), stamped now with the next id but not readable yet:
    // its writer persists it together with the operation's end, then publishes it with
    // close_with(), so a reader that sees it finds the operation finished. Nothing may be
    // appended after it.
    EventRecord make_last(int spid, std::string_view type, const base::Json& data);
    // Publishes `last` (from make_last(), persisted by the caller) and closes the log, at once.
    void close_with(EventRecord last);
    // No event follows: readers that saw everything stop waiting.
    void close();

    // The events not yet returned by take_unsaved(), to persist them.
    std::vector<EventRecord> take_unsaved();

    struct Read {
        std::vector<EventRecord> events;  // id > after, in order
        bool closed = false;              // and `events` ends the log
    };
    // The events after `after` (-1: all); if there are none and the log is open, waits up to
    // `wait` for some.
    Read read(int64_t after, std::chrono::milliseconds wait, std::stop_token stop) const;

private:
    mutable std::mutex mutex_;
    mutable std::condition_variable_any changed_;
    std::vector<EventRecord> events_;  // events_[i].id == events_.front().id + i
    size_t unsaved_ = 0;               // index of the first event take_unsaved() has not returned
    int64_t next_id_;
    bool closed_ = false;
};

}  // namespace grove::daemon
