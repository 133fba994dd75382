/* store-groups.c — groups and their members.
 *
 * Members keep their joining order (joined_ms, then insertion order) because
 * ownership passes to the member who joined first when the owner leaves.
 */
#define G_LOG_DOMAIN "voip-store"

#include <string.h>

#include "store-private.h"

/* Runs a statement binding ?1 = a and ?2 = b (when b is not 0); fails with
 * STORE_ERROR_NOT_FOUND and `missing` when it changes no row. */
static gboolean
exec_change (Store *store, const char *sql, gint64 a, gint64 b, const char *what,
             const char *missing, GError **error)
{
  g_autoptr(VoipSqliteStmt) stmt = store_stmt (store, sql, what, error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, a);
  if (b != 0)
    sqlite3_bind_int64 (stmt, 2, b);
  if (!store_step_done (store, stmt, what, error))
    return FALSE;
  if (missing != NULL && sqlite3_changes (store->db) == 0)
    {
      g_set_error (error, STORE_ERROR, STORE_ERROR_NOT_FOUND, "%s: %s", what, missing);
      return FALSE;
    }
  return TRUE;
}

static gboolean
insert_member (Store *store, gint64 group_id, gint64 user_id, gint64 now_ms, const char *what,
               GError **error)
{
  g_autoptr(VoipSqliteStmt) stmt = store_stmt (store,
    "INSERT INTO group_members (group_id, user_id, joined_ms) VALUES (?1, ?2, ?3)",
    what, error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, group_id);
  sqlite3_bind_int64 (stmt, 2, user_id);
  sqlite3_bind_int64 (stmt, 3, now_ms);
  if (sqlite3_step (stmt) == SQLITE_DONE)
    return TRUE;

  switch (sqlite3_extended_errcode (store->db))
    {
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      g_set_error (error, STORE_ERROR, STORE_ERROR_EXISTS,
                   "%s: user %" G_GINT64_FORMAT " is already in group %" G_GINT64_FORMAT,
                   what, user_id, group_id);
      break;
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      g_set_error (error, STORE_ERROR, STORE_ERROR_NOT_FOUND,
                   "%s: no group %" G_GINT64_FORMAT " or no user %" G_GINT64_FORMAT,
                   what, group_id, user_id);
      break;
    default:
      store_set_error_from_db (store, error, what);
      break;
    }
  return FALSE;
}

gint64
store_sqlite_group_create (Store *store, const char *name, gint64 owner_id, gint64 now_ms,
                           GError **error)
{
  const char *what = "creating a group";
  g_autoptr(VoipSqliteStmt) stmt = NULL;

  g_return_val_if_fail (name != NULL, 0);

  stmt = store_stmt (store,
    "INSERT INTO chat_groups (name, owner_id, created_ms) VALUES (?1, ?2, ?3)", what, error);
  if (stmt == NULL)
    return 0;
  voip_sqlite_bind_text (stmt, 1, name);
  sqlite3_bind_int64 (stmt, 2, owner_id);
  sqlite3_bind_int64 (stmt, 3, now_ms);
  if (!store_step_done (store, stmt, what, error))
    return 0;
  /* The owner is not made a member here: the caller adds the owner first
   * with store_group_add_member(), like every other member, in the same
   * job, so the membership rows all come from one place. */
  return sqlite3_last_insert_rowid (store->db);
}

static gboolean
read_members (Store *store, StoreGroup *group, GError **error)
{
  const char *what = "reading a group's members";
  g_autoptr(VoipSqliteStmt) stmt = store_stmt (store,
    "SELECT m.user_id, u.username FROM group_members m JOIN users u ON u.id = m.user_id"
    " WHERE m.group_id = ?1 ORDER BY m.joined_ms, m.rowid",
    what, error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, group->id);
  while ((rc = store_step_row (store, stmt, what, error)) > 0)
    {
      gint64 user_id = sqlite3_column_int64 (stmt, 0);

      g_array_append_val (group->member_ids, user_id);
      g_ptr_array_add (group->members, voip_sqlite_column_dup (stmt, 1));
    }
  return rc == 0;
}

