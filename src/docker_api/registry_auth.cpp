#include "docker_api/registry_auth.hpp"

#include "base/base64.hpp"
#include "base/json.hpp"

namespace grove::docker_api {

Result<std::optional<registry::Credentials>> registry_auth(const http::Request& request) {
    const auto header = request.header("X-Registry-Auth");
    if (!header || header->empty()) {
        return std::optional<registry::Credentials>();
    }
    std::string text(*header);
    for (char& c : text) {
        c = c == '-' ? '+' : c == '_' ? '/' : c;
    }
    text.resize((text.size() + 3) / 4 * 4, '=');
    GROVE_ASSIGN_OR_RETURN(const std::string json_text, base::base64_decode(text));
    GROVE_ASSIGN_OR_RETURN(const base::Json json, base::parse_json(json_text));
    if (!json.is_object() || json.value("username", "").empty()) {
        return std::optional<registry::Credentials>();
    }
    return std::optional<registry::Credentials>(
        registry::Credentials{json.value("username", ""), json.value("password", "")});
}

}  // namespace grove::docker_api
