#pragma once

// File helpers shared by the v1 and v2 implementations, and the seam that lets unit tests run
// them against a fake cgroupfs in a temp dir: a real kernel fills a new group with control
// files on mkdir and lets rmdir remove them, which a plain directory does not.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

#include <grove/result.hpp>

namespace grove::runtime::cgroup {

// Each hook returns 0 or an errno value.
struct FsHooks {
    std::function<int(const std::filesystem::path&)> make_dir;
    std::function<int(const std::filesystem::path&)> remove_dir;
    std::function<int(pid_t, int)> send_signal;

    // mkdir(0755), rmdir, kill.
    static FsHooks real();
};

// How long kill_all waits for a group to empty, and rmdir retries EBUSY.
inline constexpr std::chrono::milliseconds kKillTimeout{5000};
inline constexpr std::chrono::milliseconds kRemoveTimeout{1000};

Result<std::string> read_text(const std::filesystem::path& path);
// nullopt when the file does not exist (a controller that is not enabled, an older kernel).
Result<std::optional<std::string>> read_text_if_exists(const std::filesystem::path& path);
// One write(2) of `text`: cgroupfs parses each write as a whole.
Result<void> write_text(const std::filesystem::path& path, std::string_view text);

// A decimal counter; "max" reads as UINT64_MAX.
Result<uint64_t> parse_u64(std::string_view text, const std::filesystem::path& path);
// A counter file, or 0 when it does not exist.
Result<uint64_t> read_u64_or_zero(const std::filesystem::path& path);
// The value of `key` in a flat keyed file ("oom_kill 3\nunder_oom 0\n").
std::optional<uint64_t> keyed_value(std::string_view text, std::string_view key);
// The pids in a cgroup.procs file.
Result<std::vector<pid_t>> read_pids(const std::filesystem::path& procs);

// mkdir; an existing directory is fine when `exist_ok`, AlreadyExists otherwise.
Result<void> make_dir(const FsHooks& hooks, const std::filesystem::path& path, bool exist_ok);
// rmdir, retrying EBUSY (the kernel may still be tearing down killed tasks); ENOENT is fine.
Result<void> remove_dir(const FsHooks& hooks, const std::filesystem::path& path);

// SIGKILLs every pid in `procs`; pids that already exited (ESRCH) are fine.
Result<void> signal_pids(const FsHooks& hooks, const std::filesystem::path& procs);
// Runs `kill_once` until `procs` lists no process, or fails after kKillTimeout.
Result<void> kill_until_empty(const std::filesystem::path& procs,
                              const std::function<Result<void>()>& kill_once);
// Polls `done` until it returns true, up to `timeout`; false on timeout.
Result<bool> wait_until(const std::function<Result<bool>()>& done,
                        std::chrono::milliseconds timeout);

}  // namespace grove::runtime::cgroup
