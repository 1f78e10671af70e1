// EmbeddedClient's containers: containers::Manager on the store's root, opened at the first call
// (opening it adopts the containers running there and restarts what a policy says).

#include <cerrno>
#include <unistd.h>

#include "base/error.hpp"
#include "client/embedded_client.hpp"
#include "client/frames.hpp"

namespace grove::client {
namespace {

std::optional<Clock::time_point> time_of(int64_t ns) {
    if (ns == 0) {
        return std::nullopt;
    }
    return Clock::time_point(
        std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(ns)));
}

ContainerInfo container_info(const containers::Container& c) {
    return {.id = c.id,
            .name = c.name,
            .image = c.image_ref,
            .image_uuid = c.image_uuid,
            .status = std::string(containers::status_name(c.state.status)),
            .exit_code = c.state.exit_code,
            .pid = c.state.pid,
            .command = c.config.argv,
            .created = time_of(c.created_ns).value_or(Clock::time_point{}),
            .started = time_of(c.state.started_ns),
            .finished = time_of(c.state.finished_ns)};
}

Result<containers::ContainerSpec> container_spec(const ContainerOptions& options) {
    GROVE_ASSIGN_OR_RETURN(const auto network, containers::grove_network(options.network));
    containers::ContainerSpec spec{.image = options.image,
                                   .name = options.name,
                                   .env = options.env,
                                   .workdir = options.workdir,
                                   .user = options.user,
                                   .hostname = options.hostname,
                                   .network = network};
    if (!options.command.empty()) {
        spec.cmd = options.command;
    }
    spec.limits.memory_bytes = options.memory_bytes;
    spec.limits.pids = options.pids;
    return spec;
}

}  // namespace

Result<containers::Manager*> EmbeddedClient::manager() {
    std::lock_guard guard(manager_mutex_);
    if (!manager_) {
        GROVE_ASSIGN_OR_RETURN(
            manager_,
            containers::Manager::open(
                *store_, {.root = store_->paths().root, .shim = options_.shim, .log = log_}));
    }
    return manager_.get();
}

Result<ContainerInfo> EmbeddedClient::create_container(const ContainerOptions& options) {
    GROVE_ASSIGN_OR_RETURN(auto* m, manager());
    GROVE_ASSIGN_OR_RETURN(const auto spec, container_spec(options));
    GROVE_ASSIGN_OR_RETURN(const auto created, m->create(spec));
    return container_info(created);
}

Result<bool> EmbeddedClient::start_container(std::string_view ref) {
    GROVE_ASSIGN_OR_RETURN(auto* m, manager());
    return m->start(ref);
}

Result<bool> EmbeddedClient::stop_container(std::string_view ref,
                                            std::optional<std::chrono::seconds> timeout) {
    GROVE_ASSIGN_OR_RETURN(auto* m, manager());
    return m->stop(ref, timeout);
}

Result<void> EmbeddedClient::kill_container(std::string_view ref, int signal) {
    GROVE_ASSIGN_OR_RETURN(auto* m, manager());
    return m->kill(ref, signal);
}

Result<void> EmbeddedClient::remove_container(std::string_view ref, bool force) {
    GROVE_ASSIGN_OR_RETURN(auto* m, manager());
    return m->remove(ref, force);
}

Result<std::vector<ContainerInfo>> EmbeddedClient::list_containers(bool all) {
    GROVE_ASSIGN_OR_RETURN(auto* m, manager());
    GROVE_ASSIGN_OR_RETURN(const auto listed, m->list({.all = all}));
    std::vector<ContainerInfo> out;
    for (const auto& c : listed) {
        out.push_back(container_info(c));
    }
    return out;
}

Result<ContainerInfo> EmbeddedClient::inspect_container(std::string_view ref) {
    GROVE_ASSIGN_OR_RETURN(auto* m, manager());
    GROVE_ASSIGN_OR_RETURN(const auto c, m->inspect(ref));
    return container_info(c);
}

Result<void> EmbeddedClient::container_logs(std::string_view ref,
                                            const ContainerLogOptions& options) {
    GROVE_ASSIGN_OR_RETURN(auto* m, manager());
    const containers::LogOptions log{.tail = options.tail, .follow = options.follow};
    return m->logs(ref, log, [&](const containers::LogRecord& record) {
        if (options.on_output) {
            options.on_output(output_stream(static_cast<uint8_t>(record.stream)), record.bytes);
        }
        return true;
    });
}

Result<int> EmbeddedClient::exec_in_container(std::string_view ref, const ExecOptions& options) {
    GROVE_ASSIGN_OR_RETURN(auto* m, manager());
    if (options.command.empty()) {
        return base::make_error(Code::kInvalidArgument, "an exec needs a command");
    }
    GROVE_ASSIGN_OR_RETURN(const std::string id, m->exec_create(ref, {.cmd = options.command,
                                                                      .env = options.env,
                                                                      .workdir = options.workdir,
                                                                      .user = options.user}));
    GROVE_ASSIGN_OR_RETURN(const auto stream, m->exec_start(id));
    FrameReader frames([&](uint8_t kind, std::string_view payload) {
        if (options.on_output) {
            options.on_output(output_stream(kind), payload);
        }
    });
    char chunk[65536];
    for (;;) {
        const ssize_t got = ::read(stream.get(), chunk, sizeof chunk);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            return base::last_errno_error("read the exec's output");
        }
        if (got == 0) {
            break;
        }
        frames.feed(std::string_view(chunk, static_cast<size_t>(got)));
    }
    GROVE_ASSIGN_OR_RETURN(const auto info, m->exec_inspect(id));
    if (!info.exit_code) {
        // The shim writes the exit before it closes the stream, unless it dropped a reader
        // that fell behind.
        return base::make_error(Code::kUnavailable,
                                "exec {}: its output was cut before its end (a reader too slow "
                                "for grove-shim)",
                                id);
    }
    return *info.exit_code;
}

}  // namespace grove::client
