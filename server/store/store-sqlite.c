/* store-sqlite.c — the SQLite backend: opening and closing the database,
 * its transaction steps, and the small helpers every other file of the
 * backend uses to talk to it.
 *
 * The connection is opened and migrated on the caller's thread, then handed
 * to the store thread (store-thread.c), which alone uses it from then on.
 */
#define G_LOG_DOMAIN "voip-store"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store-private.h"

static void
finalize_statement (gpointer stmt)
{
  sqlite3_finalize (stmt);
}

/* Also after a failed open, with whatever it got to. */
static void
sqlite_close (Store *store)
{
  /* Lets SQLite refresh the planner statistics it finds stale; cheap, and
   * keeps the plans good as the tables grow. */
  if (store->db != NULL && store->schema_version > 0 &&
      sqlite3_exec (store->db, "PRAGMA optimize", NULL, NULL, NULL) != SQLITE_OK)
    g_debug ("PRAGMA optimize: %s", sqlite3_errmsg (store->db));

  if (store->db != NULL)
    sqlite3_wal_hook (store->db, NULL, NULL);
  g_clear_pointer (&store->checkpointer, store_checkpointer_stop);
  /* Statements first: sqlite3_close() refuses a connection with live ones. */
  g_clear_pointer (&store->statements, g_hash_table_unref);
  if (store->db != NULL)
    sqlite3_close (g_steal_pointer (&store->db));
}

/* A pragma that answers with one text row, such as journal_mode. */
static char *
query_pragma (Store *store, const char *sql, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  char *value = NULL;

  if (sqlite3_prepare_v2 (store->db, sql, -1, &stmt, NULL) != SQLITE_OK)
    {
      store_set_error_from_db (store, error, sql);
      return NULL;
    }
  if (sqlite3_step (stmt) == SQLITE_ROW)
    value = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  else
    store_set_error_from_db (store, error, sql);
  sqlite3_finalize (stmt);
  return value;
}

static gboolean
configure_connection (Store *store, GError **error)
{
  g_autofree char *journal_mode = NULL;

  sqlite3_extended_result_codes (store->db, 1);
  sqlite3_busy_timeout (store->db, STORE_BUSY_TIMEOUT_MS);

  /* Small pages: a batch of messages dirties one leaf page per conversation
   * in each index, and every dirty page is written to the WAL whole, so
   * 1 KiB pages write a quarter of what 4 KiB pages do. Only a new database
   * takes it (before WAL is switched on). */
  if (!store_exec (store, "PRAGMA page_size=" G_STRINGIFY (STORE_PAGE_SIZE),
                   "opening the database", error))
    return FALSE;

  /* WAL: readers never block the writer, and a commit is one append + fsync. */
  journal_mode = query_pragma (store, "PRAGMA journal_mode=WAL", error);
  if (journal_mode == NULL)
    return FALSE;
  if (g_ascii_strcasecmp (journal_mode, "wal") != 0)
    {
      g_set_error (error, STORE_ERROR, STORE_ERROR_FAILED,
                   "opening the database: cannot switch to WAL (journal mode is %s)",
                   journal_mode);
      return FALSE;
    }

  /* FULL, not NORMAL: in WAL mode NORMAL survives a crash of the process but
   * may lose the last commits on power loss, and a message we acknowledged
   * must not be lost. Group commit keeps the fsync count low. */
  return store_exec (store, "PRAGMA synchronous=FULL", "opening the database", error) &&
         store_exec (store, "PRAGMA cache_size=-" G_STRINGIFY (STORE_CACHE_KIB),
                     "opening the database", error) &&
         store_exec (store, "PRAGMA foreign_keys=ON", "opening the database", error);
}

/* Owner only: the database holds password hashes and every message. */
#define STORE_FILE_MODE 0600

/* Makes `path` (if it exists) private to its owner. FALSE with errno set
 * when it exists but cannot be opened or changed. */
static gboolean
tighten_mode (const char *path, int flags, gboolean *changed)
{
  struct stat st;
  int fd = g_open (path, flags | O_CLOEXEC, STORE_FILE_MODE);
  gboolean ok = TRUE;

  *changed = FALSE;
  if (fd < 0)
    return errno == ENOENT && (flags & O_CREAT) == 0;
  if (fstat (fd, &st) != 0)
    ok = FALSE;
  else if ((st.st_mode & 077) != 0)
    {
      ok = fchmod (fd, st.st_mode & 0700) == 0;
      *changed = ok;
    }
  if (!ok)
    {
      int saved = errno;

      close (fd);
      errno = saved;
      return FALSE;
    }
  close (fd);
  return TRUE;
}

/* SQLite creates the database 0644 under the usual umask 022, and gives
 * -wal and -shm the mode of the database file. Creating the database
 * ourselves, 0600 whatever the umask, therefore covers all three files.
 *
 * An existing database with group or world bits (made by an older version,
 * or by hand) is tightened rather than refused: refusing would take the
 * service down on upgrade, and leaving it would keep every password hash
 * readable by any local user. A -wal or -shm left by a crash gets the same
 * treatment, since SQLite reuses them as they are. */
