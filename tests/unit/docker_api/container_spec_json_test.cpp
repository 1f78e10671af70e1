// The create body as the engine's spec: what docker CLI and docker-py send, and what grove
// refuses rather than ignores.

#include "docker_api/container_spec_json.hpp"

#include <csignal>
#include <linux/capability.h>

#include <gtest/gtest.h>

#include "runtime/caps/capabilities.hpp"

namespace grove::docker_api {
namespace {

Result<CreateRequest> parse(std::string_view text) {
    auto json = base::parse_json(text);
    EXPECT_TRUE(json) << text;
    return create_request_from_json(json.value_or(base::Json()));
}

TEST(ContainerSpecJson, ReadsConfigAndHostConfig) {
    const auto request = parse(R"({
        "Image": "busybox", "Cmd": ["sh", "-c", "echo hi"], "Entrypoint": "/bin/env",
        "Env": ["A=1"], "WorkingDir": "/tmp", "User": "1000:1000", "Hostname": "h",
        "Labels": {"team": "a"}, "Tty": true, "OpenStdin": true, "StdinOnce": true,
        "AttachStdin": true, "AttachStdout": true, "StopSignal": "SIGUSR1", "StopTimeout": 3,
        "HostConfig": {"Memory": 67108864, "NanoCpus": 500000000, "PidsLimit": 64,
                       "ReadonlyRootfs": true, "AutoRemove": true, "NetworkMode": "host",
                       "CpuShares": 512, "CapAdd": null, "Binds": [], "Privileged": false}})");
    ASSERT_TRUE(request) << request.error().to_string();
    const auto& spec = request->spec;
    EXPECT_EQ(spec.image, "busybox");
    EXPECT_EQ(spec.cmd, (std::vector<std::string>{"sh", "-c", "echo hi"}));
    EXPECT_EQ(spec.entrypoint, std::vector<std::string>{"/bin/env"});
    EXPECT_EQ(spec.env, std::vector<std::string>{"A=1"});
    EXPECT_EQ(spec.workdir, "/tmp");
    EXPECT_EQ(spec.user, "1000:1000");
    EXPECT_EQ(spec.hostname, "h");
    EXPECT_EQ(spec.labels.at("team"), "a");
    EXPECT_TRUE(spec.tty);
    EXPECT_TRUE(spec.open_stdin);
    EXPECT_EQ(spec.stop_signal, SIGUSR1);
    EXPECT_EQ(spec.stop_timeout_s, 3);
    EXPECT_EQ(spec.limits.memory_bytes, uint64_t{64} << 20);
    EXPECT_EQ(spec.limits.cpus, 0.5);
    EXPECT_EQ(spec.limits.pids, 64u);
    EXPECT_TRUE(spec.read_only);
    EXPECT_EQ(spec.network, containers::Network::kHost);
    const auto& extras = request->extras;
    EXPECT_EQ(extras.image_name, "busybox");
    EXPECT_TRUE(extras.auto_remove);
    EXPECT_TRUE(extras.stdin_once);
    EXPECT_TRUE(extras.attach_stdin);
    EXPECT_TRUE(extras.attach_stdout);
    EXPECT_FALSE(extras.attach_stderr);
    EXPECT_EQ(extras.network_mode, "host");
    EXPECT_EQ(extras.cpu_shares, 512);
}

TEST(ContainerSpecJson, RestartPolicyAndHealthcheck) {
    const auto request = parse(R"({
        "Image": "busybox",
        "Healthcheck": {"Test": ["CMD-SHELL", "test -e /ready"], "Interval": 1000000000,
                        "Timeout": 2000000000, "Retries": 4, "StartPeriod": 3000000000},
        "HostConfig": {"RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 2}}})");
    ASSERT_TRUE(request) << request.error().to_string();
    const auto& spec = request->spec;
    EXPECT_EQ(spec.restart.kind, containers::RestartKind::kOnFailure);
    EXPECT_EQ(spec.restart.max_retries, 2);
    EXPECT_EQ(spec.healthcheck.test, (std::vector<std::string>{"CMD-SHELL", "test -e /ready"}));
    EXPECT_EQ(spec.healthcheck.interval_ns, 1'000'000'000);
    EXPECT_EQ(spec.healthcheck.timeout_ns, 2'000'000'000);
    EXPECT_EQ(spec.healthcheck.retries, 4);
    EXPECT_EQ(spec.healthcheck.start_period_ns, 3'000'000'000);

    const auto bad =
        parse(R"({"Image": "busybox", "HostConfig": {"RestartPolicy": {"Name": "x"}}})");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code(), Code::kInvalidArgument);
}

TEST(ContainerSpecJson, DefaultsAndQuota) {
    const auto request =
        parse(R"({"Image": "busybox", "HostConfig": {"CpuQuota": 50000, "CpuPeriod": 100000}})");
    ASSERT_TRUE(request) << request.error().to_string();
    EXPECT_FALSE(request->spec.cmd);
    EXPECT_FALSE(request->spec.entrypoint);
    EXPECT_EQ(request->spec.limits.cpus, 0.5);
    EXPECT_FALSE(request->spec.limits.memory_bytes);
    EXPECT_EQ(request->spec.network, containers::Network::kBridge);  // Docker's default
    EXPECT_TRUE(request->spec.ports.empty());
    EXPECT_EQ(request->extras.network_mode, "default");
    EXPECT_FALSE(request->spec.stop_timeout_s);
}

TEST(ContainerSpecJson, PublishedPorts) {
    const auto request = parse(R"({"Image": "busybox",
        "ExposedPorts": {"80/tcp": {}, "53/udp": {}, "9000": {}},
        "HostConfig": {"PublishAllPorts": true, "PortBindings": {
            "80/tcp": [{"HostIp": "", "HostPort": "8080"}, {"HostIp": "127.0.0.1", "HostPort": ""}],
            "53/udp": [{"HostIp": "127.0.0.1", "HostPort": "0"}]}}})");
    ASSERT_TRUE(request) << request.error().to_string();
    using network::PortBinding;
    const std::vector<PortBinding> expected{
        {.protocol = "udp", .container_port = 53, .host_ip = "127.0.0.1", .host_port = 0},
        {.protocol = "tcp", .container_port = 80, .host_ip = "", .host_port = 8080},
        {.protocol = "tcp", .container_port = 80, .host_ip = "127.0.0.1", .host_port = 0},
        // Exposed and not bound: a random port with PublishAllPorts.
        {.protocol = "tcp", .container_port = 9000, .host_ip = "", .host_port = 0}};
    EXPECT_EQ(request->spec.ports, expected);
    const auto none = parse(R"({"Image": "busybox", "HostConfig": {"NetworkMode": "none"}})");
    ASSERT_TRUE(none);
    EXPECT_EQ(none->spec.network, containers::Network::kNone);
    const auto bad =
        parse(R"({"Image": "busybox", "HostConfig": {"PortBindings": {"80/sctp": []}}})");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code(), Code::kInvalidArgument);
}

// -P also publishes the image's ExposedPorts, after the container's own, each port once.
TEST(ContainerSpecJson, PublishAllAddsTheImagesExposedPorts) {
    const auto image = base::parse_json(
        R"({"config": {"ExposedPorts": {"80/tcp": {}, "443/tcp": {}, "9000/tcp": {}}}})");
    ASSERT_TRUE(image);
    auto all = parse(R"({"Image": "web", "ExposedPorts": {"9000/tcp": {}},
        "HostConfig": {"PublishAllPorts": true,
                       "PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}}})");
    ASSERT_TRUE(all) << all.error().to_string();
    ASSERT_TRUE(publish_image_ports(*image, *all));
    using network::PortBinding;
    const std::vector<PortBinding> expected{
        {.protocol = "tcp", .container_port = 80, .host_ip = "", .host_port = 8080},
        {.protocol = "tcp", .container_port = 9000, .host_ip = "", .host_port = 0},
        {.protocol = "tcp", .container_port = 443, .host_ip = "", .host_port = 0}};
    EXPECT_EQ(all->spec.ports, expected);
    EXPECT_TRUE(all->extras.publish_all_ports);

    auto plain = parse(R"({"Image": "web"})");
    ASSERT_TRUE(plain);
    ASSERT_TRUE(publish_image_ports(*image, *plain));
    EXPECT_TRUE(plain->spec.ports.empty());
    auto host = parse(R"({"Image": "web", "HostConfig": {"PublishAllPorts": true,
                                                          "NetworkMode": "host"}})");
    ASSERT_TRUE(host);
    ASSERT_TRUE(publish_image_ports(*image, *host));
    EXPECT_TRUE(host->spec.ports.empty());
}

TEST(ContainerSpecJson, ReadsBindsMountsTmpfsAndVolumes) {
    const auto request = parse(R"({
        "Image": "busybox", "Volumes": {"/anon": {}, "/data": {}},
        "HostConfig": {
            "Binds": ["/srv/data:/data:ro,z", "named:/n", "/lone"],
            "Mounts": [{"Type": "bind", "Source": "/etc/f", "Target": "/f", "ReadOnly": true},
                       {"Type": "volume", "Source": "", "Target": "/v"},
                       {"Type": "tmpfs", "Target": "/t",
                        "TmpfsOptions": {"SizeBytes": 1048576, "Mode": 1023}}],
            "Tmpfs": {"/run": "exec,size=64m"}}})");
    ASSERT_TRUE(request) << request.error().to_string();
    using Type = containers::ContainerMount::Type;
    const auto& m = request->spec.mounts;
    ASSERT_EQ(m.size(), 8u);
    EXPECT_EQ(m[0].type, Type::kBind);
    EXPECT_EQ(m[0].source, "/srv/data");
    EXPECT_EQ(m[0].target, "/data");
    EXPECT_TRUE(m[0].read_only);
    EXPECT_TRUE(m[0].create_source) << "-v makes a missing host directory";
    EXPECT_EQ(m[1].type, Type::kVolume);
    EXPECT_EQ(m[1].name, "named");
    EXPECT_FALSE(m[1].read_only);
    EXPECT_EQ(m[2].type, Type::kVolume);  // a path alone, as docker-py sends -v /path
    EXPECT_EQ(m[2].target, "/lone");
    EXPECT_EQ(m[2].name, "");
    EXPECT_EQ(m[3].type, Type::kBind);
    EXPECT_FALSE(m[3].create_source) << "--mount refuses a missing source";
    EXPECT_TRUE(m[3].read_only);
    EXPECT_EQ(m[4].type, Type::kVolume);
    EXPECT_EQ(m[4].name, "");  // anonymous
    EXPECT_EQ(m[5].type, Type::kTmpfs);
    EXPECT_EQ(m[5].tmpfs_options, "size=1048576,mode=1777");
    EXPECT_EQ(m[6].target, "/run");
    EXPECT_EQ(m[6].tmpfs_options, "exec,size=64m");
    // Config.Volumes: /data is bound already, /anon gets an anonymous volume.
    EXPECT_EQ(m[7].type, Type::kVolume);
    EXPECT_EQ(m[7].target, "/anon");
    EXPECT_EQ(request->extras.mount_config["Binds"][1], "named:/n");
}

