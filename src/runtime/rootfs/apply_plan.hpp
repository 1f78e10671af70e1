#pragma once

#include "runtime/rootfs/mount_plan.hpp"

namespace grove::runtime::rootfs {

// Applies `plan` in the calling process, which must already be in its own mount namespace
// (after clone(CLONE_NEWNS) or unshare). Async-signal-safe: raw syscalls only, no allocation,
// so it may run in a child cloned from a multi-threaded process. Returns 0, or -errno with the
// index of the failing operation in *failed_step (left alone on success). On success the
// process's root and cwd are the container's "/".
int apply_plan(const Plan& plan, int* failed_step) noexcept;

}  // namespace grove::runtime::rootfs
