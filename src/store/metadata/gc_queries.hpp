#pragma once

// GcQueries answers what garbage collection needs from the metadata: which layers nothing uses
// any more, and which blobs images still reference. It only reads; GC decides and deletes.

#include <set>
#include <string>
#include <vector>

#include <grove/result.hpp>

#include "store/metadata/database.hpp"
#include "store/metadata/records.hpp"

namespace grove::store {

class GcQueries {
public:
    explicit GcQueries(Database& db) : db_(db) {}

    // The ready layers outside every image's chain and below no pending layer (a pending layer is
    // being unpacked onto its parent), and the merged layers no image can use any more: a merged
    // layer of the chain ending at layer L is kept while L has a child in use, since only runs of
    // deeper images mount it (image/flatten.hpp). Children come before their parents, and merged
    // layers before the layer they merge (ids grow from parent to child, and a merged layer is
    // made after its chain), so removing them in order never hits LayerTable::remove's checks.
    // Pending layers are not listed: LayerTable::pending() reports them to startup recovery.
    Result<std::vector<LayerRecord>> unreferenced_layers();
    // Every blob digest some image references (manifest, config, layers).
    Result<std::set<std::string>> referenced_blobs();

private:
    Database& db_;
};

}  // namespace grove::store
