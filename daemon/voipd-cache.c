/* voipd-cache.c — the daemon's local SQLite cache (see voipd-cache.h).
 *
 * One connection, used from the main thread only. Statements are prepared
 * once and kept for the life of the connection, keyed by the address of
 * their (static) SQL text, as in server/store/.
 *
 * Unread counts live in their own table keyed by conversation (a peer's
 * username, or a group id), not in the contacts and groups rows: a message
 * can arrive before the contact or group it belongs to is known (a group we
 * were just added to, a sync that runs before the contact list is fetched),
 * and a placeholder row would have to be hidden from every listing. Removing
 * a contact or a group forgets its count, as nothing could show it any more.
 */
#define G_LOG_DOMAIN "voipd"

#include <errno.h>
#include <string.h>

#include <glib/gstdio.h>
#include <sqlite3.h>

#include "voip-catalogue.h"
#include "voipd-cache.h"

/* Version 1: everything.
 *
 * `chat_groups` because `groups` is an SQL keyword since window functions.
 *
 * A direct message carries its conversation as the ordered pair of
 * usernames (low, high), so one index serves the history of a conversation
 * whichever side sent; a group message carries group_id instead, and each
 * column is NULL for the other kind so the partial indexes stay small.
 *
 * The outbox's AUTOINCREMENT keeps local_id ascending even after the
 * newest entry is removed, so the id order is the order queued. */
static const char migration_1[] =
  "CREATE TABLE meta ("
  "  key   TEXT PRIMARY KEY,"
  "  value TEXT NOT NULL"
  ") WITHOUT ROWID;"
  "CREATE TABLE contacts ("
  "  username     TEXT PRIMARY KEY,"
  "  display_name TEXT NOT NULL DEFAULT '',"
  "  motd         TEXT NOT NULL DEFAULT '',"
  "  subscription INTEGER NOT NULL"
  ") WITHOUT ROWID;"
  "CREATE TABLE chat_groups ("
  "  id    INTEGER PRIMARY KEY,"
  "  name  TEXT NOT NULL DEFAULT '',"
  "  owner TEXT NOT NULL DEFAULT ''"
  ");"
  "CREATE TABLE group_members ("
  "  group_id INTEGER NOT NULL REFERENCES chat_groups (id) ON DELETE CASCADE,"
  "  position INTEGER NOT NULL,"
  "  username TEXT NOT NULL,"
  "  PRIMARY KEY (group_id, position)"
  ") WITHOUT ROWID;"
  /* A conversation: a peer (group_id 0) or a group (peer ''). */
  "CREATE TABLE unread ("
  "  peer     TEXT NOT NULL,"
  "  group_id INTEGER NOT NULL,"
  "  count    INTEGER NOT NULL,"
  "  PRIMARY KEY (peer, group_id)"
  ") WITHOUT ROWID;"
  "CREATE TABLE messages ("
  "  id           INTEGER PRIMARY KEY,"
  "  seq          INTEGER NOT NULL,"
  "  timestamp_ms INTEGER NOT NULL,"
  "  sender       TEXT NOT NULL,"
  "  recipient    TEXT NOT NULL DEFAULT '',"   /* '' in a group */
  "  low          TEXT,"                       /* direct: the smaller of sender, recipient */
  "  high         TEXT,"                       /* direct: the larger */
  "  group_id     INTEGER,"                    /* NULL for a direct message */
  "  kind         INTEGER NOT NULL,"
  "  text         TEXT NOT NULL DEFAULT '',"
  "  duration_ms  INTEGER NOT NULL DEFAULT 0,"
  "  edited       INTEGER NOT NULL DEFAULT 0,"
  "  deleted      INTEGER NOT NULL DEFAULT 0"
  ");"
  "CREATE INDEX messages_direct ON messages (low, high, id) WHERE low IS NOT NULL;"
  "CREATE INDEX messages_group ON messages (group_id, id) WHERE group_id IS NOT NULL;"
  "CREATE TABLE outbox ("
  "  local_id    INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  client_id   TEXT NOT NULL UNIQUE,"
  "  recipient   TEXT NOT NULL DEFAULT '',"
  "  group_id    INTEGER NOT NULL DEFAULT 0,"
  "  kind        INTEGER NOT NULL,"
  "  text        TEXT NOT NULL DEFAULT '',"
  "  voice       BLOB NOT NULL DEFAULT x'',"
  "  duration_ms INTEGER NOT NULL DEFAULT 0,"
  "  queued_ms   INTEGER NOT NULL"
  ");";

/* Step i brings the file from version i to version i + 1. A released step
 * is never edited: a schema change is a new step appended here. */
static const char *const migrations[] = {
  migration_1,
};

/* Columns of a message row, in the order message_from_row() reads them. */
#define MESSAGE_COLUMNS \
  "id, seq, timestamp_ms, sender, recipient, group_id, kind, text, duration_ms, edited, deleted"

struct _VoipdCache {
  GObject     parent_instance;

  sqlite3    *db;
  GHashTable *statements;   /* SQL text (static, keyed by address) -> sqlite3_stmt* */
  char       *path;
};

G_DEFINE_FINAL_TYPE (VoipdCache, voipd_cache, G_TYPE_OBJECT)

/* ---- helpers -------------------------------------------------------------- */

