#include "api/query.hpp"

#include <charconv>
#include <string>

#include "base/error.hpp"
#include "base/time_point.hpp"

namespace grove::api {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

std::optional<uint64_t> parse_unsigned(std::string_view text) {
    uint64_t value = 0;
    const auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || err != std::errc() || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

// "2024-01-02T03:04:05" or with a fraction, but no zone.
bool is_naive_date_time(std::string_view text) {
    if (text.size() < 19 || (text[10] != 'T' && text[10] != ' ')) {
        return false;
    }
    const std::string_view time = text.substr(11);
    return time.find_first_of("Z+-") == std::string_view::npos;
}

}  // namespace

Result<Page> parse_page(const http::QueryParams& query) {
    Page page;
    if (const auto limit = query.get("limit")) {
        const auto value = parse_unsigned(*limit);
        if (!value || *value < 1 || *value > kMaxPage) {
            return base::make_error(Code::kInvalidArgument, "limit must be between 1 and {}",
                                    kMaxPage);
        }
        page.limit = static_cast<size_t>(*value);
    }
    if (const auto offset = query.get("offset")) {
        const auto value = parse_unsigned(*offset);
        if (!value) {
            return base::make_error(Code::kInvalidArgument,
                                    "offset must be a non-negative integer");
        }
        page.offset = static_cast<size_t>(*value);
    }
    return page;
}

Result<int64_t> parse_time_value(std::string_view text, int64_t now_ns) {
    std::string_view digits = text;
    if (digits.ends_with('s')) {
        digits.remove_suffix(1);
    }
    if (const auto seconds = parse_unsigned(digits);
        seconds && *seconds < static_cast<uint64_t>(now_ns / kSecond)) {
        return now_ns - static_cast<int64_t>(*seconds) * kSecond;
    }
    if (is_naive_date_time(text)) {
        return base::parse_time_point(std::string(text) + "Z", now_ns);
    }
    return base::parse_time_point(text, now_ns);
}

Result<std::optional<int64_t>> parse_time(const http::QueryParams& query,
                                          std::string_view name,
                                          int64_t now_ns) {
    const auto value = query.get(name);
    if (!value || value->empty()) {
        return std::optional<int64_t>{};
    }
    GROVE_ASSIGN_OR_RETURN(const int64_t ns,
                           base::with_context(parse_time_value(*value, now_ns), "{}", name));
    return std::optional<int64_t>(ns);
}

bool flag(const http::QueryParams& query, std::string_view name) {
    const auto value = query.get(name);
    return value && *value != "0" && *value != "false" && *value != "False";
}

}  // namespace grove::api
