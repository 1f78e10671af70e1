#include "janitor.hpp"

#include <cstdio>  // rename
#include <sys/stat.h>

#include "base/background.hpp"
#include "store/metadata/uuid.hpp"

namespace grove::image {
namespace {

void remove_tree(const std::filesystem::path& dir) {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
}

// runs/spare-<uuid> with upper/ and work/, or nullopt when the disk refuses.
std::optional<std::filesystem::path> make_spare(const std::filesystem::path& runs_dir) {
    const auto dir = runs_dir / (std::string(Janitor::kSparePrefix) + store::new_uuid());
    if (::mkdir(dir.c_str(), 0700) != 0) {
        return std::nullopt;
    }
    if (::mkdir((dir / "upper").c_str(), 0755) != 0 || ::mkdir((dir / "work").c_str(), 0700) != 0) {
        remove_tree(dir);
        return std::nullopt;
    }
    return dir;
}

}  // namespace

Janitor::Janitor(std::filesystem::path runs_dir, size_t spares)
    : runs_dir_(std::move(runs_dir)),
      max_spares_(spares),
      thread_([this](const std::stop_token& stop) {
          base::run_in_background();
          work(stop);
      }) {}

Janitor::~Janitor() {
    thread_.request_stop();
    thread_.join();
    for (const auto& spare : spares_) {
        remove_tree(spare);
    }
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

std::optional<std::filesystem::path> Janitor::take_spare(const std::string& id) {
    std::unique_lock guard(mutex_);
    if (!spares_wanted_ && max_spares_ > 0) {
        spares_wanted_ = true;
        wake_.notify_one();
    }
    while (!spares_.empty()) {
        const std::filesystem::path spare = std::move(spares_.front());
        spares_.pop_front();
        wake_.notify_one();
        const auto dir = runs_dir_ / id;
        // Fails if another process's recovery removed the spare meanwhile.
        if (::rename(spare.c_str(), dir.c_str()) == 0) {
            return dir;
        }
    }
    return std::nullopt;
}

void Janitor::work(const std::stop_token& stop) {
    std::unique_lock guard(mutex_);
    while (true) {
        // Stops only with an empty queue: the destructor's caller expects every tree gone.
        wake_.wait(guard, stop, [&] { return !pending_.empty() || wants_spare(); });
        if (!pending_.empty()) {
            Job job = std::move(pending_.front());
            pending_.pop_front();
            ++busy_;
            guard.unlock();
            remove_tree(job.dir);
            job.lock.reset();
            guard.lock();
            --busy_;
            done_.notify_all();
        } else if (stop.stop_requested()) {
            return;
        } else if (wants_spare()) {
            guard.unlock();
            auto spare = make_spare(runs_dir_);
            guard.lock();
            if (!spare) {
                spares_wanted_ = false;  // take_spare() callers make their own, and see why
                continue;
            }
            spares_.push_back(std::move(*spare));
        }
    }
}

}  // namespace grove::image
