/* voipd-cache.c — the daemon's local SQLite cache (see voipd-cache.h).
 *
 * Two halves. The front (this object, main thread only) keeps in memory
 * what the D-Bus API reads synchronously and turns every change into a job
 * for the cache thread (voipd-cache-thread.c), which owns the connection
 * and runs the SQL below (the db_* functions). Memory is updated when the
 * call is made, so a read right after a write sees it; the disk follows in
 * the order of the calls.
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

#include "voip-catalogue.h"
#include "voip-sqlite.h"
#include "voipd-cache-thread.h"
#include "voipd-cache.h"

/* How long the cache thread waits for a lock another process holds on the
 * file (a backup, sqlite3 by hand) before a batch fails. It is the cache
 * thread that waits, never the main loop. */
#define CACHE_BUSY_TIMEOUT_MS 10000

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
  GObject           parent_instance;

  VoipdCacheThread *thread;
  char             *path;

  /* What the D-Bus API reads synchronously, loaded at open. */
  GHashTable       *meta;       /* key -> value */
  gint64            last_seq;
  GHashTable       *contacts;   /* username -> VoipdCachedContact (unread unused) */
  GHashTable       *groups;     /* gint64* id -> VoipdCachedGroup (unread unused) */
  GHashTable       *unread;     /* conversation key -> GUINT_TO_POINTER (count) */
  GPtrArray        *outbox;     /* VoipdOutboxEntry*, by local_id */
};

G_DEFINE_FINAL_TYPE (VoipdCache, voipd_cache, G_TYPE_OBJECT)

/* ---- helpers -------------------------------------------------------------- */

/* Names and ids come from the server: one that cannot be (an empty username,
 * a group or message id that is not positive) is bad input to report, not
 * a programmer error. */
static gboolean
bad_input (GError **error, const char *what, const char *why)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: %s", what, why);
  return FALSE;
}

static gboolean
check_conversation (const char *peer, gint64 group, const char *what, GError **error)
{
  if ((peer != NULL && *peer != '\0') == (group != 0))
    return bad_input (error, what, "neither a peer nor a group");
  return TRUE;
}

/* The in-memory key of a conversation: a peer (group 0) or a group. */
static char *
conversation_key (const char *peer, gint64 group)
{
  return g_strdup_printf ("%s\n%" G_GINT64_FORMAT, peer != NULL ? peer : "", group);
}

static guint
unread_of (VoipdCache *self, const char *peer, gint64 group)
{
  g_autofree char *key = conversation_key (peer, group);

  return GPOINTER_TO_UINT (g_hash_table_lookup (self->unread, key));
}

/* A job nobody waits for. */
static void
push (VoipdCache *self, VoipdCacheJobFunc func, gpointer data, GDestroyNotify data_free)
{
  voipd_cache_thread_push (self->thread, voipd_cache_job_new (func, data, data_free, NULL));
}

/* A job whose result comes back through a task on the caller's context. */
static void
push_task (VoipdCache *self, VoipdCacheJobFunc func, gpointer data, GDestroyNotify data_free,
           GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data,
           gpointer source_tag, gboolean durable)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  VoipdCacheJob *job;

  g_task_set_source_tag (task, source_tag);
  job = voipd_cache_job_new (func, data, data_free, task);
  if (durable)
    voipd_cache_job_set_durable (job);
  voipd_cache_thread_push (self->thread, job);
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

/* Runs a DELETE whose ?1 is text or, when text is NULL, an integer. */
static gboolean
delete_by (VoipSqlite *db, const char *sql, const char *text, gint64 number,
           const char *what, GError **error)
{
  g_autoptr(VoipSqliteStmt) stmt = voip_sqlite_stmt (db, sql, what, error);

  if (stmt == NULL)
    return FALSE;
  if (text != NULL)
    voip_sqlite_bind_text (stmt, 1, text);
  else
    sqlite3_bind_int64 (stmt, 1, number);
  return voip_sqlite_step_done (db, stmt, what, error);
}

static VoipdCachedMessage *
message_from_row (VoipSqliteStmt *stmt)
{
  VoipdCachedMessage *message = g_new0 (VoipdCachedMessage, 1);

  message->id = sqlite3_column_int64 (stmt, 0);
  message->seq = sqlite3_column_int64 (stmt, 1);
  message->timestamp_ms = sqlite3_column_int64 (stmt, 2);
  message->sender = voip_sqlite_column_dup (stmt, 3);
  message->recipient = voip_sqlite_column_dup (stmt, 4);
  message->group = sqlite3_column_int64 (stmt, 5);   /* NULL reads as 0 */
  message->kind = sqlite3_column_int (stmt, 6);
  message->text = voip_sqlite_column_dup (stmt, 7);
  message->duration_ms = sqlite3_column_int (stmt, 8);
  message->edited = sqlite3_column_int (stmt, 9) != 0;
  message->deleted = sqlite3_column_int (stmt, 10) != 0;
  return message;
}

/* ---- loading the memory at open -------------------------------------------- */

static gboolean
load_meta (VoipdCache *self, VoipSqlite *db, GError **error)
{
  const char *what = "reading the cached values";
  g_autoptr(VoipSqliteStmt) stmt = voip_sqlite_stmt (db, "SELECT key, value FROM meta", what,
                                                     error);
  int row;

  if (stmt == NULL)
    return FALSE;
  while ((row = voip_sqlite_step_row (db, stmt, what, error)) > 0)
    g_hash_table_insert (self->meta, voip_sqlite_column_dup (stmt, 0),
                         voip_sqlite_column_dup (stmt, 1));
  if (row < 0)
    return FALSE;
  if (g_hash_table_contains (self->meta, "last_seq"))
    self->last_seq = g_ascii_strtoll (g_hash_table_lookup (self->meta, "last_seq"), NULL, 10);
  return TRUE;
}

