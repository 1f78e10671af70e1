#pragma once

// The schema of the metadata store as numbered SQL migrations, compiled into the library as raw
// strings (migrations.cpp) so the binary never depends on files next to it. The list is
// append-only: a released migration is never edited, a change is a new migration. After
// migration N, PRAGMA user_version is N.

#include <span>
#include <string_view>

namespace grove::store {

struct Migration {
    int version = 0;
    std::string_view sql;
};

// Every migration, versions 1..N in order.
std::span<const Migration> migrations();

}  // namespace grove::store
