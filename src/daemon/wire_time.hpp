#pragma once

// Times as the ConTree API writes them: RFC 3339 in UTC. Event timestamps carry nanoseconds
// ("2026-06-08T20:00:00.000000123Z", which the clients parse); record timestamps carry
// microseconds and an explicit offset ("2024-01-01T12:00:00.000123+00:00"), the form Python's
// datetime.fromisoformat reads on every version the clients support.

#include <cstdint>
#include <string>

namespace grove::daemon {

std::string rfc3339_nanos(int64_t ns);
std::string iso8601_micros(int64_t ns);
// The wall clock, in unix nanoseconds.
int64_t now_ns();

}  // namespace grove::daemon
