#include "cli/active_session.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/error.hpp"
#include "cli/config.hpp"

namespace grove::cli {
namespace {

std::filesystem::path state_file() {
    return config_dir() / "active-sessions";
}

std::string place(const GlobalOptions& options) {
    return !options.remote()
               ? "root=" + std::filesystem::absolute(options.root).lexically_normal().string()
               : "host=" + options.host;
}

}  // namespace

Result<std::string> active_session(const GlobalOptions& options) {
    if (const char* name = std::getenv("GROVE_SESSION"); name != nullptr && *name != '\0') {
        return std::string(name);
    }
    std::ifstream in(state_file());
    const std::string key = place(options);
    std::string line;
    while (std::getline(in, line)) {
        if (line.starts_with(key + " ")) {
            return line.substr(key.size() + 1);
        }
    }
    return base::make_error(Code::kNotFound,
                            "no active session: start one with `grove session new NAME IMAGE`");
}

Result<void> set_active_session(const GlobalOptions& options, std::string_view name) {
    const auto path = state_file();
    std::ostringstream kept;
    {
        std::ifstream in(path);
        const std::string key = place(options);
        std::string line;
        while (std::getline(in, line)) {
            if (!line.starts_with(key + " ")) {
                kept << line << "\n";
            }
        }
        if (!name.empty()) {
            kept << key << " " << name << "\n";
        }
    }
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    // Written aside and renamed, so a concurrent reader sees the old file or the new one.
    const auto fresh = path.string() + ".new";
    std::ofstream(fresh) << kept.str();
    std::filesystem::rename(fresh, path, ec);
    if (ec) {
        return base::make_error(Code::kInternal, "save the active session in '{}': {}",
                                path.string(), ec.message());
    }
    return {};
}

}  // namespace grove::cli
