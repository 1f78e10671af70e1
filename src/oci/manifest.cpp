#include "manifest.hpp"

#include "base/error.hpp"
#include "media_types.hpp"

namespace grove::oci {
namespace {

Result<base::Json> parse_document(std::string_view bytes, std::string_view what) {
    if (bytes.size() > kMaxManifestSize) {
        return base::make_error(Code::kOutOfRange, "{} of {} bytes exceeds the {} byte limit", what,
                                bytes.size(), kMaxManifestSize);
    }
    GROVE_ASSIGN_OR_RETURN(base::Json json, base::parse_json(bytes));
    if (!json.is_object()) {
        return base::make_error(Code::kInvalidArgument, "{} is not a JSON object", what);
    }
    GROVE_ASSIGN_OR_RETURN(const int version, base::json_field<int>(json, "schemaVersion"));
    if (version != 2) {
        return base::make_error(Code::kUnimplemented, "{} schemaVersion {} is not supported", what,
                                version);
    }
    return json;
}

Result<std::vector<Descriptor>> descriptors(const base::Json& json, std::string_view key) {
    const auto it = json.find(key);
    if (it == json.end() || !it->is_array()) {
        return base::make_error(Code::kInvalidArgument, "missing array '{}'", key);
    }
    std::vector<Descriptor> out;
    out.reserve(it->size());
    for (const auto& entry : *it) {
        GROVE_ASSIGN_OR_RETURN(Descriptor d,
                               base::with_context(Descriptor::from_json(entry), "'{}'", key));
        out.push_back(std::move(d));
    }
    return out;
}

}  // namespace

Result<DocumentKind> detect_document(std::string_view content_type, std::string_view bytes) {
    // Content-Type may carry parameters ("...+json; charset=utf-8").
    content_type = content_type.substr(0, content_type.find(';'));
    while (!content_type.empty() && content_type.back() == ' ') {
        content_type.remove_suffix(1);
    }
    if (media_type::is_index(content_type)) {
        return DocumentKind::kIndex;
    }
    if (media_type::is_manifest(content_type)) {
        return DocumentKind::kManifest;
    }
    GROVE_ASSIGN_OR_RETURN(base::Json json, parse_document(bytes, "manifest"));
    const std::string declared = json.value("mediaType", "");
    if (media_type::is_index(declared) || (declared.empty() && json.contains("manifests"))) {
        return DocumentKind::kIndex;
    }
    if (media_type::is_manifest(declared) || (declared.empty() && json.contains("layers"))) {
        return DocumentKind::kManifest;
    }
    return base::make_error(Code::kUnimplemented, "unsupported manifest media type '{}'",
                            declared.empty() ? std::string(content_type) : declared);
}

Result<Manifest> parse_manifest(std::string_view bytes) {
    GROVE_ASSIGN_OR_RETURN(base::Json json, parse_document(bytes, "manifest"));
    std::string type = json.value("mediaType", std::string(media_type::kOciManifest));
    if (!media_type::is_manifest(type)) {
        return base::make_error(Code::kInvalidArgument, "not an image manifest: mediaType '{}'",
                                type);
    }
    const auto config = json.find("config");
    if (config == json.end()) {
        return base::make_error(Code::kInvalidArgument, "manifest has no config");
    }
    GROVE_ASSIGN_OR_RETURN(Descriptor config_descriptor,
                           base::with_context(Descriptor::from_json(*config), "manifest config"));
    GROVE_ASSIGN_OR_RETURN(std::vector<Descriptor> layers, descriptors(json, "layers"));
    Manifest m{std::move(type), std::move(config_descriptor), std::move(layers)};
    for (const auto& layer : m.layers) {
        if (!media_type::is_layer(layer.media_type)) {
            return base::make_error(Code::kUnimplemented,
                                    "layer '{}' has unsupported media type '{}'",
                                    layer.digest.str(), layer.media_type);
        }
    }
    return m;
}

Result<Index> parse_index(std::string_view bytes) {
    GROVE_ASSIGN_OR_RETURN(base::Json json, parse_document(bytes, "index"));
    Index index;
    index.media_type = json.value("mediaType", std::string(media_type::kOciIndex));
    if (!media_type::is_index(index.media_type)) {
        return base::make_error(Code::kInvalidArgument, "not an image index: mediaType '{}'",
                                index.media_type);
    }
    GROVE_ASSIGN_OR_RETURN(index.manifests, descriptors(json, "manifests"));
    return index;
}

Result<Descriptor> Index::select(const Platform& want) const {
    std::string offered;
    for (const auto& entry : manifests) {
        if (!entry.platform) {
            continue;
        }
        if (want.matches(*entry.platform)) {
            return entry;
        }
        offered += (offered.empty() ? "" : ", ") + entry.platform->normalized().to_string();
    }
    return base::make_error(Code::kNotFound, "no manifest for platform '{}' (the index offers: {})",
                            want.to_string(), offered.empty() ? "none" : offered);
}

}  // namespace grove::oci
