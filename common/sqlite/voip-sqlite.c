/* voip-sqlite.c — see voip-sqlite.h.
 *
 * What the server store and the daemon cache each wrote once: the open
 * sequence (a private file, WAL, pragmas, migrations), statement caching
 * keyed by the address of static SQL, and transaction steps. Each caller
 * keeps its own schema and queries.
 */
#define G_LOG_DOMAIN "voip-sqlite"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "voip-sqlite.h"

/* Owner only: both databases hold private messages (and the server's,
 * password hashes). */
#define VOIP_SQLITE_FILE_MODE 0600

struct _VoipSqlite {
  sqlite3    *db;
  GHashTable *statements;   /* SQL text (static, keyed by address) -> sqlite3_stmt* */
  char       *path;
  char       *what;
  int         schema_version;
  gboolean    synchronous_full;
  gboolean    durable_txn;     /* FULL for the transaction under way only */
  guint64     commits;
};

/* ---- helpers -------------------------------------------------------------- */

GIOErrorEnum
voip_sqlite_io_error (int code)
{
  switch (code)
    {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return G_IO_ERROR_EXISTS;
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      return G_IO_ERROR_NOT_FOUND;
    default:
      break;
    }

  switch (code & 0xff)
    {
    case SQLITE_FULL:
      return G_IO_ERROR_NO_SPACE;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return G_IO_ERROR_BUSY;
    case SQLITE_READONLY:
      return G_IO_ERROR_READ_ONLY;
    case SQLITE_PERM:
    case SQLITE_AUTH:
    case SQLITE_CANTOPEN:
      return G_IO_ERROR_PERMISSION_DENIED;
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return G_IO_ERROR_INVALID_DATA;
    default:
      return G_IO_ERROR_FAILED;
    }
}

void
voip_sqlite_set_error (VoipSqlite *db, GError **error, const char *what)
{
  g_set_error (error, G_IO_ERROR, voip_sqlite_io_error (sqlite3_extended_errcode (db->db)),
               "%s: %s", what, sqlite3_errmsg (db->db));
}

static void
finalize_statement (gpointer stmt)
{
  sqlite3_finalize (stmt);
}

static int
on_commit (void *user_data)
{
  VoipSqlite *db = user_data;

  db->commits++;
  return 0;   /* 0: let it commit */
}

/* A pragma that answers with one row, such as journal_mode. */
static char *
query_pragma (VoipSqlite *db, const char *sql, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  char *value = NULL;

  if (sqlite3_prepare_v2 (db->db, sql, -1, &stmt, NULL) != SQLITE_OK)
    {
      voip_sqlite_set_error (db, error, sql);
      return NULL;
    }
  if (sqlite3_step (stmt) == SQLITE_ROW)
    value = voip_sqlite_column_dup (stmt, 0);
  else
    voip_sqlite_set_error (db, error, sql);
  sqlite3_finalize (stmt);
  return value;
}

/* Makes `path` (if it exists) private to its owner. FALSE with errno set
 * when it exists but cannot be opened or changed. */
static gboolean
tighten_mode (const char *path, int flags, gboolean *changed)
{
  struct stat st;
  int fd = g_open (path, flags | O_CLOEXEC, VOIP_SQLITE_FILE_MODE);
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
 * An existing file with group or world bits (an older version, a copy by
 * hand, a -wal left by a crash) is tightened rather than refused: refusing
 * would break an upgrade, leaving it would keep it readable. */
static gboolean
make_files_private (const char *path, const char *what, GError **error)
{
  const char *const suffixes[] = { "", "-wal", "-shm" };

  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *file = g_strconcat (path, suffixes[i], NULL);
      gboolean changed;

      if (!tighten_mode (file, i == 0 ? O_RDWR | O_CREAT : O_RDWR, &changed))
        {
          int saved = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "opening %s %s: %s",
                       what, file, g_strerror (saved));
          return FALSE;
        }
      if (changed)
        g_message ("%s was readable by others; its mode is now owner-only", file);
    }
  return TRUE;
}

