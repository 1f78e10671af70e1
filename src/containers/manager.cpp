#include "containers/manager.hpp"

#include <algorithm>
#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <deque>
#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "base/child_process.hpp"
#include "base/close_later.hpp"
#include "base/error.hpp"
#include "base/scope_exit.hpp"
#include "containers/container_table.hpp"
#include "containers/mounts.hpp"
#include "containers/names.hpp"
#include "containers/shim/control.hpp"
#include "engine/image_defaults.hpp"
#include "network/bridge_network.hpp"
#include "oci/image_config.hpp"
#include "runtime/cgroup/cgroup.hpp"
#include "runtime/rootfs/mount_plan.hpp"
#include "runtime/seccomp/filter.hpp"

namespace grove::containers {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

constexpr int kDefaultStopTimeoutS = 10;
// Docker's exit code for a container whose shim died: containerd reports 128 + SIGKILL.
constexpr int kDeadShimExitCode = 128 + SIGKILL;
// How many removed containers' exits are kept for waiters that look too late.
constexpr size_t kRememberedRemovals = 256;
// Blocking waits wake this often to notice a cancellation.
constexpr milliseconds kWaitSlice{100};
constexpr std::chrono::seconds kExecStartWait{2};

Result<std::string> read_file(const fs::path& path) {
    GROVE_ASSIGN_OR_RETURN(auto fd, base::UniqueFd::open(path, O_RDONLY));
    return base::read_all(fd.get());
}

Result<void> make_dir(const fs::path& path, mode_t mode) {
    if (::mkdir(path.c_str(), mode) != 0) {
        return base::last_errno_error("create '{}'", path.string());
    }
    return {};
}

fs::path default_shim() {
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    return self.parent_path() / "grove-shim";
}

bool has_label(const Container& c, std::string_view filter) {
    const size_t eq = filter.find('=');
    const auto it = c.labels.find(std::string(filter.substr(0, eq)));
    if (it == c.labels.end()) {
        return false;
    }
    return eq == std::string_view::npos || it->second == filter.substr(eq + 1);
}

template <typename T, typename F>
bool any_or_empty(const std::vector<T>& wanted, F&& matches) {
    return wanted.empty() || std::any_of(wanted.begin(), wanted.end(), matches);
}

// The shim's "err <code> <message>" report as the Error it stands for.
Error shim_error(std::string_view report) {
    const size_t space = report.find(' ');
    const auto code = code_from_name(report.substr(0, space));
    if (!code || space == std::string_view::npos) {
        return base::make_error(Code::kInternal, "grove-shim: {}", report);
    }
    return Error(*code, std::string(report.substr(space + 1)));
}

// Line records of `record`: a chunk's complete lines, and the rest as a last line.
void split_lines(LogRecord&& record, const std::function<void(LogRecord&&)>& out) {
    std::string_view bytes = record.bytes;
    while (!bytes.empty()) {
        const size_t nl = bytes.find('\n');
        const size_t len = nl == std::string_view::npos ? bytes.size() : nl + 1;
        out({.stream = record.stream,
             .time_ns = record.time_ns,
             .bytes = std::string(bytes.substr(0, len))});
        bytes.remove_prefix(len);
    }
}

// The paths a container's runtime mounts on (ImageStore::prepare_run).
std::vector<image::MountpointNeed> mountpoint_needs(const ShimConfig& config) {
    std::vector<image::MountpointNeed> needs;
    for (auto& point :
         runtime::rootfs::mountpoints({.generated_files = runtime::rootfs::identity_files(
                                           config.hostname, config.host_network)})) {
        needs.push_back({std::move(point.path), point.directory});
    }
    return needs;
}

// A removed container's directory, until the janitor has removed it.
constexpr std::string_view kRemovedPrefix = ".removed-";

// The name a container's pin on its image goes by (ImageStore::pin).
std::string pin_holder(const std::string& id) {
    return "container " + id;
}

}  // namespace

