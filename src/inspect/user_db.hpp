#pragma once

// UserDb maps numeric owners to names with the image's own /etc/passwd and /etc/group, read
// through the layer stack, never the host's (whose names would be wrong for the image, and whose
// NSS modules must not run on the image's behalf). Both files are parsed leniently, as image
// contents are untrusted: comments, short lines and garbage are skipped, and when a file is
// absent or not a regular file the database simply has no names for it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <unordered_map>

#include <grove/result.hpp>

#include "inspect/layer_stack.hpp"

namespace grove::inspect {

class UserDb {
public:
    UserDb() = default;

    static Result<UserDb> load(const LayerStack& stack);
    // Builds a database from the text of passwd and group files (exposed for tests).
    static UserDb parse(std::string_view passwd, std::string_view group);

    std::optional<std::string> user(uid_t uid) const;
    std::optional<std::string> group(gid_t gid) const;

private:
    std::unordered_map<uint32_t, std::string> users_;
    std::unordered_map<uint32_t, std::string> groups_;
};

}  // namespace grove::inspect