static gboolean
configure (VoipSqlite *db, const VoipSqliteOptions *options, GError **error)
{
  g_autofree char *what = g_strdup_printf ("opening %s", db->what);
  g_autofree char *journal_mode = NULL;
  g_autofree char *page_size = NULL;
  g_autofree char *cache_size = NULL;

  sqlite3_extended_result_codes (db->db, 1);
  sqlite3_busy_timeout (db->db, (int) MIN (options->busy_timeout_ms, G_MAXINT));

  /* Only a new file takes a page size, and only before WAL is on. */
  if (options->page_size != 0)
    {
      page_size = g_strdup_printf ("PRAGMA page_size=%u", options->page_size);
      if (!voip_sqlite_exec (db, page_size, what, error))
        return FALSE;
    }

  /* WAL: readers never block the writer, and a commit is one append. */
  journal_mode = query_pragma (db, "PRAGMA journal_mode=WAL", error);
  if (journal_mode == NULL)
    {
      g_prefix_error (error, "%s: ", what);
      return FALSE;
    }
  if (g_ascii_strcasecmp (journal_mode, "wal") != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "%s: cannot switch to WAL (journal mode is %s)", what, journal_mode);
      return FALSE;
    }

  if (options->cache_kib != 0)
    {
      cache_size = g_strdup_printf ("PRAGMA cache_size=-%u", options->cache_kib);
      if (!voip_sqlite_exec (db, cache_size, what, error))
        return FALSE;
    }

  db->synchronous_full = options->synchronous_full;
  return voip_sqlite_exec (db, db->synchronous_full ? "PRAGMA synchronous=FULL"
                                                    : "PRAGMA synchronous=NORMAL",
                           what, error) &&
         voip_sqlite_exec (db, "PRAGMA foreign_keys=ON", what, error);
}

/* Each step runs in one transaction with its user_version bump, so a crash
 * leaves the file at one version or the next, never in between. */
static gboolean
apply_migration (VoipSqlite *db, const VoipSqliteOptions *options, int version,
                 GError **error)
{
  g_autofree char *bump = g_strdup_printf ("PRAGMA user_version = %d", version + 1);
  g_autofree char *what = g_strdup_printf ("migrating %s to schema version %d", db->what,
                                           version + 1);

  if (!voip_sqlite_exec (db, "BEGIN IMMEDIATE", what, error))
    return FALSE;
  if (!voip_sqlite_exec (db, options->migrations[version], what, error) ||
      !voip_sqlite_exec (db, bump, what, error) ||
      !voip_sqlite_exec (db, "COMMIT", what, error))
    {
      voip_sqlite_rollback (db);
      return FALSE;
    }
  g_message ("%s migrated to schema version %d", db->what, version + 1);
  return TRUE;
}

static gboolean
migrate (VoipSqlite *db, const VoipSqliteOptions *options, GError **error)
{
  const int latest = (int) options->n_migrations;
  g_autofree char *text = query_pragma (db, "PRAGMA user_version", error);
  int version;

  if (text == NULL)
    {
      g_prefix_error (error, "reading the schema version of %s: ", db->what);
      return FALSE;
    }
  version = (int) g_ascii_strtoll (text, NULL, 10);

  /* An older program after a newer one: guessing at a schema it does not
   * know could lose data. */
  if (version > latest)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "opening %s: its schema version %d is newer than this program knows (%d)",
                   db->what, version, latest);
      return FALSE;
    }
  /* Not ours either (no release writes one): the same refusal. */
  if (version < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "opening %s: invalid schema version %d", db->what, version);
      return FALSE;
    }
  for (; version < latest; version++)
    if (!apply_migration (db, options, version, error))
      return FALSE;
  db->schema_version = version;
  return TRUE;
}

/* ---- opening and closing ---------------------------------------------------- */

