#include "archive_sources.hpp"

#include <algorithm>
#include <fcntl.h>
#include <sys/stat.h>
#include <vector>

#include "archive_extract.hpp"
#include "base/error.hpp"
#include "base/json.hpp"
#include "layout_source.hpp"
#include "oci/manifest.hpp"
#include "oci/media_types.hpp"
#include "oci/reference.hpp"
#include "synthetic_source.hpp"

namespace grove::image {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kContainerdName = "io.containerd.image.name";
constexpr std::string_view kRefName = "org.opencontainers.image.ref.name";
constexpr size_t kMaxSmallFile = 64 << 10;

// A source served out of an extracted archive: keeps the extraction alive while the inner source
// reads it, and describes itself by the archive rather than the temporary directory.
class ExtractedSource final : public ImageSource {
public:
    ExtractedSource(std::string description, base::TempDir temp, std::unique_ptr<ImageSource> inner)
        : description_(std::move(description)), temp_(std::move(temp)), inner_(std::move(inner)) {}

    std::string describe() const override { return description_; }
    Result<SourceDocument> root() override { return inner_->root(); }
    Result<SourceDocument> manifest(const oci::Descriptor& descriptor) override {
        return inner_->manifest(descriptor);
    }
    Result<void> blob(const oci::Descriptor& descriptor,
                      const BlobSink& sink,
                      const BlobProgress& progress) override {
        return inner_->blob(descriptor, sink, progress);
    }

private:
    std::string description_;
    base::TempDir temp_;  // declared before inner_: outlives its fds
    std::unique_ptr<ImageSource> inner_;
};

std::string describe(std::string_view transport, const fs::path& file, const std::string& ref) {
    return fmt::format("{}:{}{}{}", transport, file.string(), ref.empty() ? "" : ":", ref);
}

// Whether two image names are the same once normalised: "busybox" names
// "docker.io/library/busybox:latest". Names that are no references compare as text.
bool same_reference(std::string_view a, std::string_view b) {
    const auto ra = oci::Reference::parse(a);
    const auto rb = oci::Reference::parse(b);
    return ra && rb ? *ra == *rb : a == b;
}

Error selection_error(size_t matches, const std::string& ref) {
    if (ref.empty()) {
        return base::make_error(Code::kInvalidArgument,
                                "the archive holds {} images: name one as <file>:<repo:tag>",
                                matches);
    }
    return base::make_error(matches == 0 ? Code::kNotFound : Code::kInvalidArgument,
                            "{} images in the archive are named '{}'", matches, ref);
}

Result<std::string> read_beneath(int dir_fd, std::string_view path, size_t limit) {
    GROVE_ASSIGN_OR_RETURN(auto fd, open_beneath(dir_fd, path));
    GROVE_ASSIGN_OR_RETURN(std::string text, base::read_all(fd.get(), limit + 1));
    if (text.size() > limit) {
        return base::make_error(Code::kOutOfRange, "'{}' in the archive is over {} bytes", path,
                                limit);
    }
    return text;
}

// Serves the OCI layout a Docker 25+ archive holds. LayoutSource::open selects only by
// org.opencontainers.image.ref.name, which Docker sets to the bare tag ("latest", the same for
// every repository saved), so the entry is selected here, by the full name, and the layout
// checked as open() would.
Result<std::unique_ptr<ImageSource>> open_docker_layout(ExtractedArchive extracted,
                                                        const std::string& ref,
                                                        std::string description) {
    const int dir_fd = extracted.dir_fd.get();
    GROVE_TRY(check_layout_tree(dir_fd));
    GROVE_ASSIGN_OR_RETURN(const auto layout_text,
                           read_beneath(dir_fd, "oci-layout", kMaxSmallFile));
    GROVE_ASSIGN_OR_RETURN(const auto layout, base::parse_json(layout_text));
    if (layout.value("imageLayoutVersion", "") != "1.0.0") {
        return base::make_error(Code::kUnimplemented, "unsupported OCI layout version");
    }
    GROVE_ASSIGN_OR_RETURN(const auto index_text,
                           read_beneath(dir_fd, "index.json", oci::kMaxManifestSize));
    GROVE_ASSIGN_OR_RETURN(const oci::Index index, oci::parse_index(index_text));
    std::vector<const oci::Descriptor*> matches;
    for (const auto& entry : index.manifests) {
        const auto name = entry.annotations.find(std::string(kContainerdName));
        const auto tag = entry.annotations.find(std::string(kRefName));
        if (ref.empty() || (name != entry.annotations.end() && same_reference(name->second, ref)) ||
            (tag != entry.annotations.end() && tag->second == ref)) {
            matches.push_back(&entry);
        }
    }
    if (matches.size() != 1) {
        return selection_error(matches.size(), ref);
    }
    GROVE_ASSIGN_OR_RETURN(auto layout_fd, extracted.dir_fd.dup());
    auto inner =
        std::make_unique<LayoutSource>(extracted.dir, ref, std::move(layout_fd), *matches.front());
    return std::make_unique<ExtractedSource>(std::move(description), std::move(extracted.temp),
                                             std::move(inner));
}

struct DockerEntry {
    std::string config;
    std::vector<std::string> repo_tags;
    std::vector<std::string> layers;
};

// The manifest.json entry `ref` names (by RepoTags), or the only one when `ref` is empty.
Result<DockerEntry> select_docker_entry(int dir_fd, const std::string& ref) {
    GROVE_ASSIGN_OR_RETURN(const auto text,
                           read_beneath(dir_fd, "manifest.json", oci::kMaxManifestSize));
    GROVE_ASSIGN_OR_RETURN(const auto json, base::parse_json(text));
    if (!json.is_array()) {
        return base::make_error(Code::kInvalidArgument, "manifest.json is not a list");
    }
    std::vector<DockerEntry> matches;
    for (const auto& item : json) {
        DockerEntry entry;
        GROVE_ASSIGN_OR_RETURN(entry.config, base::json_field<std::string>(item, "Config"));
        GROVE_ASSIGN_OR_RETURN(entry.layers,
                               base::json_field<std::vector<std::string>>(item, "Layers"));
        GROVE_ASSIGN_OR_RETURN(
            auto tags, base::json_optional_field<std::vector<std::string>>(item, "RepoTags"));
        entry.repo_tags = std::move(tags).value_or(std::vector<std::string>{});
        const bool tagged = std::any_of(entry.repo_tags.begin(), entry.repo_tags.end(),
                                        [&](const auto& tag) { return same_reference(tag, ref); });
        if (ref.empty() || tagged) {
            matches.push_back(std::move(entry));
        }
    }
    if (matches.size() != 1) {
        return selection_error(matches.size(), ref);
    }
    return std::move(matches.front());
}

Result<std::unique_ptr<ImageSource>> synthesize_docker(ExtractedArchive extracted,
                                                       const std::string& ref,
                                                       std::string description) {
    const int dir_fd = extracted.dir_fd.get();
    GROVE_ASSIGN_OR_RETURN(const DockerEntry entry, select_docker_entry(dir_fd, ref));
    auto source =
        std::make_unique<SyntheticSource>(std::move(description), std::move(extracted.temp));
    GROVE_ASSIGN_OR_RETURN(auto config_fd, open_beneath(dir_fd, entry.config));
    GROVE_ASSIGN_OR_RETURN(
        const auto config,
        source->add_blob_file(std::move(config_fd), std::string(oci::media_type::kOciConfig)));
    std::vector<oci::Descriptor> layers;
    for (const std::string& path : entry.layers) {
        GROVE_ASSIGN_OR_RETURN(auto fd, open_beneath(dir_fd, path));
        GROVE_ASSIGN_OR_RETURN(const auto compression, sniff_compression(fd.get()));
        GROVE_ASSIGN_OR_RETURN(
            auto layer,
            source->add_blob_file(std::move(fd), std::string(layer_media_type(compression))));
        layers.push_back(std::move(layer));
    }
    source->set_manifest(config, layers);
    return std::unique_ptr<ImageSource>(std::move(source));
}

}  // namespace

