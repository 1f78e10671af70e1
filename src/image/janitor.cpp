#include "janitor.hpp"

namespace grove::image {
namespace {

void remove_tree(const std::filesystem::path& dir) {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
}

}  // namespace

Janitor::Janitor() : thread_([this](const std::stop_token& stop) { work(stop); }) {}

Janitor::~Janitor() {
    thread_.request_stop();
    thread_.join();
}

void Janitor::remove(std::filesystem::path dir, std::optional<StoreLock> lock) {
    {
        std::lock_guard guard(mutex_);
        if (pending_.size() < kMaxPending) {
            pending_.push_back({std::move(dir), std::move(lock)});
            wake_.notify_one();
            return;
        }
    }
    remove_tree(dir);
}

void Janitor::drain() {
    std::unique_lock guard(mutex_);
    done_.wait(guard, [&] { return pending_.empty() && busy_ == 0; });
}

void Janitor::work(const std::stop_token& stop) {
    std::unique_lock guard(mutex_);
    while (true) {
        // Stops only with an empty queue: the destructor's caller expects every tree gone.
        wake_.wait(guard, stop, [&] { return !pending_.empty(); });
        if (pending_.empty()) {
            return;
        }
        Job job = std::move(pending_.front());
        pending_.pop_front();
        ++busy_;
        guard.unlock();
        remove_tree(job.dir);
        job.lock.reset();
        guard.lock();
        --busy_;
        done_.notify_all();
    }
}

}  // namespace grove::image
