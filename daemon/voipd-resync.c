/* voipd-resync.c — the resync after each login (see the header). */
#define G_LOG_DOMAIN "voipd"

#include "voipd-contacts.h"
#include "voipd-conversation.h"
#include "voipd-groups.h"
#include "voipd-resync.h"

typedef enum {
  SYNC_PRESENCE, SYNC_PROFILE, SYNC_CONTACTS, SYNC_PENDING, SYNC_GROUPS, SYNC_MESSAGES,
  SYNC_OUTBOX, SYNC_DONE
} SyncStep;

typedef struct {
  VoipdAccount    *account;          /* the task's source object */
  VoipdConnection *connection;       /* the login's: a resync never crosses to another */
  VoipdCache      *cache;
  char            *username;
  VoipDBusAccount *skeleton;
  VoipPresence     wanted_presence;
  SyncStep         step;
  GHashTable      *seen_contacts;    /* usernames the server still knows */
} Sync;

static void sync_step (GTask *task);

static void
sync_free (Sync *sync)
{
  g_object_unref (sync->connection);
  g_object_unref (sync->cache);
  g_free (sync->username);
  g_object_unref (sync->skeleton);
  g_hash_table_unref (sync->seen_contacts);
  g_free (sync);
}

static void
apply_own_profile (VoipDBusAccount *skeleton, GVariant *profile)
{
  const char *display_name, *motd, *city, *phone, *mail, *language;

  g_variant_get (profile, "(&s&su&s&s&s&s&s@ay@a(ss))", NULL, &display_name, NULL, &motd,
                 &city, &phone, &mail, &language, NULL, NULL);
  voip_dbus_account_set_display_name (skeleton, display_name);
  voip_dbus_account_set_motd (skeleton, motd);
  voip_dbus_account_set_city (skeleton, city);
  voip_dbus_account_set_phone (skeleton, phone);
  voip_dbus_account_set_mail (skeleton, mail);
  voip_dbus_account_set_language (skeleton, language);
}

/* Contacts and groups the server no longer lists were removed while we were away. */
static void
sync_drop_stale_contacts (Sync *sync)
{
  g_autoptr(GPtrArray) cached = voipd_cache_list_contacts (sync->cache, NULL);

  for (guint i = 0; cached != NULL && i < cached->len; i++)
    {
      VoipdCachedContact *c = cached->pdata[i];
      if (!g_hash_table_contains (sync->seen_contacts, c->username))
        voipd_contacts_remove (sync->account, c->username);
    }
}

static void
sync_groups (Sync *sync, GVariant *groups)
{
  VoipdAccount *account = sync->account;
  g_autoptr(GHashTable) seen = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autoptr(GPtrArray) cached = voipd_cache_list_groups (sync->cache, NULL);
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));

  for (gsize i = 0; i < g_variant_n_children (groups); i++)
    {
      g_autoptr(GVariant) group = g_variant_get_child_value (groups, i);
      guint64 id;

      g_variant_get_child (group, 0, "t", &id);
      g_array_append_val (ids, id);
      voipd_groups_put_wire (account, group);
    }
  for (guint i = 0; i < ids->len; i++)
    g_hash_table_add (seen, &g_array_index (ids, gint64, i));
  for (guint i = 0; cached != NULL && i < cached->len; i++)
    {
      VoipdCachedGroup *g = cached->pdata[i];
      if (!g_hash_table_contains (seen, &g->id))
        voipd_groups_remove (account, g->id);
    }
}

static void
on_outbox_flushed (gpointer user_data)
{
  GTask *task = user_data;
  Sync *sync = g_task_get_task_data (task);

  sync->step = SYNC_DONE;
  sync_step (task);
}

static void
sync_contacts (Sync *sync, GVariant *reply)
{
  g_autoptr(GVariant) list = g_variant_get_child_value (reply, 0);

  for (gsize i = 0; i < g_variant_n_children (list); i++)
    {
      const char *username, *display_name, *motd;
      guint32 presence;

      g_variant_get_child (list, i, "(&s&su&s)", &username, &display_name, &presence, &motd);
      voipd_contacts_put (sync->account, username, display_name, motd, VOIP_SUBSCRIPTION_FRIEND);
      voipd_contacts_set_presence (sync->account, username, presence);
      /* The list has no city, phone, mail, language or avatar. */
      voipd_account_refresh_contact (sync->account, username);
      g_hash_table_add (sync->seen_contacts, g_strdup (username));
    }
}

static void
sync_pending (Sync *sync, GVariant *reply)
{
  for (int incoming = 1; incoming >= 0; incoming--)
    {
      g_autoptr(GVariant) names = g_variant_get_child_value (reply, incoming ? 0 : 1);

      for (gsize i = 0; i < g_variant_n_children (names); i++)
        {
          const char *username;
          VoipDBusContact *existing;

          g_variant_get_child (names, i, "&s", &username);
          existing = voipd_contacts_lookup (sync->account, username);
          voipd_contacts_put (sync->account, username,
                              existing ? voip_dbus_contact_get_display_name (existing) : "",
                              existing ? voip_dbus_contact_get_motd (existing) : "",
                              incoming ? VOIP_SUBSCRIPTION_INCOMING
                                       : VOIP_SUBSCRIPTION_OUTGOING);
          g_hash_table_add (sync->seen_contacts, g_strdup (username));
        }
    }
  sync_drop_stale_contacts (sync);
}