VoipSqlite *
voip_sqlite_open (const char *path, const VoipSqliteOptions *options, GError **error)
{
  g_autoptr(VoipSqlite) db = NULL;
  int rc;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (options != NULL, NULL);
  g_return_val_if_fail (options->n_migrations == 0 || options->migrations != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  db = g_new0 (VoipSqlite, 1);
  db->path = g_strdup (path);
  db->what = g_strdup (options->what != NULL ? options->what : "the database");
  db->statements = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL,
                                          finalize_statement);

  /* The connection may move between threads (opened on one, used by a
   * worker), which needs a library built thread-safe. */
  if (!sqlite3_threadsafe ())
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "opening %s: SQLite was built without thread support", db->what);
      return NULL;
    }
  if (!make_files_private (path, db->what, error))
    return NULL;

  /* NOMUTEX: one thread uses the connection at a time, so SQLite's own
   * locking would only cost. */
  rc = sqlite3_open_v2 (path, &db->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, G_IO_ERROR, voip_sqlite_io_error (rc), "opening %s %s: %s",
                   db->what, path, db->db != NULL ? sqlite3_errmsg (db->db) : sqlite3_errstr (rc));
      return NULL;
    }
  sqlite3_commit_hook (db->db, on_commit, db);

  if (!configure (db, options, error) || !migrate (db, options, error))
    {
      g_prefix_error (error, "%s: ", path);
      return NULL;
    }
  g_debug ("opened %s (schema version %d)", path, db->schema_version);
  return g_steal_pointer (&db);
}

void
voip_sqlite_close (VoipSqlite *db)
{
  if (db == NULL)
    return;

  /* Lets SQLite refresh planner statistics it finds stale; cheap, and keeps
   * the plans good as the tables grow. */
  if (db->db != NULL && db->schema_version > 0
      && sqlite3_exec (db->db, "PRAGMA optimize", NULL, NULL, NULL) != SQLITE_OK)
    g_debug ("PRAGMA optimize: %s", sqlite3_errmsg (db->db));
  /* Statements first: sqlite3_close() refuses a connection with live ones. */
  g_clear_pointer (&db->statements, g_hash_table_unref);
  if (db->db != NULL && sqlite3_close (db->db) != SQLITE_OK)
    g_warning ("closing %s: %s", db->path, sqlite3_errmsg (db->db));
  g_free (db->path);
  g_free (db->what);
  g_free (db);
}

sqlite3 *
voip_sqlite_get_handle (VoipSqlite *db)
{
  return db->db;
}

int
voip_sqlite_get_schema_version (VoipSqlite *db)
{
  return db->schema_version;
}

const char *
voip_sqlite_get_path (VoipSqlite *db)
{
  return db->path;
}

guint64
voip_sqlite_get_commits (VoipSqlite *db)
{
  return db->commits;
}

/* ---- statements ---------------------------------------------------------------- */

void
voip_sqlite_stmt_release (VoipSqliteStmt *stmt)
{
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
}

VoipSqliteStmt *
voip_sqlite_stmt (VoipSqlite *db, const char *sql, const char *what, GError **error)
{
  sqlite3_stmt *stmt = g_hash_table_lookup (db->statements, sql);

  if (stmt != NULL)
    return stmt;

  /* PERSISTENT: these live as long as the connection, so SQLite keeps them
   * out of its short-lived lookaside memory. */
  if (sqlite3_prepare_v3 (db->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) != SQLITE_OK)
    {
      voip_sqlite_set_error (db, error, what);
      return NULL;
    }
  g_hash_table_insert (db->statements, (gpointer) sql, stmt);
  return stmt;
}

gboolean
voip_sqlite_step_done (VoipSqlite *db, VoipSqliteStmt *stmt, const char *what, GError **error)
{
  int rc = sqlite3_step (stmt);

  if (rc == SQLITE_DONE || rc == SQLITE_ROW)
    return TRUE;
  voip_sqlite_set_error (db, error, what);
  return FALSE;
}

int
voip_sqlite_step_row (VoipSqlite *db, VoipSqliteStmt *stmt, const char *what, GError **error)
{
  int rc = sqlite3_step (stmt);

  if (rc == SQLITE_ROW)
    return 1;
  if (rc == SQLITE_DONE)
    return 0;
  voip_sqlite_set_error (db, error, what);
  return -1;
}

