#include "containers/mounts.hpp"

#include <algorithm>
#include <filesystem>

#include "base/error.hpp"
#include "base/scope_exit.hpp"
#include "containers/names.hpp"
#include "runtime/rootfs/tmpfs_options.hpp"

namespace grove::containers {

namespace fs = std::filesystem;

namespace {

Error not_absolute(std::string_view type, const std::string& path) {
    return base::make_error(
        Code::kInvalidArgument,
        "invalid mount config for type \"{}\": invalid mount path: '{}' mount path must be "
        "absolute",
        type, path);
}

}  // namespace

Result<std::vector<ContainerMount>> resolve_mounts(const std::vector<ContainerMount>& asked,
                                                   Volumes& volumes) {
    std::vector<ContainerMount> out;
    // A later mount's error leaves no anonymous volume behind (named ones are kept, as dockerd).
    base::ScopeExit remove_anonymous([&] {
        for (const auto& m : out) {
            if (m.anonymous) {
                (void)volumes.remove(m.name);
            }
        }
    });
    for (ContainerMount m : asked) {
        const std::string_view type = mount_type_name(m.type);
        const fs::path target = fs::path(m.target).lexically_normal();
        if (!target.is_absolute()) {
            return not_absolute(type, m.target);
        }
        if (target == "/") {
            return base::make_error(
                Code::kInvalidArgument,
                "invalid mount config for type \"{}\": invalid specification: destination can't "
                "be '/'",
                type);
        }
        m.target = target.string();
        if (m.target.size() > 1 && m.target.ends_with('/')) {
            m.target.pop_back();
        }
        if (std::ranges::any_of(out, [&](const auto& o) { return o.target == m.target; })) {
            return base::make_error(Code::kInvalidArgument, "Duplicate mount point: {}", m.target);
        }
        switch (m.type) {
            case ContainerMount::Type::kBind: {
                const fs::path source = fs::path(m.source).lexically_normal();
                if (!source.is_absolute()) {
                    return not_absolute(type, m.source);
                }
                std::error_code ec;
                if (!fs::exists(source, ec)) {
                    if (!m.create_source) {
                        return base::make_error(Code::kInvalidArgument,
                                                "invalid mount config for type \"bind\": bind "
                                                "source path does not exist: {}",
                                                m.source);
                    }
                    fs::create_directories(source, ec);
                    if (ec) {
                        return base::make_error(Code::kInvalidArgument,
                                                "error while creating mount source path '{}': {}",
                                                m.source, ec.message());
                    }
                }
                m.source = source.string();
                break;
            }
            case ContainerMount::Type::kVolume: {
                if (m.name.empty()) {
                    m.name = new_container_id();
                    m.anonymous = true;
                }
                GROVE_ASSIGN_OR_RETURN(const fs::path data, volumes.ensure(m.name));
                m.source = data.string();
                break;
            }
            case ContainerMount::Type::kTmpfs:
                GROVE_TRY(runtime::rootfs::parse_tmpfs_options(m.tmpfs_options));
                m.source.clear();
                break;
        }
        out.push_back(std::move(m));
    }
    remove_anonymous.dismiss();
    return out;
}

}  // namespace grove::containers
