#pragma once

// The active session of `grove session` and the session commands that take none, remembered per
// store or groved like git's HEAD: one line per place, "<root=/path | host=URL> <name>", in
// $XDG_CONFIG_HOME/grove/active-sessions (~/.config by default). $GROVE_SESSION overrides it.

#include <string>
#include <string_view>

#include <grove/result.hpp>

#include "cli/context.hpp"

namespace grove::cli {

// NotFound, saying how to make one, when there is none.
Result<std::string> active_session(const GlobalOptions& options);
// An empty `name` forgets the place's active session.
Result<void> set_active_session(const GlobalOptions& options, std::string_view name);

}  // namespace grove::cli
