#include "runtime/oci/config.hpp"

#include <algorithm>
#include <cerrno>
#include <sys/resource.h>

#include <gtest/gtest.h>

#include "runtime/seccomp/profile.hpp"

namespace grove::runtime::oci {
namespace {

using base::Json;

ContainerSpec sample_spec() {
    ContainerSpec spec;
    spec.process.argv = {"/bin/sh", "-c", "echo hi"};
    spec.process.env = {"PATH=/bin", "HOME=/root"};
    spec.process.cwd = "/work";
    spec.process.uid = 1000;
    spec.process.gid = 1001;
    spec.process.groups = {10, 1002};
    spec.process.hostname = "box";
    spec.process.rlimits = {{.resource = RLIMIT_NOFILE, .soft = 1024, .hard = 4096}};
    spec.rootfs = {.rootfs = "/var/lib/grove/runs/1/rootfs",
                   .generated_files = {{"etc/hostname", "box\n"},
                                       {"etc/hosts", "127.0.0.1\tlocalhost\n"},
                                       {"etc/resolv.conf", "# no network\n"}}};
    spec.files_dir = "/var/lib/grove/runs/1/files";
    return spec;
}

Json config_of(const ContainerSpec& spec) {
    auto config = make_config(spec);
    EXPECT_TRUE(config.has_value()) << config.error().to_string();
    return config.value_or(Json());
}

std::vector<std::string> strings(const Json& array) {
    return array.get<std::vector<std::string>>();
}

const Json* find_mount(const Json& config, const std::string& destination) {
    for (const auto& mount : config["mounts"]) {
        if (mount["destination"] == destination) {
            return &mount;
        }
    }
    return nullptr;
}

TEST(OciConfig, ProcessCarriesTheSpec) {
    const Json config = config_of(sample_spec());
    EXPECT_EQ(config["ociVersion"], "1.0.2");
    const Json& process = config["process"];
    EXPECT_EQ(process["terminal"], false);
    EXPECT_EQ(strings(process["args"]), (std::vector<std::string>{"/bin/sh", "-c", "echo hi"}));
    EXPECT_EQ(strings(process["env"]), (std::vector<std::string>{"PATH=/bin", "HOME=/root"}));
    EXPECT_EQ(process["cwd"], "/work");
    EXPECT_EQ(process["user"]["uid"], 1000);
    EXPECT_EQ(process["user"]["gid"], 1001);
    EXPECT_EQ(process["user"]["additionalGids"], Json::array({10, 1002}));
    EXPECT_EQ(process["noNewPrivileges"], true);
    EXPECT_FALSE(process.contains("oomScoreAdj"));
    ASSERT_EQ(process["rlimits"].size(), 1U);
    EXPECT_EQ(process["rlimits"][0],
              (Json{{"type", "RLIMIT_NOFILE"}, {"soft", 1024}, {"hard", 4096}}));
    EXPECT_EQ(config["hostname"], "box");
    EXPECT_EQ(config["root"],
              (Json{{"path", "/var/lib/grove/runs/1/rootfs"}, {"readonly", false}}));
}

TEST(OciConfig, CapabilitiesInEverySetButAmbient) {
    const Json caps = config_of(sample_spec())["process"]["capabilities"];
    // Docker's default set minus NET_RAW and MKNOD, in bit order.
    const std::vector<std::string> expected = {
        "CAP_CHOWN",      "CAP_DAC_OVERRIDE", "CAP_FOWNER",
        "CAP_FSETID",     "CAP_KILL",         "CAP_SETGID",
        "CAP_SETUID",     "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE",
        "CAP_SYS_CHROOT", "CAP_AUDIT_WRITE",  "CAP_SETFCAP"};
    for (const char* set : {"bounding", "effective", "inheritable", "permitted"}) {
        EXPECT_EQ(strings(caps[set]), expected) << set;
    }
    EXPECT_EQ(caps["ambient"], Json::array());

    ContainerSpec none = sample_spec();
    none.process.capabilities = 0;
    EXPECT_EQ(config_of(none)["process"]["capabilities"]["bounding"], Json::array());
}

TEST(OciConfig, UnknownCapabilityOrRlimitIsRejected) {
    ContainerSpec spec = sample_spec();
    spec.process.capabilities = uint64_t{1} << 63;
    auto config = make_config(spec);
    ASSERT_FALSE(config.has_value());
    EXPECT_EQ(config.error().code(), Code::kInvalidArgument);

    spec = sample_spec();
    spec.process.rlimits = {{.resource = 99, .soft = 1, .hard = 1}};
    EXPECT_FALSE(make_config(spec).has_value());

    spec = sample_spec();
    spec.process.argv.clear();
    EXPECT_FALSE(make_config(spec).has_value());

    spec = sample_spec();
    spec.process.cwd = "relative";
    EXPECT_FALSE(make_config(spec).has_value());
}

TEST(OciConfig, NamesMatchTheKernelsNumbers) {
    EXPECT_EQ(rlimit_name(RLIMIT_NPROC), "RLIMIT_NPROC");
    EXPECT_EQ(rlimit_name(RLIMIT_RTTIME), "RLIMIT_RTTIME");
}

TEST(OciConfig, MountsMirrorTheNativePlan) {
    const Json config = config_of(sample_spec());
    std::vector<std::string> destinations;
    for (const auto& mount : config["mounts"]) {
        destinations.push_back(mount["destination"]);
    }
    EXPECT_EQ(destinations, (std::vector<std::string>{"/proc", "/dev", "/dev/pts", "/dev/shm",
                                                      "/dev/mqueue", "/sys", "/etc/hostname",
                                                      "/etc/hosts", "/etc/resolv.conf"}));
    const Json* sys = find_mount(config, "/sys");
    ASSERT_NE(sys, nullptr);
    EXPECT_EQ((*sys)["type"], "sysfs");
    const auto sys_options = strings((*sys)["options"]);
    EXPECT_NE(std::find(sys_options.begin(), sys_options.end(), "ro"), sys_options.end());

    const Json* dev = find_mount(config, "/dev");
    ASSERT_NE(dev, nullptr);
    EXPECT_EQ((*dev)["type"], "tmpfs");
    EXPECT_EQ(strings((*dev)["options"]),
              (std::vector<std::string>{"nosuid", "strictatime", "mode=755", "size=65536k"}));

    const Json* hosts = find_mount(config, "/etc/hosts");
    ASSERT_NE(hosts, nullptr);
    EXPECT_EQ((*hosts)["type"], "bind");
    EXPECT_EQ((*hosts)["source"], "/var/lib/grove/runs/1/files/etc_hosts");
    EXPECT_EQ(strings((*hosts)["options"]), (std::vector<std::string>{"rbind", "rprivate"}));

    ContainerSpec bare = sample_spec();
    bare.rootfs.generated_files.clear();
    EXPECT_EQ(find_mount(config_of(bare), "/etc/hosts"), nullptr) << "no file, no bind";
}

TEST(OciConfig, NamespacesAndHostNetwork) {
    const auto types = [](const Json& config) {
        std::vector<std::string> out;
        for (const auto& ns : config["linux"]["namespaces"]) {
            EXPECT_FALSE(ns.contains("path")) << "always fresh namespaces";
            out.push_back(ns["type"]);
        }
        return out;
    };
    ContainerSpec spec = sample_spec();
    EXPECT_EQ(types(config_of(spec)),
              (std::vector<std::string>{"pid", "mount", "ipc", "uts", "cgroup", "network"}));
    spec.process.new_network = false;
    EXPECT_EQ(types(config_of(spec)),
              (std::vector<std::string>{"pid", "mount", "ipc", "uts", "cgroup"}));
}

TEST(OciConfig, MaskedAndReadonlyPathsAreDockersByDefault) {
    const Json config = config_of(sample_spec());
    const auto masked = strings(config["linux"]["maskedPaths"]);
    EXPECT_EQ(masked.size(), rootfs::kDefaultMaskedPaths.size());
    EXPECT_NE(std::find(masked.begin(), masked.end(), "/proc/kcore"), masked.end());
    EXPECT_NE(std::find(masked.begin(), masked.end(), "/sys/firmware"), masked.end());
    const auto readonly = strings(config["linux"]["readonlyPaths"]);
    EXPECT_EQ(readonly, (std::vector<std::string>{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                                  "/proc/sysrq-trigger"}));

    ContainerSpec custom = sample_spec();
    custom.rootfs.masked_paths = {"proc/secret"};
    custom.rootfs.readonly_paths = {"/data"};
    const Json c = config_of(custom);
    EXPECT_EQ(strings(c["linux"]["maskedPaths"]), (std::vector<std::string>{"/proc/secret"}));
    EXPECT_EQ(strings(c["linux"]["readonlyPaths"]), (std::vector<std::string>{"/data"}));
}

TEST(OciConfig, ResourcesFromLimits) {
    ContainerSpec spec = sample_spec();
    Json resources = config_of(spec)["linux"]["resources"];
    EXPECT_EQ(resources["devices"], Json::array({{{"allow", false}, {"access", "rwm"}}}));
    EXPECT_FALSE(resources.contains("memory"));
    EXPECT_FALSE(resources.contains("pids"));
    EXPECT_FALSE(resources.contains("cpu"));

    spec.limits = {.memory_bytes = 256 << 20, .pids = 64, .cpus = 0.5};
    resources = config_of(spec)["linux"]["resources"];
    EXPECT_EQ(resources["memory"], (Json{{"limit", 256 << 20}, {"swap", 256 << 20}}));
    EXPECT_EQ(resources["pids"], (Json{{"limit", 64}}));
    EXPECT_EQ(resources["cpu"], (Json{{"quota", 50000}, {"period", 100000}}));

    spec.limits = {.cpus = 0.001};
    EXPECT_EQ(config_of(spec)["linux"]["resources"]["cpu"]["quota"], 1000) << "the kernel's floor";
    spec.limits = {.cpus = -1};
    EXPECT_FALSE(make_config(spec).has_value());
}

TEST(OciConfig, CgroupsPathOnlyWhenGiven) {
    ContainerSpec spec = sample_spec();
    EXPECT_FALSE(config_of(spec)["linux"].contains("cgroupsPath"));
    spec.cgroups_path = "/grove/run-1";
    EXPECT_EQ(config_of(spec)["linux"]["cgroupsPath"], "/grove/run-1");
}

TEST(OciConfig, SeccompIsMobysDefaultProfile) {
    const Json config = config_of(sample_spec());
    const Json& seccomp = config["linux"]["seccomp"];
    EXPECT_EQ(seccomp["defaultAction"], "SCMP_ACT_ERRNO");
    EXPECT_EQ(seccomp["defaultErrnoRet"], EPERM);
    EXPECT_EQ(strings(seccomp["architectures"]),
              (std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}));

