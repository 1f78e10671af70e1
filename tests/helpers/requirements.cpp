#include "requirements.hpp"

#include <fstream>
#include <sstream>
#include <unistd.h>

#include "base/child_process.hpp"

namespace grove::testing {
namespace {

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

bool has_word(const std::string& text, const std::string& word) {
    std::istringstream words(text);
    for (std::string w; words >> w;) {
        if (w == word) {
            return true;
        }
    }
    return false;
}

}  // namespace

std::optional<std::string> missing_root() {
    if (::geteuid() != 0) {
        return "needs root (euid is " + std::to_string(::geteuid()) + ")";
    }
    return std::nullopt;
}

std::optional<std::string> missing_program(const std::string& name) {
    if (!base::find_program(name)) {
        return "'" + name + "' is not installed (scripts/install-deps.sh installs it)";
    }
    return std::nullopt;
}

std::optional<std::string> missing_programs(std::initializer_list<const char*> names) {
    for (const char* name : names) {
        if (auto missing = missing_program(name)) {
            return missing;
        }
    }
    return std::nullopt;
}

std::optional<std::string> missing_overlay() {
    if (has_word(read_text("/proc/filesystems"), "overlay")) {
        return std::nullopt;
    }
    return "the kernel has no overlayfs registered (try 'modprobe overlay')";
}

std::optional<std::string> missing_cgroup_controller(const std::string& name) {
    for (const char* controllers :
         {"/sys/fs/cgroup/cgroup.controllers", "/sys/fs/cgroup/unified/cgroup.controllers"}) {
        if (has_word(read_text(controllers), name)) {
            return std::nullopt;
        }
    }
    if (::access(("/sys/fs/cgroup/" + name).c_str(), F_OK) == 0) {
        return std::nullopt;  // a cgroup v1 hierarchy
    }
    return "cgroup controller '" + name + "' is not available";
}

}  // namespace grove::testing
