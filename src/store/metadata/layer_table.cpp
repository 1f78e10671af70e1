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

// The rows of a chain query from `top_id`; NotFound when there is no such layer.
Result<std::vector<LayerRecord>> read_chain(Statement& stmt, int64_t top_id) {
    GROVE_ASSIGN_OR_RETURN(auto layers,
                           base::with_context(read_layers(stmt), "chain of layer {}", top_id));
    if (layers.empty()) {
        return base::make_error(Code::kNotFound, "layer {} not found", top_id);
    }
    return layers;
}

}  // namespace

LayerRecord read_layer(const Statement& stmt) {
    return LayerRecord{.id = stmt.column_int64(0),
                       .key = stmt.column_text(1),
                       .parent = stmt.column_optional_int64(2),
                       .diff_id = stmt.column_optional_text(3),
                       .blob_digest = stmt.column_optional_text(4),
                       .size = stmt.column_uint64(5),
                       .depth = stmt.column_int64(7),
                       .merges = stmt.column_optional_int64(8),
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
        // SQLite's own foreign key errors name no row; these do.
        auto existing = [&](int64_t other, std::string_view role) -> Result<LayerRecord> {
            auto found = get(other);
            if (!found && found.error().code() == Code::kNotFound) {
                return base::make_error(Code::kFailedPrecondition, "{} layer {} does not exist",
                                        role, other);
            }
            return found;
        };
        int64_t depth = 1;
        if (layer.parent) {
            GROVE_ASSIGN_OR_RETURN(const LayerRecord parent, existing(*layer.parent, "parent"));
            depth = parent.depth + 1;
        }
        if (layer.merges) {
            if (layer.parent) {
                return base::make_error(Code::kFailedPrecondition, "a merged layer has no parent");
            }
            GROVE_TRY(existing(*layer.merges, "merged"));
            GROVE_ASSIGN_OR_RETURN(const auto other, merged(*layer.merges));
            if (other) {
                return base::make_error(Code::kAlreadyExists, "layer {} merges layer {} already",
                                        other->id, *layer.merges);
            }
        }
        GROVE_ASSIGN_OR_RETURN(auto stmt, db_.prepare(R"sql(
            INSERT INTO layers (key, parent, diff_id, blob_digest, size, state, depth, merges)
            VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?7) RETURNING id)sql"));
        stmt.bind(1, layer.key)
            .bind(2, layer.parent)
            .bind(3, layer.diff_id)
            .bind(4, layer.blob_digest)
            .bind(5, layer.size)
            .bind(6, depth)
            .bind(7, layer.merges);
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
    return read_chain(stmt, top_id);
}

Result<std::vector<LayerRecord>> LayerTable::top_of_chain(int64_t top_id, size_t count) {
    if (count == 0) {
        return std::vector<LayerRecord>();
    }
    GROVE_ASSIGN_OR_RETURN(auto stmt, db_.prepare(fmt::format(R"sql(
        WITH RECURSIVE chain (id, depth) AS (
            SELECT id, 0 FROM layers WHERE id = ?1
            UNION ALL
            SELECT layers.parent, chain.depth + 1 FROM layers JOIN chain ON layers.id = chain.id
            WHERE layers.parent IS NOT NULL AND chain.depth + 1 < ?2)
        SELECT {} FROM chain JOIN layers ON layers.id = chain.id ORDER BY chain.depth)sql",
                                                              kLayerColumns)));
    stmt.bind(1, top_id).bind(2, count);
    return read_chain(stmt, top_id);
}

Result<std::optional<LayerRecord>> LayerTable::merged(int64_t layer_id) {
    GROVE_ASSIGN_OR_RETURN(
        auto stmt,
        db_.prepare(fmt::format("SELECT {} FROM layers WHERE merges = ?1", kLayerColumns)));
    GROVE_ASSIGN_OR_RETURN(const bool row, base::with_context(stmt.bind(1, layer_id).step(),
                                                              "merged layer of {}", layer_id));
    if (!row) {
        return std::optional<LayerRecord>();
    }
    return std::optional<LayerRecord>(read_layer(stmt));
}

Result<std::vector<LayerRecord>> LayerTable::chain_above_merged(int64_t top_id) {
    // The walk goes on below a layer only while that layer has no ready merged layer.
    GROVE_ASSIGN_OR_RETURN(auto stmt, db_.prepare(fmt::format(R"sql(
        WITH RECURSIVE chain (id, depth) AS (
            SELECT id, 0 FROM layers WHERE id = ?1
            UNION ALL
            SELECT layers.parent, chain.depth + 1 FROM layers JOIN chain ON layers.id = chain.id
            WHERE layers.parent IS NOT NULL AND NOT EXISTS (
                SELECT 1 FROM layers AS merged
                WHERE merged.merges = chain.id AND merged.state = 'ready'))
        SELECT {} FROM chain JOIN layers ON layers.id = chain.id ORDER BY chain.depth)sql",
                                                              kLayerColumns)));
    stmt.bind(1, top_id);
    return read_chain(stmt, top_id);
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
                   (SELECT count(*) FROM layers WHERE parent = ?1),
                   (SELECT count(*) FROM layers WHERE merges = ?1))sql"));
        GROVE_TRY(users.bind(1, id).step());
        const int64_t images = users.column_int64(0);
        const int64_t children = users.column_int64(1);
        const int64_t merged = users.column_int64(2);
        if (images > 0 || children > 0 || merged > 0) {
            return base::make_error(
                Code::kFailedPrecondition,
                "layer is in use by {} image(s), {} child layer(s) and {} merged layer(s)", images,
                children, merged);
        }
        GROVE_ASSIGN_OR_RETURN(auto stmt, db_.prepare("DELETE FROM layers WHERE id = ?1"));
        return stmt.bind(1, id).run();
    });
    return base::with_context(std::move(result), "remove layer {}", id);
}

}  // namespace grove::store