Result<std::unique_ptr<Manager>> Manager::open(image::ImageStore& store, ManagerOptions options) {
    if (options.shim.empty()) {
        options.shim = default_shim();
    }
    std::error_code ec;
    fs::create_directories(options.root / "containers", ec);
    if (ec) {
        return base::errno_error(ec.value(), "create '{}'", (options.root / "containers").string());
    }
    GROVE_ASSIGN_OR_RETURN(
        auto db, store::Database::open(options.root / "containers.db", container_schema()));
    // Commits survive any process's death but are not fsynced: a container's state lives no
    // longer than its processes, which a power loss ends too (reconcile() sorts out what is
    // found then), and the WAL's fsyncs were ~1 ms of every create, start, exit and remove.
    GROVE_TRY(db.exec("PRAGMA synchronous = NORMAL"));
    auto manager = std::make_unique<Manager>(store, std::move(options), std::move(db));
    // Directories of removed containers that a crash left.
    for (const auto& entry : fs::directory_iterator(manager->options_.root / "containers", ec)) {
        if (entry.path().filename().string().starts_with(kRemovedPrefix)) {
            manager->janitor_.remove(entry.path(), std::nullopt);
        }
    }
    // Adopts what a previous manager left: running containers are checked against their shims,
    // and every container pins its image (again: the pin is idempotent). The pins are read
    // first: one seen here belongs to a container the list below shows, unless that is being
    // removed (a container is recorded before its pin and unpinned after its record goes).
    GROVE_ASSIGN_OR_RETURN(const auto holders, store.pin_holders(pin_holder("")));
    GROVE_ASSIGN_OR_RETURN(const auto all, manager->list({.all = true}));
    std::set<std::string, std::less<>> live;
    for (const auto& c : all) {
        live.insert(pin_holder(c.id));
    }
    for (const auto& holder : holders) {
        if (!live.contains(holder)) {  // unpinned in a remove a power cut undid (not fsynced)
            GROVE_TRY(store.unpin(holder));
        }
    }
    // Addresses held for containers that are gone (removed while their shim was dead).
    // Neither is needed to manage containers without the bridge (nor possible without root).
    network::BridgeNetwork bridge({.dir = manager->options_.network_dir});
    if (auto stale = bridge.detach_stale(); !stale) {
        manager->options_.log.warn("release stale network leases",
                                   {{"error", stale.error().to_string()}});
    }
    if (auto held = bridge.hold()) {
        manager->network_hold_ = std::move(*held);
    } else {
        manager->options_.log.warn("hold the bridge network",
                                   {{"error", held.error().to_string()}});
    }
    std::lock_guard lock(manager->mutex_);
    for (auto c : all) {
        GROVE_TRY(store.pin(pin_holder(c.id), c.image_uuid));
        // Restart policies resume: watchers for the running, restarts for those that exited
        // while no manager was open, and, as dockerd at its start, "always" even after a stop.
        if (c.restart.kind == RestartKind::kAlways && c.manually_stopped &&
            c.state.status == Status::kExited) {
            c.manually_stopped = false;
            GROVE_TRY(ContainerTable(manager->db_).set_manually_stopped(c.id, false));
        }
        if (c.state.status == Status::kRestarting) {  // a manager stopped in the backoff
            c.state.status = Status::kExited;
            GROVE_TRY(ContainerTable(manager->db_).set_state(c.id, c.state, c.restart_count));
        }
        if (c.state.running() || (c.state.status == Status::kExited && !c.manually_stopped)) {
            manager->watch_locked(c);
        }
        if (c.state.running()) {
            manager->probe_locked(c);
        }
    }
    return manager;
}

ContainerPaths Manager::paths(const std::string& id) const {
    return {options_.root / "containers" / id};
}

Result<void> Manager::reconcile(Container& c) {
    if (!c.state.running()) {
        return {};
    }
    const ContainerPaths p = paths(c.id);
    if (!c.config.network_dir.empty()) {
        if (auto text = read_file(p.network())) {
            GROVE_ASSIGN_OR_RETURN(c.network, network_state_from_json(*text));
        }
    }
    auto exited = [&]() -> Result<std::optional<ExitRecord>> {
        auto text = read_file(p.exit());
        if (!text) {
            if (text.error().code() == Code::kNotFound) {
                return std::optional<ExitRecord>{};
            }
            return text.error();
        }
        GROVE_ASSIGN_OR_RETURN(auto record, exit_record_from_json(*text));
        return std::optional(record);
    };
    GROVE_ASSIGN_OR_RETURN(auto record, exited());
    if (!record) {
        GROVE_ASSIGN_OR_RETURN(auto lock,
                               base::UniqueFd::open(p.shim_lock(), O_RDWR | O_CREAT, 0600));
        if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
            return {};  // the shim holds it: still running
        }
        // The shim may have written exit.json and ended between the two looks.
        GROVE_ASSIGN_OR_RETURN(record, exited());
        if (!record) {
            // Killed without a word: its container died with it (PR_SET_PDEATHSIG), and what
            // it could not clean up is ours to.
            options_.log.warn("container shim died", {{"container", c.id}});
            if (auto cgroups = runtime::cgroup::Manager::detect()) {
                if (auto group = (*cgroups)->open("ctr-" + c.id)) {
                    GROVE_TRY((*group)->close());
                }
            }
            ::unlink((p.dir / ContainerPaths::kSocketName).c_str());
            if (!c.config.network_dir.empty()) {
                ::unlink(p.network().c_str());
                GROVE_TRY(network::BridgeNetwork({.dir = c.config.network_dir})
                              .detach(fs::absolute(p.dir).lexically_normal().string()));
            }
            record = ExitRecord{.exit_code = kDeadShimExitCode,
                                .signal = SIGKILL,
                                .oom_killed = false,
                                .finished_ns = now_ns(),
                                .error = "the container's shim died"};
        }
    }
    c.state.status = Status::kExited;
    c.state.pid = 0;
    c.network.reset();
    c.state.exit_code = record->exit_code;
    c.state.oom_killed = record->oom_killed;
    c.state.finished_ns = record->finished_ns;
    c.state.error = record->error;
    return ContainerTable(db_).set_state(c.id, c.state, c.restart_count);
}

Result<Container> Manager::find_locked(std::string_view ref) {
    if (ref.starts_with('/')) {
        ref.remove_prefix(1);
    }
    GROVE_ASSIGN_OR_RETURN(auto all, ContainerTable(db_).all());
    const Container* found = nullptr;
    for (const auto& c : all) {
        if (c.id == ref || c.name == ref) {
            found = &c;
            break;
        }
    }
    if (found == nullptr && !ref.empty()) {
        for (const auto& c : all) {
            if (c.id.starts_with(ref)) {
                if (found != nullptr) {
                    return base::make_error(Code::kInvalidArgument,
                                            "multiple containers match '{}'", ref);
                }
                found = &c;
            }
        }
    }
    if (found == nullptr) {
        return base::make_error(Code::kNotFound, "no such container: {}", ref);
    }
    Container c = *found;
    GROVE_TRY(reconcile(c));
    if (const auto health = health_.find(c.id); health != health_.end()) {
        c.health = health->second;
    }
    return c;
}