/* A cached prepared statement. Declared with g_autoptr(CacheStmt), it is
 * reset and its bindings cleared when it goes out of scope, ready for reuse
 * (and not holding a read transaction open). */
typedef sqlite3_stmt CacheStmt;

static void
cache_stmt_release (CacheStmt *stmt)
{
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CacheStmt, cache_stmt_release)

static void
finalize_statement (gpointer stmt)
{
  sqlite3_finalize (stmt);
}

static GIOErrorEnum
io_error_from_sqlite (int code)
{
  switch (code)
    {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return G_IO_ERROR_EXISTS;
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
      return G_IO_ERROR_PERMISSION_DENIED;
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return G_IO_ERROR_INVALID_DATA;
    default:
      return G_IO_ERROR_FAILED;
    }
}

static void
set_error_from_db (VoipdCache *self, GError **error, const char *what)
{
  g_set_error (error, G_IO_ERROR, io_error_from_sqlite (sqlite3_extended_errcode (self->db)),
               "%s: %s", what, sqlite3_errmsg (self->db));
}

/* `sql` must be a string literal: the cache keeps the pointer as its key. */
static CacheStmt *
cache_stmt (VoipdCache *self, const char *sql, const char *what, GError **error)
{
  sqlite3_stmt *stmt = g_hash_table_lookup (self->statements, sql);

  if (stmt != NULL)
    return stmt;

  /* PERSISTENT: these live as long as the connection. */
  if (sqlite3_prepare_v3 (self->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) != SQLITE_OK)
    {
      set_error_from_db (self, error, what);
      return NULL;
    }
  g_hash_table_insert (self->statements, (gpointer) sql, stmt);
  return stmt;
}

/* sqlite3_step() on a statement that writes. */
static gboolean
step_done (VoipdCache *self, CacheStmt *stmt, const char *what, GError **error)
{
  int rc = sqlite3_step (stmt);

  if (rc == SQLITE_DONE || rc == SQLITE_ROW)
    return TRUE;
  set_error_from_db (self, error, what);
  return FALSE;
}

/* sqlite3_step() on a query: 1 for a row, 0 when done, -1 with `error` set. */
static int
step_row (VoipdCache *self, CacheStmt *stmt, const char *what, GError **error)
{
  int rc = sqlite3_step (stmt);

  if (rc == SQLITE_ROW)
    return 1;
  if (rc == SQLITE_DONE)
    return 0;
  set_error_from_db (self, error, what);
  return -1;
}

/* Multi-statement SQL run once (migrations, pragmas). */
static gboolean
exec_sql (VoipdCache *self, const char *sql, const char *what, GError **error)
{
  char *message = NULL;

  if (sqlite3_exec (self->db, sql, NULL, NULL, &message) == SQLITE_OK)
    return TRUE;

  /* sqlite3_exec's message names the failing statement's problem, which
   * errmsg does not for multi-statement SQL. */
  g_set_error (error, G_IO_ERROR, io_error_from_sqlite (sqlite3_extended_errcode (self->db)),
               "%s: %s", what, message != NULL ? message : sqlite3_errmsg (self->db));
  sqlite3_free (message);
  return FALSE;
}

/* One statement run often: prepared once. */
static gboolean
exec_prepared (VoipdCache *self, const char *sql, const char *what, GError **error)
{
  g_autoptr(CacheStmt) stmt = cache_stmt (self, sql, what, error);

  return stmt != NULL && step_done (self, stmt, what, error);
}

/* IMMEDIATE: take the write lock up front, so a transaction never fails
 * half-way for want of it. */
static gboolean
begin (VoipdCache *self, const char *what, GError **error)
{
  return exec_prepared (self, "BEGIN IMMEDIATE", what, error);
}

static void
rollback (VoipdCache *self)
{
  /* After some errors (a full disk) SQLite has already rolled back. */
  if (!sqlite3_get_autocommit (self->db) &&
      sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK)
    g_warning ("rolling back: %s", sqlite3_errmsg (self->db));
}

static gboolean
commit (VoipdCache *self, const char *what, GError **error)
{
  if (exec_prepared (self, "COMMIT", what, error))
    return TRUE;
  rollback (self);
  return FALSE;
}

/* Binds text without copying: the caller keeps it alive until the step.
 * NULL binds "", as every text column is NOT NULL. */
static void
bind_text (CacheStmt *stmt, int index, const char *text)
{
  sqlite3_bind_text (stmt, index, text != NULL ? text : "", -1, SQLITE_STATIC);
}

/* Runs a DELETE whose ?1 is text or, when text is NULL, an integer. */
static gboolean
delete_by (VoipdCache *self, const char *sql, const char *text, gint64 number,
           const char *what, GError **error)
{
  g_autoptr(CacheStmt) stmt = cache_stmt (self, sql, what, error);

  if (stmt == NULL)
    return FALSE;
  if (text != NULL)
    bind_text (stmt, 1, text);
  else
    sqlite3_bind_int64 (stmt, 1, number);
  return step_done (self, stmt, what, error);
}

static char *
column_dup (CacheStmt *stmt, int column)
{
  const char *text = (const char *) sqlite3_column_text (stmt, column);

  return g_strdup (text != NULL ? text : "");
}

/* The index key of a direct conversation: the pair in a fixed order, so
 * that both directions share it. strcmp() is SQLite's BINARY collation. */
