#include "registry_config.hpp"

#include <arpa/inet.h>
#include <fcntl.h>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "base/version.hpp"
#include "oci/reference.hpp"

namespace grove::registry {
namespace {

constexpr std::string_view kDockerHubEndpoint = "https://registry-1.docker.io";
// No sane auth file is larger; the bound keeps a wrong path from being read whole.
constexpr size_t kMaxAuthFileSize = 4 << 20;

// "host" of "host:port" or "[v6]:port", without brackets.
std::string_view host_of(std::string_view host_key) {
    if (host_key.starts_with('[')) {
        return host_key.substr(1, host_key.find(']') - 1);
    }
    return host_key.substr(0, host_key.find(':'));
}

}  // namespace

bool is_loopback(std::string_view host_key) {
    const std::string host(host_of(host_key));
    if (host == "localhost") {
        return true;
    }
    in_addr v4{};
    if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) {
        return (ntohl(v4.s_addr) >> 24) == 127;
    }
    in6_addr v6{};
    return ::inet_pton(AF_INET6, host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

std::string RegistryConfig::default_user_agent() {
    return "grove/" + std::string(base::version());
}

Result<RegistryConfig> RegistryConfig::from_flags(const RegistryFlags& flags) {
    RegistryConfig config;
    for (const auto& mirror : flags.mirrors) {
        GROVE_TRY(config.add_mirror(mirror));
    }
    for (const auto& host : flags.insecure) {
        GROVE_TRY(config.add_insecure(host));
    }
    for (const auto& path : flags.auth_files) {
        GROVE_TRY(config.load_auth_file(path));
    }
    return config;
}

Result<void> RegistryConfig::add_mirror(std::string_view spec) {
    const size_t eq = spec.find('=');
    if (eq == std::string_view::npos || eq == 0) {
        return base::make_error(Code::kInvalidArgument,
                                "invalid mirror '{}': want <domain>=<url>, e.g. "
                                "docker.io=http://127.0.0.1:5000",
                                spec);
    }
    const std::string_view domain = spec.substr(0, eq);
    const std::string_view url = spec.substr(eq + 1);
    GROVE_TRY(base::with_context(parse_endpoint_url(url), "mirror for '{}'", domain));
    hosts[std::string(domain)].mirrors.emplace_back(url);
    return {};
}

Result<void> RegistryConfig::add_insecure(std::string_view domain) {
    // A domain is what a reference starts with; reuse the reference grammar to validate it.
    GROVE_ASSIGN_OR_RETURN(const oci::Reference ref,
                           oci::Reference::parse(std::string(domain) + "/x"));
    if (ref.domain != domain) {
        return base::make_error(Code::kInvalidArgument, "invalid insecure registry '{}'", domain);
    }
    hosts[std::string(domain)].insecure = true;
    return {};
}

Result<void> RegistryConfig::add_auth_file(std::string_view json) {
    GROVE_ASSIGN_OR_RETURN(auto credentials, parse_auth_file(json));
    for (auto& [domain, creds] : credentials) {
        hosts[domain].credentials = std::move(creds);
    }
    return {};
}

Result<void> RegistryConfig::load_auth_file(const std::filesystem::path& path) {
    GROVE_ASSIGN_OR_RETURN(auto fd, base::UniqueFd::open(path.string(), O_RDONLY));
    GROVE_ASSIGN_OR_RETURN(std::string text, base::read_all(fd.get(), kMaxAuthFileSize + 1));
    if (text.size() > kMaxAuthFileSize) {
        return base::make_error(Code::kOutOfRange, "auth file '{}' is larger than {} bytes",
                                path.string(), kMaxAuthFileSize);
    }
    return base::with_context(add_auth_file(text), "auth file '{}'", path.string());
}

bool RegistryConfig::is_insecure(std::string_view host_key) const {
    const auto it = hosts.find(std::string(host_key));
    return (it != hosts.end() && it->second.insecure) || is_loopback(host_key);
}

std::optional<Credentials> RegistryConfig::credentials(std::string_view host_key) const {
    const auto it = hosts.find(std::string(host_key));
    return it == hosts.end() ? std::nullopt : it->second.credentials;
}

Result<std::vector<Endpoint>> RegistryConfig::endpoints(std::string_view domain) const {
    std::vector<Endpoint> out;
    if (const auto it = hosts.find(std::string(domain)); it != hosts.end()) {
        for (const auto& mirror : it->second.mirrors) {
            GROVE_ASSIGN_OR_RETURN(const EndpointUrl url, parse_endpoint_url(mirror));
            out.push_back({.base_url = url.scheme + "://" + url.authority + url.path,
                           .host_key = url.authority,
                           .mirror = true});
        }
    }
    std::string base_url =
        domain == oci::kDockerHubDomain
            ? std::string(kDockerHubEndpoint)
            : (is_insecure(domain) ? "http://" : "https://") + std::string(domain);
    out.push_back({.base_url = std::move(base_url), .host_key = std::string(domain)});
    return out;
}

}  // namespace grove::registry
