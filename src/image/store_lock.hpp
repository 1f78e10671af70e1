#pragma once

// StoreLock is a flock on <root>/store.lock that keeps garbage collection and crash recovery
// away from work in flight, across every process sharing the store: an import holds it shared
// from its first download until its image is recorded (so GC never deletes a blob or layer that
// an import is about to reference), while GC and recovery need it exclusive. It plays the role of
// containerd's leases with one lock.

#include <filesystem>
#include <optional>

#include <grove/result.hpp>

#include "base/unique_fd.hpp"

namespace grove::image {

class StoreLock {
public:
    enum class Mode { kShared, kExclusive };

    // Blocks until the lock is held in `mode`.
    static Result<StoreLock> acquire(const std::filesystem::path& root, Mode mode);
    // nullopt when another process holds it in a conflicting mode.
    static Result<std::optional<StoreLock>> try_acquire(const std::filesystem::path& root,
                                                        Mode mode);

private:
    explicit StoreLock(base::UniqueFd fd) : fd_(std::move(fd)) {}
    // flock with `extra_flags` (LOCK_NB or 0); nullopt when LOCK_NB found it taken.
    static Result<std::optional<StoreLock>> lock(const std::filesystem::path& root,
                                                 Mode mode,
                                                 int extra_flags);

    base::UniqueFd fd_;  // closing it releases the lock
};

}  // namespace grove::image
