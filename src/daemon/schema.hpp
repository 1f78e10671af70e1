#pragma once

// The schema of the daemon's state database (<root>/daemon.db, see state_db.hpp) as numbered
// migrations, run by store::Database like the metadata store's own. Append-only: a released
// migration is never edited.

#include <span>

#include "store/metadata/migrations.hpp"

namespace grove::daemon {

std::span<const store::Migration> daemon_schema();

}  // namespace grove::daemon
