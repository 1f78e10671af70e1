#include "base/close_later.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "base/background.hpp"

namespace grove::base {
namespace {

class Closer {
public:
    void add(UniqueFd fd) {
        {
            std::lock_guard lock(mutex_);
            queue_.push_back(std::move(fd));
        }
        wake_.notify_one();
    }

private:
    void run(const std::stop_token& stop) {
        run_in_background();
        std::unique_lock lock(mutex_);
        for (;;) {
            wake_.wait(lock, stop, [&] { return !queue_.empty(); });
            std::deque<UniqueFd> closing;
            closing.swap(queue_);
            lock.unlock();
            closing.clear();
            lock.lock();
            if (stop.stop_requested() && queue_.empty()) {
                return;
            }
        }
    }

    std::mutex mutex_;
    std::condition_variable_any wake_;
    std::deque<UniqueFd> queue_;
    std::jthread thread_{[this](std::stop_token stop) {
        run(stop);
    }};  // last: stops first
};

}  // namespace

void close_later(UniqueFd fd) {
    static Closer closer;
    closer.add(std::move(fd));
}

}  // namespace grove::base
