#include "store/metadata/migrations.hpp"

#include <array>

namespace grove::store {
namespace {

// Version 1. Notes on the choices:
// - layers.id is AUTOINCREMENT so an id is never reused: it names the layer's directory, and a
//   directory of a removed layer that GC has not swept yet must not be adopted by a new layer. It
//   also makes a child's id larger than its parent's, which GC relies on to order removals.
// - Every reference is RESTRICT: a tag, a parent or a layer never vanishes as a side effect;
//   the tables untag or refuse explicitly. Only image_blobs, which is part of its image, cascades.
// - An imported image is unique per (manifest_digest, platform), so two processes importing the
//   same image race to one row and the loser gets AlreadyExists, then finds the winner's image.
constexpr std::string_view kInitial = R"sql(
CREATE TABLE layers (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    key         TEXT NOT NULL UNIQUE CHECK (length(key) > 0),
    parent      INTEGER REFERENCES layers (id) ON DELETE RESTRICT,
    diff_id     TEXT,
    blob_digest TEXT,
    size        INTEGER NOT NULL DEFAULT 0 CHECK (size >= 0),
    state       TEXT NOT NULL CHECK (state IN ('pending', 'ready'))
);
CREATE INDEX layers_parent ON layers (parent);
CREATE INDEX layers_pending ON layers (id) WHERE state = 'pending';

CREATE TABLE images (
    uuid            TEXT PRIMARY KEY NOT NULL CHECK (length(uuid) = 36),
    parent          TEXT REFERENCES images (uuid) ON DELETE RESTRICT,
    kind            TEXT NOT NULL CHECK (kind IN ('imported', 'run')),
    created_ns      INTEGER NOT NULL,
    operation       TEXT NOT NULL,
    config_json     TEXT NOT NULL,
    manifest_digest TEXT,
    platform        TEXT,
    top_layer       INTEGER REFERENCES layers (id) ON DELETE RESTRICT,
    size_logical    INTEGER NOT NULL DEFAULT 0 CHECK (size_logical >= 0),
    size_physical   INTEGER NOT NULL DEFAULT 0 CHECK (size_physical >= 0),
    CHECK ((manifest_digest IS NULL) = (platform IS NULL)),
    CHECK (kind = 'imported' OR manifest_digest IS NULL)
) WITHOUT ROWID;
CREATE INDEX images_created ON images (created_ns DESC, uuid);
CREATE INDEX images_parent ON images (parent);
CREATE INDEX images_top_layer ON images (top_layer);
CREATE UNIQUE INDEX images_manifest ON images (manifest_digest, platform)
    WHERE manifest_digest IS NOT NULL;

CREATE TABLE tags (
    tag  TEXT PRIMARY KEY NOT NULL,
    uuid TEXT NOT NULL UNIQUE REFERENCES images (uuid) ON DELETE RESTRICT
) WITHOUT ROWID;

CREATE TABLE image_blobs (
    uuid   TEXT NOT NULL REFERENCES images (uuid) ON DELETE CASCADE,
    digest TEXT NOT NULL,
    PRIMARY KEY (uuid, digest)
) WITHOUT ROWID;
CREATE INDEX image_blobs_digest ON image_blobs (digest);
)sql";

// Version 2: flattening deep chains (image/flatten.hpp).
// - layers.depth is the length of the chain that ends at the layer (1 for a layer without a
//   parent), so a run finds where its chain is flattened without walking thousands of rows.
// - layers.merges marks a merged layer: the whole filesystem of the chain that ends at
//   `merges`, in one directory. It has no parent and a depth of 1; at most one exists per
//   chain. RESTRICT, as everywhere: GC removes the merged layer before the layer it merges.
constexpr std::string_view kFlatten = R"sql(
ALTER TABLE layers ADD COLUMN depth INTEGER NOT NULL DEFAULT 1 CHECK (depth >= 1);
ALTER TABLE layers ADD COLUMN merges INTEGER REFERENCES layers (id) ON DELETE RESTRICT;
WITH RECURSIVE depths (id, depth) AS (
    SELECT id, 1 FROM layers WHERE parent IS NULL
    UNION ALL
    SELECT layers.id, depths.depth + 1 FROM layers JOIN depths ON layers.parent = depths.id)
UPDATE layers SET depth = depths.depth FROM depths WHERE depths.id = layers.id;
CREATE UNIQUE INDEX layers_merges ON layers (merges) WHERE merges IS NOT NULL;
)sql";

// Version 3: sessions (session_table.hpp). A state's image is RESTRICT: a session pins the images
// of its history, so they stay runnable until the session goes. A session's states and branches
// go with it (CASCADE); a branch's head is CASCADE too, so the order in which SQLite cascades a
// session's removal does not matter.
constexpr std::string_view kSessions = R"sql(
CREATE TABLE sessions (
    name       TEXT PRIMARY KEY NOT NULL,
    branch     TEXT NOT NULL,
    created_ns INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE session_states (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    session    TEXT NOT NULL REFERENCES sessions (name) ON DELETE CASCADE,
    parent     INTEGER REFERENCES session_states (id) ON DELETE CASCADE,
    image      TEXT NOT NULL REFERENCES images (uuid) ON DELETE RESTRICT,
    command    TEXT NOT NULL,
    exit_code  INTEGER NOT NULL DEFAULT 0,
    timed_out  INTEGER NOT NULL DEFAULT 0,
    elapsed_ns INTEGER NOT NULL DEFAULT 0,
    stdout     TEXT NOT NULL DEFAULT '',
    stderr     TEXT NOT NULL DEFAULT '',
    created_ns INTEGER NOT NULL
);
CREATE INDEX session_states_session ON session_states (session);
CREATE INDEX session_states_parent ON session_states (parent);
CREATE INDEX session_states_image ON session_states (image);
CREATE TABLE session_branches (
    session TEXT NOT NULL REFERENCES sessions (name) ON DELETE CASCADE,
    name    TEXT NOT NULL,
    head    INTEGER NOT NULL REFERENCES session_states (id) ON DELETE CASCADE,
    PRIMARY KEY (session, name)
) WITHOUT ROWID;
)sql";

// Version 4: image pins (pin_table.hpp): a long-lived container keeps its image, RESTRICT as a
// session's state does.
constexpr std::string_view kPins = R"sql(
CREATE TABLE image_pins (
    holder TEXT PRIMARY KEY NOT NULL,
    image  TEXT NOT NULL REFERENCES images (uuid) ON DELETE RESTRICT
) WITHOUT ROWID;
CREATE INDEX image_pins_image ON image_pins (image);
)sql";

constexpr std::array kMigrations{
    Migration{.version = 1, .sql = kInitial},
    Migration{.version = 2, .sql = kFlatten},
    Migration{.version = 3, .sql = kSessions},
    Migration{.version = 4, .sql = kPins},
};

}  // namespace

std::span<const Migration> migrations() {
    return kMigrations;
}

}  // namespace grove::store
