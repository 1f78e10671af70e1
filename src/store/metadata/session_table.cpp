#include "store/metadata/session_table.hpp"

#include <algorithm>

#include "base/error.hpp"

namespace grove::store {
namespace {

constexpr size_t kMaxNameLength = 128;

constexpr bool name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

constexpr std::string_view kSelectStates = R"sql(
    SELECT session_states.id, parent, image, command, exit_code, timed_out, elapsed_ns, stdout,
           stderr, created_ns FROM session_states)sql";

SessionState read_state(const Statement& stmt) {
    return {.id = stmt.column_int64(0),
            .parent = stmt.column_optional_int64(1),
            .image = stmt.column_text(2),
            .command = stmt.column_text(3),
            .exit_code = static_cast<int>(stmt.column_int64(4)),
            .timed_out = stmt.column_int64(5) != 0,
            .elapsed_ns = stmt.column_int64(6),
            .stdout_data = stmt.column_text(7),
            .stderr_data = stmt.column_text(8),
            .created_ns = stmt.column_int64(9)};
}

}  // namespace

const SessionBranch& SessionRecord::current() const {
    // get() reads a session with its checked-out branch, which set_head keeps existing.
    return *std::ranges::find(branches, branch, &SessionBranch::name);
}

Result<void> validate_session_name(std::string_view name, std::string_view what) {
    if (name.empty() || name.size() > kMaxNameLength || !std::ranges::all_of(name, name_char)) {
        return base::make_error(Code::kInvalidArgument,
                                "{} name '{}' must be 1 to {} letters, digits or . _ -", what, name,
                                kMaxNameLength);
    }
    return {};
}

