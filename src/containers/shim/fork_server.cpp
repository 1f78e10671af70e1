#include "containers/shim/fork_server.hpp"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <initializer_list>
#include <linux/close_range.h>
#include <optional>
#include <span>
#include <sstream>
#include <string_view>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/error.hpp"
#include "containers/shim/shim.hpp"
#include "runtime/process/netns_pool.hpp"
#include "runtime/process/sandbox_process.hpp"

namespace grove::containers {
namespace {

// The request: the container directory as the payload, the report and log fds as SCM_RIGHTS.
// The reply: the shim's pid (an int), or -errno when it could not fork.
constexpr size_t kMaxRequest = 4096;
constexpr int kServerSocket = 3;  // where the server keeps its end
constexpr int kForkNice = 10;

size_t thread_count() {
    size_t n = 0;
    if (DIR* dir = ::opendir("/proc/self/task")) {
        while (const dirent* entry = ::readdir(dir)) {
            n += entry->d_name[0] != '.';
        }
        ::closedir(dir);
    }
    return n;
}

// This process's argument strings, in place (/proc/self/stat's arg_start and arg_end): groved's
// command line, which the server and every shim inherit; empty when unknown.
std::span<char> argument_area() {
    auto fd = base::UniqueFd::open("/proc/self/stat", O_RDONLY);
    const auto read = fd ? base::read_all(fd->get()) : Result<std::string>(fd.error());
    const std::string stat = read.value_or("");
    const size_t close = stat.rfind(')');
    if (close == std::string::npos) {
        return {};
    }
    // Fields from the third on; arg_start and arg_end are the 48th and 49th.
    std::istringstream fields(stat.substr(close + 2));
    std::string field;
    unsigned long start = 0;
    unsigned long end = 0;
    for (int n = 3; n <= 49 && fields >> field; ++n) {
        if (n == 48) {
            start = std::strtoul(field.c_str(), nullptr, 10);
        } else if (n == 49) {
            end = std::strtoul(field.c_str(), nullptr, 10);
        }
    }
    if (start == 0 || end <= start) {
        return {};
    }
    return {reinterpret_cast<char*>(start), end - start};
}

// Rewrites the argument strings in place, as setproctitle does (prctl(PR_SET_MM) would need
// CAP_SYS_RESOURCE, which a root in a container may lack), so that ps and `pkill -f groved` see
// `args`, cut to fit, and not groved's command line.
void set_cmdline(std::span<char> area, std::initializer_list<std::string_view> args) {
    std::fill(area.begin(), area.end(), '\0');
    size_t used = 0;
    for (const std::string_view arg : args) {
        if (used + 1 >= area.size()) {
            return;
        }
        const size_t n = std::min(arg.size(), area.size() - 1 - used);  // a NUL stays last
        arg.copy(area.data() + used, n);
        used += n + 1;
    }
}

// A launch request: the container directory, and the report and log fds.
struct Request {
    std::string dir;
    int report_fd = -1;
    int log_fd = -1;
};

// Sends `request` on the SOCK_SEQPACKET `socket`: the directory as the payload, the fds as
// SCM_RIGHTS. False with errno set when it could not.
bool send_request(int socket, const Request& request) {
    const int fds[2] = {request.report_fd, request.log_fd};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof fds)] = {};
    iovec iov{.iov_base = const_cast<char*>(request.dir.data()), .iov_len = request.dir.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof fds);
    std::memcpy(CMSG_DATA(cmsg), fds, sizeof fds);
    return ::sendmsg(socket, &msg, MSG_NOSIGNAL) >= 0;
}

// The next request on `socket`; nullopt once it is closed. Exits the process on a message that
// is not a request: nothing sane can answer it.
std::optional<Request> receive_request(int socket) {
    for (;;) {
        char path[kMaxRequest];
        alignas(cmsghdr) char control[CMSG_SPACE(2 * sizeof(int))];
        iovec iov{.iov_base = path, .iov_len = sizeof path};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        const ssize_t got = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            return std::nullopt;
        }
        const cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
        int fds[2] = {-1, -1};
        if (cmsg == nullptr || cmsg->cmsg_type != SCM_RIGHTS ||
            cmsg->cmsg_len != CMSG_LEN(sizeof fds)) {
            _exit(1);
        }
        std::memcpy(fds, CMSG_DATA(cmsg), sizeof fds);
        return Request{.dir = std::string(path, static_cast<size_t>(got)),
                       .report_fd = fds[0],
                       .log_fd = fds[1]};
    }
}

// Becomes grove-shim for the request, with `netns` made ahead (or none: the shim makes its
// own). Never returns.
[[noreturn]] void become_shim(std::span<char> cmdline, Request request, base::UniqueFd netns) {
    const int null = ::open("/dev/null", O_RDWR);
    if (null < 0 || ::dup2(null, STDIN_FILENO) < 0 ||
        ::dup2(request.report_fd, STDOUT_FILENO) < 0 || ::dup2(request.log_fd, STDERR_FILENO) < 0) {
        _exit(127);
    }
    for (const int fd : {null, request.report_fd, request.log_fd}) {
        if (fd > STDERR_FILENO) {
            ::close(fd);
        }
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGCHLD, SIG_DFL);  // the server's SIG_IGN would reap the container for us
    ::prctl(PR_SET_NAME, "grove-shim");
    set_cmdline(cmdline, {"grove-shim", request.dir});
    char name[] = "grove-shim";
    char* argv[] = {name, request.dir.data(), nullptr};
    const int code = shim_main(2, argv, {.detached = true, .netns = std::move(netns)});
    std::fflush(nullptr);
    _exit(code);  // not exit(): the destructors of groved's statics are not the shim's to run
}

