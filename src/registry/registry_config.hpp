#pragma once

// How the registry client reaches registries: per-domain mirrors, plain-HTTP hosts, credentials,
// and the retry and timeout policy. Hosts are keyed by the domain of a reference ("docker.io",
// "127.0.0.1:5000"); a mirror's own credentials are keyed by the mirror's "host[:port]".
//
// As Docker does, localhost, 127.0.0.0/8 and [::1] are insecure (plain HTTP) without being
// configured, and docker.io is served by https://registry-1.docker.io. Insecure hosts are reached
// over plain HTTP only (containerd's plain-http): no TLS attempt first, so one unreachable port
// costs one connection attempt.

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <grove/result.hpp>

#include "auth_file.hpp"
#include "endpoint.hpp"

namespace grove::registry {

struct HostConfig {
    // Endpoint URLs tried before the registry itself, in order, with the registry's /v2/ paths
    // (Docker's registry-mirrors), e.g. "http://127.0.0.1:5000".
    std::vector<std::string> mirrors;
    bool insecure = false;  // plain HTTP
    std::optional<Credentials> credentials;
};

// Daemon-flag shaped settings, turned into a RegistryConfig by RegistryConfig::from_flags.
struct RegistryFlags {
    std::vector<std::string> mirrors;               // "docker.io=http://127.0.0.1:5000"
    std::vector<std::string> insecure;              // "host[:port]"
    std::vector<std::filesystem::path> auth_files;  // config.json / auth.json
};

struct RegistryConfig {
    std::map<std::string, HostConfig> hosts;
    // Attempts per endpoint for transient failures (connection errors, 429, 500/502/503/504);
    // an attempt that received blob bytes does not count, since the next one resumes after them.
    int max_attempts = 4;
    std::chrono::milliseconds backoff{200};  // before the 2nd attempt, doubled for each further one
    std::chrono::seconds connect_timeout{10};
    std::string user_agent = default_user_agent();

    static std::string default_user_agent();  // "grove/<version>"
    static Result<RegistryConfig> from_flags(const RegistryFlags& flags);

    // "docker.io=http://127.0.0.1:5000": appends a mirror for a domain, validating the URL.
    Result<void> add_mirror(std::string_view spec);
    // Allows plain HTTP to `domain` ("host[:port]").
    Result<void> add_insecure(std::string_view domain);
    // Merges the credentials of a config.json / auth.json document (later files win).
    Result<void> add_auth_file(std::string_view json);
    Result<void> load_auth_file(const std::filesystem::path& path);

    // Configured insecure, or loopback.
    bool is_insecure(std::string_view host_key) const;
    std::optional<Credentials> credentials(std::string_view host_key) const;
    // The mirrors of `domain` in order, then the registry itself. Mirror URLs are validated
    // when added; an invalid one set directly in `hosts` is InvalidArgument here.
    Result<std::vector<Endpoint>> endpoints(std::string_view domain) const;
};

// Whether `host_key` ("host[:port]") names this machine: localhost, 127.0.0.0/8 or [::1].
bool is_loopback(std::string_view host_key);

}  // namespace grove::registry
