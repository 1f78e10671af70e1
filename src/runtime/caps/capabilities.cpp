#include "runtime/caps/capabilities.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <utility>

#include "base/error.hpp"

namespace grove::runtime::caps {
namespace {

// One entry per capability the kernel headers name, in bit order, so a missing line shows.
#define GROVE_CAP(name) std::pair<int, const char*>(name, #name)
constexpr std::pair<int, const char*> kCapabilities[] = {
    GROVE_CAP(CAP_CHOWN),
    GROVE_CAP(CAP_DAC_OVERRIDE),
    GROVE_CAP(CAP_DAC_READ_SEARCH),
    GROVE_CAP(CAP_FOWNER),
    GROVE_CAP(CAP_FSETID),
    GROVE_CAP(CAP_KILL),
    GROVE_CAP(CAP_SETGID),
    GROVE_CAP(CAP_SETUID),
    GROVE_CAP(CAP_SETPCAP),
    GROVE_CAP(CAP_LINUX_IMMUTABLE),
    GROVE_CAP(CAP_NET_BIND_SERVICE),
    GROVE_CAP(CAP_NET_BROADCAST),
    GROVE_CAP(CAP_NET_ADMIN),
    GROVE_CAP(CAP_NET_RAW),
    GROVE_CAP(CAP_IPC_LOCK),
    GROVE_CAP(CAP_IPC_OWNER),
    GROVE_CAP(CAP_SYS_MODULE),
    GROVE_CAP(CAP_SYS_RAWIO),
    GROVE_CAP(CAP_SYS_CHROOT),
    GROVE_CAP(CAP_SYS_PTRACE),
    GROVE_CAP(CAP_SYS_PACCT),
    GROVE_CAP(CAP_SYS_ADMIN),
    GROVE_CAP(CAP_SYS_BOOT),
    GROVE_CAP(CAP_SYS_NICE),
    GROVE_CAP(CAP_SYS_RESOURCE),
    GROVE_CAP(CAP_SYS_TIME),
    GROVE_CAP(CAP_SYS_TTY_CONFIG),
    GROVE_CAP(CAP_MKNOD),
    GROVE_CAP(CAP_LEASE),
    GROVE_CAP(CAP_AUDIT_WRITE),
    GROVE_CAP(CAP_AUDIT_CONTROL),
    GROVE_CAP(CAP_SETFCAP),
    GROVE_CAP(CAP_MAC_OVERRIDE),
    GROVE_CAP(CAP_MAC_ADMIN),
    GROVE_CAP(CAP_SYSLOG),
    GROVE_CAP(CAP_WAKE_ALARM),
    GROVE_CAP(CAP_BLOCK_SUSPEND),
    GROVE_CAP(CAP_AUDIT_READ),
    GROVE_CAP(CAP_PERFMON),
    GROVE_CAP(CAP_BPF),
    GROVE_CAP(CAP_CHECKPOINT_RESTORE),
};
#undef GROVE_CAP

constexpr std::string_view kAll = "ALL";

// The kernel's last capability; the headers' when /proc does not say (an old kernel).
int kernel_last_cap() {
    std::ifstream file("/proc/sys/kernel/cap_last_cap");
    int last = CAP_LAST_CAP;
    file >> last;
    return last;
}

// A CapAdd or CapDrop list: its capabilities as bits, and whether it names "ALL".
struct CapList {
    uint64_t mask = 0;
    bool all = false;
};

// dockerd's normalizeLegacyCapabilities: upper case, with the CAP_ prefix, "ALL" kept as is.
Result<CapList> cap_list(const std::vector<std::string>& names) {
    CapList list;
    for (const auto& name : names) {
        std::string upper = name;
        std::ranges::transform(upper, upper.begin(),
                               [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
        if (upper == kAll) {
            list.all = true;
            continue;
        }
        if (!upper.starts_with("CAP_")) {
            upper.insert(0, "CAP_");
        }
        const auto cap = capability_from_name(upper);
        if (!cap) {
            return base::make_error(Code::kInvalidArgument, "unknown capability: \"{}\"", upper);
        }
        if ((known_capabilities() & cap_bit(*cap)) == 0) {
            return base::make_error(Code::kInvalidArgument,
                                    "capability not supported by your kernel or not available in "
                                    "the current environment: \"{}\"",
                                    upper);
        }
        list.mask |= cap_bit(*cap);
    }
    return list;
}

}  // namespace

std::string capability_name(int cap) {
    for (const auto& [value, name] : kCapabilities) {
        if (value == cap) {
            return name;
        }
    }
    return {};
}

std::optional<int> capability_from_name(std::string_view name) {
    for (const auto& [value, known] : kCapabilities) {
        if (name == known) {
            return value;
        }
    }
    return std::nullopt;
}

uint64_t known_capabilities() {
    // Read once: the kernel's last capability does not change while groved runs.
    static const uint64_t known = [] {
        const int last = kernel_last_cap();
        uint64_t mask = 0;
        for (const auto& [value, name] : kCapabilities) {
            if (value <= last) {
                mask |= cap_bit(value);
            }
        }
        return mask;
    }();
    return known;
}

Result<uint64_t> adjust_capabilities(uint64_t base,
                                     const std::vector<std::string>& add,
                                     const std::vector<std::string>& drop) {
    GROVE_ASSIGN_OR_RETURN(const CapList dropped, cap_list(drop));
    GROVE_ASSIGN_OR_RETURN(const CapList added, cap_list(add));
    if (added.all) {
        return known_capabilities() & ~dropped.mask;
    }
    if (dropped.all) {
        return added.mask;
    }
    return (base & ~dropped.mask) | added.mask;
}

}  // namespace grove::runtime::caps