static void
direct_pair (const char *a, const char *b, const char **low, const char **high)
{
  gboolean a_first = strcmp (a, b) <= 0;

  *low = a_first ? a : b;
  *high = a_first ? b : a;
}

static VoipdCachedMessage *
message_from_row (CacheStmt *stmt)
{
  VoipdCachedMessage *message = g_new0 (VoipdCachedMessage, 1);

  message->id = sqlite3_column_int64 (stmt, 0);
  message->seq = sqlite3_column_int64 (stmt, 1);
  message->timestamp_ms = sqlite3_column_int64 (stmt, 2);
  message->sender = column_dup (stmt, 3);
  message->recipient = column_dup (stmt, 4);
  message->group = sqlite3_column_int64 (stmt, 5);   /* NULL reads as 0 */
  message->kind = sqlite3_column_int (stmt, 6);
  message->text = column_dup (stmt, 7);
  message->duration_ms = sqlite3_column_int (stmt, 8);
  message->edited = sqlite3_column_int (stmt, 9) != 0;
  message->deleted = sqlite3_column_int (stmt, 10) != 0;
  return message;
}

/* ---- opening and migrating ------------------------------------------------ */

/* A pragma that answers with one text row, such as journal_mode. */
static char *
query_pragma (VoipdCache *self, const char *sql, const char *what, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  char *value = NULL;

  if (sqlite3_prepare_v2 (self->db, sql, -1, &stmt, NULL) != SQLITE_OK)
    {
      set_error_from_db (self, error, what);
      return NULL;
    }
  if (sqlite3_step (stmt) == SQLITE_ROW)
    value = column_dup (stmt, 0);
  else
    set_error_from_db (self, error, what);
  sqlite3_finalize (stmt);
  return value;
}

static gboolean
configure_connection (VoipdCache *self, GError **error)
{
  g_autofree char *journal_mode = NULL;

  sqlite3_extended_result_codes (self->db, 1);

  /* WAL: a commit is one append and one fsync. */
  journal_mode = query_pragma (self, "PRAGMA journal_mode=WAL", "opening the cache", error);
  if (journal_mode == NULL)
    return FALSE;
  if (g_ascii_strcasecmp (journal_mode, "wal") != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "opening the cache: cannot switch to WAL (journal mode is %s)",
                   journal_mode);
      return FALSE;
    }

  /* FULL, not NORMAL: in WAL mode NORMAL may lose the last commits on power
   * loss, and the outbox holds messages the user believes sent. */
  return exec_sql (self, "PRAGMA synchronous=FULL", "opening the cache", error) &&
         exec_sql (self, "PRAGMA foreign_keys=ON", "opening the cache", error);
}

static gboolean
read_user_version (VoipdCache *self, int *version, GError **error)
{
  g_autofree char *text = query_pragma (self, "PRAGMA user_version",
                                        "reading the cache's schema version", error);

  if (text == NULL)
    return FALSE;
  *version = (int) g_ascii_strtoll (text, NULL, 10);
  return TRUE;
}

/* Each step runs in one transaction together with its user_version bump, so
 * a crash leaves the file at one version or the next, never in between. */
static gboolean
apply_migration (VoipdCache *self, int version, GError **error)
{
  g_autofree char *bump = g_strdup_printf ("PRAGMA user_version = %d", version + 1);
  g_autofree char *what = g_strdup_printf ("migrating the cache to schema version %d",
                                           version + 1);

  if (!exec_sql (self, "BEGIN IMMEDIATE", what, error))
    return FALSE;
  if (!exec_sql (self, migrations[version], what, error) ||
      !exec_sql (self, bump, what, error) ||
      !exec_sql (self, "COMMIT", what, error))
    {
      rollback (self);
      return FALSE;
    }
  g_debug ("cache migrated to schema version %d", version + 1);
  return TRUE;
}

static gboolean
migrate (VoipdCache *self, GError **error)
{
  const int latest = G_N_ELEMENTS (migrations);
  int version;

  if (!read_user_version (self, &version, error))
    return FALSE;

  /* An older voipd after a newer one: guessing at a schema it does not know
   * could lose the outbox. */
  if (version > latest)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "opening the cache: its schema version %d is newer than this "
                   "program knows (%d)", version, latest);
      return FALSE;
    }
  if (version < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "opening the cache: invalid schema version %d", version);
      return FALSE;
    }

  for (; version < latest; version++)
    if (!apply_migration (self, version, error))
      return FALSE;
  return TRUE;
}

/* ---- GObject -------------------------------------------------------------- */

static void
voipd_cache_finalize (GObject *object)
{
  VoipdCache *self = VOIPD_CACHE (object);

  /* Statements first: sqlite3_close() refuses a connection with live ones. */
  g_clear_pointer (&self->statements, g_hash_table_unref);
  if (self->db != NULL && sqlite3_close (self->db) != SQLITE_OK)
    g_warning ("closing the cache %s: %s", self->path, sqlite3_errmsg (self->db));
  g_free (self->path);

  G_OBJECT_CLASS (voipd_cache_parent_class)->finalize (object);
}

static void
voipd_cache_class_init (VoipdCacheClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = voipd_cache_finalize;
}

static void
voipd_cache_init (VoipdCache *self)
{
  self->statements = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL,
                                            finalize_statement);
}

