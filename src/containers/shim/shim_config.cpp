#include "containers/shim/shim_config.hpp"

#include <chrono>
#include <fcntl.h>
#include <unistd.h>

#include "base/error.hpp"
#include "base/json.hpp"
#include "base/unique_fd.hpp"

namespace grove::containers {
namespace {

base::Json limits_json(const runtime::cgroup::Limits& limits) {
    base::Json out = base::Json::object();
    if (limits.memory_bytes) {
        out["memory_bytes"] = *limits.memory_bytes;
    }
    if (limits.pids) {
        out["pids"] = *limits.pids;
    }
    if (limits.cpus) {
        out["cpus"] = *limits.cpus;
    }
    return out;
}

Result<runtime::cgroup::Limits> limits_from(const base::Json& json) {
    runtime::cgroup::Limits limits;
    GROVE_ASSIGN_OR_RETURN(limits.memory_bytes,
                           base::json_optional_field<uint64_t>(json, "memory_bytes"));
    GROVE_ASSIGN_OR_RETURN(limits.pids, base::json_optional_field<uint64_t>(json, "pids"));
    GROVE_ASSIGN_OR_RETURN(limits.cpus, base::json_optional_field<double>(json, "cpus"));
    return limits;
}

base::Json ports_json(const std::vector<network::PortBinding>& ports) {
    base::Json out = base::Json::array();
    for (const auto& port : ports) {
        out.push_back({{"protocol", port.protocol},
                       {"container_port", port.container_port},
                       {"host_ip", port.host_ip},
                       {"host_port", port.host_port}});
    }
    return out;
}

Result<std::vector<network::PortBinding>> ports_from(const base::Json& json) {
    std::vector<network::PortBinding> ports;
    for (const auto& item : json) {
        network::PortBinding port;
        GROVE_ASSIGN_OR_RETURN(port.protocol, base::json_field<std::string>(item, "protocol"));
        GROVE_ASSIGN_OR_RETURN(port.container_port,
                               base::json_field<uint16_t>(item, "container_port"));
        GROVE_ASSIGN_OR_RETURN(port.host_ip, base::json_field<std::string>(item, "host_ip"));
        GROVE_ASSIGN_OR_RETURN(port.host_port, base::json_field<uint16_t>(item, "host_port"));
        ports.push_back(std::move(port));
    }
    return ports;
}

base::Json mounts_json(const std::vector<ContainerMount>& mounts) {
    base::Json out = base::Json::array();
    for (const auto& m : mounts) {
        out.push_back({{"type", mount_type_name(m.type)},
                       {"source", m.source},
                       {"name", m.name},
                       {"target", m.target},
                       {"read_only", m.read_only},
                       {"anonymous", m.anonymous},
                       {"create_source", m.create_source},
                       {"tmpfs_options", m.tmpfs_options}});
    }
    return out;
}

Result<std::vector<ContainerMount>> mounts_from(const base::Json& json) {
    std::vector<ContainerMount> mounts;
    for (const auto& item : json) {
        ContainerMount m;
        GROVE_ASSIGN_OR_RETURN(const auto type, base::json_field<std::string>(item, "type"));
        m.type = type == "volume"  ? ContainerMount::Type::kVolume
                 : type == "tmpfs" ? ContainerMount::Type::kTmpfs
                                   : ContainerMount::Type::kBind;
        GROVE_ASSIGN_OR_RETURN(m.source, base::json_field<std::string>(item, "source"));
        GROVE_ASSIGN_OR_RETURN(m.name, base::json_field<std::string>(item, "name"));
        GROVE_ASSIGN_OR_RETURN(m.target, base::json_field<std::string>(item, "target"));
        GROVE_ASSIGN_OR_RETURN(m.read_only, base::json_field<bool>(item, "read_only"));
        GROVE_ASSIGN_OR_RETURN(m.anonymous, base::json_field<bool>(item, "anonymous"));
        GROVE_ASSIGN_OR_RETURN(m.create_source, base::json_field<bool>(item, "create_source"));
        GROVE_ASSIGN_OR_RETURN(m.tmpfs_options,
                               base::json_field<std::string>(item, "tmpfs_options"));
        mounts.push_back(std::move(m));
    }
    return mounts;
}

}  // namespace

std::string_view mount_type_name(ContainerMount::Type type) {
    switch (type) {
        case ContainerMount::Type::kVolume:
            return "volume";
        case ContainerMount::Type::kTmpfs:
            return "tmpfs";
        case ContainerMount::Type::kBind:
            break;
    }
    return "bind";
}

Result<std::string> to_json(const ShimConfig& config) {
    std::vector<std::string> lowers;
    for (const auto& lower : config.lowers) {
        lowers.push_back(lower.string());
    }
    const base::Json json = {
        {"id", config.id},
        {"lowers", lowers},
        {"argv", config.argv},
        {"env", config.env},
        {"cwd", config.cwd},
        {"uid", config.uid},
        {"gid", config.gid},
        {"hostname", config.hostname},
        {"host_network", config.host_network},
        {"network_dir", config.network_dir.string()},
        {"ports", ports_json(config.ports)},
        {"tty", config.tty},
        {"open_stdin", config.open_stdin},
        {"read_only", config.read_only},
        {"mounts", mounts_json(config.mounts)},
        {"init", config.init},
        {"limits", limits_json(config.limits)},
        {"capabilities", config.capabilities},
        {"log_max_bytes", config.log_max_bytes},
    };
    return base::dump_json(json);
}

Result<ShimConfig> shim_config_from_json(std::string_view text) {
    GROVE_ASSIGN_OR_RETURN(const auto json, base::parse_json(text));
    ShimConfig config;
    GROVE_ASSIGN_OR_RETURN(config.id, base::json_field<std::string>(json, "id"));
    GROVE_ASSIGN_OR_RETURN(const auto lowers,
                           base::json_field<std::vector<std::string>>(json, "lowers"));
    config.lowers.assign(lowers.begin(), lowers.end());
    GROVE_ASSIGN_OR_RETURN(config.argv, base::json_field<std::vector<std::string>>(json, "argv"));
    GROVE_ASSIGN_OR_RETURN(config.env, base::json_field<std::vector<std::string>>(json, "env"));
    GROVE_ASSIGN_OR_RETURN(config.cwd, base::json_field<std::string>(json, "cwd"));
    GROVE_ASSIGN_OR_RETURN(config.uid, base::json_field<uint32_t>(json, "uid"));
    GROVE_ASSIGN_OR_RETURN(config.gid, base::json_field<uint32_t>(json, "gid"));
    GROVE_ASSIGN_OR_RETURN(config.hostname, base::json_field<std::string>(json, "hostname"));
    GROVE_ASSIGN_OR_RETURN(config.host_network, base::json_field<bool>(json, "host_network"));
    // Both absent from the records of containers made before the bridge network.
    GROVE_ASSIGN_OR_RETURN(const auto network_dir,
                           base::json_optional_field<std::string>(json, "network_dir"));
    config.network_dir = network_dir.value_or("");
    if (json.contains("ports")) {
        GROVE_ASSIGN_OR_RETURN(config.ports, ports_from(json["ports"]));
    }
    GROVE_ASSIGN_OR_RETURN(config.tty, base::json_field<bool>(json, "tty"));
    GROVE_ASSIGN_OR_RETURN(config.open_stdin, base::json_field<bool>(json, "open_stdin"));
    GROVE_ASSIGN_OR_RETURN(config.read_only, base::json_field<bool>(json, "read_only"));
    if (json.contains("mounts")) {  // absent from the records of containers made before
        GROVE_ASSIGN_OR_RETURN(config.mounts, mounts_from(json["mounts"]));
    }
    // Absent from the records of containers made before it.
    GROVE_ASSIGN_OR_RETURN(const auto init, base::json_optional_field<bool>(json, "init"));
    config.init = init.value_or(false);
    GROVE_ASSIGN_OR_RETURN(const auto limits, base::json_field<base::Json>(json, "limits"));
    GROVE_ASSIGN_OR_RETURN(config.limits, limits_from(limits));
    // Absent from the records of containers made before CapAdd/CapDrop.
    GROVE_ASSIGN_OR_RETURN(const auto capabilities,
                           base::json_optional_field<uint64_t>(json, "capabilities"));
    config.capabilities = capabilities.value_or(runtime::caps::kDockerDefaultCaps);
    GROVE_ASSIGN_OR_RETURN(config.log_max_bytes, base::json_field<uint64_t>(json, "log_max_bytes"));
    return config;
}

std::string to_json(const NetworkState& state) {
    return base::dump_json({{"ip_address", state.ip_address},
                            {"prefix_len", state.prefix_len},
                            {"gateway", state.gateway},
                            {"mac_address", state.mac_address},
                            {"ports", ports_json(state.ports)}});
}

Result<NetworkState> network_state_from_json(std::string_view text) {
    GROVE_ASSIGN_OR_RETURN(const auto json, base::parse_json(text));
    NetworkState state;
    GROVE_ASSIGN_OR_RETURN(state.ip_address, base::json_field<std::string>(json, "ip_address"));
    GROVE_ASSIGN_OR_RETURN(state.prefix_len, base::json_field<int>(json, "prefix_len"));
    GROVE_ASSIGN_OR_RETURN(state.gateway, base::json_field<std::string>(json, "gateway"));
    GROVE_ASSIGN_OR_RETURN(state.mac_address, base::json_field<std::string>(json, "mac_address"));
    GROVE_ASSIGN_OR_RETURN(const auto ports, base::json_field<base::Json>(json, "ports"));
    GROVE_ASSIGN_OR_RETURN(state.ports, ports_from(ports));
    return state;
}

std::string to_json(const ExitRecord& record) {
    return base::dump_json({{"exit_code", record.exit_code},
                            {"signal", record.signal},
                            {"oom_killed", record.oom_killed},
                            {"finished_ns", record.finished_ns},
                            {"error", record.error}});
}

Result<ExitRecord> exit_record_from_json(std::string_view text) {
    GROVE_ASSIGN_OR_RETURN(const auto json, base::parse_json(text));
    ExitRecord record;
    GROVE_ASSIGN_OR_RETURN(record.exit_code, base::json_field<int>(json, "exit_code"));
    GROVE_ASSIGN_OR_RETURN(record.signal, base::json_field<int>(json, "signal"));
    GROVE_ASSIGN_OR_RETURN(record.oom_killed, base::json_field<bool>(json, "oom_killed"));
    GROVE_ASSIGN_OR_RETURN(record.finished_ns, base::json_field<int64_t>(json, "finished_ns"));
    GROVE_ASSIGN_OR_RETURN(record.error, base::json_field<std::string>(json, "error"));
    return record;
}

Result<void> write_file_atomically(const std::filesystem::path& path, std::string_view data) {
    const std::filesystem::path tmp = path.string() + ".tmp";
    {
        GROVE_ASSIGN_OR_RETURN(auto fd,
                               base::UniqueFd::open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600));
        GROVE_TRY(base::write_all(fd.get(), data));
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        return base::last_errno_error("rename '{}' to '{}'", tmp.string(), path.string());
    }
    return {};
}

