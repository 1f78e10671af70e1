#pragma once

// For runtime tests that run on a plain directory instead of an overlay: its missing mount points
// created, then its mount plan. Header-only: its users link grove_runtime_rootfs themselves.

#include <fcntl.h>

#include <grove/result.hpp>

#include "base/unique_fd.hpp"
#include "runtime/rootfs/mount_plan.hpp"

namespace grove::testing {

inline Result<runtime::rootfs::Plan> plan_for_directory(
    const runtime::rootfs::RootfsOptions& options) {
    GROVE_ASSIGN_OR_RETURN(auto root_fd,
                           base::UniqueFd::open(options.rootfs.string(), O_PATH | O_DIRECTORY));
    GROVE_TRY(runtime::rootfs::prepare_mountpoints(root_fd.get(), options));
    return runtime::rootfs::build_plan(options);
}

}  // namespace grove::testing
