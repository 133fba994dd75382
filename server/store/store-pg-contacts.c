/* store-pg-contacts.c — friendships and friend requests, in PostgreSQL.
 *
 * Two rows per friendship, as in store-contacts.c. A request that exists
 * already or names a missing user is found without a constraint violation
 * (see store-pg-users.c for why).
 */
#define G_LOG_DOMAIN "voip-store"

#include "store-pg.h"
#include "voip-catalogue.h"

/* Runs a statement taking two user ids as $1 and $2 (and a time as $3 when
 * now_ms is not 0). */
static PGresult *
query_pair (Store *store, const char *sql, gint64 a_id, gint64 b_id, gint64 now_ms,
            const char *what, GError **error)
{
  StorePgParams params = { 0, };

  store_pg_param_int (&params, a_id);
  store_pg_param_int (&params, b_id);
  if (now_ms != 0)
    store_pg_param_int (&params, now_ms);
  return store_pg_query (store, sql, &params, what, error);
}

int
store_pg_contact_state (Store *store, gint64 user_id, gint64 other_id, GError **error)
{
  g_autoptr(PGresult) result = query_pair (store,
    "SELECT EXISTS (SELECT 1 FROM friends WHERE user_id = $1 AND friend_id = $2),"
    "       EXISTS (SELECT 1 FROM requests WHERE from_id = $2 AND to_id = $1),"
    "       EXISTS (SELECT 1 FROM requests WHERE from_id = $1 AND to_id = $2)",
    user_id, other_id, 0, "reading a contact's state", error);

  if (result == NULL)
    return -1;
  if (store_pg_bool (result, 0, 0))
    return VOIP_SUBSCRIPTION_FRIEND;
  if (store_pg_bool (result, 0, 1))
    return VOIP_SUBSCRIPTION_INCOMING;
  if (store_pg_bool (result, 0, 2))
    return VOIP_SUBSCRIPTION_OUTGOING;
  return VOIP_SUBSCRIPTION_NONE;
}

gboolean
store_pg_contact_request (Store *store, gint64 from_id, gint64 to_id, gint64 now_ms,
                          GError **error)
{
  const char *what = "adding a contact request";
  /* The second column says whether both users exist, for the error. */
  g_autoptr(PGresult) result = query_pair (store,
    "WITH ok AS (SELECT (SELECT count (*) FROM users WHERE id IN ($1, $2))"
    "   = CASE WHEN $1 = $2 THEN 1 ELSE 2 END AS users),"
    " ins AS (INSERT INTO requests (from_id, to_id, created_ms)"
    "   SELECT $1, $2, $3::bigint FROM ok WHERE ok.users"
    "   ON CONFLICT (from_id, to_id) DO NOTHING RETURNING 1)"
    " SELECT (SELECT count (*) FROM ins), ok.users FROM ok",
    from_id, to_id, now_ms, what, error);

  if (result == NULL)
    return FALSE;
  if (store_pg_int (result, 0, 0) > 0)
    return TRUE;
  if (!store_pg_bool (result, 0, 1))
    g_set_error (error, STORE_ERROR, STORE_ERROR_NOT_FOUND, "%s: no such user", what);
  else
    g_set_error (error, STORE_ERROR, STORE_ERROR_EXISTS, "%s: already requested", what);
  return FALSE;
}

gboolean
store_pg_contact_befriend (Store *store, gint64 a_id, gint64 b_id, gint64 now_ms,
                           GError **error)
{
  /* Befriending friends again changes nothing; any request between them
   * goes in the same statement. */
  g_autoptr(PGresult) result = query_pair (store,
    "WITH f AS (INSERT INTO friends (user_id, friend_id, since_ms)"
    "   VALUES ($1, $2, $3), ($2, $1, $3) ON CONFLICT DO NOTHING)"
    " DELETE FROM requests WHERE (from_id = $1 AND to_id = $2) OR (from_id = $2 AND to_id = $1)",
    a_id, b_id, now_ms, "making friends", error);

  return result != NULL;
}

gboolean
store_pg_contact_unlink (Store *store, gint64 a_id, gint64 b_id, GError **error)
{
  g_autoptr(PGresult) result = query_pair (store,
    "WITH f AS (DELETE FROM friends"
    "   WHERE (user_id = $1 AND friend_id = $2) OR (user_id = $2 AND friend_id = $1))"
    " DELETE FROM requests WHERE (from_id = $1 AND to_id = $2) OR (from_id = $2 AND to_id = $1)",
    a_id, b_id, 0, "removing a contact", error);

  return result != NULL;
}

GPtrArray *
store_pg_contact_friends (Store *store, gint64 user_id, GError **error)
{
  StorePgParams params = { 0, };
  g_autoptr(PGresult) result = NULL;
  GPtrArray *friends;

  store_pg_param_int (&params, user_id);
  /* COLLATE "C": byte order, as SQLite sorts, whatever the database's locale. */
  result = store_pg_query (store,
    "SELECT u.id, u.username, p.display_name, p.motd"
    " FROM friends f JOIN users u ON u.id = f.friend_id"
    " LEFT JOIN profiles p ON p.user_id = u.id"
    " WHERE f.user_id = $1 ORDER BY u.username COLLATE \"C\"",
    &params, "listing friends", error);
  if (result == NULL)
    return NULL;

  friends = g_ptr_array_new_with_free_func ((GDestroyNotify) store_contact_free);
  for (int row = 0; row < PQntuples (result); row++)
    {
      StoreContact *contact = g_new0 (StoreContact, 1);

      contact->id = store_pg_int (result, row, 0);
      contact->username = store_pg_dup (result, row, 1);
      contact->display_name = store_pg_dup (result, row, 2);
      contact->motd = store_pg_dup (result, row, 3);
      g_ptr_array_add (friends, contact);
    }
  return friends;
}

GPtrArray *
store_pg_contact_pending (Store *store, gint64 user_id, gboolean incoming, GError **error)
{
  StorePgParams params = { 0, };
  g_autoptr(PGresult) result = NULL;
  GPtrArray *names;

  store_pg_param_int (&params, user_id);
  /* Oldest request first: the order they were made in. */
  if (incoming)
    result = store_pg_query (store,
      "SELECT u.username FROM requests r JOIN users u ON u.id = r.from_id"
      " WHERE r.to_id = $1 ORDER BY r.created_ms, r.ord",
      &params, "listing contact requests", error);
  else
    result = store_pg_query (store,
      "SELECT u.username FROM requests r JOIN users u ON u.id = r.to_id"
      " WHERE r.from_id = $1 ORDER BY r.created_ms, r.ord",
      &params, "listing contact requests", error);
  if (result == NULL)
    return NULL;

  names = g_ptr_array_new_with_free_func (g_free);
  for (int row = 0; row < PQntuples (result); row++)
    g_ptr_array_add (names, store_pg_dup (result, row, 0));
  return names;
}
