#include "docker_api/docker_containers.hpp"

#include <fcntl.h>

#include "base/error.hpp"
#include "base/json.hpp"
#include "base/unique_fd.hpp"
#include "containers/shim/shim_config.hpp"
#include "docker_api/image_names.hpp"

namespace grove::docker_api {
namespace {

std::string extras_to_json(const DockerExtras& e) {
    return base::dump_json({{"image_name", e.image_name},
                            {"auto_remove", e.auto_remove},
                            {"attach_stdin", e.attach_stdin},
                            {"attach_stdout", e.attach_stdout},
                            {"attach_stderr", e.attach_stderr},
                            {"stdin_once", e.stdin_once},
                            {"network_mode", e.network_mode},
                            {"cpu_shares", e.cpu_shares},
                            {"publish_all_ports", e.publish_all_ports},
                            {"mount_config", e.mount_config},
                            {"cap_add", e.cap_add},
                            {"cap_drop", e.cap_drop}});
}

std::optional<DockerExtras> extras_from_json(std::string_view text) {
    const auto json = base::parse_json(text);
    if (!json || !json->is_object()) {
        return std::nullopt;
    }
    DockerExtras e;
    e.image_name = json->value("image_name", "");
    e.auto_remove = json->value("auto_remove", false);
    e.attach_stdin = json->value("attach_stdin", false);
    e.attach_stdout = json->value("attach_stdout", false);
    e.attach_stderr = json->value("attach_stderr", false);
    e.stdin_once = json->value("stdin_once", false);
    e.network_mode = json->value("network_mode", "default");
    e.cpu_shares = json->value("cpu_shares", int64_t{0});
    e.publish_all_ports = json->value("publish_all_ports", false);
    if (const auto mounts = json->find("mount_config");
        mounts != json->end() && mounts->is_object()) {
        e.mount_config = *mounts;
    }
    e.cap_add = json->value("cap_add", std::vector<std::string>{});
    e.cap_drop = json->value("cap_drop", std::vector<std::string>{});
    return e;
}

}  // namespace

Result<std::unique_ptr<DockerContainers>> DockerContainers::open(containers::Manager& manager,
                                                                 DockerEvents& events,
                                                                 std::filesystem::path dir,
                                                                 base::Logger log) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
        return base::errno_error(ec.value(), "create '{}'", dir.string());
    }
    auto self = std::make_unique<DockerContainers>(manager, events, std::move(dir), std::move(log));
    GROVE_ASSIGN_OR_RETURN(const auto running, manager.list({}));
    manager.on_health_change([raw = self.get()](const std::string& id, const std::string& status) {
        if (auto c = raw->manager_.inspect(id)) {
            raw->publish("health_status: " + status, *c);
        }
    });
    std::lock_guard lock(self->mutex_);
    for (const auto& c : running) {
        self->watch_locked(c.id);
    }
    return self;
}

DockerContainers::~DockerContainers() {
    manager_.on_health_change(nullptr);
    std::map<std::string, std::unique_ptr<Watcher>, std::less<>> watchers;
    {
        std::lock_guard lock(mutex_);
        watchers.swap(watchers_);
    }
    watchers.clear();  // each jthread asks its watcher to stop, and joins it
}

Result<containers::Container> DockerContainers::find(std::string_view ref) {
    auto c = manager_.inspect(ref);
    if (!c && c.error().code() == Code::kNotFound) {
        return base::make_error(Code::kNotFound, "No such container: {}", ref);
    }
    return c;
}

std::filesystem::path DockerContainers::extras_path(const std::string& id) const {
    return dir_ / (id + ".json");
}

Result<void> DockerContainers::save(const std::string& id, const DockerExtras& extras) {
    return containers::write_file_atomically(extras_path(id), extras_to_json(extras));
}

DockerExtras DockerContainers::extras(const std::string& id) const {
    auto fd = base::UniqueFd::open(extras_path(id), O_RDONLY);
    if (fd) {
        if (auto text = base::read_all(fd->get())) {
            if (auto extras = extras_from_json(*text)) {
                return *extras;
            }
        }
    }
    return DockerExtras{};
}

