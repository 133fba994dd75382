/* voipd-contacts.c — contact objects and their methods.
 *
 * The object manager is the registry: a contact exists when its path is
 * exported. State changes go to the skeleton's properties, which GDBus turns
 * into PropertiesChanged; objects come and go with InterfacesAdded/Removed. */
#define G_LOG_DOMAIN "voipd"

#include "voipd-calls.h"
#include "voipd-contacts.h"
#include "voipd-conversation.h"
#include "voipd-errors.h"

char *
voipd_contact_path (const char *username)
{
  g_autofree char *escaped = g_dbus_escape_object_path (username);

  return g_strconcat (VOIPD_OBJECT_ROOT "/contact/", escaped, NULL);
}

VoipContact *
voipd_contacts_lookup (VoipdAccount *account, const char *username)
{
  g_autofree char *path = voipd_contact_path (username);
  g_autoptr(GDBusObject) object = g_dbus_object_manager_get_object (
      G_DBUS_OBJECT_MANAGER (voipd_account_get_manager (account)), path);

  return object ? voip_object_peek_contact (VOIP_OBJECT (object)) : NULL;
}

static VoipdConversation
conversation_of (VoipContact *contact)
{
  return (VoipdConversation) { .peer = voip_contact_get_username (contact), .group = 0 };
}

/* ---- methods ------------------------------------------------------------------ */

static GVariant *
after_accept (VoipdAccount *account, GVariant *reply, gpointer data)
{
  VoipContact *contact = voipd_contacts_lookup (account, data);

  /* The server tells the other side and our other sessions, not us. */
  if (contact != NULL)
    voipd_contacts_put (account, data, voip_contact_get_display_name (contact),
                        voip_contact_get_motd (contact), VOIP_SUBSCRIPTION_FRIEND);
  voipd_account_refresh_contact (account, data);
  return NULL;
}

static GVariant *
after_unlink (VoipdAccount *account, GVariant *reply, gpointer data)
{
  voipd_contacts_remove (account, data);
  return NULL;
}

