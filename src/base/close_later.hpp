#pragma once

// Closing some fds blocks: the last close of an inotify instance waits for an SRCU grace period
// in the kernel (fsnotify_destroy_group), 7-16 ms here, which `docker run --rm` paid between its
// container's exit and its removal. close_later hands such an fd to one background thread.

#include "base/unique_fd.hpp"

namespace grove::base {

// Closes `fd` soon, on a thread of its own; fds still queued at exit are closed then.
void close_later(UniqueFd fd);

}  // namespace grove::base