Result<Container> Manager::find(std::string_view ref) {
    std::lock_guard lock(mutex_);
    return find_locked(ref);
}

Result<Container> Manager::create(const ContainerSpec& spec) {
    GROVE_ASSIGN_OR_RETURN(const store::ImageRecord image, store_.find(spec.image));
    GROVE_ASSIGN_OR_RETURN(const oci::ImageConfig config,
                           oci::parse_image_config(image.config_json));
    Container c;
    c.id = new_container_id();
    c.image_uuid = image.uuid;
    c.image_ref = spec.image;
    c.created_ns = now_ns();
    c.entrypoint = spec.entrypoint.value_or(config.entrypoint);
    c.cmd = spec.cmd.value_or(spec.entrypoint ? std::vector<std::string>{} : config.cmd);
    c.user = spec.user.empty() ? config.user : spec.user;
    c.labels = config.labels;
    for (const auto& [key, value] : spec.labels) {
        c.labels[key] = value;
    }
    c.stop_signal = spec.stop_signal;
    if (c.stop_signal == 0) {
        c.stop_signal = SIGTERM;
        if (!config.stop_signal.empty()) {
            GROVE_ASSIGN_OR_RETURN(c.stop_signal, parse_signal(config.stop_signal));
        }
    }
    c.stop_timeout_s = spec.stop_timeout_s.value_or(kDefaultStopTimeoutS);
    c.restart = spec.restart;
    GROVE_ASSIGN_OR_RETURN(const auto image_json, base::parse_json(image.config_json));
    GROVE_ASSIGN_OR_RETURN(c.healthcheck, resolve_healthcheck(spec.healthcheck, image_json));

    ShimConfig& shim = c.config;
    shim.id = c.id;
    shim.argv = c.entrypoint;
    shim.argv.insert(shim.argv.end(), c.cmd.begin(), c.cmd.end());
    if (shim.argv.empty()) {
        return base::make_error(Code::kInvalidArgument, "no command specified");
    }
    shim.env = engine::merged_env(config, spec.env);
    shim.cwd = !spec.workdir.empty()         ? spec.workdir
               : !config.working_dir.empty() ? config.working_dir
                                             : "/";
    GROVE_ASSIGN_OR_RETURN(const auto user, engine::resolve_image_user(store_, image, c.user));
    shim.uid = user.first;
    shim.gid = user.second;
    shim.hostname = spec.hostname.empty() ? c.id.substr(0, 12) : spec.hostname;
    shim.host_network = spec.network == Network::kHost;
    if (spec.network == Network::kBridge) {
        shim.network_dir = options_.network_dir;
        shim.ports = spec.ports;
    } else if (!spec.ports.empty()) {
        return base::make_error(Code::kInvalidArgument, "published ports need the bridge network");
    }
    shim.tty = spec.tty;
    shim.open_stdin = spec.open_stdin;
    shim.read_only = spec.read_only;
    GROVE_ASSIGN_OR_RETURN(shim.mounts, resolve_mounts(spec.mounts, volumes_));
    base::ScopeExit remove_volumes([&] { remove_anonymous_volumes(shim.mounts); });
    shim.init = spec.init;
    shim.limits = spec.limits;
    shim.capabilities = spec.capabilities;

    std::string_view name = spec.name;
    if (name.starts_with('/')) {
        name.remove_prefix(1);
    }
    if (!name.empty()) {
        GROVE_TRY(validate_name(name));
    }

    const ContainerPaths p = paths(c.id);
    GROVE_TRY(make_dir(p.dir, 0700));
    base::ScopeExit remove_dir([&] {
        std::error_code ec;
        fs::remove_all(p.dir, ec);
    });
    GROVE_TRY(make_dir(p.upper(), 0755));
    GROVE_TRY(make_dir(p.work(), 0700));
    GROVE_TRY(make_dir(p.rootfs(), 0755));

    std::lock_guard lock(mutex_);
    ContainerTable table(db_);
    // A generated name that is taken is made again; a given one is the client's to change.
    for (int attempt = 0;; ++attempt) {
        c.name = !name.empty() ? std::string(name)
                 : attempt < 8 ? generated_name()
                               : fmt::format("{}_{}", generated_name(), c.id.substr(0, 6));
        auto inserted = table.insert(c);
        if (inserted) {
            break;
        }
        if (inserted.error().code() != Code::kAlreadyExists || !name.empty() || attempt > 8) {
            if (inserted.error().code() == Code::kAlreadyExists) {
                return base::make_error(Code::kAlreadyExists,
                                        "the container name '/{}' is already in use", c.name);
            }
            return inserted.error();
        }
    }
    // Its layers must outlive it: the image is not removed while the container exists.
    if (auto pinned = store_.pin(pin_holder(c.id), c.image_uuid); !pinned) {
        GROVE_TRY(table.remove(c.id));
        return pinned.error();
    }
    remove_dir.dismiss();
    remove_volumes.dismiss();
    return c;
}

