/* voip-sqlite.h — the SQLite plumbing that voip-server's store and voipd's
 * cache share: opening a private WAL database with its pragmas, schema
 * migrations by user_version, a cache of prepared statements, transactions
 * and errors as GError.
 *
 * It depends on GLib and SQLite only (never on server/ or daemon/). A
 * VoipSqlite is used by one thread at a time: it may be opened on one thread
 * and handed to another (a store or cache thread) that alone uses it from
 * then on. Errors are in the G_IO_ERROR domain: G_IO_ERROR_EXISTS for a
 * unique or primary key conflict, G_IO_ERROR_BUSY for a lock held too long,
 * G_IO_ERROR_NO_SPACE for a full disk, G_IO_ERROR_NOT_SUPPORTED for a schema
 * newer than the program (or a negative user_version, which none of ours
 * writes), G_IO_ERROR_FAILED otherwise.
 */
#pragma once

#include <gio/gio.h>
#include <sqlite3.h>

G_BEGIN_DECLS

typedef struct _VoipSqlite VoipSqlite;

typedef struct {
  /* Step i brings the file from user_version i to i + 1, in one transaction
   * with the bump. A released step is never edited. */
  const char *const *migrations;
  guint              n_migrations;
  /* How long a statement waits for another connection's lock before it
   * fails with G_IO_ERROR_BUSY; 0 fails at once. */
  guint              busy_timeout_ms;
  /* Applies to a new file only (before WAL is on); 0 keeps SQLite's. */
  guint              page_size;
  /* The page cache in KiB; 0 keeps SQLite's. */
  guint              cache_kib;
  /* synchronous=FULL for every commit (the server: an acknowledged message
   * survives power loss). FALSE: NORMAL, where a commit survives a crash of
   * the process but maybe not of the machine; voip_sqlite_commit_durable()
   * then makes one commit FULL. */
  gboolean           synchronous_full;
  /* For logs and errors: "the cache", "the database". */
  const char        *what;
} VoipSqliteOptions;

/* Creates the file 0600 whatever the umask (and tightens an existing one,
 * and its -wal and -shm, that others could read), opens it read-write,
 * switches to WAL, applies the options and the pending migrations. */
VoipSqlite *voip_sqlite_open  (const char *path, const VoipSqliteOptions *options,
                               GError **error);
/* Runs PRAGMA optimize, finalizes the statements and closes. NULL is a no-op. */
void        voip_sqlite_close (VoipSqlite *db);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VoipSqlite, voip_sqlite_close)

sqlite3    *voip_sqlite_get_handle         (VoipSqlite *db);
int         voip_sqlite_get_schema_version (VoipSqlite *db);
const char *voip_sqlite_get_path           (VoipSqlite *db);

/* Sets `error` from the connection's last failure: "WHAT: sqlite's message". */
void        voip_sqlite_set_error (VoipSqlite *db, GError **error, const char *what);
GIOErrorEnum voip_sqlite_io_error (int extended_code);

/* ---- statements ---------------------------------------------------------- */

/* A cached prepared statement. Declared with g_autoptr(VoipSqliteStmt), it is
 * reset and its bindings cleared when it goes out of scope, ready for reuse
 * (and holding no read transaction open). */
typedef sqlite3_stmt VoipSqliteStmt;

void        voip_sqlite_stmt_release (VoipSqliteStmt *stmt);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VoipSqliteStmt, voip_sqlite_stmt_release)

/* Prepared once per connection and kept, keyed by the ADDRESS of `sql`,
 * which must therefore be a string literal (or otherwise static). */
VoipSqliteStmt *voip_sqlite_stmt (VoipSqlite *db, const char *sql, const char *what,
                                  GError **error);
/* sqlite3_step() of a statement that writes: TRUE when done. */
gboolean    voip_sqlite_step_done (VoipSqlite *db, VoipSqliteStmt *stmt, const char *what,
                                   GError **error);
/* sqlite3_step() of a query: 1 for a row, 0 when done, -1 with `error` set. */
int         voip_sqlite_step_row  (VoipSqlite *db, VoipSqliteStmt *stmt, const char *what,
                                   GError **error);
/* SQL run once, possibly several statements (not cached). */
gboolean    voip_sqlite_exec      (VoipSqlite *db, const char *sql, const char *what,
                                   GError **error);
/* One static statement, cached, stepped to the end. */
gboolean    voip_sqlite_exec_prepared (VoipSqlite *db, const char *sql, const char *what,
                                       GError **error);

/* Text bound without copying (SQLITE_STATIC): keep it alive until the step.
 * NULL binds "" (text columns are NOT NULL). */
int         voip_sqlite_bind_text  (VoipSqliteStmt *stmt, int index, const char *text);
/* An empty or NULL value binds an empty blob, never SQL NULL. */
int         voip_sqlite_bind_bytes (VoipSqliteStmt *stmt, int index, GBytes *bytes);
/* NULL reads as "". */
char       *voip_sqlite_column_dup   (VoipSqliteStmt *stmt, int column);
GBytes     *voip_sqlite_column_bytes (VoipSqliteStmt *stmt, int column);

/* ---- transactions -------------------------------------------------------- */

/* BEGIN IMMEDIATE: the write lock up front, so a transaction never fails
 * half-way for want of it. */
gboolean    voip_sqlite_begin    (VoipSqlite *db, const char *what, GError **error);
/* The same, and the transaction commits with synchronous=FULL: once
 * voip_sqlite_commit() returns, it and every commit before it are on disk
 * (the WAL is synced). SQLite takes the level only outside a transaction,
 * hence at the start. */
gboolean    voip_sqlite_begin_durable (VoipSqlite *db, const char *what, GError **error);
/* COMMIT; on failure rolls back. */
gboolean    voip_sqlite_commit   (VoipSqlite *db, const char *what, GError **error);
/* A no-op outside a transaction (after some errors SQLite already rolled
 * back). */
void        voip_sqlite_rollback (VoipSqlite *db);
gboolean    voip_sqlite_in_transaction (VoipSqlite *db);

/* How many transactions this connection committed (each a write to the WAL,
 * and with synchronous=FULL an fsync): for tests and statistics. */
guint64     voip_sqlite_get_commits (VoipSqlite *db);

G_END_DECLS
