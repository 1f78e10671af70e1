#include "engine/disk_usage.hpp"

#include <ftw.h>

#include "base/error.hpp"

namespace grove::engine {
namespace {

// nftw's callback has no user pointer; each thread walks with its own total.
thread_local uint64_t t_total = 0;

int add_entry(const char*, const struct stat* st, int, FTW*) {
    t_total += static_cast<uint64_t>(st->st_blocks) * 512;
    return 0;
}

}  // namespace

Result<uint64_t> disk_usage(const std::filesystem::path& dir) {
    t_total = 0;
    if (::nftw(dir.c_str(), add_entry, 64, FTW_PHYS | FTW_MOUNT) != 0) {
        return base::last_errno_error("measure '{}'", dir.string());
    }
    return t_total;
}

}  // namespace grove::engine
