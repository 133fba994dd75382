/* voipd-contacts.c — contact objects and their methods.
 *
 * The object manager is the registry: a contact exists when its path is
 * exported. Each contact object carries two interfaces: Contact (who they
 * are, the friendship, calls) and Conversation (voipd-conversation.c).
 * State changes go to the skeleton's properties, which GDBus turns into
 * PropertiesChanged (only for a value that changed); objects come and go
 * with InterfacesAdded/Removed. */
#define G_LOG_DOMAIN "voipd"

#include <errno.h>
#include <string.h>

#include <glib/gstdio.h>

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

VoipDBusContact *
voipd_contacts_lookup (VoipdAccount *account, const char *username)
{
  g_autofree char *path = voipd_contact_path (username);
  g_autoptr(GDBusObject) object = g_dbus_object_manager_get_object (
      G_DBUS_OBJECT_MANAGER (voipd_account_get_manager (account)), path);

  return object ? voip_dbus_object_peek_contact (VOIP_DBUS_OBJECT (object)) : NULL;
}

/* ---- methods ------------------------------------------------------------------ */

static GVariant *
after_accept (VoipdAccount *account, GVariant *reply, gpointer data)
{
  VoipDBusContact *contact = voipd_contacts_lookup (account, data);

  /* The server tells the other side and our other sessions, not us. */
  if (contact != NULL)
    voipd_contacts_put (account, data, voip_dbus_contact_get_display_name (contact),
                        voip_dbus_contact_get_motd (contact), VOIP_SUBSCRIPTION_FRIEND);
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
on_accept (VoipDBusContact *contact, GDBusMethodInvocation *invocation, gpointer account)
{
  const char *username = voip_dbus_contact_get_username (contact);

  voipd_account_call (account, invocation, VOIP_MSG_CONTACT_ACCEPT,
                      g_variant_new ("(s)", username), after_accept, g_strdup (username), g_free);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_deny (VoipDBusContact *contact, GDBusMethodInvocation *invocation, gpointer account)
{
  const char *username = voip_dbus_contact_get_username (contact);

  voipd_account_call (account, invocation, VOIP_MSG_CONTACT_DENY,
                      g_variant_new ("(s)", username), after_unlink, g_strdup (username), g_free);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_remove (VoipDBusContact *contact, GDBusMethodInvocation *invocation, gpointer account)
{
  const char *username = voip_dbus_contact_get_username (contact);

  voipd_account_call (account, invocation, VOIP_MSG_CONTACT_REMOVE,
                      g_variant_new ("(s)", username), after_unlink, g_strdup (username), g_free);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_send_plugin_message (VoipDBusContact *contact, GDBusMethodInvocation *invocation,
                        const char *plugin, GVariant *data, gpointer account)
{
  voipd_account_call (account, invocation, VOIP_MSG_PLUGIN_SEND,
                      g_variant_new ("(ss@ay)", voip_dbus_contact_get_username (contact), plugin,
                                     data),
                      NULL, NULL, NULL);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_call (VoipDBusContact *contact, GDBusMethodInvocation *invocation, gpointer account)
{
  voipd_calls_invite (voipd_account_get_calls (account), invocation,
                      voip_dbus_contact_get_username (contact), 0);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ---- objects --------------------------------------------------------------------- */

static void contact_set (VoipDBusContact *contact, const char *display_name, const char *motd,
                         guint subscription);

/* ---- muting ------------------------------------------------------------------- */

/* Muted lives in GSettings (muted-contacts), so that it survives restarts and
 * a person can read and change it with gsettings; the property mirrors it. */
static void
contact_sync_muted (VoipDBusContact *contact, GSettings *settings)
{
  g_auto(GStrv) muted = g_settings_get_strv (settings, "muted-contacts");
  gboolean listed = g_strv_contains ((const char *const *) muted,
                                     voip_dbus_contact_get_username (contact));

  if (voip_dbus_contact_get_muted (contact) != listed)
    voip_dbus_contact_set_muted (contact, listed);
}

static void
on_muted_contacts_changed (GSettings *settings, const char *key, VoipDBusContact *contact)
{
  contact_sync_muted (contact, settings);
}

/* A client wrote the property: list or unlist the contact. */
static void
on_muted_notify (VoipDBusContact *contact, GParamSpec *pspec, GSettings *settings)
{
  const char *username = voip_dbus_contact_get_username (contact);
  gboolean muted = voip_dbus_contact_get_muted (contact);
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
static VoipDBusContact *
contact_create (VoipdAccount *account, const char *username, const char *display_name,
                const char *motd, guint subscription, guint unread)
{
  g_autofree char *path = voipd_contact_path (username);
  g_autoptr(VoipDBusObjectSkeleton) object = voip_dbus_object_skeleton_new (path);
  g_autoptr(VoipDBusContact) contact = voip_dbus_contact_skeleton_new ();
  g_autoptr(VoipDBusConversation) conversation = voipd_conversation_new (
      voipd_account_get_conversations (account), username, 0, unread);
  GSettings *settings = voipd_account_get_settings (account);

  voip_dbus_contact_set_username (contact, username);
  /* A friend's presence is known once the server says it (the resync). */
  voip_dbus_contact_set_presence (contact, subscription == VOIP_SUBSCRIPTION_FRIEND ? "unknown"
                                                                                : "offline");
  contact_set (contact, display_name, motd, subscription);
  contact_sync_muted (contact, settings);
  g_signal_connect_object (settings, "changed::muted-contacts",
                           G_CALLBACK (on_muted_contacts_changed), contact, 0);
  g_signal_connect (contact, "notify::muted", G_CALLBACK (on_muted_notify), settings);
  g_signal_connect (contact, "handle-accept", G_CALLBACK (on_accept), account);
  g_signal_connect (contact, "handle-deny", G_CALLBACK (on_deny), account);
  g_signal_connect (contact, "handle-remove", G_CALLBACK (on_remove), account);
  g_signal_connect (contact, "handle-send-plugin-message",
                    G_CALLBACK (on_send_plugin_message), account);
  g_signal_connect (contact, "handle-call", G_CALLBACK (on_call), account);
  voip_dbus_object_skeleton_set_contact (object, contact);
  voip_dbus_object_skeleton_set_conversation (object, conversation);
  g_dbus_object_manager_server_export (voipd_account_get_manager (account),
                                       G_DBUS_OBJECT_SKELETON (object));
  return contact;   /* the object (exported) holds it */
}

VoipDBusContact *
voipd_contacts_put (VoipdAccount *account, const char *username, const char *display_name,
                    const char *motd, guint subscription)
{
  VoipDBusContact *contact = voipd_contacts_lookup (account, username);
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
contact_set (VoipDBusContact *contact, const char *display_name, const char *motd,
             guint subscription)
{
  voip_dbus_contact_set_display_name (contact, display_name ? display_name : "");
  voip_dbus_contact_set_motd (contact, motd ? motd : "");
  voip_dbus_contact_set_subscription (contact, voip_subscription_to_string (subscription));
  if (subscription != VOIP_SUBSCRIPTION_FRIEND)
    {
      /* Only friends' presence and profile are known. */
      voip_dbus_contact_set_presence (contact, "offline");
      voip_dbus_contact_set_city (contact, "");
      voip_dbus_contact_set_phone (contact, "");
      voip_dbus_contact_set_mail (contact, "");
      voip_dbus_contact_set_language (contact, "");
      voip_dbus_contact_set_avatar_file (contact, "");
    }
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
  VoipDBusContact *contact = voipd_contacts_lookup (account, username);

  if (contact != NULL)
    voip_dbus_contact_set_presence (contact, voip_presence_to_string (presence));
}

/* ---- the listing --------------------------------------------------------------- */

typedef struct {
  VoipDBusContact      *contact;
  VoipDBusConversation *conversation;
} ListedContact;

static int
compare_listed (gconstpointer a, gconstpointer b)
{
  return strcmp (voip_dbus_contact_get_username (((const ListedContact *) a)->contact),
                 voip_dbus_contact_get_username (((const ListedContact *) b)->contact));
}

/* Account.ListContacts: what a listing shows, as one array of structs. A
 * client parses it several times faster than GetManagedObjects' dictionaries
 * of every property (docs/BENCHMARKS.md). */
GVariant *
voipd_contacts_list (GDBusObjectManagerServer *manager)
{
  g_autoptr(GList) objects = g_dbus_object_manager_get_objects (G_DBUS_OBJECT_MANAGER (manager));
  g_autoptr(GArray) listed = g_array_new (FALSE, FALSE, sizeof (ListedContact));
  GVariantBuilder builder;

  for (GList *l = objects; l != NULL; l = l->next)
    {
      ListedContact entry = {
        voip_dbus_object_peek_contact (VOIP_DBUS_OBJECT (l->data)),
        voip_dbus_object_peek_conversation (VOIP_DBUS_OBJECT (l->data)),
      };

      if (entry.contact != NULL && entry.conversation != NULL)
        g_array_append_val (listed, entry);
    }
  g_array_sort (listed, compare_listed);

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(sssssub)"));
  for (guint i = 0; i < listed->len; i++)
    {
      ListedContact *entry = &g_array_index (listed, ListedContact, i);

      g_variant_builder_add (&builder, "(sssssub)",
                             voip_dbus_contact_get_username (entry->contact),
                             voip_dbus_contact_get_display_name (entry->contact),
                             voip_dbus_contact_get_presence (entry->contact),
                             voip_dbus_contact_get_subscription (entry->contact),
                             voip_dbus_contact_get_motd (entry->contact),
                             voip_dbus_conversation_get_unread (entry->conversation),
                             voip_dbus_contact_get_muted (entry->contact));
    }
  g_list_free_full (g_steal_pointer (&objects), g_object_unref);
  return g_variant_builder_end (&builder);
}

/* ---- presence while away, and the profile ------------------------------------- */

void
voipd_contacts_forget_presence (VoipdAccount *account)
{
  g_autoptr(GList) objects = g_dbus_object_manager_get_objects (
      G_DBUS_OBJECT_MANAGER (voipd_account_get_manager (account)));

  for (GList *l = objects; l != NULL; l = l->next)
    {
      VoipDBusContact *contact = voip_dbus_object_peek_contact (VOIP_DBUS_OBJECT (l->data));

      if (contact != NULL
          && g_strcmp0 (voip_dbus_contact_get_subscription (contact), "friend") == 0)
        voip_dbus_contact_set_presence (contact, "unknown");
      g_object_unref (l->data);
    }
}

/* Avatars are files in the user's cache directory, one per contact and
 * picture (a new picture, a new name), so that the bus carries a path
 * rather than up to 256 KiB per contact in every GetManagedObjects. */
typedef struct {
  char   *username;
  char   *path;
  GBytes *png;
} AvatarWrite;

static void
avatar_write_free (AvatarWrite *write)
{
  g_free (write->username);
  g_free (write->path);
  g_bytes_unref (write->png);
  g_free (write);
}

static void
write_avatar_in_thread (GTask *task, gpointer source, gpointer task_data,
                        GCancellable *cancellable)
{
  AvatarWrite *write = task_data;
  g_autofree char *dir = g_path_get_dirname (write->path);
  GError *error = NULL;
  gsize size;
  const char *data = g_bytes_get_data (write->png, &size);

  if (g_mkdir_with_parents (dir, 0700) != 0)
    g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (errno),
                             "cannot create %s: %s", dir, g_strerror (errno));
  else if (!g_file_set_contents_full (write->path, data, (gssize) size,
                                      G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
on_avatar_written (GObject *source, GAsyncResult *result, gpointer user_data)
{
  VoipdAccount *account = VOIPD_ACCOUNT (source);
  AvatarWrite *write = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  VoipDBusContact *contact;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_warning ("avatar of %s: %s", write->username, error->message);
      return;
    }
  contact = voipd_contacts_lookup (account, write->username);
  if (contact != NULL)
    voip_dbus_contact_set_avatar_file (contact, write->path);
}

static void
contact_set_avatar (VoipdAccount *account, VoipDBusContact *contact, GVariant *avatar)
{
  const char *username = voip_dbus_contact_get_username (contact);
  g_autoptr(GBytes) png = g_variant_get_data_as_bytes (avatar);
  g_autofree char *digest = NULL;
  g_autofree char *escaped = NULL;
  g_autofree char *name = NULL;
  g_autoptr(GTask) task = NULL;
  AvatarWrite *write;

  if (g_bytes_get_size (png) == 0)
    {
      voip_dbus_contact_set_avatar_file (contact, "");
      return;
    }
  digest = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, png);
  escaped = g_dbus_escape_object_path (username);
  name = g_strdup_printf ("%s-%.16s.png", escaped, digest);
  write = g_new0 (AvatarWrite, 1);
  write->username = g_strdup (username);
  write->path = g_build_filename (g_get_user_cache_dir (), "voipd", "avatars", name, NULL);
  write->png = g_steal_pointer (&png);
  if (g_strcmp0 (voip_dbus_contact_get_avatar_file (contact), write->path) == 0)
    {
      avatar_write_free (write);
      return;
    }
  task = g_task_new (account, NULL, on_avatar_written, NULL);
  g_task_set_task_data (task, write, (GDestroyNotify) avatar_write_free);
  g_task_run_in_thread (task, write_avatar_in_thread);
}

void
voipd_contacts_set_profile (VoipdAccount *account, GVariant *profile)
{
  const char *username, *display_name, *motd, *city, *phone, *mail, *language;
  g_autoptr(GVariant) avatar = NULL;
  guint32 presence;
  VoipDBusContact *contact;

  g_variant_get (profile, "(&s&su&s&s&s&s&s@ay@a(ss))", &username, &display_name, &presence,
                 &motd, &city, &phone, &mail, &language, &avatar, NULL);
  contact = voipd_contacts_lookup (account, username);
  /* Only a friend's: a request may have been withdrawn meanwhile. */
  if (contact == NULL || g_strcmp0 (voip_dbus_contact_get_subscription (contact), "friend") != 0)
    return;
  voipd_contacts_put (account, username, display_name, motd, VOIP_SUBSCRIPTION_FRIEND);
  voip_dbus_contact_set_presence (contact, voip_presence_to_string (presence));
  voip_dbus_contact_set_city (contact, city);
  voip_dbus_contact_set_phone (contact, phone);
  voip_dbus_contact_set_mail (contact, mail);
  voip_dbus_contact_set_language (contact, language);
  contact_set_avatar (account, contact, avatar);
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
      VoipDBusContact *contact = voipd_contacts_lookup (account, c->username);

      if (contact == NULL)
        contact_create (account, c->username, c->display_name, c->motd, c->subscription,
                        c->unread);
      else
        {
          VoipDBusConversation *conversation = voipd_conversation_lookup (
              voipd_account_get_conversations (account), c->username, 0);

          contact_set (contact, c->display_name, c->motd, c->subscription);
          voip_dbus_conversation_set_unread (conversation, c->unread);
        }
    }
}
