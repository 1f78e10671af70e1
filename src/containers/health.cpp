// containers::Manager's healthchecks (manager.hpp): a prober thread per container with a
// Healthcheck runs its test as an exec in each run of the container, and keeps State.Health in
// the manager's memory.

#include <algorithm>
#include <csignal>
#include <poll.h>
#include <thread>
#include <unistd.h>

#include <fmt/format.h>

#include "base/error.hpp"
#include "base/scope_exit.hpp"
#include "containers/manager.hpp"

namespace grove::containers {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;

constexpr int64_t kDefaultIntervalNs = 30'000'000'000;
constexpr int64_t kDefaultTimeoutNs = 30'000'000'000;
constexpr int kDefaultRetries = 3;
constexpr size_t kKeptProbes = 5;
constexpr size_t kMaxOutput = 4096;
constexpr int64_t kProbeSliceMs = 100;

int64_t clock_ns() {
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    return int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

// The payload of Docker's 8-byte frames in `bytes`, stdout and stderr in their order.
std::string unframe(const std::string& bytes) {
    std::string out;
    size_t at = 0;
    while (at + 8 <= bytes.size()) {
        const auto* h = reinterpret_cast<const unsigned char*>(bytes.data() + at);
        const size_t len = (size_t{h[4]} << 24) | (size_t{h[5]} << 16) | (size_t{h[6]} << 8) | h[7];
        out += bytes.substr(at + 8, len);
        at += 8 + len;
    }
    return out.substr(0, kMaxOutput);
}

std::optional<std::vector<std::string>> probe_argv(const std::vector<std::string>& test) {
    if (test.size() >= 2 && test[0] == "CMD") {
        return std::vector<std::string>(test.begin() + 1, test.end());
    }
    if (test.size() == 2 && test[0] == "CMD-SHELL") {
        return std::vector<std::string>{"/bin/sh", "-c", test[1]};
    }
    return std::nullopt;
}

}  // namespace

Result<std::optional<Healthcheck>> resolve_healthcheck(const Healthcheck& given,
                                                       const base::Json& image_config) {
    Healthcheck check = given;
    if (check.test.empty()) {
        const auto config = image_config.find("config");
        if (config == image_config.end() || !config->is_object() ||
            !config->contains("Healthcheck") || !(*config)["Healthcheck"].is_object()) {
            return std::optional<Healthcheck>();
        }
        const base::Json& image = (*config)["Healthcheck"];
        GROVE_ASSIGN_OR_RETURN(check.test,
                               base::json_field<std::vector<std::string>>(image, "Test"));
        check.interval_ns = image.value("Interval", int64_t{0});
        check.timeout_ns = image.value("Timeout", int64_t{0});
        check.retries = image.value("Retries", 0);
        check.start_period_ns = image.value("StartPeriod", int64_t{0});
    }
    if (check.test.empty() || check.test[0] == "NONE") {
        return std::optional<Healthcheck>();
    }
    if (!probe_argv(check.test)) {
        return base::make_error(Code::kInvalidArgument,
                                "healthcheck test must be [\"CMD\", args...], [\"CMD-SHELL\", "
                                "command] or [\"NONE\"]");
    }
    return std::optional(std::move(check));
}

void Manager::probe_locked(const Container& c) {
    if (c.healthcheck) {
        spawn_locked(probers_, c.id, &Manager::probe);
    }
}

HealthProbe Manager::run_probe(const std::string& id,
                               const Healthcheck& check,
                               std::stop_token stop) {
    HealthProbe outcome{.start_ns = clock_ns(), .end_ns = 0, .exit_code = -1, .output = {}};
    const auto finish = [&](std::string output) {
        outcome.end_ns = clock_ns();
        outcome.output = std::move(output);
        return outcome;
    };
    auto exec = exec_create(id, {.cmd = *probe_argv(check.test)});
    if (!exec) {
        return finish(exec.error().message());
    }
    base::ScopeExit forget([&] {
        // Probes are not the client's execs: no record of them stays behind.
        std::lock_guard lock(mutex_);
        execs_.erase(*exec);
        ::unlink(paths(id).exec_exit(*exec).c_str());
    });
    auto stream = exec_start(*exec);
    if (!stream) {
        return finish(stream.error().message());
    }
    const int64_t timeout = check.timeout_ns > 0 ? check.timeout_ns : kDefaultTimeoutNs;
    const int64_t deadline = outcome.start_ns + timeout;
    std::string bytes;
    for (;;) {
        const int64_t left_ms = (deadline - clock_ns()) / 1'000'000;
        if (left_ms <= 0 || stop.stop_requested()) {
            if (auto info = exec_inspect(*exec); info && info->pid > 0) {
                ::kill(info->pid, SIGKILL);
            }
            return finish(fmt::format("Health check exceeded timeout ({}ms)", timeout / 1'000'000));
        }
        // In slices, so that a manager going away does not wait for a long probe.
        pollfd pfd{.fd = stream->get(), .events = POLLIN, .revents = 0};
        if (::poll(&pfd, 1, static_cast<int>(std::min<int64_t>(left_ms, kProbeSliceMs))) <= 0) {
            continue;
        }
        char buf[4096];
        const ssize_t n = ::read(stream->get(), buf, sizeof(buf));
        if (n <= 0) {
            break;
        }
        bytes.append(buf, static_cast<size_t>(n));
    }
    // The stream ends with the process; its exit lands on disk right after.
    for (int i = 0; i < 100; ++i) {
        auto info = exec_inspect(*exec);
        if (info && info->exit_code) {
            outcome.exit_code = *info->exit_code;
            break;
        }
        std::this_thread::sleep_for(milliseconds(10));
    }
    return finish(unframe(bytes));
}

void Manager::probe(std::stop_token stop,
                    const std::string& id,
                    const std::shared_ptr<bool>& done) {
    std::unique_lock lock(mutex_);
    base::ScopeExit finished([&] {
        if (!lock.owns_lock()) {
            lock.lock();
        }
        health_.erase(id);
        *done = true;
    });
    int64_t run = 0;  // the start time of the run whose health is kept
    while (!stop.stop_requested()) {
        auto c = find_locked(id);
        if (!c || !c->healthcheck) {
            return;  // removed
        }
        const Healthcheck check = *c->healthcheck;
        const int64_t interval = check.interval_ns > 0 ? check.interval_ns : kDefaultIntervalNs;
        if (!c->state.running()) {
            health_.erase(id);
            run = 0;
        } else if (c->state.started_ns != run) {
            run = c->state.started_ns;
            health_[id] = Health{};
        }
        // The first probe one interval after the start, as dockerd.
        backoff_.wait_for(lock, stop, nanoseconds(interval), [] { return false; });
        c = find_locked(id);
        if (stop.stop_requested() || !c) {
            return;
        }
        if (run == 0 || c->state.status != Status::kRunning || c->state.started_ns != run) {
            continue;
        }
        lock.unlock();
        HealthProbe result = run_probe(id, check, stop);
        lock.lock();
        auto it = health_.find(id);
        if (it == health_.end()) {
            continue;  // the run ended meanwhile
        }
        Health& health = it->second;
        const std::string before = health.status;
        if (result.exit_code == 0) {
            health.status = "healthy";
            health.failing_streak = 0;
        } else if (result.start_ns - run >= check.start_period_ns || health.status != "starting") {
            ++health.failing_streak;
            if (health.failing_streak >= (check.retries > 0 ? check.retries : kDefaultRetries)) {
                health.status = "unhealthy";
            }
        }
        health.log.push_back(std::move(result));
        if (health.log.size() > kKeptProbes) {
            health.log.erase(health.log.begin());
        }
        if (health.status != before) {
            const std::string status = health.status;
            lock.unlock();
            {
                std::lock_guard listening(listener_mutex_);
                if (health_listener_) {
                    health_listener_(id, status);
                }
            }
            lock.lock();
        }
    }
}

void Manager::on_health_change(HealthListener listener) {
    std::lock_guard lock(listener_mutex_);
    health_listener_ = std::move(listener);
}

}  // namespace grove::containers
