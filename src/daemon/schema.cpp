#include "daemon/schema.hpp"

#include <array>
#include <string_view>

namespace grove::daemon {
namespace {

// Version 1. Notes on the choices:
// - Images are referenced by UUID without a foreign key: they live in another database
//   (metadata.db), and an operation's record must outlive the removal of its images.
// - Events cascade with their operation: they are part of it.
// - operations_unfinished indexes the few rows startup recovery looks for.
// - A file is unique by sha256, so two uploads of the same bytes race to one row.
constexpr std::string_view kInitial = R"sql(
CREATE TABLE operations (
    uuid              TEXT PRIMARY KEY NOT NULL CHECK (length(uuid) = 36),
    kind              TEXT NOT NULL CHECK (kind IN ('instance', 'image_import')),
    status            TEXT NOT NULL CHECK (status IN ('PENDING', 'ASSIGNED', 'EXECUTING',
                                                      'SUCCESS', 'FAILED', 'CANCELLED')),
    error             TEXT,
    created_ns        INTEGER NOT NULL,
    started_ns        INTEGER,
    finished_ns       INTEGER,
    request_json      TEXT NOT NULL,
    result_json       TEXT,
    image_uuid        TEXT,
    result_image_uuid TEXT,
    result_tag        TEXT,
    image_size        INTEGER CHECK (image_size >= 0)
);
CREATE INDEX operations_created ON operations (created_ns DESC, uuid);
CREATE INDEX operations_unfinished ON operations (uuid)
    WHERE status IN ('PENDING', 'ASSIGNED', 'EXECUTING');

CREATE TABLE operation_events (
    operation TEXT NOT NULL REFERENCES operations (uuid) ON DELETE CASCADE,
    id        INTEGER NOT NULL CHECK (id >= 0),
    ts_ns     INTEGER NOT NULL,
    spid      INTEGER NOT NULL,
    type      TEXT NOT NULL CHECK (length(type) > 0),
    data_json TEXT NOT NULL,
    PRIMARY KEY (operation, id)
) WITHOUT ROWID;

CREATE TABLE files (
    uuid       TEXT PRIMARY KEY NOT NULL CHECK (length(uuid) = 36),
    sha256     TEXT NOT NULL UNIQUE CHECK (length(sha256) = 64),
    size       INTEGER NOT NULL CHECK (size >= 0),
    created_ns INTEGER NOT NULL,
    updated_ns INTEGER NOT NULL
);
CREATE INDEX files_updated ON files (updated_ns DESC, uuid);
)sql";

constexpr std::array kMigrations{
    store::Migration{.version = 1, .sql = kInitial},
};

}  // namespace

std::span<const store::Migration> daemon_schema() {
    return kMigrations;
}

}  // namespace grove::daemon
