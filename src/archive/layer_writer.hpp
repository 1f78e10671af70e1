#pragma once

// LayerWriter writes the entries of one layer tar into the layer directory, one at a time, in
// overlayfs' on-disk form (see apply_layer.hpp for the rules). Each entry's name and limits are
// checked before it touches the disk; every path goes through LayerTree.

#include <string>
#include <string_view>
#include <vector>

#include <grove/result.hpp>

#include "archive/apply_layer.hpp"
#include "archive/entry_metadata.hpp"
#include "archive/layer_tree.hpp"
#include "archive/tar_reader.hpp"

namespace grove::archive {

class LayerWriter {
public:
    // `root_fd` is borrowed: the layer directory, opened O_RDONLY | O_DIRECTORY.
    LayerWriter(int root_fd, const ApplyOptions& options) : tree_(root_fd), options_(options) {}

    // Writes `entry`, the current entry of `reader` (whose data it consumes).
    Result<void> write(TarReader& reader, archive_entry* entry);
    // Sets the directories' times; call once after the last entry.
    Result<void> finish();

    const ApplyStats& stats() const { return stats_; }

private:
    Result<void> check_limits(archive_entry* entry, std::string_view raw);
    Result<void> write_entry(TarReader& reader, archive_entry* entry, std::string_view raw);
    Result<void> write_whiteout(std::string_view parent_path, std::string_view base);
    Result<void> write_directory(int parent, const char* base, archive_entry* entry);
    Result<void> write_regular(TarReader& reader,
                               int parent,
                               const char* base,
                               archive_entry* entry);
    Result<void> write_hardlink(int parent, const char* base, const char* target);
    Result<void> write_by_name(int parent, const char* base, archive_entry* entry);
    // With ApplyOptions::keep_dir_kinds, InvalidArgument when `base` in `parent` is a directory.
    Result<void> check_not_directory(int parent, const char* base) const;
    void skip(std::string_view what, std::string_view raw) const;

    // Creates `base` in `parent` with `create` (a syscall returning -1 and errno on failure);
    // when something already has that name (an earlier entry of the layer), removes it and
    // creates again.
    template <typename Create>
    Result<void> create_replacing(int parent, const char* base, Create create);

    LayerTree tree_;
    const ApplyOptions& options_;
    ApplyStats stats_;
    // The current entry's clean name and its hardlink target's, reused across entries.
    std::string name_;
    std::string link_name_;
    struct DirTimes {
        std::string path;
        EntryTimes times;
    };
    // Directory times are set last: creating entries in a directory changes its mtime.
    std::vector<DirTimes> dir_times_;
};

}  // namespace grove::archive
