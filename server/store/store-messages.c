/* store-messages.c — messages: insert, edit, delete, history and sync.
 *
 * `seq` is the change sequence clients sync by: every insert, edit and
 * delete takes the next value, so "everything since seq N" finds new
 * messages and old ones changed since. The store thread is the only writer,
 * so the counter lives in memory (store->last_seq); a job that rolls back
 * leaves a gap, which is harmless, and the sequence never goes back.
 */
#define G_LOG_DOMAIN "voip-store"

#include <string.h>

#include "store-private.h"


static StoreMessage *
message_from_row (VoipSqliteStmt *stmt)
{
  StoreMessage *message = g_new0 (StoreMessage, 1);

  message->id = sqlite3_column_int64 (stmt, 0);
  message->seq = sqlite3_column_int64 (stmt, 1);
  message->timestamp_ms = sqlite3_column_int64 (stmt, 2);
  message->sender_id = sqlite3_column_int64 (stmt, 3);
  message->sender = voip_sqlite_column_dup (stmt, 4);
  message->recipient_id = sqlite3_column_int64 (stmt, 5);   /* NULL reads as 0 */
  message->recipient = voip_sqlite_column_dup (stmt, 6);
  message->group_id = sqlite3_column_int64 (stmt, 7);
  message->kind = (guint32) sqlite3_column_int64 (stmt, 8);
  message->text = voip_sqlite_column_dup (stmt, 9);
  message->duration_ms = (guint32) sqlite3_column_int64 (stmt, 10);
  message->edited = sqlite3_column_int (stmt, 11) != 0;
  message->deleted = sqlite3_column_int (stmt, 12) != 0;
  message->client_id = voip_sqlite_column_dup (stmt, 13);
  return message;
}

gboolean
store_messages_load_seq (Store *store, GError **error)
{
  const char *what = "reading the message sequence";
  g_autoptr(VoipSqliteStmt) stmt = store_stmt (store,
    "SELECT coalesce (MAX (seq), 0) FROM messages", what, error);

  if (stmt == NULL)
    return FALSE;
  if (store_step_row (store, stmt, what, error) <= 0)
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, STORE_ERROR, STORE_ERROR_FAILED, "%s: no result", what);
      return FALSE;
    }
  store->last_seq = sqlite3_column_int64 (stmt, 0);
  return TRUE;
}

/* The stored copy of a resent message, if the sender used this client_id. */
static int
find_by_client_id (Store *store, StoreMessage *message, GError **error)
{
  const char *what = "inserting a message";
  g_autoptr(VoipSqliteStmt) stmt = store_stmt (store,
    "SELECT id, seq, timestamp_ms FROM messages WHERE sender_id = ?1 AND client_id = ?2",
    what, error);
  int found;

  if (stmt == NULL)
    return -1;
  sqlite3_bind_int64 (stmt, 1, message->sender_id);
  voip_sqlite_bind_text (stmt, 2, message->client_id);
  found = store_step_row (store, stmt, what, error);
  if (found > 0)
    {
      message->id = sqlite3_column_int64 (stmt, 0);
      message->seq = sqlite3_column_int64 (stmt, 1);
      message->timestamp_ms = sqlite3_column_int64 (stmt, 2);
    }
  return found;
}

static gboolean
insert_voice (Store *store, gint64 message_id, GBytes *voice, GError **error)
{
  const char *what = "storing a voice message";
  g_autoptr(VoipSqliteStmt) stmt = store_stmt (store,
    "INSERT INTO voices (message_id, data) VALUES (?1, ?2)", what, error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, message_id);
  voip_sqlite_bind_bytes (stmt, 2, voice);
  return store_step_done (store, stmt, what, error);
}

