#include <system_error>

#include "base/error.hpp"
#include "cgroup.hpp"
#include "fs.hpp"
#include "v1.hpp"
#include "v2.hpp"

namespace grove::runtime::cgroup {

Result<std::unique_ptr<Manager>> Manager::detect(std::filesystem::path cgroupfs_root) {
    std::error_code ec;
    // Only a cgroup2 mount at the root has cgroup.controllers there; a hybrid host's cgroup2
    // sits at <root>/unified without controllers and is not used.
    if (std::filesystem::exists(cgroupfs_root / "cgroup.controllers", ec)) {
        return std::unique_ptr<Manager>(
            std::make_unique<V2Manager>(std::move(cgroupfs_root), FsHooks::real()));
    }
    GROVE_ASSIGN_OR_RETURN(auto hierarchies, find_v1_hierarchies(cgroupfs_root));
    if (hierarchies.empty()) {
        return base::make_error(Code::kFailedPrecondition,
                                "no cgroup v2 or v1 controller hierarchy under '{}'",
                                cgroupfs_root.string());
    }
    return std::unique_ptr<Manager>(
        std::make_unique<V1Manager>(std::move(hierarchies), FsHooks::real()));
}

}  // namespace grove::runtime::cgroup
