#include "daemon/operation_table.hpp"

#include <string>

#include "base/error.hpp"
#include "store/metadata/uuid.hpp"

namespace grove::daemon {
namespace {

// read_operation() expects these columns, in this order.
constexpr std::string_view kSelect = R"sql(
    SELECT uuid, kind, status, error, created_ns, started_ns, finished_ns, request_json,
           result_json, image_uuid, result_image_uuid, result_tag, image_size
    FROM operations)sql";

constexpr std::string_view kUnfinished = "status IN ('PENDING', 'ASSIGNED', 'EXECUTING')";

Result<OperationRecord> read_operation(const store::Statement& stmt) {
    auto kind = operation_kind_from_name(stmt.column_text(1));
    auto status = operation_status_from_name(stmt.column_text(2));
    if (!kind || !status) {
        return base::make_error(Code::kDataLoss, "operation '{}' has a corrupt kind or status",
                                stmt.column_text(0));
    }
    OperationRecord record{.uuid = stmt.column_text(0),
                           .kind = *kind,
                           .status = *status,
                           .error = stmt.column_optional_text(3),
                           .created_ns = stmt.column_int64(4),
                           .started_ns = stmt.column_optional_int64(5),
                           .finished_ns = stmt.column_optional_int64(6),
                           .request_json = stmt.column_text(7),
                           .result_json = stmt.column_optional_text(8),
                           .image_uuid = stmt.column_optional_text(9),
                           .result_image_uuid = stmt.column_optional_text(10),
                           .result_tag = stmt.column_optional_text(11)};
    if (const auto size = stmt.column_optional_int64(12)) {
        record.image_size = static_cast<uint64_t>(*size);
    }
    return record;
}

Result<std::vector<OperationRecord>> read_operations(store::Statement& stmt) {
    std::vector<OperationRecord> records;
    for (;;) {
        GROVE_ASSIGN_OR_RETURN(const bool row, stmt.step());
        if (!row) {
            return records;
        }
        GROVE_ASSIGN_OR_RETURN(auto record, read_operation(stmt));
        records.push_back(std::move(record));
    }
}

// Whether `uuid` exists and is unfinished, for the error of an update that changed no row.
Result<void> explain_no_change(OperationTable& table, std::string_view uuid) {
    GROVE_ASSIGN_OR_RETURN(const auto record, table.get(uuid));
    return base::make_error(Code::kFailedPrecondition, "operation '{}' is {} already", uuid,
                            operation_status_name(record.status));
}

}  // namespace

Result<void> OperationTable::insert(const OperationRecord& record) {
    if (!store::is_uuid(record.uuid)) {
        return base::make_error(Code::kInvalidArgument, "operation id '{}' is not a lowercase UUID",
                                record.uuid);
    }
    GROVE_ASSIGN_OR_RETURN(auto stmt, db_.prepare(R"sql(
        INSERT INTO operations (uuid, kind, status, error, created_ns, started_ns, finished_ns,
                                request_json, result_json, image_uuid, result_image_uuid,
                                result_tag, image_size)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13))sql"));
    std::optional<int64_t> size;
    if (record.image_size) {
        size = static_cast<int64_t>(*record.image_size);
    }
    return stmt.bind(1, record.uuid)
        .bind(2, operation_kind_name(record.kind))
        .bind(3, operation_status_name(record.status))
        .bind(4, record.error)
        .bind(5, record.created_ns)
        .bind(6, record.started_ns)
        .bind(7, record.finished_ns)
        .bind(8, record.request_json)
        .bind(9, record.result_json)
        .bind(10, record.image_uuid)
        .bind(11, record.result_image_uuid)
        .bind(12, record.result_tag)
        .bind(13, size)
        .run();
}

Result<OperationRecord> OperationTable::get(std::string_view uuid) {
    GROVE_ASSIGN_OR_RETURN(auto stmt, db_.prepare(std::string(kSelect) + " WHERE uuid = ?1"));
    stmt.bind(1, uuid);
    GROVE_ASSIGN_OR_RETURN(const bool row, stmt.step());
    if (!row) {
        return base::make_error(Code::kNotFound, "operation '{}' not found", uuid);
    }
    return read_operation(stmt);
}

