// What runs in a container: stats (Docker's JSON from the container's cgroup, one sample or a
// stream of one a second) and top (ps's table, restricted to the container's processes).

#include <dirent.h>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>
#include <unistd.h>

#include "base/child_process.hpp"
#include "base/error.hpp"
#include "base/parse_number.hpp"
#include "daemon/wire_time.hpp"
#include "docker_api/container_json.hpp"
#include "docker_api/network_json.hpp"
#include "docker_api/routes.hpp"

namespace grove::docker_api {
namespace {

using containers::Container;
namespace fs = std::filesystem;

// Between two samples of a stream, as dockerd.
constexpr std::chrono::seconds kStatsInterval{1};
// stream=false without one-shot: precpu_stats is a sample taken this long before, so that the
// CPU percentage a client computes is a real one (dockerd takes a second; clients only need two).
constexpr std::chrono::milliseconds kPrecpuInterval{100};

std::string read_text(const fs::path& path) {
    std::ifstream in(path);
    std::stringstream out;
    out << in.rdbuf();
    return out.str();
}

// The host's CPU time in nanoseconds (the first line of /proc/stat), Docker's system_cpu_usage.
uint64_t system_cpu_ns() {
    std::istringstream line(read_text("/proc/stat"));
    std::string label;
    line >> label;
    uint64_t ticks = 0;
    for (uint64_t value = 0; line >> value;) {
        ticks += value;
    }
    return ticks * (1'000'000'000 / static_cast<uint64_t>(::sysconf(_SC_CLK_TCK)));
}

// memory.current of `pid`'s cgroup on cgroup v2; nullopt on v1 or when it cannot be read.
std::optional<uint64_t> memory_current(int pid) {
    std::istringstream lines(read_text(fmt::format("/proc/{}/cgroup", pid)));
    for (std::string line; std::getline(lines, line);) {
        if (line.starts_with("0::")) {
            const std::string text =
                read_text(fs::path("/sys/fs/cgroup") / line.substr(4) / "memory.current");
            return base::parse_number<uint64_t>(text.substr(0, text.find('\n')));
        }
    }
    return std::nullopt;
}

struct Sample {
    int64_t read_ns = 0;
    uint64_t system_ns = 0;
    runtime::cgroup::Stats cgroup;
    uint64_t memory = 0;
};

Sample take_sample(const DockerServices& s, const Container& c) {
    Sample sample{.read_ns = daemon::now_ns(), .system_ns = system_cpu_ns()};
    if (auto stats = s.containers.manager().stats(c.id)) {
        sample.cgroup = *stats;
        sample.memory = memory_current(c.state.pid).value_or(stats->memory_peak_bytes);
    }
    return sample;
}

// Docker's blkio entries; null when the kernel accounts nothing for the group, as dockerd.
base::Json blkio_json(const std::vector<runtime::cgroup::BlkioEntry>& entries) {
    if (entries.empty()) {
        return nullptr;
    }
    base::Json out = base::Json::array();
    for (const auto& e : entries) {
        out.push_back({{"major", e.major}, {"minor", e.minor}, {"op", e.op}, {"value", e.value}});
    }
    return out;
}

base::Json cpu_json(const Sample& sample) {
    if (sample.read_ns == 0) {
        return {
            {"cpu_usage",
             {{"total_usage", 0}, {"usage_in_kernelmode", 0}, {"usage_in_usermode", 0}}},
            {"throttling_data", {{"periods", 0}, {"throttled_periods", 0}, {"throttled_time", 0}}}};
    }
    return {{"cpu_usage",
             {{"total_usage", sample.cgroup.cpu_usage_ns},
              {"usage_in_kernelmode", 0},
              {"usage_in_usermode", 0}}},
            {"system_cpu_usage", sample.system_ns},
            {"online_cpus", ::sysconf(_SC_NPROCESSORS_ONLN)},
            {"throttling_data", {{"periods", 0}, {"throttled_periods", 0}, {"throttled_time", 0}}}};
}

base::Json stats_json(const Container& c, const Sample& now, const Sample& before) {
    const auto& limits = c.config.limits;
    const uint64_t memory_limit =
        limits.memory_bytes.value_or(static_cast<uint64_t>(::sysconf(_SC_PHYS_PAGES)) *
                                     static_cast<uint64_t>(::sysconf(_SC_PAGESIZE)));
    base::Json pids = {{"current", now.cgroup.pids_current}};
    if (limits.pids) {
        pids["limit"] = *limits.pids;
    }
    return {{"read", docker_time(now.read_ns)},
            {"preread", docker_time(before.read_ns)},
            {"pids_stats", pids},
            {"blkio_stats",
             {{"io_service_bytes_recursive", blkio_json(now.cgroup.io_service_bytes)},
              {"io_serviced_recursive", blkio_json(now.cgroup.io_serviced)},
              {"io_queue_recursive", base::Json()},
              {"io_service_time_recursive", base::Json()},
              {"io_wait_time_recursive", base::Json()},
              {"io_merged_recursive", base::Json()},
              {"io_time_recursive", base::Json()},
              {"sectors_recursive", base::Json()}}},
            {"num_procs", 0},
            {"storage_stats", base::Json::object()},
            {"cpu_stats", cpu_json(now)},
            {"precpu_stats", cpu_json(before)},
            {"memory_stats",
             {{"usage", now.memory},
              {"max_usage", now.cgroup.memory_peak_bytes},
              {"stats", base::Json::object()},
              {"limit", memory_limit}}},
            {"name", "/" + c.name},
            {"id", c.id},
            {"networks", interface_stats(c.state.pid)}};
}

Result<void> stats(const DockerServices& s, http::Request& request, http::ResponseWriter& writer) {
    GROVE_ASSIGN_OR_RETURN(const Container c, s.containers.find(param(request, "id")));
    const bool stream = query_flag(request, "stream", true);
    if (!stream) {
        Sample before;
        if (c.state.running() && !query_flag(request, "one-shot")) {
            before = take_sample(s, c);
            std::this_thread::sleep_for(kPrecpuInterval);
        }
        const Sample now = c.state.running() ? take_sample(s, c) : Sample{};
        return send_json(writer, 200, stats_json(c, now, before));
    }
    GROVE_TRY(start_json_stream(writer));
    const auto stop = request.stop_token();
    Sample before;
    for (;;) {
        GROVE_ASSIGN_OR_RETURN(const Container now_c, s.containers.find(c.id));
        const Sample now = now_c.state.running() ? take_sample(s, now_c) : Sample{};
        GROVE_TRY(write_json_line(writer, stats_json(now_c, now, before)));
        if (!now_c.state.running()) {
            return writer.finish();
        }
        before = now;
        std::mutex mutex;
        std::unique_lock lock(mutex);
        std::condition_variable_any().wait_for(lock, stop, kStatsInterval, [] { return false; });
        if (stop.stop_requested()) {
            return writer.finish();
        }
    }
}

// The pid namespace of `pid` ("pid:[4026531836]"); empty when it is gone.
std::string pid_namespace(const std::string& pid) {
    std::error_code ec;
    return fs::read_symlink(fs::path("/proc") / pid / "ns/pid", ec).string();
}

// The host pids of the processes in the container whose init is `init`.
std::set<std::string> container_pids(int init) {
    std::set<std::string> out{std::to_string(init)};
    const std::string ns = pid_namespace(std::to_string(init));
    if (ns == pid_namespace("self")) {
        return out;  // no namespace of its own: nothing tells its processes from the host's
    }
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/proc", ec)) {
        const std::string name = entry.path().filename().string();
        if (!ns.empty() && name.find_first_not_of("0123456789") == std::string::npos &&
            pid_namespace(name) == ns) {
            out.insert(name);
        }
    }
    return out;
}

std::vector<std::string> fields(const std::string& line, size_t max) {
    std::vector<std::string> out;
    std::istringstream in(line);
    for (std::string word; out.size() + 1 < max && in >> word;) {
        out.push_back(word);
    }
    std::string rest;
    std::getline(in >> std::ws, rest);
    if (!rest.empty()) {
        out.push_back(rest);
    }
    return out;
}

Result<void> top(const DockerServices& s, http::Request& request, http::ResponseWriter& writer) {
    GROVE_ASSIGN_OR_RETURN(const Container c, s.containers.find(param(request, "id")));
    if (!c.state.running()) {
        return base::make_error(Code::kFailedPrecondition, "Container {} is not running", c.id);
    }
    std::vector<std::string> argv{"ps"};
    std::istringstream args(std::string(request.query().get("ps_args").value_or("-ef")));
    for (std::string arg; args >> arg;) {
        argv.push_back(arg);
    }
    GROVE_ASSIGN_OR_RETURN(const auto ps,
                           base::run_command({.argv = argv}, std::chrono::seconds(10)));
    if (!ps.status.success()) {
        return base::make_error(Code::kInternal, "ps: {}", ps.err);
    }
    std::istringstream lines(ps.out);
    std::string header;
    std::getline(lines, header);
    const auto titles = fields(header, std::numeric_limits<size_t>::max());
    const auto pid_column = std::find(titles.begin(), titles.end(), "PID");
    if (pid_column == titles.end()) {
        return base::make_error(Code::kInvalidArgument, "Couldn't find PID field in ps output");
    }
    const size_t column = static_cast<size_t>(pid_column - titles.begin());
    const auto pids = container_pids(c.state.pid);
    base::Json processes = base::Json::array();
    for (std::string line; std::getline(lines, line);) {
        const auto row = fields(line, titles.size());
        if (row.size() > column && pids.contains(row[column])) {
            processes.push_back(row);
        }
    }
    return send_json(writer, 200, {{"Titles", titles}, {"Processes", processes}});
}

}  // namespace

void add_container_stats_routes(http::Router& router, const DockerServices& services) {
    service_route(router, services, "GET", "/containers/{id}/stats", stats);
    service_route(router, services, "GET", "/containers/{id}/top", top);
}

}  // namespace grove::docker_api
