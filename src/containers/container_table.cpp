#include "containers/container_table.hpp"

#include <array>

#include "base/error.hpp"
#include "base/json.hpp"

namespace grove::containers {
namespace {

// Version 1. The shim's config and the lists are JSON: only the manager reads them, and always
// whole. Images are named by UUID without a foreign key: they live in metadata.db.
constexpr std::string_view kInitial = R"sql(
CREATE TABLE containers (
    id             TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 64),
    name           TEXT NOT NULL UNIQUE CHECK (length(name) > 0),
    image_uuid     TEXT NOT NULL,
    image_ref      TEXT NOT NULL,
    created_ns     INTEGER NOT NULL,
    entrypoint     TEXT NOT NULL,
    cmd            TEXT NOT NULL,
    user           TEXT NOT NULL,
    labels         TEXT NOT NULL,
    stop_signal    INTEGER NOT NULL,
    stop_timeout_s INTEGER NOT NULL,
    config         TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('created', 'running', 'paused', 'restarting',
                                                   'exited', 'dead')),
    pid            INTEGER NOT NULL,
    exit_code      INTEGER NOT NULL,
    oom_killed     INTEGER NOT NULL,
    error          TEXT NOT NULL,
    started_ns     INTEGER NOT NULL,
    finished_ns    INTEGER NOT NULL,
    restart_count  INTEGER NOT NULL
);
CREATE INDEX containers_created ON containers (created_ns DESC, id);
)sql";

// Version 2: restart policies, whether the user stopped the container since its last start, and
// its healthcheck (JSON; '' for none).
constexpr std::string_view kRestart = R"sql(
ALTER TABLE containers ADD COLUMN restart_policy TEXT NOT NULL DEFAULT 'no';
ALTER TABLE containers ADD COLUMN restart_max INTEGER NOT NULL DEFAULT 0;
ALTER TABLE containers ADD COLUMN manually_stopped INTEGER NOT NULL DEFAULT 0;
ALTER TABLE containers ADD COLUMN healthcheck TEXT NOT NULL DEFAULT '';
)sql";

constexpr std::array kMigrations{
    store::Migration{.version = 1, .sql = kInitial},
    store::Migration{.version = 2, .sql = kRestart},
};

constexpr std::string_view kColumns =
    "id, name, image_uuid, image_ref, created_ns, entrypoint, cmd, user, labels, stop_signal, "
    "stop_timeout_s, config, status, pid, exit_code, oom_killed, error, started_ns, finished_ns, "
    "restart_count, restart_policy, restart_max, manually_stopped, healthcheck";

std::string healthcheck_json(const std::optional<Healthcheck>& check) {
    if (!check) {
        return {};
    }
    return base::dump_json({{"test", check->test},
                            {"interval_ns", check->interval_ns},
                            {"timeout_ns", check->timeout_ns},
                            {"retries", check->retries},
                            {"start_period_ns", check->start_period_ns}});
}

Result<std::optional<Healthcheck>> healthcheck_from_json(const std::string& text) {
    if (text.empty()) {
        return std::optional<Healthcheck>();
    }
    GROVE_ASSIGN_OR_RETURN(const auto json, base::parse_json(text));
    Healthcheck check;
    GROVE_ASSIGN_OR_RETURN(check.test, base::json_field<std::vector<std::string>>(json, "test"));
    GROVE_ASSIGN_OR_RETURN(check.interval_ns, base::json_field<int64_t>(json, "interval_ns"));
    GROVE_ASSIGN_OR_RETURN(check.timeout_ns, base::json_field<int64_t>(json, "timeout_ns"));
    GROVE_ASSIGN_OR_RETURN(check.retries, base::json_field<int>(json, "retries"));
    GROVE_ASSIGN_OR_RETURN(check.start_period_ns,
                           base::json_field<int64_t>(json, "start_period_ns"));
    return std::optional(std::move(check));
}

