#pragma once

// The query parameters the ConTree API shares across routes:
// - paging: `limit` 1..1000 (400 "limit must be between 1 and 1000" otherwise; absent: 1000, the
//   server's cap) and `offset`;
// - time filters `since` / `until` in every form the clients send: a duration back from now
//   ("15m", "1w", "3600s", or bare seconds "3600"), a date, an ISO-8601 time with or without an
//   offset (none means UTC: Python's naive isoformat()), or "...Z";
// - flags: present with any value but "0", "false" or "False" (contree-mcp sends tagged=0).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include <grove/result.hpp>

#include "http/uri.hpp"

namespace grove::api {

inline constexpr size_t kMaxPage = 1000;

struct Page {
    size_t limit = kMaxPage;
    size_t offset = 0;
};

Result<Page> parse_page(const http::QueryParams& query);
// The time `name` names, in unix nanoseconds; nullopt when absent or empty.
Result<std::optional<int64_t>> parse_time(const http::QueryParams& query,
                                          std::string_view name,
                                          int64_t now_ns);
// ConTree's reading of one time value (see above).
Result<int64_t> parse_time_value(std::string_view text, int64_t now_ns);
bool flag(const http::QueryParams& query, std::string_view name);

}  // namespace grove::api
