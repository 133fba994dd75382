/* store.c — the store's public face: opening the backend a location names,
 * and forwarding each operation of store.h to it.
 *
 * A location is a libpq URI (postgresql://… or postgres://…) for
 * PostgreSQL (store-pg.c), anything else a file path for SQLite
 * (store-sqlite.c). Both run their jobs on the store thread
 * (store-thread.c) with the same group commit.
 */
#define G_LOG_DOMAIN "voip-store"

#include "store-backend.h"

G_DEFINE_QUARK (store-error-quark, store_error)

gboolean
store_location_is_postgresql (const char *location)
{
  g_return_val_if_fail (location != NULL, FALSE);
  return g_str_has_prefix (location, "postgresql://") || g_str_has_prefix (location, "postgres://");
}

static void
store_free (Store *store)
{
  store->backend->close (store);
  g_clear_pointer (&store->queue, g_async_queue_unref);
  g_clear_pointer (&store->main_context, g_main_context_unref);
  g_free (store);
}

Store *
store_open (const char *location, GMainContext *main_context, GError **error)
{
  Store *store;

  g_return_val_if_fail (location != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  store = g_new0 (Store, 1);
  store->backend = store_location_is_postgresql (location) ? &store_pg_backend
                                                           : &store_sqlite_backend;
  store->main_context = main_context != NULL ? g_main_context_ref (main_context)
                                             : g_main_context_ref (g_main_context_default ());
  store->queue = g_async_queue_new ();

  if (!store->backend->open (store, location, error) || !store_thread_start (store, error))
    {
      store_free (store);
      return NULL;
    }
  return store;
}

void
store_close (Store *store)
{
  if (store == NULL)
    return;

  store_thread_stop (store);
  store_free (store);
}

int
store_schema_version (Store *store)
{
  g_return_val_if_fail (store != NULL, 0);
  return store->schema_version;
}

/* ---- what reads hand out ---------------------------------------------------- */

void
store_user_clear (StoreUser *user)
{
  g_clear_pointer (&user->username, g_free);
  g_clear_pointer (&user->password_hash, g_free);
  g_clear_pointer (&user->email, g_free);
  user->id = 0;
  user->created_ms = 0;
  user->deleted = FALSE;
}

void
store_profile_clear (StoreProfile *profile)
{
  g_clear_pointer (&profile->display_name, g_free);
  g_clear_pointer (&profile->motd, g_free);
  g_clear_pointer (&profile->city, g_free);
  g_clear_pointer (&profile->phone, g_free);
  g_clear_pointer (&profile->mail, g_free);
  g_clear_pointer (&profile->language, g_free);
  g_clear_pointer (&profile->avatar, g_bytes_unref);
  g_clear_pointer (&profile->plugins, g_variant_unref);
}

void
store_contact_free (StoreContact *contact)
{
  if (contact == NULL)
    return;
  g_free (contact->username);
  g_free (contact->display_name);
  g_free (contact->motd);
  g_free (contact);
}

void
store_group_clear (StoreGroup *group)
{
  group->id = 0;
  group->owner_id = 0;
  g_clear_pointer (&group->name, g_free);
  g_clear_pointer (&group->owner, g_free);
  g_clear_pointer (&group->member_ids, g_array_unref);
  g_clear_pointer (&group->members, g_ptr_array_unref);
}

void
store_message_free (StoreMessage *message)
{
  if (message == NULL)
    return;
  g_free (message->sender);
  g_free (message->recipient);
  g_free (message->text);
  g_clear_pointer (&message->voice, g_bytes_unref);
  g_free (message->client_id);
  g_free (message);
}

/* ---- forwarding ---------------------------------------------------------- */

gint64
store_user_create (Store *store, const char *username, const char *password_hash,
                   const char *email, gint64 now_ms, GError **error)
{
  return store->backend->user_create (store, username, password_hash, email, now_ms, error);
}

gboolean
store_user_find (Store *store, const char *username, StoreUser *out, GError **error)
{
  return store->backend->user_find (store, username, out, error);
}

gboolean
store_user_find_any (Store *store, const char *username, StoreUser *out, GError **error)
{
  return store->backend->user_find_any (store, username, out, error);
}

gboolean
store_user_get (Store *store, gint64 user_id, StoreUser *out, GError **error)
{
  return store->backend->user_get (store, user_id, out, error);
}

gboolean
store_user_set_password (Store *store, gint64 user_id, const char *password_hash, GError **error)
{
  return store->backend->user_set_password (store, user_id, password_hash, error);
}

gboolean
store_user_delete (Store *store, gint64 user_id, GError **error)
{
  return store->backend->user_delete (store, user_id, error);
}

gboolean
store_profile_get (Store *store, gint64 user_id, StoreProfile *out, GError **error)
{
  return store->backend->profile_get (store, user_id, out, error);
}

gboolean
store_profile_set (Store *store, gint64 user_id, GVariant *fields, GError **error)
{
  return store->backend->profile_set (store, user_id, fields, error);
}

gboolean
store_token_add (Store *store, gint64 user_id, const char *token_hash, gint64 now_ms,
                 GError **error)
{
  return store->backend->token_add (store, user_id, token_hash, now_ms, error);
}

gint64
store_token_find (Store *store, const char *token_hash, GError **error)
{
  return store->backend->token_find (store, token_hash, error);
}

gboolean
store_token_delete (Store *store, const char *token_hash, GError **error)
{
  return store->backend->token_delete (store, token_hash, error);
}

gboolean
store_token_delete_others (Store *store, gint64 user_id, const char *keep_hash, GError **error)
{
  return store->backend->token_delete_others (store, user_id, keep_hash, error);
}

int
store_contact_state (Store *store, gint64 user_id, gint64 other_id, GError **error)
{
  return store->backend->contact_state (store, user_id, other_id, error);
}

gboolean
store_contact_request (Store *store, gint64 from_id, gint64 to_id, gint64 now_ms, GError **error)
{
  return store->backend->contact_request (store, from_id, to_id, now_ms, error);
}

gboolean
store_contact_befriend (Store *store, gint64 a_id, gint64 b_id, gint64 now_ms, GError **error)
{
  return store->backend->contact_befriend (store, a_id, b_id, now_ms, error);
}

gboolean
store_contact_unlink (Store *store, gint64 a_id, gint64 b_id, GError **error)
{
  return store->backend->contact_unlink (store, a_id, b_id, error);
}

GPtrArray *
store_contact_friends (Store *store, gint64 user_id, GError **error)
{
  return store->backend->contact_friends (store, user_id, error);
}

GPtrArray *
store_contact_pending (Store *store, gint64 user_id, gboolean incoming, GError **error)
{
  return store->backend->contact_pending (store, user_id, incoming, error);
}

gint64
store_group_create (Store *store, const char *name, gint64 owner_id, gint64 now_ms,
                    GError **error)
{
  return store->backend->group_create (store, name, owner_id, now_ms, error);
}

gboolean
store_group_get (Store *store, gint64 group_id, StoreGroup *out, GError **error)
{
  return store->backend->group_get (store, group_id, out, error);
}

gboolean
store_group_is_member (Store *store, gint64 group_id, gint64 user_id, GError **error)
{
  return store->backend->group_is_member (store, group_id, user_id, error);
}

GArray *
store_group_list_for_user (Store *store, gint64 user_id, GError **error)
{
  return store->backend->group_list_for_user (store, user_id, error);
}

gboolean
store_group_add_member (Store *store, gint64 group_id, gint64 user_id, gint64 now_ms,
                        GError **error)
{
  return store->backend->group_add_member (store, group_id, user_id, now_ms, error);
}

gboolean
store_group_remove_member (Store *store, gint64 group_id, gint64 user_id, GError **error)
{
  return store->backend->group_remove_member (store, group_id, user_id, error);
}

gboolean
store_group_set_owner (Store *store, gint64 group_id, gint64 owner_id, GError **error)
{
  return store->backend->group_set_owner (store, group_id, owner_id, error);
}

gboolean
store_group_rename (Store *store, gint64 group_id, const char *name, GError **error)
{
  return store->backend->group_rename (store, group_id, name, error);
}

gboolean
store_group_delete (Store *store, gint64 group_id, GError **error)
{
  return store->backend->group_delete (store, group_id, error);
}

gboolean
store_message_insert (Store *store, StoreMessage *message, gboolean *duplicate, GError **error)
{
  return store->backend->message_insert (store, message, duplicate, error);
}

StoreMessage *
store_message_get (Store *store, gint64 message_id, gboolean with_voice, GError **error)
{
  return store->backend->message_get (store, message_id, with_voice, error);
}

gboolean
store_message_edit (Store *store, gint64 message_id, const char *text, gint64 *seq,
                    GError **error)
{
  return store->backend->message_edit (store, message_id, text, seq, error);
}

gboolean
store_message_delete (Store *store, gint64 message_id, gint64 *seq, GError **error)
{
  return store->backend->message_delete (store, message_id, seq, error);
}

GPtrArray *
store_message_history (Store *store, gint64 a_id, gint64 b_id, gint64 group_id, gint64 before_id,
                       guint limit, gsize max_bytes, gboolean *more, GError **error)
{
  return store->backend->message_history (store, a_id, b_id, group_id, before_id, limit,
                                          max_bytes, more, error);
}

GPtrArray *
store_message_sync (Store *store, gint64 user_id, gint64 after_seq, guint limit, gsize max_bytes,
                    gboolean *more, GError **error)
{
  return store->backend->message_sync (store, user_id, after_seq, limit, max_bytes, more, error);
}