Result<Container> read_row(const store::Statement& row) {
    Container c;
    c.id = row.column_text(0);
    c.name = row.column_text(1);
    c.image_uuid = row.column_text(2);
    c.image_ref = row.column_text(3);
    c.created_ns = row.column_int64(4);
    GROVE_ASSIGN_OR_RETURN(auto entrypoint, base::parse_json(row.column_text(5)));
    GROVE_ASSIGN_OR_RETURN(c.entrypoint,
                           base::json_as<std::vector<std::string>>(entrypoint, "entrypoint"));
    GROVE_ASSIGN_OR_RETURN(auto cmd, base::parse_json(row.column_text(6)));
    GROVE_ASSIGN_OR_RETURN(c.cmd, base::json_as<std::vector<std::string>>(cmd, "cmd"));
    c.user = row.column_text(7);
    GROVE_ASSIGN_OR_RETURN(auto labels, base::parse_json(row.column_text(8)));
    GROVE_ASSIGN_OR_RETURN(c.labels,
                           (base::json_as<std::map<std::string, std::string>>(labels, "labels")));
    c.stop_signal = static_cast<int>(row.column_int64(9));
    c.stop_timeout_s = static_cast<int>(row.column_int64(10));
    GROVE_ASSIGN_OR_RETURN(c.config, shim_config_from_json(row.column_text(11)));
    const auto status = status_from_name(row.column_text(12));
    if (!status) {
        return base::make_error(Code::kDataLoss, "container '{}' has an unknown status", c.id);
    }
    c.state.status = *status;
    c.state.pid = static_cast<int>(row.column_int64(13));
    c.state.exit_code = static_cast<int>(row.column_int64(14));
    c.state.oom_killed = row.column_int64(15) != 0;
    c.state.error = row.column_text(16);
    c.state.started_ns = row.column_int64(17);
    c.state.finished_ns = row.column_int64(18);
    c.restart_count = static_cast<int>(row.column_int64(19));
    GROVE_ASSIGN_OR_RETURN(
        c.restart, restart_policy(row.column_text(20), static_cast<int>(row.column_int64(21))));
    c.manually_stopped = row.column_int64(22) != 0;
    GROVE_ASSIGN_OR_RETURN(c.healthcheck, healthcheck_from_json(row.column_text(23)));
    return c;
}

Result<std::vector<Container>> read_rows(store::Statement& stmt) {
    std::vector<Container> out;
    while (true) {
        GROVE_ASSIGN_OR_RETURN(const bool row, stmt.step());
        if (!row) {
            return out;
        }
        GROVE_ASSIGN_OR_RETURN(auto container, read_row(stmt));
        out.push_back(std::move(container));
    }
}

Result<void> expect_one(store::Database& db, std::string_view id) {
    if (db.changes() == 0) {
        return base::make_error(Code::kNotFound, "no such container: {}", id);
    }
    return {};
}

}  // namespace

std::span<const store::Migration> container_schema() {
    return kMigrations;
}

Result<void> ContainerTable::insert(const Container& c) {
    GROVE_ASSIGN_OR_RETURN(const auto config, to_json(c.config));
    GROVE_ASSIGN_OR_RETURN(
        auto stmt,
        db_.prepare(fmt::format(
            "INSERT INTO containers ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
            "?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24)",
            kColumns)));
    stmt.bind(1, c.id)
        .bind(2, c.name)
        .bind(3, c.image_uuid)
        .bind(4, c.image_ref)
        .bind(5, c.created_ns)
        .bind(6, base::dump_json(c.entrypoint))
        .bind(7, base::dump_json(c.cmd))
        .bind(8, c.user)
        .bind(9, base::dump_json(c.labels))
        .bind(10, c.stop_signal)
        .bind(11, c.stop_timeout_s)
        .bind(12, config)
        .bind(13, status_name(c.state.status))
        .bind(14, c.state.pid)
        .bind(15, c.state.exit_code)
        .bind(16, c.state.oom_killed ? 1 : 0)
        .bind(17, c.state.error)
        .bind(18, c.state.started_ns)
        .bind(19, c.state.finished_ns)
        .bind(20, c.restart_count)
        .bind(21, restart_name(c.restart.kind))
        .bind(22, c.restart.max_retries)
        .bind(23, c.manually_stopped ? 1 : 0)
        .bind(24, healthcheck_json(c.healthcheck));
    return base::with_context(stmt.run(), "record container '{}'", c.name);
}

