#pragma once

// Gzip compression of a whole file, for layer blobs grove makes itself (a push of an image that
// has no stored blob). The output depends only on the input: no name and no time in the gzip
// header, so the same layer compresses to the same blob digest every time.

#include <cstdint>

#include <grove/result.hpp>

namespace grove::archive {

// Compresses `in_fd` (read sequentially to its end) into `out_fd` (written sequentially); both
// borrowed. Returns the compressed size.
Result<uint64_t> gzip_fd(int in_fd, int out_fd);

}  // namespace grove::archive
