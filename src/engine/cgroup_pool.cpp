#include "engine/cgroup_pool.hpp"

#include "base/background.hpp"
#include "store/metadata/uuid.hpp"

namespace grove::engine {

CgroupPool::~CgroupPool() {
    if (thread_.joinable()) {
        thread_.request_stop();
        thread_.join();
    }
    for (auto* queue : {&retired_, &spare_}) {
        while (!queue->empty()) {
            close(std::move(queue->front()));
            queue->pop_front();
        }
    }
}

Result<std::unique_ptr<runtime::cgroup::Cgroup>> CgroupPool::make(
    const runtime::cgroup::Limits& limits) {
    return manager_.create("run-" + store::new_uuid(), limits);
}

void CgroupPool::close(std::unique_ptr<runtime::cgroup::Cgroup> group) {
    if (auto closed = group->close(); !closed) {
        log_.warn("a run's cgroup stays", {{"reason", closed.error().to_string()}});
    }
}

Result<std::unique_ptr<runtime::cgroup::Cgroup>> CgroupPool::take(
    const runtime::cgroup::Limits& limits) {
    if (ready_ == 0) {
        return make(limits);
    }
    std::unique_ptr<runtime::cgroup::Cgroup> group;
    {
        std::lock_guard guard(mutex_);
        if (!thread_.joinable()) {
            thread_ = std::jthread([this](const std::stop_token& stop) {
                base::run_in_background();
                work(stop);
            });
        }
        if (!spare_.empty()) {
            group = std::move(spare_.front());
            spare_.pop_front();
        }
        wake_.notify_one();
    }
    if (!group) {
        return make(limits);
    }
    if (auto limited = group->update(limits); !limited) {
        retire(std::move(group));
        return limited.error();
    }
    return group;
}

void CgroupPool::retire(std::unique_ptr<runtime::cgroup::Cgroup> group) {
    if (ready_ == 0) {
        close(std::move(group));
        return;
    }
    std::lock_guard guard(mutex_);
    retired_.push_back(std::move(group));
    wake_.notify_one();
}

void CgroupPool::work(const std::stop_token& stop) {
    std::unique_lock guard(mutex_);
    while (!stop.stop_requested()) {
        if (!retired_.empty()) {
            auto group = std::move(retired_.front());
            retired_.pop_front();
            guard.unlock();
            close(std::move(group));
            guard.lock();
            continue;
        }
        if (spare_.size() < ready_ && !make_failed_) {
            guard.unlock();
            auto group = make({});
            guard.lock();
            if (group) {
                spare_.push_back(std::move(*group));
            } else {
                make_failed_ = true;
                log_.warn("cgroups are made per run from now on",
                          {{"reason", group.error().to_string()}});
            }
            continue;
        }
        wake_.wait(guard, stop,
                   [&] { return !retired_.empty() || (spare_.size() < ready_ && !make_failed_); });
    }
}

}  // namespace grove::engine
