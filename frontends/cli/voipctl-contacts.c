/* voipctl-contacts.c — contacts: the listing, friend requests, and plugin
 * data for a friend.
 */
#define G_LOG_DOMAIN "voipctl"

#include <string.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "voipctl.h"

static void
print_contacts_json (GArray *contacts)
{
  gboolean pretty = isatty (STDOUT_FILENO);
  g_autoptr(GString) out = g_string_sized_new (128 * (contacts->len + 1));

  g_string_append_c (out, '[');
  for (guint i = 0; i < contacts->len; i++)
    {
      if (i > 0)
        g_string_append_c (out, ',');
      if (pretty)
        g_string_append_c (out, '\n');
      voipctl_contact_append_json (out, &g_array_index (contacts, VoipctlContact, i), pretty);
    }
  if (pretty && contacts->len > 0)
    g_string_append_c (out, '\n');
  g_string_append_c (out, ']');
  voipctl_print_json_line (out->str);
}

static void
print_contacts_table (GArray *contacts)
{
  g_autoptr(VoipctlTable) table = NULL;

  table = voipctl_table_new (_("USERNAME"), _("DISPLAY NAME"), _("PRESENCE"),
                             _("SUBSCRIPTION"), _("UNREAD"), NULL);
  for (guint i = 0; i < contacts->len; i++)
    {
      const VoipctlContact *contact = &g_array_index (contacts, VoipctlContact, i);
      g_autofree char *unread = g_strdup_printf ("%u", contact->unread);

      voipctl_table_add_row (table, contact->username, contact->display_name,
                             contact->presence, contact->subscription, unread, NULL);
    }
  voipctl_table_print (table);
}

/* `contacts` and `contact list`: one Account.ListContacts, which gives only
 * what the listing shows, already sorted (GetManagedObjects' every property
 * of every object cost twice the command; docs/BENCHMARKS.md). */
int
voipctl_cmd_contacts (const VoipctlCommand *cmd,
                      int                   argc,
                      char                **argv)
{
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) listed = NULL;
  g_autoptr(GArray) contacts = NULL;
  g_autoptr(GError) error = NULL;
  GVariantIter iter;
  VoipctlContact contact;

  if (!voipctl_parse_args (cmd, NULL, &argc, &argv, 0, 0))
    return VOIPCTL_EXIT_USAGE;

  bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  if (bus != NULL)
    reply = g_dbus_connection_call_sync (bus, VOIPCTL_BUS_NAME, VOIPCTL_ROOT_PATH,
                                         VOIPCTL_ACCOUNT_INTERFACE, "ListContacts", NULL,
                                         G_VARIANT_TYPE ("(a(sssssub))"),
                                         G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  if (reply == NULL)
    return voipctl_fail (error);

  /* The strings are borrowed from the reply, which outlives the output. */
  listed = g_variant_get_child_value (reply, 0);
  contacts = g_array_sized_new (FALSE, FALSE, sizeof (VoipctlContact),
                                g_variant_n_children (listed));
  g_variant_iter_init (&iter, listed);
  while (g_variant_iter_next (&iter, "(&s&s&s&s&sub)", &contact.username, &contact.display_name,
                              &contact.presence, &contact.subscription, &contact.motd,
                              &contact.unread, &contact.muted))
    g_array_append_val (contacts, contact);

  if (voipctl_json_wanted ())
    print_contacts_json (contacts);
  else
    print_contacts_table (contacts);
  return VOIPCTL_EXIT_OK;
}

int
voipctl_cmd_contact_add (const VoipctlCommand *cmd,
                         int                   argc,
                         char                **argv)
{
  g_autoptr(VoipDBusAccount) account = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  if (!voipctl_parse_args (cmd, NULL, &argc, &argv, 1, 1))
    return VOIPCTL_EXIT_USAGE;

  account = voipctl_get_account (&error);
  if (account == NULL ||
      !voip_dbus_account_call_add_contact_sync (account, argv[1], &path, NULL, &error))
    return voipctl_fail (error);
  return VOIPCTL_EXIT_OK;
}

typedef enum
{
  CONTACT_ACCEPT,
  CONTACT_DENY,
  CONTACT_REMOVE,
  CONTACT_MUTE,
  CONTACT_UNMUTE,
} ContactAction;

static int
contact_action (const VoipctlCommand *cmd,
                int                   argc,
                char                **argv,
                ContactAction         action)
{
  g_autoptr(VoipDBusContact) contact = NULL;
  g_autoptr(GError) error = NULL;
  gboolean ok = FALSE;

  if (!voipctl_parse_args (cmd, NULL, &argc, &argv, 1, 1))
    return VOIPCTL_EXIT_USAGE;

  contact = voipctl_get_contact (argv[1], &error);
  if (contact == NULL)
    return voipctl_fail (error);

  switch (action)
    {
    case CONTACT_ACCEPT:
      ok = voip_dbus_contact_call_accept_sync (contact, NULL, &error);
      break;
    case CONTACT_DENY:
      ok = voip_dbus_contact_call_deny_sync (contact, NULL, &error);
      break;
    case CONTACT_REMOVE:
      ok = voip_dbus_contact_call_remove_sync (contact, NULL, &error);
      break;
    case CONTACT_MUTE:
    case CONTACT_UNMUTE:
      ok = voipctl_set_property (G_DBUS_PROXY (contact), "Muted",
                                 g_variant_new_boolean (action == CONTACT_MUTE), &error);
      break;
    }
  if (!ok)
    return voipctl_fail (error);
  return VOIPCTL_EXIT_OK;
}

int
voipctl_cmd_contact_accept (const VoipctlCommand *cmd,
                            int                   argc,
                            char                **argv)
{
  return contact_action (cmd, argc, argv, CONTACT_ACCEPT);
}

int
voipctl_cmd_contact_deny (const VoipctlCommand *cmd,
                          int                   argc,
                          char                **argv)
{
  return contact_action (cmd, argc, argv, CONTACT_DENY);
}

int
voipctl_cmd_contact_remove (const VoipctlCommand *cmd,
                            int                   argc,
                            char                **argv)
{
  return contact_action (cmd, argc, argv, CONTACT_REMOVE);
}

int
voipctl_cmd_contact_mute (const VoipctlCommand *cmd,
                          int                   argc,
                          char                **argv)
{
  return contact_action (cmd, argc, argv, CONTACT_MUTE);
}

int
voipctl_cmd_contact_unmute (const VoipctlCommand *cmd,
                            int                   argc,
                            char                **argv)
{
  return contact_action (cmd, argc, argv, CONTACT_UNMUTE);
}

/* DATA goes out as the bytes of the string, without a terminating NUL. */
int
voipctl_cmd_plugin_send (const VoipctlCommand *cmd,
                         int                   argc,
                         char                **argv)
{
  g_autoptr(VoipDBusContact) contact = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  GVariant *data;

  if (!voipctl_parse_args (cmd, NULL, &argc, &argv, 3, 3))
    return VOIPCTL_EXIT_USAGE;

  contact = voipctl_get_contact (argv[1], &error);
  if (contact == NULL)
    return voipctl_fail (error);

  data = g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, argv[3], strlen (argv[3]), 1);
  reply = g_dbus_proxy_call_sync (G_DBUS_PROXY (contact), "SendPluginMessage",
                                  g_variant_new ("(s@ay)", argv[2], data),
                                  G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  if (reply == NULL)
    return voipctl_fail (error);
  return VOIPCTL_EXIT_OK;
}
