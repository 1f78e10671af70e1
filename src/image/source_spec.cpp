#include "source_spec.hpp"

#include <array>
#include <cerrno>
#include <sys/stat.h>
#include <utility>

#include "archive_sources.hpp"
#include "base/error.hpp"
#include "layout_source.hpp"
#include "rootfs_source.hpp"

namespace grove::image {
namespace {

constexpr std::array<std::pair<std::string_view, Transport>, 4> kTransports{{
    {"oci", Transport::kOci},
    {"oci-archive", Transport::kOciArchive},
    {"docker-archive", Transport::kDockerArchive},
    {"rootfs", Transport::kRootfs},
}};

bool exists(const std::string& path) {
    struct stat st {};
    // Anything but "no such path" (EACCES, say) means it is there; opening it will tell more.
    return ::stat(path.c_str(), &st) == 0 || (errno != ENOENT && errno != ENOTDIR);
}

// Splits "<path>[:<ref>]" at the ':' that ends the longest existing prefix.
Result<std::pair<std::string, std::string>> split_path_ref(std::string_view rest) {
    // Candidates end at the end of `rest`, then at each ':' from the last to the first.
    for (size_t end = rest.size(); end > 0;) {
        const std::string path(rest.substr(0, end));
        if (exists(path)) {
            const std::string_view ref = end < rest.size() ? rest.substr(end + 1) : "";
            return std::pair{path, std::string(ref)};
        }
        end = rest.rfind(':', end - 1);
        if (end == std::string_view::npos) {
            break;
        }
    }
    return base::make_error(Code::kNotFound, "'{}' does not exist (nor any prefix before a ':')",
                            rest);
}

}  // namespace

Result<SourceSpec> parse_source_spec(std::string_view spec) {
    const size_t colon = spec.find(':');
    const std::string_view prefix = spec.substr(0, colon);
    for (const auto& [name, transport] : kTransports) {
        if (colon == std::string_view::npos || prefix != name) {
            continue;
        }
        const std::string_view rest = spec.substr(colon + 1);
        if (rest.empty()) {
            return base::make_error(Code::kInvalidArgument, "'{}' names no path", spec);
        }
        if (transport == Transport::kRootfs) {
            if (!exists(std::string(rest))) {
                return base::make_error(Code::kNotFound, "'{}' does not exist", rest);
            }
            return SourceSpec{transport, std::string(rest), "", std::nullopt};
        }
        GROVE_ASSIGN_OR_RETURN(auto split, split_path_ref(rest));
        return SourceSpec{transport, std::move(split.first), std::move(split.second), std::nullopt};
    }
    GROVE_ASSIGN_OR_RETURN(auto reference, oci::Reference::parse(spec));
    return SourceSpec{Transport::kRegistry, {}, "", std::move(reference)};
}

Result<std::unique_ptr<ImageSource>> open_source(std::string_view spec,
                                                 const SourceContext& context) {
    GROVE_ASSIGN_OR_RETURN(SourceSpec parsed, parse_source_spec(spec));
    switch (parsed.transport) {
        case Transport::kOci: {
            GROVE_ASSIGN_OR_RETURN(auto layout, LayoutSource::open(parsed.path, parsed.ref));
            return std::unique_ptr<ImageSource>(std::move(layout));
        }
        case Transport::kOciArchive:
            return open_oci_archive(parsed.path, parsed.ref, context.scratch);
        case Transport::kDockerArchive:
            return open_docker_archive(parsed.path, parsed.ref, context.scratch);
        case Transport::kRootfs:
            return open_rootfs(parsed.path, context.scratch);
        case Transport::kRegistry:
            break;
    }
    if (!context.registry) {
        return base::make_error(Code::kFailedPrecondition, "'{}': no registry access configured",
                                parsed.reference->to_string());
    }
    return context.registry(*parsed.reference);
}

}  // namespace grove::image