gboolean
store_sqlite_group_get (Store *store, gint64 group_id, StoreGroup *out, GError **error)
{
  const char *what = "reading a group";
  g_auto(StoreGroup) group = { 0, };
  int found;

  g_return_val_if_fail (out != NULL, FALSE);

  {
    g_autoptr(VoipSqliteStmt) stmt = store_stmt (store,
      "SELECT g.id, g.name, g.owner_id, u.username"
      " FROM chat_groups g LEFT JOIN users u ON u.id = g.owner_id WHERE g.id = ?1",
      what, error);

    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64 (stmt, 1, group_id);
    found = store_step_row (store, stmt, what, error);
    if (found <= 0)
      return FALSE;
    group.id = sqlite3_column_int64 (stmt, 0);
    group.name = voip_sqlite_column_dup (stmt, 1);
    group.owner_id = sqlite3_column_int64 (stmt, 2);
    group.owner = voip_sqlite_column_dup (stmt, 3);
  }

  group.member_ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  group.members = g_ptr_array_new_with_free_func (g_free);
  if (!read_members (store, &group, error))
    return FALSE;

  /* Filled completely or not at all. */
  *out = group;
  memset (&group, 0, sizeof group);
  return TRUE;
}

gboolean
store_sqlite_group_is_member (Store *store, gint64 group_id, gint64 user_id, GError **error)
{
  const char *what = "checking group membership";
  g_autoptr(VoipSqliteStmt) stmt = store_stmt (store,
    "SELECT 1 FROM group_members WHERE group_id = ?1 AND user_id = ?2", what, error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, group_id);
  sqlite3_bind_int64 (stmt, 2, user_id);
  return store_step_row (store, stmt, what, error) > 0;
}

GArray *
store_sqlite_group_list_for_user (Store *store, gint64 user_id, GError **error)
{
  const char *what = "listing a user's groups";
  g_autoptr(VoipSqliteStmt) stmt = store_stmt (store,
    "SELECT group_id FROM group_members WHERE user_id = ?1 ORDER BY group_id", what, error);
  g_autoptr(GArray) ids = NULL;
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, user_id);

  ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  while ((rc = store_step_row (store, stmt, what, error)) > 0)
    {
      gint64 group_id = sqlite3_column_int64 (stmt, 0);

      g_array_append_val (ids, group_id);
    }
  if (rc < 0)
    return NULL;
  return g_steal_pointer (&ids);
}

gboolean
store_sqlite_group_add_member (Store *store, gint64 group_id, gint64 user_id, gint64 now_ms,
                               GError **error)
{
  return insert_member (store, group_id, user_id, now_ms, "adding a group member", error);
}

gboolean
store_sqlite_group_remove_member (Store *store, gint64 group_id, gint64 user_id, GError **error)
{
  return exec_change (store, "DELETE FROM group_members WHERE group_id = ?1 AND user_id = ?2",
                      group_id, user_id, "removing a group member",
                      "the user is not a member of the group", error);
}

gboolean
store_sqlite_group_set_owner (Store *store, gint64 group_id, gint64 owner_id, GError **error)
{
  return exec_change (store, "UPDATE chat_groups SET owner_id = ?2 WHERE id = ?1",
                      group_id, owner_id, "changing a group's owner", "no such group", error);
}

gboolean
store_sqlite_group_rename (Store *store, gint64 group_id, const char *name, GError **error)
{
  const char *what = "renaming a group";
  g_autoptr(VoipSqliteStmt) stmt = NULL;

  g_return_val_if_fail (name != NULL, FALSE);

  stmt = store_stmt (store, "UPDATE chat_groups SET name = ?2 WHERE id = ?1", what, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, group_id);
  voip_sqlite_bind_text (stmt, 2, name);
  if (!store_step_done (store, stmt, what, error))
    return FALSE;
  if (sqlite3_changes (store->db) == 0)
    {
      g_set_error (error, STORE_ERROR, STORE_ERROR_NOT_FOUND, "%s: no group %" G_GINT64_FORMAT,
                   what, group_id);
      return FALSE;
    }
  return TRUE;
}

gboolean
store_sqlite_group_delete (Store *store, gint64 group_id, GError **error)
{
  const char *what = "deleting a group";

  /* The messages stay: with no members left, no one can reach them, and the
   * group's id is never reused (AUTOINCREMENT). */
  return exec_change (store, "DELETE FROM group_members WHERE group_id = ?1",
                      group_id, 0, what, NULL, error) &&
         exec_change (store, "DELETE FROM chat_groups WHERE id = ?1",
                      group_id, 0, what, "no such group", error);
}
