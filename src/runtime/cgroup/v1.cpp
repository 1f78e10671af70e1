#include "v1.hpp"

#include <algorithm>
#include <cmath>
#include <fcntl.h>
#include <system_error>

#include <fmt/format.h>

#include "base/error.hpp"
#include "base/log.hpp"
#include "base/scope_exit.hpp"
#include "blkio.hpp"

namespace grove::runtime::cgroup {

namespace {

// blkio only for its counters (docker stats): grove sets no I/O limits.
constexpr std::string_view kControllers[] = {"memory",  "pids",    "cpu",
                                             "cpuacct", "freezer", "blkio"};
constexpr uint64_t kCpuPeriodUs = 100000;
constexpr uint64_t kMinCpuQuotaUs = 1000;  // the kernel's floor for a quota

bool names_controller(std::string_view dir_name, std::string_view controller) {
    while (!dir_name.empty()) {
        const size_t comma = dir_name.find(',');
        if (dir_name.substr(0, comma) == controller) {
            return true;
        }
        dir_name =
            comma == std::string_view::npos ? std::string_view() : dir_name.substr(comma + 1);
    }
    return false;
}

}  // namespace

Result<V1Hierarchies> find_v1_hierarchies(const std::filesystem::path& root) {
    V1Hierarchies found;
    std::error_code ec;
    std::filesystem::directory_iterator it(root, ec);
    if (ec) {
        return base::errno_error(ec.value(), "list cgroupfs root '{}'", root.string());
    }
    for (const auto& entry : it) {
        if (!entry.is_directory(ec)) {
            continue;
        }
        const std::string name = entry.path().filename().string();
        for (const auto controller : kControllers) {
            // A real directory ("cpu,cpuacct") wins over a symlink to it ("cpu").
            if (names_controller(name, controller) &&
                (!found.contains(controller) || !entry.is_symlink(ec))) {
                // A hierarchy is only usable if it holds the kernel's files.
                if (std::filesystem::exists(entry.path() / "cgroup.procs", ec)) {
                    found[std::string(controller)] = entry.path();
                }
            }
        }
    }
    return found;
}

Result<std::unique_ptr<Cgroup>> V1Manager::create(std::string_view name, const Limits& limits) {
    GROVE_TRY(validate_name(name));
    V1Hierarchies dirs;
    for (const auto& [controller, hierarchy] : hierarchies_) {
        dirs[controller] = hierarchy / kParentGroup / std::string(name);
    }
    // Until the group object owns the directories, a failure removes those made here (and
    // never a directory that existed before, such as a duplicate's).
    std::vector<std::filesystem::path> made;
    base::ScopeExit remove_made([&] {
        for (auto it = made.rbegin(); it != made.rend(); ++it) {
            (void)remove_dir(hooks_, *it);
        }
    });
    for (const auto& [controller, path] : dirs) {
        if (std::find(made.begin(), made.end(), path) != made.end()) {
            continue;  // a joined hierarchy seen through another controller
        }
        GROVE_TRY(make_dir(hooks_, path.parent_path(), /*exist_ok=*/true));
        GROVE_TRY(make_dir(hooks_, path, /*exist_ok=*/false));
        made.push_back(path);
    }
    remove_made.dismiss();
    // From here the group's destructor removes the directories if applying the limits fails.
    auto group = std::make_unique<V1Cgroup>(dirs, hooks_);
    GROVE_TRY(base::with_context(group->apply(limits), "limit cgroup '{}'", name));
    return std::unique_ptr<Cgroup>(std::move(group));
}

Result<std::unique_ptr<Cgroup>> V1Manager::open(std::string_view name) {
    GROVE_TRY(validate_name(name));
    V1Hierarchies dirs;
    for (const auto& [controller, hierarchy] : hierarchies_) {
        auto path = hierarchy / kParentGroup / std::string(name);
        std::error_code ec;
        if (std::filesystem::is_directory(path, ec)) {
            dirs[controller] = std::move(path);
        }
    }
    if (dirs.empty()) {
        return base::make_error(Code::kNotFound, "no cgroup '{}'", name);
    }
    return std::unique_ptr<Cgroup>(std::make_unique<V1Cgroup>(std::move(dirs), hooks_));
}

V1Cgroup::V1Cgroup(V1Hierarchies dirs, FsHooks hooks)
    : dirs_(std::move(dirs)), hooks_(std::move(hooks)) {
    for (const auto& [controller, path] : dirs_) {
        if (std::find(unique_dirs_.begin(), unique_dirs_.end(), path) == unique_dirs_.end()) {
            unique_dirs_.push_back(path);
        }
    }
}

V1Cgroup::~V1Cgroup() {
    if (!closed_) {
        if (auto closed = close(); !closed.has_value()) {
            base::Logger::stderr_text().warn(
                "cgroup leaked",
                {{"path", unique_dirs_.empty() ? std::string() : unique_dirs_.front().string()},
                 {"error", closed.error().message()}});
        }
    }
}

const std::filesystem::path* V1Cgroup::dir(std::string_view controller) const {
    const auto it = dirs_.find(controller);
    return it == dirs_.end() ? nullptr : &it->second;
}

Result<void> V1Cgroup::apply(const Limits& limits) {
    auto require = [&](std::string_view controller) -> Result<const std::filesystem::path*> {
        const auto* path = dir(controller);
        if (path == nullptr) {
            return base::make_error(Code::kUnimplemented,
                                    "no cgroup v1 hierarchy carries the {} controller", controller);
        }
        return path;
    };
    if (limits.memory_bytes) {
        GROVE_ASSIGN_OR_RETURN(const auto* memory, require("memory"));
        const std::string bytes = std::to_string(*limits.memory_bytes);
        GROVE_TRY(write_text(*memory / "memory.limit_in_bytes", bytes));
        // memory+swap may not be below memory alone, hence this order; equal values leave no
        // room for swap. Without swap accounting the file is absent.
        if (std::filesystem::exists(*memory / "memory.memsw.limit_in_bytes")) {
            GROVE_TRY(write_text(*memory / "memory.memsw.limit_in_bytes", bytes));
        }
    }
    if (limits.pids) {
        GROVE_ASSIGN_OR_RETURN(const auto* pids, require("pids"));
        GROVE_TRY(write_text(*pids / "pids.max", std::to_string(*limits.pids)));
    }
    if (limits.cpus) {
        GROVE_ASSIGN_OR_RETURN(const auto* cpu, require("cpu"));
        if (!(*limits.cpus > 0) || !std::isfinite(*limits.cpus)) {
            return base::make_error(Code::kInvalidArgument, "cpus must be positive, not {}",
                                    *limits.cpus);
        }
        const auto quota = std::max<uint64_t>(
            kMinCpuQuotaUs, static_cast<uint64_t>(std::llround(*limits.cpus * kCpuPeriodUs)));
        GROVE_TRY(write_text(*cpu / "cpu.cfs_period_us", std::to_string(kCpuPeriodUs)));
        GROVE_TRY(write_text(*cpu / "cpu.cfs_quota_us", std::to_string(quota)));
    }
    return {};
}

Result<void> V1Cgroup::add_process(pid_t pid) {
    for (const auto& path : unique_dirs_) {
        GROVE_TRY(base::with_context(write_text(path / "cgroup.procs", std::to_string(pid)),
                                     "add pid {} to cgroup", pid));
    }
    return {};
}

Result<std::vector<base::UniqueFd>> V1Cgroup::open_procs() const {
    std::vector<base::UniqueFd> files;
    for (const auto& path : unique_dirs_) {
        GROVE_ASSIGN_OR_RETURN(auto file, base::UniqueFd::open((path / "cgroup.procs").string(),
                                                               O_WRONLY | O_CLOEXEC));
        files.push_back(std::move(file));
    }
    return files;
}

Result<Stats> V1Cgroup::stats() const {
    Stats stats;
    if (const auto* memory = dir("memory")) {
        GROVE_ASSIGN_OR_RETURN(stats.memory_peak_bytes,
                               read_u64_or_zero(*memory / "memory.max_usage_in_bytes"));
        GROVE_ASSIGN_OR_RETURN(auto oom, read_text_if_exists(*memory / "memory.oom_control"));
        const auto kills = oom ? keyed_value(*oom, "oom_kill") : std::nullopt;
        if (kills) {
            stats.oom_killed = *kills > 0 || keyed_value(*oom, "under_oom") == 1u;
        } else {
            // Kernels before 4.13 do not count OOM kills; hitting the limit is the best hint.
            GROVE_ASSIGN_OR_RETURN(const uint64_t failures,
                                   read_u64_or_zero(*memory / "memory.failcnt"));
            stats.oom_killed = failures > 0;
        }
    }
    if (const auto* cpuacct = dir("cpuacct")) {
        GROVE_ASSIGN_OR_RETURN(stats.cpu_usage_ns, read_u64_or_zero(*cpuacct / "cpuacct.usage"));
    }
    if (const auto* pids = dir("pids")) {
        GROVE_ASSIGN_OR_RETURN(stats.pids_current, read_u64_or_zero(*pids / "pids.current"));
    }
    if (const auto* blkio = dir("blkio")) {
        // The recursive files count the group's descendants too; older kernels lack them.
        const auto counters = [&](std::string_view name) -> Result<std::vector<BlkioEntry>> {
            const std::string file = fmt::format("blkio.throttle.{}", name);
            GROVE_ASSIGN_OR_RETURN(auto text, read_text_if_exists(*blkio / (file + "_recursive")));
            if (!text) {
                GROVE_ASSIGN_OR_RETURN(text, read_text_if_exists(*blkio / file));
            }
            return parse_blkio_v1(text.value_or(""));
        };
        GROVE_ASSIGN_OR_RETURN(stats.io_service_bytes, counters("io_service_bytes"));
        GROVE_ASSIGN_OR_RETURN(stats.io_serviced, counters("io_serviced"));
    }
    return stats;
}

Result<void> V1Cgroup::set_frozen(bool frozen) {
    const auto* freezer = dir("freezer");
    if (freezer == nullptr) {
        return {};
    }
    const auto state = *freezer / "freezer.state";
    GROVE_TRY(write_text(state, frozen ? "FROZEN" : "THAWED"));
    if (!frozen) {
        return {};
    }
    // FREEZING can last while a task is in an uninterruptible sleep; killing before the state
    // settles is still correct, only racier, so the wait is bounded and its outcome ignored.
    GROVE_ASSIGN_OR_RETURN(const bool settled, wait_until(
                                                   [&]() -> Result<bool> {
                                                       GROVE_ASSIGN_OR_RETURN(auto text,
                                                                              read_text(state));
                                                       return text.starts_with("FROZEN");
                                                   },
                                                   std::chrono::milliseconds(500)));
    (void)settled;
    return {};
}

Result<void> V1Cgroup::freeze(bool frozen) {
    if (dir("freezer") == nullptr) {
        return base::make_error(Code::kUnimplemented, "no cgroup v1 hierarchy has the freezer");
    }
    return set_frozen(frozen);
}

Result<void> V1Cgroup::kill_once() {
    // Frozen, the tasks cannot fork while their pids are read and signalled; SIGKILL takes
    // effect once they are thawed.
    GROVE_TRY(set_frozen(true));
    auto killed = signal_pids(hooks_, unique_dirs_.front() / "cgroup.procs");
    GROVE_TRY(set_frozen(false));
    return killed;
}

Result<void> V1Cgroup::kill_all() {
    if (unique_dirs_.empty()) {
        return {};
    }
    // Every hierarchy lists the same processes; add_process writes them all.
    return kill_until_empty(unique_dirs_.front() / "cgroup.procs", [this] { return kill_once(); });
}

Result<void> V1Cgroup::close() {
    if (closed_) {
        return {};
    }
    GROVE_TRY(kill_all());
    for (const auto& path : unique_dirs_) {
        GROVE_TRY(remove_dir(hooks_, path));
    }
    closed_ = true;
    return {};
}

}  // namespace grove::runtime::cgroup
