#include "digest.hpp"

#include <array>
#include <cerrno>
#include <unistd.h>

#include <openssl/evp.h>

#include "error.hpp"

namespace grove::base {
namespace {

struct Algorithm {
    std::string_view name;
    size_t hex_length;
};

constexpr std::array kAlgorithms{Algorithm{"sha256", 64}, Algorithm{"sha512", 128}};

bool is_lower_hex(std::string_view s) {
    for (char c : s) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

std::string to_hex(std::span<const unsigned char> bytes) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char b : bytes) {
        out.push_back(kHex[b >> 4]);
        out.push_back(kHex[b & 0xf]);
    }
    return out;
}

}  // namespace

Result<Digest> Digest::parse(std::string_view text) {
    const size_t colon = text.find(':');
    if (colon == std::string_view::npos) {
        return make_error(Code::kInvalidArgument, "invalid digest '{}': missing ':'", text);
    }
    const std::string_view name = text.substr(0, colon);
    const std::string_view encoded = text.substr(colon + 1);
    for (const auto& algorithm : kAlgorithms) {
        if (algorithm.name != name) {
            continue;
        }
        if (encoded.size() != algorithm.hex_length || !is_lower_hex(encoded)) {
            return make_error(Code::kInvalidArgument,
                              "invalid digest '{}': {} needs {} lowercase hex digits", text, name,
                              algorithm.hex_length);
        }
        return Digest(std::string(text), colon);
    }
    return make_error(Code::kUnimplemented, "unsupported digest algorithm '{}'", name);
}

Digest Digest::sha256_of(std::string_view data) {
    Sha256 hasher;
    hasher.update(data);
    return hasher.finish();
}

struct Sha256::Context {
    Context() : md(EVP_MD_CTX_new()) {
        if (md == nullptr || EVP_DigestInit_ex(md, EVP_sha256(), nullptr) != 1) {
            std::abort();  // only fails on allocation failure, which terminates anyway
        }
    }
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;
    ~Context() { EVP_MD_CTX_free(md); }

    EVP_MD_CTX* md;
};

Sha256::Sha256() : ctx_(std::make_unique<Context>()) {}
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;
Sha256::~Sha256() = default;

void Sha256::update(std::span<const std::byte> data) {
    EVP_DigestUpdate(ctx_->md, data.data(), data.size());
}

Digest Sha256::finish() {
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    unsigned int length = 0;
    EVP_DigestFinal_ex(ctx_->md, out.data(), &length);
    EVP_DigestInit_ex(ctx_->md, EVP_sha256(), nullptr);
    return Digest("sha256:" + to_hex(std::span(out.data(), length)), 6);
}

std::string sha1_bytes(std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    unsigned int length = 0;
    EVP_Digest(data.data(), data.size(), out.data(), &length, EVP_sha1(), nullptr);
    return {reinterpret_cast<const char*>(out.data()), length};
}

Result<Digest> sha256_fd(int fd) {
    Sha256 hasher;
    std::array<std::byte, 256 * 1024> buf;
    for (;;) {
        const ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return last_errno_error("read fd {} for sha256", fd);
        }
        if (n == 0) {
            return hasher.finish();
        }
        hasher.update(std::span(buf.data(), static_cast<size_t>(n)));
    }
}

}  // namespace grove::base
