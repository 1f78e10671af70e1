#pragma once

// Turns SQLite result codes into grove Errors, so callers branch on a Code and never on SQLite's
// numbering. The table:
//   SQLITE_CONSTRAINT_UNIQUE, _PRIMARYKEY -> AlreadyExists (the row the caller adds exists)
//   any other SQLITE_CONSTRAINT           -> FailedPrecondition (a foreign key, CHECK, NOT NULL)
//   SQLITE_BUSY, SQLITE_LOCKED            -> Unavailable (another writer outlasted busy_timeout)
//   SQLITE_CORRUPT, SQLITE_NOTADB         -> DataLoss
//   SQLITE_FULL                           -> ResourceExhausted
//   SQLITE_CANTOPEN, SQLITE_IOERR         -> the Code of the errno behind them, if SQLite saw one
//   anything else                         -> Internal

#include <string_view>

#include <grove/error.hpp>

struct sqlite3;

namespace grove::store {

// `extended_rc` is an extended result code (the connection has extended codes on).
Code code_from_sqlite(int extended_rc, int sys_errno);

// "<what>: <sqlite3_errmsg(db)>"; call it right after the failing call, before `db` is used
// again. `db` may be null (a failed open), and then sqlite3_errstr(rc) is the message.
Error sqlite_error(sqlite3* db, int rc, std::string_view what);

}  // namespace grove::store