std::string to_json(const ExecRequest& request) {
    return base::dump_json({{"argv", request.argv},
                            {"env", request.env},
                            {"cwd", request.cwd},
                            {"uid", request.uid},
                            {"gid", request.gid},
                            {"tty", request.tty},
                            {"open_stdin", request.open_stdin}});
}

Result<ExecRequest> exec_request_from_json(std::string_view text) {
    GROVE_ASSIGN_OR_RETURN(const auto json, base::parse_json(text));
    ExecRequest r;
    GROVE_ASSIGN_OR_RETURN(r.argv, base::json_field<std::vector<std::string>>(json, "argv"));
    GROVE_ASSIGN_OR_RETURN(r.env, base::json_field<std::vector<std::string>>(json, "env"));
    GROVE_ASSIGN_OR_RETURN(r.cwd, base::json_field<std::string>(json, "cwd"));
    GROVE_ASSIGN_OR_RETURN(r.uid, base::json_field<uint32_t>(json, "uid"));
    GROVE_ASSIGN_OR_RETURN(r.gid, base::json_field<uint32_t>(json, "gid"));
    GROVE_ASSIGN_OR_RETURN(r.tty, base::json_field<bool>(json, "tty"));
    GROVE_ASSIGN_OR_RETURN(r.open_stdin, base::json_field<bool>(json, "open_stdin"));
    return r;
}

