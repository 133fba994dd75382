/* store-profiles.c — the profile fields of a user (proto/voip-profile.h). */
#define G_LOG_DOMAIN "voip-store"

#include "store-private.h"
#include "voip-profile.h"

/* The statements below list the columns in VoipProfileFieldId order, and
 * the column names are the field keys; a new field needs a migration and a
 * place in both. */
G_STATIC_ASSERT (VOIP_PROFILE_N_FIELDS == 8);

gboolean
store_sqlite_profile_get (Store *store, gint64 user_id, StoreProfile *out, GError **error)
{
  g_autoptr(VoipSqliteStmt) stmt = NULL;
  g_autoptr(GBytes) plugins = NULL;
  int found;

  g_return_val_if_fail (out != NULL, FALSE);

  stmt = store_stmt (store,
    "SELECT display_name, motd, city, phone, mail, language, avatar, plugins"
    " FROM profiles WHERE user_id = ?1",
    "reading a profile", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, user_id);
  found = store_step_row (store, stmt, "reading a profile", error);
  if (found < 0)
    return FALSE;
  if (found == 0)
    {
      g_set_error (error, STORE_ERROR, STORE_ERROR_NOT_FOUND,
                   "reading a profile: no user %" G_GINT64_FORMAT, user_id);
      return FALSE;
    }

  out->display_name = voip_sqlite_column_dup (stmt, 0);
  out->motd = voip_sqlite_column_dup (stmt, 1);
  out->city = voip_sqlite_column_dup (stmt, 2);
  out->phone = voip_sqlite_column_dup (stmt, 3);
  out->mail = voip_sqlite_column_dup (stmt, 4);
  out->language = voip_sqlite_column_dup (stmt, 5);
  out->avatar = voip_sqlite_column_bytes (stmt, 6);

  /* Untrusted (trusted = FALSE): a damaged blob then reads as well-formed
   * defaults instead of crashing. An empty blob is the empty array. */
  plugins = voip_sqlite_column_bytes (stmt, 7);
  out->plugins = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE ("a(ss)"),
                                                               plugins, FALSE));
  return TRUE;
}

gboolean
store_sqlite_profile_set (Store *store, gint64 user_id, GVariant *fields, GError **error)
{
  g_autoptr(VoipSqliteStmt) stmt = NULL;
  g_autoptr(GVariant) owned = NULL;

  g_return_val_if_fail (fields != NULL &&
                        g_variant_is_of_type (fields, G_VARIANT_TYPE_VARDICT), FALSE);

  /* Like GLib's setters, consume a floating reference, so that
   * store_profile_set (store, id, g_variant_builder_end (&b), &error) does
   * not leak. */
  owned = g_variant_ref_sink (fields);

  /* One statement for any subset of fields: an absent field binds NULL and
   * coalesce() keeps the stored value. */
  stmt = store_stmt (store,
    "UPDATE profiles SET"
    " display_name = coalesce (?2, display_name),"
    " motd = coalesce (?3, motd),"
    " city = coalesce (?4, city),"
    " phone = coalesce (?5, phone),"
    " mail = coalesce (?6, mail),"
    " language = coalesce (?7, language),"
    " avatar = coalesce (?8, avatar),"
    " plugins = coalesce (?9, plugins)"
    " WHERE user_id = ?1",
    "setting a profile", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, user_id);

  for (guint i = 0; i < VOIP_PROFILE_N_FIELDS; i++)
    {
      const VoipProfileField *field = &voip_profile_fields[i];
      int param = (int) field->id + 2;
      g_autoptr(GVariant) value = NULL;
      g_autoptr(GVariant) normal = NULL;
      g_autoptr(GBytes) data = NULL;

      value = g_variant_lookup_value (fields, field->key, G_VARIANT_TYPE (field->type));
      if (value == NULL)
        continue;

      /* TRANSIENT below: the values die with this iteration. */
      if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
        {
          sqlite3_bind_text (stmt, param, g_variant_get_string (value, NULL), -1,
                             SQLITE_TRANSIENT);
          continue;
        }

      /* Bytes and the plugin list are stored serialised; the normal form
       * makes that canonical. */
      normal = g_variant_get_normal_form (value);
      data = g_variant_get_data_as_bytes (normal);
      if (g_bytes_get_size (data) == 0)
        sqlite3_bind_zeroblob (stmt, param, 0);
      else
        sqlite3_bind_blob64 (stmt, param, g_bytes_get_data (data, NULL),
                             g_bytes_get_size (data), SQLITE_TRANSIENT);
    }

  if (!store_step_done (store, stmt, "setting a profile", error))
    return FALSE;
  if (sqlite3_changes (store->db) == 0)
    {
      g_set_error (error, STORE_ERROR, STORE_ERROR_NOT_FOUND,
                   "setting a profile: no user %" G_GINT64_FORMAT, user_id);
      return FALSE;
    }
  return TRUE;
}
