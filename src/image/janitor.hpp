#pragma once

// Janitor removes finished runs' directories on a background thread, so a run's result is
// returned before its scratch tree (work dir, unchanged upper) is unlinked: on ext4, unlinks
// cost as much as the creates, and nobody waits for them. A job keeps the run's share of the
// store lock until its tree is gone, so recovery never mistakes a directory being removed for a
// crash's leftover. Past kMaxPending queued trees, remove() works inline: a caller that makes
// trees faster than they can be removed is slowed down instead of filling the disk.

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>

#include "store_lock.hpp"

namespace grove::image {

class Janitor {
public:
    static constexpr size_t kMaxPending = 64;

    Janitor();
    // Removes what is still queued, then stops.
    ~Janitor();
    Janitor(const Janitor&) = delete;
    Janitor& operator=(const Janitor&) = delete;

    // Removes `dir` (recursively, errors ignored: recovery retries what survives), then releases
    // `lock`.
    void remove(std::filesystem::path dir, std::optional<StoreLock> lock);
    // Returns once every tree queued before the call is gone.
    void drain();

private:
    struct Job {
        std::filesystem::path dir;
        std::optional<StoreLock> lock;
    };
    void work(const std::stop_token& stop);

    std::mutex mutex_;
    std::condition_variable_any wake_;
    std::condition_variable done_;
    std::deque<Job> pending_;
    size_t busy_ = 0;  // jobs taken off the queue and not finished
    std::jthread thread_;
};

}  // namespace grove::image
