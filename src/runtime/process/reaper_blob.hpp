#pragma once

// The reaper program (reaper_main.cpp) linked into this library as bytes, and a sealed memfd of
// it that container inits exec with execveat(AT_EMPTY_PATH): nothing to install or find on
// disk, and a container cannot reach or change it.

#include <grove/result.hpp>

namespace grove::runtime::process::detail {

// The memfd (CLOEXEC, sealed against writes), created on first use and kept for the process's
// lifetime.
Result<int> reaper_fd();

}  // namespace grove::runtime::process::detail