VoipdCache *
voipd_cache_open (const char *path, GError **error)
{
  g_autoptr(VoipdCache) self = NULL;
  g_autofree char *folder = NULL;
  int rc;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* 0700: the cache holds the user's private messages. */
  folder = g_path_get_dirname (path);
  if (g_mkdir_with_parents (folder, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "opening the cache: creating the folder %s: %s",
                   folder, g_strerror (saved_errno));
      return NULL;
    }

  self = g_object_new (VOIPD_TYPE_CACHE, NULL);
  self->path = g_strdup (path);

  /* NOMUTEX: only the main thread uses the connection. */
  rc = sqlite3_open_v2 (path, &self->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, G_IO_ERROR, io_error_from_sqlite (rc), "opening the cache %s: %s",
                   path, self->db != NULL ? sqlite3_errmsg (self->db) : sqlite3_errstr (rc));
      return NULL;
    }

  if (!configure_connection (self, error) || !migrate (self, error))
    {
      g_prefix_error (error, "%s: ", path);
      return NULL;
    }

  g_debug ("opened the cache %s", path);
  return g_steal_pointer (&self);
}

/* ---- reset ---------------------------------------------------------------- */

gboolean
voipd_cache_reset (VoipdCache *self, GError **error)
{
  const char *what = "emptying the cache";

  g_return_val_if_fail (VOIPD_IS_CACHE (self), FALSE);

  /* One transaction: a crash must not leave half of one account's data
   * beside the next account's. Members before their groups, for the
   * foreign key. outbox's sqlite_sequence is kept: local_id never goes
   * back, which costs nothing. */
  if (!begin (self, what, error))
    return FALSE;
  if (!exec_prepared (self, "DELETE FROM meta", what, error) ||
      !exec_prepared (self, "DELETE FROM contacts", what, error) ||
      !exec_prepared (self, "DELETE FROM group_members", what, error) ||
      !exec_prepared (self, "DELETE FROM chat_groups", what, error) ||
      !exec_prepared (self, "DELETE FROM unread", what, error) ||
      !exec_prepared (self, "DELETE FROM messages", what, error) ||
      !exec_prepared (self, "DELETE FROM outbox", what, error))
    {
      rollback (self);
      return FALSE;
    }
  return commit (self, what, error);
}

/* ---- meta ----------------------------------------------------------------- */

char *
voipd_cache_get_meta (VoipdCache *self, const char *key)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CacheStmt) stmt = NULL;
  int row;

  g_return_val_if_fail (VOIPD_IS_CACHE (self), NULL);
  g_return_val_if_fail (key != NULL, NULL);

  stmt = cache_stmt (self, "SELECT value FROM meta WHERE key = ?1", "reading a cached value",
                     &error);
  if (stmt != NULL)
    {
      bind_text (stmt, 1, key);
      row = step_row (self, stmt, "reading a cached value", &error);
      if (row > 0)
        return column_dup (stmt, 0);
      if (row == 0)
        return NULL;
    }

  /* No error parameter: the callers treat a value they cannot read as unset
   * (the daemon then asks the server again), but the failure is logged. */
  g_warning ("%s (key %s)", error->message, key);
  return NULL;
}

gboolean
voipd_cache_set_meta (VoipdCache *self, const char *key, const char *value, GError **error)
{
  const char *what = "storing a cached value";
  g_autoptr(CacheStmt) stmt = NULL;

  g_return_val_if_fail (VOIPD_IS_CACHE (self), FALSE);
  g_return_val_if_fail (key != NULL, FALSE);

  stmt = cache_stmt (self,
                     "INSERT INTO meta (key, value) VALUES (?1, ?2)"
                     " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                     what, error);
  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, key);
  bind_text (stmt, 2, value);
  return step_done (self, stmt, what, error);
}

gint64
voipd_cache_get_last_seq (VoipdCache *self)
{
  g_autofree char *text = voipd_cache_get_meta (self, "last_seq");

  return text != NULL ? g_ascii_strtoll (text, NULL, 10) : 0;
}

gboolean
voipd_cache_raise_last_seq (VoipdCache *self, gint64 seq, GError **error)
{
  const char *what = "storing the sync position";
  g_autoptr(CacheStmt) stmt = NULL;

  g_return_val_if_fail (VOIPD_IS_CACHE (self), FALSE);

  /* The comparison in SQL: one statement, no read-then-write. Pushes and
   * sync pages may arrive out of order; the position never goes back. */
  stmt = cache_stmt (self,
                     "INSERT INTO meta (key, value) VALUES ('last_seq', ?1)"
                     " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
                     " WHERE CAST (value AS INTEGER) < CAST (excluded.value AS INTEGER)",
                     what, error);
  if (stmt == NULL)
    return FALSE;
  /* Bound as an integer, stored as its text by the column's affinity. */
  sqlite3_bind_int64 (stmt, 1, seq);
  return step_done (self, stmt, what, error);
}

/* ---- contacts ------------------------------------------------------------- */

void
voipd_cached_contact_free (VoipdCachedContact *contact)
{
  if (contact == NULL)
    return;
  g_free (contact->username);
  g_free (contact->display_name);
  g_free (contact->motd);
  g_free (contact);
}

/* Names and ids come from the server: one that cannot be (an empty username,
 * a group or message id that is not positive) is bad input to report, not
 * a programmer error. */