std::string limits_to_json(const runtime::cgroup::Limits& limits) {
    return base::dump_json(limits_json(limits));
}

Result<runtime::cgroup::Limits> limits_from_json(std::string_view text) {
    GROVE_ASSIGN_OR_RETURN(const auto json, base::parse_json(text));
    return limits_from(json);
}

namespace {

base::Json blkio_to_json(const std::vector<runtime::cgroup::BlkioEntry>& entries) {
    base::Json out = base::Json::array();
    for (const auto& e : entries) {
        out.push_back({e.major, e.minor, e.op, e.value});
    }
    return out;
}

// Absent in the reply of a shim from before blkio counters: none.
Result<std::vector<runtime::cgroup::BlkioEntry>> blkio_from_json(const base::Json& json,
                                                                 std::string_view key) {
    std::vector<runtime::cgroup::BlkioEntry> out;
    if (!json.contains(key)) {
        return out;
    }
    const base::Json& list = json[std::string(key)];
    for (const auto& e : list.is_array() ? list : base::Json::array()) {
        if (!e.is_array() || e.size() != 4 || !e[0].is_number_unsigned() ||
            !e[1].is_number_unsigned() || !e[2].is_string() || !e[3].is_number_unsigned()) {
            return base::make_error(Code::kInvalidArgument, "bad '{}' entry: {}", key, e.dump());
        }
        out.push_back({e[0].get<uint64_t>(), e[1].get<uint64_t>(), e[2].get<std::string>(),
                       e[3].get<uint64_t>()});
    }
    return out;
}

}  // namespace

