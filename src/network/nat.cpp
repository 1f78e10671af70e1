#include "network/nat.hpp"

#include <fcntl.h>

#include "base/child_process.hpp"
#include "base/error.hpp"
#include "base/unique_fd.hpp"

namespace grove::network {
namespace {

constexpr const char* kNatChain = "GROVE-POSTROUTING";
constexpr const char* kFilterChain = "GROVE";

// Runs `iptables -w <args>`: whether it succeeded, or an error when it could not run at all.
Result<bool> iptables(std::vector<std::string> args) {
    args.insert(args.begin(), {"iptables", "-w"});
    GROVE_ASSIGN_OR_RETURN(
        auto out, base::run_command({.argv = std::move(args)}, std::chrono::milliseconds(10000)));
    return out.status.success();
}

Result<void> must(std::vector<std::string> args) {
    GROVE_ASSIGN_OR_RETURN(const bool ok, iptables(args));
    if (!ok) {
        std::string line = "iptables";
        for (const auto& arg : args) {
            line += " " + arg;
        }
        return base::make_error(Code::kInternal, "'{}' failed", line);
    }
    return {};
}

// Makes `chain` exist and be empty, and hooked once at the top of `from`.
Result<void> fresh_chain(const std::string& table,
                         const std::string& chain,
                         const std::string& from) {
    GROVE_ASSIGN_OR_RETURN(const bool created, iptables({"-t", table, "-N", chain}));
    if (!created) {
        GROVE_TRY(must({"-t", table, "-F", chain}));
    }
    GROVE_ASSIGN_OR_RETURN(const bool hooked, iptables({"-t", table, "-C", from, "-j", chain}));
    if (!hooked) {
        GROVE_TRY(must({"-t", table, "-I", from, "-j", chain}));
    }
    return {};
}

Result<void> drop_chain(const std::string& table,
                        const std::string& chain,
                        const std::string& from) {
    for (;;) {
        GROVE_ASSIGN_OR_RETURN(const bool unhooked,
                               iptables({"-t", table, "-D", from, "-j", chain}));
        if (!unhooked) {
            break;
        }
    }
    GROVE_ASSIGN_OR_RETURN(const bool exists, iptables({"-t", table, "-F", chain}));
    if (exists) {
        GROVE_TRY(must({"-t", table, "-X", chain}));
    }
    return {};
}

}  // namespace

Result<void> install_nat(const Subnet& subnet, const std::string& bridge) {
    GROVE_TRY(fresh_chain("nat", kNatChain, "POSTROUTING"));
    GROVE_TRY(must({"-t", "nat", "-A", kNatChain, "-s", to_string(subnet), "!", "-o", bridge, "-j",
                    "MASQUERADE"}));
    GROVE_TRY(fresh_chain("filter", kFilterChain, "FORWARD"));
    GROVE_TRY(must({"-t", "filter", "-A", kFilterChain, "-i", bridge, "-j", "ACCEPT"}));
    GROVE_TRY(must({"-t", "filter", "-A", kFilterChain, "-o", bridge, "-j", "ACCEPT"}));
    GROVE_ASSIGN_OR_RETURN(auto forward,
                           base::UniqueFd::open("/proc/sys/net/ipv4/ip_forward", O_WRONLY));
    return base::write_all(forward.get(), "1");
}

Result<void> remove_nat() {
    GROVE_TRY(drop_chain("nat", kNatChain, "POSTROUTING"));
    return drop_chain("filter", kFilterChain, "FORWARD");
}

}  // namespace grove::network