static gboolean
load_contacts (VoipdCache *self, VoipSqlite *db, GError **error)
{
  const char *what = "reading the contacts";
  g_autoptr(VoipSqliteStmt) stmt =
    voip_sqlite_stmt (db, "SELECT username, display_name, motd, subscription FROM contacts",
                      what, error);
  int row;

  if (stmt == NULL)
    return FALSE;
  while ((row = voip_sqlite_step_row (db, stmt, what, error)) > 0)
    {
      VoipdCachedContact *contact = g_new0 (VoipdCachedContact, 1);

      contact->username = voip_sqlite_column_dup (stmt, 0);
      contact->display_name = voip_sqlite_column_dup (stmt, 1);
      contact->motd = voip_sqlite_column_dup (stmt, 2);
      contact->subscription = sqlite3_column_int (stmt, 3);
      g_hash_table_replace (self->contacts, contact->username, contact);
    }
  return row == 0;
}

static GStrv
group_members (VoipSqlite *db, gint64 id, const char *what, GError **error)
{
  g_autoptr(VoipSqliteStmt) stmt = NULL;
  g_autoptr(GStrvBuilder) builder = NULL;
  int row;

  stmt = voip_sqlite_stmt (db,
                           "SELECT username FROM group_members WHERE group_id = ?1"
                           " ORDER BY position",
                           what, error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, id);

  builder = g_strv_builder_new ();
  while ((row = voip_sqlite_step_row (db, stmt, what, error)) > 0)
    g_strv_builder_add (builder, (const char *) sqlite3_column_text (stmt, 0));
  return row < 0 ? NULL : g_strv_builder_end (builder);
}

static gboolean
load_groups (VoipdCache *self, VoipSqlite *db, GError **error)
{
  const char *what = "reading the groups";
  g_autoptr(GPtrArray) groups = g_ptr_array_new ();
  int row;

  {
    g_autoptr(VoipSqliteStmt) stmt =
      voip_sqlite_stmt (db, "SELECT id, name, owner FROM chat_groups", what, error);

    if (stmt == NULL)
      return FALSE;
    while ((row = voip_sqlite_step_row (db, stmt, what, error)) > 0)
      {
        VoipdCachedGroup *group = g_new0 (VoipdCachedGroup, 1);

        group->id = sqlite3_column_int64 (stmt, 0);
        group->name = voip_sqlite_column_dup (stmt, 1);
        group->owner = voip_sqlite_column_dup (stmt, 2);
        g_hash_table_replace (self->groups, &group->id, group);
        g_ptr_array_add (groups, group);
      }
    if (row < 0)
      return FALSE;
  }
  /* Members after the outer query is done: no two statements stepping at
   * once. */
  for (guint i = 0; i < groups->len; i++)
    {
      VoipdCachedGroup *group = groups->pdata[i];

      group->members = group_members (db, group->id, what, error);
      if (group->members == NULL)
        return FALSE;
    }
  return TRUE;
}

static gboolean
load_unread (VoipdCache *self, VoipSqlite *db, GError **error)
{
  const char *what = "reading the unread counts";
  g_autoptr(VoipSqliteStmt) stmt =
    voip_sqlite_stmt (db, "SELECT peer, group_id, count FROM unread", what, error);
  int row;

  if (stmt == NULL)
    return FALSE;
  while ((row = voip_sqlite_step_row (db, stmt, what, error)) > 0)
    g_hash_table_insert (self->unread,
                         conversation_key ((const char *) sqlite3_column_text (stmt, 0),
                                           sqlite3_column_int64 (stmt, 1)),
                         GUINT_TO_POINTER ((guint) sqlite3_column_int64 (stmt, 2)));
  return row == 0;
}

static gboolean
load_outbox (VoipdCache *self, VoipSqlite *db, GError **error)
{
  const char *what = "reading the outbox";
  g_autoptr(VoipSqliteStmt) stmt =
    voip_sqlite_stmt (db,
                      "SELECT local_id, client_id, recipient, group_id, kind, text, voice,"
                      "  duration_ms, queued_ms"
                      " FROM outbox ORDER BY local_id",
                      what, error);
  int row;

  if (stmt == NULL)
    return FALSE;
  while ((row = voip_sqlite_step_row (db, stmt, what, error)) > 0)
    {
      VoipdOutboxEntry *entry = g_new0 (VoipdOutboxEntry, 1);

      entry->local_id = sqlite3_column_int64 (stmt, 0);
      entry->client_id = voip_sqlite_column_dup (stmt, 1);
      entry->recipient = voip_sqlite_column_dup (stmt, 2);
      entry->group = sqlite3_column_int64 (stmt, 3);
      entry->kind = sqlite3_column_int (stmt, 4);
      entry->text = voip_sqlite_column_dup (stmt, 5);
      entry->voice = voip_sqlite_column_bytes (stmt, 6);
      entry->duration_ms = sqlite3_column_int64 (stmt, 7);
      entry->queued_ms = sqlite3_column_int64 (stmt, 8);
      g_ptr_array_add (self->outbox, entry);
    }
  return row == 0;
}

/* ---- GObject -------------------------------------------------------------- */

static void
voipd_cache_finalize (GObject *object)
{
  VoipdCache *self = VOIPD_CACHE (object);

  /* Writes still queued go to disk first: the daemon is stopping. */
  g_clear_pointer (&self->thread, voipd_cache_thread_free);
  g_hash_table_unref (self->meta);
  g_hash_table_unref (self->contacts);
  g_hash_table_unref (self->groups);
  g_hash_table_unref (self->unread);
  g_ptr_array_unref (self->outbox);
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
  self->meta = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->contacts = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                          (GDestroyNotify) voipd_cached_contact_free);
  self->groups = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL,
                                        (GDestroyNotify) voipd_cached_group_free);
  self->unread = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->outbox = g_ptr_array_new_with_free_func ((GDestroyNotify) voipd_outbox_entry_free);
}