Result<image::RunDirs> Manager::layers(const store::ImageRecord& image, const ShimConfig& config) {
    return store_.prepare_run(image, mountpoint_needs(config));
}

void Manager::wait_not_busy(std::unique_lock<std::mutex>& lock, const std::string& id) {
    changed_.wait(lock, [&] { return !busy_.contains(id); });
}

Result<std::string> Manager::launch_shim(const fs::path& dir, int report_fd, int log_fd) {
    if (options_.shim_fork_server) {
        auto launched = options_.shim_fork_server->launch(dir, report_fd, log_fd);
        if (launched) {
            return fmt::format("forked as pid {}", *launched);
        }
        if (launched.error().code() != Code::kUnavailable) {
            return launched.error();
        }
        options_.log.warn("start the grove-shim binary instead",
                          {{"error", launched.error().to_string()}});
    }
    GROVE_ASSIGN_OR_RETURN(auto null, base::UniqueFd::open("/dev/null", O_RDWR));
    GROVE_ASSIGN_OR_RETURN(auto shim, base::ChildProcess::spawn({
                                          .argv = {options_.shim.string(), dir.string()},
                                          .stdin_fd = null.get(),
                                          .stdout_fd = report_fd,
                                          .stderr_fd = log_fd,
                                      }));
    GROVE_ASSIGN_OR_RETURN(const auto status, shim.wait());
    return status.to_string();
}

Result<void> Manager::start_locked(Container& c) {
    GROVE_ASSIGN_OR_RETURN(const store::ImageRecord image, store_.find(c.image_uuid));
    GROVE_ASSIGN_OR_RETURN(c.config.lowers,
                           store_.container_lowers(image, mountpoint_needs(c.config)));
    const ContainerPaths p = paths(c.id);
    GROVE_ASSIGN_OR_RETURN(const auto config_text, to_json(c.config));
    GROVE_TRY(write_file_atomically(p.config(), config_text));
    GROVE_ASSIGN_OR_RETURN(const auto* seccomp,
                           runtime::seccomp::default_program(c.config.capabilities));
    {
        // Not synced: each start writes it again before the shim reads it.
        GROVE_ASSIGN_OR_RETURN(
            auto fd, base::UniqueFd::open(p.seccomp(), O_WRONLY | O_CREAT | O_TRUNC, 0600));
        GROVE_TRY(base::write_all(fd.get(), runtime::seccomp::program_bytes(*seccomp)));
    }
    if (::unlink(p.exit().c_str()) != 0 && errno != ENOENT) {
        return base::last_errno_error("remove '{}'", p.exit().string());
    }

    GROVE_ASSIGN_OR_RETURN(base::Pipe report, base::Pipe::create());
    GROVE_ASSIGN_OR_RETURN(auto shim_log,
                           base::UniqueFd::open(p.shim_log(), O_WRONLY | O_CREAT | O_APPEND, 0600));
    GROVE_ASSIGN_OR_RETURN(const std::string launched,
                           launch_shim(p.dir, report.write.get(), shim_log.get()));
    report.write.reset();
    GROVE_ASSIGN_OR_RETURN(const std::string line, base::read_all(report.read.get(), 64 * 1024));
    std::string_view text = line;
    while (text.ends_with('\n')) {
        text.remove_suffix(1);
    }
    if (!text.starts_with("ok ")) {
        Error error = text.starts_with("err ")
                          ? shim_error(text.substr(4))
                          : base::make_error(Code::kInternal,
                                             "grove-shim ({}) ended without a report", launched);
        c.state.error = error.message();
        c.state.exit_code = 128;
        GROVE_TRY(ContainerTable(db_).set_state(c.id, c.state, c.restart_count));
        return error;
    }
    int pid = 0;
    int64_t started_ns = 0;
    if (std::sscanf(std::string(text).c_str(), "ok %d %" SCNd64, &pid, &started_ns) != 2) {
        return base::make_error(Code::kInternal, "grove-shim: bad report '{}'", text);
    }
    c.state.status = Status::kRunning;
    c.state.pid = pid;
    c.state.exit_code = 0;
    c.state.oom_killed = false;
    c.state.error.clear();
    c.state.started_ns = started_ns;
    GROVE_TRY(ContainerTable(db_).set_state(c.id, c.state, c.restart_count));
    changed_.notify_all();
    return {};
}

Result<bool> Manager::start(std::string_view ref) {
    std::unique_lock lock(mutex_);
    GROVE_ASSIGN_OR_RETURN(auto c, find_locked(ref));
    if (busy_.contains(c.id)) {
        wait_not_busy(lock, c.id);
        GROVE_ASSIGN_OR_RETURN(c, find_locked(c.id));
    }
    if (c.state.running()) {
        return false;
    }
    if (c.manually_stopped) {
        c.manually_stopped = false;
        GROVE_TRY(ContainerTable(db_).set_manually_stopped(c.id, false));
    }
    GROVE_TRY(base::with_context(start_locked(c), "start container '{}'", c.name));
    watch_locked(c);
    probe_locked(c);
    return true;
}

