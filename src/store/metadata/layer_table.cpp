#include "store/metadata/layer_table.hpp"

#include "base/error.hpp"

namespace grove::store {
namespace {

Result<std::vector<LayerRecord>> read_layers(Statement& stmt) {
    std::vector<LayerRecord> layers;
    for (;;) {
        GROVE_ASSIGN_OR_RETURN(const bool row, stmt.step());
        if (!row) {
            return layers;
        }
        layers.push_back(read_layer(stmt));
    }
}

}  // namespace

LayerRecord read_layer(const Statement& stmt) {
    return LayerRecord{.id = stmt.column_int64(0),
                       .key = stmt.column_text(1),
                       .parent = stmt.column_optional_int64(2),
                       .diff_id = stmt.column_optional_text(3),
                       .blob_digest = stmt.column_optional_text(4),
                       .size = stmt.column_uint64(5),
                       .ready = stmt.column_text(6) == "ready"};
}

Result<std::optional<LayerRecord>> LayerTable::find(std::string_view key) {
    GROVE_ASSIGN_OR_RETURN(
        auto stmt, db_.prepare(fmt::format("SELECT {} FROM layers WHERE key = ?1", kLayerColumns)));
    GROVE_ASSIGN_OR_RETURN(const bool row,
                           base::with_context(stmt.bind(1, key).step(), "find layer '{}'", key));
    if (!row) {
        return std::optional<LayerRecord>();
    }
    return std::optional<LayerRecord>(read_layer(stmt));
}

Result<LayerRecord> LayerTable::get(int64_t id) {
    GROVE_ASSIGN_OR_RETURN(
        auto stmt, db_.prepare(fmt::format("SELECT {} FROM layers WHERE id = ?1", kLayerColumns)));
    GROVE_ASSIGN_OR_RETURN(const bool row,
                           base::with_context(stmt.bind(1, id).step(), "get layer {}", id));
    if (!row) {
        return base::make_error(Code::kNotFound, "layer {} not found", id);
    }
    return read_layer(stmt);
}

Result<int64_t> LayerTable::insert_pending(const LayerRecord& layer) {
    int64_t id = 0;
    auto result = db_.transaction([&]() -> Result<void> {
        if (layer.parent) {
            // SQLite's own foreign key error names no row; this one does.
            auto parent = get(*layer.parent);
            if (!parent) {
                if (parent.error().code() == Code::kNotFound) {
                    return base::make_error(Code::kFailedPrecondition,
                                            "parent layer {} does not exist", *layer.parent);
                }
                return std::move(parent).error();
            }
        }
        GROVE_ASSIGN_OR_RETURN(auto stmt, db_.prepare(R"sql(
            INSERT INTO layers (key, parent, diff_id, blob_digest, size, state)
            VALUES (?1, ?2, ?3, ?4, ?5, 'pending') RETURNING id)sql"));
        stmt.bind(1, layer.key)
            .bind(2, layer.parent)
            .bind(3, layer.diff_id)
            .bind(4, layer.blob_digest)
            .bind(5, layer.size);
        GROVE_TRY(stmt.step());
        id = stmt.column_int64(0);
        return {};
    });
    GROVE_TRY(base::with_context(std::move(result), "insert layer '{}'", layer.key));
    return id;
}

Result<void> LayerTable::mark_ready(int64_t id, uint64_t size) {
    auto result = db_.transaction([&]() -> Result<void> {
        GROVE_ASSIGN_OR_RETURN(const LayerRecord layer, get(id));
        if (layer.ready) {
            return base::make_error(Code::kFailedPrecondition, "layer is ready already");
        }
        GROVE_ASSIGN_OR_RETURN(
            auto stmt, db_.prepare("UPDATE layers SET state = 'ready', size = ?2 WHERE id = ?1"));
        return stmt.bind(1, id).bind(2, size).run();
    });
    return base::with_context(std::move(result), "mark layer {} ready", id);
}

Result<std::vector<LayerRecord>> LayerTable::chain(int64_t top_id) {
    // Depth grows downwards from the top, so the bottom layer has the largest depth.
    GROVE_ASSIGN_OR_RETURN(auto stmt, db_.prepare(fmt::format(R"sql(
        WITH RECURSIVE chain (id, depth) AS (
            SELECT id, 0 FROM layers WHERE id = ?1
            UNION ALL
            SELECT layers.parent, chain.depth + 1 FROM layers JOIN chain ON layers.id = chain.id
            WHERE layers.parent IS NOT NULL)
        SELECT {} FROM chain JOIN layers ON layers.id = chain.id ORDER BY chain.depth DESC)sql",
                                                              kLayerColumns)));
    stmt.bind(1, top_id);
    GROVE_ASSIGN_OR_RETURN(auto layers,
                           base::with_context(read_layers(stmt), "chain of layer {}", top_id));
    if (layers.empty()) {
        return base::make_error(Code::kNotFound, "layer {} not found", top_id);
    }
    return layers;
}

Result<std::vector<LayerRecord>> LayerTable::pending() {
    GROVE_ASSIGN_OR_RETURN(
        auto stmt,
        db_.prepare(fmt::format("SELECT {} FROM layers WHERE state = 'pending' ORDER BY id",
                                kLayerColumns)));
    return base::with_context(read_layers(stmt), "list pending layers");
}

Result<void> LayerTable::remove(int64_t id) {
    auto result = db_.transaction([&]() -> Result<void> {
        GROVE_TRY(get(id));
        GROVE_ASSIGN_OR_RETURN(auto users, db_.prepare(R"sql(
            SELECT (SELECT count(*) FROM images WHERE top_layer = ?1),
                   (SELECT count(*) FROM layers WHERE parent = ?1))sql"));
        GROVE_TRY(users.bind(1, id).step());
        const int64_t images = users.column_int64(0);
        const int64_t children = users.column_int64(1);
        if (images > 0 || children > 0) {
            return base::make_error(Code::kFailedPrecondition,
                                    "layer is in use by {} image(s) and {} child layer(s)", images,
                                    children);
        }
        GROVE_ASSIGN_OR_RETURN(auto stmt, db_.prepare("DELETE FROM layers WHERE id = ?1"));
        return stmt.bind(1, id).run();
    });
    return base::with_context(std::move(result), "remove layer {}", id);
}

}  // namespace grove::store