gboolean
voip_sqlite_exec (VoipSqlite *db, const char *sql, const char *what, GError **error)
{
  char *message = NULL;

  if (sqlite3_exec (db->db, sql, NULL, NULL, &message) == SQLITE_OK)
    return TRUE;

  /* sqlite3_exec's message names the failing statement's problem, which
   * errmsg does not for multi-statement SQL. */
  g_set_error (error, G_IO_ERROR, voip_sqlite_io_error (sqlite3_extended_errcode (db->db)),
               "%s: %s", what, message != NULL ? message : sqlite3_errmsg (db->db));
  sqlite3_free (message);
  return FALSE;
}

gboolean
voip_sqlite_exec_prepared (VoipSqlite *db, const char *sql, const char *what, GError **error)
{
  g_autoptr(VoipSqliteStmt) stmt = voip_sqlite_stmt (db, sql, what, error);

  return stmt != NULL && voip_sqlite_step_done (db, stmt, what, error);
}

int
voip_sqlite_bind_text (VoipSqliteStmt *stmt, int index, const char *text)
{
  return sqlite3_bind_text (stmt, index, text != NULL ? text : "", -1, SQLITE_STATIC);
}

int
voip_sqlite_bind_bytes (VoipSqliteStmt *stmt, int index, GBytes *bytes)
{
  gsize size = 0;
  gconstpointer data = bytes != NULL ? g_bytes_get_data (bytes, &size) : NULL;

  /* A NULL pointer would bind SQL NULL; an empty value must stay a blob. */
  if (size == 0)
    return sqlite3_bind_zeroblob (stmt, index, 0);
  return sqlite3_bind_blob64 (stmt, index, data, size, SQLITE_STATIC);
}

char *
voip_sqlite_column_dup (VoipSqliteStmt *stmt, int column)
{
  const char *text = (const char *) sqlite3_column_text (stmt, column);

  return g_strdup (text != NULL ? text : "");
}

GBytes *
voip_sqlite_column_bytes (VoipSqliteStmt *stmt, int column)
{
  /* blob before bytes, as the SQLite documentation asks. */
  const void *data = sqlite3_column_blob (stmt, column);
  int size = sqlite3_column_bytes (stmt, column);

  if (data == NULL || size <= 0)
    return g_bytes_new (NULL, 0);
  return g_bytes_new (data, size);
}

/* ---- transactions ------------------------------------------------------------------ */

gboolean
voip_sqlite_begin (VoipSqlite *db, const char *what, GError **error)
{
  return voip_sqlite_exec_prepared (db, "BEGIN IMMEDIATE", what, error);
}

/* Back to the connection's level after a durable transaction. */
static void
end_durable (VoipSqlite *db)
{
  if (!db->durable_txn)
    return;
  db->durable_txn = FALSE;
  if (!voip_sqlite_exec_prepared (db, "PRAGMA synchronous=NORMAL", "after a durable commit",
                                  NULL))
    g_warning ("%s: cannot go back to synchronous=NORMAL", db->what);
}

gboolean
voip_sqlite_begin_durable (VoipSqlite *db, const char *what, GError **error)
{
  if (db->synchronous_full)
    return voip_sqlite_begin (db, what, error);
  /* In WAL mode FULL syncs the WAL at the commit, which also makes every
   * NORMAL commit before it durable (the WAL is append-only). */
  if (!voip_sqlite_exec_prepared (db, "PRAGMA synchronous=FULL", what, error))
    return FALSE;
  db->durable_txn = TRUE;
  if (voip_sqlite_begin (db, what, error))
    return TRUE;
  end_durable (db);
  return FALSE;
}

void
voip_sqlite_rollback (VoipSqlite *db)
{
  if (!sqlite3_get_autocommit (db->db)
      && sqlite3_exec (db->db, "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK)
    g_warning ("rolling back %s: %s", db->what, sqlite3_errmsg (db->db));
  if (sqlite3_get_autocommit (db->db))
    end_durable (db);
}

gboolean
voip_sqlite_commit (VoipSqlite *db, const char *what, GError **error)
{
  if (voip_sqlite_exec_prepared (db, "COMMIT", what, error))
    {
      end_durable (db);
      return TRUE;
    }
  voip_sqlite_rollback (db);
  return FALSE;
}

gboolean
voip_sqlite_in_transaction (VoipSqlite *db)
{
  return !sqlite3_get_autocommit (db->db);
}
