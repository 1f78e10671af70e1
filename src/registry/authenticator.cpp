#include "authenticator.hpp"

#include "auth_challenge.hpp"
#include "base/base64.hpp"
#include "base/error.hpp"
#include "base/json.hpp"
#include "status_error.hpp"

namespace grove::registry {
namespace {

using Clock = TokenCache::Clock;

// The Docker token spec's default when a token response has no expires_in.
constexpr auto kDefaultTokenLifetime = std::chrono::seconds(60);
// A token is dropped this long before it expires, so it cannot expire between the cache lookup
// and the registry checking it.
constexpr auto kExpiryMargin = std::chrono::seconds(10);
constexpr size_t kMaxTokenResponse = 1 << 20;

struct Token {
    std::string value;
    std::chrono::seconds lifetime;
};

Result<Token> parse_token_response(std::string_view body) {
    GROVE_ASSIGN_OR_RETURN(const base::Json json, base::parse_json(body));
    GROVE_ASSIGN_OR_RETURN(auto token, base::json_optional_field<std::string>(json, "token"));
    if (!token || token->empty()) {
        // OAuth2-shaped servers answer with access_token only.
        GROVE_ASSIGN_OR_RETURN(token, base::json_optional_field<std::string>(json, "access_token"));
    }
    if (!token || token->empty()) {
        return Error(Code::kInvalidArgument, "the response has no token");
    }
    GROVE_ASSIGN_OR_RETURN(auto expires_in, base::json_optional_field<int64_t>(json, "expires_in"));
    const auto lifetime =
        expires_in && *expires_in > 0 ? std::chrono::seconds(*expires_in) : kDefaultTokenLifetime;
    return Token{std::move(*token), lifetime};
}

// The scopes a token request asks for: the challenge's (space-separated) or, when it names
// none, the one the request needs.
std::vector<std::string> requested_scopes(const Challenge& challenge, const std::string& scope) {
    const auto listed = challenge.param("scope");
    if (!listed || listed->empty()) {
        return {scope};
    }
    std::vector<std::string> out;
    for (size_t start = 0; start < listed->size();) {
        const size_t end = std::min(listed->find(' ', start), listed->size());
        if (end > start) {
            out.push_back(listed->substr(start, end - start));
        }
        start = end + 1;
    }
    return out;
}

// "Basic <base64(user:password)>"
std::string basic_authorization(const Credentials& credentials) {
    return "Basic " + base::base64_encode(credentials.username + ":" + credentials.password);
}

}  // namespace

Authenticator::Authenticator(const RegistryConfig& config, HttpClient& http)
    : config_(config), http_(http) {}

std::optional<std::string> Authenticator::cached(const Endpoint& endpoint,
                                                 const std::string& scope) const {
    return cache_.get(endpoint.host_key, scope);
}

Result<std::string> Authenticator::answer(const Endpoint& endpoint,
                                          const std::string& scope,
                                          const HttpResponse& unauthorized) {
    std::vector<Challenge> challenges;
    for (const std::string_view header : unauthorized.header_values("www-authenticate")) {
        GROVE_ASSIGN_OR_RETURN(auto parsed, parse_challenges(header));
        challenges.insert(challenges.end(), parsed.begin(), parsed.end());
    }
    if (const Challenge* bearer = find_challenge(challenges, "bearer")) {
        return fetch_token(endpoint, *bearer, scope);
    }
    if (find_challenge(challenges, "basic") != nullptr) {
        const auto credentials = config_.credentials(endpoint.host_key);
        if (!credentials) {
            return base::make_error(Code::kUnauthenticated,
                                    "'{}' requires credentials and none are configured for it",
                                    endpoint.host_key);
        }
        std::string header = basic_authorization(*credentials);
        // Basic credentials do not expire; a rejected one is replaced by the next answer.
        cache_.put(endpoint.host_key, scope, header, Clock::time_point::max());
        return header;
    }
    return base::make_error(Code::kUnauthenticated,
                            "'{}' answered 401 without a Bearer or Basic challenge: {}",
                            endpoint.host_key, describe_response(unauthorized));
}

Result<std::string> Authenticator::fetch_token(const Endpoint& endpoint,
                                               const Challenge& challenge,
                                               const std::string& scope) {
    const auto realm = challenge.param("realm");
    if (!realm || !(realm->starts_with("https://") || realm->starts_with("http://"))) {
        return base::make_error(Code::kUnauthenticated,
                                "'{}' sent a Bearer challenge without an http(s) realm",
                                endpoint.host_key);
    }
    std::string url = *realm;
    char separator = realm->find('?') == std::string::npos ? '?' : '&';
    const auto add_param = [&](std::string_view name, std::string_view value) {
        url += separator;
        url += name;
        url += '=';
        url += percent_encode(value);
        separator = '&';
    };
    if (const auto service = challenge.param("service")) {
        add_param("service", *service);
    }
    for (const auto& s : requested_scopes(challenge, scope)) {
        add_param("scope", s);
    }
    HttpRequest request{.url = url, .max_body = kMaxTokenResponse};
    const auto credentials = config_.credentials(endpoint.host_key);
    if (credentials) {
        request.headers.push_back("Authorization: " + basic_authorization(*credentials));
    }
    const auto requested_at = Clock::now();
    GROVE_ASSIGN_OR_RETURN(const HttpResponse response, http_.perform(request));
    if (response.status != 200) {
        const Code code = response.status == 403 || is_retryable_status(response.status)
                              ? code_for_status(response.status)
                              : Code::kUnauthenticated;
        return base::make_error(code, "token server '{}' refused {}: {}", *realm,
                                credentials
                                    ? fmt::format("the credentials for '{}'", endpoint.host_key)
                                    : std::string("an anonymous token"),
                                describe_response(response));
    }
    GROVE_ASSIGN_OR_RETURN(Token token, base::with_context(parse_token_response(response.body),
                                                           "token server '{}'", *realm));
    std::string header = "Bearer " + token.value;
    cache_.put(endpoint.host_key, scope, header, requested_at + token.lifetime - kExpiryMargin);
    return header;
}

}  // namespace grove::registry
