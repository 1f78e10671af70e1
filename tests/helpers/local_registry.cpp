#include "local_registry.hpp"

#include <arpa/inet.h>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <iterator>
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

// Runs a command and returns its stdout, or fails with its stderr.
Result<std::string> run_checked(std::vector<std::string> argv) {
    const std::string program = argv.front();
    GROVE_ASSIGN_OR_RETURN(auto out, base::run_command({.argv = std::move(argv)}, kCommandTimeout));
    if (!out.status.success()) {
        return base::make_error(Code::kInternal, "{} failed ({}): {}", program,
                                out.status.to_string(), out.err);
    }
    return std::move(out.out);
}

// The `auth:` section of a registry that trusts tokens from a token server it starts, which is
// returned with the section.
Result<std::pair<base::ChildProcess, std::string>> start_token_server(
    const std::filesystem::path& root, const RegistryOptions& options, int log_fd) {
    const std::string key = (root / "token.key").string();
    const std::string cert = (root / "token.crt").string();
    GROVE_TRY(run_checked({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                           key, "-out", cert, "-days", "2", "-subj", "/CN=grove-test-token"}));
    const std::string port_file = (root / "token.port").string();
    GROVE_ASSIGN_OR_RETURN(
        base::ChildProcess server,
        base::ChildProcess::spawn(
            {.argv = {GROVE_TEST_HELPERS_DIR "/token_server.py", port_file, key, cert,
                      "grove-test-issuer", "grove-test-registry", options.user, options.password},
             .stdout_fd = log_fd,
             .stderr_fd = log_fd,
             .parent_death_signal = SIGKILL}));
    const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
    while (!std::filesystem::exists(port_file)) {
        GROVE_ASSIGN_OR_RETURN(auto exited, server.wait_for(milliseconds(10)));
        if (exited || std::chrono::steady_clock::now() > deadline) {
            return base::make_error(Code::kUnavailable, "the token server did not start");
        }
    }
    std::ifstream in(port_file);
    int port = 0;
    in >> port;
    std::string auth = fmt::format(
        "auth:\n  token:\n    realm: http://127.0.0.1:{}/token\n    service: grove-test-registry\n"
        "    issuer: grove-test-issuer\n    rootcertbundle: {}\n",
        port, cert);
    return std::pair{std::move(server), std::move(auth)};
}

}  // namespace

Result<LocalRegistry> LocalRegistry::start(RegistryOptions options) {
    GROVE_ASSIGN_OR_RETURN(base::TempDir dir, base::TempDir::create("grove-registry-"));
    const auto root = dir.path();
    GROVE_ASSIGN_OR_RETURN(
        base::UniqueFd log,
        base::UniqueFd::open((root / "registry.log").string(), O_WRONLY | O_CREAT | O_TRUNC, 0644));
    std::string auth;
    std::optional<base::ChildProcess> token_server;
    if (options.auth == RegistryOptions::Auth::kBasic) {
        GROVE_ASSIGN_OR_RETURN(std::string line,
                               run_checked({"htpasswd", "-Bbn", options.user, options.password}));
        GROVE_TRY(write_file(root / "htpasswd", line));
        auth = fmt::format("auth:\n  htpasswd:\n    realm: grove-test\n    path: {}\n",
                           (root / "htpasswd").string());
    } else if (options.auth == RegistryOptions::Auth::kToken) {
        GROVE_ASSIGN_OR_RETURN(auto started, start_token_server(root, options, log.get()));
        token_server.emplace(std::move(started.first));
        auth = std::move(started.second);
    }

    for (int attempt = 0; attempt < 3; ++attempt) {
        GROVE_ASSIGN_OR_RETURN(const int port, free_port());
        const std::string config = fmt::format(
            "version: 0.1\n"
            "log:\n  level: warn\n  accesslog:\n    disabled: {}\n"
            "storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n"
            "http:\n  addr: 127.0.0.1:{}\n{}",
            !options.access_log, (root / "storage").string(), port, auth);
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
                return LocalRegistry(std::move(dir), std::move(token_server), std::move(process),
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

std::string LocalRegistry::access_log() const {
    std::ifstream in(dir_.path() / "registry.log");
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
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
        if (credentials == Credentials::kUse &&
            options_.auth != RegistryOptions::Auth::kAnonymous) {
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