static gboolean
bad_input (GError **error, const char *what, const char *why)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: %s", what, why);
  return FALSE;
}

gboolean
voipd_cache_put_contact (VoipdCache *self, const char *username, const char *display_name,
                         const char *motd, guint subscription, GError **error)
{
  const char *what = "storing a contact";
  g_autoptr(CacheStmt) stmt = NULL;

  g_return_val_if_fail (VOIPD_IS_CACHE (self), FALSE);
  g_return_val_if_fail (username != NULL, FALSE);

  if (*username == '\0')
    return bad_input (error, what, "no username");
  stmt = cache_stmt (self,
                     "INSERT INTO contacts (username, display_name, motd, subscription)"
                     " VALUES (?1, ?2, ?3, ?4)"
                     " ON CONFLICT (username) DO UPDATE SET display_name = excluded.display_name,"
                     "  motd = excluded.motd, subscription = excluded.subscription",
                     what, error);
  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, username);
  bind_text (stmt, 2, display_name);
  bind_text (stmt, 3, motd);
  sqlite3_bind_int (stmt, 4, subscription);
  return step_done (self, stmt, what, error);
}

gboolean
voipd_cache_remove_contact (VoipdCache *self, const char *username, GError **error)
{
  const char *what = "removing a contact";

  g_return_val_if_fail (VOIPD_IS_CACHE (self), FALSE);
  g_return_val_if_fail (username != NULL, FALSE);

  if (!begin (self, what, error))
    return FALSE;
  if (!delete_by (self, "DELETE FROM contacts WHERE username = ?1", username, 0, what, error) ||
      !delete_by (self, "DELETE FROM unread WHERE peer = ?1 AND group_id = 0", username, 0,
                  what, error))
    {
      rollback (self);
      return FALSE;
    }
  return commit (self, what, error);
}