// A shim forked ahead of its launch, which it waits for on its end of `socket` with a fresh
// network namespace ready: a launch then costs a message instead of a fork of the server
// (~0.5 ms) and the namespace (~0.4 ms). It exits when the socket closes unused.
struct Spare {
    pid_t pid = -1;
    base::UniqueFd socket;  // the server's end
};

// A new spare; none (pid -1) when it cannot be forked, and the server then forks on request.
// The fork runs at a lower priority than the server's own `nice`: the shim just launched was
// woken on the server's CPU, and would otherwise wait it out before it starts the container.
Spare fork_spare(std::span<char> cmdline, int nice) {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
        return {};
    }
    base::UniqueFd ours(pair[0]);
    base::UniqueFd theirs(pair[1]);
    ::setpriority(PRIO_PROCESS, 0, kForkNice);
    const pid_t pid = ::fork();
    ::setpriority(PRIO_PROCESS, 0, nice);
    if (pid < 0) {
        return {};
    }
    if (pid == 0) {
        ::close(kServerSocket);  // groved's requests are the server's to take
        ours.reset();
        auto made = runtime::process::NetnsPool::make();
        base::UniqueFd netns = made ? std::move(*made) : base::UniqueFd();
        auto request = receive_request(theirs.get());
        if (!request) {
            _exit(0);
        }
        theirs.reset();
        become_shim(cmdline, std::move(*request), std::move(netns));
    }
    return {.pid = pid, .socket = std::move(ours)};
}

// Serves launches until the socket closes (groved ended). Single-threaded, so it may do anything
// a forked child of it must not. `cmdline` is the argument area every shim rewrites. The shims
// are its children, reaped by the kernel (SIGCHLD ignored), and init's once the server is gone.
[[noreturn]] void serve(std::span<char> cmdline) {
    ::signal(SIGCHLD, SIG_IGN);
    const int nice = [] {
        errno = 0;
        const int value = ::getpriority(PRIO_PROCESS, 0);  // -1 is a valid value
        return errno == 0 ? value : 0;
    }();
    Spare spare = fork_spare(cmdline, nice);
    for (;;) {
        auto request = receive_request(kServerSocket);
        if (!request) {
            _exit(0);
        }
        int reply = 0;
        if (spare.pid > 0 && send_request(spare.socket.get(), *request)) {
            reply = spare.pid;
        } else {  // no spare, or it died
            const pid_t child = ::fork();
            if (child == 0) {
                ::close(kServerSocket);
                spare.socket.reset();
                become_shim(cmdline, std::move(*request), base::UniqueFd());
            }
            reply = child < 0 ? -errno : child;
        }
        ::close(request->report_fd);
        ::close(request->log_fd);
        spare = {};
        if (::send(kServerSocket, &reply, sizeof reply, MSG_NOSIGNAL) != sizeof reply) {
            _exit(0);
        }
        spare = fork_spare(cmdline, nice);
    }
}

}  // namespace

Result<std::unique_ptr<ShimForkServer>> ShimForkServer::start() {
    if (thread_count() != 1) {
        return base::make_error(Code::kFailedPrecondition,
                                "the shim fork server must start before any other thread");
    }
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
        return base::last_errno_error("socketpair for the shim fork server");
    }
    base::UniqueFd ours(pair[0]);
    base::UniqueFd theirs(pair[1]);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
        return base::last_errno_error("fork the shim fork server");
    }
    if (pid == 0) {
        if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent ||
            ::dup2(theirs.get(), kServerSocket) < 0 ||
            ::close_range(kServerSocket + 1, ~0U, 0) != 0) {
            _exit(1);
        }
        (void)theirs.release();
        (void)ours.release();
        ::prctl(PR_SET_NAME, "grove-shim-fork");
        const std::span<char> cmdline = argument_area();
        set_cmdline(cmdline, {"grove-shim-fork"});
        ::signal(SIGINT, SIG_IGN);  // a terminal's ^C is groved's to handle
        // Made once here, inherited by every shim; a failure shows at the container's start.
        (void)runtime::process::prepare_starts();
        serve(cmdline);
    }
    return std::unique_ptr<ShimForkServer>(new ShimForkServer(std::move(ours), pid));
}

ShimForkServer::~ShimForkServer() {
    socket_.reset();  // the server reads EOF and exits
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
}

Result<pid_t> ShimForkServer::launch(const std::filesystem::path& dir, int report_fd, int log_fd) {
    const std::string& path = dir.native();
    if (path.empty() || path.size() > kMaxRequest) {
        return base::make_error(Code::kInvalidArgument, "container directory '{}'", path);
    }
    std::lock_guard lock(mutex_);
    if (!send_request(socket_.get(), {.dir = path, .report_fd = report_fd, .log_fd = log_fd})) {
        return base::make_error(Code::kUnavailable, "the shim fork server is gone: {}",
                                std::strerror(errno));
    }
    int reply = 0;
    ssize_t got = 0;
    while ((got = ::recv(socket_.get(), &reply, sizeof reply, 0)) < 0 && errno == EINTR) {
    }
    if (got != sizeof reply) {
        return base::make_error(Code::kUnavailable, "the shim fork server is gone");
    }
    if (reply < 0) {
        return base::errno_error(-reply, "fork a shim");
    }
    return reply;
}

}  // namespace grove::containers