Result<std::string> Manager::shim_request_running(std::string_view ref, std::string_view request) {
    GROVE_ASSIGN_OR_RETURN(auto c, find(ref));
    if (!c.state.running()) {
        return base::make_error(Code::kFailedPrecondition, "container {} is not running", c.name);
    }
    auto reply = shim_call(paths(c.id).dir, request);
    if (!reply && reply.error().code() == Code::kUnavailable) {
        return base::make_error(Code::kFailedPrecondition, "container {} is not running", c.name);
    }
    return reply;
}

Result<void> Manager::kill(std::string_view ref, int signal) {
    GROVE_TRY(shim_request_running(ref, fmt::format("kill {}", signal)));
    return {};
}

Result<bool> Manager::wait_for_shim(const std::string& id,
                                    std::optional<milliseconds> timeout,
                                    std::stop_token stop) {
    auto conn = connect_shim(paths(id).dir);
    if (!conn) {
        return conn.error().code() == Code::kUnavailable ? Result<bool>(true) : conn.error();
    }
    auto ok = shim_request(conn->get(), "wait");
    if (!ok) {
        return ok.error().code() == Code::kUnavailable ? Result<bool>(true) : ok.error();
    }
    // The shim never writes again: readable means it closed the connection, i.e. ended. The
    // connection is kept across slices: a reconnect per slice cost every running container's
    // watcher ten connections, lock probes and database reads a second.
    using std::chrono::steady_clock;
    std::optional<steady_clock::time_point> deadline;
    if (timeout) {
        deadline = steady_clock::now() + *timeout;
    }
    while (true) {
        std::optional<milliseconds> slice;
        if (deadline) {
            slice = std::chrono::ceil<milliseconds>(*deadline - steady_clock::now());
            if (*slice <= milliseconds::zero()) {
                return false;
            }
        }
        if (stop.stop_possible()) {
            slice = std::min(slice.value_or(kWaitSlice), kWaitSlice);
        }
        GROVE_ASSIGN_OR_RETURN(const bool ended, base::wait_readable(conn->get(), slice));
        if (ended || stop.stop_requested()) {
            return ended;
        }
    }
}

Result<bool> Manager::stop(std::string_view ref, std::optional<std::chrono::seconds> timeout) {
    Container c;
    {
        // Marked first, so that no restart policy brings it back once it exits.
        std::lock_guard lock(mutex_);
        GROVE_ASSIGN_OR_RETURN(c, find_locked(ref));
        if (c.restart.kind != RestartKind::kNo) {
            GROVE_TRY(ContainerTable(db_).set_manually_stopped(c.id, true));
        }
        if (c.state.status == Status::kRestarting) {  // waiting to be restarted: not any more
            c.state.status = Status::kExited;
            GROVE_TRY(ContainerTable(db_).set_state(c.id, c.state, c.restart_count));
            return true;
        }
    }
    if (!c.state.running()) {
        return false;
    }
    const auto grace = timeout.value_or(std::chrono::seconds(c.stop_timeout_s));
    auto signalled = kill(c.id, c.stop_signal);
    if (signalled && grace.count() > 0) {
        GROVE_ASSIGN_OR_RETURN(const bool ended, wait_for_shim(c.id, grace));
        if (ended) {
            GROVE_TRY(find(c.id));  // records the exit
            return true;
        }
    }
    auto killed = kill(c.id, SIGKILL);
    if (!killed && killed.error().code() != Code::kFailedPrecondition) {
        return killed.error();
    }
    GROVE_TRY(wait_for_shim(c.id, std::nullopt));
    GROVE_TRY(find(c.id));
    return true;
}

Result<void> Manager::restart(std::string_view ref, std::optional<std::chrono::seconds> timeout) {
    GROVE_ASSIGN_OR_RETURN(auto c, find(ref));
    GROVE_TRY(stop(c.id, timeout));
    GROVE_TRY(start(c.id));
    return {};
}

Result<void> Manager::pause(std::string_view ref) {
    std::lock_guard lock(mutex_);
    GROVE_ASSIGN_OR_RETURN(auto c, find_locked(ref));
    if (c.state.status != Status::kRunning) {
        return base::make_error(
            Code::kFailedPrecondition, "container {} is {}", c.name,
            c.state.status == Status::kPaused ? "already paused" : "not running");
    }
    GROVE_TRY(shim_call(paths(c.id).dir, "pause"));
    c.state.status = Status::kPaused;
    return ContainerTable(db_).set_state(c.id, c.state, c.restart_count);
}

Result<void> Manager::unpause(std::string_view ref) {
    std::lock_guard lock(mutex_);
    GROVE_ASSIGN_OR_RETURN(auto c, find_locked(ref));
    if (c.state.status != Status::kPaused) {
        return base::make_error(Code::kFailedPrecondition, "container {} is not paused", c.name);
    }
    GROVE_TRY(shim_call(paths(c.id).dir, "resume"));
    c.state.status = Status::kRunning;
    return ContainerTable(db_).set_state(c.id, c.state, c.restart_count);
}

Result<Container> Manager::update(std::string_view ref, const runtime::cgroup::Limits& limits) {
    std::lock_guard lock(mutex_);
    GROVE_ASSIGN_OR_RETURN(auto c, find_locked(ref));
    if (c.state.running()) {  // the shim owns the cgroup
        GROVE_TRY(shim_call(paths(c.id).dir, "update " + limits_to_json(limits)));
    }
    auto& current = c.config.limits;
    current.memory_bytes = limits.memory_bytes ? limits.memory_bytes : current.memory_bytes;
    current.pids = limits.pids ? limits.pids : current.pids;
    current.cpus = limits.cpus ? limits.cpus : current.cpus;
    GROVE_TRY(ContainerTable(db_).set_config(c.id, c.config));
    return c;
}

