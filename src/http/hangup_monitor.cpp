#include "http/hangup_monitor.hpp"

#include <array>
#include <cerrno>
#include <optional>
#include <sys/epoll.h>

#include "base/error.hpp"

namespace grove::http::detail {
namespace {

// epoll_event.data for the wake signal; connection ids start at 1.
constexpr uint64_t kWakeId = 0;

}  // namespace

Result<std::unique_ptr<HangupMonitor>> HangupMonitor::create() {
    const int raw = ::epoll_create1(EPOLL_CLOEXEC);
    if (raw < 0) {
        return base::last_errno_error("epoll_create1");
    }
    base::UniqueFd epoll(raw);
    GROVE_ASSIGN_OR_RETURN(std::shared_ptr<WakeSignal> wake, WakeSignal::create());
    epoll_event ev{.events = EPOLLIN, .data = {.u64 = kWakeId}};
    if (::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, wake->fd(), &ev) != 0) {
        return base::last_errno_error("epoll_ctl");
    }
    return std::unique_ptr<HangupMonitor>(new HangupMonitor(std::move(epoll), std::move(wake)));
}

HangupMonitor::HangupMonitor(base::UniqueFd epoll, std::shared_ptr<WakeSignal> wake)
    : epoll_(std::move(epoll)), wake_(std::move(wake)), thread_([this] { run(); }) {}

HangupMonitor::~HangupMonitor() {
    wake_->signal();
    thread_.join();
}

void HangupMonitor::watch(uint64_t id, int fd, std::stop_source source) {
    {
        const std::lock_guard lock(mu_);
        watched_[id] = std::move(source);
    }
    // One-shot: once it has fired, the (level-triggered) condition must not fire again.
    epoll_event ev{.events = EPOLLRDHUP | EPOLLONESHOT, .data = {.u64 = id}};
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
        const std::lock_guard lock(mu_);
        watched_.erase(id);  // not watched; the handler still sees failed writes
    }
}

void HangupMonitor::unwatch(uint64_t id, int fd) {
    const std::lock_guard lock(mu_);
    if (watched_.erase(id) != 0) {
        ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
    }
}

void HangupMonitor::run() {
    std::array<epoll_event, 64> events{};
    while (!wake_->signalled()) {
        const int n =
            ::epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()), -1);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return;
        }
        for (int i = 0; i < n; ++i) {
            const uint64_t id = events[static_cast<size_t>(i)].data.u64;
            if (id == kWakeId) {
                continue;
            }
            std::optional<std::stop_source> source;
            {
                const std::lock_guard lock(mu_);
                if (const auto it = watched_.find(id); it != watched_.end()) {
                    source = it->second;
                }
            }
            // Outside the lock: stop callbacks run here, synchronously.
            if (source) {
                source->request_stop();
            }
        }
    }
}

}  // namespace grove::http::detail
