#include "token_cache.hpp"

namespace grove::registry {

std::optional<std::string> TokenCache::get(const std::string& host,
                                           const std::string& scope,
                                           Clock::time_point now) const {
    const std::lock_guard lock(mutex_);
    const auto it = entries_.find({host, scope});
    if (it == entries_.end() || now >= it->second.expires) {
        return std::nullopt;
    }
    return it->second.authorization;
}

void TokenCache::put(const std::string& host,
                     const std::string& scope,
                     std::string authorization,
                     Clock::time_point expires) {
    const std::lock_guard lock(mutex_);
    entries_.insert_or_assign({host, scope}, Entry{std::move(authorization), expires});
}

}  // namespace grove::registry
