#pragma once

// Names of layer entries. A tar from a registry is untrusted: its names must stay inside the
// layer directory, so they are normalised and checked before anything touches the disk.

#include <cstddef>
#include <string>
#include <string_view>

#include <grove/result.hpp>

namespace grove::archive {

// Writes the clean relative form of the tar entry name `raw` into `out` (reusing its storage):
// "./" prefixes, empty and "." components and trailing slashes are dropped, so "./a//b/./c/"
// becomes "a/b/c" and "./" becomes "" (the layer root). Fails with InvalidArgument naming the
// entry for an empty name, an absolute path, a ".." component, an embedded NUL, or a name longer
// than `max_length`. `what` starts the message: "layer entry", "hardlink target".
Result<void> normalise_entry_name(std::string_view raw,
                                  size_t max_length,
                                  std::string_view what,
                                  std::string& out);

// The directory part of a clean name ("" for a top-level entry) and its last component.
struct SplitName {
    std::string_view parent;
    std::string_view base;
};
SplitName split_entry_name(std::string_view clean);

}  // namespace grove::archive
