#pragma once

// What runtime tests read about processes from the host's side.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <sys/types.h>

namespace grove::testing {

// The whole file, or "" when it cannot be read (e.g. a process that just exited).
std::string read_text(const std::filesystem::path& path);
// /proc/<pid>/stat's parent, or 0 when the process is gone.
pid_t parent_of(pid_t pid);
// Whether the process exists and has not exited: a zombie waiting for its reaper (a slow init
// after a kill of its parent) counts as ended.
bool running(pid_t pid);
// /proc/<pid>/comm without its newline, or "" when the process is gone.
std::string comm_of(pid_t pid);
// The fds this process has open.
size_t count_open_fds();
// A hex field of /proc/<pid>/status text: status_hex(text, "CapEff"); all ones when missing.
uint64_t status_hex(const std::string& status, const std::string& key);
// One read(): what is available on `fd` so far ("" at EOF or on error).
std::string read_some(int fd);

}  // namespace grove::testing
