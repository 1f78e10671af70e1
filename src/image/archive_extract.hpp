#pragma once

// Helpers for the sources that read image archives and tarballs given on the command line
// (oci-archive, docker-archive, rootfs). Those files are untrusted like any registry blob, so an
// archive is unpacked with archive::apply_layer's rules (no '..', no absolute names, no write
// through a symlink, no device nodes) into a private directory, and names read from an archive's
// own metadata are resolved beneath it without ever leaving it.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <grove/result.hpp>

#include "archive/compression.hpp"
#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"

namespace grove::image {

// The compression of the file `fd` by its magic bytes: gzip (1f 8b), zstd (28 b5 2f fd), else
// none. Reads with pread, so the file offset is left alone.
Result<archive::Compression> sniff_compression(int fd);

// The OCI layer media type of a tar with `compression`.
std::string_view layer_media_type(archive::Compression compression);

struct ExtractedArchive {
    base::TempDir temp;  // mode 0700: nobody else can reach `dir`, whatever modes the tar set
    std::filesystem::path dir;
    base::UniqueFd dir_fd;
};

// Unpacks the regular file `file` (a plain, gzip or zstd tar) into `dir` of a new temporary
// directory under `scratch` ($TMPDIR when empty). A name escaping the directory is
// InvalidArgument; the temporary directory is gone on failure.
Result<ExtractedArchive> extract_archive(const std::filesystem::path& file,
                                         const std::filesystem::path& scratch);

// Opens the regular file `path`, a name an archive's own metadata gave, beneath `dir_fd`: an
// absolute name, a '..' component or a symlink leading out is InvalidArgument. Symlinks that
// stay inside are followed (docker save links identical layers to each other).
Result<base::UniqueFd> open_beneath(int dir_fd, std::string_view path);

// The names in the directory `dir_fd` except '.' and '..', sorted bytewise.
Result<std::vector<std::string>> list_directory(int dir_fd);

// Fails with InvalidArgument unless the OCI layout in `dir_fd` (oci-layout, index.json and all of
// blobs/) consists of regular files and directories only: LayoutSource opens those by name, so a
// symlink planted there could lead it to a file outside the archive.
Result<void> check_layout_tree(int dir_fd);

}  // namespace grove::image
