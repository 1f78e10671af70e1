#include "cli/config.hpp"

#include <cstdlib>
#include <fstream>

#include "base/error.hpp"

namespace grove::cli {
namespace {

std::string_view trim(std::string_view text) {
    const size_t begin = text.find_first_not_of(" \t\r");
    if (begin == std::string_view::npos) {
        return {};
    }
    return text.substr(begin, text.find_last_not_of(" \t\r") - begin + 1);
}

void override_from_env(std::string& value, const char* name) {
    if (const char* env = std::getenv(name); env != nullptr && *env != '\0') {
        value = env;
    }
}

}  // namespace

std::filesystem::path config_dir() {
    const char* config = std::getenv("XDG_CONFIG_HOME");
    const char* home = std::getenv("HOME");
    const std::filesystem::path base = config != nullptr && *config != '\0'
                                           ? std::filesystem::path(config)
                                           : std::filesystem::path(home ? home : "/") / ".config";
    return base / "grove";
}

Result<Settings> load_settings() {
    Settings settings;
    const auto path = config_dir() / "config";
    std::ifstream in(path);
    std::string raw;
    for (int number = 1; std::getline(in, raw); ++number) {
        const std::string_view line = trim(std::string_view(raw).substr(0, raw.find('#')));
        if (line.empty()) {
            continue;
        }
        const size_t eq = line.find('=');
        const std::string_view key = trim(line.substr(0, eq));
        const std::string value(eq == std::string_view::npos ? "" : trim(line.substr(eq + 1)));
        std::string* field = key == "host"    ? &settings.host
                             : key == "token" ? &settings.token
                             : key == "root"  ? &settings.root
                                              : nullptr;
        if (eq == std::string_view::npos || field == nullptr) {
            return base::make_error(Code::kInvalidArgument,
                                    "{}:{}: want `host|token|root = value`, not '{}'",
                                    path.string(), number, line);
        }
        *field = value;
    }
    override_from_env(settings.host, "GROVE_HOST");
    override_from_env(settings.token, "GROVE_TOKEN");
    override_from_env(settings.root, "GROVE_ROOT");
    return settings;
}

}  // namespace grove::cli
