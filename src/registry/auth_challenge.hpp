#pragma once

// WWW-Authenticate parsing (RFC 7235 §4.1) for the two schemes registries use:
//   Bearer
//   realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:x:pull"
//   Basic realm="Registry Realm"
// A header may carry several challenges, parameter values may be quoted strings with backslash
// escapes and commas inside, and a response may repeat the header: all of that is handled here,
// so the client only looks up schemes and parameters.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <grove/result.hpp>

namespace grove::registry {

struct Challenge {
    std::string scheme;                         // lowercased: "bearer", "basic"
    std::map<std::string, std::string> params;  // names lowercased, values unquoted
    std::string token68;                        // the rare "Scheme token68" form, else empty

    std::optional<std::string> param(std::string_view name) const;
};

// Every challenge in one header value, in order. Malformed text (an unterminated quote, a
// parameter without a value, stray characters) is InvalidArgument.
Result<std::vector<Challenge>> parse_challenges(std::string_view header);

// The first challenge with `scheme` (lowercase) among `challenges`.
const Challenge* find_challenge(const std::vector<Challenge>& challenges, std::string_view scheme);

}  // namespace grove::registry
