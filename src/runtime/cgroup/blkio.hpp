#pragma once

// Block I/O counters from the cgroup files that hold them, in Docker's blkio_stats shape:
// - v1 blkio.throttle.io_service_bytes(_recursive) and io_serviced(_recursive): lines
//   "MAJ:MIN Op VALUE", then "Total VALUE" (no device, dropped);
// - v2 io.stat: lines "MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N", of which
//   dockerd reports rbytes/wbytes as the bytes and rios/wios as the operations, with the ops
//   "read" and "write".
// Lines that do not parse are skipped: these files are the kernel's, and new fields come.

#include <string_view>
#include <vector>

#include "cgroup.hpp"

namespace grove::runtime::cgroup {

std::vector<BlkioEntry> parse_blkio_v1(std::string_view text);

struct IoStat {
    std::vector<BlkioEntry> service_bytes;
    std::vector<BlkioEntry> serviced;
};
IoStat parse_io_stat(std::string_view text);

}  // namespace grove::runtime::cgroup
