#include "daemon/event_table.hpp"

namespace grove::daemon {

Result<void> EventTable::append(std::string_view operation, std::span<const EventRecord> events) {
    if (events.empty()) {
        return {};
    }
    return db_.transaction([&]() -> Result<void> {
        // Statement has no reset(): one prepared statement per event (events come in batches
        // of a run's lifetime, a few hundred at most).
        for (const EventRecord& event : events) {
            GROVE_ASSIGN_OR_RETURN(auto insert, db_.prepare(R"sql(
                INSERT INTO operation_events (operation, id, ts_ns, spid, type, data_json)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6))sql"));
            GROVE_TRY(insert.bind(1, operation)
                          .bind(2, event.id)
                          .bind(3, event.ts_ns)
                          .bind(4, event.spid)
                          .bind(5, event.type)
                          .bind(6, event.data_json)
                          .run());
        }
        return {};
    });
}

Result<std::vector<EventRecord>> EventTable::list(std::string_view operation, int64_t after) {
    GROVE_ASSIGN_OR_RETURN(auto stmt, db_.prepare(R"sql(
        SELECT id, ts_ns, spid, type, data_json FROM operation_events
        WHERE operation = ?1 AND id > ?2 ORDER BY id)sql"));
    stmt.bind(1, operation).bind(2, after);
    std::vector<EventRecord> events;
    for (;;) {
        GROVE_ASSIGN_OR_RETURN(const bool row, stmt.step());
        if (!row) {
            return events;
        }
        events.push_back(EventRecord{.id = stmt.column_int64(0),
                                     .ts_ns = stmt.column_int64(1),
                                     .spid = static_cast<int>(stmt.column_int64(2)),
                                     .type = stmt.column_text(3),
                                     .data_json = stmt.column_text(4)});
    }
}

Result<int64_t> EventTable::next_id(std::string_view operation) {
    GROVE_ASSIGN_OR_RETURN(
        auto stmt,
        db_.prepare("SELECT COALESCE(MAX(id) + 1, 0) FROM operation_events WHERE operation = ?1"));
    stmt.bind(1, operation);
    GROVE_TRY(stmt.step());
    return stmt.column_int64(0);
}

}  // namespace grove::daemon
