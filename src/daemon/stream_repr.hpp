#pragma once

// ConTree's StreamRepr: bytes as JSON, {"value": ..., "encoding": "ascii" | "base64"}. The rule
// the clients share with the server: text made only of printable ASCII, TAB, LF and CR travels
// as is ("ascii"); anything else, UTF-8 included, as base64.

#include <string>
#include <string_view>

#include <grove/result.hpp>

#include "base/json.hpp"

namespace grove::daemon {

bool is_plain_ascii(std::string_view bytes);
// {"value", "encoding"}.
base::Json stream_repr(std::string_view bytes);
// The bytes of a StreamRepr a client sent; a missing encoding means ascii, and a bare string is
// taken as ascii too. InvalidArgument for bad base64 or an unknown encoding.
Result<std::string> decode_stream_repr(const base::Json& repr);

}  // namespace grove::daemon
