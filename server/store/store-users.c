/* store-users.c — accounts and session tokens. */
#define G_LOG_DOMAIN "voip-store"

#include "store-private.h"

gint64
store_sqlite_user_create (Store *store, const char *username, const char *password_hash,
                          const char *email, gint64 now_ms, GError **error)
{
  gint64 user_id;

  g_return_val_if_fail (username != NULL, 0);

  {
    g_autoptr(VoipSqliteStmt) stmt = store_stmt (store,
      "INSERT INTO users (username, password_hash, email, created_ms) VALUES (?1, ?2, ?3, ?4)",
      "creating a user", error);

    if (stmt == NULL)
      return 0;
    voip_sqlite_bind_text (stmt, 1, username);
    voip_sqlite_bind_text (stmt, 2, password_hash);
    voip_sqlite_bind_text (stmt, 3, email);
    sqlite3_bind_int64 (stmt, 4, now_ms);
    if (sqlite3_step (stmt) != SQLITE_DONE)
      {
        if (sqlite3_extended_errcode (store->db) == SQLITE_CONSTRAINT_UNIQUE)
          g_set_error (error, STORE_ERROR, STORE_ERROR_EXISTS,
                       "creating a user: the username “%s” is taken", username);
        else
          store_set_error_from_db (store, error, "creating a user");
        return 0;
      }
    user_id = sqlite3_last_insert_rowid (store->db);
  }

  /* Every user has a profile row from the start, so that setting a field is
   * an UPDATE and reads never have to invent defaults. */
  {
    g_autoptr(VoipSqliteStmt) stmt = store_stmt (store,
      "INSERT INTO profiles (user_id) VALUES (?1)", "creating a user's profile", error);

    if (stmt == NULL)
      return 0;
    sqlite3_bind_int64 (stmt, 1, user_id);
    if (!store_step_done (store, stmt, "creating a user's profile", error))
      return 0;
  }

  return user_id;
}

static void
user_from_row (VoipSqliteStmt *stmt, StoreUser *out)
{
  out->id = sqlite3_column_int64 (stmt, 0);
  out->username = voip_sqlite_column_dup (stmt, 1);
  out->password_hash = voip_sqlite_column_dup (stmt, 2);
  out->email = voip_sqlite_column_dup (stmt, 3);
  out->created_ms = sqlite3_column_int64 (stmt, 4);
  out->deleted = sqlite3_column_int (stmt, 5) != 0;
}

static gboolean
find_by_name (Store *store, const char *sql, const char *username, StoreUser *out,
              GError **error)
{
  g_autoptr(VoipSqliteStmt) stmt = NULL;
  int found;

  g_return_val_if_fail (username != NULL && out != NULL, FALSE);

  stmt = store_stmt (store, sql, "finding a user", error);
  if (stmt == NULL)
    return FALSE;
  voip_sqlite_bind_text (stmt, 1, username);
  found = store_step_row (store, stmt, "finding a user", error);
  if (found > 0)
    user_from_row (stmt, out);
  return found > 0;
}

gboolean
store_sqlite_user_find (Store *store, const char *username, StoreUser *out, GError **error)
{
  return find_by_name (store,
    "SELECT id, username, password_hash, email, created_ms, deleted FROM users"
    " WHERE username = ?1 AND deleted = 0",
    username, out, error);
}

gboolean
store_sqlite_user_find_any (Store *store, const char *username, StoreUser *out, GError **error)
{
  return find_by_name (store,
    "SELECT id, username, password_hash, email, created_ms, deleted FROM users"
    " WHERE username = ?1",
    username, out, error);
}

gboolean
store_sqlite_user_get (Store *store, gint64 user_id, StoreUser *out, GError **error)
{
  g_autoptr(VoipSqliteStmt) stmt = NULL;
  int found;

  g_return_val_if_fail (out != NULL, FALSE);

  stmt = store_stmt (store,
    "SELECT id, username, password_hash, email, created_ms, deleted FROM users"
    " WHERE id = ?1 AND deleted = 0",
    "reading a user", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, user_id);
  found = store_step_row (store, stmt, "reading a user", error);
  if (found > 0)
    user_from_row (stmt, out);
  return found > 0;
}

gboolean
store_sqlite_user_set_password (Store *store, gint64 user_id, const char *password_hash,
                                GError **error)
{
  g_autoptr(VoipSqliteStmt) stmt = store_stmt (store,
    "UPDATE users SET password_hash = ?2 WHERE id = ?1 AND deleted = 0",
    "setting a password", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, user_id);
  voip_sqlite_bind_text (stmt, 2, password_hash);
  if (!store_step_done (store, stmt, "setting a password", error))
    return FALSE;
  if (sqlite3_changes (store->db) == 0)
    {
      g_set_error (error, STORE_ERROR, STORE_ERROR_NOT_FOUND,
                   "setting a password: no user %" G_GINT64_FORMAT, user_id);
      return FALSE;
    }
  return TRUE;
}