Result<Container> ContainerTable::get(std::string_view id) {
    GROVE_ASSIGN_OR_RETURN(
        auto stmt, db_.prepare(fmt::format("SELECT {} FROM containers WHERE id = ?1", kColumns)));
    stmt.bind(1, id);
    GROVE_ASSIGN_OR_RETURN(auto rows, read_rows(stmt));
    if (rows.empty()) {
        return base::make_error(Code::kNotFound, "no such container: {}", id);
    }
    return std::move(rows.front());
}

Result<std::vector<Container>> ContainerTable::all() {
    GROVE_ASSIGN_OR_RETURN(
        auto stmt, db_.prepare(fmt::format("SELECT {} FROM containers ORDER BY created_ns DESC, id",
                                           kColumns)));
    return read_rows(stmt);
}

Result<void> ContainerTable::set_state(std::string_view id,
                                       const ContainerState& state,
                                       int restart_count) {
    GROVE_ASSIGN_OR_RETURN(
        auto stmt,
        db_.prepare("UPDATE containers SET status = ?2, pid = ?3, exit_code = ?4, oom_killed = ?5, "
                    "error = ?6, started_ns = ?7, finished_ns = ?8, restart_count = ?9 "
                    "WHERE id = ?1"));
    stmt.bind(1, id)
        .bind(2, status_name(state.status))
        .bind(3, state.pid)
        .bind(4, state.exit_code)
        .bind(5, state.oom_killed ? 1 : 0)
        .bind(6, state.error)
        .bind(7, state.started_ns)
        .bind(8, state.finished_ns)
        .bind(9, restart_count);
    GROVE_TRY(stmt.run());
    return expect_one(db_, id);
}

Result<void> ContainerTable::set_manually_stopped(std::string_view id, bool stopped) {
    GROVE_ASSIGN_OR_RETURN(
        auto stmt, db_.prepare("UPDATE containers SET manually_stopped = ?2 WHERE id = ?1"));
    stmt.bind(1, id).bind(2, stopped ? 1 : 0);
    GROVE_TRY(stmt.run());
    return expect_one(db_, id);
}

Result<void> ContainerTable::set_name(std::string_view id, std::string_view name) {
    GROVE_ASSIGN_OR_RETURN(auto stmt, db_.prepare("UPDATE containers SET name = ?2 WHERE id = ?1"));
    stmt.bind(1, id).bind(2, name);
    GROVE_TRY(base::with_context(stmt.run(), "rename container to '{}'", name));
    return expect_one(db_, id);
}

Result<void> ContainerTable::set_config(std::string_view id, const ShimConfig& config) {
    GROVE_ASSIGN_OR_RETURN(const auto text, to_json(config));
    GROVE_ASSIGN_OR_RETURN(auto stmt,
                           db_.prepare("UPDATE containers SET config = ?2 WHERE id = ?1"));
    stmt.bind(1, id).bind(2, text);
    GROVE_TRY(stmt.run());
    return expect_one(db_, id);
}

Result<void> ContainerTable::remove(std::string_view id) {
    GROVE_ASSIGN_OR_RETURN(auto stmt, db_.prepare("DELETE FROM containers WHERE id = ?1"));
    stmt.bind(1, id);
    GROVE_TRY(stmt.run());
    return expect_one(db_, id);
}

}  // namespace grove::containers
