#pragma once

// Docker's tmpfs options (`--tmpfs /run:exec,size=64m`, HostConfig.Tmpfs, the size and mode of
// a Mounts entry of type tmpfs) as what mount(2) takes. Docker's defaults come first (noexec,
// nosuid, nodev) and a later word wins, so "exec" turns noexec off. Propagation words are
// accepted and have no effect: every mount of a container is private.

#include <string>
#include <string_view>

#include <grove/result.hpp>

namespace grove::runtime::rootfs {

struct TmpfsOptions {
    unsigned long flags = 0;  // MS_NOEXEC, MS_NOSUID, MS_RDONLY, ...
    std::string data;         // "size=65536k,mode=1777": the keys tmpfs takes, checked here
};

// InvalidArgument naming the option for an unknown word or a bad value.
Result<TmpfsOptions> parse_tmpfs_options(std::string_view options);

}  // namespace grove::runtime::rootfs
