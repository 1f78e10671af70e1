#include "docker_api/image_json.hpp"

#include "base/time_point.hpp"
#include "daemon/wire_time.hpp"
#include "docker_api/image_names.hpp"

namespace grove::docker_api {
namespace {

// The keys dockerd always reports in an image's Config, with their empty values.
base::Json container_config(const base::Json& config) {
    base::Json out{{"Hostname", ""},       {"Domainname", ""},      {"User", ""},
                   {"AttachStdin", false}, {"AttachStdout", false}, {"AttachStderr", false},
                   {"Tty", false},         {"OpenStdin", false},    {"StdinOnce", false},
                   {"Env", nullptr},       {"Cmd", nullptr},        {"Image", ""},
                   {"Volumes", nullptr},   {"WorkingDir", ""},      {"Entrypoint", nullptr},
                   {"OnBuild", nullptr},   {"Labels", nullptr}};
    if (config.is_object()) {
        for (const auto& [key, value] : config.items()) {
            out[key] = value;
        }
    }
    return out;
}

std::string rfc3339(int64_t ns) {
    return daemon::rfc3339_nanos(ns);
}

}  // namespace

base::Json config_of(const store::ImageRecord& image) {
    auto parsed = base::parse_json(image.config_json);
    if (!parsed || !parsed->is_object()) {
        return base::Json::object();
    }
    return *std::move(parsed);
}

int64_t created_ns(const store::ImageRecord& image, const base::Json& config) {
    if (image.kind == store::ImageKind::kImported && config.contains("created") &&
        config["created"].is_string()) {
        if (auto parsed = base::parse_time_point(config["created"].get<std::string>(), 0)) {
            return *parsed;
        }
    }
    return image.created_ns;
}

base::Json repo_tags(const store::ImageRecord& image) {
    base::Json tags = base::Json::array();
    if (image.tag) {
        tags.push_back(repo_tag_of(*image.tag));
    }
    return tags;
}

base::Json repo_digests(const store::ImageRecord& image) {
    base::Json digests = base::Json::array();
    if (image.tag && image.manifest_digest) {
        const std::string name = repo_tag_of(*image.tag);
        digests.push_back(name.substr(0, name.rfind(':')) + "@" + *image.manifest_digest);
    }
    return digests;
}

base::Json list_entry(const store::ImageRecord& image) {
    const base::Json config = config_of(image);
    const base::Json inner = config.value("config", base::Json::object());
    base::Json tags = repo_tags(image);
    base::Json digests = repo_digests(image);
    if (tags.empty()) {
        tags.push_back("<none>:<none>");
    }
    if (digests.empty()) {
        digests.push_back("<none>@<none>");
    }
    return {{"Containers", -1},
            {"Created", created_ns(image, config) / 1'000'000'000},
            {"Id", docker_id(image.uuid)},
            {"Labels", inner.value("Labels", base::Json())},
            {"ParentId", image.parent ? docker_id(*image.parent) : ""},
            {"RepoDigests", std::move(digests)},
            {"RepoTags", std::move(tags)},
            {"SharedSize", -1},
            {"Size", image.size_logical},
            {"VirtualSize", image.size_logical}};
}

base::Json inspect_json(const store::ImageRecord& image) {
    const base::Json config = config_of(image);
    base::Json layers = base::Json::array();
    if (config.contains("rootfs") && config["rootfs"].is_object()) {
        layers = config["rootfs"].value("diff_ids", base::Json::array());
    }
    return {{"Id", docker_id(image.uuid)},
            {"RepoTags", repo_tags(image)},
            {"RepoDigests", repo_digests(image)},
            {"Parent", image.parent ? docker_id(*image.parent) : ""},
            {"Comment", image.kind == store::ImageKind::kRun ? image.operation : ""},
            {"Created", rfc3339(created_ns(image, config))},
            {"Container", ""},
            {"ContainerConfig", container_config(base::Json::object())},
            {"DockerVersion", ""},
            {"Author", config.value("author", "")},
            {"Config", container_config(config.value("config", base::Json::object()))},
            {"Architecture", config.value("architecture", "")},
            {"Variant", config.value("variant", "")},
            {"Os", config.value("os", "")},
            {"Size", image.size_logical},
            {"VirtualSize", image.size_logical},
            {"GraphDriver", {{"Name", "overlay2"}, {"Data", nullptr}}},
            {"RootFS", {{"Type", "layers"}, {"Layers", std::move(layers)}}},
            {"Metadata", {{"LastTagTime", "0001-01-01T00:00:00Z"}}}};
}

base::Json history_json(const store::ImageRecord& image,
                        const std::vector<store::ImageRecord>& lineage) {
    base::Json out = base::Json::array();
    // The runs on top of the imported root, newest first, each its own step.
    std::vector<const store::ImageRecord*> chain{&image};
    for (const auto& ancestor : lineage) {
        chain.push_back(&ancestor);
    }
    for (size_t i = 0; i + 1 < chain.size() && chain[i]->kind == store::ImageKind::kRun; ++i) {
        const store::ImageRecord* step = chain[i];
        const uint64_t below = chain[i + 1]->size_logical;
        const uint64_t own = step->size_logical > below ? step->size_logical - below : 0;
        out.push_back({{"Id", docker_id(step->uuid)},
                       {"Created", step->created_ns / 1'000'000'000},
                       {"CreatedBy", step->operation},
                       {"Tags", step->tag ? base::Json{repo_tag_of(*step->tag)} : base::Json()},
                       {"Size", own},
                       {"Comment", ""}});
    }
    const store::ImageRecord* root = chain.back();
    // The imported image's own history, from its config, newest first; dockerd names only
    // the top entry, the others are "<missing>".
    const base::Json config = config_of(*root);
    const base::Json history = config.value("history", base::Json::array());
    bool top = true;
    for (auto it = history.rbegin(); it != history.rend(); ++it) {
        int64_t created = 0;
        if (it->contains("created") && (*it)["created"].is_string()) {
            created = base::parse_time_point((*it)["created"].get<std::string>(), 0).value_or(0);
        }
        out.push_back(
            {{"Id", top ? docker_id(root->uuid) : "<missing>"},
             {"Created", created / 1'000'000'000},
             {"CreatedBy", it->value("created_by", "")},
             {"Tags", top && root->tag ? base::Json{repo_tag_of(*root->tag)} : base::Json()},
             {"Size", 0},
             {"Comment", it->value("comment", "")}});
        top = false;
    }
    if (top) {
        out.push_back({{"Id", docker_id(root->uuid)},
                       {"Created", created_ns(*root, config) / 1'000'000'000},
                       {"CreatedBy", root->operation},
                       {"Tags", root->tag ? base::Json{repo_tag_of(*root->tag)} : base::Json()},
                       {"Size", root->size_logical},
                       {"Comment", ""}});
    }
    return out;
}

}  // namespace grove::docker_api
