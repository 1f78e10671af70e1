#include "helpers/busybox_rootfs.hpp"

namespace grove::testing {

namespace fs = std::filesystem;

void make_busybox_rootfs(const fs::path& rootfs, std::initializer_list<const char*> tools) {
    fs::create_directories(rootfs / "bin");
    fs::create_directories(rootfs / "mnt");
    fs::create_directories(rootfs / "tmp");
    fs::permissions(rootfs / "tmp", fs::perms::all | fs::perms::sticky_bit);
    fs::copy_file("/bin/busybox", rootfs / "bin/busybox");
    for (const char* tool : tools) {
        fs::create_symlink("busybox", rootfs / "bin" / tool);
    }
}

}  // namespace grove::testing
