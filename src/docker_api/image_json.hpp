#pragma once

// Docker's views of a grove image: the /images/json entry, /images/{name}/json (inspect) and
// /images/{name}/history, built from the image record and its OCI config.
//
// Parent is the image a run started from (Docker's parent of a locally built image); imported
// images have none. Created is the config's `created` when it has one (as dockerd reports), else
// when grove recorded the image; Size is the image's logical size. RootFS lists the config's
// diff_ids: a run's own layer is a directory with no tar, so it has no diff_id until it is saved.

#include <string>

#include "base/json.hpp"
#include "store/metadata/records.hpp"

namespace grove::docker_api {

// The image's config as JSON (an empty object when it has none or it does not parse).
base::Json config_of(const store::ImageRecord& image);
// Unix nanoseconds of the image's creation, as Docker reports it.
int64_t created_ns(const store::ImageRecord& image, const base::Json& config);
// "<none>:<none>"-free lists of the image's names.
base::Json repo_tags(const store::ImageRecord& image);
base::Json repo_digests(const store::ImageRecord& image);

base::Json list_entry(const store::ImageRecord& image);
base::Json inspect_json(const store::ImageRecord& image);
// `lineage` is the image's ancestors, parent first (ImageStore::lineage).
base::Json history_json(const store::ImageRecord& image,
                        const std::vector<store::ImageRecord>& lineage);

}  // namespace grove::docker_api