Result<WaitResult> Manager::wait(std::string_view ref,
                                 WaitCondition condition,
                                 std::stop_token stop,
                                 std::optional<int64_t> seen_start) {
    GROVE_ASSIGN_OR_RETURN(auto c, find(ref));
    const std::string id = c.id;
    if (condition == WaitCondition::kNextExit && !c.state.running()) {
        // Until this container starts again (its start time changes), not any other one.
        std::unique_lock lock(mutex_);
        const int64_t last_start = seen_start.value_or(c.state.started_ns);
        while (true) {
            GROVE_ASSIGN_OR_RETURN(const auto now, find_locked(id));
            if (now.state.started_ns != last_start) {
                break;
            }
            if (stop.stop_requested()) {
                return base::make_error(Code::kCancelled, "wait for container {} cancelled", id);
            }
            changed_.wait_for(lock, kWaitSlice);
        }
    }
    while (true) {
        auto now = find(id);
        if (!now && now.error().code() == Code::kNotFound && condition == WaitCondition::kRemoved) {
            // Removed by another thread between two looks: it left its exit behind.
            std::lock_guard lock(mutex_);
            if (const auto removed = removed_exit_locked(id)) {
                return *removed;
            }
        }
        GROVE_TRY(now);
        c = std::move(now).value();
        if (!c.state.running()) {
            break;
        }
        GROVE_TRY(wait_for_shim(id, std::nullopt, stop));
        if (stop.stop_requested()) {
            return base::make_error(Code::kCancelled, "wait for container {} cancelled", id);
        }
    }
    const WaitResult result{.exit_code = c.state.exit_code, .error = c.state.error};
    if (condition == WaitCondition::kRemoved) {
        std::unique_lock lock(mutex_);
        while (true) {
            auto row = ContainerTable(db_).get(id);
            if (!row && row.error().code() == Code::kNotFound) {
                break;
            }
            GROVE_TRY(row);
            if (stop.stop_requested()) {
                return base::make_error(Code::kCancelled, "wait for container {} cancelled", id);
            }
            changed_.wait_for(lock, kWaitSlice);
        }
        // The exit it had when removed: docker run --rm waits before its start, when the
        // container has not run yet.
        if (const auto removed = removed_exit_locked(id)) {
            return *removed;
        }
    }
    return result;
}

std::optional<WaitResult> Manager::removed_exit_locked(const std::string& id) const {
    for (const auto& [removed_id, result] : removed_) {
        if (removed_id == id) {
            return result;
        }
    }
    return std::nullopt;
}

void Manager::remove_anonymous_volumes(const std::vector<ContainerMount>& mounts) {
    for (const auto& m : mounts) {
        if (m.anonymous) {
            if (auto removed = volumes_.remove(m.name); !removed) {
                options_.log.warn("volume leaked",
                                  {{"volume", m.name}, {"error", removed.error().message()}});
            }
        }
    }
}

Result<void> Manager::remove(std::string_view ref, bool force, bool volumes) {
    GROVE_ASSIGN_OR_RETURN(auto c, find(ref));
    if (c.state.running()) {
        if (!force) {
            return base::make_error(Code::kFailedPrecondition,
                                    "cannot remove container {}: it is {}; stop it first or "
                                    "force the removal",
                                    c.name, status_name(c.state.status));
        }
        auto killed = kill(c.id, SIGKILL);
        if (!killed && killed.error().code() != Code::kFailedPrecondition) {
            return killed.error();
        }
        GROVE_TRY(wait_for_shim(c.id, std::nullopt));
    }
    std::unique_lock lock(mutex_);
    wait_not_busy(lock, c.id);
    GROVE_ASSIGN_OR_RETURN(c, find_locked(c.id));
    if (c.state.running()) {
        return base::make_error(Code::kFailedPrecondition, "container {} was started again",
                                c.name);
    }
    // A shim that wrote exit.json may still be unlinking its socket: its lock says when it is
    // gone, and only then is the directory ours alone.
    if (auto shim_lock = base::UniqueFd::open(paths(c.id).shim_lock(), O_RDWR)) {
        while (::flock(shim_lock->get(), LOCK_EX) != 0 && errno == EINTR) {
        }
    }
    GROVE_TRY(ContainerTable(db_).remove(c.id));
    GROVE_TRY(store_.unpin(pin_holder(c.id)));
    removed_.emplace_back(c.id, WaitResult{.exit_code = c.state.exit_code, .error = c.state.error});
    if (removed_.size() > kRememberedRemovals) {
        removed_.pop_front();
    }
    std::erase_if(execs_, [&](const auto& entry) { return entry.second.container_id == c.id; });
    if (volumes) {
        remove_anonymous_volumes(c.config.mounts);
    }
    // Renamed, then removed in the background: what a crash leaves goes at the next open.
    const fs::path dir = paths(c.id).dir;
    const fs::path removed = dir.parent_path() / (std::string(kRemovedPrefix) + c.id);
    if (::rename(dir.c_str(), removed.c_str()) == 0) {
        janitor_.remove(removed, std::nullopt);
    } else {
        std::error_code ec;
        fs::remove_all(dir, ec);
        if (ec) {
            options_.log.warn("container directory leaked",
                              {{"container", c.id}, {"error", ec.message()}});
        }
    }
    changed_.notify_all();
    return {};
}

