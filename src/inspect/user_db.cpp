#include "inspect/user_db.hpp"

#include <algorithm>
#include <charconv>

#include "base/error.hpp"
#include "inspect/read_file.hpp"

namespace grove::inspect {
namespace {

// Real account databases are kilobytes; a bigger one is read only this far, so a hostile image
// cannot make a listing allocate without bound.
constexpr uint64_t kMaxDbSize = 4 << 20;

// "name:x:id:..." -> {id, name}; the numeric id is the third field of both passwd and group.
// Like getpwuid, the first line for an id wins.
void parse_db(std::string_view text, std::unordered_map<uint32_t, std::string>& names) {
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
        const std::string_view id_text =
            line.substr(second + 1, line.find(':', second + 1) - (second + 1));
        uint32_t id = 0;
        const auto [end, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
        if (ec != std::errc() || end != id_text.data() + id_text.size() || id_text.empty()) {
            continue;
        }
        names.emplace(id, std::string(line.substr(0, first)));
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
    parse_db(passwd, db.users_);
    parse_db(group, db.groups_);
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

}  // namespace grove::inspect
