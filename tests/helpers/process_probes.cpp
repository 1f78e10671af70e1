#include "helpers/process_probes.hpp"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <unistd.h>

namespace grove::testing {

std::string read_text(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

pid_t parent_of(pid_t pid) {
    const std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
    const size_t close = stat.rfind(')');
    return close == std::string::npos ? 0 : std::atoi(stat.c_str() + close + 4);  // ") S <ppid>"
}

bool running(pid_t pid) {
    const std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
    const size_t close = stat.rfind(')');
    return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z';
}

std::string comm_of(pid_t pid) {
    std::string comm = read_text("/proc/" + std::to_string(pid) + "/comm");
    while (!comm.empty() && comm.back() == '\n') {
        comm.pop_back();
    }
    return comm;
}

size_t count_open_fds() {
    return static_cast<size_t>(
        std::distance(std::filesystem::directory_iterator("/proc/self/fd"), {}));
}

uint64_t status_hex(const std::string& status, const std::string& key) {
    const size_t at = status.find(key + ":\t");
    if (at == std::string::npos) {
        return ~uint64_t{0};
    }
    return std::strtoull(status.c_str() + at + key.size() + 2, nullptr, 16);
}

std::string read_some(int fd) {
    char buf[256];
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

}  // namespace grove::testing
