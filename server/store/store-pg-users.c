/* store-pg-users.c — accounts and session tokens, in PostgreSQL.
 *
 * In PostgreSQL a failed statement aborts the transaction until the job's
 * savepoint is rolled back, where SQLite lets the job go on. The errors a
 * caller expects and handles (a username taken, a token already there) are
 * therefore found with ON CONFLICT DO NOTHING instead of a violation, so
 * that the job can still read and write after hearing of them.
 */
#define G_LOG_DOMAIN "voip-store"

#include "store-pg.h"
#include "voip-profile.h"

gint64
store_pg_user_create (Store *store, const char *username, const char *password_hash,
                      const char *email, gint64 now_ms, GError **error)
{
  const char *what = "creating a user";
  StorePgParams params = { 0, };
  g_autoptr(PGresult) result = NULL;

  g_return_val_if_fail (username != NULL, 0);

  store_pg_param_text (&params, username);
  store_pg_param_text (&params, password_hash != NULL ? password_hash : "");
  store_pg_param_text (&params, email != NULL ? email : "");
  store_pg_param_int (&params, now_ms);
  /* Every user has a profile row from the start, so that setting a field
   * is an UPDATE; both rows in one round trip. */
  result = store_pg_query (store,
    "WITH u AS (INSERT INTO users (username, password_hash, email, created_ms)"
    "  VALUES ($1, $2, $3, $4) ON CONFLICT (username) DO NOTHING RETURNING id)"
    " INSERT INTO profiles (user_id) SELECT id FROM u RETURNING user_id",
    &params, what, error);
  if (result == NULL)
    return 0;
  if (PQntuples (result) == 0)
    {
      g_set_error (error, STORE_ERROR, STORE_ERROR_EXISTS,
                   "%s: the username “%s” is taken", what, username);
      return 0;
    }
  return store_pg_int (result, 0, 0);
}

#define USER_COLUMNS "id, username, password_hash, email, created_ms, deleted"

static gboolean
user_from_result (PGresult *result, StoreUser *out)
{
  if (PQntuples (result) == 0)
    return FALSE;
  out->id = store_pg_int (result, 0, 0);
  out->username = store_pg_dup (result, 0, 1);
  out->password_hash = store_pg_dup (result, 0, 2);
  out->email = store_pg_dup (result, 0, 3);
  out->created_ms = store_pg_int (result, 0, 4);
  out->deleted = store_pg_bool (result, 0, 5);
  return TRUE;
}

static gboolean
find_by_name (Store *store, const char *sql, const char *username, StoreUser *out,
              GError **error)
{
  StorePgParams params = { 0, };
  g_autoptr(PGresult) result = NULL;

  g_return_val_if_fail (username != NULL && out != NULL, FALSE);

  store_pg_param_text (&params, username);
  result = store_pg_query (store, sql, &params, "finding a user", error);
  return result != NULL && user_from_result (result, out);
}

gboolean
store_pg_user_find (Store *store, const char *username, StoreUser *out, GError **error)
{
  return find_by_name (store,
    "SELECT " USER_COLUMNS " FROM users WHERE username = $1 AND NOT deleted",
    username, out, error);
}

gboolean
store_pg_user_find_any (Store *store, const char *username, StoreUser *out, GError **error)
{
  return find_by_name (store, "SELECT " USER_COLUMNS " FROM users WHERE username = $1",
                       username, out, error);
}

gboolean
store_pg_user_get (Store *store, gint64 user_id, StoreUser *out, GError **error)
{
  StorePgParams params = { 0, };
  g_autoptr(PGresult) result = NULL;

  g_return_val_if_fail (out != NULL, FALSE);

  store_pg_param_int (&params, user_id);
  result = store_pg_query (store,
    "SELECT " USER_COLUMNS " FROM users WHERE id = $1 AND NOT deleted",
    &params, "reading a user", error);
  return result != NULL && user_from_result (result, out);
}

gboolean
store_pg_user_set_password (Store *store, gint64 user_id, const char *password_hash,
                            GError **error)
{
  const char *what = "setting a password";
  StorePgParams params = { 0, };
  g_autoptr(PGresult) result = NULL;

  store_pg_param_int (&params, user_id);
  store_pg_param_text (&params, password_hash != NULL ? password_hash : "");
  result = store_pg_query (store,
    "UPDATE users SET password_hash = $2 WHERE id = $1 AND NOT deleted",
    &params, what, error);
  if (result == NULL)
    return FALSE;
  if (store_pg_changes (result) == 0)
    {
      g_set_error (error, STORE_ERROR, STORE_ERROR_NOT_FOUND,
                   "%s: no user %" G_GINT64_FORMAT, what, user_id);
      return FALSE;
    }
  return TRUE;
}

