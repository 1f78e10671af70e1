#include "blkio.hpp"

#include <charconv>
#include <optional>

namespace grove::runtime::cgroup {
namespace {

std::optional<uint64_t> parse_u64(std::string_view text) {
    uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

// "8:16" -> {8, 16}
std::optional<std::pair<uint64_t, uint64_t>> parse_device(std::string_view text) {
    const size_t colon = text.find(':');
    if (colon == std::string_view::npos) {
        return std::nullopt;
    }
    const auto major = parse_u64(text.substr(0, colon));
    const auto minor = parse_u64(text.substr(colon + 1));
    if (!major || !minor) {
        return std::nullopt;
    }
    return std::pair{*major, *minor};
}

// The space-separated words of `line`.
std::vector<std::string_view> words(std::string_view line) {
    std::vector<std::string_view> out;
    while (!line.empty()) {
        const size_t start = line.find_first_not_of(' ');
        if (start == std::string_view::npos) {
            break;
        }
        line.remove_prefix(start);
        const size_t end = std::min(line.find(' '), line.size());
        out.push_back(line.substr(0, end));
        line.remove_prefix(end);
    }
    return out;
}

template <typename OnLine>
void for_each_line(std::string_view text, OnLine on_line) {
    while (!text.empty()) {
        const size_t end = std::min(text.find('\n'), text.size());
        on_line(words(text.substr(0, end)));
        text.remove_prefix(std::min(end + 1, text.size()));
    }
}

}  // namespace

std::vector<BlkioEntry> parse_blkio_v1(std::string_view text) {
    std::vector<BlkioEntry> out;
    for_each_line(text, [&](const std::vector<std::string_view>& w) {
        if (w.size() != 3) {
            return;
        }
        const auto device = parse_device(w[0]);
        const auto value = parse_u64(w[2]);
        if (device && value) {
            out.push_back({device->first, device->second, std::string(w[1]), *value});
        }
    });
    return out;
}

IoStat parse_io_stat(std::string_view text) {
    IoStat out;
    for_each_line(text, [&](const std::vector<std::string_view>& w) {
        const auto device = w.empty() ? std::nullopt : parse_device(w[0]);
        if (!device) {
            return;
        }
        std::optional<uint64_t> rbytes, wbytes, rios, wios;
        for (size_t i = 1; i < w.size(); ++i) {
            const size_t eq = w[i].find('=');
            if (eq == std::string_view::npos) {
                continue;
            }
            const std::string_view key = w[i].substr(0, eq);
            const auto value = parse_u64(w[i].substr(eq + 1));
            if (key == "rbytes") {
                rbytes = value;
            } else if (key == "wbytes") {
                wbytes = value;
            } else if (key == "rios") {
                rios = value;
            } else if (key == "wios") {
                wios = value;
            }
        }
        const auto add = [&](std::vector<BlkioEntry>& to, const char* op,
                             std::optional<uint64_t> value) {
            to.push_back({device->first, device->second, op, value.value_or(0)});
        };
        add(out.service_bytes, "read", rbytes);
        add(out.service_bytes, "write", wbytes);
        add(out.serviced, "read", rios);
        add(out.serviced, "write", wios);
    });
    return out;
}

}  // namespace grove::runtime::cgroup
