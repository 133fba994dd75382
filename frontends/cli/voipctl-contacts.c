/* voipctl-contacts.c — contacts: the listing, friend requests, and plugin
 * data for a friend.
 */
#define G_LOG_DOMAIN "voipctl"

#include <string.h>

#include <glib/gi18n.h>

#include "voipctl.h"

/* A contact's properties and its username, looked up once: a{sv} lookups
 * in the sort's comparisons cost more than everything else put together. */
typedef struct {
  const char *username;
  GVariant   *props;   /* owned by the listing */
} Row;

static int
compare_usernames (gconstpointer a,
                   gconstpointer b)
{
  return strcmp (((const Row *) a)->username, ((const Row *) b)->username);
}

int
voipctl_cmd_contacts (const VoipctlCommand *cmd,
                      int                   argc,
                      char                **argv)
{
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 'j', 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GPtrArray) listed = NULL;
  g_autoptr(GArray) contacts = NULL;
  g_autoptr(GError) error = NULL;

  if (!voipctl_parse_args (cmd, entries, &argc, &argv, 0, 0))
    return VOIPCTL_EXIT_USAGE;

  listed = voipctl_list_objects ("org.voipd.Voip1.Contact", &error);
  if (listed == NULL)
    return voipctl_fail (error);

  contacts = g_array_sized_new (FALSE, FALSE, sizeof (Row), listed->len);
  for (guint i = 0; i < listed->len; i++)
    {
      Row row = { voipctl_lookup_string (listed->pdata[i], "Username"), listed->pdata[i] };
      g_array_append_val (contacts, row);
    }
  g_array_sort (contacts, compare_usernames);

  if (json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_array (builder);
      for (guint i = 0; i < contacts->len; i++)
        voipctl_json_add_contact (builder, g_array_index (contacts, Row, i).props);
      json_builder_end_array (builder);
      root = json_builder_get_root (builder);
      voipctl_print_json (root);
    }
  else
    {
      g_autoptr(VoipctlTable) table = NULL;

      table = voipctl_table_new (_("USERNAME"), _("DISPLAY NAME"), _("PRESENCE"),
                                 _("SUBSCRIPTION"), _("UNREAD"), NULL);
      for (guint i = 0; i < contacts->len; i++)
        {
          GVariant *props = g_array_index (contacts, Row, i).props;
          g_autofree char *unread = g_strdup_printf ("%u", voipctl_lookup_uint32 (props, "Unread"));

          voipctl_table_add_row (table,
                                 voipctl_lookup_string (props, "Username"),
                                 voipctl_lookup_string (props, "DisplayName"),
                                 voipctl_lookup_string (props, "Presence"),
                                 voipctl_lookup_string (props, "Subscription"),
                                 unread, NULL);
        }
      voipctl_table_print (table);
    }
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
