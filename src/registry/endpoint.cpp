#include "endpoint.hpp"

#include <charconv>

#include <fmt/format.h>

#include "base/error.hpp"

namespace grove::registry {
namespace {

bool is_unreserved(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

bool valid_port(std::string_view port) {
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string_view::npos) {
        return false;
    }
    int value = 0;
    std::from_chars(port.data(), port.data() + port.size(), value);
    return value > 0 && value <= 65535;
}

// host := DNS name or IPv4 | "[" IPv6 "]"; then an optional ":port".
bool valid_authority(std::string_view authority) {
    std::string_view host = authority;
    std::string_view rest;
    if (authority.starts_with('[')) {
        const size_t close = authority.find(']');
        if (close == std::string_view::npos || close == 1 ||
            authority.substr(1, close - 1).find_first_not_of("0123456789abcdefABCDEF:.") !=
                std::string_view::npos) {
            return false;
        }
        host = {};
        rest = authority.substr(close + 1);
    } else if (const size_t colon = authority.find(':'); colon != std::string_view::npos) {
        host = authority.substr(0, colon);
        rest = authority.substr(colon);
    }
    if (!rest.empty() && (rest.front() != ':' || !valid_port(rest.substr(1)))) {
        return false;
    }
    if (authority.starts_with('[')) {
        return true;
    }
    if (host.empty() || host.front() == '.' || host.back() == '.' || host.front() == '-') {
        return false;
    }
    for (char c : host) {
        if (!is_unreserved(c) || c == '_' || c == '~') {
            return false;
        }
    }
    return true;
}

bool valid_path(std::string_view path) {
    for (char c : path) {
        if (!is_unreserved(c) && c != '/') {
            return false;
        }
    }
    return path.find("//") == std::string_view::npos;
}

}  // namespace

Result<EndpointUrl> parse_endpoint_url(std::string_view url) {
    const auto invalid = [&](std::string_view why) {
        return base::make_error(
            Code::kInvalidArgument,
            "invalid registry endpoint '{}': {} (want http(s)://host[:port][/path])", url, why);
    };
    EndpointUrl out;
    const size_t sep = url.find("://");
    if (sep == std::string_view::npos) {
        return invalid("no scheme");
    }
    out.scheme = std::string(url.substr(0, sep));
    if (out.scheme != "http" && out.scheme != "https") {
        return invalid("the scheme must be http or https");
    }
    std::string_view rest = url.substr(sep + 3);
    const size_t slash = rest.find('/');
    const std::string_view authority = rest.substr(0, slash);
    if (!valid_authority(authority)) {
        return invalid("bad host or port");
    }
    out.authority = std::string(authority);
    std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
    while (path.ends_with('/')) {
        path.remove_suffix(1);
    }
    if (!valid_path(path)) {
        return invalid("the path may hold only unreserved characters, and no query or fragment");
    }
    out.path = std::string(path);
    return out;
}

std::string manifest_url(const Endpoint& endpoint,
                         std::string_view repository,
                         std::string_view tag_or_digest) {
    // Repository components, tags and digests are already restricted to URL-safe characters by
    // oci::Reference, so they are joined verbatim.
    return fmt::format("{}/v2/{}/manifests/{}", endpoint.base_url, repository, tag_or_digest);
}

std::string blob_url(const Endpoint& endpoint,
                     std::string_view repository,
                     const base::Digest& digest) {
    return fmt::format("{}/v2/{}/blobs/{}", endpoint.base_url, repository, digest.str());
}

std::string percent_encode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        if (is_unreserved(c)) {
            out.push_back(c);
        } else {
            out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
        }
    }
    return out;
}

}  // namespace grove::registry
