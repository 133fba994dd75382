/* store-pg-messages.c — messages in PostgreSQL: insert, edit, delete,
 * history and sync.
 *
 * As in store-messages.c, `seq` is the change sequence clients sync by;
 * here it comes from the sequence message_seq rather than a counter in
 * memory, so that it stays right with several writers. A rolled back job
 * leaves a gap, which is harmless.
 */
#define G_LOG_DOMAIN "voip-store"

#include <string.h>

#include "store-pg.h"


static StoreMessage *
message_from_row (const PGresult *result, int row)
{
  StoreMessage *message = g_new0 (StoreMessage, 1);

  message->id = store_pg_int (result, row, 0);
  message->seq = store_pg_int (result, row, 1);
  message->timestamp_ms = store_pg_int (result, row, 2);
  message->sender_id = store_pg_int (result, row, 3);
  message->sender = store_pg_dup (result, row, 4);
  message->recipient_id = store_pg_int (result, row, 5);   /* NULL reads as 0 */
  message->recipient = store_pg_dup (result, row, 6);
  message->group_id = store_pg_int (result, row, 7);
  message->kind = (guint32) store_pg_int (result, row, 8);
  message->text = store_pg_dup (result, row, 9);
  message->duration_ms = (guint32) store_pg_int (result, row, 10);
  message->edited = store_pg_bool (result, row, 11);
  message->deleted = store_pg_bool (result, row, 12);
  message->client_id = store_pg_dup (result, row, 13);
  return message;
}

/* The stored copy of a resent message. */
static gboolean
find_by_client_id (Store *store, StoreMessage *message, const char *what, GError **error)
{
  StorePgParams params = { 0, };
  g_autoptr(PGresult) result = NULL;

  store_pg_param_int (&params, message->sender_id);
  store_pg_param_text (&params, message->client_id);
  result = store_pg_query (store,
    "SELECT id, seq, timestamp_ms FROM messages WHERE sender_id = $1 AND client_id = $2",
    &params, what, error);
  if (result == NULL)
    return FALSE;
  if (PQntuples (result) == 0)
    {
      g_set_error (error, STORE_ERROR, STORE_ERROR_FAILED, "%s: the message vanished", what);
      return FALSE;
    }
  message->id = store_pg_int (result, 0, 0);
  message->seq = store_pg_int (result, 0, 1);
  message->timestamp_ms = store_pg_int (result, 0, 2);
  return TRUE;
}

gboolean
store_pg_message_insert (Store *store, StoreMessage *message, gboolean *duplicate,
                         GError **error)
{
  const char *what = "inserting a message";
  StorePgParams params = { 0, };
  g_autoptr(PGresult) result = NULL;
  gboolean direct;

  g_return_val_if_fail (message != NULL, FALSE);

  if (duplicate != NULL)
    *duplicate = FALSE;

  if ((message->recipient_id != 0) == (message->group_id != 0))
    {
      g_set_error (error, STORE_ERROR, STORE_ERROR_FAILED,
                   "%s: a message needs either a recipient or a group", what);
      return FALSE;
    }
  direct = message->recipient_id != 0;

  store_pg_param_int (&params, message->timestamp_ms);
  store_pg_param_int (&params, message->sender_id);
  /* NULLs: no recipient and no pair in a group, no group in a direct
   * conversation, and the partial indexes skip them. */
  if (direct)
    {
      store_pg_param_int (&params, message->recipient_id);
      store_pg_param_int (&params, MIN (message->sender_id, message->recipient_id));
      store_pg_param_int (&params, MAX (message->sender_id, message->recipient_id));
      store_pg_param_null (&params);
    }
  else
    {
      store_pg_param_null (&params);
      store_pg_param_null (&params);
      store_pg_param_null (&params);
      store_pg_param_int (&params, message->group_id);
    }
  store_pg_param_int (&params, message->kind);
  store_pg_param_text (&params, message->text != NULL ? message->text : "");
  store_pg_param_int (&params, message->duration_ms);
  store_pg_param_text (&params, message->client_id);
  /* NULL when there is no audio: no row in voices. */
  store_pg_param_bytes (&params, message->voice != NULL && g_bytes_get_size (message->voice) > 0
                                   ? message->voice : NULL);

  /* One round trip for the usual case: the message and its audio, or
   * nothing if this client_id was used by the sender already (a resend;
   * NULL client_ids never conflict). */
  result = store_pg_query (store,
    "WITH m AS (INSERT INTO messages (seq, timestamp_ms, sender_id, recipient_id, low_id,"
    "   high_id, group_id, kind, text, duration_ms, client_id)"
    "   VALUES (nextval ('message_seq'), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    "   ON CONFLICT (sender_id, client_id) DO NOTHING RETURNING id, seq),"
    " v AS (INSERT INTO voices (message_id, data)"
    "   SELECT id, $11::bytea FROM m WHERE $11::bytea IS NOT NULL)"
    " SELECT id, seq FROM m",
    &params, what, error);
  if (result == NULL)
    return FALSE;

  if (PQntuples (result) == 0)
    {
      if (duplicate != NULL)
        *duplicate = TRUE;
      return find_by_client_id (store, message, what, error);
    }
  message->id = store_pg_int (result, 0, 0);
  message->seq = store_pg_int (result, 0, 1);
  return TRUE;
}

