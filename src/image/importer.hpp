#pragma once

// Importer brings an image from an ImageSource into the store:
//   1. resolve: the root document, and for an index the manifest of the wanted platform;
//   2. a manifest imported before for this platform is a no-op that returns the existing image;
//   3. fetch the config and verify that it describes one diff_id per layer;
//   4. for every layer whose chain ID the store lacks: download the blob once (the content store
//      serialises writers of one digest across processes), unpack it into layers/<id> and verify
//      the uncompressed stream against its diff_id. Layers are fetched and unpacked in parallel;
//      each is registered 'pending' first and marked ready only once durable, so a crash leaves
//      rows that ImageStore::open collects;
//   5. record the image (and its tag) in one transaction.
// A failure at any step leaves no image, no half-unpacked layer and no partial blob.
//
// Metadata is touched only by the calling thread: the worker threads download and unpack.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <grove/result.hpp>

#include "base/log.hpp"
#include "image_source.hpp"
#include "oci/platform.hpp"
#include "store/content/content_store.hpp"
#include "store/metadata/database.hpp"
#include "store/metadata/records.hpp"
#include "store_paths.hpp"

namespace grove::image {

struct LayerProgress {
    enum class Phase { kCached, kDownloading, kUnpacking, kDone };

    size_t index = 0;  // the layer's position in the manifest, bottom first
    size_t count = 0;  // layers in the image
    std::string digest;
    Phase phase = Phase::kDownloading;
    uint64_t done = 0;  // bytes downloaded so far
    uint64_t total = 0;
};

struct ImportOptions {
    // The platform to pick from an index; the host's when unset.
    std::optional<oci::Platform> platform;
    // Moved onto the imported image when set.
    std::optional<std::string> tag;
    // Called from worker threads; must be thread-safe.
    std::function<void(const LayerProgress&)> progress;
    // Layers downloaded and unpacked at once.
    size_t parallel_layers = 4;
};

struct ImportResult {
    store::ImageRecord image;
    // True when the store had the image already (nothing was downloaded).
    bool existed = false;
};

class Importer {
public:
    Importer(const StorePaths& paths,
             store::ContentStore& content,
             store::Database& db,
             const base::Logger& log)
        : paths_(paths), content_(content), db_(db), log_(log) {}

    Result<ImportResult> run(ImageSource& source, const ImportOptions& options);

private:
    const StorePaths& paths_;
    store::ContentStore& content_;
    store::Database& db_;
    const base::Logger& log_;
};

}  // namespace grove::image
