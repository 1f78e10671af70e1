#include "platform.hpp"

#include <sys/utsname.h>
#include <vector>

#include "base/error.hpp"

namespace grove::oci {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return out;
}

}  // namespace

Platform Platform::normalized() const {
    Platform p{lower(os), lower(architecture), lower(variant)};
    if (p.architecture == "x86_64" || p.architecture == "x86-64") {
        p.architecture = "amd64";
        p.variant.clear();
    } else if (p.architecture == "i386" || p.architecture == "i686") {
        p.architecture = "386";
    } else if (p.architecture == "aarch64" || p.architecture == "arm64") {
        p.architecture = "arm64";
        if (p.variant.empty() || p.variant == "8") {
            p.variant = "v8";
        }
    } else if (p.architecture == "armhf") {
        p.architecture = "arm";
        p.variant = "v7";
    } else if (p.architecture == "armel") {
        p.architecture = "arm";
        p.variant = "v6";
    } else if (p.architecture == "arm" && p.variant.empty()) {
        p.variant = "v7";
    }
    return p;
}

Result<Platform> Platform::parse(std::string_view text) {
    std::vector<std::string_view> parts;
    size_t start = 0;
    while (start <= text.size()) {
        const size_t slash = std::min(text.find('/', start), text.size());
        parts.push_back(text.substr(start, slash - start));
        start = slash + 1;
    }
    for (const auto part : parts) {
        if (part.empty() ||
            part.find_first_not_of(
                "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") !=
                std::string_view::npos) {
            return base::make_error(Code::kInvalidArgument, "invalid platform '{}'", text);
        }
    }
    Platform p;
    switch (parts.size()) {
        case 1:
            p = Platform{"linux", std::string(parts[0]), ""};
            break;
        case 2:
            p = Platform{std::string(parts[0]), std::string(parts[1]), ""};
            break;
        case 3:
            p = Platform{std::string(parts[0]), std::string(parts[1]), std::string(parts[2])};
            break;
        default:
            return base::make_error(Code::kInvalidArgument,
                                    "invalid platform '{}': want os/arch[/variant]", text);
    }
    return p.normalized();
}

Platform Platform::host() {
    utsname uts{};
    ::uname(&uts);
    return Platform{"linux", uts.machine, ""}.normalized();
}

std::string Platform::to_string() const {
    std::string out = os + "/" + architecture;
    if (!variant.empty()) {
        out += "/" + variant;
    }
    return out;
}

bool Platform::matches(const Platform& candidate) const {
    const Platform want = normalized();
    const Platform have = candidate.normalized();
    return want.os == have.os && want.architecture == have.architecture &&
           (want.variant.empty() || want.variant == have.variant);
}

}  // namespace grove::oci
