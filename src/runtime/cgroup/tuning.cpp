#include "runtime/cgroup/tuning.hpp"

#include <fstream>
#include <sstream>
#include <sys/mount.h>
#include <vector>

#include "base/error.hpp"

namespace grove::runtime::cgroup {
namespace {

constexpr std::string_view kFavorDynMods = "favordynmods";

std::vector<std::string_view> split(std::string_view text, char sep) {
    std::vector<std::string_view> parts;
    while (!text.empty()) {
        const size_t at = text.find(sep);
        parts.push_back(text.substr(0, at));
        text = at == std::string_view::npos ? std::string_view() : text.substr(at + 1);
    }
    return parts;
}

// mountinfo escapes space, tab, newline and backslash in paths as \ooo.
std::string unescape(std::string_view field) {
    std::string out;
    for (size_t i = 0; i < field.size(); ++i) {
        if (field[i] == '\\' && i + 3 < field.size()) {
            const std::string_view digits = field.substr(i + 1, 3);
            if (digits.size() == 3 && digits.find_first_not_of("01234567") == std::string::npos) {
                out += static_cast<char>((digits[0] - '0') * 64 + (digits[1] - '0') * 8 +
                                         (digits[2] - '0'));
                i += 3;
                continue;
            }
        }
        out += field[i];
    }
    return out;
}

}  // namespace

std::optional<Cgroup2Mount> find_cgroup2_mount(std::string_view mountinfo) {
    for (const std::string_view line : split(mountinfo, '\n')) {
        // id parent major:minor root mount-point options [optional...] - fstype source super
        const std::vector<std::string_view> fields = split(line, ' ');
        size_t dash = 6;
        while (dash < fields.size() && fields[dash] != "-") {
            ++dash;
        }
        if (dash + 3 < fields.size() && fields[dash + 1] == "cgroup2") {
            return Cgroup2Mount{unescape(fields[4]), std::string(fields[5]),
                                std::string(fields[dash + 3])};
        }
    }
    return std::nullopt;
}

unsigned long remount_flags(std::string_view mount_options) {
    static constexpr std::pair<std::string_view, unsigned long> kFlags[] = {
        {"ro", MS_RDONLY},         {"nosuid", MS_NOSUID},          {"nodev", MS_NODEV},
        {"noexec", MS_NOEXEC},     {"noatime", MS_NOATIME},        {"nodiratime", MS_NODIRATIME},
        {"relatime", MS_RELATIME}, {"strictatime", MS_STRICTATIME}};
    unsigned long flags = MS_REMOUNT;
    for (const std::string_view option : split(mount_options, ',')) {
        for (const auto& [name, flag] : kFlags) {
            flags |= option == name ? flag : 0;
        }
    }
    return flags;
}

std::string favordynmods_remount_data(std::string_view super_options) {
    std::string data;
    for (const std::string_view option : split(super_options, ',')) {
        if (option == "rw" || option == "ro" || option == kFavorDynMods) {
            continue;
        }
        data.append(option).append(",");
    }
    return data.append(kFavorDynMods);
}

Result<std::optional<std::filesystem::path>> favor_dynamic_modifications() {
    std::ifstream in("/proc/self/mountinfo");
    std::stringstream text;
    text << in.rdbuf();
    const auto mount = find_cgroup2_mount(text.str());
    if (!mount) {
        return std::optional<std::filesystem::path>();
    }
    for (const std::string_view option : split(mount->super_options, ',')) {
        if (option == kFavorDynMods) {
            return std::optional(mount->mount_point);
        }
    }
    const std::string data = favordynmods_remount_data(mount->super_options);
    if (::mount(nullptr, mount->mount_point.c_str(), nullptr, remount_flags(mount->mount_options),
                data.c_str()) != 0) {
        return base::last_errno_error("remount '{}' with '{}'", mount->mount_point.string(), data);
    }
    return std::optional(mount->mount_point);
}

}  // namespace grove::runtime::cgroup
