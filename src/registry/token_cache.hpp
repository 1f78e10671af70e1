#pragma once

// TokenCache remembers the Authorization header that worked for a (host, scope) pair, so later
// requests send it up front instead of collecting a 401 first: one token request per repository
// per expiry, and a warm manifest fetch is a single round trip. Thread-safe.

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace grove::registry {

class TokenCache {
public:
    using Clock = std::chrono::steady_clock;

    // The header value ("Bearer x", "Basic y") for (host, scope) if it has not expired at `now`.
    std::optional<std::string> get(const std::string& host,
                                   const std::string& scope,
                                   Clock::time_point now = Clock::now()) const;
    // Caches `authorization` until `expires` (time_point::max() for Basic credentials).
    void put(const std::string& host,
             const std::string& scope,
             std::string authorization,
             Clock::time_point expires);

private:
    struct Entry {
        std::string authorization;
        Clock::time_point expires;
    };

    mutable std::mutex mutex_;
    std::map<std::pair<std::string, std::string>, Entry> entries_;  // guarded by mutex_
};

}  // namespace grove::registry
