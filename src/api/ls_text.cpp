#include "api/ls_text.hpp"

#include <ctime>

#include <fmt/format.h>

namespace grove::api {

std::string human_size(uint64_t bytes) {
    if (bytes < 1024) {
        return fmt::format("{} B", bytes);
    }
    static constexpr const char* kUnits[] = {"KB", "MB", "GB", "TB", "PB"};
    double value = static_cast<double>(bytes) / 1024;
    size_t unit = 0;
    while (value >= 1024 && unit + 1 < std::size(kUnits)) {
        value /= 1024;
        ++unit;
    }
    return fmt::format("{:.2f} {}", value, kUnits[unit]);
}

std::string ls_text(const std::vector<inspect::FileInfo>& entries) {
    uint64_t total = 0;
    for (const auto& entry : entries) {
        total += entry.size;
    }
    std::string out = fmt::format("total {}\n", human_size(total));
    for (const auto& entry : entries) {
        const auto seconds = static_cast<std::time_t>(entry.mtime_ns / 1'000'000'000);
        std::tm tm{};
        ::gmtime_r(&seconds, &tm);
        char when[32] = {};
        std::strftime(when, sizeof(when), "%b %e %H:%M", &tm);
        out += fmt::format("{} {} {} {} {:>10} {} {}{}\n",
                           inspect::mode_string(entry.type, entry.mode), entry.nlink, entry.uid,
                           entry.gid, human_size(entry.size), when, entry.name,
                           entry.symlink_target.empty() ? "" : " -> " + entry.symlink_target);
    }
    return out;
}

}  // namespace grove::api
