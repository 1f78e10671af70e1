#include "image_config.hpp"

#include "base/error.hpp"
#include "base/json.hpp"

namespace grove::oci {
namespace {

constexpr size_t kMaxConfigSize = 8 << 20;

template <typename T>
Result<void> read_optional(const base::Json& object, std::string_view key, T& out) {
    GROVE_ASSIGN_OR_RETURN(auto value, base::json_optional_field<T>(object, key));
    if (value) {
        out = std::move(*value);
    }
    return {};
}

}  // namespace

Result<ImageConfig> parse_image_config(std::string_view bytes) {
    if (bytes.size() > kMaxConfigSize) {
        return base::make_error(Code::kOutOfRange,
                                "image config of {} bytes exceeds the {} byte limit", bytes.size(),
                                kMaxConfigSize);
    }
    GROVE_ASSIGN_OR_RETURN(base::Json json, base::parse_json(bytes));
    if (!json.is_object()) {
        return base::make_error(Code::kInvalidArgument, "image config is not a JSON object");
    }
    ImageConfig config;
    GROVE_TRY(read_optional(json, "os", config.platform.os));
    GROVE_TRY(read_optional(json, "architecture", config.platform.architecture));
    GROVE_TRY(read_optional(json, "variant", config.platform.variant));
    GROVE_TRY(read_optional(json, "created", config.created));
    if (const auto it = json.find("config"); it != json.end() && it->is_object()) {
        const base::Json& c = *it;
        GROVE_TRY(read_optional(c, "User", config.user));
        GROVE_TRY(read_optional(c, "Env", config.env));
        GROVE_TRY(read_optional(c, "Entrypoint", config.entrypoint));
        GROVE_TRY(read_optional(c, "Cmd", config.cmd));
        GROVE_TRY(read_optional(c, "WorkingDir", config.working_dir));
        GROVE_TRY(read_optional(c, "Labels", config.labels));
        GROVE_TRY(read_optional(c, "StopSignal", config.stop_signal));
        if (const auto ports = c.find("ExposedPorts"); ports != c.end() && ports->is_object()) {
            for (const auto& [port, unused] : ports->items()) {
                config.exposed_ports.push_back(port);
            }
        }
    }
    const auto rootfs = json.find("rootfs");
    if (rootfs == json.end() || !rootfs->is_object()) {
        return base::make_error(Code::kInvalidArgument, "image config has no rootfs");
    }
    GROVE_ASSIGN_OR_RETURN(auto diff_ids,
                           base::json_field<std::vector<std::string>>(*rootfs, "diff_ids"));
    for (const auto& text : diff_ids) {
        GROVE_ASSIGN_OR_RETURN(base::Digest digest,
                               base::with_context(base::Digest::parse(text), "rootfs.diff_ids"));
        config.diff_ids.push_back(std::move(digest));
    }
    return config;
}

std::vector<base::Digest> chain_ids(const std::vector<base::Digest>& diff_ids) {
    std::vector<base::Digest> out;
    out.reserve(diff_ids.size());
    for (const auto& diff_id : diff_ids) {
        out.push_back(out.empty()
                          ? diff_id
                          : base::Digest::sha256_of(out.back().str() + " " + diff_id.str()));
    }
    return out;
}

}  // namespace grove::oci
