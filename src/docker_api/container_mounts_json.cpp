#include "docker_api/container_mounts_json.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "base/error.hpp"

namespace grove::docker_api {
namespace {

using containers::ContainerMount;
using Type = ContainerMount::Type;

// Mode words accepted with no effect: SELinux labels, nocopy, propagation (every mount of a
// container is private) and macOS consistency.
constexpr std::string_view kIgnoredModes[] = {
    "",        "z",     "Z",      "nocopy",     "private", "rprivate", "shared",
    "rshared", "slave", "rslave", "consistent", "cached",  "delegated"};

// The mode words of a bind ("ro,z"): read-only or not.
Result<bool> read_only_from_mode(std::string_view mode) {
    bool read_only = false;
    for (std::string_view rest = mode;;) {
        const size_t comma = rest.find(',');
        const std::string_view word = rest.substr(0, comma);
        if (word == "ro" || word == "rw") {
            read_only = word == "ro";
        } else if (std::ranges::find(kIgnoredModes, word) == std::end(kIgnoredModes)) {
            return base::make_error(Code::kInvalidArgument, "invalid mode: {}", mode);
        }
        if (comma == std::string_view::npos) {
            break;
        }
        rest.remove_prefix(comma + 1);
    }
    return read_only;
}

// "src:dst[:mode]": src absolute for a host path, else a volume's name; "dst" alone is an
// anonymous volume (docker-py sends -v /path so).
Result<ContainerMount> parse_bind(const std::string& spec) {
    std::vector<std::string> parts;
    for (size_t start = 0;;) {
        const size_t colon = spec.find(':', start);
        parts.push_back(spec.substr(start, colon - start));
        if (colon == std::string::npos) {
            break;
        }
        start = colon + 1;
    }
    ContainerMount m;
    if (parts.size() == 1 && !parts[0].empty()) {  // a path alone: an anonymous volume there
        m.type = Type::kVolume;
        m.target = parts[0];
        return m;
    }
    if (parts.size() > 3 || parts[0].empty() || parts[1].empty()) {
        return base::make_error(Code::kInvalidArgument, "invalid volume specification: '{}'", spec);
    }
    m.target = parts[1];
    if (parts[0].starts_with('/')) {
        m.type = Type::kBind;
        m.source = parts[0];
        m.create_source = true;
    } else {
        m.type = Type::kVolume;
        m.name = parts[0];
    }
    if (parts.size() == 3) {
        GROVE_ASSIGN_OR_RETURN(m.read_only, read_only_from_mode(parts[2]));
    }
    return m;
}

Result<std::string> string_field(const base::Json& object, const char* key) {
    GROVE_ASSIGN_OR_RETURN(auto value, base::json_optional_field<std::string>(object, key));
    return value.value_or("");
}

// One HostConfig.Mounts entry.
Result<ContainerMount> parse_mount(const base::Json& entry) {
    if (!entry.is_object()) {
        return base::make_error(Code::kInvalidArgument, "a mount must be an object");
    }
    GROVE_ASSIGN_OR_RETURN(const std::string type, string_field(entry, "Type"));
    ContainerMount m;
    GROVE_ASSIGN_OR_RETURN(m.target, string_field(entry, "Target"));
    GROVE_ASSIGN_OR_RETURN(const std::string source, string_field(entry, "Source"));
    GROVE_ASSIGN_OR_RETURN(const auto read_only,
                           base::json_optional_field<bool>(entry, "ReadOnly"));
    m.read_only = read_only.value_or(false);
    if (m.target.empty()) {
        return base::make_error(Code::kInvalidArgument,
                                "invalid mount config for type \"{}\": field Target must not be "
                                "empty",
                                type);
    }
    if (type == "bind") {
        if (source.empty()) {
            return base::make_error(
                Code::kInvalidArgument,
                "invalid mount config for type \"bind\": field Source must not be empty");
        }
        m.type = Type::kBind;
        m.source = source;
    } else if (type == "volume") {
        m.type = Type::kVolume;
        m.name = source;
    } else if (type == "tmpfs") {
        if (!source.empty()) {
            return base::make_error(
                Code::kInvalidArgument,
                "invalid mount config for type \"tmpfs\": field Source must not be specified");
        }
        m.type = Type::kTmpfs;
        const auto options = entry.find("TmpfsOptions");
        if (options != entry.end() && options->is_object()) {
            GROVE_ASSIGN_OR_RETURN(const auto size,
                                   base::json_optional_field<int64_t>(*options, "SizeBytes"));
            GROVE_ASSIGN_OR_RETURN(const auto mode,
                                   base::json_optional_field<uint32_t>(*options, "Mode"));
            if (size && *size < 0) {
                return base::make_error(Code::kInvalidArgument, "invalid tmpfs size {}", *size);
            }
            if (size && *size > 0) {
                m.tmpfs_options = fmt::format("size={}", *size);
            }
            if (mode && *mode != 0) {
                m.tmpfs_options +=
                    fmt::format("{}mode={:o}", m.tmpfs_options.empty() ? "" : ",", *mode & 07777);
            }
        }
    } else {
        return base::make_error(Code::kInvalidArgument, "mount type unknown: \"{}\"", type);
    }
    return m;
}

}  // namespace

Result<std::vector<ContainerMount>> mounts_from_json(const base::Json& body,
                                                     const base::Json& host) {
    std::vector<ContainerMount> mounts;
    GROVE_ASSIGN_OR_RETURN(const auto binds,
                           base::json_optional_field<std::vector<std::string>>(host, "Binds"));
    for (const auto& spec : binds.value_or(std::vector<std::string>{})) {
        GROVE_ASSIGN_OR_RETURN(auto m, parse_bind(spec));
        mounts.push_back(std::move(m));
    }
    if (const auto list = host.find("Mounts"); list != host.end() && !list->is_null()) {
        if (!list->is_array()) {
            return base::make_error(Code::kInvalidArgument, "HostConfig.Mounts must be a list");
        }
        for (const auto& entry : *list) {
            GROVE_ASSIGN_OR_RETURN(auto m, parse_mount(entry));
            mounts.push_back(std::move(m));
        }
    }
    using Tmpfs = std::map<std::string, std::string>;
    GROVE_ASSIGN_OR_RETURN(const auto tmpfs, base::json_optional_field<Tmpfs>(host, "Tmpfs"));
    for (const auto& [target, options] : tmpfs.value_or(Tmpfs{})) {
        mounts.push_back({.type = Type::kTmpfs, .target = target, .tmpfs_options = options});
    }
    // Config.Volumes: an anonymous volume where no other mount goes.
    if (const auto volumes = body.find("Volumes"); volumes != body.end() && volumes->is_object()) {
        for (const auto& [target, unused] : volumes->items()) {
            const bool taken = std::ranges::any_of(
                mounts, [&](const ContainerMount& m) { return m.target == target; });
            if (!taken) {
                mounts.push_back({.type = Type::kVolume, .target = target});
            }
        }
    }
    return mounts;
}

base::Json mount_points_json(const containers::Container& c) {
    base::Json out = base::Json::array();
    for (const auto& m : c.config.mounts) {
        if (m.type == Type::kTmpfs) {
            continue;
        }
        const bool volume = m.type == Type::kVolume;
        base::Json point = {{"Type", containers::mount_type_name(m.type)},
                            {"Source", m.source},
                            {"Destination", m.target},
                            {"Mode", m.read_only ? "ro" : ""},
                            {"RW", !m.read_only},
                            {"Propagation", volume ? "" : "rprivate"}};
        if (volume) {
            point["Name"] = m.name;
            point["Driver"] = "local";
        }
        out.push_back(std::move(point));
    }
    return out;
}

}  // namespace grove::docker_api