gboolean
store_pg_user_delete (Store *store, gint64 user_id, GError **error)
{
  const char *what = "deleting a user";
  StorePgParams params = { 0, };
  g_autoptr(PGresult) result = NULL;

  store_pg_param_int (&params, user_id);

  /* The row stays, so the name stays reserved and old messages keep their
   * sender's name; only what identifies or authenticates the person goes.
   * The cleanup runs in the same statement, only if the user was there. */
  result = store_pg_query (store,
    "WITH u AS (UPDATE users SET deleted = TRUE, password_hash = '', email = ''"
    "   WHERE id = $1 AND NOT deleted RETURNING id),"
    " p AS (UPDATE profiles SET display_name = '', motd = '', city = '', phone = '',"
    "   mail = '', language = '', avatar = '', plugins = ''"
    "   WHERE user_id IN (SELECT id FROM u)),"
    " t AS (DELETE FROM tokens WHERE user_id IN (SELECT id FROM u)),"
    " f AS (DELETE FROM friends WHERE user_id IN (SELECT id FROM u)"
    "   OR friend_id IN (SELECT id FROM u)),"
    " r AS (DELETE FROM requests WHERE from_id IN (SELECT id FROM u)"
    "   OR to_id IN (SELECT id FROM u))"
    " SELECT id FROM u",
    &params, what, error);
  if (result == NULL)
    return FALSE;
  if (PQntuples (result) == 0)
    {
      g_set_error (error, STORE_ERROR, STORE_ERROR_NOT_FOUND,
                   "%s: no user %" G_GINT64_FORMAT, what, user_id);
      return FALSE;
    }
  return TRUE;
}

/* ---- tokens --------------------------------------------------------------- */

gboolean
store_pg_token_add (Store *store, gint64 user_id, const char *token_hash, gint64 now_ms,
                    GError **error)
{
  const char *what = "adding a token";
  StorePgParams params = { 0, };
  g_autoptr(PGresult) result = NULL;

  g_return_val_if_fail (token_hash != NULL, FALSE);

  store_pg_param_text (&params, token_hash);
  store_pg_param_int (&params, user_id);
  store_pg_param_int (&params, now_ms);
  result = store_pg_query (store,
    "INSERT INTO tokens (token_hash, user_id, created_ms) VALUES ($1, $2, $3)"
    " ON CONFLICT (token_hash) DO NOTHING RETURNING 1",
    &params, what, error);
  if (result == NULL)
    return FALSE;
  if (PQntuples (result) == 0)
    {
      g_set_error (error, STORE_ERROR, STORE_ERROR_EXISTS, "%s: the token exists", what);
      return FALSE;
    }
  return TRUE;
}

gint64
store_pg_token_find (Store *store, const char *token_hash, GError **error)
{
  StorePgParams params = { 0, };
  g_autoptr(PGresult) result = NULL;

  g_return_val_if_fail (token_hash != NULL, 0);

  store_pg_param_text (&params, token_hash);
  result = store_pg_query (store,
    "SELECT t.user_id FROM tokens t JOIN users u ON u.id = t.user_id"
    " WHERE t.token_hash = $1 AND NOT u.deleted",
    &params, "finding a token", error);
  if (result == NULL || PQntuples (result) == 0)
    return 0;
  return store_pg_int (result, 0, 0);
}

gboolean
store_pg_token_delete (Store *store, const char *token_hash, GError **error)
{
  StorePgParams params = { 0, };
  g_autoptr(PGresult) result = NULL;

  g_return_val_if_fail (token_hash != NULL, FALSE);

  store_pg_param_text (&params, token_hash);
  result = store_pg_query (store, "DELETE FROM tokens WHERE token_hash = $1",
                           &params, "deleting a token", error);
  return result != NULL;
}

gboolean
store_pg_token_delete_others (Store *store, gint64 user_id, const char *keep_hash,
                              GError **error)
{
  StorePgParams params = { 0, };
  g_autoptr(PGresult) result = NULL;

  store_pg_param_int (&params, user_id);
  store_pg_param_text (&params, keep_hash);   /* NULL: IS DISTINCT FROM matches all */
  result = store_pg_query (store,
    "DELETE FROM tokens WHERE user_id = $1 AND token_hash IS DISTINCT FROM $2",
    &params, "revoking tokens", error);
  return result != NULL;
}