gboolean
store_sqlite_message_insert (Store *store, StoreMessage *message, gboolean *duplicate,
                             GError **error)
{
  const char *what = "inserting a message";
  g_autoptr(VoipSqliteStmt) stmt = NULL;
  gint64 seq = store->last_seq + 1;

  g_return_val_if_fail (message != NULL, FALSE);

  if (duplicate != NULL)
    *duplicate = FALSE;

  if ((message->recipient_id != 0) == (message->group_id != 0))
    {
      g_set_error (error, STORE_ERROR, STORE_ERROR_FAILED,
                   "%s: a message needs either a recipient or a group", what);
      return FALSE;
    }

  if (message->client_id != NULL)
    {
      int found = find_by_client_id (store, message, error);

      if (found < 0)
        return FALSE;
      if (found > 0)
        {
          if (duplicate != NULL)
            *duplicate = TRUE;
          return TRUE;
        }
    }

  stmt = store_stmt (store,
    "INSERT INTO messages (seq, timestamp_ms, sender_id, recipient_id, low_id, high_id,"
    " group_id, kind, text, duration_ms, client_id)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    what, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, seq);
  sqlite3_bind_int64 (stmt, 2, message->timestamp_ms);
  sqlite3_bind_int64 (stmt, 3, message->sender_id);
  /* Unbound parameters are NULL: no recipient and no pair in a group, no
   * group in a direct conversation, and the partial indexes skip them. */
  if (message->recipient_id != 0)
    {
      sqlite3_bind_int64 (stmt, 4, message->recipient_id);
      sqlite3_bind_int64 (stmt, 5, MIN (message->sender_id, message->recipient_id));
      sqlite3_bind_int64 (stmt, 6, MAX (message->sender_id, message->recipient_id));
    }
  else
    sqlite3_bind_int64 (stmt, 7, message->group_id);
  sqlite3_bind_int64 (stmt, 8, message->kind);
  voip_sqlite_bind_text (stmt, 9, message->text);
  sqlite3_bind_int64 (stmt, 10, message->duration_ms);
  if (message->client_id != NULL)
    voip_sqlite_bind_text (stmt, 11, message->client_id);
  if (!store_step_done (store, stmt, what, error))
    return FALSE;

  store->last_seq = seq;
  message->id = sqlite3_last_insert_rowid (store->db);
  message->seq = seq;

  if (message->voice != NULL && g_bytes_get_size (message->voice) > 0 &&
      !insert_voice (store, message->id, message->voice, error))
    return FALSE;
  return TRUE;
}

static GBytes *
read_voice (Store *store, gint64 message_id, GError **error)
{
  const char *what = "reading a voice message";
  g_autoptr(VoipSqliteStmt) stmt = store_stmt (store,
    "SELECT data FROM voices WHERE message_id = ?1", what, error);
  int found;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, message_id);
  found = store_step_row (store, stmt, what, error);
  if (found < 0)
    return NULL;
  /* A text message, or a deleted voice message: no audio. */
  if (found == 0)
    return g_bytes_new (NULL, 0);
  return voip_sqlite_column_bytes (stmt, 0);
}

StoreMessage *
store_sqlite_message_get (Store *store, gint64 message_id, gboolean with_voice, GError **error)
{
  const char *what = "reading a message";
  g_autoptr(StoreMessage) message = NULL;

  {
    g_autoptr(VoipSqliteStmt) stmt = store_stmt (store,
      "SELECT " STORE_MESSAGE_COLUMNS STORE_MESSAGE_FROM " WHERE m.id = ?1", what, error);

    if (stmt == NULL)
      return NULL;
    sqlite3_bind_int64 (stmt, 1, message_id);
    if (store_step_row (store, stmt, what, error) <= 0)
      return NULL;
    message = message_from_row (stmt);
  }

  if (with_voice)
    {
      message->voice = read_voice (store, message_id, error);
      if (message->voice == NULL)
        return NULL;
    }
  return g_steal_pointer (&message);
}

/* Runs an UPDATE of one message that takes the id as ?1 and the new seq as
 * ?2, and hands out that seq if a row changed. */
static gboolean
update_with_seq (Store *store, VoipSqliteStmt *stmt, gint64 message_id, gint64 *seq,
                 const char *what, GError **error)
{
  gint64 next = store->last_seq + 1;

  sqlite3_bind_int64 (stmt, 1, message_id);
  sqlite3_bind_int64 (stmt, 2, next);
  if (!store_step_done (store, stmt, what, error))
    return FALSE;
  if (sqlite3_changes (store->db) == 0)
    {
      g_set_error (error, STORE_ERROR, STORE_ERROR_NOT_FOUND,
                   "%s: no message %" G_GINT64_FORMAT, what, message_id);
      return FALSE;
    }
  store->last_seq = next;
  if (seq != NULL)
    *seq = next;
  return TRUE;
}

gboolean
store_sqlite_message_edit (Store *store, gint64 message_id, const char *text, gint64 *seq,
                           GError **error)
{
  const char *what = "editing a message";
  /* A deleted message stays deleted: editing it finds nothing. */
  g_autoptr(VoipSqliteStmt) stmt = store_stmt (store,
    "UPDATE messages SET text = ?3, edited = 1, seq = ?2 WHERE id = ?1 AND deleted = 0",
    what, error);

  if (stmt == NULL)
    return FALSE;
  voip_sqlite_bind_text (stmt, 3, text);
  return update_with_seq (store, stmt, message_id, seq, what, error);
}

gboolean
store_sqlite_message_delete (Store *store, gint64 message_id, gint64 *seq, GError **error)
{
  const char *what = "deleting a message";

  {
    g_autoptr(VoipSqliteStmt) stmt = store_stmt (store,
      "UPDATE messages SET text = '', deleted = 1, seq = ?2 WHERE id = ?1", what, error);

    if (stmt == NULL || !update_with_seq (store, stmt, message_id, seq, what, error))
      return FALSE;
  }

  {
    g_autoptr(VoipSqliteStmt) stmt = store_stmt (store,
      "DELETE FROM voices WHERE message_id = ?1", what, error);

    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64 (stmt, 1, message_id);
    return store_step_done (store, stmt, what, error);
  }
}

/* Reads rows into `page` until `limit` messages or `max_bytes` of text.
 * The statement returns at most limit + 1 rows, so a row left over means
 * there is more. The first message always fits, so paging makes progress
 * even past a message larger than max_bytes. */
