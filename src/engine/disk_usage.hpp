#pragma once

#include <cstdint>
#include <filesystem>

#include <grove/result.hpp>

namespace grove::engine {

// Bytes of disk a directory tree takes (allocated blocks, so a sparse file counts what it holds,
// not its length), without following symlinks or crossing mounts. A run's upper directory holds
// exactly the run's changes, so this is the size its layer would have.
Result<uint64_t> disk_usage(const std::filesystem::path& dir);

}  // namespace grove::engine
