#include "runtime/rootfs/tmpfs_options.hpp"

#include <algorithm>
#include <sys/mount.h>
#include <utility>
#include <vector>

#include "base/error.hpp"

namespace grove::runtime::rootfs {
namespace {

struct FlagWord {
    std::string_view word;
    unsigned long set;
    unsigned long clear;
};

constexpr FlagWord kFlagWords[] = {
    {"ro", MS_RDONLY, 0},           {"rw", 0, MS_RDONLY},
    {"noexec", MS_NOEXEC, 0},       {"exec", 0, MS_NOEXEC},
    {"nosuid", MS_NOSUID, 0},       {"suid", 0, MS_NOSUID},
    {"nodev", MS_NODEV, 0},         {"dev", 0, MS_NODEV},
    {"sync", MS_SYNCHRONOUS, 0},    {"async", 0, MS_SYNCHRONOUS},
    {"dirsync", MS_DIRSYNC, 0},     {"noatime", MS_NOATIME, 0},
    {"atime", 0, MS_NOATIME},       {"nodiratime", MS_NODIRATIME, 0},
    {"diratime", 0, MS_NODIRATIME}, {"relatime", MS_RELATIME, 0},
    {"norelatime", 0, MS_RELATIME}, {"strictatime", MS_STRICTATIME, 0},
};

constexpr std::string_view kPropagation[] = {"private", "rprivate", "shared",     "rshared",
                                             "slave",   "rslave",   "unbindable", "runbindable"};

bool all_of_chars(std::string_view text, std::string_view allowed) {
    return !text.empty() && text.find_first_not_of(allowed) == std::string_view::npos;
}

// The value tmpfs accepts for `key`: sizes with an optional k/m/g (or %) suffix, an octal mode,
// decimal ids and counts.
bool valid_value(std::string_view key, std::string_view value) {
    constexpr std::string_view kDigits = "0123456789";
    if (key == "size" || key == "nr_blocks" || key == "nr_inodes") {
        if (!value.empty() && std::string_view("kKmMgG%").find(value.back()) != std::string::npos) {
            value.remove_suffix(1);
        }
        return all_of_chars(value, kDigits);
    }
    if (key == "mode") {
        return value.size() <= 4 && all_of_chars(value, "01234567");
    }
    if (key == "uid" || key == "gid") {
        return all_of_chars(value, kDigits);
    }
    return key == "huge" &&
           (value == "never" || value == "always" || value == "within_size" || value == "advise");
}

}  // namespace

Result<TmpfsOptions> parse_tmpfs_options(std::string_view options) {
    TmpfsOptions out{.flags = MS_NOEXEC | MS_NOSUID | MS_NODEV};
    std::vector<std::pair<std::string, std::string>> data;  // in order, the last of a key wins
    while (!options.empty()) {
        const size_t comma = options.find(',');
        const std::string_view word = options.substr(0, comma);
        options = comma == std::string_view::npos ? std::string_view() : options.substr(comma + 1);
        if (word.empty()) {
            continue;
        }
        if (const auto flag = std::ranges::find(kFlagWords, word, &FlagWord::word);
            flag != std::end(kFlagWords)) {
            out.flags = (out.flags | flag->set) & ~flag->clear;
            continue;
        }
        if (std::ranges::find(kPropagation, word) != std::end(kPropagation)) {
            continue;
        }
        const size_t equals = word.find('=');
        const std::string_view key = word.substr(0, equals);
        const std::string_view value =
            equals == std::string_view::npos ? std::string_view() : word.substr(equals + 1);
        if (!valid_value(key, value)) {
            return base::make_error(Code::kInvalidArgument, "invalid tmpfs option \"{}\"", word);
        }
        std::erase_if(data, [&](const auto& entry) { return entry.first == key; });
        data.emplace_back(key, value);
    }
    for (const auto& [key, value] : data) {
        out.data += (out.data.empty() ? "" : ",") + key + "=" + value;
    }
    return out;
}

}  // namespace grove::runtime::rootfs