Result<std::unique_ptr<ImageSource>> open_oci_archive(const fs::path& file,
                                                      const std::string& ref,
                                                      const fs::path& scratch) {
    std::string description = describe("oci-archive", file, ref);
    auto open = [&]() -> Result<std::unique_ptr<ImageSource>> {
        GROVE_ASSIGN_OR_RETURN(auto extracted, extract_archive(file, scratch));
        GROVE_TRY(check_layout_tree(extracted.dir_fd.get()));
        GROVE_ASSIGN_OR_RETURN(auto layout, LayoutSource::open(extracted.dir, ref));
        return std::make_unique<ExtractedSource>(description, std::move(extracted.temp),
                                                 std::move(layout));
    };
    return base::with_context(open(), "'{}'", description);
}

Result<std::unique_ptr<ImageSource>> open_docker_archive(const fs::path& file,
                                                         const std::string& ref,
                                                         const fs::path& scratch) {
    std::string description = describe("docker-archive", file, ref);
    auto open = [&]() -> Result<std::unique_ptr<ImageSource>> {
        GROVE_ASSIGN_OR_RETURN(auto extracted, extract_archive(file, scratch));
        struct stat st {};
        if (::fstatat(extracted.dir_fd.get(), "oci-layout", &st, AT_SYMLINK_NOFOLLOW) == 0) {
            return open_docker_layout(std::move(extracted), ref, description);
        }
        return synthesize_docker(std::move(extracted), ref, description);
    };
    return base::with_context(open(), "'{}'", description);
}

}  // namespace grove::image
