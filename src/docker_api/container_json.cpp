#include "docker_api/container_json.hpp"

#include <cstring>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "daemon/wire_time.hpp"
#include "docker_api/container_mounts_json.hpp"
#include "docker_api/image_names.hpp"
#include "docker_api/network_json.hpp"

namespace grove::docker_api {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

// Docker's units.HumanDuration.
std::string human_duration(int64_t ns) {
    const int64_t seconds = ns / kSecond;
    if (seconds < 1) {
        return "Less than a second";
    }
    if (seconds == 1) {
        return "1 second";
    }
    if (seconds < 60) {
        return fmt::format("{} seconds", seconds);
    }
    const int64_t minutes = seconds / 60;
    if (minutes == 1) {
        return "About a minute";
    }
    if (minutes < 60) {
        return fmt::format("{} minutes", minutes);
    }
    const int64_t hours = minutes / 60;
    if (hours == 1) {
        return "About an hour";
    }
    if (hours < 48) {
        return fmt::format("{} hours", hours);
    }
    return fmt::format("{} days", hours / 24);
}

base::Json or_null(const std::vector<std::string>& list) {
    return list.empty() ? base::Json() : base::Json(list);
}

base::Json host_config(const containers::Container& c, const DockerExtras& e) {
    const auto& limits = c.config.limits;
    return {{"NetworkMode", e.network_mode},
            {"AutoRemove", e.auto_remove},
            {"Privileged", false},
            {"ReadonlyRootfs", c.config.read_only},
            {"Init", c.config.init ? base::Json(true) : base::Json()},
            {"Memory", limits.memory_bytes.value_or(0)},
            {"MemorySwap", limits.memory_bytes ? *limits.memory_bytes : 0},
            {"NanoCpus", static_cast<int64_t>(limits.cpus.value_or(0) * 1e9)},
            {"CpuShares", e.cpu_shares},
            {"CpuQuota", 0},
            {"CpuPeriod", 0},
            {"PidsLimit", limits.pids ? base::Json(*limits.pids) : base::Json()},
            {"RestartPolicy",
             {{"Name", containers::restart_name(c.restart.kind)},
              {"MaximumRetryCount", c.restart.max_retries}}},
            {"Binds", e.mount_config.value("Binds", base::Json())},
            {"Mounts", e.mount_config.value("Mounts", base::Json())},
            {"Tmpfs", e.mount_config.value("Tmpfs", base::Json())},
            {"CapAdd", or_null(e.cap_add)},
            {"CapDrop", or_null(e.cap_drop)},
            {"LogConfig", {{"Type", "json-file"}, {"Config", base::Json::object()}}},
            {"PortBindings", port_bindings(c)},
            {"PublishAllPorts", e.publish_all_ports}};
}

base::Json healthcheck(const containers::Healthcheck& h) {
    return {{"Test", h.test},
            {"Interval", h.interval_ns},
            {"Timeout", h.timeout_ns},
            {"Retries", h.retries},
            {"StartPeriod", h.start_period_ns}};
}

base::Json health(const containers::Health& h) {
    base::Json log = base::Json::array();
    for (const auto& probe : h.log) {
        log.push_back({{"Start", docker_time(probe.start_ns)},
                       {"End", docker_time(probe.end_ns)},
                       {"ExitCode", probe.exit_code},
                       {"Output", probe.output}});
    }
    return {{"Status", h.status}, {"FailingStreak", h.failing_streak}, {"Log", std::move(log)}};
}

std::string image_name(const containers::Container& c, const DockerExtras& e) {
    return e.image_name.empty() ? docker_id(c.image_uuid) : e.image_name;
}

}  // namespace

std::string docker_time(int64_t ns) {
    return ns == 0 ? "0001-01-01T00:00:00Z" : daemon::rfc3339_nanos(ns);
}

std::string command_line(const containers::Container& c) {
    return fmt::format("{}", fmt::join(c.config.argv, " "));
}

