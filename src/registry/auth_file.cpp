#include "auth_file.hpp"

#include <algorithm>

#include "base/base64.hpp"
#include "base/error.hpp"
#include "base/json.hpp"

namespace grove::registry {
namespace {

using base::Json;

Result<std::optional<Credentials>> parse_entry(const Json& entry) {
    GROVE_ASSIGN_OR_RETURN(auto auth, base::json_optional_field<std::string>(entry, "auth"));
    if (auth && !auth->empty()) {
        GROVE_ASSIGN_OR_RETURN(std::string decoded, base::base64_decode(*auth));
        const size_t colon = decoded.find(':');
        if (colon == std::string::npos) {
            return Error(Code::kInvalidArgument, "\"auth\" does not decode to 'user:password'");
        }
        return std::optional<Credentials>(
            Credentials{decoded.substr(0, colon), decoded.substr(colon + 1)});
    }
    GROVE_ASSIGN_OR_RETURN(auto user, base::json_optional_field<std::string>(entry, "username"));
    GROVE_ASSIGN_OR_RETURN(auto password,
                           base::json_optional_field<std::string>(entry, "password"));
    if (user && password && !user->empty()) {
        return std::optional<Credentials>(Credentials{std::move(*user), std::move(*password)});
    }
    return std::optional<Credentials>();
}

}  // namespace

std::string normalize_auth_key(std::string_view key) {
    if (const size_t sep = key.find("://"); sep != std::string_view::npos) {
        key.remove_prefix(sep + 3);
    }
    key = key.substr(0, key.find('/'));
    std::string host(key);
    std::transform(host.begin(), host.end(), host.begin(),
                   [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; });
    if (host == "index.docker.io" || host == "registry-1.docker.io") {
        return "docker.io";
    }
    return host;
}

Result<std::map<std::string, Credentials>> parse_auth_file(std::string_view json) {
    GROVE_ASSIGN_OR_RETURN(Json doc, base::parse_json(json));
    GROVE_ASSIGN_OR_RETURN(auto auths, base::json_optional_field<Json>(doc, "auths"));
    std::map<std::string, Credentials> out;
    if (!auths) {
        return out;
    }
    if (!auths->is_object()) {
        return Error(Code::kInvalidArgument, "\"auths\" is not an object");
    }
    for (const auto& [key, entry] : auths->items()) {
        GROVE_ASSIGN_OR_RETURN(auto credentials,
                               base::with_context(parse_entry(entry), "auths entry '{}'", key));
        if (credentials) {
            out.insert_or_assign(normalize_auth_key(key), std::move(*credentials));
        }
    }
    return out;
}

}  // namespace grove::registry
