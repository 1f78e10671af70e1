#pragma once

// Capability sets as masks of CAP_* bits (bit n is capability n, as in /proc/<pid>/status), their
// names, and the set a Docker create request asks for with HostConfig.CapAdd/CapDrop.

#include <cstdint>
#include <linux/capability.h>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <grove/result.hpp>

namespace grove::runtime::caps {

constexpr uint64_t cap_bit(int cap) {
    return uint64_t{1} << cap;
}

// Docker's default set minus two:
// - NET_RAW: the sandbox has no network, so raw/packet sockets serve nothing, and they have been
//   a recurring kernel attack surface (AF_PACKET CVE-2016-8655, CVE-2020-14386).
// - MKNOD: /dev is a tmpfs holding the few nodes init makes (rootfs::kDeviceNodes); a node
//   created in the container is useless at best and a device escape at worst.
// A Docker client gets either back with --cap-add; MKNOD then makes only the devices the seccomp
// profile lets through (runtime/seccomp/default_profile.cpp).
inline constexpr uint64_t kDockerDefaultCaps =
    cap_bit(CAP_CHOWN) | cap_bit(CAP_DAC_OVERRIDE) | cap_bit(CAP_FSETID) | cap_bit(CAP_FOWNER) |
    cap_bit(CAP_SETGID) | cap_bit(CAP_SETUID) | cap_bit(CAP_SETFCAP) | cap_bit(CAP_SETPCAP) |
    cap_bit(CAP_NET_BIND_SERVICE) | cap_bit(CAP_SYS_CHROOT) | cap_bit(CAP_KILL) |
    cap_bit(CAP_AUDIT_WRITE);

// "CAP_SYS_ADMIN" for CAP_SYS_ADMIN, ...; empty for a number the table does not know.
std::string capability_name(int cap);

// CAP_SYS_ADMIN for "CAP_SYS_ADMIN"; nullopt for any other spelling or an unknown name.
std::optional<int> capability_from_name(std::string_view name);

// Every capability both the table and the running kernel know (/proc/sys/kernel/cap_last_cap):
// what Docker's "ALL" stands for. A bit past the kernel's last would make capset fail.
uint64_t known_capabilities();

// dockerd's TweakCapabilities: `base` with the `drop` names removed and the `add` names added,
// except that "ALL" in `add` means every known capability but those in `drop`, and "ALL" in
// `drop` (without "ALL" in `add`) means only those in `add`. Names are case-insensitive, with or
// without the CAP_ prefix. InvalidArgument for an unknown name, in dockerd's words.
Result<uint64_t> adjust_capabilities(uint64_t base,
                                     const std::vector<std::string>& add,
                                     const std::vector<std::string>& drop);

}  // namespace grove::runtime::caps