Result<void> Manager::rename(std::string_view ref, std::string_view name) {
    if (name.starts_with('/')) {
        name.remove_prefix(1);
    }
    GROVE_TRY(validate_name(name));
    std::lock_guard lock(mutex_);
    GROVE_ASSIGN_OR_RETURN(auto c, find_locked(ref));
    auto renamed = ContainerTable(db_).set_name(c.id, name);
    if (!renamed && renamed.error().code() == Code::kAlreadyExists) {
        return base::make_error(Code::kAlreadyExists, "the container name '/{}' is already in use",
                                name);
    }
    return renamed;
}

Result<Container> Manager::inspect(std::string_view ref) {
    return find(ref);
}

Result<std::vector<Container>> Manager::list(const ListFilter& filter) {
    std::lock_guard lock(mutex_);
    GROVE_ASSIGN_OR_RETURN(auto all, ContainerTable(db_).all());  // newest first
    std::optional<int64_t> since;
    std::optional<int64_t> before;
    if (filter.since) {
        GROVE_ASSIGN_OR_RETURN(const auto c, find_locked(*filter.since));
        since = c.created_ns;
    }
    if (filter.before) {
        GROVE_ASSIGN_OR_RETURN(const auto c, find_locked(*filter.before));
        before = c.created_ns;
    }
    std::vector<Container> out;
    for (auto& c : all) {
        GROVE_TRY(reconcile(c));
        if (const auto health = health_.find(c.id); health != health_.end()) {
            c.health = health->second;
        }
        const bool matches =
            (filter.all || filter.limit || !filter.status.empty() || c.state.running()) &&
            any_or_empty(filter.status, [&](Status s) { return s == c.state.status; }) &&
            std::all_of(filter.labels.begin(), filter.labels.end(),
                        [&](const std::string& l) { return has_label(c, l); }) &&
            any_or_empty(
                filter.names,
                [&](const std::string& n) { return c.name.find(n) != std::string::npos; }) &&
            any_or_empty(filter.ids, [&](const std::string& i) { return c.id.starts_with(i); }) &&
            any_or_empty(filter.ancestors,
                         [&](const std::string& a) { return c.image_uuid == a; }) &&
            any_or_empty(filter.exited,
                         [&](int code) {
                             return c.state.status == Status::kExited && c.state.exit_code == code;
                         }) &&
            (!since || c.created_ns > *since) && (!before || c.created_ns < *before);
        if (matches) {
            out.push_back(std::move(c));
        }
        if (filter.limit && out.size() >= *filter.limit) {
            break;
        }
    }
    return out;
}

