#include "containers/names.hpp"

#include <array>
#include <cctype>
#include <cstdlib>
#include <sys/random.h>

#include <fmt/format.h>

#include "base/error.hpp"
#include "base/signal_name.hpp"

namespace grove::containers {
namespace {

void random_bytes(void* out, size_t size) {
    auto* bytes = static_cast<char*>(out);
    while (size > 0) {
        const ssize_t n = ::getrandom(bytes, size, 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            std::abort();  // as store::new_uuid: no ids without the kernel's randomness
        }
        bytes += n;
        size -= static_cast<size_t>(n);
    }
}

constexpr std::array<std::string_view, 16> kAdjectives = {
    "brave", "calm",   "clever", "eager",  "fervent", "gentle", "happy",  "jolly",
    "keen",  "lively", "modest", "nimble", "quiet",   "serene", "steady", "vivid"};
constexpr std::array<std::string_view, 16> kNouns = {
    "almond", "aspen",  "birch", "cedar", "elm",   "fir",    "hazel",  "juniper",
    "larch",  "linden", "maple", "oak",   "olive", "spruce", "walnut", "willow"};

}  // namespace

std::string new_container_id() {
    std::array<unsigned char, 32> bytes{};
    random_bytes(bytes.data(), bytes.size());
    std::string id;
    for (const unsigned char b : bytes) {
        id += fmt::format("{:02x}", b);
    }
    return id;
}

Result<void> validate_name(std::string_view name) {
    auto allowed = [](char c, bool first) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
               (!first && (c == '_' || c == '.' || c == '-'));
    };
    bool ok = name.size() >= 2 && name.size() <= 255;
    for (size_t i = 0; ok && i < name.size(); ++i) {
        ok = allowed(name[i], i == 0);
    }
    if (!ok) {
        return base::make_error(Code::kInvalidArgument,
                                "invalid container name '{}': only [a-zA-Z0-9][a-zA-Z0-9_.-] are "
                                "allowed",
                                name);
    }
    return {};
}

std::string generated_name() {
    std::array<unsigned char, 2> pick{};
    random_bytes(pick.data(), pick.size());
    return fmt::format("{}_{}", kAdjectives[pick[0] % kAdjectives.size()],
                       kNouns[pick[1] % kNouns.size()]);
}

Result<int> parse_signal(std::string_view text) {
    const auto number = base::signal_number(text);
    if (!number) {
        return base::make_error(Code::kInvalidArgument, "invalid signal: {}", text);
    }
    return *number;
}

}  // namespace grove::containers
