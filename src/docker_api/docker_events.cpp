#include "docker_api/docker_events.hpp"

#include "daemon/wire_time.hpp"

namespace grove::docker_api {

void DockerEvents::publish(DockerEvent event) {
    {
        std::lock_guard lock(mutex_);
        event.time_ns = daemon::now_ns();
        kept_.push_back(std::move(event));
        if (kept_.size() > kKeep) {
            kept_.pop_front();
            ++first_;
        }
    }
    changed_.notify_all();
}

uint64_t DockerEvents::end() const {
    std::lock_guard lock(mutex_);
    return first_ + kept_.size();
}

uint64_t DockerEvents::begin() const {
    std::lock_guard lock(mutex_);
    return first_;
}

std::vector<DockerEvent> DockerEvents::next(
    uint64_t* cursor,
    std::stop_token stop,
    std::optional<std::chrono::system_clock::time_point> deadline) {
    std::unique_lock lock(mutex_);
    const auto ready = [&] {
        return first_ + kept_.size() > *cursor;
    };
    if (deadline) {
        changed_.wait_until(lock, stop, *deadline, ready);
    } else {
        changed_.wait(lock, stop, ready);
    }
    std::vector<DockerEvent> out;
    const uint64_t from = std::max(*cursor, first_);
    for (uint64_t i = from; i < first_ + kept_.size(); ++i) {
        out.push_back(kept_[i - first_]);
    }
    *cursor = first_ + kept_.size();
    return out;
}

}  // namespace grove::docker_api
