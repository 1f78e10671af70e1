#pragma once

// Signals by name, as Docker and ConTree clients give them.

#include <optional>
#include <string_view>

namespace grove::base {

// A signal's number from its name ("TERM", "SIGTERM", "term") or its number as text; nullopt for
// anything else.
std::optional<int> signal_number(std::string_view text);

}  // namespace grove::base
