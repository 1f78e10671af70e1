#pragma once

// The containers' records in <root>/containers.db (store::Database: WAL; synchronous=NORMAL, set
// by the manager, so a created container and every state change it reports survive any process's
// crash, though not a power loss, as the containers' processes do not). One row per
// container; names are unique (AlreadyExists on a clash). What a running container does is the
// shim's to say; the row holds the state last learnt, which the manager reconciles with the
// container's directory (exit.json, the shim's lock) whenever it reads it.

#include <span>
#include <string_view>
#include <vector>

#include <grove/result.hpp>

#include "containers/container.hpp"
#include "store/metadata/database.hpp"

namespace grove::containers {

std::span<const store::Migration> container_schema();

class ContainerTable {
public:
    explicit ContainerTable(store::Database& db) : db_(db) {}

    Result<void> insert(const Container& container);
    // NotFound when no row has this exact id.
    Result<Container> get(std::string_view id);
    // Newest first.
    Result<std::vector<Container>> all();
    Result<void> set_state(std::string_view id, const ContainerState& state, int restart_count);
    Result<void> set_manually_stopped(std::string_view id, bool stopped);
    Result<void> set_name(std::string_view id, std::string_view name);
    Result<void> set_config(std::string_view id, const ShimConfig& config);
    Result<void> remove(std::string_view id);

private:
    store::Database& db_;
};

}  // namespace grove::containers
