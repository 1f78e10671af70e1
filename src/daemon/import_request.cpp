#include "daemon/import_request.hpp"

#include "base/error.hpp"

namespace grove::daemon {

Result<ImportRequest> parse_import_request(const base::Json& body) {
    if (!body.is_object()) {
        return base::make_error(Code::kInvalidArgument, "the request body must be a JSON object");
    }
    ImportRequest r;
    const auto registry = body.find("registry");
    if (registry == body.end() || !registry->is_object()) {
        return base::make_error(Code::kInvalidArgument, "registry is required: {{\"url\": ...}}");
    }
    GROVE_ASSIGN_OR_RETURN(r.url, base::json_field<std::string>(*registry, "url"));
    std::string_view ref = r.url;
    if (ref.starts_with("docker://")) {
        ref.remove_prefix(9);
    }
    GROVE_ASSIGN_OR_RETURN(r.reference,
                           base::with_context(oci::Reference::parse(ref), "registry.url"));
    if (const auto creds = registry->find("credentials");
        creds != registry->end() && !creds->is_null()) {
        GROVE_ASSIGN_OR_RETURN(auto user,
                               base::json_optional_field<std::string>(*creds, "username"));
        GROVE_ASSIGN_OR_RETURN(auto pass,
                               base::json_optional_field<std::string>(*creds, "password"));
        if (user.value_or("").empty() != pass.value_or("").empty()) {
            return base::make_error(Code::kInvalidArgument,
                                    "registry.credentials: username and password go together");
        }
        if (user && !user->empty()) {
            r.credentials = RegistryCredentials{*std::move(user), *std::move(pass)};
        }
    }
    GROVE_ASSIGN_OR_RETURN(r.tag, base::json_optional_field<std::string>(body, "tag"));
    if (r.tag && r.tag->empty()) {
        r.tag.reset();
    }
    GROVE_ASSIGN_OR_RETURN(const auto timeout, base::json_optional_field<double>(body, "timeout"));
    if (timeout) {
        if (*timeout <= 0) {
            return base::make_error(Code::kInvalidArgument, "timeout must be positive seconds");
        }
        r.timeout_seconds = static_cast<uint32_t>(*timeout);
    }
    GROVE_ASSIGN_OR_RETURN(const auto platform,
                           base::json_optional_field<std::string>(body, "platform"));
    if (platform && !platform->empty()) {
        GROVE_ASSIGN_OR_RETURN(r.platform,
                               base::with_context(oci::Platform::parse(*platform), "platform"));
    }
    return r;
}

base::Json import_request_json(const ImportRequest& r) {
    base::Json registry{{"url", r.url}};
    if (r.credentials) {
        registry["credentials"] = {{"username", r.credentials->username}, {"password", "<MASKED>"}};
    }
    return {{"registry", std::move(registry)},
            {"tag", r.tag ? base::Json(*r.tag) : base::Json()},
            {"timeout", r.timeout_seconds ? base::Json(*r.timeout_seconds) : base::Json()},
            {"platform", r.platform ? base::Json(r.platform->to_string()) : base::Json()}};
}

}  // namespace grove::daemon