StoreMessage *
store_pg_message_get (Store *store, gint64 message_id, gboolean with_voice, GError **error)
{
  const char *what = "reading a message";
  StorePgParams params = { 0, };
  g_autoptr(PGresult) result = NULL;
  StoreMessage *message;

  store_pg_param_int (&params, message_id);
  /* The audio comes in the same row when asked for. */
  if (with_voice)
    result = store_pg_query (store,
      "SELECT " STORE_MESSAGE_COLUMNS ", v.data" STORE_MESSAGE_FROM
      " LEFT JOIN voices v ON v.message_id = m.id WHERE m.id = $1",
      &params, what, error);
  else
    result = store_pg_query (store,
      "SELECT " STORE_MESSAGE_COLUMNS STORE_MESSAGE_FROM " WHERE m.id = $1", &params, what, error);
  if (result == NULL || PQntuples (result) == 0)
    return NULL;

  message = message_from_row (result, 0);
  /* A text message, or a deleted voice message: no audio. */
  if (with_voice)
    message->voice = store_pg_bytes (result, 0, 14);
  return message;
}

/* Hands out the seq an UPDATE … RETURNING seq gave its row. */
static gboolean
finish_update (PGresult *result, gint64 message_id, gint64 *seq, const char *what,
               GError **error)
{
  if (result == NULL)
    return FALSE;
  if (PQntuples (result) == 0)
    {
      g_set_error (error, STORE_ERROR, STORE_ERROR_NOT_FOUND,
                   "%s: no message %" G_GINT64_FORMAT, what, message_id);
      return FALSE;
    }
  if (seq != NULL)
    *seq = store_pg_int (result, 0, 0);
  return TRUE;
}

gboolean
store_pg_message_edit (Store *store, gint64 message_id, const char *text, gint64 *seq,
                       GError **error)
{
  const char *what = "editing a message";
  StorePgParams params = { 0, };
  g_autoptr(PGresult) result = NULL;

  store_pg_param_int (&params, message_id);
  store_pg_param_text (&params, text != NULL ? text : "");
  /* A deleted message stays deleted: editing it finds nothing. */
  result = store_pg_query (store,
    "UPDATE messages SET text = $2, edited = TRUE, seq = nextval ('message_seq')"
    " WHERE id = $1 AND NOT deleted RETURNING seq",
    &params, what, error);
  return finish_update (result, message_id, seq, what, error);
}

gboolean
store_pg_message_delete (Store *store, gint64 message_id, gint64 *seq, GError **error)
{
  const char *what = "deleting a message";
  StorePgParams params = { 0, };
  g_autoptr(PGresult) result = NULL;

  store_pg_param_int (&params, message_id);
  result = store_pg_query (store,
    "WITH v AS (DELETE FROM voices WHERE message_id = $1)"
    " UPDATE messages SET text = '', deleted = TRUE, seq = nextval ('message_seq')"
    " WHERE id = $1 RETURNING seq",
    &params, what, error);
  return finish_update (result, message_id, seq, what, error);
}

/* Takes rows into a page until `limit` messages or `max_bytes` of text, as
 * store-messages.c does: the query returns at most limit + 1 rows, and the
 * first message always fits. */
