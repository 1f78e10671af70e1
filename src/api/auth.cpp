#include "api/auth.hpp"

#include <fcntl.h>

#include "base/digest.hpp"
#include "base/error.hpp"
#include "base/unique_fd.hpp"

namespace grove::api {
namespace {

constexpr size_t kMaxTokenFile = 1 << 20;
constexpr std::string_view kLocalRootUuid = "00000000-0000-0000-0000-000000000000";

std::string hash_of(std::string_view token) {
    return std::string(base::Digest::sha256_of(token).encoded());
}

// 8-4-4-4-12 of the first 32 hex digits of the token's hash.
std::string uuid_of(const std::string& hash) {
    return hash.substr(0, 8) + "-" + hash.substr(8, 4) + "-" + hash.substr(12, 4) + "-" +
           hash.substr(16, 4) + "-" + hash.substr(20, 12);
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
        s.remove_suffix(1);
    }
    return s;
}

}  // namespace

Authenticator::Authenticator(const AuthOptions& options)
    : trust_local_root_(options.trust_local_root) {
    for (const auto& token : options.tokens) {
        token_hashes_.insert(hash_of(token));
    }
}

Result<std::vector<std::string>> Authenticator::read_token_file(const std::filesystem::path& path) {
    GROVE_ASSIGN_OR_RETURN(auto fd, base::UniqueFd::open(path, O_RDONLY | O_CLOEXEC));
    GROVE_ASSIGN_OR_RETURN(const std::string text, base::read_all(fd.get(), kMaxTokenFile));
    std::vector<std::string> tokens;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos) {
            end = text.size();
        }
        const std::string_view line = trim(std::string_view(text).substr(start, end - start));
        if (!line.empty() && line.front() != '#') {
            tokens.emplace_back(line);
        }
        start = end + 1;
    }
    if (tokens.empty()) {
        return base::make_error(Code::kInvalidArgument, "token file '{}' holds no token",
                                path.string());
    }
    return tokens;
}

Result<Identity> Authenticator::authenticate(const http::Request& request) const {
    if (const auto header = request.header("Authorization")) {
        const std::string_view value = trim(*header);
        constexpr std::string_view kBearer = "Bearer ";
        if (value.size() > kBearer.size() &&
            http::iequals(value.substr(0, kBearer.size()), kBearer)) {
            const std::string hash = hash_of(trim(value.substr(kBearer.size())));
            if (token_hashes_.contains(hash)) {
                return Identity{.token_uuid = uuid_of(hash)};
            }
        }
    }
    const auto& peer = request.peer();
    if (trust_local_root_ && peer.transport == http::Transport::kUnix && peer.credentials &&
        peer.credentials->uid == 0) {
        return Identity{.token_uuid = std::string(kLocalRootUuid), .local_root = true};
    }
    return base::make_error(Code::kUnauthenticated, "missing or invalid bearer token");
}

}  // namespace grove::api