/* ---- profiles ------------------------------------------------------------- */

gboolean
store_pg_profile_get (Store *store, gint64 user_id, StoreProfile *out, GError **error)
{
  const char *what = "reading a profile";
  StorePgParams params = { 0, };
  g_autoptr(PGresult) result = NULL;
  g_autoptr(GBytes) plugins = NULL;

  g_return_val_if_fail (out != NULL, FALSE);

  store_pg_param_int (&params, user_id);
  result = store_pg_query (store,
    "SELECT display_name, motd, city, phone, mail, language, avatar, plugins"
    " FROM profiles WHERE user_id = $1",
    &params, what, error);
  if (result == NULL)
    return FALSE;
  if (PQntuples (result) == 0)
    {
      g_set_error (error, STORE_ERROR, STORE_ERROR_NOT_FOUND,
                   "%s: no user %" G_GINT64_FORMAT, what, user_id);
      return FALSE;
    }

  out->display_name = store_pg_dup (result, 0, 0);
  out->motd = store_pg_dup (result, 0, 1);
  out->city = store_pg_dup (result, 0, 2);
  out->phone = store_pg_dup (result, 0, 3);
  out->mail = store_pg_dup (result, 0, 4);
  out->language = store_pg_dup (result, 0, 5);
  out->avatar = store_pg_bytes (result, 0, 6);
  /* Untrusted, as for SQLite: a damaged blob reads as defaults. */
  plugins = store_pg_bytes (result, 0, 7);
  out->plugins = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE ("a(ss)"),
                                                               plugins, FALSE));
  return TRUE;
}

gboolean
store_pg_profile_set (Store *store, gint64 user_id, GVariant *fields, GError **error)
{
  const char *what = "setting a profile";
  g_autoptr(GVariant) owned = NULL;
  /* What the parameters point into, alive until the query has run. */
  g_autoptr(GPtrArray) values = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  g_autoptr(GPtrArray) blobs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  StorePgParams params = { 0, };
  g_autoptr(PGresult) result = NULL;

  g_return_val_if_fail (fields != NULL &&
                        g_variant_is_of_type (fields, G_VARIANT_TYPE_VARDICT), FALSE);

  /* Consumes a floating reference, as the SQLite backend does. */
  owned = g_variant_ref_sink (fields);

  /* Columns in VoipProfileFieldId order, as in store-profiles.c; an absent
   * field is NULL and coalesce() keeps the stored value. */
  store_pg_param_int (&params, user_id);
  for (guint i = 0; i < VOIP_PROFILE_N_FIELDS; i++)
    {
      const VoipProfileField *field = &voip_profile_fields[i];
      GVariant *value = g_variant_lookup_value (owned, field->key, G_VARIANT_TYPE (field->type));
      GBytes *data;

      if (value == NULL)
        {
          store_pg_param_null (&params);
          continue;
        }
      g_ptr_array_add (values, value);
      if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
        {
          store_pg_param_text (&params, g_variant_get_string (value, NULL));
          continue;
        }
      /* Bytes and the plugin list are stored serialised, in normal form. */
      value = g_variant_get_normal_form (value);
      g_ptr_array_add (values, value);
      data = g_variant_get_data_as_bytes (value);
      g_ptr_array_add (blobs, data);
      store_pg_param_bytes (&params, data);
    }

  result = store_pg_query (store,
    "UPDATE profiles SET"
    " display_name = coalesce ($2, display_name),"
    " motd = coalesce ($3, motd),"
    " city = coalesce ($4, city),"
    " phone = coalesce ($5, phone),"
    " mail = coalesce ($6, mail),"
    " language = coalesce ($7, language),"
    " avatar = coalesce ($8, avatar),"
    " plugins = coalesce ($9, plugins)"
    " WHERE user_id = $1",
    &params, what, error);
  if (result == NULL)
    return FALSE;
  if (store_pg_changes (result) == 0)
    {
      g_set_error (error, STORE_ERROR, STORE_ERROR_NOT_FOUND,
                   "%s: no user %" G_GINT64_FORMAT, what, user_id);
      return FALSE;
    }
  return TRUE;
}