VoipdCache *
voipd_cache_open (const char *path, GError **error)
{
  const VoipSqliteOptions options = {
    .migrations = migrations,
    .n_migrations = G_N_ELEMENTS (migrations),
    .busy_timeout_ms = CACHE_BUSY_TIMEOUT_MS,
    .synchronous_full = FALSE,
    .what = "the cache",
  };
  g_autoptr(VoipdCache) self = NULL;
  g_autoptr(VoipSqlite) db = NULL;
  g_autofree char *folder = NULL;

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

  db = voip_sqlite_open (path, &options, error);
  if (db == NULL)
    return NULL;

  self = g_object_new (VOIPD_TYPE_CACHE, NULL);
  self->path = g_strdup (path);
  if (!load_meta (self, db, error) || !load_contacts (self, db, error)
      || !load_groups (self, db, error) || !load_unread (self, db, error)
      || !load_outbox (self, db, error))
    {
      g_prefix_error (error, "%s: ", path);
      return NULL;
    }

  self->thread = voipd_cache_thread_new (g_steal_pointer (&db));
  g_debug ("opened the cache %s", path);
  return g_steal_pointer (&self);
}

/* ---- batches and syncs -------------------------------------------------------- */

void
voipd_cache_hold (VoipdCache *self)
{
  g_return_if_fail (VOIPD_IS_CACHE (self));
  voipd_cache_thread_hold (self->thread);
}

void
voipd_cache_release (VoipdCache *self)
{
  g_return_if_fail (VOIPD_IS_CACHE (self));
  voipd_cache_thread_release (self->thread);
}

guint
voipd_cache_get_commits (VoipdCache *self)
{
  g_return_val_if_fail (VOIPD_IS_CACHE (self), 0);
  return voipd_cache_thread_get_commits (self->thread);
}

static gboolean
db_nothing (VoipSqlite *db, VoipdCacheJob *job, gpointer data, GError **error)
{
  voipd_cache_job_set_int (job, TRUE);
  return TRUE;
}

void
voipd_cache_sync_async (VoipdCache *self, gboolean durable, GCancellable *cancellable,
                        GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (VOIPD_IS_CACHE (self));
  push_task (self, db_nothing, NULL, NULL, cancellable, callback, user_data,
             voipd_cache_sync_async, durable);
}

gboolean
voipd_cache_sync_finish (VoipdCache *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_int (G_TASK (result), error) == TRUE;
}

static void
on_flushed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  gboolean *done = user_data;
  g_autoptr(GError) error = NULL;

  if (!voipd_cache_sync_finish (VOIPD_CACHE (source), result, &error))
    g_warning ("%s", error->message);
  *done = TRUE;
}

void
voipd_cache_flush (VoipdCache *self)
{
  gboolean done = FALSE;

  g_return_if_fail (VOIPD_IS_CACHE (self));

  /* Results come back in the order queued, so the earlier ones have been
   * delivered when this one is. */
  voipd_cache_sync_async (self, FALSE, NULL, on_flushed, &done);
  while (!done)
    g_main_context_iteration (g_main_context_get_thread_default (), TRUE);
}

/* ---- reset ---------------------------------------------------------------- */

static gboolean
db_reset (VoipSqlite *db, VoipdCacheJob *job, gpointer data, GError **error)
{
  const char *what = "emptying the cache";

  /* In the batch's transaction: a crash does not leave half of one
   * account's data beside the next account's. Members before their groups,
   * for the foreign key. outbox's sqlite_sequence is kept: local_id never
   * goes back, which costs nothing. */
  return voip_sqlite_exec_prepared (db, "DELETE FROM meta", what, error) &&
         voip_sqlite_exec_prepared (db, "DELETE FROM contacts", what, error) &&
         voip_sqlite_exec_prepared (db, "DELETE FROM group_members", what, error) &&
         voip_sqlite_exec_prepared (db, "DELETE FROM chat_groups", what, error) &&
         voip_sqlite_exec_prepared (db, "DELETE FROM unread", what, error) &&
         voip_sqlite_exec_prepared (db, "DELETE FROM messages", what, error) &&
         voip_sqlite_exec_prepared (db, "DELETE FROM outbox", what, error);
}

gboolean
voipd_cache_reset (VoipdCache *self, GError **error)
{
  g_return_val_if_fail (VOIPD_IS_CACHE (self), FALSE);

  g_hash_table_remove_all (self->meta);
  self->last_seq = 0;
  g_hash_table_remove_all (self->contacts);
  g_hash_table_remove_all (self->groups);
  g_hash_table_remove_all (self->unread);
  g_ptr_array_set_size (self->outbox, 0);
  push (self, db_reset, NULL, NULL);
  return TRUE;
}

/* ---- meta ----------------------------------------------------------------- */

typedef struct {
  char *key;
  char *value;
} MetaJob;

static void
meta_job_free (MetaJob *job)
{
  g_free (job->key);
  g_free (job->value);
  g_free (job);
}

