#pragma once

// Parses the points in time that time filters take (the CLI's --since and --until, the API's
// since and until query parameters), as Docker's filters do: a duration back from now ("30s",
// "15m", "2h", "1d", "1w", combinable as "1h30m"), a date ("2024-01-02", UTC midnight), an RFC
// 3339 time ("2024-01-02T03:04:05Z", offsets allowed) or unix seconds ("1700000000"). Times past
// 2262 (the end of int64 nanoseconds) are refused.

#include <cstdint>
#include <string_view>

#include <grove/result.hpp>

namespace grove::base {

// Unix time in nanoseconds that `text` names, `now_ns` being the present.
Result<int64_t> parse_time_point(std::string_view text, int64_t now_ns);

}  // namespace grove::base
