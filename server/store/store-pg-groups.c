/* store-pg-groups.c — groups and their members, in PostgreSQL.
 *
 * Members keep their joining order (joined_ms, then `ord`, the order of
 * the inserts), as in store-groups.c.
 */
#define G_LOG_DOMAIN "voip-store"

#include <string.h>

#include "store-pg.h"

/* Runs a statement binding $1 = a and $2 = b (when b is not 0); fails with
 * STORE_ERROR_NOT_FOUND and `missing` when it changes no row. */
static gboolean
exec_change (Store *store, const char *sql, gint64 a, gint64 b, const char *what,
             const char *missing, GError **error)
{
  StorePgParams params = { 0, };
  g_autoptr(PGresult) result = NULL;

  store_pg_param_int (&params, a);
  if (b != 0)
    store_pg_param_int (&params, b);
  result = store_pg_query (store, sql, &params, what, error);
  if (result == NULL)
    return FALSE;
  if (missing != NULL && store_pg_changes (result) == 0)
    {
      g_set_error (error, STORE_ERROR, STORE_ERROR_NOT_FOUND, "%s: %s", what, missing);
      return FALSE;
    }
  return TRUE;
}

gint64
store_pg_group_create (Store *store, const char *name, gint64 owner_id, gint64 now_ms,
                       GError **error)
{
  StorePgParams params = { 0, };
  g_autoptr(PGresult) result = NULL;

  g_return_val_if_fail (name != NULL, 0);

  store_pg_param_text (&params, name);
  store_pg_param_int (&params, owner_id);
  store_pg_param_int (&params, now_ms);
  /* The owner is not made a member here: the caller adds the owner first,
   * like every other member (store.h). */
  result = store_pg_query (store,
    "INSERT INTO chat_groups (name, owner_id, created_ms) VALUES ($1, $2, $3) RETURNING id",
    &params, "creating a group", error);
  if (result == NULL)
    return 0;
  return store_pg_int (result, 0, 0);
}

gboolean
store_pg_group_get (Store *store, gint64 group_id, StoreGroup *out, GError **error)
{
  const char *what = "reading a group";
  StorePgParams params = { 0, };
  g_autoptr(PGresult) result = NULL;
  g_auto(StoreGroup) group = { 0, };

  g_return_val_if_fail (out != NULL, FALSE);

  /* The group's row comes on every member row (LEFT JOIN: a group
   * without members still has one), in joining order: one round trip. */
  store_pg_param_int (&params, group_id);
  result = store_pg_query (store,
    "SELECT g.id, g.name, g.owner_id, o.username, m.user_id, u.username"
    " FROM chat_groups g LEFT JOIN users o ON o.id = g.owner_id"
    " LEFT JOIN group_members m ON m.group_id = g.id"
    " LEFT JOIN users u ON u.id = m.user_id"
    " WHERE g.id = $1 ORDER BY m.joined_ms, m.ord",
    &params, what, error);
  if (result == NULL || PQntuples (result) == 0)
    return FALSE;

  group.id = store_pg_int (result, 0, 0);
  group.name = store_pg_dup (result, 0, 1);
  group.owner_id = store_pg_int (result, 0, 2);
  group.owner = store_pg_dup (result, 0, 3);
  group.member_ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  group.members = g_ptr_array_new_with_free_func (g_free);
  for (int row = 0; row < PQntuples (result); row++)
    {
      gint64 user_id;

      if (PQgetisnull (result, row, 4))
        continue;
      user_id = store_pg_int (result, row, 4);
      g_array_append_val (group.member_ids, user_id);
      g_ptr_array_add (group.members, store_pg_dup (result, row, 5));
    }

  *out = group;
  memset (&group, 0, sizeof group);
  return TRUE;
}

gboolean
store_pg_group_is_member (Store *store, gint64 group_id, gint64 user_id, GError **error)
{
  StorePgParams params = { 0, };
  g_autoptr(PGresult) result = NULL;

  store_pg_param_int (&params, group_id);
  store_pg_param_int (&params, user_id);
  result = store_pg_query (store,
    "SELECT 1 FROM group_members WHERE group_id = $1 AND user_id = $2",
    &params, "checking group membership", error);
  return result != NULL && PQntuples (result) > 0;
}

