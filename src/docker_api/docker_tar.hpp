#pragma once

// The little of the tar format `docker save` archives need: writing ustar entries (names of at
// most 100 bytes, which the archive's own names are: "<64 hex>/layer.tar"), and finding one
// top-level file ("manifest.json") in an archive a client uploaded.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <grove/result.hpp>

namespace grove::docker_api {

using TarSink = std::function<Result<void>(std::string_view)>;

// The 512-byte header of a regular file (typeflag '0') or a directory ('5', size 0).
std::string tar_header(std::string_view name, uint64_t size, bool directory, int64_t mtime);
// The zero bytes that pad an entry of `size` bytes to a 512-byte boundary.
std::string tar_padding(uint64_t size);
// The two zero blocks that end an archive.
std::string tar_end();

// Writes a regular file entry with `data`.
Result<void> write_tar_file(const TarSink& sink, std::string_view name, std::string_view data);
// Writes a regular file entry with the contents of `fd` (borrowed, read from offset 0).
Result<void> write_tar_file_fd(const TarSink& sink, std::string_view name, int fd);

// The contents of the regular file `name` in the tar file `fd` (borrowed), if there is one of at
// most `max_size` bytes. InvalidArgument when `fd` is not a tar archive.
Result<std::optional<std::string>> read_tar_file(int fd, std::string_view name, uint64_t max_size);

}  // namespace grove::docker_api