static GPtrArray *
read_page (const PGresult *result, guint limit, gsize max_bytes, gboolean *more)
{
  GPtrArray *page = g_ptr_array_new_with_free_func ((GDestroyNotify) store_message_free);
  gsize bytes = 0;

  for (int row = 0; row < PQntuples (result); row++)
    {
      gsize size = strlen (PQgetvalue (result, row, 9));

      if (page->len >= limit ||
          (page->len > 0 && (bytes >= max_bytes || size > max_bytes - bytes)))
        {
          *more = TRUE;
          break;
        }
      bytes += size;
      g_ptr_array_add (page, message_from_row (result, row));
    }
  return page;
}

GPtrArray *
store_pg_message_history (Store *store, gint64 a_id, gint64 b_id, gint64 group_id,
                          gint64 before_id, guint limit, gsize max_bytes, gboolean *more,
                          GError **error)
{
  const char *what = "reading message history";
  StorePgParams params = { 0, };
  g_autoptr(PGresult) result = NULL;
  gboolean more_local = FALSE;
  GPtrArray *page;

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
      store_pg_param_int (&params, group_id);
      store_pg_param_int (&params, before_id > 0 ? before_id : G_MAXINT64);
      store_pg_param_int (&params, (gint64) limit + 1);
      result = store_pg_query (store,
        "SELECT " STORE_MESSAGE_COLUMNS STORE_MESSAGE_FROM
        " WHERE m.group_id = $1 AND m.id < $2 ORDER BY m.id DESC LIMIT $3",
        &params, what, error);
    }
  else
    {
      store_pg_param_int (&params, MIN (a_id, b_id));
      store_pg_param_int (&params, MAX (a_id, b_id));
      store_pg_param_int (&params, before_id > 0 ? before_id : G_MAXINT64);
      store_pg_param_int (&params, (gint64) limit + 1);
      result = store_pg_query (store,
        "SELECT " STORE_MESSAGE_COLUMNS STORE_MESSAGE_FROM
        " WHERE m.low_id = $1 AND m.high_id = $2 AND m.id < $3 ORDER BY m.id DESC LIMIT $4",
        &params, what, error);
    }
  if (result == NULL)
    return NULL;

  page = read_page (result, limit, max_bytes, more);
  for (guint i = 0; i < page->len / 2; i++)
    {
      gpointer swap = page->pdata[i];

      page->pdata[i] = page->pdata[page->len - 1 - i];
      page->pdata[page->len - 1 - i] = swap;
    }
  return page;
}

GPtrArray *
store_pg_message_sync (Store *store, gint64 user_id, gint64 after_seq, guint limit,
                       gsize max_bytes, gboolean *more, GError **error)
{
  StorePgParams params = { 0, };
  g_autoptr(PGresult) result = NULL;
  gboolean more_local = FALSE;

  if (more == NULL)
    more = &more_local;
  *more = FALSE;

  store_pg_param_int (&params, after_seq);
  store_pg_param_int (&params, user_id);
  store_pg_param_int (&params, (gint64) limit + 1);
  /* The same three indexed ranges as store-messages.c: sent directly,
   * received directly, and each group the user is in now. */
  result = store_pg_query (store,
    "SELECT " STORE_MESSAGE_COLUMNS STORE_MESSAGE_FROM
    " WHERE m.id IN ("
    "  SELECT id FROM (SELECT id FROM messages"
    "   WHERE group_id IS NULL AND sender_id = $2 AND seq > $1 ORDER BY seq LIMIT $3) sent"
    "  UNION"
    "  SELECT id FROM (SELECT id FROM messages"
    "   WHERE recipient_id = $2 AND seq > $1 ORDER BY seq LIMIT $3) received"
    "  UNION"
    "  SELECT id FROM (SELECT id FROM messages"
    "   WHERE group_id IN (SELECT group_id FROM group_members WHERE user_id = $2)"
    "   AND seq > $1 ORDER BY seq LIMIT $3) in_groups)"
    " ORDER BY m.seq LIMIT $3",
    &params, "syncing messages", error);
  if (result == NULL)
    return NULL;
  return read_page (result, limit, max_bytes, more);
}
