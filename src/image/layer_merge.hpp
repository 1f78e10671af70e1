#pragma once

// merge_layers() writes the filesystem that an overlay of some layers shows into one new
// directory: the merged layer that flattening (flatten.cpp) mounts in place of a deep chain's
// bottom. It applies overlayfs' rules as the kernel does on lookup and readdir:
// - the topmost entry of a name wins; a non-directory hides everything below it;
// - a whiteout (0/0 character device) hides the name in every layer below it;
// - directories of the same path merge, down to the first opaque one
//   (trusted.overlay.opaque=y), a whiteout or a non-directory; the topmost gives the merged
//   directory its owner, mode, xattrs and times;
// - the root always merges every layer: overlayfs ignores an opaque marker on a layer's root.
// The result holds no whiteout and no opaque marker: it is a plain tree, meant to be the bottom
// layer of a stack.
//
// Directories are created with their metadata (owner, mode, xattrs but overlay's bookkeeping,
// atime and mtime); everything else is a hardlink to the layer's own inode, so a merge costs
// O(entries) and copies no data. Layers are immutable, and overlayfs never writes to a lower
// inode (a copy-up makes a new upper inode), so sharing inodes is safe. What changes is the link
// count containers see on such files (each merged layer adds one link), as with any hardlink
// farm. When the filesystem refuses one more link (EMLINK: ext4 allows 65,000), the entry is
// copied instead (a reflink where the filesystem can), keeping hardlinks within the copy.
//
// Names are read as they are; nothing inside a layer is ever followed: every open is beneath a
// layer root without symlinks, and symlinks are linked or copied, never resolved.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <vector>

#include <grove/result.hpp>

namespace grove::image {

enum class MergeLinks {
    kHardlink,  // link every non-directory, copy only where linking fails with EMLINK
    kCopy,      // copy every non-directory (tests of the fallback; a store on another fs)
};

struct MergeOptions {
    MergeLinks links = MergeLinks::kHardlink;
    // Whiteouts and opaque markers are copied rather than applied: merging one layer with this
    // and kCopy copies it in layer form (a container's upper committed as a new layer while the
    // container keeps writing to its own).
    bool keep_overlay_form = false;
};

struct MergeStats {
    size_t directories = 0;
    size_t linked = 0;  // non-directories linked to their layer's inode
    size_t copied = 0;  // non-directories copied (EMLINK, or MergeLinks::kCopy)
    uint64_t regular_bytes = 0;
};

// Creates `dest` (which must not exist; its parent must) holding the merge of
// `layers_top_first`, directories in overlayfs' layer form, on the same filesystem as `dest`.
// On failure `dest` is left half-built for the caller to remove. Makes nothing durable: the
// caller syncs.
Result<MergeStats> merge_layers(const std::vector<std::filesystem::path>& layers_top_first,
                                const std::filesystem::path& dest,
                                const MergeOptions& options = {});

}  // namespace grove::image
