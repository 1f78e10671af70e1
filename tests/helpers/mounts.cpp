#include "helpers/mounts.hpp"

#include <fstream>
#include <sstream>

namespace grove::testing {

std::string mounts_under(const std::filesystem::path& dir) {
    std::ifstream in("/proc/self/mountinfo");
    std::string mine;
    for (std::string line; std::getline(in, line);) {
        if (line.find(dir.string()) != std::string::npos) {
            mine += line + "\n";
        }
    }
    return mine;
}

}  // namespace grove::testing
