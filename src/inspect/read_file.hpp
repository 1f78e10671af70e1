#pragma once

// Streams a regular file of the image, as `cat` inside a container would read it: symlinks are
// followed, but only inside the image (LayerStack's RESOLVE_IN_ROOT rules).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string_view>

#include <grove/result.hpp>

#include "inspect/layer_stack.hpp"

namespace grove::inspect {

// Receives consecutive chunks of a file; an error stops the read and is returned from it.
using ByteSink = std::function<Result<void>(std::span<const std::byte> chunk)>;

// Chunks are this big, so a large file costs few syscalls and sink calls.
constexpr size_t kReadChunkSize = 256 * 1024;

// Sends the bytes of `path` from `offset`, at most `limit` of them, to `sink`, and returns the
// file's whole size (so a ranged reader knows what it is a range of). FailedPrecondition when
// `path` is not a regular file; OutOfRange when `offset` is past its end.
Result<uint64_t> read_file(const LayerStack& stack,
                           std::string_view path,
                           const ByteSink& sink,
                           uint64_t offset = 0,
                           std::optional<uint64_t> limit = std::nullopt);

// The same for a file already opened (LayerStack::open_file); `path` names it in errors.
Result<uint64_t> read_fd(int fd,
                         std::string_view path,
                         const ByteSink& sink,
                         uint64_t offset = 0,
                         std::optional<uint64_t> limit = std::nullopt);

}  // namespace grove::inspect
