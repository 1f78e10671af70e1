#include "containers/shim/shim.hpp"

#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <fmt/format.h>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "containers/shim/shim_config.hpp"
#include "containers/shim/start_container.hpp"
#include "containers/shim/supervisor.hpp"

namespace grove::containers {
namespace {

Result<ShimConfig> load_config(const ContainerPaths& paths) {
    GROVE_ASSIGN_OR_RETURN(auto fd, base::UniqueFd::open(paths.config(), O_RDONLY));
    GROVE_ASSIGN_OR_RETURN(const auto text, base::read_all(fd.get()));
    return shim_config_from_json(text);
}

Result<base::UniqueFd> take_lock(const ContainerPaths& paths) {
    GROVE_ASSIGN_OR_RETURN(auto fd,
                           base::UniqueFd::open(paths.shim_lock(), O_RDWR | O_CREAT, 0600));
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        return base::last_errno_error("lock '{}': another shim runs this container",
                                      paths.shim_lock().string());
    }
    return fd;
}

// Bound relative to the working directory (the container's): see ContainerPaths::kSocketName.
Result<base::UniqueFd> listen_control() {
    ::unlink(ContainerPaths::kSocketName);
    base::UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!sock.valid()) {
        return base::last_errno_error("socket");
    }
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::string_view(ContainerPaths::kSocketName).copy(addr.sun_path, sizeof(addr.sun_path) - 1);
    if (::bind(sock.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::listen(sock.get(), 64) != 0) {
        return base::last_errno_error("listen on the control socket");
    }
    return sock;
}

void report(std::string_view line) {
    (void)base::write_all(STDOUT_FILENO, std::string(line) + "\n");
    const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    ::dup2(null, STDOUT_FILENO);
    ::dup2(null, STDIN_FILENO);
    ::close(null);
}

Result<void> run(const ContainerPaths& paths, const ShimConfig& config, base::UniqueFd netns) {
    GROVE_ASSIGN_OR_RETURN(auto lock, take_lock(paths));
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
        return base::last_errno_error("become a subreaper");
    }
    GROVE_ASSIGN_OR_RETURN(auto container, start_container(paths, config, std::move(netns)));
    const int64_t started_ns = now_ns();  // ours: the container may be done before the report
    GROVE_ASSIGN_OR_RETURN(auto control, listen_control());
    report(fmt::format("ok {} {}", container.process->pid(), started_ns));
    remove_old_work_dir(paths);
    return supervise(container, paths, config, control.get());
}

}  // namespace

int shim_main(int argc, char** argv, ShimLaunch launch) {
    if (argc != 2) {
        fmt::print(stderr, "usage: grove-shim <container directory>\n");
        return 2;
    }
    // Absolute: the directory names the container's network lease (container_network.hpp).
    const ContainerPaths paths{std::filesystem::absolute(argv[1]).lexically_normal()};
    if (::chdir(paths.dir.c_str()) != 0) {
        report(fmt::format("err chdir '{}': {}", paths.dir.string(), std::strerror(errno)));
        return 1;
    }
    auto config = load_config(paths);
    if (!config) {
        report("err " + config.error().to_string());
        return 1;
    }
    ::signal(SIGPIPE, SIG_IGN);
    ::setsid();
    if (!launch.detached) {
        const pid_t child = ::fork();
        if (child < 0) {
            report(fmt::format("err fork: {}", std::strerror(errno)));
            return 1;
        }
        if (child > 0) {
            return 0;  // the manager reaps us; our child is reparented, never a daemon's zombie
        }
    }
    const auto ran = run(paths, *config, std::move(launch.netns));
    if (!ran) {
        // Before the report, the manager learns it from the pipe (the code first, so it can
        // return the same error); after, from exit.json.
        report(fmt::format("err {} {}", code_name(ran.error().code()), ran.error().to_string()));
        fmt::print(stderr, "grove-shim {}: {}\n", config->id, ran.error().to_string());
        return 1;
    }
    return 0;
}

}  // namespace grove::containers