Result<void> Manager::logs(std::string_view ref,
                           const LogOptions& options,
                           const std::function<bool(const LogRecord&)>& on_record,
                           std::stop_token stop) {
    GROVE_ASSIGN_OR_RETURN(auto c, find(ref));
    const ContainerPaths p = paths(c.id);
    LogReader reader(p.log(), p.rotated_log());
    bool more = true;
    auto wanted = [&](const LogRecord& r) {
        return ((r.stream == LogStream::kStdout && options.stdout) ||
                (r.stream == LogStream::kStderr && options.stderr)) &&
               r.time_ns >= options.since_ns &&
               (options.until_ns == 0 || r.time_ns < options.until_ns);
    };
    auto emit = [&](LogRecord&& r) {
        if (more && wanted(r)) {
            more = on_record(r);
        }
    };
    // The tail needs the end first: the last lines are held back until the log is read.
    std::deque<LogRecord> tail;
    GROVE_TRY(reader.read_new([&](LogRecord&& record) {
        split_lines(std::move(record), [&](LogRecord&& line) {
            if (!options.tail) {
                emit(std::move(line));
            } else if (wanted(line) && *options.tail > 0) {
                tail.push_back(std::move(line));
                if (tail.size() > *options.tail) {
                    tail.pop_front();
                }
            }
        });
        return more;
    }));
    for (auto& line : tail) {
        emit(std::move(line));
    }
    if (!options.follow) {
        return {};
    }
    base::UniqueFd watch(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    if (!watch.valid() ||
        ::inotify_add_watch(watch.get(), p.dir.c_str(), IN_MODIFY | IN_CREATE | IN_MOVED_TO) < 0) {
        return base::last_errno_error("watch the log of container {}", c.name);
    }
    // Its close waits for the kernel's SRCU grace period: the stream ends without it.
    base::ScopeExit close_watch([&] { base::close_later(std::move(watch)); });
    bool running = true;
    while (more && !stop.stop_requested()) {
        // Read after learning the state: a container that stopped has its whole log written.
        // One removed meanwhile stopped too, and the open log still reads to its end.
        auto now = find(c.id);
        if (!now && now.error().code() != Code::kNotFound) {
            return now.error();
        }
        running = now && now->state.running();
        GROVE_TRY(reader.read_new([&](LogRecord&& record) {
            split_lines(std::move(record), emit);
            return more;
        }));
        if (!running || (options.until_ns != 0 && now_ns() >= options.until_ns)) {
            break;
        }
        GROVE_TRY(base::wait_readable(watch.get(), kWaitSlice));
        char drain[4096];
        while (::read(watch.get(), drain, sizeof(drain)) > 0) {
        }
    }
    return {};
}

Result<base::UniqueFd> Manager::attach(std::string_view ref, bool stdin_once) {
    GROVE_ASSIGN_OR_RETURN(auto c, find(ref));
    if (!c.state.running()) {
        return base::make_error(Code::kFailedPrecondition, "container {} is not running", c.name);
    }
    GROVE_ASSIGN_OR_RETURN(auto conn, connect_shim(paths(c.id).dir));
    GROVE_TRY(shim_request(conn.get(), stdin_once ? "attach stdin-once" : "attach"));
    return conn;
}

Result<void> Manager::resize(std::string_view ref, int rows, int cols) {
    GROVE_TRY(shim_request_running(ref, fmt::format("resize {} {}", rows, cols)));
    return {};
}

Result<void> Manager::close_stdin(std::string_view ref) {
    GROVE_TRY(shim_request_running(ref, "close-stdin"));
    return {};
}

Result<std::string> Manager::exec_create(std::string_view ref, const ExecConfig& config) {
    if (config.cmd.empty()) {
        return base::make_error(Code::kInvalidArgument, "no exec command specified");
    }
    GROVE_ASSIGN_OR_RETURN(auto c, find(ref));
    if (!c.state.running()) {
        return base::make_error(Code::kFailedPrecondition, "container {} is not running", c.name);
    }
    std::lock_guard lock(mutex_);
    ExecInfo info{.id = new_container_id(), .container_id = c.id, .config = config};
    execs_.emplace(info.id, info);
    return info.id;
}

Result<base::UniqueFd> Manager::exec_start(std::string_view exec_id) {
    ExecInfo info;
    {
        std::lock_guard lock(mutex_);
        const auto it = execs_.find(exec_id);
        if (it == execs_.end()) {
            return base::make_error(Code::kNotFound, "no such exec instance: {}", exec_id);
        }
        if (it->second.running || it->second.exit_code) {
            return base::make_error(Code::kFailedPrecondition, "exec {} was started already",
                                    exec_id);
        }
        info = it->second;
    }
    GROVE_ASSIGN_OR_RETURN(auto c, find(info.container_id));
    if (!c.state.running()) {
        return base::make_error(Code::kFailedPrecondition, "container {} is not running", c.name);
    }
    ExecRequest request{.argv = info.config.cmd,
                        .env = engine::merged_env({.env = c.config.env}, info.config.env),
                        .cwd = info.config.workdir.empty() ? c.config.cwd : info.config.workdir,
                        .uid = c.config.uid,
                        .gid = c.config.gid,
                        .tty = info.config.tty,
                        .open_stdin = info.config.open_stdin};
    if (!info.config.user.empty()) {
        GROVE_ASSIGN_OR_RETURN(const store::ImageRecord image, store_.find(c.image_uuid));
        GROVE_ASSIGN_OR_RETURN(const auto user,
                               engine::resolve_image_user(store_, image, info.config.user));
        request.uid = user.first;
        request.gid = user.second;
    }
    GROVE_ASSIGN_OR_RETURN(auto conn, connect_shim(paths(c.id).dir));
    GROVE_ASSIGN_OR_RETURN(
        const auto pid,
        shim_request(conn.get(), fmt::format("exec {} {}", info.id, to_json(request))));
    std::lock_guard lock(mutex_);
    if (const auto it = execs_.find(exec_id); it != execs_.end()) {
        it->second.running = true;
        it->second.pid = std::atoi(pid.c_str());
    }
    changed_.notify_all();
    return conn;
}

Result<ExecInfo> Manager::exec_inspect(std::string_view exec_id) {
    std::lock_guard lock(mutex_);
    const auto it = execs_.find(exec_id);
    if (it == execs_.end()) {
        return base::make_error(Code::kNotFound, "no such exec instance: {}", exec_id);
    }
    ExecInfo& info = it->second;
    if (info.running) {
        auto text = read_file(paths(info.container_id).exec_exit(info.id));
        if (text) {
            GROVE_ASSIGN_OR_RETURN(const auto record, exit_record_from_json(*text));
            info.running = false;
            info.exit_code = record.exit_code;
        } else if (text.error().code() != Code::kNotFound) {
            return text.error();
        }
    }
    return info;
}

Result<void> Manager::exec_resize(std::string_view exec_id, int rows, int cols) {
    {
        // Clients resize right after they start the exec, which may not have reached the shim
        // yet: wait for the start a moment, as dockerd waits for it.
        std::unique_lock lock(mutex_);
        changed_.wait_for(lock, kExecStartWait, [&] {
            const auto it = execs_.find(exec_id);
            return it == execs_.end() || it->second.running || it->second.exit_code;
        });
    }
    GROVE_ASSIGN_OR_RETURN(const ExecInfo info, exec_inspect(exec_id));
    if (!info.running) {
        return base::make_error(Code::kFailedPrecondition, "exec {} is not running", exec_id);
    }
    GROVE_TRY(shim_request_running(info.container_id,
                                   fmt::format("resize {} {} {}", rows, cols, info.id)));
    return {};
}

Result<runtime::cgroup::Stats> Manager::stats(std::string_view ref) {
    GROVE_ASSIGN_OR_RETURN(const auto reply, shim_request_running(ref, "stats"));
    return stats_from_json(reply);
}

}  // namespace grove::containers