/* One page of missed messages; TRUE when the server has more. */
static gboolean
sync_messages (Sync *sync, GVariant *reply)
{
  VoipdCache *cache = sync->cache;
  g_autoptr(GVariant) list = g_variant_get_child_value (reply, 0);
  gboolean more = FALSE;

  g_variant_get_child (reply, 1, "b", &more);
  /* The page is one transaction in the cache, not one per message. */
  voipd_cache_hold (cache);
  for (gsize i = 0; i < g_variant_n_children (list); i++)
    {
      g_autoptr(GVariant) message = g_variant_get_child_value (list, i);
      gboolean deleted, edited;

      g_variant_get (message, "(ttxsstusu@aybb&s)", NULL, NULL, NULL, NULL, NULL, NULL,
                     NULL, NULL, NULL, NULL, &edited, &deleted, NULL);
      voipd_conversation_handle_event (voipd_account_get_conversations (sync->account),
                                       deleted ? VOIP_MSG_MESSAGE_DELETED
                                       : edited ? VOIP_MSG_MESSAGE_EDITED
                                                : VOIP_MSG_MESSAGE_RECEIVED, message);
    }
  voipd_cache_release (cache);
  return more;
}

static void
on_sync_reply (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Sync *sync = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr(GVariant) reply = voipd_connection_request_finish (VOIPD_CONNECTION (source),
                                                               result, &error);

  if (reply == NULL)
    {
      /* A lost connection is retried from the start by the reconnection. */
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }

  switch (sync->step)
    {
    case SYNC_PRESENCE:
      break;
    case SYNC_PROFILE:
      apply_own_profile (sync->skeleton, reply);
      break;
    case SYNC_CONTACTS:
      sync_contacts (sync, reply);
      break;
    case SYNC_PENDING:
      sync_pending (sync, reply);
      break;
    case SYNC_GROUPS:
      {
        g_autoptr(GVariant) list = g_variant_get_child_value (reply, 0);

        sync_groups (sync, list);
      }
      break;
    case SYNC_MESSAGES:
      if (sync_messages (sync, reply))
        {
          sync_step (task);   /* the next page, after the new last_seq */
          return;
        }
      break;
    default:
      break;
    }
  sync->step++;
  sync_step (task);
}

/* Takes the caller's reference on the task. */
static void
sync_step (GTask *task)
{
  Sync *sync = g_task_get_task_data (task);
  GError *error = NULL;
  guint16 code;
  GVariant *payload;

  if (g_task_return_error_if_cancelled (task))
    {
      g_object_unref (task);
      return;
    }
  if (!voipd_account_check_online (sync->account, &error))
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  switch (sync->step)
    {
    case SYNC_PRESENCE:
      if (sync->wanted_presence == VOIP_PRESENCE_ONLINE)
        {
          sync->step++;
          sync_step (task);
          return;
        }
      code = VOIP_MSG_SET_PRESENCE;
      payload = g_variant_new ("(u)", sync->wanted_presence);
      break;
    case SYNC_PROFILE:
      code = VOIP_MSG_GET_PROFILE;
      payload = g_variant_new ("(s)", sync->username);
      break;
    case SYNC_CONTACTS:
      code = VOIP_MSG_CONTACT_LIST;
      payload = g_variant_new ("()");
      break;
    case SYNC_PENDING:
      code = VOIP_MSG_CONTACT_PENDING;
      payload = g_variant_new ("()");
      break;
    case SYNC_GROUPS:
      code = VOIP_MSG_GROUP_LIST;
      payload = g_variant_new ("()");
      break;
    case SYNC_MESSAGES:
      code = VOIP_MSG_SYNC;
      payload = g_variant_new ("(tu)", (guint64) voipd_cache_get_last_seq (sync->cache),
                               (guint32) VOIP_HISTORY_PAGE_MAX);
      break;
    case SYNC_OUTBOX:
      voipd_outbox_flush (voipd_account_get_conversations (sync->account),
                          G_CALLBACK (on_outbox_flushed), task);
      return;
    default:
      g_debug ("resync done");
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }
  voipd_connection_request_async (sync->connection, code, payload,
                                  g_task_get_cancellable (task), on_sync_reply, task);
}

void
voipd_resync_async (VoipdAccount        *account,
                    VoipdConnection     *connection,
                    VoipdCache          *cache,
                    const char          *username,
                    VoipDBusAccount     *skeleton,
                    VoipPresence         wanted_presence,
                    GCancellable        *cancellable,
                    GAsyncReadyCallback  callback,
                    gpointer             user_data)
{
  GTask *task = g_task_new (account, cancellable, callback, user_data);
  Sync *sync = g_new0 (Sync, 1);

  g_task_set_source_tag (task, voipd_resync_async);
  sync->account = account;
  sync->connection = g_object_ref (connection);
  sync->cache = g_object_ref (cache);
  sync->username = g_strdup (username);
  sync->skeleton = g_object_ref (skeleton);
  sync->wanted_presence = wanted_presence;
  sync->seen_contacts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_task_set_task_data (task, sync, (GDestroyNotify) sync_free);
  sync_step (task);
}

gboolean
voipd_resync_finish (VoipdAccount  *account,
                     GAsyncResult  *result,
                     GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, account), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
