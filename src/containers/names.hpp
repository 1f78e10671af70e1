#pragma once

// How containers are named: a random 64-hex id (Docker's), and a unique name, given or made up.

#include <string>
#include <string_view>

#include <grove/result.hpp>

namespace grove::containers {

std::string new_container_id();

// Docker's rule: [a-zA-Z0-9][a-zA-Z0-9_.-]+ (the caller drops a leading '/').
Result<void> validate_name(std::string_view name);

// "adjective_noun", as Docker makes them up; the caller retries on a clash.
std::string generated_name();

// A signal by name ("SIGTERM", "TERM", case-insensitive) or number ("15"), as Docker's
// StopSignal and kill's signal parameter take it; InvalidArgument otherwise.
Result<int> parse_signal(std::string_view text);

}  // namespace grove::containers
