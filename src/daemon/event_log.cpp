#include "daemon/event_log.hpp"

#include <algorithm>
#include <string>

#include "daemon/wire_time.hpp"

namespace grove::daemon {

int64_t EventLog::append(int spid, std::string_view type, const base::Json& data) {
    EventRecord event{.ts_ns = now_ns(),
                      .spid = spid,
                      .type = std::string(type),
                      .data_json = base::dump_json(data)};
    int64_t id = 0;
    {
        std::lock_guard lock(mutex_);
        id = next_id_++;
        event.id = id;
        events_.push_back(std::move(event));
    }
    changed_.notify_all();
    return id;
}

EventRecord EventLog::make_last(int spid, std::string_view type, const base::Json& data) {
    EventRecord event{.ts_ns = now_ns(),
                      .spid = spid,
                      .type = std::string(type),
                      .data_json = base::dump_json(data)};
    std::lock_guard lock(mutex_);
    event.id = next_id_++;
    return event;
}

void EventLog::close_with(EventRecord last) {
    {
        std::lock_guard lock(mutex_);
        events_.push_back(std::move(last));
        unsaved_ = events_.size();
        closed_ = true;
    }
    changed_.notify_all();
}

void EventLog::close() {
    {
        std::lock_guard lock(mutex_);
        closed_ = true;
    }
    changed_.notify_all();
}

std::vector<EventRecord> EventLog::take_unsaved() {
    std::lock_guard lock(mutex_);
    std::vector<EventRecord> unsaved(events_.begin() + static_cast<ptrdiff_t>(unsaved_),
                                     events_.end());
    unsaved_ = events_.size();
    return unsaved;
}

EventLog::Read EventLog::read(int64_t after,
                              std::chrono::milliseconds wait,
                              std::stop_token stop) const {
    std::unique_lock lock(mutex_);
    // What is readable: a reserved last event (make_last) is not, until it is published.
    const auto has_news = [&] {
        return closed_ || (!events_.empty() && events_.back().id > after);
    };
    changed_.wait_for(lock, stop, wait, has_news);
    Read out;
    const auto first = std::find_if(events_.begin(), events_.end(),
                                    [&](const EventRecord& e) { return e.id > after; });
    out.events.assign(first, events_.end());
    out.closed = closed_;
    return out;
}

}  // namespace grove::daemon