static gboolean
make_files_private (const char *path, GError **error)
{
  const char *const suffixes[] = { "", "-wal", "-shm" };

  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *file = g_strconcat (path, suffixes[i], NULL);
      gboolean changed;

      /* Only the database itself is created here; SQLite makes the others. */
      if (!tighten_mode (file, i == 0 ? O_RDWR | O_CREAT : O_RDWR, &changed))
        {
          int saved = errno;

          g_set_error (error, STORE_ERROR, STORE_ERROR_FAILED, "opening the database %s: %s",
                       file, g_strerror (saved));
          return FALSE;
        }
      if (changed)
        g_message ("%s was readable by others; its mode is now owner-only", file);
    }
  return TRUE;
}

static gboolean
sqlite_open (Store *store, const char *path, GError **error)
{
  int rc;

  /* The connection moves between threads (opened here, used by the store
   * thread), which needs a library built thread-safe. */
  if (!sqlite3_threadsafe ())
    {
      g_set_error (error, STORE_ERROR, STORE_ERROR_FAILED,
                   "opening the database: SQLite was built without thread support");
      return FALSE;
    }

  /* Keyed by the address of the (static) SQL text: no hashing of long strings
   * on every query. */
  store->statements = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL,
                                             finalize_statement);

  if (!make_files_private (path, error))
    return FALSE;

  /* NOMUTEX: one thread uses the connection at a time, so SQLite's own
   * locking would only cost. */
  rc = sqlite3_open_v2 (path, &store->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, STORE_ERROR, STORE_ERROR_FAILED, "opening the database %s: %s",
                   path, store->db != NULL ? sqlite3_errmsg (store->db) : sqlite3_errstr (rc));
      return FALSE;
    }

  if (!configure_connection (store, error) ||
      !store_schema_migrate (store, error) ||
      !store_messages_load_seq (store, error) ||
      !(store->checkpointer = store_checkpointer_start (store, path, error)))
    {
      g_prefix_error (error, "%s: ", path);
      return FALSE;
    }

  g_debug ("opened %s (schema version %d)", path, store->schema_version);
  return TRUE;
}

/* BEGIN IMMEDIATE: the store thread is the only writer, so taking the write
 * lock at once costs nothing and a batch never fails half-way on a lock. */
static gboolean
sqlite_txn (Store *store, StoreTxn step, GError **error)
{
  switch (step)
    {
    case STORE_TXN_BEGIN:
      return store_exec_prepared (store, "BEGIN IMMEDIATE", "starting a transaction", error);
    case STORE_TXN_SAVEPOINT:
      return store_exec_prepared (store, "SAVEPOINT job", "starting a job", error);
    case STORE_TXN_RELEASE:
      return store_exec_prepared (store, "RELEASE job", "finishing a job", error);
    case STORE_TXN_ROLLBACK_TO:
      return store_exec_prepared (store, "ROLLBACK TO job", "rolling back a job", error);
    case STORE_TXN_COMMIT:
      return store_exec_prepared (store, "COMMIT", "committing", error);
    case STORE_TXN_ROLLBACK:
      if (!sqlite3_get_autocommit (store->db))
        sqlite3_exec (store->db, "ROLLBACK", NULL, NULL, NULL);
      return TRUE;
    }
  g_assert_not_reached ();
}

static gboolean
sqlite_in_transaction (Store *store)
{
  return !sqlite3_get_autocommit (store->db);
}

const StoreBackend store_sqlite_backend = {
  .name = "sqlite",
  .open = sqlite_open,
  .close = sqlite_close,
  .txn = sqlite_txn,
  .in_transaction = sqlite_in_transaction,
  .user_create = store_sqlite_user_create,
  .user_find = store_sqlite_user_find,
  .user_find_any = store_sqlite_user_find_any,
  .user_get = store_sqlite_user_get,
  .user_set_password = store_sqlite_user_set_password,
  .user_delete = store_sqlite_user_delete,
  .profile_get = store_sqlite_profile_get,
  .profile_set = store_sqlite_profile_set,
  .token_add = store_sqlite_token_add,
  .token_find = store_sqlite_token_find,
  .token_delete = store_sqlite_token_delete,
  .token_delete_others = store_sqlite_token_delete_others,
  .contact_state = store_sqlite_contact_state,
  .contact_request = store_sqlite_contact_request,
  .contact_befriend = store_sqlite_contact_befriend,
  .contact_unlink = store_sqlite_contact_unlink,
  .contact_friends = store_sqlite_contact_friends,
  .contact_pending = store_sqlite_contact_pending,
  .group_create = store_sqlite_group_create,
  .group_get = store_sqlite_group_get,
  .group_is_member = store_sqlite_group_is_member,
  .group_list_for_user = store_sqlite_group_list_for_user,
  .group_add_member = store_sqlite_group_add_member,
  .group_remove_member = store_sqlite_group_remove_member,
  .group_set_owner = store_sqlite_group_set_owner,
  .group_rename = store_sqlite_group_rename,
  .group_delete = store_sqlite_group_delete,
  .message_insert = store_sqlite_message_insert,
  .message_get = store_sqlite_message_get,
  .message_edit = store_sqlite_message_edit,
  .message_delete = store_sqlite_message_delete,
  .message_history = store_sqlite_message_history,
  .message_sync = store_sqlite_message_sync,
};

