#include "base/time_point.hpp"

#include <charconv>
#include <ctime>
#include <limits>

#include "base/error.hpp"

namespace grove::base {
namespace {

constexpr int64_t kSecond = 1'000'000'000;
// Nanoseconds in an int64_t end in 2262.
constexpr int64_t kMaxSeconds = std::numeric_limits<int64_t>::max() / kSecond - 1;

std::optional<int64_t> unit_seconds(char unit) {
    switch (unit) {
        case 's':
            return 1;
        case 'm':
            return 60;
        case 'h':
            return 3600;
        case 'd':
            return 86400;
        case 'w':
            return 7 * 86400;
        default:
            return std::nullopt;
    }
}

// "1h30m" -> seconds (at most kMaxSeconds); nullopt unless the whole text is number+unit pairs.
std::optional<int64_t> parse_duration(std::string_view text) {
    int64_t total = 0;
    while (!text.empty()) {
        int64_t n = 0;
        const auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), n);
        if (err != std::errc() || end == text.data() + text.size() || n < 0) {
            return std::nullopt;
        }
        const auto unit = unit_seconds(*end);
        if (!unit || n > kMaxSeconds / *unit || total > kMaxSeconds - n * *unit) {
            return std::nullopt;
        }
        total += n * *unit;
        text.remove_prefix(static_cast<size_t>(end - text.data()) + 1);
    }
    return total;
}

// "YYYY-MM-DD[THH:MM:SS[.frac](Z|±HH:MM)]"
std::optional<int64_t> parse_date_time(std::string_view text) {
    std::tm tm{};
    int offset_minutes = 0;
    int64_t fraction_ns = 0;
    auto number = [&](size_t pos, size_t len, int& out) {
        if (pos + len > text.size()) {
            return false;
        }
        const auto [end, err] = std::from_chars(text.data() + pos, text.data() + pos + len, out);
        return err == std::errc() && end == text.data() + pos + len;
    };
    if (!number(0, 4, tm.tm_year) || text.size() < 10 || text[4] != '-' ||
        !number(5, 2, tm.tm_mon) || text[7] != '-' || !number(8, 2, tm.tm_mday)) {
        return std::nullopt;
    }
    size_t pos = 10;
    if (pos < text.size()) {
        if ((text[pos] != 'T' && text[pos] != ' ') || !number(pos + 1, 2, tm.tm_hour) ||
            text.size() < pos + 9 || text[pos + 3] != ':' || !number(pos + 4, 2, tm.tm_min) ||
            text[pos + 6] != ':' || !number(pos + 7, 2, tm.tm_sec)) {
            return std::nullopt;
        }
        pos += 9;
        if (pos < text.size() && text[pos] == '.') {
            int64_t scale = kSecond;
            for (++pos; pos < text.size() && text[pos] >= '0' && text[pos] <= '9'; ++pos) {
                scale /= 10;
                fraction_ns += (text[pos] - '0') * scale;
            }
        }
        if (pos < text.size() && text[pos] == 'Z') {
            ++pos;
        } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
            int hours = 0;
            int minutes = 0;
            if (!number(pos + 1, 2, hours) || text.size() < pos + 6 || text[pos + 3] != ':' ||
                !number(pos + 4, 2, minutes)) {
                return std::nullopt;
            }
            offset_minutes = (text[pos] == '+' ? 1 : -1) * (hours * 60 + minutes);
            pos += 6;
        } else {
            return std::nullopt;  // a time needs its zone: local time would be ambiguous
        }
        if (pos != text.size()) {
            return std::nullopt;
        }
    }
    if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
        tm.tm_min > 59 || tm.tm_sec > 60) {
        return std::nullopt;
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    const int64_t seconds = static_cast<int64_t>(::timegm(&tm)) - int64_t{offset_minutes} * 60;
    if (seconds < -kMaxSeconds || seconds > kMaxSeconds) {
        return std::nullopt;
    }
    return seconds * kSecond + fraction_ns;
}

}  // namespace

Result<int64_t> parse_time_point(std::string_view text, int64_t now_ns) {
    if (text.empty()) {
        return base::make_error(Code::kInvalidArgument, "empty time");
    }
    if (const auto seconds = parse_duration(text)) {
        return now_ns - *seconds * kSecond;
    }
    int64_t unix_seconds = 0;
    const auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), unix_seconds);
    if (err == std::errc() && end == text.data() + text.size() && unix_seconds <= kMaxSeconds) {
        return unix_seconds * kSecond;
    }
    if (const auto ns = parse_date_time(text)) {
        return *ns;
    }
    return base::make_error(Code::kInvalidArgument,
                            "invalid time '{}': use a duration (15m, 2h, 1w), a date "
                            "(2024-01-02), an RFC 3339 time or unix seconds",
                            text);
}

}  // namespace grove::base
