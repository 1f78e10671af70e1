#include "daemon/wire_time.hpp"

#include <chrono>
#include <ctime>

#include <fmt/format.h>

namespace grove::daemon {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

// Splits `ns` into a broken-down UTC time and the nanoseconds within its second (flooring, so
// times before 1970 keep a positive fraction).
std::tm split(int64_t ns, int64_t& fraction) {
    int64_t seconds = ns / kSecond;
    fraction = ns % kSecond;
    if (fraction < 0) {
        fraction += kSecond;
        --seconds;
    }
    const auto t = static_cast<std::time_t>(seconds);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    return tm;
}

}  // namespace

std::string rfc3339_nanos(int64_t ns) {
    int64_t fraction = 0;
    const std::tm tm = split(ns, fraction);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z", tm.tm_year + 1900,
                       tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, fraction);
}

std::string iso8601_micros(int64_t ns) {
    int64_t fraction = 0;
    const std::tm tm = split(ns, fraction);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}+00:00", tm.tm_year + 1900,
                       tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                       fraction / 1000);
}

int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace grove::daemon