/* ---- helpers ------------------------------------------------------------- */

void
store_set_error_from_db (Store *store, GError **error, const char *what)
{
  int code = sqlite3_extended_errcode (store->db);
  StoreError store_code;

  switch (code)
    {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      store_code = STORE_ERROR_EXISTS;
      break;
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      store_code = STORE_ERROR_NOT_FOUND;
      break;
    default:
      store_code = STORE_ERROR_FAILED;
      break;
    }

  g_set_error (error, STORE_ERROR, store_code, "%s: %s", what, sqlite3_errmsg (store->db));
}

StoreStmt *
store_stmt (Store *store, const char *sql, const char *what, GError **error)
{
  sqlite3_stmt *stmt;

  /* Every query runs inside a job's savepoint; a call from elsewhere is a
   * bug in the caller, not a database failure. */
  g_return_val_if_fail (store->owner == NULL || store->owner == g_thread_self (), NULL);

  stmt = g_hash_table_lookup (store->statements, sql);
  if (stmt != NULL)
    return stmt;

  /* PERSISTENT: these live as long as the connection, so SQLite may keep
   * them out of its short-lived lookaside memory. */
  if (sqlite3_prepare_v3 (store->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) != SQLITE_OK)
    {
      store_set_error_from_db (store, error, what);
      return NULL;
    }
  g_hash_table_insert (store->statements, (gpointer) sql, stmt);
  return stmt;
}

gboolean
store_step_done (Store *store, StoreStmt *stmt, const char *what, GError **error)
{
  int rc = sqlite3_step (stmt);

  if (rc == SQLITE_DONE || rc == SQLITE_ROW)
    return TRUE;
  store_set_error_from_db (store, error, what);
  return FALSE;
}

int
store_step_row (Store *store, StoreStmt *stmt, const char *what, GError **error)
{
  int rc = sqlite3_step (stmt);

  if (rc == SQLITE_ROW)
    return 1;
  if (rc == SQLITE_DONE)
    return 0;
  store_set_error_from_db (store, error, what);
  return -1;
}

gboolean
store_exec (Store *store, const char *sql, const char *what, GError **error)
{
  char *message = NULL;

  if (sqlite3_exec (store->db, sql, NULL, NULL, &message) == SQLITE_OK)
    return TRUE;

  /* sqlite3_exec's message is more precise than errmsg for multi-statement
   * SQL (it names the failing statement's problem). */
  g_set_error (error, STORE_ERROR,
               sqlite3_extended_errcode (store->db) == SQLITE_CONSTRAINT_UNIQUE
                 ? STORE_ERROR_EXISTS : STORE_ERROR_FAILED,
               "%s: %s", what, message != NULL ? message : sqlite3_errmsg (store->db));
  sqlite3_free (message);
  return FALSE;
}

gboolean
store_exec_prepared (Store *store, const char *sql, const char *what, GError **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt (store, sql, what, error);

  return stmt != NULL && store_step_done (store, stmt, what, error);
}

char *
store_column_dup (StoreStmt *stmt, int column)
{
  const char *text = (const char *) sqlite3_column_text (stmt, column);

  return g_strdup (text != NULL ? text : "");
}

GBytes *
store_column_bytes (StoreStmt *stmt, int column)
{
  /* blob before bytes, as the SQLite documentation asks. */
  const void *data = sqlite3_column_blob (stmt, column);
  int size = sqlite3_column_bytes (stmt, column);

  if (data == NULL || size <= 0)
    return g_bytes_new (NULL, 0);
  return g_bytes_new (data, size);
}

int
store_bind_text (StoreStmt *stmt, int index, const char *text)
{
  return sqlite3_bind_text (stmt, index, text != NULL ? text : "", -1, SQLITE_STATIC);
}

int
store_bind_bytes (StoreStmt *stmt, int index, GBytes *bytes)
{
  gsize size = 0;
  gconstpointer data = bytes != NULL ? g_bytes_get_data (bytes, &size) : NULL;

  /* A NULL pointer would bind SQL NULL; an empty value must stay a blob. */
  if (size == 0)
    return sqlite3_bind_zeroblob (stmt, index, 0);
  return sqlite3_bind_blob64 (stmt, index, data, size, SQLITE_STATIC);
}
