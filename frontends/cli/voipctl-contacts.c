/* voipctl-contacts.c — contacts: the listing, friend requests, and plugin
 * data for a friend.
 */
#define G_LOG_DOMAIN "voipctl"

#include <string.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "voipctl.h"

#define CONTACT_INTERFACE "org.voipd.Voip1.Contact"

static int
compare_usernames (gconstpointer a,
                   gconstpointer b)
{
  return strcmp (((const VoipctlContact *) a)->username, ((const VoipctlContact *) b)->username);
}

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

/* `contacts` and `contact list`. It reads GetManagedObjects' reply as it
 * is, each contact once (docs/BENCHMARKS.md has what this saves with a
 * thousand of them). */
int
voipctl_cmd_contacts (const VoipctlCommand *cmd,
                      int                   argc,
                      char                **argv)
{
  /* Left to the process's exit rather than freed: the reply is some ten
   * thousand values, and unreferencing them one by one cost a sixth of the
   * command. It stays reachable, so leak checkers say nothing. */
  static GVariant *objects;
  g_autoptr(GArray) contacts = NULL;
  g_autoptr(GError) error = NULL;
  gsize n_objects;

  if (!voipctl_parse_args (cmd, NULL, &argc, &argv, 0, 0))
    return VOIPCTL_EXIT_USAGE;

  objects = voipctl_get_managed_objects (&error);
  if (objects == NULL)
    return voipctl_fail (error);

  n_objects = g_variant_n_children (objects);
  contacts = g_array_sized_new (FALSE, FALSE, sizeof (VoipctlContact), n_objects);
  for (gsize i = 0; i < n_objects; i++)
    {
      g_autoptr(GVariant) object = g_variant_get_child_value (objects, i);
      g_autoptr(GVariant) interfaces = g_variant_get_child_value (object, 1);
      g_autoptr(GVariant) contact_props = g_variant_lookup_value (interfaces, CONTACT_INTERFACE,
                                                                  NULL);
      VoipctlContact contact;

      if (contact_props == NULL)
        continue;
      voipctl_contact_read (&contact, interfaces);
      g_array_append_val (contacts, contact);
    }
  g_array_sort (contacts, compare_usernames);

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
  g_autoptr(VoipAccount) account = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  if (!voipctl_parse_args (cmd, NULL, &argc, &argv, 1, 1))
    return VOIPCTL_EXIT_USAGE;

  account = voipctl_get_account (&error);
  if (account == NULL ||
      !voip_account_call_add_contact_sync (account, argv[1], &path, NULL, &error))
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
  g_autoptr(VoipContact) contact = NULL;
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
      ok = voip_contact_call_accept_sync (contact, NULL, &error);
      break;
    case CONTACT_DENY:
      ok = voip_contact_call_deny_sync (contact, NULL, &error);
      break;
    case CONTACT_REMOVE:
      ok = voip_contact_call_remove_sync (contact, NULL, &error);
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
  g_autoptr(VoipContact) contact = NULL;
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