std::string stats_to_json(const runtime::cgroup::Stats& stats) {
    return base::dump_json({{"memory_peak_bytes", stats.memory_peak_bytes},
                            {"cpu_usage_ns", stats.cpu_usage_ns},
                            {"pids_current", stats.pids_current},
                            {"oom_killed", stats.oom_killed},
                            {"io_service_bytes", blkio_to_json(stats.io_service_bytes)},
                            {"io_serviced", blkio_to_json(stats.io_serviced)}});
}

Result<runtime::cgroup::Stats> stats_from_json(std::string_view text) {
    GROVE_ASSIGN_OR_RETURN(const auto json, base::parse_json(text));
    runtime::cgroup::Stats stats;
    GROVE_ASSIGN_OR_RETURN(stats.memory_peak_bytes,
                           base::json_field<uint64_t>(json, "memory_peak_bytes"));
    GROVE_ASSIGN_OR_RETURN(stats.cpu_usage_ns, base::json_field<uint64_t>(json, "cpu_usage_ns"));
    GROVE_ASSIGN_OR_RETURN(stats.pids_current, base::json_field<uint64_t>(json, "pids_current"));
    GROVE_ASSIGN_OR_RETURN(stats.oom_killed, base::json_field<bool>(json, "oom_killed"));
    GROVE_ASSIGN_OR_RETURN(stats.io_service_bytes, blkio_from_json(json, "io_service_bytes"));
    GROVE_ASSIGN_OR_RETURN(stats.io_serviced, blkio_from_json(json, "io_serviced"));
    return stats;
}

int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace grove::containers
