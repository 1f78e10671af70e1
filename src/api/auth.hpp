#pragma once

// Who may call the API. Clients send `Authorization: Bearer <token>` (every ConTree client does);
// a token is valid when it is one of the daemon's tokens, read from a file with one token per
// line (blank lines and lines starting with '#' are skipped). On the unix socket, a process
// running as root is trusted without a token when trust_local_root is set: it could read the
// token file anyway, and the socket's file mode (0660) already decides who may connect.
//
// Tokens are kept as their sha256 only, and a caller is identified by a UUID derived from its
// token's hash (whoami's token_uuid), so no token is ever logged or echoed.

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <grove/result.hpp>

#include "http/request.hpp"

namespace grove::api {

struct Identity {
    std::string token_uuid;
    bool local_root = false;  // trusted as root on the unix socket, without a token
};

struct AuthOptions {
    std::vector<std::string> tokens;
    bool trust_local_root = true;
};

class Authenticator {
public:
    explicit Authenticator(const AuthOptions& options);

    // The tokens of a token file; InvalidArgument if it holds none.
    static Result<std::vector<std::string>> read_token_file(const std::filesystem::path& path);

    // Unauthenticated (401) without a valid token, unless the peer is trusted as above.
    Result<Identity> authenticate(const http::Request& request) const;
    bool has_tokens() const { return !token_hashes_.empty(); }

private:
    std::set<std::string> token_hashes_;  // sha256 hex of each token
    bool trust_local_root_;
};

}  // namespace grove::api
