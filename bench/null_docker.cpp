#include "null_docker.hpp"

#include <cstring>
#include <sys/socket.h>
#include <sys/un.h>

#include <fmt/format.h>

#include "docker_peer.hpp"

namespace grove::bench {
namespace {

struct Request {
    std::string method;
    std::string path;  // without the /v1.xx prefix and the query
};

// Reads one request (head and Content-Length body) from `fd`; nullopt at the connection's end.
std::optional<Request> read_request(int fd, std::string& buffered) {
    size_t end;
    while ((end = buffered.find("\r\n\r\n")) == std::string::npos) {
        char buf[4096];
        const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
        if (n <= 0) {
            return std::nullopt;
        }
        buffered.append(buf, static_cast<size_t>(n));
    }
    const std::string head = buffered.substr(0, end);
    size_t length = 0;
    if (const size_t at = head.find("Content-Length: "); at != std::string::npos) {
        length = std::stoul(head.substr(at + 16));
    }
    while (buffered.size() < end + 4 + length) {
        char buf[4096];
        const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
        if (n <= 0) {
            return std::nullopt;
        }
        buffered.append(buf, static_cast<size_t>(n));
    }
    buffered.erase(0, end + 4 + length);
    Request r;
    const size_t space = head.find(' ');
    r.method = head.substr(0, space);
    r.path = head.substr(space + 1, head.find(' ', space + 1) - space - 1);
    r.path = r.path.substr(0, r.path.find('?'));
    if (r.path.starts_with("/v1.")) {
        r.path.erase(0, r.path.find('/', 1));
    }
    return r;
}

void send_text(int fd, const std::string& text) {
    (void)::send(fd, text.data(), text.size(), MSG_NOSIGNAL);
}

void reply(int fd, int status, const std::string& json) {
    send_text(fd, fmt::format("HTTP/1.1 {} X\r\nApi-Version: 1.41\r\nContent-Type: "
                              "application/json\r\nContent-Length: {}\r\n\r\n{}",
                              status, json.size(), json));
}

// "/containers/<id>/start" -> "<id>"
std::string second_segment(const std::string& path) {
    const size_t from = path.find('/', 1) + 1;
    return path.substr(from, path.find('/', from) - from);
}

constexpr auto kUpgraded =
    "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
    "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n";

}  // namespace

NullDocker::NullDocker() {
    auto created = base::TempDir::create("grove-bench-null-docker-", "/tmp");
    if (!created) {
        error = created.error().message();
        return;
    }
    dir_.emplace(std::move(created).value());
    listener_ = base::UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, socket().c_str(), sizeof(addr.sun_path) - 1);
    if (!listener_ ||
        ::bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::listen(listener_.get(), 64) != 0) {
        error = fmt::format("cannot listen on {}: {}", socket(), std::strerror(errno));
        return;
    }
    acceptor_ = std::thread([this] { accept_loop(); });
}

NullDocker::~NullDocker() {
    if (acceptor_.joinable()) {
        ::shutdown(listener_.get(), SHUT_RDWR);  // accept() fails, the loop ends
        acceptor_.join();
    }
    for (auto& c : connections_) {
        c.join();
    }
}

Result<base::CommandOutput> NullDocker::docker(std::vector<std::string> args,
                                               std::chrono::milliseconds timeout) const {
    return docker_cli("unix://" + socket(), std::move(args), timeout);
}

void NullDocker::accept_loop() {
    for (;;) {
        base::UniqueFd connection(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!connection) {
            if (errno == EINTR || errno == ECONNABORTED) {
                continue;
            }
            return;
        }
        const std::lock_guard lock(mutex_);
        connections_.emplace_back(
            [this, c = std::move(connection)]() mutable { serve(std::move(c)); });
    }
}

void NullDocker::await_start(const std::string& id) {
    std::unique_lock lock(mutex_);
    started_cv_.wait_for(lock, std::chrono::seconds(10), [&] { return started_.contains(id); });
}

void NullDocker::serve(base::UniqueFd connection) {
    const int fd = connection.get();
    std::string buffered;
    while (auto r = read_request(fd, buffered)) {
        const std::string& p = r->path;
        if (p == "/_ping") {
            send_text(fd, fmt::format("HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nOstype: linux\r\n"
                                      "Content-Type: text/plain\r\nContent-Length: 2\r\n\r\n{}",
                                      r->method == "HEAD" ? "" : "OK"));
        } else if (p == "/containers/create") {
            reply(fd, 201, fmt::format(R"({{"Id":"{:064x}","Warnings":[]}})", ++next_id_));
        } else if (p.starts_with("/containers/") && p.ends_with("/attach")) {
            send_text(fd, kUpgraded);
            await_start(second_segment(p));
            return;  // the container "exited" at its start, without output
        } else if (p.starts_with("/containers/") && p.ends_with("/wait")) {
            send_text(fd,
                      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n");
            await_start(second_segment(p));
            const std::string body = R"({"Error":null,"StatusCode":0})"
                                     "\n";
            send_text(fd, fmt::format("{:x}\r\n{}\r\n0\r\n\r\n", body.size(), body));
        } else if (p.starts_with("/containers/") && p.ends_with("/start")) {
            {
                const std::lock_guard lock(mutex_);
                started_.insert(second_segment(p));
            }
            started_cv_.notify_all();
            reply(fd, 204, "");
        } else if (p.starts_with("/containers/") && r->method == "DELETE") {
            reply(fd, 204, "");
        } else if (p.starts_with("/containers/") && p.ends_with("/json")) {
            reply(fd, 200,
                  fmt::format(R"({{"Id":"{}","State":{{"Status":"running","Running":true}},)"
                              R"("Config":{{"Tty":false}}}})",
                              second_segment(p)));
        } else if (p.starts_with("/containers/") && p.ends_with("/exec")) {
            reply(fd, 201, fmt::format(R"({{"Id":"{:064x}"}})", ++next_id_));
        } else if (p.starts_with("/exec/") && p.ends_with("/start")) {
            send_text(fd, kUpgraded);
            return;  // the exec ended at once, without output
        } else if (p.starts_with("/exec/") && p.ends_with("/json")) {
            reply(fd, 200, R"({"ExitCode":0,"Running":false,"Pid":0})");
        } else {
            reply(fd, 404,
                  fmt::format(R"({{"message":"the null daemon has no {} {}"}})", r->method, p));
        }
    }
}

}  // namespace grove::bench
