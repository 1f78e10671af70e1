#include "store/metadata/gc_queries.hpp"

#include "base/error.hpp"
#include "store/metadata/layer_table.hpp"

namespace grove::store {

Result<std::vector<LayerRecord>> GcQueries::unreferenced_layers() {
    GROVE_ASSIGN_OR_RETURN(auto stmt, db_.prepare(fmt::format(R"sql(
        WITH RECURSIVE live (id) AS (
            SELECT top_layer FROM images WHERE top_layer IS NOT NULL
            UNION
            SELECT id FROM layers WHERE state = 'pending'
            UNION
            SELECT merges FROM layers WHERE state = 'pending' AND merges IS NOT NULL
            UNION
            SELECT layers.parent FROM layers JOIN live ON layers.id = live.id
            WHERE layers.parent IS NOT NULL)
        SELECT {} FROM layers
        WHERE state = 'ready' AND id NOT IN (SELECT id FROM live)
          AND NOT (merges IS NOT NULL AND EXISTS (
              SELECT 1 FROM layers AS child
              WHERE child.parent = layers.merges AND child.id IN (SELECT id FROM live)))
        ORDER BY id DESC)sql",
                                                              kLayerColumns)));
    std::vector<LayerRecord> layers;
    for (;;) {
        GROVE_ASSIGN_OR_RETURN(const bool row,
                               base::with_context(stmt.step(), "list unreferenced layers"));
        if (!row) {
            return layers;
        }
        layers.push_back(read_layer(stmt));
    }
}

Result<std::set<std::string>> GcQueries::referenced_blobs() {
    GROVE_ASSIGN_OR_RETURN(auto stmt, db_.prepare("SELECT DISTINCT digest FROM image_blobs"));
    std::set<std::string> digests;
    for (;;) {
        GROVE_ASSIGN_OR_RETURN(const bool row,
                               base::with_context(stmt.step(), "list referenced blobs"));
        if (!row) {
            return digests;
        }
        digests.insert(stmt.column_text(0));
    }
}

}  // namespace grove::store