Result<std::vector<OperationRecord>> OperationTable::list(const OperationFilter& filter) {
    // An unset filter binds NULL, which its condition lets through.
    GROVE_ASSIGN_OR_RETURN(auto stmt, db_.prepare(std::string(kSelect) + R"sql(
        WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR kind = ?2)
          AND (?3 IS NULL OR created_ns >= ?3) AND (?4 IS NULL OR created_ns < ?4)
        ORDER BY created_ns DESC, uuid LIMIT ?5 OFFSET ?6)sql"));
    std::optional<std::string_view> status;
    std::optional<std::string_view> kind;
    if (filter.status) {
        status = operation_status_name(*filter.status);
    }
    if (filter.kind) {
        kind = operation_kind_name(*filter.kind);
    }
    stmt.bind(1, status).bind(2, kind).bind(3, filter.since_ns).bind(4, filter.until_ns);
    // LIMIT -1 is SQLite's "no limit".
    stmt.bind(5, filter.limit ? static_cast<int64_t>(*filter.limit) : int64_t{-1});
    stmt.bind(6, static_cast<int64_t>(filter.offset));
    return read_operations(stmt);
}

Result<void> OperationTable::advance(std::string_view uuid,
                                     OperationStatus status,
                                     int64_t now_ns,
                                     const std::optional<std::string>& image_uuid) {
    if (status != OperationStatus::kAssigned && status != OperationStatus::kExecuting) {
        return base::make_error(Code::kInternal, "advance operation '{}' to {}", uuid,
                                operation_status_name(status));
    }
    const bool executing = status == OperationStatus::kExecuting;
    GROVE_ASSIGN_OR_RETURN(auto stmt, db_.prepare(fmt::format(R"sql(
        UPDATE operations
        SET status = ?2,
            started_ns = CASE WHEN ?3 THEN ?4 ELSE started_ns END,
            image_uuid = CASE WHEN ?3 THEN ?5 ELSE image_uuid END
        WHERE uuid = ?1 AND {})sql",
                                                              kUnfinished)));
    GROVE_TRY(stmt.bind(1, uuid)
                  .bind(2, operation_status_name(status))
                  .bind(3, int64_t{executing ? 1 : 0})
                  .bind(4, now_ns)
                  .bind(5, image_uuid)
                  .run());
    if (db_.changes() == 0) {
        return explain_no_change(*this, uuid);
    }
    return {};
}

Result<void> OperationTable::finish(std::string_view uuid,
                                    const OperationOutcome& outcome,
                                    int64_t now_ns) {
    if (!is_terminal(outcome.status)) {
        return base::make_error(Code::kInternal, "finish operation '{}' as {}", uuid,
                                operation_status_name(outcome.status));
    }
    GROVE_ASSIGN_OR_RETURN(auto stmt, db_.prepare(fmt::format(R"sql(
        UPDATE operations
        SET status = ?2, error = ?3, result_json = ?4, result_image_uuid = ?5, result_tag = ?6,
            image_size = ?7, finished_ns = ?8
        WHERE uuid = ?1 AND {})sql",
                                                              kUnfinished)));
    std::optional<int64_t> size;
    if (outcome.image_size) {
        size = static_cast<int64_t>(*outcome.image_size);
    }
    GROVE_TRY(stmt.bind(1, uuid)
                  .bind(2, operation_status_name(outcome.status))
                  .bind(3, outcome.error)
                  .bind(4, outcome.result_json)
                  .bind(5, outcome.result_image_uuid)
                  .bind(6, outcome.result_tag)
                  .bind(7, size)
                  .bind(8, now_ns)
                  .run());
    if (db_.changes() == 0) {
        return explain_no_change(*this, uuid);
    }
    return {};
}

Result<std::vector<OperationRecord>> OperationTable::unfinished() {
    GROVE_ASSIGN_OR_RETURN(
        auto stmt,
        db_.prepare(fmt::format("{} WHERE {} ORDER BY created_ns, uuid", kSelect, kUnfinished)));
    return read_operations(stmt);
}

}  // namespace grove::daemon
