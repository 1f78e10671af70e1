#include "docker_api/container_spec_json.hpp"

#include <algorithm>

#include "base/error.hpp"
#include "base/parse_number.hpp"
#include "containers/names.hpp"
#include "docker_api/container_mounts_json.hpp"
#include "runtime/caps/capabilities.hpp"

namespace grove::docker_api {
namespace {

using base::json_optional_field;

// Docker's strslice: a list of strings, or one string standing for a list of one.
Result<std::optional<std::vector<std::string>>> string_list(const base::Json& object,
                                                            std::string_view key) {
    const auto it = object.find(key);
    if (it == object.end() || it->is_null()) {
        return std::optional<std::vector<std::string>>();
    }
    if (it->is_string()) {
        return std::optional(std::vector<std::string>{it->get<std::string>()});
    }
    GROVE_ASSIGN_OR_RETURN(
        auto list, base::json_as<std::vector<std::string>>(*it, fmt::format("field '{}'", key)));
    return std::optional(std::move(list));
}

Result<bool> flag(const base::Json& object, std::string_view key) {
    GROVE_ASSIGN_OR_RETURN(const auto value, json_optional_field<bool>(object, key));
    return value.value_or(false);
}

Result<std::string> text(const base::Json& object, std::string_view key) {
    GROVE_ASSIGN_OR_RETURN(auto value, json_optional_field<std::string>(object, key));
    return value.value_or("");
}

Result<int64_t> number(const base::Json& object, std::string_view key) {
    GROVE_ASSIGN_OR_RETURN(const auto value, json_optional_field<int64_t>(object, key));
    return value.value_or(0);
}

// What the engine cannot do is refused, not ignored.
Result<void> refuse_unsupported(const base::Json& host) {
    GROVE_ASSIGN_OR_RETURN(const bool privileged, flag(host, "Privileged"));
    if (privileged) {
        return base::make_error(Code::kInvalidArgument,
                                "privileged containers are not supported by grove");
    }
    for (const char* key : {"VolumesFrom", "Devices"}) {
        const auto it = host.find(key);
        if (it != host.end() && !it->is_null() && !it->empty()) {
            return base::make_error(Code::kInvalidArgument,
                                    "HostConfig.{} is not supported by grove", key);
        }
    }
    return {};
}

// HostConfig.CapAdd/CapDrop applied to grove's default set as dockerd applies them to Docker's;
// `extras` keeps the lists for inspect.
Result<uint64_t> capabilities(const base::Json& host, DockerExtras& extras) {
    GROVE_ASSIGN_OR_RETURN(auto add, string_list(host, "CapAdd"));
    GROVE_ASSIGN_OR_RETURN(auto drop, string_list(host, "CapDrop"));
    extras.cap_add = add.value_or(std::vector<std::string>{});
    extras.cap_drop = drop.value_or(std::vector<std::string>{});
    return runtime::caps::adjust_capabilities(runtime::caps::kDockerDefaultCaps, extras.cap_add,
                                              extras.cap_drop);
}

// "80/tcp" (or "80", tcp): the container's port and protocol.
Result<network::PortBinding> parse_port(std::string_view key) {
    network::PortBinding port;
    const auto slash = key.find('/');
    if (slash != std::string_view::npos) {
        port.protocol = std::string(key.substr(slash + 1));
        key = key.substr(0, slash);
    }
    const auto number = base::parse_number<uint16_t>(key);
    if (!number || *number == 0 || (port.protocol != "tcp" && port.protocol != "udp")) {
        return base::make_error(Code::kInvalidArgument, "invalid port specification: \"{}\"", key);
    }
    port.container_port = *number;
    return port;
}

// Adds to `ports` the keys of `exposed` (an ExposedPorts object: {"80/tcp": {}}) not published
// yet, each on a random host port.
Result<void> publish_exposed(const base::Json& exposed, std::vector<network::PortBinding>& ports) {
    if (!exposed.is_object()) {
        return {};
    }
    for (const auto& [key, unused] : exposed.items()) {
        GROVE_ASSIGN_OR_RETURN(const auto port, parse_port(key));
        const bool bound = std::any_of(ports.begin(), ports.end(), [&](const auto& p) {
            return p.container_port == port.container_port && p.protocol == port.protocol;
        });
        if (!bound) {
            ports.push_back(port);
        }
    }
    return {};
}

// HostConfig.PortBindings, then with PublishAllPorts every exposed port not bound yet on a
// random host port.
Result<std::vector<network::PortBinding>> published_ports(const base::Json& body,
                                                          const base::Json& host) {
    std::vector<network::PortBinding> ports;
    const auto bindings = host.find("PortBindings");
    if (bindings != host.end() && bindings->is_object()) {
        for (const auto& [key, list] : bindings->items()) {
            GROVE_ASSIGN_OR_RETURN(const auto port, parse_port(key));
            if (!list.is_array()) {
                continue;
            }
            for (const auto& item : list) {
                network::PortBinding binding = port;
                GROVE_ASSIGN_OR_RETURN(binding.host_ip, text(item, "HostIp"));
                GROVE_ASSIGN_OR_RETURN(const std::string host_port, text(item, "HostPort"));
                if (!host_port.empty()) {
                    const auto number = base::parse_number<uint16_t>(host_port);
                    if (!number) {
                        return base::make_error(Code::kInvalidArgument, "invalid host port '{}'",
                                                host_port);
                    }
                    binding.host_port = *number;
                }
                ports.push_back(std::move(binding));
            }
        }
    }
    GROVE_ASSIGN_OR_RETURN(const bool publish_all, flag(host, "PublishAllPorts"));
    if (const auto exposed = body.find("ExposedPorts"); publish_all && exposed != body.end()) {
        GROVE_TRY(publish_exposed(*exposed, ports));
    }
    return ports;
}

}  // namespace

Result<runtime::cgroup::Limits> limits_from_json(const base::Json& host) {
    runtime::cgroup::Limits limits;
    if (!host.is_object()) {
        return limits;
    }
    GROVE_ASSIGN_OR_RETURN(const int64_t memory, number(host, "Memory"));
    GROVE_ASSIGN_OR_RETURN(const int64_t nano_cpus, number(host, "NanoCpus"));
    GROVE_ASSIGN_OR_RETURN(const int64_t quota, number(host, "CpuQuota"));
    GROVE_ASSIGN_OR_RETURN(int64_t period, number(host, "CpuPeriod"));
    GROVE_ASSIGN_OR_RETURN(const int64_t pids, number(host, "PidsLimit"));
    if (memory < 0 || nano_cpus < 0 || period < 0) {
        return base::make_error(Code::kInvalidArgument, "negative resource limit");
    }
    if (nano_cpus > 0 && quota > 0) {
        return base::make_error(Code::kInvalidArgument,
                                "Conflicting options: Nano CPUs and CPU Period cannot both be set");
    }
    if (memory > 0) {
        limits.memory_bytes = static_cast<uint64_t>(memory);
    }
    if (nano_cpus > 0) {
        limits.cpus = static_cast<double>(nano_cpus) / 1e9;
    } else if (quota > 0) {
        period = period > 0 ? period : 100'000;  // the kernel's default CFS period
        limits.cpus = static_cast<double>(quota) / static_cast<double>(period);
    }
    if (pids > 0) {  // 0 and -1 are "unlimited" in Docker
        limits.pids = static_cast<uint64_t>(pids);
    }
    return limits;
}

Result<CreateRequest> create_request_from_json(const base::Json& body) {
    if (!body.is_object()) {
        return base::make_error(Code::kInvalidArgument, "the container config must be an object");
    }
    CreateRequest out;
    containers::ContainerSpec& spec = out.spec;
    DockerExtras& extras = out.extras;
    GROVE_ASSIGN_OR_RETURN(spec.image, text(body, "Image"));
    if (spec.image.empty()) {
        return base::make_error(Code::kInvalidArgument, "config.Image must be set");
    }
    extras.image_name = spec.image;
    GROVE_ASSIGN_OR_RETURN(spec.cmd, string_list(body, "Cmd"));
    GROVE_ASSIGN_OR_RETURN(spec.entrypoint, string_list(body, "Entrypoint"));
    GROVE_ASSIGN_OR_RETURN(auto env, string_list(body, "Env"));
    spec.env = env.value_or(std::vector<std::string>{});
    GROVE_ASSIGN_OR_RETURN(spec.workdir, text(body, "WorkingDir"));
    GROVE_ASSIGN_OR_RETURN(spec.user, text(body, "User"));
    GROVE_ASSIGN_OR_RETURN(spec.hostname, text(body, "Hostname"));
    using Labels = std::map<std::string, std::string>;
    GROVE_ASSIGN_OR_RETURN(auto labels, json_optional_field<Labels>(body, "Labels"));
    spec.labels = labels.value_or(Labels{});
    GROVE_ASSIGN_OR_RETURN(spec.tty, flag(body, "Tty"));
    GROVE_ASSIGN_OR_RETURN(spec.open_stdin, flag(body, "OpenStdin"));
    GROVE_ASSIGN_OR_RETURN(extras.stdin_once, flag(body, "StdinOnce"));
    GROVE_ASSIGN_OR_RETURN(extras.attach_stdin, flag(body, "AttachStdin"));
    GROVE_ASSIGN_OR_RETURN(extras.attach_stdout, flag(body, "AttachStdout"));
    GROVE_ASSIGN_OR_RETURN(extras.attach_stderr, flag(body, "AttachStderr"));
    GROVE_ASSIGN_OR_RETURN(const std::string stop_signal, text(body, "StopSignal"));
    if (!stop_signal.empty()) {
        GROVE_ASSIGN_OR_RETURN(spec.stop_signal, containers::parse_signal(stop_signal));
    }
    GROVE_ASSIGN_OR_RETURN(const auto stop_timeout, json_optional_field<int>(body, "StopTimeout"));
    spec.stop_timeout_s = stop_timeout;

    const auto host_it = body.find("HostConfig");
    const base::Json host =
        host_it != body.end() && host_it->is_object() ? *host_it : base::Json::object();
    GROVE_TRY(refuse_unsupported(host));
    GROVE_ASSIGN_OR_RETURN(spec.limits, limits_from_json(host));
    GROVE_ASSIGN_OR_RETURN(spec.capabilities, capabilities(host, extras));
    GROVE_ASSIGN_OR_RETURN(extras.cpu_shares, number(host, "CpuShares"));
    GROVE_ASSIGN_OR_RETURN(extras.publish_all_ports, flag(host, "PublishAllPorts"));
    GROVE_ASSIGN_OR_RETURN(spec.read_only, flag(host, "ReadonlyRootfs"));
    GROVE_ASSIGN_OR_RETURN(spec.mounts, mounts_from_json(body, host));
    for (const char* key : {"Binds", "Mounts", "Tmpfs"}) {
        if (const auto given = host.find(key); given != host.end()) {
            extras.mount_config[key] = *given;
        }
    }
    GROVE_ASSIGN_OR_RETURN(spec.init, flag(host, "Init"));
    GROVE_ASSIGN_OR_RETURN(extras.auto_remove, flag(host, "AutoRemove"));
    GROVE_ASSIGN_OR_RETURN(const std::string network, text(host, "NetworkMode"));
    if (network == "host") {
        spec.network = containers::Network::kHost;
    } else if (network == "none") {
        spec.network = containers::Network::kNone;
    } else if (network.empty() || network == "default" || network == "bridge") {
        spec.network = containers::Network::kBridge;
        GROVE_ASSIGN_OR_RETURN(spec.ports, published_ports(body, host));
    } else {
        return base::make_error(Code::kInvalidArgument, "network mode '{}' is not supported",
                                network);
    }
    extras.network_mode = network.empty() ? "default" : network;

    if (const auto policy = host.find("RestartPolicy");
        policy != host.end() && policy->is_object()) {
        GROVE_ASSIGN_OR_RETURN(const std::string name, text(*policy, "Name"));
        GROVE_ASSIGN_OR_RETURN(const int64_t max, number(*policy, "MaximumRetryCount"));
        GROVE_ASSIGN_OR_RETURN(spec.restart,
                               containers::restart_policy(name, static_cast<int>(max)));
    }
    if (const auto check = body.find("Healthcheck"); check != body.end() && check->is_object()) {
        GROVE_ASSIGN_OR_RETURN(const auto test, string_list(*check, "Test"));
        spec.healthcheck.test = test.value_or(std::vector<std::string>{});
        GROVE_ASSIGN_OR_RETURN(spec.healthcheck.interval_ns, number(*check, "Interval"));
        GROVE_ASSIGN_OR_RETURN(spec.healthcheck.timeout_ns, number(*check, "Timeout"));
        GROVE_ASSIGN_OR_RETURN(const int64_t retries, number(*check, "Retries"));
        spec.healthcheck.retries = static_cast<int>(retries);
        GROVE_ASSIGN_OR_RETURN(spec.healthcheck.start_period_ns, number(*check, "StartPeriod"));
    }
    return out;
}

Result<void> publish_image_ports(const base::Json& image_config, CreateRequest& create) {
    const auto config = image_config.find("config");
    // Off the bridge there is nothing to publish on: dockerd ignores -P there too.
    if (!create.extras.publish_all_ports || create.spec.network != containers::Network::kBridge ||
        config == image_config.end() || !config->is_object()) {
        return {};
    }
    if (const auto exposed = config->find("ExposedPorts"); exposed != config->end()) {
        GROVE_TRY(publish_exposed(*exposed, create.spec.ports));
    }
    return {};
}

}  // namespace grove::docker_api