TEST(ContainerSpecJson, CapAddAndCapDropChangeTheDefaultSet) {
    using runtime::caps::cap_bit;
    using runtime::caps::kDockerDefaultCaps;
    const auto plain = parse(R"({"Image": "busybox", "HostConfig": {"CapAdd": null}})");
    ASSERT_TRUE(plain);
    EXPECT_EQ(plain->spec.capabilities, kDockerDefaultCaps);
    EXPECT_TRUE(plain->extras.cap_add.empty());
    EXPECT_TRUE(plain->extras.cap_drop.empty());

    const auto changed = parse(R"({"Image": "busybox",
        "HostConfig": {"CapAdd": ["net_raw", "CAP_SYS_ADMIN"], "CapDrop": "chown"}})");
    ASSERT_TRUE(changed) << changed.error().to_string();
    EXPECT_EQ(changed->spec.capabilities, (kDockerDefaultCaps & ~cap_bit(CAP_CHOWN)) |
                                              cap_bit(CAP_NET_RAW) | cap_bit(CAP_SYS_ADMIN));
    // As the client wrote them, for inspect.
    EXPECT_EQ(changed->extras.cap_add, (std::vector<std::string>{"net_raw", "CAP_SYS_ADMIN"}));
    EXPECT_EQ(changed->extras.cap_drop, std::vector<std::string>{"chown"});

    const auto only = parse(R"({"Image": "busybox",
        "HostConfig": {"CapAdd": ["CHOWN"], "CapDrop": ["ALL"]}})");
    ASSERT_TRUE(only);
    EXPECT_EQ(only->spec.capabilities, cap_bit(CAP_CHOWN));
}

