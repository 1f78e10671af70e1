#include "network/ipam.hpp"

#include <fcntl.h>
#include <unistd.h>

#include "base/error.hpp"
#include "base/unique_fd.hpp"

namespace grove::network {

namespace fs = std::filesystem;

Result<std::vector<Lease>> Ipam::leases() const {
    std::vector<Lease> found;
    std::error_code ec;
    for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
        const auto address = parse_ipv4(it->path().filename().string());
        if (!address) {
            continue;
        }
        auto fd = base::UniqueFd::open(it->path(), O_RDONLY);
        if (!fd) {
            continue;  // released meanwhile
        }
        GROVE_ASSIGN_OR_RETURN(auto owner, base::read_all(fd->get(), 256));
        found.push_back({.address = *address, .owner = std::move(owner)});
    }
    if (ec && ec != std::errc::no_such_file_or_directory) {
        return base::errno_error(ec.value(), "list leases in '{}'", dir_.string());
    }
    return found;
}

Result<Ipv4> Ipam::allocate(const Subnet& subnet, const std::string& owner) {
    GROVE_ASSIGN_OR_RETURN(const auto held, leases());
    for (const auto& lease : held) {
        if (lease.owner == owner && subnet.contains(lease.address)) {
            return lease.address;
        }
    }
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec) {
        return base::errno_error(ec.value(), "create '{}'", dir_.string());
    }
    for (uint32_t host = 2; host + 1 < subnet.size(); ++host) {
        const Ipv4 address{subnet.base.value + host};
        const auto path = dir_ / to_string(address);
        auto fd = base::UniqueFd::open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
        if (!fd) {
            if (fd.error().sys_errno() == EEXIST) {
                continue;
            }
            return fd.error();
        }
        if (auto written = base::write_all(fd->get(), owner); !written) {
            ::unlink(path.c_str());
            return written.error();
        }
        return address;
    }
    return base::make_error(Code::kResourceExhausted, "no free address left in {}",
                            to_string(subnet));
}

Result<void> Ipam::release(const std::string& owner) {
    GROVE_ASSIGN_OR_RETURN(const auto held, leases());
    for (const auto& lease : held) {
        if (lease.owner == owner && ::unlink((dir_ / to_string(lease.address)).c_str()) != 0 &&
            errno != ENOENT) {
            return base::last_errno_error("release {}", to_string(lease.address));
        }
    }
    return {};
}

}  // namespace grove::network
