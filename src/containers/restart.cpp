// containers::Manager's restart policies (manager.hpp).
//
// The manager restarts, not the shim, although the shim outlives the daemon: a start needs the
// image store (the layers to stack, a mount point layer, flattening) that the shim is kept free
// of, and the manager stays the one writer of a container's record (pid, restart count). While no
// manager is open nothing restarts; the next one to open restarts what should have been.

#include <algorithm>

#include "base/scope_exit.hpp"
#include "containers/container_table.hpp"
#include "containers/manager.hpp"

namespace grove::containers {
namespace {

using std::chrono::milliseconds;

// Docker's backoff: 100 ms doubling up to a minute, back to 100 ms after 10 s up.
constexpr milliseconds kFirstBackoff{100};
constexpr milliseconds kMaxBackoff{60'000};
constexpr int64_t kResetAfterNs = 10'000'000'000;

// Whether `c`, which exited on its own, is to be started again.
bool should_restart(const Container& c) {
    if (c.state.status != Status::kExited || c.manually_stopped) {
        return false;
    }
    switch (c.restart.kind) {
        case RestartKind::kAlways:
        case RestartKind::kUnlessStopped:
            return true;
        case RestartKind::kOnFailure:
            return c.state.exit_code != 0 &&
                   (c.restart.max_retries == 0 || c.restart_count < c.restart.max_retries);
        case RestartKind::kNo:
            return false;
    }
    return false;
}

}  // namespace

Manager::~Manager() {
    std::map<std::string, Watcher, std::less<>> watchers;
    std::map<std::string, Watcher, std::less<>> probers;
    {
        std::lock_guard lock(mutex_);
        watchers.swap(watchers_);
        probers.swap(probers_);
    }
    // Destroying a jthread requests its stop and joins it; watchers take mutex_, so not here.
    watchers.clear();
    probers.clear();
}

void Manager::spawn_locked(std::map<std::string, Watcher, std::less<>>& threads,
                           const std::string& id,
                           ThreadBody body) {
    if (auto it = threads.find(id); it != threads.end()) {
        if (!*it->second.done) {
            return;  // the thread of this container still runs, and sees the new start
        }
        it->second.thread.join();  // done: it needs no lock any more
        threads.erase(it);
    }
    auto done = std::make_shared<bool>(false);
    threads.emplace(id,
                    Watcher{.thread = std::jthread([this, id, done, body](std::stop_token stop) {
                                (this->*body)(stop, id, done);
                            }),
                            .done = done});
}

void Manager::watch_locked(const Container& c) {
    if (c.restart.kind != RestartKind::kNo) {
        spawn_locked(watchers_, c.id, &Manager::watch);
    }
}

void Manager::watch(std::stop_token stop,
                    const std::string& id,
                    const std::shared_ptr<bool>& done) {
    std::unique_lock lock(mutex_, std::defer_lock);
    // Whatever ends the watch, a start seeing `done` makes a new watcher.
    base::ScopeExit finished([&] {
        if (!lock.owns_lock()) {
            lock.lock();
        }
        *done = true;
    });
    milliseconds backoff = kFirstBackoff;
    while (!stop.stop_requested()) {
        if (!wait(id, WaitCondition::kNotRunning, stop)) {
            return;  // cancelled, or removed
        }
        lock.lock();
        auto c = find_locked(id);
        if (!c || !should_restart(*c)) {
            return;
        }
        if (c->state.finished_ns - c->state.started_ns >= kResetAfterNs) {
            backoff = kFirstBackoff;
        }
        c->state.status = Status::kRestarting;
        if (!ContainerTable(db_).set_state(c->id, c->state, c->restart_count)) {
            return;
        }
        backoff_.wait_for(lock, stop, backoff, [] { return false; });
        c = find_locked(id);
        if (c && c->state.running()) {  // started by a client meanwhile: watch that run
            lock.unlock();
            continue;
        }
        if (!c || c->state.status != Status::kRestarting) {
            return;  // stopped or removed meanwhile
        }
        if (stop.stop_requested()) {
            // The manager goes: the next one to open restarts it.
            c->state.status = Status::kExited;
            (void)ContainerTable(db_).set_state(c->id, c->state, c->restart_count);
            return;
        }
        ++c->restart_count;
        if (auto started = start_locked(*c); !started) {
            options_.log.warn("restart of a container failed",
                              {{"container", id}, {"error", started.error().to_string()}});
            c->state.status = Status::kExited;
            (void)ContainerTable(db_).set_state(c->id, c->state, c->restart_count);
            return;
        }
        lock.unlock();
        backoff = std::min(backoff * 2, kMaxBackoff);
    }
}

}  // namespace grove::containers
