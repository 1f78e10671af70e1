#pragma once

// Ingest owns the on-disk state of one write in progress, `<root>/ingest/<name>/{lock,data}`,
// while holding an exclusive flock on its lock file. flock locks belong to an open file
// description, so two threads that each open the lock file exclude each other just as two
// processes do, and the kernel drops the lock of a process that dies: an ingest whose lock can be
// taken is either free or a crash leftover.
//
// Whoever removes an ingest does so while holding its lock, unlinking the lock file last. A
// waiter that then wins the lock holds it on an unlinked file, notices that the path no longer
// names its file, and starts over; so at most one holder ever owns the ingest at a path.

#include <filesystem>
#include <optional>

#include <grove/result.hpp>

#include "base/unique_fd.hpp"

namespace grove::store {

class Ingest {
public:
    Ingest(Ingest&&) noexcept = default;
    Ingest& operator=(Ingest&& other) noexcept;
    Ingest(const Ingest&) = delete;
    Ingest& operator=(const Ingest&) = delete;
    // Removes the ingest (see remove()).
    ~Ingest();

    // Creates the ingest at `dir` if missing and locks it, waiting for its current holder.
    static Result<Ingest> acquire(std::filesystem::path dir);
    // Locks the existing ingest at `dir` without waiting; nullopt if another holder has it or it
    // disappeared meanwhile.
    static Result<std::optional<Ingest>> try_acquire(std::filesystem::path dir);

    std::filesystem::path data_path() const { return dir_ / "data"; }

    // Removes the data, the lock file and the directory, then releases the lock. Best effort: a
    // leftover is unlocked, so the next open() of the store or writer() of the ref sweeps it.
    void remove();

private:
    Ingest(std::filesystem::path dir, base::UniqueFd lock)
        : dir_(std::move(dir)), lock_(std::move(lock)) {}
    static Result<std::optional<Ingest>> lock(std::filesystem::path dir, bool wait);

    std::filesystem::path dir_;
    base::UniqueFd lock_;  // invalid once removed or moved from
};

}  // namespace grove::store
