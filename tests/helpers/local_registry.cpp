#include "local_registry.hpp"

#include <arpa/inet.h>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include "base/error.hpp"
#include "base/unique_fd.hpp"

namespace grove::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr auto kStartTimeout = seconds(20);
constexpr auto kCommandTimeout = std::chrono::minutes(3);

// A port the kernel considers free right now. Another process may take it before the registry
// binds it; start() then sees the registry exit and tries again with a new port.
Result<int> free_port() {
    base::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) {
        return base::last_errno_error("socket");
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        return base::last_errno_error("bind a free loopback port");
    }
    return ntohs(addr.sin_port);
}

bool accepts_connections(int port) {
    base::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return fd && ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
}

Result<void> write_file(const std::filesystem::path& path, const std::string& content) {
    std::ofstream out(path);
    out << content;
    if (!out.flush()) {
        return base::make_error(Code::kInternal, "write '{}'", path.string());
    }
    return {};
}

std::string tail(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return text.size() > 2000 ? text.substr(text.size() - 2000) : text;
}

Result<std::string> htpasswd_line(const RegistryOptions& options) {
    GROVE_ASSIGN_OR_RETURN(
        auto out, base::run_command({.argv = {"htpasswd", "-Bbn", options.user, options.password}},
                                    kCommandTimeout));
    if (!out.status.success()) {
        return base::make_error(Code::kInternal, "htpasswd failed: {}", out.err);
    }
    return out.out;
}

}  // namespace

Result<LocalRegistry> LocalRegistry::start(RegistryOptions options) {
    GROVE_ASSIGN_OR_RETURN(base::TempDir dir, base::TempDir::create("grove-registry-"));
    const auto root = dir.path();
    std::string auth;
    if (options.auth == RegistryOptions::Auth::kBasic) {
        GROVE_ASSIGN_OR_RETURN(std::string line, htpasswd_line(options));
        GROVE_TRY(write_file(root / "htpasswd", line));
        auth = fmt::format("auth:\n  htpasswd:\n    realm: grove-test\n    path: {}\n",
                           (root / "htpasswd").string());
    }
    GROVE_ASSIGN_OR_RETURN(
        base::UniqueFd log,
        base::UniqueFd::open((root / "registry.log").string(), O_WRONLY | O_CREAT | O_TRUNC, 0644));

    for (int attempt = 0; attempt < 3; ++attempt) {
        GROVE_ASSIGN_OR_RETURN(const int port, free_port());
        const std::string config = fmt::format(
            "version: 0.1\n"
            "log:\n  level: warn\n  accesslog:\n    disabled: true\n"
            "storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n"
            "http:\n  addr: 127.0.0.1:{}\n{}",
            (root / "storage").string(), port, auth);
        GROVE_TRY(write_file(root / "config.yml", config));
        GROVE_ASSIGN_OR_RETURN(base::ChildProcess process,
                               base::ChildProcess::spawn({.argv = {"docker-registry", "serve",
                                                                   (root / "config.yml").string()},
                                                          .stdout_fd = log.get(),
                                                          .stderr_fd = log.get(),
                                                          .parent_death_signal = SIGKILL}));
        const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
        while (std::chrono::steady_clock::now() < deadline) {
            if (accepts_connections(port)) {
                return LocalRegistry(std::move(dir), std::move(process),
                                     fmt::format("127.0.0.1:{}", port), std::move(options));
            }
            GROVE_ASSIGN_OR_RETURN(auto exited, process.wait_for(milliseconds(20)));
            if (exited) {
                break;  // most likely lost the port race: try another port
            }
        }
    }
    return base::make_error(Code::kUnavailable,
                            "docker-registry did not start; its log ends with:\n{}",
                            tail(root / "registry.log"));
}

std::string LocalRegistry::docker_ref(const std::string& repo_tag) const {
    return fmt::format("docker://{}/{}", host_, repo_tag);
}

Result<base::CommandOutput> LocalRegistry::skopeo(std::vector<std::string> args,
                                                  Credentials credentials) const {
    if (args.empty()) {
        return base::make_error(Code::kInvalidArgument, "skopeo: no verb");
    }
    // A test must not depend on /etc/containers/policy.json or registries.conf being present.
    std::vector<std::string> argv = {"skopeo", "--insecure-policy", args[0]};
    // copy may read from or write to this registry: give both sides its flags.
    const std::vector<std::string> sides = args[0] == "copy"
                                               ? std::vector<std::string>{"--src-", "--dest-"}
                                               : std::vector<std::string>{"--"};
    for (const auto& side : sides) {
        argv.push_back(side + "tls-verify=false");
        if (credentials == Credentials::kUse && options_.auth == RegistryOptions::Auth::kBasic) {
            argv.push_back(side + "creds=" + options_.user + ":" + options_.password);
        }
    }
    argv.insert(argv.end(), std::make_move_iterator(args.begin() + 1),
                std::make_move_iterator(args.end()));
    return base::run_command({.argv = std::move(argv)}, kCommandTimeout);
}

Result<void> LocalRegistry::push(const std::string& source,
                                 const std::string& repo_tag,
                                 std::vector<std::string> extra) const {
    std::vector<std::string> args = {"copy", "--quiet"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(source);
    args.push_back(docker_ref(repo_tag));
    GROVE_ASSIGN_OR_RETURN(auto out, skopeo(std::move(args)));
    if (!out.status.success()) {
        return base::make_error(Code::kInternal, "skopeo copy '{}' to '{}' failed ({}): {}", source,
                                repo_tag, out.status.to_string(), out.err);
    }
    return {};
}

}  // namespace grove::testing
