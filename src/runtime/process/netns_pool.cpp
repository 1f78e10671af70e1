#include "netns_pool.hpp"

#include <cstring>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "base/background.hpp"
#include "base/error.hpp"

namespace grove::runtime::process {
namespace {

constexpr const char* kThreadNetns = "/proc/thread-self/ns/net";

Result<void> bring_up_loopback() {
    base::UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!sock) {
        return base::last_errno_error("socket for lo");
    }
    ifreq req{};
    std::memcpy(req.ifr_name, "lo", 3);
    if (::ioctl(sock.get(), SIOCGIFFLAGS, &req) != 0) {
        return base::last_errno_error("read lo's flags");
    }
    req.ifr_flags = static_cast<short>(req.ifr_flags | IFF_UP);
    if (::ioctl(sock.get(), SIOCSIFFLAGS, &req) != 0) {
        return base::last_errno_error("bring lo up");
    }
    return {};
}

}  // namespace

NetnsPool::~NetnsPool() {
    if (thread_.joinable()) {
        thread_.request_stop();
        thread_.join();
    }
}

Result<base::UniqueFd> NetnsPool::make() {
    GROVE_ASSIGN_OR_RETURN(auto own, base::UniqueFd::open(kThreadNetns, O_RDONLY));
    if (::unshare(CLONE_NEWNET) != 0) {
        return base::last_errno_error("unshare a network namespace");
    }
    auto made = [&]() -> Result<base::UniqueFd> {
        GROVE_ASSIGN_OR_RETURN(auto fresh, base::UniqueFd::open(kThreadNetns, O_RDONLY));
        GROVE_TRY(bring_up_loopback());
        return fresh;
    }();
    // Back home whatever happened: this thread's later sockets must be the host's.
    if (::setns(own.get(), CLONE_NEWNET) != 0) {
        return base::last_errno_error("return to the host's network namespace");
    }
    return made;
}

Result<base::UniqueFd> NetnsPool::take() {
    if (ready_ > 0) {
        std::lock_guard guard(mutex_);
        if (!thread_.joinable()) {
            thread_ = std::jthread([this](const std::stop_token& stop) {
                base::run_in_background();
                refill(stop);
            });
        }
        if (!pool_.empty()) {
            base::UniqueFd fd = std::move(pool_.front());
            pool_.pop_front();
            wake_.notify_one();
            return fd;
        }
        wake_.notify_one();
    }
    return make();
}

void NetnsPool::refill(const std::stop_token& stop) {
    std::unique_lock guard(mutex_);
    while (!stop.stop_requested()) {
        if (pool_.size() >= ready_) {
            wake_.wait(guard, stop, [&] { return pool_.size() < ready_; });
            continue;
        }
        guard.unlock();
        auto fd = make();
        guard.lock();
        if (!fd) {
            return;  // take() makes its own from now on, and reports why that fails
        }
        pool_.push_back(std::move(*fd));
    }
}

}  // namespace grove::runtime::process
