#include "runtime/oci/config.hpp"

#include <algorithm>
#include <cmath>
#include <sys/resource.h>
#include <utility>

#include "base/error.hpp"
#include "runtime/caps/capabilities.hpp"

namespace grove::runtime::oci {
namespace {

using base::Json;
using base::make_error;

#define GROVE_RLIMIT(name) std::pair<int, const char*>(name, #name)
constexpr std::pair<int, const char*> kRlimits[] = {
    GROVE_RLIMIT(RLIMIT_CPU),      GROVE_RLIMIT(RLIMIT_FSIZE),  GROVE_RLIMIT(RLIMIT_DATA),
    GROVE_RLIMIT(RLIMIT_STACK),    GROVE_RLIMIT(RLIMIT_CORE),   GROVE_RLIMIT(RLIMIT_RSS),
    GROVE_RLIMIT(RLIMIT_NPROC),    GROVE_RLIMIT(RLIMIT_NOFILE), GROVE_RLIMIT(RLIMIT_MEMLOCK),
    GROVE_RLIMIT(RLIMIT_AS),       GROVE_RLIMIT(RLIMIT_LOCKS),  GROVE_RLIMIT(RLIMIT_SIGPENDING),
    GROVE_RLIMIT(RLIMIT_MSGQUEUE), GROVE_RLIMIT(RLIMIT_NICE),   GROVE_RLIMIT(RLIMIT_RTPRIO),
    GROVE_RLIMIT(RLIMIT_RTTIME),
};
#undef GROVE_RLIMIT

const char* action_name(seccomp::Action action) {
    switch (action) {
        case seccomp::Action::kAllow:
            return "SCMP_ACT_ALLOW";
        case seccomp::Action::kErrno:
            return "SCMP_ACT_ERRNO";
        case seccomp::Action::kKillProcess:
            return "SCMP_ACT_KILL_PROCESS";
    }
    return "SCMP_ACT_KILL_PROCESS";  // unreachable; the strictest answer if it were not
}

const char* arch_name(seccomp::Arch arch) {
    switch (arch) {
        case seccomp::Arch::kX86_64:
            return "SCMP_ARCH_X86_64";
        case seccomp::Arch::kX86:
            return "SCMP_ARCH_X86";
        case seccomp::Arch::kX32:
            return "SCMP_ARCH_X32";
    }
    return "SCMP_ARCH_NATIVE";
}

const char* op_name(seccomp::CompareOp op) {
    switch (op) {
        case seccomp::CompareOp::kNotEqual:
            return "SCMP_CMP_NE";
        case seccomp::CompareOp::kLess:
            return "SCMP_CMP_LT";
        case seccomp::CompareOp::kLessOrEqual:
            return "SCMP_CMP_LE";
        case seccomp::CompareOp::kEqual:
            return "SCMP_CMP_EQ";
        case seccomp::CompareOp::kGreaterOrEqual:
            return "SCMP_CMP_GE";
        case seccomp::CompareOp::kGreater:
            return "SCMP_CMP_GT";
        case seccomp::CompareOp::kMaskedEqual:
            return "SCMP_CMP_MASKED_EQ";
    }
    return "SCMP_CMP_EQ";
}

Json mount(const std::string& destination,
           const std::string& type,
           const std::string& source,
           std::vector<std::string> options) {
    return Json{{"destination", destination},
                {"type", type},
                {"source", source},
                {"options", std::move(options)}};
}

// "proc/kcore" (the mount plan's rootfs-relative form) -> "/proc/kcore".
std::vector<std::string> absolute(const std::vector<std::string>& paths) {
    std::vector<std::string> out;
    out.reserve(paths.size());
    for (const auto& path : paths) {
        out.push_back(path.starts_with('/') ? path : "/" + path);
    }
    return out;
}

Result<Json> capabilities_json(uint64_t mask) {
    std::vector<std::string> names;
    for (int bit = 0; bit < 64; ++bit) {
        if ((mask & (uint64_t{1} << bit)) == 0) {
            continue;
        }
        std::string name = caps::capability_name(bit);
        if (name.empty()) {
            return make_error(Code::kInvalidArgument, "unknown capability bit {}", bit);
        }
        names.push_back(std::move(name));
    }
    // No ambient set: as in the native runtime, a non-root uid ends up with no effective
    // capabilities after execve, and root keeps exactly `mask`.
    return Json{{"bounding", names},
                {"effective", names},
                {"inheritable", names},
                {"permitted", names},
                {"ambient", Json::array()}};
}

Result<Json> rlimits_json(const std::vector<process::Rlimit>& limits) {
    Json out = Json::array();
    for (const auto& limit : limits) {
        const std::string name = rlimit_name(limit.resource);
        if (name.empty()) {
            return make_error(Code::kInvalidArgument, "unknown rlimit resource {}", limit.resource);
        }
        out.push_back({{"type", name}, {"soft", limit.soft}, {"hard", limit.hard}});
    }
    return out;
}

Json mounts_json(const ContainerSpec& spec) {
    const rootfs::RootfsOptions& options = spec.rootfs;
    // The native mount plan's mounts, with its flags spelled as mount options.
    Json mounts = Json::array({
        mount("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}),
        mount("/dev", "tmpfs", "tmpfs",
              {"nosuid", "strictatime", "mode=755", "size=" + options.dev_size}),
        mount("/dev/pts", "devpts", "devpts",
              {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
        mount("/dev/shm", "tmpfs", "shm",
              {"nosuid", "noexec", "nodev", "mode=1777", "size=" + options.shm_size}),
        mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
        mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
    });
    // Writable binds, as Docker's and the native plan's are; rprivate so nothing mounted over
    // them inside propagates back to the host.
    for (const auto& file : spec.rootfs.generated_files) {
        mounts.push_back(mount("/" + file.target, "bind",
                               generated_file_path(spec.files_dir, file.target).string(),
                               {"rbind", "rprivate"}));
    }
    return mounts;
}

Result<Json> resources_json(const cgroup::Limits& limits) {
    // Docker's device policy: deny everything, then the runtime adds the default devices it
    // creates (null, zero, full, random, urandom, tty, ptmx), as the native /dev binds those.
    Json resources = {{"devices", Json::array({{{"allow", false}, {"access", "rwm"}}})}};
    if (limits.memory_bytes) {
        // swap is memory+swap in the spec: equal values leave no room for swap, as natively.
        resources["memory"] = {{"limit", *limits.memory_bytes}, {"swap", *limits.memory_bytes}};
    }
    if (limits.pids) {
        resources["pids"] = {{"limit", *limits.pids}};
    }
    if (limits.cpus) {
        if (!(*limits.cpus > 0) || !std::isfinite(*limits.cpus)) {
            return make_error(Code::kInvalidArgument, "cpus must be positive, not {}",
                              *limits.cpus);
        }
        constexpr uint64_t kMinQuotaUs = 1000;  // the kernel's floor for a quota
        const auto quota = std::max<uint64_t>(
            kMinQuotaUs, static_cast<uint64_t>(std::llround(*limits.cpus * kCpuPeriodUs)));
        resources["cpu"] = {{"quota", quota}, {"period", kCpuPeriodUs}};
    }
    return resources;
}

}  // namespace

std::filesystem::path generated_file_path(const std::filesystem::path& dir,
                                          const std::string& target) {
    std::string name = target;
    std::ranges::replace(name, '/', '_');
    return dir / name;
}

std::string rlimit_name(int resource) {
    for (const auto& [value, name] : kRlimits) {
        if (value == resource) {
            return name;
        }
    }
    return {};
}

Json seccomp_json(const seccomp::Profile& profile) {
    Json arches = Json::array();
    for (const auto arch : profile.arches) {
        arches.push_back(arch_name(arch));
    }
    Json syscalls = Json::array();
    for (const auto& rule : profile.rules) {
        Json names = Json::array();
        for (const auto name : rule.names) {
            names.push_back(std::string(name));
        }
        Json entry = {{"names", std::move(names)}, {"action", action_name(rule.action)}};
        if (rule.action == seccomp::Action::kErrno) {
            entry["errnoRet"] = rule.errno_ret;
        }
        if (!rule.args.empty()) {
            Json args = Json::array();
            for (const auto& arg : rule.args) {
                // libseccomp's and the spec's masked compare: `value` is the mask and
                // `valueTwo` what the masked argument must equal (moby's clone rule reads so).
                const bool masked = arg.op == seccomp::CompareOp::kMaskedEqual;
                args.push_back({{"index", arg.index},
                                {"value", masked ? arg.mask : arg.value},
                                {"valueTwo", masked ? arg.value : 0},
                                {"op", op_name(arg.op)}});
            }
            entry["args"] = std::move(args);
        }
        syscalls.push_back(std::move(entry));
    }
    Json out = {{"defaultAction", action_name(profile.default_action)},
                {"architectures", std::move(arches)},
                {"syscalls", std::move(syscalls)}};
    if (profile.default_action == seccomp::Action::kErrno) {
        out["defaultErrnoRet"] = profile.default_errno;
    }
    return out;
}

Result<Json> make_config(const ContainerSpec& spec) {
    const process::ProcessSpec& process = spec.process;
    if (process.argv.empty()) {
        return make_error(Code::kInvalidArgument, "oci config: empty argv");
    }
    if (!spec.rootfs.rootfs.is_absolute()) {
        return make_error(Code::kInvalidArgument, "oci config: rootfs '{}' is not absolute",
                          spec.rootfs.rootfs.string());
    }
    if (!process.cwd.starts_with('/')) {
        return make_error(Code::kInvalidArgument, "oci config: cwd '{}' is not absolute",
                          process.cwd);
    }
    GROVE_ASSIGN_OR_RETURN(Json capabilities, capabilities_json(process.capabilities));
    GROVE_ASSIGN_OR_RETURN(Json rlimits, rlimits_json(process.rlimits));
    GROVE_ASSIGN_OR_RETURN(Json resources, resources_json(spec.limits));

    Json user = {{"uid", process.uid}, {"gid", process.gid}};
    if (!process.groups.empty()) {
        user["additionalGids"] = process.groups;
    }
    // oomScoreAdj is left out on purpose: the container keeps the daemon's, as natively.
    Json process_json = {
        {"terminal", false},
        {"user", std::move(user)},
        {"args", process.argv},
        {"env", process.env},
        {"cwd", process.cwd},
        {"capabilities", std::move(capabilities)},
        {"rlimits", std::move(rlimits)},
        {"noNewPrivileges", true},
    };

    Json namespaces = Json::array();
    for (const char* type : {"pid", "mount", "ipc", "uts", "cgroup"}) {
        namespaces.push_back({{"type", type}});
    }
    if (process.new_network) {
        namespaces.push_back({{"type", "network"}});  // a fresh one: only lo, which runtimes up
    }
    const auto& masked =
        spec.rootfs.masked_paths.empty() ? rootfs::kDefaultMaskedPaths : spec.rootfs.masked_paths;
    const auto& readonly = spec.rootfs.readonly_paths.empty() ? rootfs::kDefaultReadonlyPaths
                                                              : spec.rootfs.readonly_paths;
    Json linux_json = {
        {"namespaces", std::move(namespaces)},
        {"maskedPaths", absolute(masked)},
        {"readonlyPaths", absolute(readonly)},
        {"resources", std::move(resources)},
    };
    if (spec.seccomp != nullptr) {
        linux_json["seccomp"] = seccomp_json(*spec.seccomp);
    }
    if (!spec.cgroups_path.empty()) {
        linux_json["cgroupsPath"] = spec.cgroups_path;
    }

    return Json{
        {"ociVersion", kOciVersion},
        {"process", std::move(process_json)},
        {"root", {{"path", spec.rootfs.rootfs.string()}, {"readonly", false}}},
        {"hostname", process.hostname},
        {"mounts", mounts_json(spec)},
        {"linux", std::move(linux_json)},
    };
}

}  // namespace grove::runtime::oci
