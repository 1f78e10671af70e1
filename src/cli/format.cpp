#include "cli/format.hpp"

#include <array>
#include <chrono>
#include <ctime>

#include <fmt/format.h>

namespace grove::cli {

std::string human_size(uint64_t bytes) {
    static constexpr std::array kUnits = {"B", "KiB", "MiB", "GiB", "TiB"};
    double value = static_cast<double>(bytes);
    size_t unit = 0;
    while (value >= 1024 && unit + 1 < kUnits.size()) {
        value /= 1024;
        ++unit;
    }
    if (unit == 0) {
        return fmt::format("{} B", bytes);
    }
    return value < 10 ? fmt::format("{:.1f} {}", value, kUnits[unit])
                      : fmt::format("{:.0f} {}", value, kUnits[unit]);
}

std::string time_ago(int64_t then_ns, int64_t now_ns) {
    const int64_t seconds = (now_ns - then_ns) / 1'000'000'000;
    struct Step {
        int64_t seconds;
        const char* unit;
    };
    static constexpr std::array kSteps = {Step{86400 * 7, "week"}, Step{86400, "day"},
                                          Step{3600, "hour"}, Step{60, "minute"},
                                          Step{1, "second"}};
    if (seconds < 2) {
        return "just now";
    }
    for (const auto& step : kSteps) {
        if (seconds >= step.seconds) {
            const int64_t n = seconds / step.seconds;
            return fmt::format("{} {}{} ago", n, step.unit, n == 1 ? "" : "s");
        }
    }
    return "just now";
}

std::string rfc3339(int64_t ns) {
    const std::time_t seconds = static_cast<std::time_t>(ns / 1'000'000'000);
    std::tm tm{};
    ::gmtime_r(&seconds, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z", tm.tm_year + 1900,
                       tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                       ns % 1'000'000'000);
}

namespace {

const char* type_name(inspect::EntryType type) {
    using inspect::EntryType;
    switch (type) {
        case EntryType::kFile:
            return "file";
        case EntryType::kDirectory:
            return "directory";
        case EntryType::kSymlink:
            return "symlink";
        case EntryType::kFifo:
            return "fifo";
        case EntryType::kSocket:
            return "socket";
        case EntryType::kCharDevice:
            return "char_device";
        case EntryType::kBlockDevice:
            return "block_device";
    }
    return "unknown";
}

}  // namespace

base::Json file_json(const inspect::FileInfo& info) {
    base::Json json = {{"path", info.path},
                       {"name", info.name},
                       {"type", type_name(info.type)},
                       {"mode", fmt::format("{:04o}", info.mode)},
                       {"size", info.size},
                       {"uid", info.uid},
                       {"gid", info.gid},
                       {"owner", info.owner ? base::Json(*info.owner) : base::Json()},
                       {"group", info.group ? base::Json(*info.group) : base::Json()},
                       {"mtime", rfc3339(info.mtime_ns)},
                       {"nlink", info.nlink}};
    if (!info.symlink_target.empty()) {
        json["target"] = info.symlink_target;
    }
    return json;
}

base::Json image_json(const store::ImageRecord& image) {
    base::Json json = {{"uuid", image.uuid},
                       {"tag", image.tag ? base::Json(*image.tag) : base::Json()},
                       {"parent", image.parent ? base::Json(*image.parent) : base::Json()},
                       {"kind", store::image_kind_name(image.kind)},
                       {"created", rfc3339(image.created_ns)},
                       {"operation", image.operation},
                       {"size", image.size_logical},
                       {"size_physical", image.size_physical}};
    if (image.manifest_digest) {
        json["manifest_digest"] = *image.manifest_digest;
    }
    if (image.platform && !image.platform->empty()) {
        json["platform"] = *image.platform;
    }
    return json;
}

int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

int64_t to_ns(std::chrono::system_clock::time_point time) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
}

}  // namespace grove::cli
