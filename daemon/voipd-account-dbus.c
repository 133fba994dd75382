/* voipd-account-dbus.c — the Account methods that are one request to the
 * server or a read of the local state: ChangePassword, SetProfile,
 * GetProfile, AddContact, ListContacts, CreateGroup and FindMessage. The
 * session's own methods (Login, Register, Logout, DeleteAccount,
 * SetPresence) stay with the session in voipd-account.c. */
#define G_LOG_DOMAIN "voipd"

#include <string.h>

#include <glib/gi18n.h>

#include "voipd-account-dbus.h"
#include "voipd-contacts.h"
#include "voipd-groups.h"

/* ---- password and profile ------------------------------------------------------------ */

static gboolean
on_handle_change_password (VoipDBusAccount *skeleton, GDBusMethodInvocation *invocation,
                           const char *old_password, const char *new_password,
                           VoipdAccount *self)
{
  g_autoptr(GError) error = NULL;

  if (!voip_validate_password (new_password, &error))
    {
      g_dbus_method_invocation_return_gerror (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  voipd_account_call (self, invocation, VOIP_MSG_CHANGE_PASSWORD,
                      g_variant_new ("(ss)", old_password, new_password), NULL, NULL, NULL);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

typedef struct {
  VoipDBusAccount *skeleton;
  GVariant        *fields;
} ProfileChange;

static void
profile_change_free (ProfileChange *change)
{
  g_object_unref (change->skeleton);
  g_variant_unref (change->fields);
  g_free (change);
}

static GVariant *
after_set_profile (VoipdAccount *self, GVariant *reply, gpointer data)
{
  ProfileChange *change = data;
  GVariant *fields = change->fields;
  const char *value;

  if (g_variant_lookup (fields, "display_name", "&s", &value))
    voip_dbus_account_set_display_name (change->skeleton, value);
  if (g_variant_lookup (fields, "motd", "&s", &value))
    voip_dbus_account_set_motd (change->skeleton, value);
  if (g_variant_lookup (fields, "city", "&s", &value))
    voip_dbus_account_set_city (change->skeleton, value);
  if (g_variant_lookup (fields, "phone", "&s", &value))
    voip_dbus_account_set_phone (change->skeleton, value);
  if (g_variant_lookup (fields, "mail", "&s", &value))
    voip_dbus_account_set_mail (change->skeleton, value);
  if (g_variant_lookup (fields, "language", "&s", &value))
    voip_dbus_account_set_language (change->skeleton, value);
  return NULL;
}

static gboolean
on_handle_set_profile (VoipDBusAccount *skeleton, GDBusMethodInvocation *invocation,
                       GVariant *fields, VoipdAccount *self)
{
  g_autoptr(GError) error = NULL;
  ProfileChange *change;

  if (!voip_validate_profile_fields (fields, &error))
    {
      g_dbus_method_invocation_return_gerror (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  change = g_new0 (ProfileChange, 1);
  change->skeleton = g_object_ref (skeleton);
  change->fields = g_variant_ref (fields);
  voipd_account_call (self, invocation, VOIP_MSG_SET_PROFILE, g_variant_new ("(@a{sv})", fields),
                      after_set_profile, change, (GDestroyNotify) profile_change_free);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static GVariant *
after_get_profile (VoipdAccount *self, GVariant *reply, gpointer data)
{
  const char *username, *display_name, *motd, *city, *phone, *mail, *language;
  guint32 presence;
  g_autoptr(GVariant) avatar = NULL;
  g_autoptr(GVariant) plugins = NULL;
  GVariantDict dict;

  g_variant_get (reply, "(&s&su&s&s&s&s&s@ay@a(ss))", &username, &display_name, &presence, &motd,
                 &city, &phone, &mail, &language, &avatar, &plugins);
  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert (&dict, "username", "s", username);
  g_variant_dict_insert (&dict, "display_name", "s", display_name);
  g_variant_dict_insert (&dict, "presence", "s", voip_presence_to_string (presence));
  g_variant_dict_insert (&dict, "motd", "s", motd);
  g_variant_dict_insert (&dict, "city", "s", city);
  g_variant_dict_insert (&dict, "phone", "s", phone);
  g_variant_dict_insert (&dict, "mail", "s", mail);
  g_variant_dict_insert (&dict, "language", "s", language);
  g_variant_dict_insert_value (&dict, "avatar", avatar);
  g_variant_dict_insert_value (&dict, "plugins", plugins);
  voipd_contacts_set_profile (self, reply);   /* a friend's properties follow */
  return g_variant_new ("(@a{sv})", g_variant_dict_end (&dict));
}

/* Another user's name, checked before it is sent: too long is TooLarge,
 * not a username at all is Malformed (the server would only refuse it). */
static gboolean
check_peer_username (const char *username, GError **error)
{
  g_autoptr(GError) invalid = NULL;

  if (strlen (username) > VOIP_USERNAME_MAX)
    {
      g_set_error (error, VOIP_ERROR, VOIP_STATUS_TOO_LARGE,
                   _("a username has at most %d characters"), VOIP_USERNAME_MAX);
      return FALSE;
    }
  if (!voip_validate_username (username, &invalid))
    {
      g_set_error (error, VOIP_ERROR, VOIP_STATUS_MALFORMED, _("'%s' is not a username: %s"),
                   username, invalid->message);
      return FALSE;
    }
  return TRUE;
}

static gboolean
on_handle_get_profile (VoipDBusAccount *skeleton, GDBusMethodInvocation *invocation,
                       const char *username, VoipdAccount *self)
{
  g_autoptr(GError) error = NULL;

  if (!check_peer_username (username, &error))
    {
      g_dbus_method_invocation_return_gerror (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  voipd_account_call (self, invocation, VOIP_MSG_GET_PROFILE, g_variant_new ("(s)", username),
                      after_get_profile, NULL, NULL);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ---- contacts and groups --------------------------------------------------------------- */

static GVariant *
after_add_contact (VoipdAccount *self, GVariant *reply, gpointer data)
{
  guint32 subscription;
  g_autofree char *path = voipd_contact_path (data);

  g_variant_get (reply, "(u)", &subscription);
  voipd_contacts_put (self, data, "", "", subscription);
  if (subscription == VOIP_SUBSCRIPTION_FRIEND)
    voipd_account_refresh_contact (self, data);
  return g_variant_new ("(o)", path);
}

static gboolean
on_handle_add_contact (VoipDBusAccount *skeleton, GDBusMethodInvocation *invocation,
                       const char *username, VoipdAccount *self)
{
  g_autoptr(GError) error = NULL;

  if (!check_peer_username (username, &error))
    {
      g_dbus_method_invocation_return_gerror (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  voipd_account_call (self, invocation, VOIP_MSG_CONTACT_REQUEST, g_variant_new ("(s)", username),
                      after_add_contact, g_strdup (username), g_free);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* Answered from the objects, connected or not, as GetManagedObjects is. */
static gboolean
on_handle_list_contacts (VoipDBusAccount *skeleton, GDBusMethodInvocation *invocation,
                         VoipdAccount *self)
{
  voip_dbus_account_complete_list_contacts (skeleton, invocation,
                                            voipd_contacts_list (voipd_account_get_manager (self)));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static GVariant *
after_create_group (VoipdAccount *self, GVariant *reply, gpointer data)
{
  guint64 id;
  g_autofree char *path = NULL;

  g_variant_get (reply, "(t)", &id);
  /* GroupChanged follows (the creator's session gets it too); make the
   * object exist now so the caller can use the path at once. */
  voipd_account_refresh_group (self, id);
  path = voipd_group_path (id);
  return g_variant_new ("(o)", path);
}

static gboolean
on_handle_create_group (VoipDBusAccount *skeleton, GDBusMethodInvocation *invocation,
                        const char *name, const char *const *members, VoipdAccount *self)
{
  g_autoptr(GError) error = NULL;

  if (!voip_validate_group_name (name, &error))
    {
      g_dbus_method_invocation_return_gerror (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  /* The owner is a member too. */
  if (g_strv_length ((char **) members) >= VOIP_GROUP_MEMBERS_MAX)
    {
      g_dbus_method_invocation_return_error (invocation, VOIP_ERROR, VOIP_STATUS_TOO_LARGE,
                                             _("a group has at most %d members"),
                                             VOIP_GROUP_MEMBERS_MAX);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  for (guint i = 0; members[i] != NULL; i++)
    if (!check_peer_username (members[i], &error))
      {
        g_dbus_method_invocation_return_gerror (invocation, error);
        return G_DBUS_METHOD_INVOCATION_HANDLED;
      }
  voipd_account_call (self, invocation, VOIP_MSG_GROUP_CREATE,
                      g_variant_new ("(s^as)", name, members), after_create_group, NULL, NULL);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ---- finding a message --------------------------------------------------------------- */

typedef struct {
  VoipDBusAccount       *skeleton;
  char                  *username;    /* whose cache it is */
  GDBusMethodInvocation *invocation;
  guint64                id;
} FindMessage;

static void
on_message_found (GObject *source, GAsyncResult *result, gpointer user_data)
{
  FindMessage *find = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(VoipdCachedMessage) m = voipd_cache_get_message_finish (VOIPD_CACHE (source),
                                                                    result, &error);
  g_autofree char *path = NULL;

  if (m == NULL)
    {
      if (error == NULL)
        error = g_error_new (VOIP_ERROR, VOIP_STATUS_NO_SUCH_MESSAGE,
                             _("no message %llu is known here"), (unsigned long long) find->id);
      g_dbus_method_invocation_return_gerror (find->invocation, error);
    }
  else
    {
      if (m->group != 0)
        path = voipd_group_path (m->group);
      else
        path = voipd_contact_path (g_strcmp0 (m->sender, find->username) == 0 ? m->recipient
                                                                                : m->sender);
      voip_dbus_account_complete_find_message (find->skeleton, find->invocation, path);
    }
  g_object_unref (find->skeleton);
  g_free (find->username);
  g_object_unref (find->invocation);
  g_free (find);
}

static gboolean
on_handle_find_message (VoipDBusAccount *skeleton, GDBusMethodInvocation *invocation, guint64 id,
                        VoipdAccount *self)
{
  FindMessage *find = g_new0 (FindMessage, 1);

  find->skeleton = g_object_ref (skeleton);
  find->username = g_strdup (voipd_account_get_username (self));
  find->invocation = g_object_ref (invocation);
  find->id = id;
  voipd_cache_get_message_async (voipd_account_get_cache (self),
                                 (gint64) MIN (id, (guint64) G_MAXINT64), NULL,
                                 on_message_found, find);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

void
voipd_account_dbus_attach (VoipDBusAccount *skeleton, VoipdAccount *account)
{
  g_signal_connect (skeleton, "handle-change-password", G_CALLBACK (on_handle_change_password),
                    account);
  g_signal_connect (skeleton, "handle-set-profile", G_CALLBACK (on_handle_set_profile), account);
  g_signal_connect (skeleton, "handle-get-profile", G_CALLBACK (on_handle_get_profile), account);
  g_signal_connect (skeleton, "handle-add-contact", G_CALLBACK (on_handle_add_contact), account);
  g_signal_connect (skeleton, "handle-list-contacts", G_CALLBACK (on_handle_list_contacts),
                    account);
  g_signal_connect (skeleton, "handle-create-group", G_CALLBACK (on_handle_create_group),
                    account);
  g_signal_connect (skeleton, "handle-find-message", G_CALLBACK (on_handle_find_message),
                    account);
}
