#include "daemon/stream_repr.hpp"

#include "base/base64.hpp"
#include "base/error.hpp"

namespace grove::daemon {

bool is_plain_ascii(std::string_view bytes) {
    for (const char c : bytes) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 || u > 0x7e) && c != '\t' && c != '\n' && c != '\r') {
            return false;
        }
    }
    return true;
}

base::Json stream_repr(std::string_view bytes) {
    if (is_plain_ascii(bytes)) {
        return {{"value", bytes}, {"encoding", "ascii"}};
    }
    return {{"value", base::base64_encode(bytes)}, {"encoding", "base64"}};
}

Result<std::string> decode_stream_repr(const base::Json& repr) {
    if (repr.is_string()) {
        return repr.get<std::string>();
    }
    GROVE_ASSIGN_OR_RETURN(const auto value, base::json_optional_field<std::string>(repr, "value"));
    GROVE_ASSIGN_OR_RETURN(const auto encoding,
                           base::json_optional_field<std::string>(repr, "encoding"));
    if (!encoding || *encoding == "ascii" || *encoding == "utf-8" || *encoding == "utf8") {
        return value.value_or("");
    }
    if (*encoding == "base64") {
        return base::with_context(base::base64_decode(value.value_or("")), "stream value");
    }
    return base::make_error(Code::kInvalidArgument, "unknown stream encoding '{}'", *encoding);
}

}  // namespace grove::daemon