Result<SessionRecord> SessionTable::create(std::string_view name,
                                           std::string_view uuid,
                                           int64_t now_ns) {
    GROVE_TRY(validate_session_name(name, "session"));
    auto created = db_.transaction([&]() -> Result<void> {
        GROVE_ASSIGN_OR_RETURN(auto image, db_.prepare("SELECT 1 FROM images WHERE uuid = ?1"));
        GROVE_ASSIGN_OR_RETURN(const bool exists, image.bind(1, uuid).step());
        if (!exists) {
            return base::make_error(Code::kNotFound, "image '{}' not found", uuid);
        }
        GROVE_ASSIGN_OR_RETURN(auto taken, db_.prepare("SELECT 1 FROM sessions WHERE name = ?1"));
        GROVE_ASSIGN_OR_RETURN(const bool exists_already, taken.bind(1, name).step());
        if (exists_already) {
            return base::make_error(Code::kAlreadyExists, "session '{}' exists", name);
        }
        GROVE_ASSIGN_OR_RETURN(
            auto session,
            db_.prepare("INSERT INTO sessions (name, branch, created_ns) VALUES (?1, ?2, ?3)"));
        GROVE_TRY(session.bind(1, name).bind(2, kMainBranch).bind(3, now_ns).run());
        GROVE_ASSIGN_OR_RETURN(auto base, db_.prepare(R"sql(
            INSERT INTO session_states (session, image, command, created_ns)
            VALUES (?1, ?2, '', ?3) RETURNING id)sql"));
        GROVE_TRY(base.bind(1, name).bind(2, uuid).bind(3, now_ns).step());
        const int64_t base_id = base.column_int64(0);
        GROVE_ASSIGN_OR_RETURN(
            auto branch,
            db_.prepare("INSERT INTO session_branches (session, name, head) VALUES (?1, ?2, ?3)"));
        return branch.bind(1, name).bind(2, kMainBranch).bind(3, base_id).run();
    });
    GROVE_TRY(base::with_context(std::move(created), "create session '{}'", name));
    return get(name);
}

Result<SessionRecord> SessionTable::get(std::string_view name) {
    GROVE_ASSIGN_OR_RETURN(auto session,
                           db_.prepare("SELECT branch, created_ns FROM sessions WHERE name = ?1"));
    GROVE_ASSIGN_OR_RETURN(const bool found, session.bind(1, name).step());
    if (!found) {
        return base::make_error(Code::kNotFound, "session '{}' not found", name);
    }
    SessionRecord record{.name = std::string(name),
                         .branch = session.column_text(0),
                         .created_ns = session.column_int64(1)};
    GROVE_ASSIGN_OR_RETURN(auto branches, db_.prepare(R"sql(
        SELECT b.name, b.head, s.image FROM session_branches b
        JOIN session_states s ON s.id = b.head
        WHERE b.session = ?1 ORDER BY b.name)sql"));
    branches.bind(1, name);
    for (;;) {
        GROVE_ASSIGN_OR_RETURN(const bool row, branches.step());
        if (!row) {
            break;
        }
        record.branches.push_back({.name = branches.column_text(0),
                                   .head = branches.column_int64(1),
                                   .image = branches.column_text(2)});
    }
    return record;
}

Result<std::vector<SessionRecord>> SessionTable::list() {
    GROVE_ASSIGN_OR_RETURN(auto stmt, db_.prepare("SELECT name FROM sessions ORDER BY name"));
    std::vector<std::string> names;
    for (;;) {
        GROVE_ASSIGN_OR_RETURN(const bool row, stmt.step());
        if (!row) {
            break;
        }
        names.push_back(stmt.column_text(0));
    }
    std::vector<SessionRecord> sessions;
    for (const auto& name : names) {
        GROVE_ASSIGN_OR_RETURN(auto record, get(name));
        sessions.push_back(std::move(record));
    }
    return sessions;
}

Result<std::optional<std::string>> SessionTable::pinning(std::string_view image) {
    GROVE_ASSIGN_OR_RETURN(
        auto stmt, db_.prepare("SELECT session FROM session_states WHERE image = ?1 LIMIT 1"));
    GROVE_ASSIGN_OR_RETURN(const bool row, stmt.bind(1, image).step());
    return row ? std::optional<std::string>(stmt.column_text(0)) : std::nullopt;
}

Result<void> SessionTable::remove(std::string_view name) {
    // Branches and states go by ON DELETE CASCADE.
    GROVE_ASSIGN_OR_RETURN(auto stmt, db_.prepare("DELETE FROM sessions WHERE name = ?1"));
    GROVE_TRY(base::with_context(stmt.bind(1, name).run(), "remove session '{}'", name));
    if (db_.changes() == 0) {
        return base::make_error(Code::kNotFound, "session '{}' not found", name);
    }
    return {};
}

Result<SessionRecord> SessionTable::branch(std::string_view name, std::string_view branch) {
    GROVE_TRY(validate_session_name(branch, "branch"));
    auto made = db_.transaction([&]() -> Result<void> {
        GROVE_ASSIGN_OR_RETURN(const SessionRecord session, get(name));
        if (std::ranges::find(session.branches, branch, &SessionBranch::name) !=
            session.branches.end()) {
            return base::make_error(Code::kAlreadyExists, "branch '{}' exists", branch);
        }
        GROVE_ASSIGN_OR_RETURN(
            auto insert,
            db_.prepare("INSERT INTO session_branches (session, name, head) VALUES (?1, ?2, ?3)"));
        GROVE_TRY(insert.bind(1, name).bind(2, branch).bind(3, session.current().head).run());
        GROVE_TRY(checkout(name, branch));
        return {};
    });
    GROVE_TRY(base::with_context(std::move(made), "branch '{}' of session '{}'", branch, name));
    return get(name);
}

Result<SessionRecord> SessionTable::checkout(std::string_view name, std::string_view branch) {
    GROVE_ASSIGN_OR_RETURN(const SessionRecord session, get(name));
    if (std::ranges::find(session.branches, branch, &SessionBranch::name) ==
        session.branches.end()) {
        return base::make_error(Code::kNotFound, "session '{}' has no branch '{}'", name, branch);
    }
    GROVE_ASSIGN_OR_RETURN(auto stmt,
                           db_.prepare("UPDATE sessions SET branch = ?2 WHERE name = ?1"));
    GROVE_TRY(stmt.bind(1, name).bind(2, branch).run());
    return get(name);
}

Result<SessionRecord> SessionTable::rollback(std::string_view name, int64_t steps) {
    if (steps < 0) {
        return base::make_error(Code::kInvalidArgument, "rollback by {} steps", steps);
    }
    auto moved = db_.transaction([&]() -> Result<void> {
        GROVE_ASSIGN_OR_RETURN(const SessionRecord session, get(name));
        GROVE_ASSIGN_OR_RETURN(const auto states, history(name, static_cast<size_t>(steps) + 1));
        if (states.size() <= static_cast<size_t>(steps)) {
            return base::make_error(Code::kOutOfRange,
                                    "branch '{}' has only {} run(s) to roll back", session.branch,
                                    states.size() - 1);
        }
        return set_head(name, session.branch, states.back().id);
    });
    GROVE_TRY(base::with_context(std::move(moved), "roll back session '{}'", name));
    return get(name);
}

Result<SessionRecord> SessionTable::append(std::string_view name, SessionState state) {
    auto appended = db_.transaction([&]() -> Result<void> {
        GROVE_ASSIGN_OR_RETURN(const SessionRecord session, get(name));
        if (state.parent != session.current().head) {
            return base::make_error(
                Code::kAborted, "branch '{}' moved to state {} while the run started from {}",
                session.branch, session.current().head, state.parent.value_or(0));
        }
        GROVE_ASSIGN_OR_RETURN(auto insert, db_.prepare(R"sql(
            INSERT INTO session_states (session, parent, image, command, exit_code, timed_out,
                                        elapsed_ns, stdout, stderr, created_ns)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING id)sql"));
        insert.bind(1, name)
            .bind(2, state.parent)
            .bind(3, state.image)
            .bind(4, state.command)
            .bind(5, state.exit_code)
            .bind(6, state.timed_out ? 1 : 0)
            .bind(7, state.elapsed_ns)
            .bind(8, state.stdout_data)
            .bind(9, state.stderr_data)
            .bind(10, state.created_ns);
        GROVE_TRY(insert.step());
        return set_head(name, session.branch, insert.column_int64(0));
    });
    GROVE_TRY(base::with_context(std::move(appended), "record a run in session '{}'", name));
    return get(name);
}

Result<std::vector<SessionState>> SessionTable::history(std::string_view name,
                                                        size_t limit,
                                                        std::string_view branch) {
    GROVE_ASSIGN_OR_RETURN(const SessionRecord session, get(name));
    const auto from =
        std::find_if(session.branches.begin(), session.branches.end(), [&](const SessionBranch& b) {
            return b.name == (branch.empty() ? std::string_view(session.branch) : branch);
        });
    if (from == session.branches.end()) {
        return base::make_error(Code::kNotFound, "session '{}' has no branch '{}'", name, branch);
    }
    GROVE_ASSIGN_OR_RETURN(auto stmt, db_.prepare(fmt::format(R"sql(
        WITH RECURSIVE chain (id, depth) AS (
            SELECT ?1, 0
            UNION ALL
            SELECT s.parent, chain.depth + 1 FROM session_states s JOIN chain ON s.id = chain.id
            WHERE s.parent IS NOT NULL AND chain.depth + 1 < ?2)
        {} JOIN chain ON chain.id = session_states.id ORDER BY chain.depth)sql",
                                                              kSelectStates)));
    stmt.bind(1, from->head).bind(2, limit);
    std::vector<SessionState> states;
    for (;;) {
        GROVE_ASSIGN_OR_RETURN(const bool row, stmt.step());
        if (!row) {
            break;
        }
        states.push_back(read_state(stmt));
    }
    return states;
}

Result<void> SessionTable::set_head(std::string_view name, std::string_view branch, int64_t head) {
    GROVE_ASSIGN_OR_RETURN(
        auto stmt,
        db_.prepare("UPDATE session_branches SET head = ?3 WHERE session = ?1 AND name = ?2"));
    return stmt.bind(1, name).bind(2, branch).bind(3, head).run();
}

}  // namespace grove::store