/* The statements that clean up after a deleted account, in order; each
 * takes the user id as ?1. */
static const char *const user_delete_cleanup[] = {
  "UPDATE profiles SET display_name = '', motd = '', city = '', phone = '', mail = '',"
  " language = '', avatar = x'', plugins = x'' WHERE user_id = ?1",
  "DELETE FROM tokens WHERE user_id = ?1",
  "DELETE FROM friends WHERE user_id = ?1 OR friend_id = ?1",
  "DELETE FROM requests WHERE from_id = ?1 OR to_id = ?1",
};

gboolean
store_sqlite_user_delete (Store *store, gint64 user_id, GError **error)
{
  /* The row stays, so the name stays reserved and old messages keep their
   * sender's name; only what identifies or authenticates the person goes. */
  {
    g_autoptr(VoipSqliteStmt) stmt = store_stmt (store,
      "UPDATE users SET deleted = 1, password_hash = '', email = ''"
      " WHERE id = ?1 AND deleted = 0",
      "deleting a user", error);

    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64 (stmt, 1, user_id);
    if (!store_step_done (store, stmt, "deleting a user", error))
      return FALSE;
    if (sqlite3_changes (store->db) == 0)
      {
        g_set_error (error, STORE_ERROR, STORE_ERROR_NOT_FOUND,
                     "deleting a user: no user %" G_GINT64_FORMAT, user_id);
        return FALSE;
      }
  }

  for (guint i = 0; i < G_N_ELEMENTS (user_delete_cleanup); i++)
    {
      g_autoptr(VoipSqliteStmt) stmt = store_stmt (store, user_delete_cleanup[i],
                                              "deleting a user", error);

      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, user_id);
      if (!store_step_done (store, stmt, "deleting a user", error))
        return FALSE;
    }
  return TRUE;
}

/* ---- tokens --------------------------------------------------------------- */

gboolean
store_sqlite_token_add (Store *store, gint64 user_id, const char *token_hash, gint64 now_ms,
                        GError **error)
{
  g_autoptr(VoipSqliteStmt) stmt = NULL;

  g_return_val_if_fail (token_hash != NULL, FALSE);

  stmt = store_stmt (store,
    "INSERT INTO tokens (token_hash, user_id, created_ms) VALUES (?1, ?2, ?3)",
    "adding a token", error);
  if (stmt == NULL)
    return FALSE;
  voip_sqlite_bind_text (stmt, 1, token_hash);
  sqlite3_bind_int64 (stmt, 2, user_id);
  sqlite3_bind_int64 (stmt, 3, now_ms);
  return store_step_done (store, stmt, "adding a token", error);
}

gint64
store_sqlite_token_find (Store *store, const char *token_hash, GError **error)
{
  g_autoptr(VoipSqliteStmt) stmt = NULL;

  g_return_val_if_fail (token_hash != NULL, 0);

  stmt = store_stmt (store,
    "SELECT t.user_id FROM tokens t JOIN users u ON u.id = t.user_id"
    " WHERE t.token_hash = ?1 AND u.deleted = 0",
    "finding a token", error);
  if (stmt == NULL)
    return 0;
  voip_sqlite_bind_text (stmt, 1, token_hash);
  if (store_step_row (store, stmt, "finding a token", error) <= 0)
    return 0;
  return sqlite3_column_int64 (stmt, 0);
}

gboolean
store_sqlite_token_delete (Store *store, const char *token_hash, GError **error)
{
  g_autoptr(VoipSqliteStmt) stmt = NULL;

  g_return_val_if_fail (token_hash != NULL, FALSE);

  stmt = store_stmt (store, "DELETE FROM tokens WHERE token_hash = ?1",
                     "deleting a token", error);
  if (stmt == NULL)
    return FALSE;
  voip_sqlite_bind_text (stmt, 1, token_hash);
  return store_step_done (store, stmt, "deleting a token", error);
}

gboolean
store_sqlite_token_delete_others (Store *store, gint64 user_id, const char *keep_hash,
                                  GError **error)
{
  /* With ?2 left unbound (NULL), IS NOT matches every token. */
  g_autoptr(VoipSqliteStmt) stmt = store_stmt (store,
    "DELETE FROM tokens WHERE user_id = ?1 AND token_hash IS NOT ?2",
    "revoking tokens", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, user_id);
  if (keep_hash != NULL)
    voip_sqlite_bind_text (stmt, 2, keep_hash);
  return store_step_done (store, stmt, "revoking tokens", error);
}
