#pragma once

// Registry credentials, and the two files that store them in the same shape: Docker's
// ~/.docker/config.json and containers' auth.json (podman, skopeo):
//   {"auths": {"ghcr.io": {"auth": "<base64 user:password>"},
//              "https://index.docker.io/v1/": {"username": "u", "password": "p"}}}
// Keys are normalised to the reference domain they serve ("docker.io", "host:port"). Entries
// without credentials (those a credential helper manages, or an OAuth identitytoken) are skipped:
// grove runs no credential helpers.

#include <map>
#include <string>
#include <string_view>

#include <grove/result.hpp>

namespace grove::registry {

struct Credentials {
    std::string username;
    std::string password;

    friend bool operator==(const Credentials&, const Credentials&) = default;
};

// The domain an auths key names: the scheme and any path are dropped, the host is lowercased,
// and Docker Hub's aliases (index.docker.io, registry-1.docker.io) become "docker.io".
std::string normalize_auth_key(std::string_view key);

// The credentials in a config.json / auth.json document, by normalised domain. A malformed
// document, a bad base64 "auth" or one without "user:password" is InvalidArgument naming the key.
Result<std::map<std::string, Credentials>> parse_auth_file(std::string_view json);

}  // namespace grove::registry
