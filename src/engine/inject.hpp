#pragma once

// Files written into a run's filesystem before its command starts (ConTree's run `files`).
// Paths are resolved inside the run's rootfs with openat2(RESOLVE_IN_ROOT): a symlink in the
// image, absolute or full of '..', can only ever lead to a file inside the rootfs, never onto the
// host. Missing parent directories are created (0755, root-owned).

#include <string>
#include <sys/types.h>
#include <vector>

#include <grove/result.hpp>

namespace grove::engine {

struct InjectedFile {
    std::string path;  // absolute, inside the sandbox
    std::string content;
    mode_t mode = 0644;
    uid_t uid = 0;
    gid_t gid = 0;
};

// Writes `files` into the directory `rootfs_fd` (the run's mounted overlay), replacing what is
// there.
Result<void> inject_files(int rootfs_fd, const std::vector<InjectedFile>& files);

}  // namespace grove::engine
