#pragma once

#include <filesystem>
#include <initializer_list>

namespace grove::testing {

// A minimal root filesystem at `rootfs` for runtime tests: the host's static /bin/busybox
// (busybox-static) with a symlink per tool in `tools`, and /mnt and a sticky /tmp.
void make_busybox_rootfs(const std::filesystem::path& rootfs,
                         std::initializer_list<const char*> tools);

}  // namespace grove::testing
