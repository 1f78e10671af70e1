#pragma once

// Applying an OCI layer: a tar stream (optionally gzip or zstd compressed) unpacked into its own
// new, empty directory in overlayfs' on-disk form, ready to be stacked as a lower dir.
//
// The tar comes from an untrusted registry and grove runs as root, so:
// - entry names are normalised and refused when empty, absolute, containing '..' or too long;
// - every path is resolved relative to the layer's fd without following any symlink
//   (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), so a symlink from the layer can never
//   redirect a write; symlink targets themselves are stored verbatim (they are resolved inside
//   the container at run time, never by grove);
// - hardlinks must point at an entry of the same layer;
// - device nodes are skipped (the runtime provides /dev), and so are xattrs that would forge
//   overlayfs metadata;
// - the header's sizes are checked against ApplyLimits before anything is written.
//
// OCI whiteouts become overlayfs whiteouts: `dir/.wh.NAME` is a 0/0 character device `dir/NAME`,
// and `dir/.wh..wh..opq` sets trusted.overlay.opaque=y on `dir`. Other `.wh..wh.*` entries (AUFS
// metadata) are ignored.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>

#include <grove/result.hpp>

#include "archive/compression.hpp"
#include "base/digest.hpp"
#include "base/log.hpp"

namespace grove::archive {

struct ApplyLimits {
    uint64_t max_entry_size = 64ULL << 30;   // bytes of one regular file
    uint64_t max_total_size = 256ULL << 30;  // bytes of all regular files together
    uint64_t max_entries = 10'000'000;
    size_t max_path_length = 4096;  // bytes of an entry name as the tar spells it
};

struct ApplyOptions {
    Compression compression = Compression::kNone;
    // With kNone: the tar may be gzip, bzip2, xz or zstd compressed, as its first bytes say (a
    // Docker archive PUT's body, which names no compression). The diff_id is then the hash of
    // the bytes as read.
    bool detect_compression = false;
    ApplyLimits limits;
    // False: a plain tar into a live filesystem (Docker's archive PUT), where `.wh.` names are
    // ordinary files; true: a layer, whose whiteouts become overlayfs' form.
    bool whiteouts = true;
    // Refuse to replace a directory with a non-directory or the other way round (Docker's
    // noOverwriteDirNonDir) instead of replacing it, as a layer does.
    bool keep_dir_kinds = false;
    // Every entry owned by this uid and gid instead of the tar's (Docker's copyUIDGID).
    std::optional<std::pair<uint32_t, uint32_t>> owner;
    // Warnings about skipped entries and xattrs; null for none.
    const base::Logger* log = nullptr;
};

struct ApplyStats {
    uint64_t entries = 0;        // tar entries read, whiteouts and skipped ones included
    uint64_t regular_bytes = 0;  // sizes of the regular files written
    uint64_t whiteouts = 0;      // whiteouts and opaque markers
    uint64_t skipped_devices = 0;
    // sha256 of the whole uncompressed tar stream: the layer's diff_id, to check against the
    // image config. Always set when apply_layer succeeds.
    std::optional<base::Digest> diff_id;
};

// Reads a layer tar from `input_fd` (borrowed; a blob file or a pipe, read sequentially) and
// writes its entries into the directory `dirfd` (borrowed). Bad names and hardlinks are
// InvalidArgument, limits ResourceExhausted, a corrupt or truncated stream DataLoss. On failure
// the directory holds a partial layer: the caller discards it.
Result<ApplyStats> apply_layer(int input_fd, int dirfd, const ApplyOptions& options);

}  // namespace grove::archive