static GPtrArray *
read_page (Store *store, VoipSqliteStmt *stmt, guint limit, gsize max_bytes, gboolean *more,
           const char *what, GError **error)
{
  g_autoptr(GPtrArray) page = g_ptr_array_new_with_free_func ((GDestroyNotify) store_message_free);
  gsize bytes = 0;
  int rc;

  while ((rc = store_step_row (store, stmt, what, error)) > 0)
    {
      g_autoptr(StoreMessage) message = NULL;
      gsize size;

      if (page->len >= limit)
        {
          *more = TRUE;
          break;
        }
      message = message_from_row (stmt);
      size = strlen (message->text);
      if (page->len > 0 && (bytes >= max_bytes || size > max_bytes - bytes))
        {
          *more = TRUE;
          break;
        }
      bytes += size;
      g_ptr_array_add (page, g_steal_pointer (&message));
    }
  if (rc < 0)
    return NULL;
  return g_steal_pointer (&page);
}

GPtrArray *
store_sqlite_message_history (Store *store, gint64 a_id, gint64 b_id, gint64 group_id,
                              gint64 before_id, guint limit, gsize max_bytes, gboolean *more,
                              GError **error)
{
  const char *what = "reading message history";
  g_autoptr(VoipSqliteStmt) stmt = NULL;
  gboolean more_local = FALSE;
  GPtrArray *page;
  int param;

  if (more == NULL)
    more = &more_local;
  *more = FALSE;

  if ((group_id != 0) == (a_id != 0 && b_id != 0))
    {
      g_set_error (error, STORE_ERROR, STORE_ERROR_FAILED,
                   "%s: give either two users or a group", what);
      return NULL;
    }

  /* Newest first, so LIMIT takes the newest; the page is reversed below. */
  if (group_id != 0)
    {
      stmt = store_stmt (store,
        "SELECT " STORE_MESSAGE_COLUMNS STORE_MESSAGE_FROM
        " WHERE m.group_id = ?1 AND m.id < ?2 ORDER BY m.id DESC LIMIT ?3",
        what, error);
      if (stmt == NULL)
        return NULL;
      sqlite3_bind_int64 (stmt, 1, group_id);
      param = 2;
    }
  else
    {
      stmt = store_stmt (store,
        "SELECT " STORE_MESSAGE_COLUMNS STORE_MESSAGE_FROM
        " WHERE m.low_id = ?1 AND m.high_id = ?2 AND m.id < ?3 ORDER BY m.id DESC LIMIT ?4",
        what, error);
      if (stmt == NULL)
        return NULL;
      sqlite3_bind_int64 (stmt, 1, MIN (a_id, b_id));
      sqlite3_bind_int64 (stmt, 2, MAX (a_id, b_id));
      param = 3;
    }
  sqlite3_bind_int64 (stmt, param, before_id > 0 ? before_id : G_MAXINT64);
  sqlite3_bind_int64 (stmt, param + 1, (gint64) limit + 1);

  page = read_page (store, stmt, limit, max_bytes, more, what, error);
  if (page == NULL)
    return NULL;

  for (guint i = 0; i < page->len / 2; i++)
    {
      gpointer swap = page->pdata[i];

      page->pdata[i] = page->pdata[page->len - 1 - i];
      page->pdata[page->len - 1 - i] = swap;
    }
  return page;
}

GPtrArray *
store_sqlite_message_sync (Store *store, gint64 user_id, gint64 after_seq, guint limit,
                           gsize max_bytes, gboolean *more, GError **error)
{
  const char *what = "syncing messages";
  gboolean more_local = FALSE;
  /* One indexed range per way a user sees messages: sent directly,
   * received directly, and each group the user is in now. Each branch
   * stops at the page size, so a sync reads about one page of rows
   * however large the table is. A message sent in a group the user has
   * left is not found: the group is not theirs any more. */
  g_autoptr(VoipSqliteStmt) stmt = store_stmt (store,
    "SELECT " STORE_MESSAGE_COLUMNS STORE_MESSAGE_FROM
    " WHERE m.id IN ("
    "  SELECT id FROM (SELECT id FROM messages"
    "   WHERE group_id IS NULL AND sender_id = ?2 AND seq > ?1 ORDER BY seq LIMIT ?3)"
    "  UNION"
    "  SELECT id FROM (SELECT id FROM messages"
    "   WHERE recipient_id = ?2 AND seq > ?1 ORDER BY seq LIMIT ?3)"
    "  UNION"
    "  SELECT id FROM (SELECT id FROM messages"
    "   WHERE group_id IN (SELECT group_id FROM group_members WHERE user_id = ?2)"
    "   AND seq > ?1 ORDER BY seq LIMIT ?3))"
    " ORDER BY m.seq LIMIT ?3",
    what, error);

  if (more == NULL)
    more = &more_local;
  *more = FALSE;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, after_seq);
  sqlite3_bind_int64 (stmt, 2, user_id);
  sqlite3_bind_int64 (stmt, 3, (gint64) limit + 1);
  return read_page (store, stmt, limit, max_bytes, more, what, error);
}
