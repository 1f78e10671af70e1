#include "descriptor.hpp"

#include "base/error.hpp"

namespace grove::oci {

Result<Descriptor> Descriptor::from_json(const base::Json& json) {
    GROVE_ASSIGN_OR_RETURN(std::string media_type,
                           base::json_field<std::string>(json, "mediaType"));
    GROVE_ASSIGN_OR_RETURN(const std::string digest_text,
                           base::json_field<std::string>(json, "digest"));
    GROVE_ASSIGN_OR_RETURN(const int64_t size, base::json_field<int64_t>(json, "size"));
    GROVE_ASSIGN_OR_RETURN(base::Digest digest, base::Digest::parse(digest_text));
    if (media_type.empty()) {
        return base::make_error(Code::kInvalidArgument, "descriptor '{}': empty mediaType",
                                digest_text);
    }
    if (size < 0 || size > kMaxDescriptorSize) {
        return base::make_error(Code::kInvalidArgument, "descriptor '{}': size {} out of range",
                                digest_text, size);
    }
    Descriptor d{std::move(media_type), std::move(digest), size, std::nullopt, {}};
    if (const auto it = json.find("platform"); it != json.end() && it->is_object()) {
        GROVE_ASSIGN_OR_RETURN(std::string os, base::json_field<std::string>(*it, "os"));
        GROVE_ASSIGN_OR_RETURN(std::string arch,
                               base::json_field<std::string>(*it, "architecture"));
        GROVE_ASSIGN_OR_RETURN(auto variant,
                               base::json_optional_field<std::string>(*it, "variant"));
        d.platform = Platform{std::move(os), std::move(arch), variant.value_or("")};
    }
    using Annotations = std::map<std::string, std::string>;
    GROVE_ASSIGN_OR_RETURN(auto annotations,
                           base::json_optional_field<Annotations>(json, "annotations"));
    if (annotations) {
        d.annotations = std::move(*annotations);
    }
    return d;
}

base::Json Descriptor::to_json() const {
    base::Json json = {{"mediaType", media_type}, {"digest", digest.str()}, {"size", size}};
    if (platform) {
        json["platform"] = {{"os", platform->os}, {"architecture", platform->architecture}};
        if (!platform->variant.empty()) {
            json["platform"]["variant"] = platform->variant;
        }
    }
    if (!annotations.empty()) {
        json["annotations"] = annotations;
    }
    return json;
}

}  // namespace grove::oci