TEST(ContainerSpecJson, UnknownCapabilityInDockerdsWords) {
    const auto request = parse(R"({"Image": "busybox", "HostConfig": {"CapAdd": ["foo"]}})");
    ASSERT_FALSE(request);
    EXPECT_EQ(request.error().code(), Code::kInvalidArgument);
    EXPECT_EQ(request.error().message(), "unknown capability: \"CAP_FOO\"");
}

TEST(ContainerSpecJson, RefusesWhatTheEngineCannotDo) {
    for (
        const char* body : {
            R"({"Image": "busybox", "HostConfig": {"Privileged": true}})",
            R"({"Image": "busybox", "HostConfig": {"CapAdd": ["NET_NOPE"]}})",
            R"({"Image": "busybox", "HostConfig": {"CapDrop": ["CAP_NOPE"]}})",
            R"({"Image": "busybox", "HostConfig": {"Binds": [":/x"]}})",
            R"({"Image": "busybox", "HostConfig": {"Binds": ["/a:/b:rw:x"]}})",
            R"({"Image": "busybox", "HostConfig": {"Binds": ["/a:/b:fast"]}})",
            R"({"Image": "busybox", "HostConfig": {"Mounts": [{"Type": "npipe", "Target": "/x"}]}})",
            R"({"Image": "busybox", "HostConfig": {"Mounts": [{"Type": "bind", "Target": "/x"}]}})",
            R"({"Image": "busybox", "HostConfig": {"Mounts": [{"Type": "tmpfs", "Source": "/a",
                                                              "Target": "/x"}]}})",
            R"({"Image": "busybox", "HostConfig": {"Mounts": [{"Type": "volume"}]}})",
            R"({"Image": "busybox", "HostConfig": {"NetworkMode": "container:x"}})",
            R"({"Image": "busybox", "HostConfig": {"NanoCpus": 1, "CpuQuota": 1}})",
            R"({"Image": "busybox", "StopSignal": "SIGNOPE"})",
            R"({"Image": "busybox", "Cmd": 3})",
            R"({"Cmd": ["true"]})",
        }) {
        const auto request = parse(body);
        ASSERT_FALSE(request) << body;
        EXPECT_EQ(request.error().code(), Code::kInvalidArgument) << body;
    }
}

}  // namespace
}  // namespace grove::docker_api
