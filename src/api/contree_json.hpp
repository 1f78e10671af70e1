#pragma once

// ConTree's response objects (the spec's section 3), built from grove's records. Clients
// tolerate extra fields, so grove adds a few of its own (an image's parent_uuid and kind).

#include <sys/stat.h>

#include "base/json.hpp"
#include "daemon/records.hpp"
#include "inspect/file_info.hpp"
#include "store/metadata/records.hpp"

namespace grove::api {

// Image: {uuid, tag, created_at, operation_uuid, parent_uuid, kind, size{physical, logical}}.
base::Json image_json(const store::ImageRecord& image);
// File: {uuid, sha256, size, created_at, updated_at}.
base::Json file_json(const daemon::FileRecord& file);
// OperationSummary, the items of GET /v1/operations.
base::Json operation_summary_json(const daemon::OperationRecord& operation, int64_t now_ns);
// OperationResponse: the summary plus metadata (the request, and for an instance its result),
// result{image, tag} and image_size.
base::Json operation_json(const daemon::OperationRecord& operation, int64_t now_ns);
// OperationEvent: {id, ts, spid, type, data}.
base::Json event_json(const daemon::EventRecord& event);
// FileItem of a DirectoryList.
base::Json file_item_json(const inspect::FileInfo& info);
// st_mode's type bits for an entry type (S_IFREG, S_IFDIR, ...).
mode_t type_bits(inspect::EntryType type);

}  // namespace grove::api