    const auto& profile = seccomp::default_profile();
    ASSERT_EQ(seccomp["syscalls"].size(), profile.rules.size());
    const Json& allowed = seccomp["syscalls"][0];
    EXPECT_EQ(allowed["action"], "SCMP_ACT_ALLOW");
    EXPECT_EQ(allowed["names"].size(), seccomp::default_allowed_count());
    EXPECT_FALSE(allowed.contains("args"));
    const auto names = strings(allowed["names"]);
    for (const char* name : {"read", "execve", "exit_group"}) {
        EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
    }
    for (const char* name : {"mount", "unshare", "setns", "bpf", "io_uring_setup"}) {
        EXPECT_EQ(std::find(names.begin(), names.end(), name), names.end()) << name;
    }

    const Json* clone = nullptr;
    const Json* clone3 = nullptr;
    const Json* socket = nullptr;
    for (const auto& rule : seccomp["syscalls"]) {
        if (rule["names"] == Json::array({"clone"})) {
            clone = &rule;
        } else if (rule["names"] == Json::array({"clone3"})) {
            clone3 = &rule;
        } else if (rule["names"] == Json::array({"socket"})) {
            socket = &rule;
        }
    }
    ASSERT_NE(clone, nullptr);
    EXPECT_EQ((*clone)["action"], "SCMP_ACT_ALLOW");
    // moby's own rule, word for word: value is the mask, valueTwo what the masked flags equal.
    EXPECT_EQ((*clone)["args"], Json::array({{{"index", 0},
                                              {"value", 2114060288},
                                              {"valueTwo", 0},
                                              {"op", "SCMP_CMP_MASKED_EQ"}}}));
    ASSERT_NE(clone3, nullptr);
    EXPECT_EQ((*clone3)["action"], "SCMP_ACT_ERRNO");
    EXPECT_EQ((*clone3)["errnoRet"], ENOSYS);
    ASSERT_NE(socket, nullptr);
    EXPECT_EQ((*socket)["args"][0]["op"], "SCMP_CMP_NE");
    EXPECT_EQ((*socket)["args"][0]["value"], 40) << "AF_VSOCK";
}

TEST(OciConfig, NoSeccompWhenTheProfileIsNull) {
    ContainerSpec spec = sample_spec();
    spec.seccomp = nullptr;
    EXPECT_FALSE(config_of(spec)["linux"].contains("seccomp"));
}

TEST(OciConfig, SeccompJsonOfACustomProfile) {
    seccomp::Profile profile;
    profile.default_action = seccomp::Action::kKillProcess;
    profile.arches = {seccomp::Arch::kX86_64};
    profile.rules.push_back(
        {.names = {"personality"},
         .action = seccomp::Action::kAllow,
         .args = {{.index = 0, .op = seccomp::CompareOp::kLessOrEqual, .value = 8}}});
    const Json json = seccomp_json(profile);
    EXPECT_EQ(json["defaultAction"], "SCMP_ACT_KILL_PROCESS");
    EXPECT_FALSE(json.contains("defaultErrnoRet"));
    EXPECT_EQ(json["syscalls"][0]["args"][0]["op"], "SCMP_CMP_LE");
    EXPECT_EQ(json["syscalls"][0]["args"][0]["value"], 8);
}

}  // namespace
}  // namespace grove::runtime::oci
