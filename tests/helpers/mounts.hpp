#pragma once

#include <filesystem>
#include <string>

namespace grove::testing {

// The lines of this process's mountinfo that name a path under `dir`. Leak checks compare these
// rather than the whole table: other tests mount elsewhere on the host at the same time (ctest -j).
std::string mounts_under(const std::filesystem::path& dir);

}  // namespace grove::testing
