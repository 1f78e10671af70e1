#pragma once

// How the CLI shows things to people (tables) and programs (--json).

#include <chrono>
#include <cstdint>
#include <string>

#include "base/json.hpp"
#include "inspect/file_info.hpp"
#include "store/metadata/records.hpp"

namespace grove::cli {

// "1.5 MiB", "64 MiB", "512 B"
std::string human_size(uint64_t bytes);
// "just now", "5 minutes ago", "3 days ago"
std::string time_ago(int64_t then_ns, int64_t now_ns);
// RFC 3339 in UTC with nanoseconds: "2024-01-02T03:04:05.000000006Z"
std::string rfc3339(int64_t ns);
base::Json file_json(const inspect::FileInfo& info);
// An image as the CLI's and API's JSON show it.
base::Json image_json(const store::ImageRecord& image);
int64_t now_ns();
// Nanoseconds since the epoch, as the two functions above take them.
int64_t to_ns(std::chrono::system_clock::time_point time);

}  // namespace grove::cli
