#include "api/contree_json.hpp"

#include "daemon/wire_time.hpp"
#include "store/metadata/uuid.hpp"

namespace grove::api {
namespace {

template <typename T>
base::Json optional_json(const std::optional<T>& value) {
    return value ? base::Json(*value) : base::Json();
}

// A stored JSON document, or null when it is absent or unreadable (it was written by this
// daemon, so unreadable means a corrupt row, which must not break a listing).
base::Json stored_json(const std::optional<std::string>& text) {
    if (!text) {
        return nullptr;
    }
    auto parsed = base::parse_json(*text);
    return parsed ? *std::move(parsed) : base::Json();
}

}  // namespace

base::Json image_json(const store::ImageRecord& image) {
    // Runs record their operation's UUID; imports record free text ("import docker.io/...").
    const bool has_operation = store::is_uuid(image.operation);
    return {{"uuid", image.uuid},
            {"tag", optional_json(image.tag)},
            {"created_at", daemon::iso8601_micros(image.created_ns)},
            {"operation_uuid", has_operation ? base::Json(image.operation) : base::Json()},
            {"parent_uuid", optional_json(image.parent)},
            {"kind", store::image_kind_name(image.kind)},
            {"size", {{"physical", image.size_physical}, {"logical", image.size_logical}}}};
}

base::Json file_json(const daemon::FileRecord& file) {
    return {{"uuid", file.uuid},
            {"sha256", file.sha256},
            {"size", file.size},
            {"created_at", daemon::iso8601_micros(file.created_ns)},
            {"updated_at", daemon::iso8601_micros(file.updated_ns)}};
}

base::Json operation_summary_json(const daemon::OperationRecord& operation, int64_t now_ns) {
    return {{"uuid", operation.uuid},
            {"kind", daemon::operation_kind_name(operation.kind)},
            {"status", daemon::operation_status_name(operation.status)},
            {"error", optional_json(operation.error)},
            {"created_at", daemon::iso8601_micros(operation.created_ns)},
            {"duration", static_cast<double>(operation.duration_ns(now_ns)) / 1e9},
            {"image_uuid", optional_json(operation.image_uuid)},
            {"result_image_uuid", optional_json(operation.result_image_uuid)}};
}

base::Json operation_json(const daemon::OperationRecord& operation, int64_t now_ns) {
    base::Json out = operation_summary_json(operation, now_ns);
    base::Json metadata = stored_json(operation.request_json);
    if (!metadata.is_object()) {
        metadata = base::Json::object();
    }
    if (operation.kind == daemon::OperationKind::kInstance) {
        metadata["result"] = stored_json(operation.result_json);
    }
    out["metadata"] = std::move(metadata);
    out["result"] = {{"image", optional_json(operation.result_image_uuid)},
                     {"tag", optional_json(operation.result_tag)}};
    out["image_size"] = optional_json(operation.image_size);
    return out;
}

base::Json event_json(const daemon::EventRecord& event) {
    base::Json data = stored_json(event.data_json);
    return {{"id", event.id},
            {"ts", daemon::rfc3339_nanos(event.ts_ns)},
            {"spid", event.spid},
            {"type", event.type},
            {"data", data.is_null() ? base::Json::object() : std::move(data)}};
}

mode_t type_bits(inspect::EntryType type) {
    using inspect::EntryType;
    switch (type) {
        case EntryType::kFile:
            return S_IFREG;
        case EntryType::kDirectory:
            return S_IFDIR;
        case EntryType::kSymlink:
            return S_IFLNK;
        case EntryType::kFifo:
            return S_IFIFO;
        case EntryType::kSocket:
            return S_IFSOCK;
        case EntryType::kCharDevice:
            return S_IFCHR;
        case EntryType::kBlockDevice:
            return S_IFBLK;
    }
    return S_IFREG;
}

base::Json file_item_json(const inspect::FileInfo& info) {
    using inspect::EntryType;
    return {{"path", info.name},
            {"size", info.size},
            {"owner", info.owner ? base::Json(*info.owner) : base::Json(info.uid)},
            {"group", info.group ? base::Json(*info.group) : base::Json(info.gid)},
            {"uid", info.uid},
            {"gid", info.gid},
            {"mode", type_bits(info.type) | info.mode},
            {"mtime", info.mtime_ns / 1'000'000'000},
            {"nlink", info.nlink},
            {"is_dir", info.type == EntryType::kDirectory},
            {"is_regular", info.type == EntryType::kFile},
            {"is_symlink", info.type == EntryType::kSymlink},
            {"is_socket", info.type == EntryType::kSocket},
            {"is_fifo", info.type == EntryType::kFifo},
            {"symlink_to", info.symlink_target}};
}

}  // namespace grove::api
