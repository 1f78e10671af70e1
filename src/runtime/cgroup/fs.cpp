#include "fs.hpp"

#include <cerrno>
#include <charconv>
#include <csignal>
#include <fcntl.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include "base/error.hpp"
#include "base/unique_fd.hpp"

namespace grove::runtime::cgroup {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kPollInterval{2};

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
        text.remove_suffix(1);
    }
    while (!text.empty() && (text.front() == '\n' || text.front() == ' ')) {
        text.remove_prefix(1);
    }
    return text;
}

}  // namespace

FsHooks FsHooks::real() {
    return FsHooks{
        .make_dir =
            [](const std::filesystem::path& p) {
                return ::mkdir(p.c_str(), 0755) == 0 ? 0 : errno;
            },
        .remove_dir =
            [](const std::filesystem::path& p) { return ::rmdir(p.c_str()) == 0 ? 0 : errno; },
        .send_signal = [](pid_t pid, int sig) { return ::kill(pid, sig) == 0 ? 0 : errno; },
    };
}

Result<std::string> read_text(const std::filesystem::path& path) {
    GROVE_ASSIGN_OR_RETURN(auto fd, base::UniqueFd::open(path.string(), O_RDONLY));
    return base::with_context(base::read_all(fd.get()), "read '{}'", path.string());
}

Result<std::optional<std::string>> read_text_if_exists(const std::filesystem::path& path) {
    auto fd = base::UniqueFd::open(path.string(), O_RDONLY);
    if (!fd.has_value()) {
        if (fd.error().sys_errno() == ENOENT) {
            return std::optional<std::string>();
        }
        return std::move(fd).error();
    }
    GROVE_ASSIGN_OR_RETURN(
        auto text, base::with_context(base::read_all(fd->get()), "read '{}'", path.string()));
    return std::optional<std::string>(std::move(text));
}

Result<void> write_text(const std::filesystem::path& path, std::string_view text) {
    // O_TRUNC is ignored by cgroupfs and keeps a fake tree's files holding the last write.
    GROVE_ASSIGN_OR_RETURN(auto fd, base::UniqueFd::open(path.string(), O_WRONLY | O_TRUNC));
    const ssize_t n = ::write(fd.get(), text.data(), text.size());
    if (n < 0) {
        return base::last_errno_error("write '{}' to '{}'", text, path.string());
    }
    if (static_cast<size_t>(n) != text.size()) {
        return base::make_error(Code::kInternal, "short write of '{}' to '{}'", text,
                                path.string());
    }
    return {};
}

Result<uint64_t> parse_u64(std::string_view text, const std::filesystem::path& path) {
    text = trim(text);
    if (text == "max") {
        return UINT64_MAX;
    }
    uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) {
        return base::make_error(Code::kDataLoss, "'{}' holds '{}', not a number", path.string(),
                                text);
    }
    return value;
}

Result<uint64_t> read_u64_or_zero(const std::filesystem::path& path) {
    GROVE_ASSIGN_OR_RETURN(auto text, read_text_if_exists(path));
    if (!text) {
        return uint64_t{0};
    }
    return parse_u64(*text, path);
}

std::optional<uint64_t> keyed_value(std::string_view text, std::string_view key) {
    while (!text.empty()) {
        const size_t eol = text.find('\n');
        std::string_view line = text.substr(0, eol);
        text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
        if (line.size() > key.size() && line.starts_with(key) && line[key.size()] == ' ') {
            std::string_view number = trim(line.substr(key.size() + 1));
            uint64_t value = 0;
            const auto [end, ec] =
                std::from_chars(number.data(), number.data() + number.size(), value);
            if (ec == std::errc() && end == number.data() + number.size()) {
                return value;
            }
        }
    }
    return std::nullopt;
}

Result<std::vector<pid_t>> read_pids(const std::filesystem::path& procs) {
    GROVE_ASSIGN_OR_RETURN(auto text, read_text(procs));
    std::vector<pid_t> pids;
    std::string_view rest = text;
    while (!rest.empty()) {
        const size_t eol = rest.find('\n');
        std::string_view line = trim(rest.substr(0, eol));
        rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 1);
        if (line.empty()) {
            continue;
        }
        pid_t pid = 0;
        const auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), pid);
        if (ec != std::errc() || end != line.data() + line.size() || pid <= 0) {
            return base::make_error(Code::kDataLoss, "'{}' lists '{}', not a pid", procs.string(),
                                    line);
        }
        pids.push_back(pid);
    }
    return pids;
}

Result<void> make_dir(const FsHooks& hooks, const std::filesystem::path& path, bool exist_ok) {
    const int err = hooks.make_dir(path);
    if (err == 0 || (err == EEXIST && exist_ok)) {
        return {};
    }
    return base::errno_error(err, "create cgroup '{}'", path.string());
}

Result<void> remove_dir(const FsHooks& hooks, const std::filesystem::path& path) {
    const auto deadline = Clock::now() + kRemoveTimeout;
    while (true) {
        const int err = hooks.remove_dir(path);
        if (err == 0 || err == ENOENT) {
            return {};
        }
        if (err != EBUSY || Clock::now() >= deadline) {
            return base::errno_error(err, "remove cgroup '{}'", path.string());
        }
        std::this_thread::sleep_for(kPollInterval);
    }
}

Result<void> signal_pids(const FsHooks& hooks, const std::filesystem::path& procs) {
    GROVE_ASSIGN_OR_RETURN(auto pids, read_pids(procs));
    for (const pid_t pid : pids) {
        const int err = hooks.send_signal(pid, SIGKILL);
        if (err != 0 && err != ESRCH) {
            return base::errno_error(err, "kill pid {} of '{}'", pid, procs.string());
        }
    }
    return {};
}

Result<void> kill_until_empty(const std::filesystem::path& procs,
                              const std::function<Result<void>()>& kill_once) {
    const auto deadline = Clock::now() + kKillTimeout;
    while (true) {
        GROVE_ASSIGN_OR_RETURN(auto pids, read_pids(procs));
        if (pids.empty()) {
            return {};
        }
        if (Clock::now() >= deadline) {
            return base::make_error(Code::kDeadlineExceeded,
                                    "'{}' still lists {} processes after {} ms", procs.string(),
                                    pids.size(), kKillTimeout.count());
        }
        // Killed tasks leave cgroup.procs only once they have exited, and a task forked
        // concurrently may be missed, so kill again on every round.
        GROVE_TRY(kill_once());
        std::this_thread::sleep_for(kPollInterval);
    }
}

Result<bool> wait_until(const std::function<Result<bool>()>& done,
                        std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (true) {
        GROVE_ASSIGN_OR_RETURN(const bool ok, done());
        if (ok) {
            return true;
        }
        if (Clock::now() >= deadline) {
            return false;
        }
        std::this_thread::sleep_for(kPollInterval);
    }
}

Result<void> validate_name(std::string_view name) {
    if (name.empty() || name == "." || name == ".." ||
        name.find_first_of(std::string_view("/\0", 2)) != std::string_view::npos) {
        return base::make_error(Code::kInvalidArgument,
                                "invalid cgroup name '{}': must be one path component", name);
    }
    return {};
}

}  // namespace grove::runtime::cgroup
