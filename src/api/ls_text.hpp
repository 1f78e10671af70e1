#pragma once

// The plain-text directory listing of GET /v1/inspect/{uuid}/list?text (contree-cli's `ls`,
// contree-mcp's image_ls resource): `ls -l` with human sizes, numeric owners and a total line:
//   total 5.46 KB
//   -rw-r--r-- 1 0 0   1.17 KB Jan  1 00:00 passwd
//   lrwxrwxrwx 1 0 0      7 B Jan  1 00:00 sbin -> bin

#include <string>
#include <vector>

#include "inspect/file_info.hpp"

namespace grove::api {

std::string ls_text(const std::vector<inspect::FileInfo>& entries);
// "512 B", "1.17 KB", "3.00 MB" (powers of 1024).
std::string human_size(uint64_t bytes);

}  // namespace grove::api
