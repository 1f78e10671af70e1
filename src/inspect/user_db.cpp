#include "inspect/user_db.hpp"

#include <algorithm>

#include "base/error.hpp"
#include "base/parse_number.hpp"
#include "inspect/read_file.hpp"

namespace grove::inspect {
namespace {

// Real account databases are kilobytes; a bigger one is read only this far, so a hostile image
// cannot make a listing allocate without bound.
constexpr uint64_t kMaxDbSize = 4 << 20;

std::optional<uint32_t> parse_id(std::string_view text) {
    return base::parse_number<uint32_t>(text);
}

// "name:x:id:gid:..." -> names[id] = name and accounts[name] = {id, gid}; the numeric id is the
// third field of both passwd and group, the fourth is passwd's primary group. Like getpwuid
// and getpwnam, the first line for an id or a name wins.
void parse_db(std::string_view text,
              std::unordered_map<uint32_t, std::string>& names,
              std::unordered_map<std::string, UserDb::Account>& accounts) {
    while (!text.empty()) {
        const size_t eol = std::min(text.find('\n'), text.size());
        const std::string_view line = text.substr(0, eol);
        text.remove_prefix(std::min(eol + 1, text.size()));
        if (line.empty() || line.front() == '#') {
            continue;
        }
        const size_t first = line.find(':');
        const size_t second = first == std::string_view::npos ? first : line.find(':', first + 1);
        if (first == 0 || second == std::string_view::npos) {
            continue;
        }
        const size_t third = line.find(':', second + 1);
        const auto id = parse_id(line.substr(second + 1, third - (second + 1)));
        if (!id) {
            continue;
        }
        std::optional<uint32_t> group;
        if (third != std::string_view::npos) {
            const size_t fourth = line.find(':', third + 1);
            group = parse_id(line.substr(third + 1, fourth - (third + 1)));
        }
        std::string name(line.substr(0, first));
        names.emplace(*id, name);
        accounts.emplace(std::move(name), UserDb::Account{*id, group});
    }
}

// The text of `path` in the image, empty when the image has no such regular file.
Result<std::string> read_db(const LayerStack& stack, std::string_view path) {
    std::string text;
    auto read = read_file(
        stack, path,
        [&](std::span<const std::byte> chunk) -> Result<void> {
            text.append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
            return {};
        },
        0, kMaxDbSize);
    if (!read) {
        // Missing, a directory, a dangling or looping link: the image's problem, not ours.
        const Code code = read.error().code();
        if (code == Code::kNotFound || code == Code::kFailedPrecondition ||
            code == Code::kInvalidArgument) {
            return std::string();
        }
        return std::move(read).error();
    }
    if (*read > kMaxDbSize) {
        text.resize(text.rfind('\n') + 1);  // drop the cut line; npos + 1 is 0
    }
    return text;
}

}  // namespace

Result<UserDb> UserDb::load(const LayerStack& stack) {
    GROVE_ASSIGN_OR_RETURN(const std::string passwd, read_db(stack, "/etc/passwd"));
    GROVE_ASSIGN_OR_RETURN(const std::string group, read_db(stack, "/etc/group"));
    return parse(passwd, group);
}

UserDb UserDb::parse(std::string_view passwd, std::string_view group) {
    UserDb db;
    parse_db(passwd, db.users_, db.user_accounts_);
    parse_db(group, db.groups_, db.group_accounts_);
    return db;
}

std::optional<std::string> UserDb::user(uid_t uid) const {
    const auto it = users_.find(uid);
    return it == users_.end() ? std::nullopt : std::optional(it->second);
}

std::optional<std::string> UserDb::group(gid_t gid) const {
    const auto it = groups_.find(gid);
    return it == groups_.end() ? std::nullopt : std::optional(it->second);
}

std::optional<UserDb::Account> UserDb::find_user(std::string_view name) const {
    const auto it = user_accounts_.find(std::string(name));
    return it == user_accounts_.end() ? std::nullopt : std::optional(it->second);
}

std::optional<uint32_t> UserDb::find_group(std::string_view name) const {
    const auto it = group_accounts_.find(std::string(name));
    return it == group_accounts_.end() ? std::nullopt : std::optional(it->second.id);
}

std::optional<uint32_t> UserDb::primary_group(uint32_t uid) const {
    for (const auto& [name, account] : user_accounts_) {
        if (account.id == uid) {
            return account.group;
        }
    }
    return std::nullopt;
}

}  // namespace grove::inspect
