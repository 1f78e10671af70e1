#include "store/metadata/sqlite_error.hpp"

#include <sqlite3.h>

#include "base/error.hpp"

namespace grove::store {

Code code_from_sqlite(int extended_rc, int sys_errno) {
    switch (extended_rc) {
        case SQLITE_CONSTRAINT_UNIQUE:
        case SQLITE_CONSTRAINT_PRIMARYKEY:
            return Code::kAlreadyExists;
        default:
            break;
    }
    switch (extended_rc & 0xff) {
        case SQLITE_CONSTRAINT:
            return Code::kFailedPrecondition;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            return Code::kUnavailable;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
            return Code::kDataLoss;
        case SQLITE_FULL:
            return Code::kResourceExhausted;
        case SQLITE_CANTOPEN:
        case SQLITE_IOERR:
            // A missing store directory or a read-only disk is the caller's to fix, not a bug.
            return sys_errno != 0 ? base::code_from_errno(sys_errno) : Code::kInternal;
        default:
            return Code::kInternal;
    }
}

Error sqlite_error(sqlite3* db, int rc, std::string_view what) {
    const int extended = db != nullptr ? sqlite3_extended_errcode(db) : rc;
    const int sys_errno = db != nullptr ? sqlite3_system_errno(db) : 0;
    const int primary = extended & 0xff;
    // Only I/O failures carry a meaningful errno; elsewhere it is stale from an earlier call.
    const int cause = primary == SQLITE_CANTOPEN || primary == SQLITE_IOERR ? sys_errno : 0;
    const char* text = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    return Error(code_from_sqlite(extended, cause), fmt::format("{}: {}", what, text), cause);
}

}  // namespace grove::store