void DockerContainers::forget(const std::string& id) {
    std::error_code ec;
    std::filesystem::remove(extras_path(id), ec);
}

void DockerContainers::publish(std::string action,
                               const containers::Container& container,
                               std::map<std::string, std::string> attributes) {
    attributes["name"] = container.name;
    const DockerExtras e = extras(container.id);
    attributes["image"] = e.image_name.empty() ? docker_id(container.image_uuid) : e.image_name;
    for (const auto& [key, value] : container.labels) {
        attributes.emplace(key, value);
    }
    events_.publish({.type = "container",
                     .action = std::move(action),
                     .id = container.id,
                     .attributes = std::move(attributes)});
}

void DockerContainers::started(const std::string& id) {
    std::lock_guard lock(mutex_);
    watch_locked(id);
    ++starts_;
    changed_.notify_all();
}

void DockerContainers::watch_locked(const std::string& id) {
    std::erase_if(watchers_, [](const auto& entry) { return entry.second->done; });
    if (watchers_.contains(id)) {
        return;  // it notices the new run before it ends
    }
    auto watcher = std::make_unique<Watcher>();
    Watcher* self = watcher.get();
    watcher->thread = std::jthread([this, id, self](std::stop_token stop) {
        watch(stop, id, *self);
        std::lock_guard lock(mutex_);
        self->done = true;
    });
    watchers_.emplace(id, std::move(watcher));
}

void DockerContainers::watch(std::stop_token stop, const std::string& id, Watcher& self) {
    for (;;) {
        auto exit = manager_.wait(id, containers::WaitCondition::kNotRunning, stop);
        if (!exit) {
            return;  // stopped, or removed
        }
        auto c = manager_.inspect(id);
        if (!c) {
            return;
        }
        publish("die", *c, {{"exitCode", std::to_string(exit->exit_code)}});
        if (extras(id).auto_remove) {
            {
                std::unique_lock lock(mutex_);
                changed_.wait_for(lock, stop, kHoldLimit, [&] { return !holds_.contains(id); });
                if (stop.stop_requested()) {
                    return;
                }
            }
            // Its anonymous volumes with it, as docker run --rm does.
            if (auto removed = manager_.remove(id, false, true); removed) {
                publish("destroy", *c);
                forget(id);
                return;
            } else if (removed.error().code() != Code::kFailedPrecondition) {
                log_.warn("auto-remove failed",
                          {{"container", id}, {"error", removed.error().message()}});
                return;
            }
        }
        std::lock_guard lock(mutex_);
        auto now = manager_.inspect(id);
        if (!now || !now->state.running()) {
            // Done while holding the lock: a start from now on makes a new watcher.
            self.done = true;
            return;
        }
    }
}

Result<containers::Container> DockerContainers::wait_started(const std::string& id,
                                                             int64_t started_ns,
                                                             std::stop_token stop) {
    std::unique_lock lock(mutex_);
    for (;;) {
        GROVE_ASSIGN_OR_RETURN(auto c, manager_.inspect(id));
        if (c.state.started_ns != started_ns) {
            return c;
        }
        // A start through another client of the Manager is seen on the next slice.
        const uint64_t seen = starts_;
        changed_.wait_for(lock, stop, std::chrono::milliseconds(200),
                          [&] { return starts_ != seen; });
        if (stop.stop_requested()) {
            return base::make_error(Code::kCancelled, "attach to container {} cancelled", id);
        }
    }
}

DockerContainers::Hold DockerContainers::hold(const std::string& id) {
    std::lock_guard lock(mutex_);
    ++holds_[id];
    return Hold(*this, id);
}

DockerContainers::Hold::~Hold() {
    if (owner_ == nullptr) {
        return;
    }
    std::lock_guard lock(owner_->mutex_);
    if (--owner_->holds_[id_] <= 0) {
        owner_->holds_.erase(id_);
    }
    owner_->changed_.notify_all();
}

}  // namespace grove::docker_api
