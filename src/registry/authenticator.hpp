#pragma once

// Authenticator answers a registry's 401 (distribution spec, Docker token spec):
//   - "Bearer realm=R,service=S,scope=X": GET R?service=S&scope=X, with Basic credentials when the
//     endpoint has some (anonymously otherwise), and use the "token" (or "access_token") it
//     returns as "Authorization: Bearer <token>" until "expires_in" (60 s when absent);
//   - "Basic realm=R": send the endpoint's credentials, Unauthenticated when it has none.
// Answers are cached per (endpoint host, scope) and sent up front on later requests, so a token is
// fetched once per repository and expiry, not once per request. Thread-safe.

#include <optional>
#include <string>

#include <grove/result.hpp>

#include "endpoint.hpp"
#include "http_client.hpp"
#include "registry_config.hpp"
#include "token_cache.hpp"

namespace grove::registry {

struct Challenge;

class Authenticator {
public:
    // Both are borrowed and must outlive this object.
    Authenticator(const RegistryConfig& config, HttpClient& http);

    // The Authorization header value that worked for `endpoint` and `scope`, if still valid.
    std::optional<std::string> cached(const Endpoint& endpoint, const std::string& scope) const;

    // Answers `unauthorized` (a 401 from `endpoint`): returns the Authorization header value to
    // retry with and caches it. A token server refusing the credentials is Unauthenticated with
    // its message; a token server that cannot be reached is Unavailable (retryable).
    Result<std::string> answer(const Endpoint& endpoint,
                               const std::string& scope,
                               const HttpResponse& unauthorized);

private:
    Result<std::string> fetch_token(const Endpoint& endpoint,
                                    const Challenge& challenge,
                                    const std::string& scope);

    const RegistryConfig& config_;
    HttpClient& http_;
    TokenCache cache_;
};

}  // namespace grove::registry