GArray *
store_pg_group_list_for_user (Store *store, gint64 user_id, GError **error)
{
  StorePgParams params = { 0, };
  g_autoptr(PGresult) result = NULL;
  GArray *ids;

  store_pg_param_int (&params, user_id);
  result = store_pg_query (store,
    "SELECT group_id FROM group_members WHERE user_id = $1 ORDER BY group_id",
    &params, "listing a user's groups", error);
  if (result == NULL)
    return NULL;

  ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  for (int row = 0; row < PQntuples (result); row++)
    {
      gint64 group_id = store_pg_int (result, row, 0);

      g_array_append_val (ids, group_id);
    }
  return ids;
}

gboolean
store_pg_group_add_member (Store *store, gint64 group_id, gint64 user_id, gint64 now_ms,
                           GError **error)
{
  const char *what = "adding a group member";
  StorePgParams params = { 0, };
  g_autoptr(PGresult) result = NULL;

  store_pg_param_int (&params, group_id);
  store_pg_param_int (&params, user_id);
  store_pg_param_int (&params, now_ms);
  /* A member already there, or a missing group or user, is answered
   * without a violation (store-pg-users.c says why). */
  result = store_pg_query (store,
    "WITH ok AS (SELECT EXISTS (SELECT 1 FROM chat_groups WHERE id = $1)"
    "   AND EXISTS (SELECT 1 FROM users WHERE id = $2) AS found),"
    " ins AS (INSERT INTO group_members (group_id, user_id, joined_ms)"
    "   SELECT $1, $2, $3::bigint FROM ok WHERE ok.found"
    "   ON CONFLICT (group_id, user_id) DO NOTHING RETURNING 1)"
    " SELECT (SELECT count (*) FROM ins), ok.found FROM ok",
    &params, what, error);
  if (result == NULL)
    return FALSE;
  if (store_pg_int (result, 0, 0) > 0)
    return TRUE;
  if (!store_pg_bool (result, 0, 1))
    g_set_error (error, STORE_ERROR, STORE_ERROR_NOT_FOUND,
                 "%s: no group %" G_GINT64_FORMAT " or no user %" G_GINT64_FORMAT,
                 what, group_id, user_id);
  else
    g_set_error (error, STORE_ERROR, STORE_ERROR_EXISTS,
                 "%s: user %" G_GINT64_FORMAT " is already in group %" G_GINT64_FORMAT,
                 what, user_id, group_id);
  return FALSE;
}

gboolean
store_pg_group_remove_member (Store *store, gint64 group_id, gint64 user_id, GError **error)
{
  return exec_change (store, "DELETE FROM group_members WHERE group_id = $1 AND user_id = $2",
                      group_id, user_id, "removing a group member",
                      "the user is not a member of the group", error);
}

gboolean
store_pg_group_set_owner (Store *store, gint64 group_id, gint64 owner_id, GError **error)
{
  return exec_change (store, "UPDATE chat_groups SET owner_id = $2 WHERE id = $1",
                      group_id, owner_id, "changing a group's owner", "no such group", error);
}

gboolean
store_pg_group_rename (Store *store, gint64 group_id, const char *name, GError **error)
{
  const char *what = "renaming a group";
  StorePgParams params = { 0, };
  g_autoptr(PGresult) result = NULL;

  g_return_val_if_fail (name != NULL, FALSE);

  store_pg_param_int (&params, group_id);
  store_pg_param_text (&params, name);
  result = store_pg_query (store, "UPDATE chat_groups SET name = $2 WHERE id = $1",
                           &params, what, error);
  if (result == NULL)
    return FALSE;
  if (store_pg_changes (result) == 0)
    {
      g_set_error (error, STORE_ERROR, STORE_ERROR_NOT_FOUND, "%s: no group %" G_GINT64_FORMAT,
                   what, group_id);
      return FALSE;
    }
  return TRUE;
}

gboolean
store_pg_group_delete (Store *store, gint64 group_id, GError **error)
{
  /* The messages stay, unreachable, and the id is never reused (identity).
   * The memberships go in the same statement; the foreign key is checked
   * at its end, when both are gone. */
  return exec_change (store,
                      "WITH m AS (DELETE FROM group_members WHERE group_id = $1)"
                      " DELETE FROM chat_groups WHERE id = $1",
                      group_id, 0, "deleting a group", "no such group", error);
}