static gboolean
db_set_meta (VoipSqlite *db, VoipdCacheJob *job, gpointer data, GError **error)
{
  const char *what = "storing a cached value";
  MetaJob *meta = data;
  g_autoptr(VoipSqliteStmt) stmt =
    voip_sqlite_stmt (db,
                      "INSERT INTO meta (key, value) VALUES (?1, ?2)"
                      " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                      what, error);

  if (stmt == NULL)
    return FALSE;
  voip_sqlite_bind_text (stmt, 1, meta->key);
  voip_sqlite_bind_text (stmt, 2, meta->value);
  return voip_sqlite_step_done (db, stmt, what, error);
}

char *
voipd_cache_get_meta (VoipdCache *self, const char *key)
{
  g_return_val_if_fail (VOIPD_IS_CACHE (self), NULL);
  g_return_val_if_fail (key != NULL, NULL);

  return g_strdup (g_hash_table_lookup (self->meta, key));
}

gboolean
voipd_cache_set_meta (VoipdCache *self, const char *key, const char *value, GError **error)
{
  MetaJob *job;

  g_return_val_if_fail (VOIPD_IS_CACHE (self), FALSE);
  g_return_val_if_fail (key != NULL, FALSE);

  if (strcmp (key, "last_seq") == 0)
    self->last_seq = value != NULL ? g_ascii_strtoll (value, NULL, 10) : 0;
  g_hash_table_insert (self->meta, g_strdup (key), g_strdup (value != NULL ? value : ""));
  job = g_new0 (MetaJob, 1);
  job->key = g_strdup (key);
  job->value = g_strdup (value);
  push (self, db_set_meta, job, (GDestroyNotify) meta_job_free);
  return TRUE;
}

gint64
voipd_cache_get_last_seq (VoipdCache *self)
{
  g_return_val_if_fail (VOIPD_IS_CACHE (self), 0);
  return self->last_seq;
}

static gboolean
db_raise_last_seq (VoipSqlite *db, VoipdCacheJob *job, gpointer data, GError **error)
{
  const char *what = "storing the sync position";
  g_autoptr(VoipSqliteStmt) stmt = NULL;

  /* The comparison in SQL as well: the position never goes back. */
  stmt = voip_sqlite_stmt (db,
                           "INSERT INTO meta (key, value) VALUES ('last_seq', ?1)"
                           " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
                           " WHERE CAST (value AS INTEGER) < CAST (excluded.value AS INTEGER)",
                           what, error);
  if (stmt == NULL)
    return FALSE;
  /* Bound as an integer, stored as its text by the column's affinity. */
  sqlite3_bind_int64 (stmt, 1, *(gint64 *) data);
  return voip_sqlite_step_done (db, stmt, what, error);
}

gboolean
voipd_cache_raise_last_seq (VoipdCache *self, gint64 seq, GError **error)
{
  g_return_val_if_fail (VOIPD_IS_CACHE (self), FALSE);

  /* Pushes and sync pages may arrive out of order. */
  if (seq <= self->last_seq)
    return TRUE;
  self->last_seq = seq;
  g_hash_table_insert (self->meta, g_strdup ("last_seq"),
                       g_strdup_printf ("%" G_GINT64_FORMAT, seq));
  push (self, db_raise_last_seq, g_memdup2 (&seq, sizeof seq), g_free);
  return TRUE;
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

static VoipdCachedContact *
contact_copy (const VoipdCachedContact *contact)
{
  VoipdCachedContact *copy = g_new0 (VoipdCachedContact, 1);

  copy->username = g_strdup (contact->username);
  copy->display_name = g_strdup (contact->display_name);
  copy->motd = g_strdup (contact->motd);
  copy->subscription = contact->subscription;
  copy->unread = contact->unread;
  return copy;
}

static gboolean
db_put_contact (VoipSqlite *db, VoipdCacheJob *job, gpointer data, GError **error)
{
  const char *what = "storing a contact";
  VoipdCachedContact *contact = data;
  g_autoptr(VoipSqliteStmt) stmt =
    voip_sqlite_stmt (db,
                      "INSERT INTO contacts (username, display_name, motd, subscription)"
                      " VALUES (?1, ?2, ?3, ?4)"
                      " ON CONFLICT (username) DO UPDATE SET"
                      "  display_name = excluded.display_name,"
                      "  motd = excluded.motd, subscription = excluded.subscription",
                      what, error);

  if (stmt == NULL)
    return FALSE;
  voip_sqlite_bind_text (stmt, 1, contact->username);
  voip_sqlite_bind_text (stmt, 2, contact->display_name);
  voip_sqlite_bind_text (stmt, 3, contact->motd);
  sqlite3_bind_int (stmt, 4, contact->subscription);
  return voip_sqlite_step_done (db, stmt, what, error);
}

gboolean
voipd_cache_put_contact (VoipdCache *self, const char *username, const char *display_name,
                         const char *motd, guint subscription, GError **error)
{
  VoipdCachedContact *contact;

  g_return_val_if_fail (VOIPD_IS_CACHE (self), FALSE);
  g_return_val_if_fail (username != NULL, FALSE);

  if (*username == '\0')
    return bad_input (error, "storing a contact", "no username");
  contact = g_new0 (VoipdCachedContact, 1);
  contact->username = g_strdup (username);
  contact->display_name = g_strdup (display_name != NULL ? display_name : "");
  contact->motd = g_strdup (motd != NULL ? motd : "");
  contact->subscription = subscription;
  g_hash_table_replace (self->contacts, contact->username, contact);
  push (self, db_put_contact, contact_copy (contact), (GDestroyNotify) voipd_cached_contact_free);
  return TRUE;
}

static gboolean
db_remove_contact (VoipSqlite *db, VoipdCacheJob *job, gpointer data, GError **error)
{
  const char *what = "removing a contact";

  return delete_by (db, "DELETE FROM contacts WHERE username = ?1", data, 0, what, error) &&
         delete_by (db, "DELETE FROM unread WHERE peer = ?1 AND group_id = 0", data, 0,
                    what, error);
}

gboolean
voipd_cache_remove_contact (VoipdCache *self, const char *username, GError **error)
{
  g_autofree char *key = NULL;

  g_return_val_if_fail (VOIPD_IS_CACHE (self), FALSE);
  g_return_val_if_fail (username != NULL, FALSE);

  key = conversation_key (username, 0);
  g_hash_table_remove (self->contacts, username);
  g_hash_table_remove (self->unread, key);
  push (self, db_remove_contact, g_strdup (username), g_free);
  return TRUE;
}

static int
compare_contacts (gconstpointer a, gconstpointer b)
{
  const VoipdCachedContact *x = *(VoipdCachedContact *const *) a;
  const VoipdCachedContact *y = *(VoipdCachedContact *const *) b;

  return strcmp (x->username, y->username);
}

GPtrArray *
voipd_cache_list_contacts (VoipdCache *self, GError **error)
{
  GPtrArray *contacts;
  GHashTableIter iter;
  gpointer value;

  g_return_val_if_fail (VOIPD_IS_CACHE (self), NULL);

  contacts = g_ptr_array_new_with_free_func ((GDestroyNotify) voipd_cached_contact_free);
  g_hash_table_iter_init (&iter, self->contacts);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      VoipdCachedContact *contact = value;
      VoipdCachedContact *copy;

      /* subscription NONE is no contact at all; put_contact() may still
       * have been told one (a request withdrawn). */
      if (contact->subscription == VOIP_SUBSCRIPTION_NONE)
        continue;
      copy = contact_copy (contact);
      copy->unread = unread_of (self, contact->username, 0);
      g_ptr_array_add (contacts, copy);
    }
  g_ptr_array_sort (contacts, compare_contacts);
  return contacts;
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

static VoipdCachedGroup *
group_copy (const VoipdCachedGroup *group)
{
  VoipdCachedGroup *copy = g_new0 (VoipdCachedGroup, 1);

  copy->id = group->id;
  copy->name = g_strdup (group->name);
  copy->owner = g_strdup (group->owner);
  copy->members = g_strdupv (group->members);
  copy->unread = group->unread;
  return copy;
}

static gboolean
db_put_group (VoipSqlite *db, VoipdCacheJob *job, gpointer data, GError **error)
{
  const char *what = "storing a group";
  VoipdCachedGroup *group = data;
  g_autoptr(VoipSqliteStmt) row = NULL;
  g_autoptr(VoipSqliteStmt) clear = NULL;

  /* An upsert, not INSERT OR REPLACE: a replace deletes the row first. */
  row = voip_sqlite_stmt (db,
                          "INSERT INTO chat_groups (id, name, owner) VALUES (?1, ?2, ?3)"
                          " ON CONFLICT (id) DO UPDATE SET name = excluded.name,"
                          "  owner = excluded.owner",
                          what, error);
  if (row == NULL)
    return FALSE;
  sqlite3_bind_int64 (row, 1, group->id);
  voip_sqlite_bind_text (row, 2, group->name);
  voip_sqlite_bind_text (row, 3, group->owner);
  if (!voip_sqlite_step_done (db, row, what, error))
    return FALSE;

  /* The member list is replaced whole: it is small, and the server sends
   * it whole. */
  clear = voip_sqlite_stmt (db, "DELETE FROM group_members WHERE group_id = ?1", what, error);
  if (clear == NULL)
    return FALSE;
  sqlite3_bind_int64 (clear, 1, group->id);
  if (!voip_sqlite_step_done (db, clear, what, error))
    return FALSE;

  for (guint i = 0; group->members != NULL && group->members[i] != NULL; i++)
    {
      g_autoptr(VoipSqliteStmt) member =
        voip_sqlite_stmt (db,
                          "INSERT INTO group_members (group_id, position, username)"
                          " VALUES (?1, ?2, ?3)",
                          what, error);

      if (member == NULL)
        return FALSE;
      sqlite3_bind_int64 (member, 1, group->id);
      sqlite3_bind_int (member, 2, i);
      voip_sqlite_bind_text (member, 3, group->members[i]);
      if (!voip_sqlite_step_done (db, member, what, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
voipd_cache_put_group (VoipdCache *self, gint64 id, const char *name, const char *owner,
                       const char *const *members, GError **error)
{
  VoipdCachedGroup *group;

  g_return_val_if_fail (VOIPD_IS_CACHE (self), FALSE);

  if (id <= 0)
    return bad_input (error, "storing a group", "not a group id");
  group = g_new0 (VoipdCachedGroup, 1);
  group->id = id;
  group->name = g_strdup (name != NULL ? name : "");
  group->owner = g_strdup (owner != NULL ? owner : "");
  group->members = members != NULL ? g_strdupv ((GStrv) members) : g_new0 (char *, 1);
  g_hash_table_replace (self->groups, &group->id, group);
  push (self, db_put_group, group_copy (group), (GDestroyNotify) voipd_cached_group_free);
  return TRUE;
}

static gboolean
db_remove_group (VoipSqlite *db, VoipdCacheJob *job, gpointer data, GError **error)
{
  const char *what = "removing a group";
  gint64 id = *(gint64 *) data;

  /* The members go by ON DELETE CASCADE. */
  return delete_by (db, "DELETE FROM chat_groups WHERE id = ?1", NULL, id, what, error) &&
         delete_by (db, "DELETE FROM unread WHERE peer = '' AND group_id = ?1", NULL, id,
                    what, error);
}

gboolean
voipd_cache_remove_group (VoipdCache *self, gint64 id, GError **error)
{
  g_autofree char *key = conversation_key (NULL, id);

  g_return_val_if_fail (VOIPD_IS_CACHE (self), FALSE);

  g_hash_table_remove (self->groups, &id);
  g_hash_table_remove (self->unread, key);
  push (self, db_remove_group, g_memdup2 (&id, sizeof id), g_free);
  return TRUE;
}

static int
compare_groups (gconstpointer a, gconstpointer b)
{
  const VoipdCachedGroup *x = *(VoipdCachedGroup *const *) a;
  const VoipdCachedGroup *y = *(VoipdCachedGroup *const *) b;

  return x->id < y->id ? -1 : x->id > y->id;
}

GPtrArray *
voipd_cache_list_groups (VoipdCache *self, GError **error)
{
  GPtrArray *groups;
  GHashTableIter iter;
  gpointer value;

  g_return_val_if_fail (VOIPD_IS_CACHE (self), NULL);

  groups = g_ptr_array_new_with_free_func ((GDestroyNotify) voipd_cached_group_free);
  g_hash_table_iter_init (&iter, self->groups);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      VoipdCachedGroup *copy = group_copy (value);

      copy->unread = unread_of (self, NULL, copy->id);
      g_ptr_array_add (groups, copy);
    }
  g_ptr_array_sort (groups, compare_groups);
  return groups;
}

/* ---- unread counts -------------------------------------------------------- */

typedef struct {
  char   *peer;
  gint64  group;
  guint   count;
} UnreadJob;

static void
unread_job_free (UnreadJob *job)
{
  g_free (job->peer);
  g_free (job);
}

static UnreadJob *
unread_job_new (const char *peer, gint64 group, guint count)
{
  UnreadJob *job = g_new0 (UnreadJob, 1);

  job->peer = g_strdup (peer != NULL ? peer : "");
  job->group = group;
  job->count = count;
  return job;
}

static gboolean
db_add_unread (VoipSqlite *db, VoipdCacheJob *job, gpointer data, GError **error)
{
  const char *what = "counting unread messages";
  UnreadJob *unread = data;
  g_autoptr(VoipSqliteStmt) stmt =
    voip_sqlite_stmt (db,
                      "INSERT INTO unread (peer, group_id, count) VALUES (?1, ?2, ?3)"
                      " ON CONFLICT (peer, group_id) DO UPDATE"
                      "  SET count = count + excluded.count",
                      what, error);

  if (stmt == NULL)
    return FALSE;
  voip_sqlite_bind_text (stmt, 1, unread->peer);
  sqlite3_bind_int64 (stmt, 2, unread->group);
  sqlite3_bind_int64 (stmt, 3, unread->count);
  return voip_sqlite_step_done (db, stmt, what, error);
}

gboolean
voipd_cache_add_unread (VoipdCache *self, const char *peer, gint64 group, guint count,
                        GError **error)
{
  g_return_val_if_fail (VOIPD_IS_CACHE (self), FALSE);

  if (!check_conversation (peer, group, "counting unread messages", error))
    return FALSE;
  g_hash_table_insert (self->unread, conversation_key (peer, group),
                       GUINT_TO_POINTER (unread_of (self, peer, group) + count));
  push (self, db_add_unread, unread_job_new (peer, group, count),
        (GDestroyNotify) unread_job_free);
  return TRUE;
}

static gboolean
db_clear_unread (VoipSqlite *db, VoipdCacheJob *job, gpointer data, GError **error)
{
  const char *what = "clearing unread messages";
  UnreadJob *unread = data;
  g_autoptr(VoipSqliteStmt) stmt =
    voip_sqlite_stmt (db, "DELETE FROM unread WHERE peer = ?1 AND group_id = ?2", what, error);

  if (stmt == NULL)
    return FALSE;
  voip_sqlite_bind_text (stmt, 1, unread->peer);
  sqlite3_bind_int64 (stmt, 2, unread->group);
  return voip_sqlite_step_done (db, stmt, what, error);
}

gboolean
voipd_cache_clear_unread (VoipdCache *self, const char *peer, gint64 group, GError **error)
{
  g_autofree char *key = NULL;

  g_return_val_if_fail (VOIPD_IS_CACHE (self), FALSE);

  if (!check_conversation (peer, group, "clearing unread messages", error))
    return FALSE;
  key = conversation_key (peer, group);
  g_hash_table_remove (self->unread, key);
  push (self, db_clear_unread, unread_job_new (peer, group, 0),
        (GDestroyNotify) unread_job_free);
  return TRUE;
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

VoipdCachedMessage *
voipd_cached_message_copy (const VoipdCachedMessage *message)
{
  VoipdCachedMessage *copy = g_memdup2 (message, sizeof *message);

  copy->sender = g_strdup (message->sender);
  copy->recipient = g_strdup (message->recipient != NULL ? message->recipient : "");
  copy->text = g_strdup (message->text != NULL ? message->text : "");
  return copy;
}

/* Binds ?1..?13 of the insert and the update in db_put_message(): the same
 * columns in the same places, so one function serves both. */
static void
bind_message (VoipSqliteStmt *stmt, const VoipdCachedMessage *message)
{
  sqlite3_bind_int64 (stmt, 1, message->id);
  sqlite3_bind_int64 (stmt, 2, message->seq);
  sqlite3_bind_int64 (stmt, 3, message->timestamp_ms);
  voip_sqlite_bind_text (stmt, 4, message->sender);
  if (message->group != 0)
    {
      /* recipient "", low, high and group as the schema wants them. */
      voip_sqlite_bind_text (stmt, 5, "");
      sqlite3_bind_null (stmt, 6);
      sqlite3_bind_null (stmt, 7);
      sqlite3_bind_int64 (stmt, 8, message->group);
    }
  else
    {
      const char *low, *high;

      direct_pair (message->sender, message->recipient, &low, &high);
      voip_sqlite_bind_text (stmt, 5, message->recipient);
      voip_sqlite_bind_text (stmt, 6, low);
      voip_sqlite_bind_text (stmt, 7, high);
      sqlite3_bind_null (stmt, 8);
    }
  sqlite3_bind_int (stmt, 9, message->kind);
  voip_sqlite_bind_text (stmt, 10, message->text);
  sqlite3_bind_int64 (stmt, 11, message->duration_ms);
  sqlite3_bind_int (stmt, 12, message->edited ? 1 : 0);
  sqlite3_bind_int (stmt, 13, message->deleted ? 1 : 0);
}

/* Its integer result: whether the id was new. */
static gboolean
db_put_message (VoipSqlite *db, VoipdCacheJob *job, gpointer data, GError **error)
{
  const char *what = "storing a message";
  const VoipdCachedMessage *message = data;
  g_autoptr(VoipSqliteStmt) insert = NULL;
  g_autoptr(VoipSqliteStmt) update = NULL;

  /* Insert unless the id is known, then UPDATE if nothing was inserted.
   * DO NOTHING rather than OR IGNORE, which would also hide other
   * constraint failures. */
  insert = voip_sqlite_stmt (db,
                             "INSERT INTO messages (id, seq, timestamp_ms, sender, recipient,"
                             "  low, high, group_id, kind, text, duration_ms, edited, deleted)"
                             " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
                             " ON CONFLICT (id) DO NOTHING",
                             what, error);
  if (insert == NULL)
    return FALSE;
  bind_message (insert, message);
  if (!voip_sqlite_step_done (db, insert, what, error))
    return FALSE;
  if (sqlite3_changes (voip_sqlite_get_handle (db)) > 0)
    {
      voipd_cache_job_set_int (job, TRUE);
      return TRUE;
    }

  update = voip_sqlite_stmt (db,
                             "UPDATE messages SET seq = ?2, timestamp_ms = ?3, sender = ?4,"
                             "  recipient = ?5, low = ?6, high = ?7, group_id = ?8, kind = ?9,"
                             "  text = ?10, duration_ms = ?11, edited = ?12, deleted = ?13"
                             " WHERE id = ?1",
                             what, error);
  if (update == NULL)
    return FALSE;
  bind_message (update, message);
  voipd_cache_job_set_int (job, FALSE);
  return voip_sqlite_step_done (db, update, what, error);
}

static gboolean
check_message (const VoipdCachedMessage *message, GError **error)
{
  if (message->id <= 0)
    return bad_input (error, "storing a message", "not a message id");
  return TRUE;
}

gboolean
voipd_cache_put_message (VoipdCache *self, const VoipdCachedMessage *message, GError **error)
{
  g_return_val_if_fail (VOIPD_IS_CACHE (self), FALSE);
  g_return_val_if_fail (message != NULL && message->sender != NULL, FALSE);
  g_return_val_if_fail (message->group != 0 || message->recipient != NULL, FALSE);

  if (!check_message (message, error))
    return FALSE;
  push (self, db_put_message, voipd_cached_message_copy (message),
        (GDestroyNotify) voipd_cached_message_free);
  return TRUE;
}

void
voipd_cache_put_message_async (VoipdCache *self, const VoipdCachedMessage *message,
                               GCancellable *cancellable, GAsyncReadyCallback callback,
                               gpointer user_data)
{
  GError *error = NULL;

  g_return_if_fail (VOIPD_IS_CACHE (self));
  g_return_if_fail (message != NULL && message->sender != NULL);
  g_return_if_fail (message->group != 0 || message->recipient != NULL);

  if (!check_message (message, &error))
    {
      g_task_report_error (self, callback, user_data, voipd_cache_put_message_async, error);
      return;
    }
  push_task (self, db_put_message, voipd_cached_message_copy (message),
             (GDestroyNotify) voipd_cached_message_free, cancellable, callback, user_data,
             voipd_cache_put_message_async, FALSE);
}

gboolean
voipd_cache_put_message_finish (VoipdCache *self, GAsyncResult *result, gboolean *is_new,
                                GError **error)
{
  gssize value;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  value = g_task_propagate_int (G_TASK (result), error);
  if (is_new != NULL)
    *is_new = value == TRUE;
  return value >= 0;
}

typedef struct {
  char   *low;
  char   *high;
  gint64  group;
  gint64  before_id;
  guint   limit;
} HistoryJob;

static void
history_job_free (HistoryJob *job)
{
  g_free (job->low);
  g_free (job->high);
  g_free (job);
}

static gboolean
db_history (VoipSqlite *db, VoipdCacheJob *job, gpointer data, GError **error)
{
  const char *what = "reading the history";
  HistoryJob *query = data;
  g_autoptr(VoipSqliteStmt) stmt = NULL;
  g_autoptr(GPtrArray) messages = NULL;
  int row;

  /* Newest first so LIMIT takes the newest, then reversed below. */
  if (query->group != 0)
    {
      stmt = voip_sqlite_stmt (db,
                               "SELECT " MESSAGE_COLUMNS " FROM messages"
                               " WHERE group_id = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3",
                               what, error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, query->group);
    }
  else
    {
      stmt = voip_sqlite_stmt (db,
                               "SELECT " MESSAGE_COLUMNS " FROM messages"
                               " WHERE low = ?1 AND high = ?4 AND id < ?2"
                               " ORDER BY id DESC LIMIT ?3",
                               what, error);
      if (stmt == NULL)
        return FALSE;
      voip_sqlite_bind_text (stmt, 1, query->low);
      voip_sqlite_bind_text (stmt, 4, query->high);
    }
  sqlite3_bind_int64 (stmt, 2, query->before_id > 0 ? query->before_id : G_MAXINT64);
  sqlite3_bind_int64 (stmt, 3, query->limit);

  messages = g_ptr_array_new_with_free_func ((GDestroyNotify) voipd_cached_message_free);
  while ((row = voip_sqlite_step_row (db, stmt, what, error)) > 0)
    g_ptr_array_add (messages, message_from_row (stmt));
  if (row < 0)
    return FALSE;

  /* Oldest first, as the header promises. */
  for (guint i = 0, j = messages->len; i + 1 < j; i++, j--)
    {
      gpointer tmp = messages->pdata[i];

      messages->pdata[i] = messages->pdata[j - 1];
      messages->pdata[j - 1] = tmp;
    }
  voipd_cache_job_set_pointer (job, g_steal_pointer (&messages),
                               (GDestroyNotify) g_ptr_array_unref);
  return TRUE;
}

void
voipd_cache_history_async (VoipdCache *self, const char *me, const char *peer, gint64 group,
                           gint64 before_id, guint limit, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data)
{
  HistoryJob *query;

  g_return_if_fail (VOIPD_IS_CACHE (self));
  g_return_if_fail (group != 0 || (me != NULL && peer != NULL));

  query = g_new0 (HistoryJob, 1);
  if (group == 0)
    {
      const char *low, *high;

      direct_pair (me, peer, &low, &high);
      query->low = g_strdup (low);
      query->high = g_strdup (high);
    }
  query->group = group;
  query->before_id = before_id;
  query->limit = limit;
  push_task (self, db_history, query, (GDestroyNotify) history_job_free, cancellable,
             callback, user_data, voipd_cache_history_async, FALSE);
}

GPtrArray *
voipd_cache_history_finish (VoipdCache *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static gboolean
db_get_message (VoipSqlite *db, VoipdCacheJob *job, gpointer data, GError **error)
{
  const char *what = "reading a message";
  g_autoptr(VoipSqliteStmt) stmt =
    voip_sqlite_stmt (db, "SELECT " MESSAGE_COLUMNS " FROM messages WHERE id = ?1", what, error);
  int row;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, *(gint64 *) data);
  row = voip_sqlite_step_row (db, stmt, what, error);
  if (row < 0)
    return FALSE;
  voipd_cache_job_set_pointer (job, row > 0 ? message_from_row (stmt) : NULL,
                               (GDestroyNotify) voipd_cached_message_free);
  return TRUE;
}

void
voipd_cache_get_message_async (VoipdCache *self, gint64 id, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (VOIPD_IS_CACHE (self));
  push_task (self, db_get_message, g_memdup2 (&id, sizeof id), g_free, cancellable, callback,
             user_data, voipd_cache_get_message_async, FALSE);
}

VoipdCachedMessage *
voipd_cache_get_message_finish (VoipdCache *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
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

VoipdOutboxEntry *
voipd_outbox_entry_copy (const VoipdOutboxEntry *entry)
{
  VoipdOutboxEntry *copy = g_memdup2 (entry, sizeof *entry);

  copy->client_id = g_strdup (entry->client_id);
  copy->recipient = g_strdup (entry->recipient != NULL ? entry->recipient : "");
  copy->text = g_strdup (entry->text != NULL ? entry->text : "");
  copy->voice = entry->voice != NULL ? g_bytes_ref (entry->voice) : g_bytes_new (NULL, 0);
  return copy;
}

/* Its integer result: the new local_id. */
static gboolean
db_outbox_add (VoipSqlite *db, VoipdCacheJob *job, gpointer data, GError **error)
{
  const char *what = "queueing a message in the outbox";
  VoipdOutboxEntry *entry = data;
  g_autoptr(VoipSqliteStmt) stmt =
    voip_sqlite_stmt (db,
                      "INSERT INTO outbox (client_id, recipient, group_id, kind, text, voice,"
                      "  duration_ms, queued_ms)"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                      what, error);

  if (stmt == NULL)
    return FALSE;
  voip_sqlite_bind_text (stmt, 1, entry->client_id);
  voip_sqlite_bind_text (stmt, 2, entry->group != 0 ? "" : entry->recipient);
  sqlite3_bind_int64 (stmt, 3, entry->group);
  sqlite3_bind_int (stmt, 4, entry->kind);
  voip_sqlite_bind_text (stmt, 5, entry->text);
  voip_sqlite_bind_bytes (stmt, 6, entry->voice);
  sqlite3_bind_int64 (stmt, 7, entry->duration_ms);
  sqlite3_bind_int64 (stmt, 8, entry->queued_ms);
  if (!voip_sqlite_step_done (db, stmt, what, error))
    return FALSE;
  voipd_cache_job_set_int (job, sqlite3_last_insert_rowid (voip_sqlite_get_handle (db)));
  return TRUE;
}

/* The entry joins the in-memory outbox only once it is on disk, with the
 * id the disk gave it; then the caller hears. */
static void
on_outbox_added (GObject *source, GAsyncResult *result, gpointer user_data)
{
  VoipdCache *self = VOIPD_CACHE (source);
  g_autoptr(GTask) outer = user_data;
  GError *error = NULL;
  gssize local_id = g_task_propagate_int (G_TASK (result), &error);
  VoipdOutboxEntry *entry;

  if (error != NULL)
    {
      g_task_return_error (outer, error);
      return;
    }
  entry = voipd_outbox_entry_copy (g_task_get_task_data (outer));
  entry->local_id = local_id;
  g_ptr_array_add (self->outbox, entry);
  g_task_return_int (outer, local_id);
}

void
voipd_cache_outbox_add_async (VoipdCache *self, const VoipdOutboxEntry *entry,
                              GCancellable *cancellable, GAsyncReadyCallback callback,
                              gpointer user_data)
{
  GTask *outer;

  g_return_if_fail (VOIPD_IS_CACHE (self));
  g_return_if_fail (entry != NULL && entry->client_id != NULL);

  outer = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (outer, voipd_cache_outbox_add_async);
  g_task_set_task_data (outer, voipd_outbox_entry_copy (entry),
                        (GDestroyNotify) voipd_outbox_entry_free);
  /* Not cancellable once queued: the write happens either way. */
  push_task (self, db_outbox_add, voipd_outbox_entry_copy (entry),
             (GDestroyNotify) voipd_outbox_entry_free, NULL, on_outbox_added, outer,
             voipd_cache_outbox_add_async, TRUE);
}

gint64
voipd_cache_outbox_add_finish (VoipdCache *self, GAsyncResult *result, GError **error)
{
  gssize local_id;

  g_return_val_if_fail (g_task_is_valid (result, self), 0);

  local_id = g_task_propagate_int (G_TASK (result), error);
  return local_id > 0 ? local_id : 0;
}

GPtrArray *
voipd_cache_outbox_list (VoipdCache *self, GError **error)
{
  GPtrArray *entries;

  g_return_val_if_fail (VOIPD_IS_CACHE (self), NULL);

  entries = g_ptr_array_new_full (self->outbox->len, (GDestroyNotify) voipd_outbox_entry_free);
  for (guint i = 0; i < self->outbox->len; i++)
    g_ptr_array_add (entries, voipd_outbox_entry_copy (self->outbox->pdata[i]));
  return entries;
}

static gboolean
db_outbox_remove (VoipSqlite *db, VoipdCacheJob *job, gpointer data, GError **error)
{
  return delete_by (db, "DELETE FROM outbox WHERE local_id = ?1", NULL, *(gint64 *) data,
                    "removing a message from the outbox", error);
}

gboolean
voipd_cache_outbox_remove (VoipdCache *self, gint64 local_id, GError **error)
{
  g_return_val_if_fail (VOIPD_IS_CACHE (self), FALSE);

  for (guint i = 0; i < self->outbox->len; i++)
    if (((VoipdOutboxEntry *) self->outbox->pdata[i])->local_id == local_id)
      {
        g_ptr_array_remove_index (self->outbox, i);
        break;
      }
  push (self, db_outbox_remove, g_memdup2 (&local_id, sizeof local_id), g_free);
  return TRUE;
}
