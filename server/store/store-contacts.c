/* store-contacts.c — friendships and friend requests.
 *
 * A friendship is stored as two rows, one per direction, so that "the
 * friends of u" and "is v a friend of u" are each one index lookup; every
 * write here keeps the two rows together.
 */
#define G_LOG_DOMAIN "voip-store"

#include "store-private.h"
#include "voip-catalogue.h"

int
store_sqlite_contact_state (Store *store, gint64 user_id, gint64 other_id, GError **error)
{
  g_autoptr(VoipSqliteStmt) stmt = store_stmt (store,
    "SELECT EXISTS (SELECT 1 FROM friends WHERE user_id = ?1 AND friend_id = ?2),"
    "       EXISTS (SELECT 1 FROM requests WHERE from_id = ?2 AND to_id = ?1),"
    "       EXISTS (SELECT 1 FROM requests WHERE from_id = ?1 AND to_id = ?2)",
    "reading a contact's state", error);
  int rc;

  if (stmt == NULL)
    return -1;
  sqlite3_bind_int64 (stmt, 1, user_id);
  sqlite3_bind_int64 (stmt, 2, other_id);
  rc = store_step_row (store, stmt, "reading a contact's state", error);
  if (rc == 0)
    g_set_error (error, STORE_ERROR, STORE_ERROR_FAILED, "reading a contact's state: no result");
  if (rc <= 0)
    return -1;

  if (sqlite3_column_int (stmt, 0))
    return VOIP_SUBSCRIPTION_FRIEND;
  if (sqlite3_column_int (stmt, 1))
    return VOIP_SUBSCRIPTION_INCOMING;
  if (sqlite3_column_int (stmt, 2))
    return VOIP_SUBSCRIPTION_OUTGOING;
  return VOIP_SUBSCRIPTION_NONE;
}

gboolean
store_sqlite_contact_request (Store *store, gint64 from_id, gint64 to_id, gint64 now_ms,
                              GError **error)
{
  g_autoptr(VoipSqliteStmt) stmt = store_stmt (store,
    "INSERT INTO requests (from_id, to_id, created_ms) VALUES (?1, ?2, ?3)",
    "adding a contact request", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, from_id);
  sqlite3_bind_int64 (stmt, 2, to_id);
  sqlite3_bind_int64 (stmt, 3, now_ms);
  return store_step_done (store, stmt, "adding a contact request", error);
}

/* Runs a statement that takes two user ids as ?1 and ?2 (and, if now_ms is
 * not 0, a time as ?3). */
static gboolean
exec_pair (Store *store, const char *sql, gint64 a_id, gint64 b_id, gint64 now_ms,
           const char *what, GError **error)
{
  g_autoptr(VoipSqliteStmt) stmt = store_stmt (store, sql, what, error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, a_id);
  sqlite3_bind_int64 (stmt, 2, b_id);
  if (now_ms != 0)
    sqlite3_bind_int64 (stmt, 3, now_ms);
  return store_step_done (store, stmt, what, error);
}

#define DELETE_REQUESTS \
  "DELETE FROM requests WHERE (from_id = ?1 AND to_id = ?2) OR (from_id = ?2 AND to_id = ?1)"
#define DELETE_FRIENDS \
  "DELETE FROM friends WHERE (user_id = ?1 AND friend_id = ?2) OR (user_id = ?2 AND friend_id = ?1)"

gboolean
store_sqlite_contact_befriend (Store *store, gint64 a_id, gint64 b_id, gint64 now_ms,
                               GError **error)
{
  const char *what = "making friends";

  /* OR IGNORE: befriending friends again changes nothing. */
  return exec_pair (store,
                    "INSERT OR IGNORE INTO friends (user_id, friend_id, since_ms)"
                    " VALUES (?1, ?2, ?3), (?2, ?1, ?3)",
                    a_id, b_id, now_ms, what, error) &&
         exec_pair (store, DELETE_REQUESTS, a_id, b_id, 0, what, error);
}

gboolean
store_sqlite_contact_unlink (Store *store, gint64 a_id, gint64 b_id, GError **error)
{
  const char *what = "removing a contact";

  return exec_pair (store, DELETE_FRIENDS, a_id, b_id, 0, what, error) &&
         exec_pair (store, DELETE_REQUESTS, a_id, b_id, 0, what, error);
}

GPtrArray *
store_sqlite_contact_friends (Store *store, gint64 user_id, GError **error)
{
  g_autoptr(VoipSqliteStmt) stmt = NULL;
  g_autoptr(GPtrArray) friends = NULL;
  int rc;

  stmt = store_stmt (store,
    "SELECT u.id, u.username, p.display_name, p.motd"
    " FROM friends f JOIN users u ON u.id = f.friend_id"
    " LEFT JOIN profiles p ON p.user_id = u.id"
    " WHERE f.user_id = ?1 ORDER BY u.username",
    "listing friends", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, user_id);

  friends = g_ptr_array_new_with_free_func ((GDestroyNotify) store_contact_free);
  while ((rc = store_step_row (store, stmt, "listing friends", error)) > 0)
    {
      StoreContact *contact = g_new0 (StoreContact, 1);

      contact->id = sqlite3_column_int64 (stmt, 0);
      contact->username = voip_sqlite_column_dup (stmt, 1);
      contact->display_name = voip_sqlite_column_dup (stmt, 2);
      contact->motd = voip_sqlite_column_dup (stmt, 3);
      g_ptr_array_add (friends, contact);
    }
  if (rc < 0)
    return NULL;
  return g_steal_pointer (&friends);
}

GPtrArray *
store_sqlite_contact_pending (Store *store, gint64 user_id, gboolean incoming, GError **error)
{
  g_autoptr(VoipSqliteStmt) stmt = NULL;
  g_autoptr(GPtrArray) names = NULL;
  int rc;

  /* Oldest request first: the order they were made in. */
  if (incoming)
    stmt = store_stmt (store,
      "SELECT u.username FROM requests r JOIN users u ON u.id = r.from_id"
      " WHERE r.to_id = ?1 ORDER BY r.created_ms, r.rowid",
      "listing contact requests", error);
  else
    stmt = store_stmt (store,
      "SELECT u.username FROM requests r JOIN users u ON u.id = r.to_id"
      " WHERE r.from_id = ?1 ORDER BY r.created_ms, r.rowid",
      "listing contact requests", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, user_id);

  names = g_ptr_array_new_with_free_func (g_free);
  while ((rc = store_step_row (store, stmt, "listing contact requests", error)) > 0)
    g_ptr_array_add (names, voip_sqlite_column_dup (stmt, 0));
  if (rc < 0)
    return NULL;
  return g_steal_pointer (&names);
}
