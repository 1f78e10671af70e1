#pragma once

// Digest is a content address as the OCI image spec defines it: "<algorithm>:<encoded>".
// Only the registered algorithms sha256 and sha512 are accepted, with their encoded part in
// lowercase hex of the exact length, so a Digest is always something grove can verify.
// Sha256 hashes a stream incrementally (OpenSSL EVP), for verifying blobs while they are written.

#include <compare>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include <grove/result.hpp>

namespace grove::base {

class Digest {
public:
    // "sha256:<64 lowercase hex>" or "sha512:<128 lowercase hex>".
    static Result<Digest> parse(std::string_view text);
    static Digest sha256_of(std::string_view data);

    std::string_view algorithm() const { return std::string_view(value_).substr(0, colon_); }
    std::string_view encoded() const { return std::string_view(value_).substr(colon_ + 1); }
    const std::string& str() const { return value_; }

    friend auto operator<=>(const Digest&, const Digest&) = default;

private:
    Digest(std::string value, size_t colon) : value_(std::move(value)), colon_(colon) {}
    friend class Sha256;

    std::string value_;
    size_t colon_ = 0;
};

class Sha256 {
public:
    Sha256();
    Sha256(Sha256&&) noexcept;
    Sha256& operator=(Sha256&&) noexcept;
    ~Sha256();

    void update(std::span<const std::byte> data);
    void update(std::string_view data) { update(std::as_bytes(std::span(data))); }
    // The digest of everything passed to update(); the hasher starts over afterwards.
    Digest finish();

private:
    struct Context;
    std::unique_ptr<Context> ctx_;
};

// sha256 of everything readable from `fd`, from its current offset to EOF.
Result<Digest> sha256_fd(int fd);

// The 20 raw bytes of SHA-1, which the WebSocket handshake needs (RFC 6455 §4.2.2). SHA-1 is not
// a content address grove accepts: Digest never holds one.
std::string sha1_bytes(std::string_view data);

}  // namespace grove::base
