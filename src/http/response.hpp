#pragma once

// What a handler answers: a whole Response, the head of a streamed response (StreamHead), or
// the head after which the connection is handed over (HijackHead). Sent through ResponseWriter.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "http/headers.hpp"

namespace grove::http {

// Content-Encoding of a response. gzip is used only when the request's Accept-Encoding allows
// it (q > 0) and the handler did not set Content-Encoding itself; a streamed gzip response is
// flushed per write (Z_SYNC_FLUSH), so it stays live, and ends with a valid gzip trailer.
enum class Compression {
    kDefault,         // the Router's default (RouterOptions::compression)
    kNone,            // never compress
    kGzipIfAccepted,  // gzip when the client accepts it
};

struct Response {
    int status = 200;
    Headers headers;
    std::string body;
    Compression compression = Compression::kDefault;

    // `body` with Content-Type: application/json.
    static Response json(int status, std::string body);
    // `body` with the given Content-Type.
    static Response text(int status,
                         std::string body,
                         std::string_view content_type = "text/plain; charset=utf-8");
    // A response without a body (204 by default).
    static Response empty(int status = 204);
};

// The head of a streamed response: the header is sent at once (a client waiting for it, such as
// `docker wait`, sees it before any body), then every ResponseWriter::write() goes out as one
// chunk, flushed. With `content_length` and no compression the body is sent as is with that
// Content-Length instead; an HTTP/1.0 client gets a body delimited by closing the connection.
struct StreamHead {
    int status = 200;
    Headers headers;
    Compression compression = Compression::kDefault;
    std::optional<uint64_t> content_length;
};

// The head sent before a connection is handed over to the handler (Docker's attach and exec
// start): "101 UPGRADED" with `Upgrade: tcp`, or a 200 whose body is the raw stream. The server
// adds nothing to these headers.
struct HijackHead {
    int status = 101;
    std::string reason;  // empty: the standard phrase of `status`
    Headers headers;
};

// "OK", "Not Found", ...; "Unknown" for a status without a standard phrase.
std::string_view reason_phrase(int status);

// The default error response: {"error": <message>, "status": <status>} as JSON.
Response json_error(int status, std::string_view message);

}  // namespace grove::http
