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

    struct Account {
        uint32_t id = 0;
        std::optional<uint32_t> group;  // passwd's primary group; unset for groups
    };
    // By name, as getpwnam/getgrnam would answer inside the image.
    std::optional<Account> find_user(std::string_view name) const;
    std::optional<uint32_t> find_group(std::string_view name) const;
    // The primary group of the first passwd entry with `uid`.
    std::optional<uint32_t> primary_group(uint32_t uid) const;

private:
    std::unordered_map<uint32_t, std::string> users_;
    std::unordered_map<uint32_t, std::string> groups_;
    std::unordered_map<std::string, Account> user_accounts_;
    std::unordered_map<std::string, Account> group_accounts_;
};

}  // namespace grove::inspect