static gboolean
on_accept (VoipContact *contact, GDBusMethodInvocation *invocation, gpointer account)
{
  const char *username = voip_contact_get_username (contact);

  voipd_account_call (account, invocation, VOIP_MSG_CONTACT_ACCEPT,
                      g_variant_new ("(s)", username), after_accept, g_strdup (username), g_free);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_deny (VoipContact *contact, GDBusMethodInvocation *invocation, gpointer account)
{
  const char *username = voip_contact_get_username (contact);

  voipd_account_call (account, invocation, VOIP_MSG_CONTACT_DENY,
                      g_variant_new ("(s)", username), after_unlink, g_strdup (username), g_free);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_remove (VoipContact *contact, GDBusMethodInvocation *invocation, gpointer account)
{
  const char *username = voip_contact_get_username (contact);

  voipd_account_call (account, invocation, VOIP_MSG_CONTACT_REMOVE,
                      g_variant_new ("(s)", username), after_unlink, g_strdup (username), g_free);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_send_message (VoipContact *contact, GDBusMethodInvocation *invocation, const char *text,
                 gpointer account)
{
  voipd_conversation_send_text (account, conversation_of (contact), invocation, text);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_send_voice_message (VoipContact *contact, GDBusMethodInvocation *invocation, GVariant *ogg,
                       guint duration_ms, gpointer account)
{
  voipd_conversation_send_voice (account, conversation_of (contact), invocation, ogg,
                                 duration_ms);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_get_history (VoipContact *contact, GDBusMethodInvocation *invocation, guint64 before_id,
                guint limit, gpointer account)
{
  voipd_conversation_history (account, conversation_of (contact), invocation, before_id, limit);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_get_voice_message (VoipContact *contact, GDBusMethodInvocation *invocation, guint64 id,
                      gpointer account)
{
  voipd_conversation_get_voice (account, invocation, id);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_edit_message (VoipContact *contact, GDBusMethodInvocation *invocation, guint64 id,
                 const char *text, gpointer account)
{
  voipd_conversation_edit (account, invocation, id, text);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_delete_message (VoipContact *contact, GDBusMethodInvocation *invocation, guint64 id,
                   gpointer account)
{
  voipd_conversation_delete (account, invocation, id);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_mark_read (VoipContact *contact, GDBusMethodInvocation *invocation, gpointer account)
{
  g_autoptr(GError) error = NULL;

  if (!voipd_cache_clear_unread (voipd_account_get_cache (account),
                                 voip_contact_get_username (contact), 0, &error))
    {
      g_dbus_method_invocation_return_gerror (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  voip_contact_set_unread (contact, 0);
  voip_contact_complete_mark_read (contact, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_send_plugin_message (VoipContact *contact, GDBusMethodInvocation *invocation,
                        const char *plugin, GVariant *data, gpointer account)
{
  voipd_account_call (account, invocation, VOIP_MSG_PLUGIN_SEND,
                      g_variant_new ("(ss@ay)", voip_contact_get_username (contact), plugin,
                                     data),
                      NULL, NULL, NULL);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_call (VoipContact *contact, GDBusMethodInvocation *invocation, gpointer account)
{
  voipd_calls_invite (voipd_account_get_calls (account), invocation,
                      voip_contact_get_username (contact), 0);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ---- objects --------------------------------------------------------------------- */

static void contact_set (VoipContact *contact, const char *display_name, const char *motd,
                         guint subscription);

/* ---- muting ------------------------------------------------------------------- */

/* Muted lives in GSettings (muted-contacts), so that it survives restarts and
 * a person can read and change it with gsettings; the property mirrors it. */
static void
contact_sync_muted (VoipContact *contact, GSettings *settings)
{
  g_auto(GStrv) muted = g_settings_get_strv (settings, "muted-contacts");
  gboolean listed = g_strv_contains ((const char *const *) muted,
                                     voip_contact_get_username (contact));

  if (voip_contact_get_muted (contact) != listed)
    voip_contact_set_muted (contact, listed);
}

static void
on_muted_contacts_changed (GSettings *settings, const char *key, VoipContact *contact)
{
  contact_sync_muted (contact, settings);
}

/* A client wrote the property: list or unlist the contact. */
static void
on_muted_notify (VoipContact *contact, GParamSpec *pspec, GSettings *settings)
{
  const char *username = voip_contact_get_username (contact);
  gboolean muted = voip_contact_get_muted (contact);
  g_auto(GStrv) listed = g_settings_get_strv (settings, "muted-contacts");
  g_autoptr(GStrvBuilder) builder = NULL;
  g_auto(GStrv) updated = NULL;

  if (g_strv_contains ((const char *const *) listed, username) == muted)
    return;
  builder = g_strv_builder_new ();
  for (guint i = 0; listed[i] != NULL; i++)
    if (!g_str_equal (listed[i], username))
      g_strv_builder_add (builder, listed[i]);
  if (muted)
    g_strv_builder_add (builder, username);
  updated = g_strv_builder_end (builder);
  g_settings_set_strv (settings, "muted-contacts", (const char *const *) updated);
}

/* Exported only once its properties are set, so that InterfacesAdded
 * already carries them. */
static VoipContact *
contact_create (VoipdAccount *account, const char *username, const char *display_name,
                const char *motd, guint subscription, guint unread)
{
  g_autofree char *path = voipd_contact_path (username);
  g_autoptr(VoipObjectSkeleton) object = voip_object_skeleton_new (path);
  g_autoptr(VoipContact) contact = voip_contact_skeleton_new ();
  GSettings *settings = voipd_account_get_settings (account);

  voip_contact_set_username (contact, username);
  voip_contact_set_presence (contact, "offline");
  voip_contact_set_unread (contact, unread);
  contact_set (contact, display_name, motd, subscription);
  contact_sync_muted (contact, settings);
  g_signal_connect_object (settings, "changed::muted-contacts",
                           G_CALLBACK (on_muted_contacts_changed), contact, 0);
  g_signal_connect (contact, "notify::muted", G_CALLBACK (on_muted_notify), settings);
  g_signal_connect (contact, "handle-accept", G_CALLBACK (on_accept), account);
  g_signal_connect (contact, "handle-deny", G_CALLBACK (on_deny), account);
  g_signal_connect (contact, "handle-remove", G_CALLBACK (on_remove), account);
  g_signal_connect (contact, "handle-send-message", G_CALLBACK (on_send_message), account);
  g_signal_connect (contact, "handle-send-voice-message",
                    G_CALLBACK (on_send_voice_message), account);
  g_signal_connect (contact, "handle-get-history", G_CALLBACK (on_get_history), account);
  g_signal_connect (contact, "handle-get-voice-message",
                    G_CALLBACK (on_get_voice_message), account);
  g_signal_connect (contact, "handle-edit-message", G_CALLBACK (on_edit_message), account);
  g_signal_connect (contact, "handle-delete-message", G_CALLBACK (on_delete_message), account);
  g_signal_connect (contact, "handle-mark-read", G_CALLBACK (on_mark_read), account);
  g_signal_connect (contact, "handle-send-plugin-message",
                    G_CALLBACK (on_send_plugin_message), account);
  g_signal_connect (contact, "handle-call", G_CALLBACK (on_call), account);
  voip_object_skeleton_set_contact (object, contact);
  g_dbus_object_manager_server_export (voipd_account_get_manager (account),
                                       G_DBUS_OBJECT_SKELETON (object));
  return contact;   /* the object (exported) holds it */
}

VoipContact *
voipd_contacts_put (VoipdAccount *account, const char *username, const char *display_name,
                    const char *motd, guint subscription)
{
  VoipContact *contact = voipd_contacts_lookup (account, username);
  g_autoptr(GError) error = NULL;

  if (!voipd_cache_put_contact (voipd_account_get_cache (account), username, display_name,
                                motd, subscription, &error))
    g_warning ("%s", error->message);
  if (contact == NULL)
    return contact_create (account, username, display_name, motd, subscription, 0);
  contact_set (contact, display_name, motd, subscription);
  return contact;
}

static void
contact_set (VoipContact *contact, const char *display_name, const char *motd,
             guint subscription)
{
  voip_contact_set_display_name (contact, display_name ? display_name : "");
  voip_contact_set_motd (contact, motd ? motd : "");
  voip_contact_set_subscription (contact, voip_subscription_to_string (subscription));
  if (subscription != VOIP_SUBSCRIPTION_FRIEND)
    voip_contact_set_presence (contact, "offline");   /* only friends' presence is known */
}

void
voipd_contacts_remove (VoipdAccount *account, const char *username)
{
  g_autofree char *path = voipd_contact_path (username);
  g_autoptr(GError) error = NULL;

  if (!voipd_cache_remove_contact (voipd_account_get_cache (account), username, &error))
    g_warning ("%s", error->message);
  g_dbus_object_manager_server_unexport (voipd_account_get_manager (account), path);
}

void
voipd_contacts_set_presence (VoipdAccount *account, const char *username, guint presence)
{
  VoipContact *contact = voipd_contacts_lookup (account, username);

  if (contact != NULL)
    voip_contact_set_presence (contact, voip_presence_to_string (presence));
}

void
voipd_contacts_load_cache (VoipdAccount *account)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) contacts = voipd_cache_list_contacts (voipd_account_get_cache (account),
                                                             &error);

  if (contacts == NULL)
    {
      g_warning ("%s", error->message);
      return;
    }
  for (guint i = 0; i < contacts->len; i++)
    {
      VoipdCachedContact *c = contacts->pdata[i];
      VoipContact *contact = voipd_contacts_lookup (account, c->username);

      if (contact == NULL)
        contact_create (account, c->username, c->display_name, c->motd, c->subscription,
                        c->unread);
      else
        {
          contact_set (contact, c->display_name, c->motd, c->subscription);
          voip_contact_set_unread (contact, c->unread);
        }
    }
}
