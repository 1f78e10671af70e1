#pragma once

// DockerEvents is the daemon's event stream as GET /events serves it: what happened to images
// (pull, tag, untag, delete, import, load, save) and to containers (create, start, die, ...:
// DockerContainers::publish), in order, with the last kKeep events kept in memory for `since`
// (dockerd keeps 256, grove keeps more; none survive a restart, as in dockerd).

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

namespace grove::docker_api {

struct DockerEvent {
    std::string type;    // "image" or "container"
    std::string action;  // "pull", "tag", ...
    std::string id;      // the image's reference or ID, as dockerd reports it
    std::map<std::string, std::string> attributes;
    int64_t time_ns = 0;  // set by publish()
};

class DockerEvents {
public:
    static constexpr size_t kKeep = 1024;

    void publish(DockerEvent event);

    // The position right after the newest event: where a client that wants only new events
    // starts reading.
    uint64_t end() const;
    // The position of the oldest event kept.
    uint64_t begin() const;
    // The events from `*cursor` on, advancing it; waits for one until `deadline` or a stop
    // request, and returns none then. Events already dropped from memory are skipped.
    std::vector<DockerEvent> next(uint64_t* cursor,
                                  std::stop_token stop,
                                  std::optional<std::chrono::system_clock::time_point> deadline);

private:
    mutable std::mutex mutex_;
    std::condition_variable_any changed_;
    std::deque<DockerEvent> kept_;  // guarded by mutex_
    uint64_t first_ = 0;            // the position of kept_.front()
};

}  // namespace grove::docker_api