std::string status_text(const containers::ContainerState& state, int64_t now_ns) {
    switch (state.status) {
        case containers::Status::kRunning:
            return "Up " + human_duration(now_ns - state.started_ns);
        case containers::Status::kPaused:
            return "Up " + human_duration(now_ns - state.started_ns) + " (Paused)";
        case containers::Status::kRestarting:
            return fmt::format("Restarting ({}) {} ago", state.exit_code,
                               human_duration(now_ns - state.finished_ns));
        case containers::Status::kExited:
            return fmt::format("Exited ({}) {} ago", state.exit_code,
                               human_duration(now_ns - state.finished_ns));
        case containers::Status::kDead:
            return "Dead";
        case containers::Status::kCreated:
            break;
    }
    return "Created";
}

base::Json inspect_json(const containers::Container& c, const DockerExtras& e) {
    const auto& s = c.state;
    const auto& argv = c.config.argv;
    const char* abbrev = ::sigabbrev_np(c.stop_signal);
    const std::string stop_signal = abbrev != nullptr ? "SIG" + std::string(abbrev) : "";
    base::Json out = {
        {"Id", c.id},
        {"Created", docker_time(c.created_ns)},
        {"Path", argv.empty() ? "" : argv.front()},
        {"Args", argv.empty() ? std::vector<std::string>{}
                              : std::vector<std::string>(argv.begin() + 1, argv.end())},
        {"State",
         {{"Status", containers::status_name(s.status)},
          {"Running", s.running()},
          {"Paused", s.status == containers::Status::kPaused},
          {"Restarting", s.status == containers::Status::kRestarting},
          {"OOMKilled", s.oom_killed},
          {"Dead", s.status == containers::Status::kDead},
          {"Pid", s.pid},
          {"ExitCode", s.exit_code},
          {"Error", s.error},
          {"StartedAt", docker_time(s.started_ns)},
          {"FinishedAt", docker_time(s.finished_ns)}}},
        {"Image", docker_id(c.image_uuid)},
        {"ResolvConfPath", ""},
        {"HostnamePath", ""},
        {"HostsPath", ""},
        {"LogPath", ""},
        {"Name", "/" + c.name},
        {"RestartCount", c.restart_count},
        {"Driver", "overlay2"},
        {"Platform", "linux"},
        {"MountLabel", ""},
        {"ProcessLabel", ""},
        {"AppArmorProfile", ""},
        {"ExecIDs", base::Json()},
        {"HostConfig", host_config(c, e)},
        {"GraphDriver", {{"Name", "overlay2"}, {"Data", base::Json()}}},
        {"Mounts", mount_points_json(c)},
        {"Config",
         {{"Hostname", c.config.hostname},
          {"Domainname", ""},
          {"User", c.user},
          {"AttachStdin", e.attach_stdin},
          {"AttachStdout", e.attach_stdout},
          {"AttachStderr", e.attach_stderr},
          {"Tty", c.config.tty},
          {"OpenStdin", c.config.open_stdin},
          {"StdinOnce", e.stdin_once},
          {"Env", c.config.env},
          {"Cmd", or_null(c.cmd)},
          {"Image", image_name(c, e)},
          {"Volumes", base::Json()},
          {"WorkingDir", c.config.cwd == "/" ? "" : c.config.cwd},
          {"Entrypoint", or_null(c.entrypoint)},
          {"OnBuild", base::Json()},
          {"Labels", c.labels},
          {"StopSignal", stop_signal},
          {"StopTimeout", c.stop_timeout_s}}},
        {"NetworkSettings", network_settings(c, e)},
    };
    if (c.health) {
        out["State"]["Health"] = health(*c.health);
    }
    if (c.healthcheck) {
        out["Config"]["Healthcheck"] = healthcheck(*c.healthcheck);
    }
    return out;
}

base::Json list_entry(const containers::Container& c, const DockerExtras& e) {
    return {{"Id", c.id},
            {"Names", {"/" + c.name}},
            {"Image", image_name(c, e)},
            {"ImageID", docker_id(c.image_uuid)},
            {"Command", command_line(c)},
            {"Created", c.created_ns / kSecond},
            {"Ports", list_ports(c)},
            {"Labels", c.labels},
            {"State", containers::status_name(c.state.status)},
            {"Status", status_text(c.state, daemon::now_ns())},
            {"HostConfig", {{"NetworkMode", e.network_mode}}},
            {"NetworkSettings", {{"Networks", network_settings(c, e)["Networks"]}}},
            {"Mounts", mount_points_json(c)}};
}

}  // namespace grove::docker_api
