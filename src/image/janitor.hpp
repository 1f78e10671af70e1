#pragma once

// Janitor does a run's directory bookkeeping off the run's critical path, on one background
// thread: it removes finished runs' trees and keeps a few fresh run directories (empty upper/
// and work/) ready. On ext4 a create or unlink costs tens to hundreds of microseconds, and a
// run needs three of each; nobody has to wait for them.
//
// A removal keeps the run's share of the store lock until its tree is gone, so recovery never
// mistakes a directory being removed for a crash's leftover. Spares hold no lock: they are named
// spare-<uuid>, which recovery removes without a warning, and take_spare() checks one still
// exists. Past kMaxPending queued trees, remove() works inline: a caller that makes trees faster
// than they can be removed is slowed down instead of filling the disk.

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "store_lock.hpp"

namespace grove::image {

class Janitor {
public:
    static constexpr size_t kMaxPending = 64;
    static constexpr std::string_view kSparePrefix = "spare-";

    // Spares are made in `runs_dir`, up to `spares` of them, once take_spare() was first called.
    Janitor(std::filesystem::path runs_dir, size_t spares);
    // Removes what is still queued and the spares, then stops.
    ~Janitor();
    Janitor(const Janitor&) = delete;
    Janitor& operator=(const Janitor&) = delete;

    // Removes `dir` (recursively, errors ignored: recovery retries what survives), then releases
    // `lock`.
    void remove(std::filesystem::path dir, std::optional<StoreLock> lock);
    // Returns once every tree queued before the call is gone.
    void drain();
    // A ready run directory, renamed to <runs_dir>/<id>, with empty upper/ and work/; nullopt
    // when none is ready (the caller makes its own).
    std::optional<std::filesystem::path> take_spare(const std::string& id);

private:
    struct Job {
        std::filesystem::path dir;
        std::optional<StoreLock> lock;
    };
    void work(const std::stop_token& stop);
    bool wants_spare() const { return spares_wanted_ && spares_.size() < max_spares_; }

    const std::filesystem::path runs_dir_;
    const size_t max_spares_;
    std::mutex mutex_;
    std::condition_variable_any wake_;
    std::condition_variable done_;
    std::deque<Job> pending_;
    std::deque<std::filesystem::path> spares_;
    bool spares_wanted_ = false;  // set by the first take_spare()
    size_t busy_ = 0;             // removals taken off the queue and not finished
    std::jthread thread_;
};

}  // namespace grove::image
