#pragma once

// grove's configuration file, $XDG_CONFIG_HOME/grove/config (~/.config/grove/config): lines of
// `key = value` ('#' starts a comment) with the keys host, token and root. The environment
// overrides the file (GROVE_HOST, GROVE_TOKEN, GROVE_ROOT) and flags override both; main applies
// them in that order.

#include <filesystem>
#include <string>

#include <grove/result.hpp>

namespace grove::cli {

struct Settings {
    std::string host;
    std::string token;
    std::string root;
};

// $XDG_CONFIG_HOME/grove, else ~/.config/grove.
std::filesystem::path config_dir();
// The file's settings (none when there is no file), then the environment's over them.
// InvalidArgument, naming the line, for a line that is not `key = value` or an unknown key.
Result<Settings> load_settings();

}  // namespace grove::cli
