/* store-private.h — what the files of the SQLite backend share.
 *
 * Nothing outside server/store/ includes this, except the store's own unit
 * test, which reads the commit counter to see group commit happen.
 */
#pragma once

#include <sqlite3.h>

#include "store.h"

G_BEGIN_DECLS

#define STORE_BUSY_TIMEOUT_MS 5000
#define STORE_PAGE_SIZE  1024
#define STORE_CACHE_KIB  32768   /* page cache (32 MiB): the hot index pages stay in memory */

typedef struct _StoreCheckpointer StoreCheckpointer;

struct _Store {
  sqlite3      *db;
  GHashTable   *statements;   /* SQL text (static, keyed by address) -> sqlite3_stmt* */
  int           schema_version;

  /* The thread that owns the connection once store_open() has returned. */
  GThread      *thread;
  GThread      *owner;        /* set by the thread itself; checked by store_stmt() */
  GMainContext *main_context; /* where done functions run */
  GAsyncQueue  *queue;        /* StoreJob*, then the close marker */
  gint          n_jobs;       /* atomic: queued or in the running batch */
  guint         n_commits;    /* atomic: transactions committed, for tests and benchmarks */

  StoreCheckpointer *checkpointer;   /* WAL checkpoints on their own thread */

  /* Only the store thread touches these after open. */
  gint64        last_seq;     /* single writer, so the counter can live in memory */
};

/* ---- store-checkpoint.c ---------------------------------------------------- */

StoreCheckpointer *store_checkpointer_start (Store *store, const char *path, GError **error);
void               store_checkpointer_stop  (StoreCheckpointer *checkpointer);

/* ---- store-sqlite.c: connection helpers ---------------------------------- */

/* A cached prepared statement. Declared with g_autoptr(StoreStmt), it is
 * reset and its bindings cleared when it goes out of scope, ready for reuse. */
typedef sqlite3_stmt StoreStmt;

static inline void
store_stmt_release (StoreStmt *stmt)
{
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (StoreStmt, store_stmt_release)

/* `sql` must be a string literal: the cache is keyed by its text and keeps
 * the pointer. `what` names the operation for the error message. */
StoreStmt *store_stmt (Store *store, const char *sql, const char *what, GError **error);

/* Sets a STORE_ERROR from the connection's last error: a unique or primary
 * key violation is STORE_ERROR_EXISTS, a foreign key one (a row that refers
 * to a missing user or group) STORE_ERROR_NOT_FOUND, anything else FAILED. */
void     store_set_error_from_db (Store *store, GError **error, const char *what);

/* sqlite3_step() expecting no row. */
gboolean store_step_done (Store *store, StoreStmt *stmt, const char *what, GError **error);
/* sqlite3_step(): 1 for a row, 0 when done, -1 with `error` set. */
int      store_step_row  (Store *store, StoreStmt *stmt, const char *what, GError **error);

/* Runs SQL without results (sqlite3_exec). */
gboolean store_exec (Store *store, const char *sql, const char *what, GError **error);
/* The same for one statement run often (a static string): prepared once. */
gboolean store_exec_prepared (Store *store, const char *sql, const char *what, GError **error);

/* A column as a new string, "" for NULL. */
char    *store_column_dup   (StoreStmt *stmt, int column);
/* A column as new bytes, empty for NULL. */
GBytes  *store_column_bytes (StoreStmt *stmt, int column);
/* Binds text or bytes without copying: the caller keeps them alive until
 * the statement has been stepped. NULL text binds "". */
int      store_bind_text  (StoreStmt *stmt, int index, const char *text);
int      store_bind_bytes (StoreStmt *stmt, int index, GBytes *bytes);

/* ---- store-schema.c ------------------------------------------------------ */

/* Brings the schema to the newest version; STORE_ERROR_SCHEMA when the file
 * is newer than this program. Sets store->schema_version. */
gboolean store_schema_migrate (Store *store, GError **error);

/* ---- store-thread.c ------------------------------------------------------ */

gboolean store_thread_start (Store *store, GError **error);
/* Queues the close marker, lets the jobs before it run, and joins. */
void     store_thread_stop  (Store *store);

/* Transactions committed so far. */
guint    store_commit_count (Store *store);

/* ---- store-messages.c ---------------------------------------------------- */

/* Reads MAX(seq) so new messages continue the sequence. */
gboolean store_messages_load_seq (Store *store, GError **error);

G_END_DECLS
