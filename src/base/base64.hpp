#pragma once

// Standard base64 (RFC 4648 §4, with padding), for HTTP Basic credentials, the "auth" field of
// Docker config files, StreamRepr and WebSocket keys. OpenSSL has an encoder, but it is a private
// dependency of grove_base and its decoder accepts whitespace and missing padding differently from
// Docker's Go decoder.

#include <string>
#include <string_view>

#include <grove/result.hpp>

namespace grove::base {

std::string base64_encode(std::string_view data);
// Decodes padded base64; anything else (bad characters, wrong length) is InvalidArgument.
Result<std::string> base64_decode(std::string_view text);

}  // namespace grove::base
