#include "importer.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fcntl.h>
#include <mutex>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include "archive/apply_layer.hpp"
#include "base/error.hpp"
#include "base/scope_exit.hpp"
#include "layer_lock.hpp"
#include "oci/image_config.hpp"
#include "oci/manifest.hpp"
#include "store/metadata/image_table.hpp"
#include "store/metadata/layer_table.hpp"
#include "store/metadata/tag_table.hpp"
#include "store/metadata/uuid.hpp"

namespace grove::image {
namespace {

constexpr size_t kMaxConfigSize = 8 << 20;

struct Resolved {
    SourceDocument root;
    SourceDocument manifest_document;  // the root itself unless the root is an index
    oci::Manifest manifest;
    std::string platform;  // the index entry's platform; empty for a plain manifest
};

Result<Resolved> resolve(ImageSource& source, const oci::Platform& want) {
    GROVE_ASSIGN_OR_RETURN(SourceDocument root, source.root());
    GROVE_ASSIGN_OR_RETURN(const auto kind, oci::detect_document(root.media_type, root.bytes));
    if (kind == oci::DocumentKind::kManifest) {
        GROVE_ASSIGN_OR_RETURN(oci::Manifest manifest, oci::parse_manifest(root.bytes));
        SourceDocument document = root;
        return Resolved{std::move(root), std::move(document), std::move(manifest), ""};
    }
    GROVE_ASSIGN_OR_RETURN(const oci::Index index, oci::parse_index(root.bytes));
    GROVE_ASSIGN_OR_RETURN(const oci::Descriptor entry,
                           base::with_context(index.select(want), "'{}'", source.describe()));
    GROVE_ASSIGN_OR_RETURN(SourceDocument document, source.manifest(entry));
    GROVE_ASSIGN_OR_RETURN(oci::Manifest manifest, oci::parse_manifest(document.bytes));
    return Resolved{std::move(root), std::move(document), std::move(manifest),
                    entry.platform->normalized().to_string()};
}

// The blob in the content store, downloaded from `source` unless it is there already.
Result<void> ensure_blob(store::ContentStore& content,
                         ImageSource& source,
                         const oci::Descriptor& blob,
                         const BlobProgress& progress) {
    GROVE_ASSIGN_OR_RETURN(const bool present, content.exists(blob.digest));
    if (present) {
        return {};
    }
    auto writer =
        content.writer("blob-" + blob.digest.str(), blob.digest, static_cast<uint64_t>(blob.size));
    if (!writer) {
        // Another thread or process committed it while we waited for the ingest.
        return writer.error().code() == Code::kAlreadyExists ? Result<void>{}
                                                             : Result<void>{writer.error()};
    }
    GROVE_TRY(source.blob(
        blob, [&](std::span<const std::byte> chunk) { return writer->write(chunk); }, progress));
    GROVE_TRY(writer->commit());
    return {};
}

struct LayerJob {
    size_t index = 0;
    const oci::Descriptor* blob = nullptr;
    base::Digest diff_id;
    int64_t id = 0;
    uint64_t size = 0;  // bytes of regular files, once unpacked
};

// Unpacks a stored blob into layers/<id>, verifying its diff_id, and makes it durable.
Result<uint64_t> unpack(const StorePaths& paths,
                        store::ContentStore& content,
                        const LayerJob& job,
                        const base::Logger& log) {
    GROVE_ASSIGN_OR_RETURN(const auto compression, archive::compression_of(job.blob->media_type));
    GROVE_ASSIGN_OR_RETURN(auto blob, content.open_blob(job.blob->digest));
    const std::string dir = paths.layer(job.id).string();
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);  // a stale directory of a crashed unpack
    if (::mkdir(dir.c_str(), 0755) != 0) {
        return base::last_errno_error("create layer directory '{}'", dir);
    }
    GROVE_ASSIGN_OR_RETURN(auto dir_fd, base::UniqueFd::open(dir, O_RDONLY | O_DIRECTORY));
    const base::Logger layer_log = log.with({{"layer", job.blob->digest.str()}});
    GROVE_ASSIGN_OR_RETURN(const archive::ApplyStats stats,
                           archive::apply_layer(blob.get(), dir_fd.get(),
                                                {.compression = compression, .log = &layer_log}));
    if (stats.diff_id != job.diff_id) {
        return base::make_error(Code::kDataLoss,
                                "layer '{}' unpacks to '{}', but the image config says '{}'",
                                job.blob->digest.str(), stats.diff_id->str(), job.diff_id.str());
    }
    // The layer is marked ready in metadata next: its files must be on disk first.
    if (::syncfs(dir_fd.get()) != 0) {
        return base::last_errno_error("sync layer directory '{}'", dir);
    }
    return stats.regular_bytes;
}

// Runs `work` on every job with at most `parallel` threads; returns the first error.
Result<void> run_parallel(std::vector<LayerJob>& jobs,
                          size_t parallel,
                          const std::function<Result<void>(LayerJob&)>& work) {
    std::atomic<size_t> next{0};
    std::mutex mutex;
    std::optional<Error> first_error;
    auto worker = [&] {
        for (size_t i; (i = next.fetch_add(1)) < jobs.size();) {
            {
                std::lock_guard lock(mutex);
                if (first_error) {
                    return;
                }
            }
            auto done = work(jobs[i]);
            if (!done) {
                std::lock_guard lock(mutex);
                if (!first_error) {
                    first_error = std::move(done).error();
                }
            }
        }
    };
    {
        std::vector<std::jthread> threads;
        for (size_t t = 1; t < std::min(parallel, jobs.size()); ++t) {
            threads.emplace_back(worker);
        }
        worker();
    }
    if (first_error) {
        return std::move(*first_error);
    }
    return {};
}

int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

Result<ImportResult> Importer::run(ImageSource& source, const ImportOptions& options) {
    const oci::Platform want = options.platform.value_or(oci::Platform::host()).normalized();
    GROVE_ASSIGN_OR_RETURN(Resolved resolved, resolve(source, want));
    const oci::Manifest& manifest = resolved.manifest;
    const std::string manifest_digest = resolved.manifest_document.digest.str();

    store::ImageTable images(db_);
    GROVE_ASSIGN_OR_RETURN(auto existing, images.find_imported(manifest_digest, resolved.platform));
    if (existing) {
        if (options.tag) {
            GROVE_TRY(store::TagTable(db_).set(*options.tag, existing->uuid));
            existing->tag = options.tag;
        }
        return ImportResult{std::move(*existing), true};
    }

    GROVE_TRY(content_.write_blob(resolved.root.bytes, resolved.root.digest));
    GROVE_TRY(
        content_.write_blob(resolved.manifest_document.bytes, resolved.manifest_document.digest));
    GROVE_TRY(base::with_context(ensure_blob(content_, source, manifest.config, {}),
                                 "fetch config of '{}'", source.describe()));
    GROVE_ASSIGN_OR_RETURN(const std::string config_bytes,
                           content_.read_blob(manifest.config.digest, kMaxConfigSize));
    GROVE_ASSIGN_OR_RETURN(const oci::ImageConfig config, oci::parse_image_config(config_bytes));
    if (config.diff_ids.size() != manifest.layers.size()) {
        return base::make_error(Code::kDataLoss, "'{}': the config lists {} diff_ids for {} layers",
                                source.describe(), config.diff_ids.size(), manifest.layers.size());
    }
    if (resolved.platform.empty() && options.platform && !want.matches(config.platform)) {
        return base::make_error(Code::kNotFound, "'{}' is a {} image, not {}", source.describe(),
                                config.platform.normalized().to_string(), want.to_string());
    }

    // Register the missing layers bottom-up under their locks (taken in chain order by every
    // process, so they cannot deadlock), then fill them in parallel.
    store::LayerTable layers(db_);
    const std::vector<base::Digest> chain = oci::chain_ids(config.diff_ids);
    std::vector<LayerLock> locks;
    std::vector<LayerJob> jobs;
    std::optional<int64_t> parent;
    uint64_t size_logical = 0;
    uint64_t size_physical = 0;
    auto discard = [&] {
        for (auto it = jobs.rbegin(); it != jobs.rend(); ++it) {
            std::error_code ignored;
            std::filesystem::remove_all(paths_.layer(it->id), ignored);
            (void)layers.remove(it->id);
        }
    };
    base::ScopeExit discard_on_failure(discard);
    for (size_t i = 0; i < chain.size(); ++i) {
        const oci::Descriptor& blob = manifest.layers[i];
        size_physical += static_cast<uint64_t>(blob.size);
        GROVE_ASSIGN_OR_RETURN(auto found, layers.find(chain[i].str()));
        if (!found || !found->ready) {
            GROVE_ASSIGN_OR_RETURN(LayerLock lock, LayerLock::acquire(paths_.locks(), chain[i]));
            GROVE_ASSIGN_OR_RETURN(found, layers.find(chain[i].str()));
            if (found && !found->ready) {
                // We hold its lock, so its creator died: collect the leftover and start over.
                std::error_code ignored;
                std::filesystem::remove_all(paths_.layer(found->id), ignored);
                GROVE_TRY(layers.remove(found->id));
                found.reset();
            }
            if (!found) {
                GROVE_ASSIGN_OR_RETURN(const int64_t id,
                                       layers.insert_pending({.key = chain[i].str(),
                                                              .parent = parent,
                                                              .diff_id = config.diff_ids[i].str(),
                                                              .blob_digest = blob.digest.str()}));
                jobs.push_back({i, &blob, config.diff_ids[i], id, 0});
                locks.push_back(std::move(lock));
                parent = id;
                continue;
            }
        }
        if (options.progress) {
            options.progress({i, chain.size(), blob.digest.str(), LayerProgress::Phase::kCached,
                              static_cast<uint64_t>(blob.size), static_cast<uint64_t>(blob.size)});
        }
        parent = found->id;
        size_logical += found->size;
    }

    GROVE_TRY(run_parallel(jobs, options.parallel_layers, [&](LayerJob& job) -> Result<void> {
        LayerProgress progress{job.index,
                               chain.size(),
                               job.blob->digest.str(),
                               LayerProgress::Phase::kDownloading,
                               0,
                               static_cast<uint64_t>(job.blob->size)};
        auto report = [&](uint64_t done, uint64_t) {
            if (options.progress) {
                progress.done = done;
                options.progress(progress);
            }
        };
        GROVE_TRY(base::with_context(ensure_blob(content_, source, *job.blob, report),
                                     "fetch layer '{}'", job.blob->digest.str()));
        progress.phase = LayerProgress::Phase::kUnpacking;
        progress.done = progress.total;
        report(progress.total, progress.total);
        GROVE_ASSIGN_OR_RETURN(
            job.size, base::with_context(unpack(paths_, content_, job, log_), "unpack layer '{}'",
                                         job.blob->digest.str()));
        progress.phase = LayerProgress::Phase::kDone;
        report(progress.total, progress.total);
        return {};
    }));
    GROVE_TRY(db_.transaction([&]() -> Result<void> {
        for (const auto& job : jobs) {
            GROVE_TRY(layers.mark_ready(job.id, job.size));
        }
        return {};
    }));
    for (const auto& job : jobs) {
        size_logical += job.size;
    }

    store::ImageRecord record{.uuid = store::new_uuid(),
                              .tag = options.tag,
                              .kind = store::ImageKind::kImported,
                              .created_ns = now_ns(),
                              .operation = "import " + source.describe(),
                              .config_json = config_bytes,
                              .manifest_digest = manifest_digest,
                              .platform = resolved.platform,
                              .top_layer = parent,
                              .size_logical = size_logical,
                              .size_physical = size_physical};
    std::vector<std::string> blobs = {resolved.root.digest.str(), manifest_digest,
                                      manifest.config.digest.str()};
    for (const auto& layer : manifest.layers) {
        blobs.push_back(layer.digest.str());
    }
    std::sort(blobs.begin(), blobs.end());  // a plain manifest is its own root; layers may repeat
    blobs.erase(std::unique(blobs.begin(), blobs.end()), blobs.end());
    auto inserted = images.insert(record, blobs);
    discard_on_failure.dismiss();  // the layers are ready and shared now, whatever happens below
    if (!inserted && inserted.error().code() == Code::kAlreadyExists) {
        // Another process imported the same manifest meanwhile: its image is ours.
        GROVE_ASSIGN_OR_RETURN(auto other,
                               images.find_imported(manifest_digest, resolved.platform));
        if (other) {
            if (options.tag) {
                GROVE_TRY(store::TagTable(db_).set(*options.tag, other->uuid));
                other->tag = options.tag;
            }
            return ImportResult{std::move(*other), true};
        }
    }
    GROVE_TRY(std::move(inserted));
    return ImportResult{std::move(record), false};
}

}  // namespace grove::image
