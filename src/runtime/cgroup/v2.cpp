#include "v2.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <fcntl.h>

#include <fmt/format.h>

#include "base/error.hpp"
#include "base/log.hpp"
#include "base/scope_exit.hpp"
#include "blkio.hpp"

namespace grove::runtime::cgroup {

namespace {

// io has no limit here, but a group outside it has no io.stat: docker stats' BlkioStats would be
// empty on v2.
constexpr std::string_view kWanted[] = {"memory", "pids", "cpu", "io"};
constexpr uint64_t kCpuPeriodUs = 100000;
constexpr uint64_t kMinCpuQuotaUs = 1000;  // the kernel's floor for a quota
// Where the namespace root's own processes move when controllers must be enabled below it.
constexpr std::string_view kInitLeaf = "init";

std::vector<std::string> split_words(std::string_view text) {
    std::vector<std::string> words;
    size_t i = 0;
    while (i < text.size()) {
        const size_t start = text.find_first_not_of(" \n", i);
        if (start == std::string_view::npos) {
            break;
        }
        const size_t end = std::min(text.find_first_of(" \n", start), text.size());
        words.emplace_back(text.substr(start, end - start));
        i = end;
    }
    return words;
}

bool contains(const std::vector<std::string>& words, std::string_view word) {
    return std::find(words.begin(), words.end(), word) != words.end();
}

// Enables `wanted` (those offered in cgroup.controllers) in `dir`'s subtree_control and returns
// them. A non-root group holding processes cannot enable controllers ("no internal processes"):
// EBUSY comes back, and `evacuate` may move the processes out and allow one retry.
Result<std::vector<std::string>> enable_controllers(const std::filesystem::path& dir,
                                                    const std::function<Result<void>()>& evacuate) {
    GROVE_ASSIGN_OR_RETURN(auto offered_text, read_text(dir / "cgroup.controllers"));
    GROVE_ASSIGN_OR_RETURN(auto enabled_text, read_text(dir / "cgroup.subtree_control"));
    const auto offered = split_words(offered_text);
    const auto enabled = split_words(enabled_text);
    std::vector<std::string> result;
    std::string request;
    for (const auto name : kWanted) {
        if (!contains(offered, name)) {
            continue;
        }
        result.emplace_back(name);
        if (!contains(enabled, name)) {
            request += fmt::format("{}+{}", request.empty() ? "" : " ", name);
        }
    }
    if (request.empty()) {
        return result;
    }
    auto written = write_text(dir / "cgroup.subtree_control", request);
    if (!written.has_value() && written.error().sys_errno() == EBUSY && evacuate) {
        GROVE_TRY(evacuate());
        written = write_text(dir / "cgroup.subtree_control", request);
    }
    GROVE_TRY(std::move(written));
    return result;
}

}  // namespace

Result<std::vector<std::string>> V2Manager::prepare_parent() {
    // Inside a container the cgroup namespace root may hold the daemon itself; as docker's
    // dind entrypoint does, move those processes to a leaf so the root can delegate.
    auto evacuate_root = [this]() -> Result<void> {
        const auto leaf = root_ / kInitLeaf;
        GROVE_TRY(make_dir(hooks_, leaf, /*exist_ok=*/true));
        GROVE_ASSIGN_OR_RETURN(auto pids, read_pids(root_ / "cgroup.procs"));
        for (const pid_t pid : pids) {
            auto moved = write_text(leaf / "cgroup.procs", std::to_string(pid));
            // ESRCH: exited meanwhile; EINVAL: a kernel thread, which stays at the root.
            if (!moved.has_value() && moved.error().sys_errno() != ESRCH &&
                moved.error().sys_errno() != EINVAL) {
                return moved;
            }
        }
        return {};
    };
    GROVE_ASSIGN_OR_RETURN(auto at_root, enable_controllers(root_, evacuate_root));
    (void)at_root;
    const auto parent = root_ / kParentGroup;
    GROVE_TRY(make_dir(hooks_, parent, /*exist_ok=*/true));
    // Only grove creates groups here and never puts processes in the parent itself, so EBUSY
    // means someone else did: report it rather than move them.
    return base::with_context(enable_controllers(parent, nullptr), "enable controllers in '{}'",
                              parent.string());
}

Result<std::unique_ptr<Cgroup>> V2Manager::create(std::string_view name, const Limits& limits) {
    GROVE_TRY(validate_name(name));
    GROVE_ASSIGN_OR_RETURN(auto controllers, prepare_parent());
    const auto path = root_ / kParentGroup / std::string(name);
    GROVE_TRY(make_dir(hooks_, path, /*exist_ok=*/false));
    base::ScopeExit remove_group([&] { (void)remove_dir(hooks_, path); });
    GROVE_ASSIGN_OR_RETURN(auto dir, base::UniqueFd::open(path.string(), O_RDONLY | O_DIRECTORY));
    remove_group.dismiss();
    // From here the group's destructor removes the directory if applying the limits fails.
    auto group = std::make_unique<V2Cgroup>(path, std::move(dir), hooks_);
    GROVE_TRY(
        base::with_context(group->apply(limits, controllers), "limit cgroup '{}'", path.string()));
    return std::unique_ptr<Cgroup>(std::move(group));
}

Result<std::unique_ptr<Cgroup>> V2Manager::open(std::string_view name) {
    GROVE_TRY(validate_name(name));
    const auto parent = root_ / kParentGroup;
    const auto path = parent / std::string(name);
    GROVE_ASSIGN_OR_RETURN(auto dir, base::UniqueFd::open(path.string(), O_RDONLY | O_DIRECTORY));
    GROVE_ASSIGN_OR_RETURN(auto enabled, read_text(parent / "cgroup.subtree_control"));
    auto group = std::make_unique<V2Cgroup>(path, std::move(dir), hooks_);
    GROVE_TRY(group->apply({}, split_words(enabled)));  // no limits: only remembers controllers
    return std::unique_ptr<Cgroup>(std::move(group));
}

Result<void> V2Cgroup::apply(const Limits& limits, const std::vector<std::string>& controllers) {
    controllers_ = controllers;
    auto require = [&](std::string_view controller) -> Result<void> {
        if (!contains(controllers, controller)) {
            return base::make_error(Code::kUnimplemented,
                                    "the {} controller is not available to '{}'", controller,
                                    path_.string());
        }
        return {};
    };
    if (limits.memory_bytes) {
        GROVE_TRY(require("memory"));
        GROVE_TRY(write_text(path_ / "memory.max", std::to_string(*limits.memory_bytes)));
        // Without swap accounting the file is absent and swap cannot bypass the limit anyway.
        if (std::filesystem::exists(path_ / "memory.swap.max")) {
            GROVE_TRY(write_text(path_ / "memory.swap.max", "0"));
        }
    }
    if (limits.pids) {
        GROVE_TRY(require("pids"));
        GROVE_TRY(write_text(path_ / "pids.max", std::to_string(*limits.pids)));
    }
    if (limits.cpus) {
        GROVE_TRY(require("cpu"));
        if (!(*limits.cpus > 0) || !std::isfinite(*limits.cpus)) {
            return base::make_error(Code::kInvalidArgument, "cpus must be positive, not {}",
                                    *limits.cpus);
        }
        const auto quota = std::max<uint64_t>(
            kMinCpuQuotaUs, static_cast<uint64_t>(std::llround(*limits.cpus * kCpuPeriodUs)));
        GROVE_TRY(write_text(path_ / "cpu.max", fmt::format("{} {}", quota, kCpuPeriodUs)));
    }
    return {};
}

V2Cgroup::~V2Cgroup() {
    if (!closed_) {
        if (auto closed = close(); !closed.has_value()) {
            base::Logger::stderr_text().warn(
                "cgroup leaked", {{"path", path_.string()}, {"error", closed.error().message()}});
        }
    }
}

Result<void> V2Cgroup::add_process(pid_t pid) {
    return base::with_context(write_text(path_ / "cgroup.procs", std::to_string(pid)),
                              "add pid {} to cgroup", pid);
}

Result<std::vector<base::UniqueFd>> V2Cgroup::open_procs() const {
    GROVE_ASSIGN_OR_RETURN(
        auto file, base::UniqueFd::open((path_ / "cgroup.procs").string(), O_WRONLY | O_CLOEXEC));
    std::vector<base::UniqueFd> files;
    files.push_back(std::move(file));
    return files;
}

Result<Stats> V2Cgroup::stats() const {
    Stats stats;
    GROVE_ASSIGN_OR_RETURN(auto peak, read_text_if_exists(path_ / "memory.peak"));
    if (peak) {
        GROVE_ASSIGN_OR_RETURN(stats.memory_peak_bytes, parse_u64(*peak, path_ / "memory.peak"));
    } else {
        GROVE_ASSIGN_OR_RETURN(const uint64_t current, read_u64_or_zero(path_ / "memory.current"));
        peak_seen_ = std::max(peak_seen_, current);
        stats.memory_peak_bytes = peak_seen_;
    }
    GROVE_ASSIGN_OR_RETURN(auto cpu, read_text_if_exists(path_ / "cpu.stat"));
    if (cpu) {
        stats.cpu_usage_ns = keyed_value(*cpu, "usage_usec").value_or(0) * 1000;
    }
    GROVE_ASSIGN_OR_RETURN(stats.pids_current, read_u64_or_zero(path_ / "pids.current"));
    GROVE_ASSIGN_OR_RETURN(auto events, read_text_if_exists(path_ / "memory.events"));
    if (events) {
        stats.oom_killed = keyed_value(*events, "oom_kill").value_or(0) > 0;
    }
    // Present only where the io controller is enabled for the group (grove does not enable it).
    GROVE_ASSIGN_OR_RETURN(const auto io, read_text_if_exists(path_ / "io.stat"));
    if (io) {
        IoStat parsed = parse_io_stat(*io);
        stats.io_service_bytes = std::move(parsed.service_bytes);
        stats.io_serviced = std::move(parsed.serviced);
    }
    return stats;
}

Result<void> V2Cgroup::set_frozen(bool frozen) {
    GROVE_TRY(write_text(path_ / "cgroup.freeze", frozen ? "1" : "0"));
    if (!frozen) {
        return {};
    }
    // Freezing is asynchronous; killing before it completes is still correct, only racier.
    GROVE_ASSIGN_OR_RETURN(const bool done, wait_until(
                                                [this]() -> Result<bool> {
                                                    GROVE_ASSIGN_OR_RETURN(
                                                        auto events,
                                                        read_text(path_ / "cgroup.events"));
                                                    return keyed_value(events, "frozen") == 1u;
                                                },
                                                std::chrono::milliseconds(500)));
    (void)done;
    return {};
}

Result<void> V2Cgroup::kill_all() {
    const auto procs = path_ / "cgroup.procs";
    if (std::filesystem::exists(path_ / "cgroup.kill")) {
        // Kernel >= 5.14 kills the whole group atomically, forks in flight included.
        return kill_until_empty(procs, [&] { return write_text(path_ / "cgroup.kill", "1"); });
    }
    const bool can_freeze = std::filesystem::exists(path_ / "cgroup.freeze");
    return kill_until_empty(procs, [&]() -> Result<void> {
        if (can_freeze) {
            GROVE_TRY(set_frozen(true));
        }
        auto killed = signal_pids(hooks_, procs);
        if (can_freeze) {
            GROVE_TRY(set_frozen(false));
        }
        return killed;
    });
}

Result<void> V2Cgroup::close() {
    if (closed_) {
        return {};
    }
    GROVE_TRY(kill_all());
    dir_.reset();
    GROVE_TRY(remove_dir(hooks_, path_));
    closed_ = true;
    return {};
}

}  // namespace grove::runtime::cgroup