GPtrArray *
voipd_cache_list_contacts (VoipdCache *self, GError **error)
{
  const char *what = "listing the contacts";
  g_autoptr(CacheStmt) stmt = NULL;
  g_autoptr(GPtrArray) contacts = NULL;
  int row;

  g_return_val_if_fail (VOIPD_IS_CACHE (self), NULL);

  /* subscription NONE is no contact at all; put_contact() may still have
   * been told one (a request withdrawn), so it is filtered here. */
  stmt = cache_stmt (self,
                     "SELECT c.username, c.display_name, c.motd, c.subscription,"
                     "  coalesce (u.count, 0)"
                     " FROM contacts AS c"
                     " LEFT JOIN unread AS u ON u.peer = c.username AND u.group_id = 0"
                     " WHERE c.subscription != ?1"
                     " ORDER BY c.username",
                     what, error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int (stmt, 1, VOIP_SUBSCRIPTION_NONE);

  contacts = g_ptr_array_new_with_free_func ((GDestroyNotify) voipd_cached_contact_free);
  while ((row = step_row (self, stmt, what, error)) > 0)
    {
      VoipdCachedContact *contact = g_new0 (VoipdCachedContact, 1);

      contact->username = column_dup (stmt, 0);
      contact->display_name = column_dup (stmt, 1);
      contact->motd = column_dup (stmt, 2);
      contact->subscription = sqlite3_column_int (stmt, 3);
      contact->unread = sqlite3_column_int (stmt, 4);
      g_ptr_array_add (contacts, contact);
    }
  return row < 0 ? NULL : g_steal_pointer (&contacts);
}

/* ---- groups --------------------------------------------------------------- */

void
voipd_cached_group_free (VoipdCachedGroup *group)
{
  if (group == NULL)
    return;
  g_free (group->name);
  g_free (group->owner);
  g_strfreev (group->members);
  g_free (group);
}

static gboolean
put_group_rows (VoipdCache *self, gint64 id, const char *name, const char *owner,
                const char *const *members, const char *what, GError **error)
{
  g_autoptr(CacheStmt) group = NULL;
  g_autoptr(CacheStmt) clear = NULL;

  /* An upsert, not INSERT OR REPLACE: a replace deletes the row first. */
  group = cache_stmt (self,
                      "INSERT INTO chat_groups (id, name, owner) VALUES (?1, ?2, ?3)"
                      " ON CONFLICT (id) DO UPDATE SET name = excluded.name,"
                      "  owner = excluded.owner",
                      what, error);
  if (group == NULL)
    return FALSE;
  sqlite3_bind_int64 (group, 1, id);
  bind_text (group, 2, name);
  bind_text (group, 3, owner);
  if (!step_done (self, group, what, error))
    return FALSE;

  /* The member list is replaced whole: it is small, and the server sends
   * it whole. */
  clear = cache_stmt (self, "DELETE FROM group_members WHERE group_id = ?1", what, error);
  if (clear == NULL)
    return FALSE;
  sqlite3_bind_int64 (clear, 1, id);
  if (!step_done (self, clear, what, error))
    return FALSE;

  for (guint i = 0; members != NULL && members[i] != NULL; i++)
    {
      g_autoptr(CacheStmt) member =
        cache_stmt (self,
                    "INSERT INTO group_members (group_id, position, username)"
                    " VALUES (?1, ?2, ?3)",
                    what, error);

      if (member == NULL)
        return FALSE;
      sqlite3_bind_int64 (member, 1, id);
      sqlite3_bind_int (member, 2, i);
      bind_text (member, 3, members[i]);
      if (!step_done (self, member, what, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
voipd_cache_put_group (VoipdCache *self, gint64 id, const char *name, const char *owner,
                       const char *const *members, GError **error)
{
  const char *what = "storing a group";

  g_return_val_if_fail (VOIPD_IS_CACHE (self), FALSE);

  if (id <= 0)
    return bad_input (error, what, "not a group id");
  if (!begin (self, what, error))
    return FALSE;
  if (!put_group_rows (self, id, name, owner, members, what, error))
    {
      rollback (self);
      return FALSE;
    }
  return commit (self, what, error);
}

gboolean
voipd_cache_remove_group (VoipdCache *self, gint64 id, GError **error)
{
  const char *what = "removing a group";

  g_return_val_if_fail (VOIPD_IS_CACHE (self), FALSE);

  /* The members go by ON DELETE CASCADE. */
  if (!begin (self, what, error))
    return FALSE;
  if (!delete_by (self, "DELETE FROM chat_groups WHERE id = ?1", NULL, id, what, error) ||
      !delete_by (self, "DELETE FROM unread WHERE peer = '' AND group_id = ?1", NULL, id,
                  what, error))
    {
      rollback (self);
      return FALSE;
    }
  return commit (self, what, error);
}

static GStrv
group_members (VoipdCache *self, gint64 id, const char *what, GError **error)
{
  g_autoptr(CacheStmt) stmt = NULL;
  g_autoptr(GStrvBuilder) builder = NULL;
  int row;

  stmt = cache_stmt (self,
                     "SELECT username FROM group_members WHERE group_id = ?1 ORDER BY position",
                     what, error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, id);

  builder = g_strv_builder_new ();
  while ((row = step_row (self, stmt, what, error)) > 0)
    g_strv_builder_add (builder, (const char *) sqlite3_column_text (stmt, 0));
  return row < 0 ? NULL : g_strv_builder_end (builder);
}

GPtrArray *
voipd_cache_list_groups (VoipdCache *self, GError **error)
{
  const char *what = "listing the groups";
  g_autoptr(CacheStmt) stmt = NULL;
  g_autoptr(GPtrArray) groups = NULL;
  int row;

  g_return_val_if_fail (VOIPD_IS_CACHE (self), NULL);

  stmt = cache_stmt (self,
                     "SELECT g.id, g.name, g.owner, coalesce (u.count, 0)"
                     " FROM chat_groups AS g"
                     " LEFT JOIN unread AS u ON u.peer = '' AND u.group_id = g.id"
                     " ORDER BY g.id",
                     what, error);
  if (stmt == NULL)
    return NULL;

  groups = g_ptr_array_new_with_free_func ((GDestroyNotify) voipd_cached_group_free);
  while ((row = step_row (self, stmt, what, error)) > 0)
    {
      VoipdCachedGroup *group = g_new0 (VoipdCachedGroup, 1);

      group->id = sqlite3_column_int64 (stmt, 0);
      group->name = column_dup (stmt, 1);
      group->owner = column_dup (stmt, 2);
      group->unread = sqlite3_column_int (stmt, 3);
      g_ptr_array_add (groups, group);
    }
  if (row < 0)
    return NULL;

  /* Members after the outer query is done: a handful of groups, each one
   * indexed lookup, and no two statements stepping at once. */
  for (guint i = 0; i < groups->len; i++)
    {
      VoipdCachedGroup *group = g_ptr_array_index (groups, i);

      group->members = group_members (self, group->id, what, error);
      if (group->members == NULL)
        return NULL;
    }
  return g_steal_pointer (&groups);
}

/* ---- unread counts -------------------------------------------------------- */

gboolean
voipd_cache_add_unread (VoipdCache *self, const char *peer, gint64 group, guint count,
                        GError **error)
{
  const char *what = "counting unread messages";
  g_autoptr(CacheStmt) stmt = NULL;

  g_return_val_if_fail (VOIPD_IS_CACHE (self), FALSE);

  if ((peer != NULL && *peer != '\0') == (group != 0))
    return bad_input (error, what, "neither a peer nor a group");

  stmt = cache_stmt (self,
                     "INSERT INTO unread (peer, group_id, count) VALUES (?1, ?2, ?3)"
                     " ON CONFLICT (peer, group_id) DO UPDATE SET count = count + excluded.count",
                     what, error);
  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, peer);
  sqlite3_bind_int64 (stmt, 2, group);
  sqlite3_bind_int64 (stmt, 3, count);
  return step_done (self, stmt, what, error);
}

gboolean
voipd_cache_clear_unread (VoipdCache *self, const char *peer, gint64 group, GError **error)
{
  const char *what = "clearing unread messages";
  g_autoptr(CacheStmt) stmt = NULL;

  g_return_val_if_fail (VOIPD_IS_CACHE (self), FALSE);

  if ((peer != NULL && *peer != '\0') == (group != 0))
    return bad_input (error, what, "neither a peer nor a group");

  stmt = cache_stmt (self, "DELETE FROM unread WHERE peer = ?1 AND group_id = ?2", what, error);
  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, peer);
  sqlite3_bind_int64 (stmt, 2, group);
  return step_done (self, stmt, what, error);
}

/* ---- messages ------------------------------------------------------------- */

void
voipd_cached_message_free (VoipdCachedMessage *message)
{
  if (message == NULL)
    return;
  g_free (message->sender);
  g_free (message->recipient);
  g_free (message->text);
  g_free (message);
}

/* Binds ?1..?13 of the insert and the update in put_message(): the same
 * columns in the same places, so one function serves both. */
static void
bind_message (CacheStmt *stmt, const VoipdCachedMessage *message)
{
  sqlite3_bind_int64 (stmt, 1, message->id);
  sqlite3_bind_int64 (stmt, 2, message->seq);
  sqlite3_bind_int64 (stmt, 3, message->timestamp_ms);
  bind_text (stmt, 4, message->sender);
  if (message->group != 0)
    {
      /* recipient "", low, high and group as the schema wants them. */
      bind_text (stmt, 5, "");
      sqlite3_bind_null (stmt, 6);
      sqlite3_bind_null (stmt, 7);
      sqlite3_bind_int64 (stmt, 8, message->group);
    }
  else
    {
      const char *low, *high;

      direct_pair (message->sender, message->recipient, &low, &high);
      bind_text (stmt, 5, message->recipient);
      bind_text (stmt, 6, low);
      bind_text (stmt, 7, high);
      sqlite3_bind_null (stmt, 8);
    }
  sqlite3_bind_int (stmt, 9, message->kind);
  bind_text (stmt, 10, message->text);
  sqlite3_bind_int64 (stmt, 11, message->duration_ms);
  sqlite3_bind_int (stmt, 12, message->edited ? 1 : 0);
  sqlite3_bind_int (stmt, 13, message->deleted ? 1 : 0);
}

gboolean
voipd_cache_put_message (VoipdCache *self, const VoipdCachedMessage *message,
                         gboolean *is_new, GError **error)
{
  const char *what = "storing a message";
  g_autoptr(CacheStmt) insert = NULL;
  g_autoptr(CacheStmt) update = NULL;

  g_return_val_if_fail (VOIPD_IS_CACHE (self), FALSE);
  g_return_val_if_fail (message != NULL, FALSE);
  g_return_val_if_fail (message->sender != NULL, FALSE);
  g_return_val_if_fail (message->group != 0 || message->recipient != NULL, FALSE);

  if (message->id <= 0)
    return bad_input (error, what, "not a message id");

  /* Insert unless the id is known, then UPDATE if nothing was inserted:
   * tells new from known without a transaction, as each case writes with
   * one statement. DO NOTHING rather than OR IGNORE, which would also hide
   * other constraint failures. */
  insert = cache_stmt (self,
                       "INSERT INTO messages (id, seq, timestamp_ms, sender, recipient,"
                       "  low, high, group_id, kind, text, duration_ms, edited, deleted)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
                       " ON CONFLICT (id) DO NOTHING",
                       what, error);
  if (insert == NULL)
    return FALSE;
  bind_message (insert, message);
  if (!step_done (self, insert, what, error))
    return FALSE;

  if (sqlite3_changes (self->db) > 0)
    {
      if (is_new != NULL)
        *is_new = TRUE;
      return TRUE;
    }

  update = cache_stmt (self,
                       "UPDATE messages SET seq = ?2, timestamp_ms = ?3, sender = ?4,"
                       "  recipient = ?5, low = ?6, high = ?7, group_id = ?8, kind = ?9,"
                       "  text = ?10, duration_ms = ?11, edited = ?12, deleted = ?13"
                       " WHERE id = ?1",
                       what, error);
  if (update == NULL)
    return FALSE;
  bind_message (update, message);
  if (!step_done (self, update, what, error))
    return FALSE;

  if (is_new != NULL)
    *is_new = FALSE;
  return TRUE;
}

GPtrArray *
voipd_cache_history (VoipdCache *self, const char *me, const char *peer, gint64 group,
                     gint64 before_id, guint limit, GError **error)
{
  const char *what = "reading the history";
  g_autoptr(CacheStmt) stmt = NULL;
  g_autoptr(GPtrArray) messages = NULL;
  int row;

  g_return_val_if_fail (VOIPD_IS_CACHE (self), NULL);
  g_return_val_if_fail (group != 0 || (me != NULL && peer != NULL), NULL);

  /* Newest first so LIMIT takes the newest, then reversed below. */
  if (group != 0)
    {
      stmt = cache_stmt (self,
                         "SELECT " MESSAGE_COLUMNS " FROM messages"
                         " WHERE group_id = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3",
                         what, error);
      if (stmt == NULL)
        return NULL;
      sqlite3_bind_int64 (stmt, 1, group);
    }
  else
    {
      const char *low, *high;

      stmt = cache_stmt (self,
                         "SELECT " MESSAGE_COLUMNS " FROM messages"
                         " WHERE low = ?1 AND high = ?4 AND id < ?2 ORDER BY id DESC LIMIT ?3",
                         what, error);
      if (stmt == NULL)
        return NULL;
      direct_pair (me, peer, &low, &high);
      bind_text (stmt, 1, low);
      bind_text (stmt, 4, high);
    }
  sqlite3_bind_int64 (stmt, 2, before_id > 0 ? before_id : G_MAXINT64);
  sqlite3_bind_int64 (stmt, 3, limit);

  messages = g_ptr_array_new_with_free_func ((GDestroyNotify) voipd_cached_message_free);
  while ((row = step_row (self, stmt, what, error)) > 0)
    g_ptr_array_add (messages, message_from_row (stmt));
  if (row < 0)
    return NULL;

  /* Oldest first, as the header promises. */
  for (guint i = 0, j = messages->len; i + 1 < j; i++, j--)
    {
      gpointer tmp = messages->pdata[i];

      messages->pdata[i] = messages->pdata[j - 1];
      messages->pdata[j - 1] = tmp;
    }
  return g_steal_pointer (&messages);
}

VoipdCachedMessage *
voipd_cache_get_message (VoipdCache *self, gint64 id, GError **error)
{
  const char *what = "reading a message";
  g_autoptr(CacheStmt) stmt = NULL;
  int row;

  g_return_val_if_fail (VOIPD_IS_CACHE (self), NULL);

  stmt = cache_stmt (self, "SELECT " MESSAGE_COLUMNS " FROM messages WHERE id = ?1",
                     what, error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, id);

  row = step_row (self, stmt, what, error);
  return row > 0 ? message_from_row (stmt) : NULL;
}

/* ---- outbox --------------------------------------------------------------- */

void
voipd_outbox_entry_free (VoipdOutboxEntry *entry)
{
  if (entry == NULL)
    return;
  g_free (entry->client_id);
  g_free (entry->recipient);
  g_free (entry->text);
  g_clear_pointer (&entry->voice, g_bytes_unref);
  g_free (entry);
}

gboolean
voipd_cache_outbox_add (VoipdCache *self, VoipdOutboxEntry *entry, GError **error)
{
  const char *what = "queueing a message in the outbox";
  g_autoptr(CacheStmt) stmt = NULL;
  gsize size = 0;
  gconstpointer data;

  g_return_val_if_fail (VOIPD_IS_CACHE (self), FALSE);
  g_return_val_if_fail (entry != NULL && entry->client_id != NULL, FALSE);

  stmt = cache_stmt (self,
                     "INSERT INTO outbox (client_id, recipient, group_id, kind, text, voice,"
                     "  duration_ms, queued_ms)"
                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                     what, error);
  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, entry->client_id);
  bind_text (stmt, 2, entry->group != 0 ? "" : entry->recipient);
  sqlite3_bind_int64 (stmt, 3, entry->group);
  sqlite3_bind_int (stmt, 4, entry->kind);
  bind_text (stmt, 5, entry->text);
  data = entry->voice != NULL ? g_bytes_get_data (entry->voice, &size) : NULL;
  /* A NULL pointer would bind SQL NULL; empty voice stays an empty blob. */
  if (size == 0)
    sqlite3_bind_zeroblob (stmt, 6, 0);
  else
    sqlite3_bind_blob64 (stmt, 6, data, size, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 7, entry->duration_ms);
  sqlite3_bind_int64 (stmt, 8, entry->queued_ms);

  /* An autocommit statement with synchronous=FULL: on disk when it returns. */
  if (!step_done (self, stmt, what, error))
    return FALSE;
  entry->local_id = sqlite3_last_insert_rowid (self->db);
  return TRUE;
}

GPtrArray *
voipd_cache_outbox_list (VoipdCache *self, GError **error)
{
  const char *what = "listing the outbox";
  g_autoptr(CacheStmt) stmt = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  int row;

  g_return_val_if_fail (VOIPD_IS_CACHE (self), NULL);

  stmt = cache_stmt (self,
                     "SELECT local_id, client_id, recipient, group_id, kind, text, voice,"
                     "  duration_ms, queued_ms"
                     " FROM outbox ORDER BY local_id",
                     what, error);
  if (stmt == NULL)
    return NULL;

  entries = g_ptr_array_new_with_free_func ((GDestroyNotify) voipd_outbox_entry_free);
  while ((row = step_row (self, stmt, what, error)) > 0)
    {
      VoipdOutboxEntry *entry = g_new0 (VoipdOutboxEntry, 1);
      const void *voice;
      int size;

      entry->local_id = sqlite3_column_int64 (stmt, 0);
      entry->client_id = column_dup (stmt, 1);
      entry->recipient = column_dup (stmt, 2);
      entry->group = sqlite3_column_int64 (stmt, 3);
      entry->kind = sqlite3_column_int (stmt, 4);
      entry->text = column_dup (stmt, 5);
      /* blob before bytes, as the SQLite documentation asks. */
      voice = sqlite3_column_blob (stmt, 6);
      size = sqlite3_column_bytes (stmt, 6);
      entry->voice = g_bytes_new (size > 0 ? voice : NULL, size > 0 ? size : 0);
      entry->duration_ms = sqlite3_column_int64 (stmt, 7);
      entry->queued_ms = sqlite3_column_int64 (stmt, 8);
      g_ptr_array_add (entries, entry);
    }
  return row < 0 ? NULL : g_steal_pointer (&entries);
}

gboolean
voipd_cache_outbox_remove (VoipdCache *self, gint64 local_id, GError **error)
{
  const char *what = "removing a message from the outbox";
  g_autoptr(CacheStmt) stmt = NULL;

  g_return_val_if_fail (VOIPD_IS_CACHE (self), FALSE);

  stmt = cache_stmt (self, "DELETE FROM outbox WHERE local_id = ?1", what, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, local_id);
  return step_done (self, stmt, what, error);
}
