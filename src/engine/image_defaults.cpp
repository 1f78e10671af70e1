#include "engine/image_defaults.hpp"

#include <map>
#include <optional>

#include "base/error.hpp"
#include "base/parse_number.hpp"
#include "inspect/user_db.hpp"

namespace grove::engine {
namespace {

constexpr std::string_view kDefaultPath =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// Docker's USER rules, answered by the image's own /etc/passwd and /etc/group: "user[:group]"
// where each is a name or a number; without a group, the user's primary group from passwd,
// else 0. A name the image does not know is NotFound.
Result<std::pair<uint32_t, uint32_t>> resolve_user(std::string_view spec,
                                                   const inspect::UserDb& users) {
    const size_t colon = spec.find(':');
    const std::string_view user = spec.substr(0, colon);
    uint32_t uid = 0;
    std::optional<uint32_t> gid;
    if (const auto id = base::parse_number<uint32_t>(user)) {
        uid = *id;
        gid = users.primary_group(uid);
    } else if (const auto account = users.find_user(user)) {
        uid = account->id;
        gid = account->group;
    } else {
        return base::make_error(Code::kNotFound, "user '{}' is not in the image's /etc/passwd",
                                user);
    }
    if (colon != std::string_view::npos) {
        const std::string_view group = spec.substr(colon + 1);
        gid = base::parse_number<uint32_t>(group);
        if (!gid) {
            gid = users.find_group(group);
            if (!gid) {
                return base::make_error(Code::kNotFound,
                                        "group '{}' is not in the image's /etc/group", group);
            }
        }
    }
    return std::pair{uid, gid.value_or(0)};
}

}  // namespace

std::vector<std::string> merged_env(const oci::ImageConfig& config,
                                    const std::vector<std::string>& overrides) {
    std::map<std::string, std::string> vars;
    std::vector<std::string> order;
    auto add = [&](const std::string& entry) {
        const std::string key = entry.substr(0, entry.find('='));
        if (vars.insert_or_assign(key, entry).second) {
            order.push_back(key);
        }
    };
    add(std::string(kDefaultPath));
    for (const auto& entry : config.env) {
        add(entry);
    }
    for (const auto& entry : overrides) {
        add(entry);
    }
    std::vector<std::string> env;
    for (const auto& key : order) {
        env.push_back(vars[key]);
    }
    return env;
}

Result<std::pair<uint32_t, uint32_t>> resolve_image_user(image::ImageStore& store,
                                                         const store::ImageRecord& image,
                                                         std::string_view spec) {
    if (spec.empty() || spec == "root" || spec == "0") {
        return std::pair<uint32_t, uint32_t>{0, 0};
    }
    GROVE_ASSIGN_OR_RETURN(const auto files, store.filesystem(image));
    GROVE_ASSIGN_OR_RETURN(const auto users, inspect::UserDb::load(files));
    return resolve_user(spec, users);
}

}  // namespace grove::engine
