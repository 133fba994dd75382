/* voipctl-groups.c — groups: create, list, info, rename, add, remove,
 * leave, delete.
 */
#define G_LOG_DOMAIN "voipctl"

#include <string.h>

#include <glib/gi18n.h>

#include "voipctl.h"

/* The group named by argv[1], or NULL with *out_status set. */
static VoipDBusGroup *
group_from_arg (const VoipctlCommand *cmd,
                const char           *id_text,
                int                  *out_status)
{
  g_autoptr(GError) error = NULL;
  VoipDBusGroup *group;
  guint64 id;

  if (!voipctl_parse_id (id_text, &id))
    {
      *out_status = voipctl_usage_error (cmd, _("invalid group id '%s': expected a positive integer"),
                                         id_text);
      return NULL;
    }
  group = voipctl_get_group (id, &error);
  if (group == NULL)
    *out_status = voipctl_fail (error);
  return group;
}

int
voipctl_cmd_group_create (const VoipctlCommand *cmd,
                          int                   argc,
                          char                **argv)
{
  g_autoptr(VoipDBusAccount) account = NULL;
  g_autoptr(VoipDBusGroup) group = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GStrvBuilder) members = g_strv_builder_new ();
  g_auto(GStrv) member_list = NULL;
  g_autofree char *path = NULL;
  const char *tail;
  guint64 id;

  if (!voipctl_parse_args (cmd, NULL, &argc, &argv, 1, -1))
    return VOIPCTL_EXIT_USAGE;
  for (int i = 2; i < argc; i++)
    g_strv_builder_add (members, argv[i]);
  member_list = g_strv_builder_end (members);
  if (!g_utf8_validate (argv[1], -1, NULL))
    return voipctl_usage_error (cmd, _("the name is not valid UTF-8"));

  account = voipctl_get_account (&error);
  if (account == NULL ||
      !voip_dbus_account_call_create_group_sync (account, argv[1], (const char *const *) member_list,
                                            &path, NULL, &error))
    return voipctl_fail (error);

  /* The path ends with the id (/org/voipd/Voip1/group/<id>). */
  tail = strrchr (path, '/');
  if (tail == NULL || !voipctl_parse_id (tail + 1, &id))
    return voipctl_failf (_("the daemon answered with an unexpected object path: %s"), path);
  /* The bare id for people too, as scripts have long read it; with --json,
   * {"id": N} like send and call. */
  if (voipctl_json_wanted ())
    {
      g_autofree char *json = g_strdup_printf ("{\"id\":%" G_GUINT64_FORMAT "}", id);

      voipctl_print_json_line (json);
    }
  else
    g_print ("%" G_GUINT64_FORMAT "\n", id);
  return VOIPCTL_EXIT_OK;
}

static int
compare_ids (gconstpointer a,
             gconstpointer b)
{
  guint64 id_a = voipctl_lookup_uint64 (*(GVariant **) a, "Id");
  guint64 id_b = voipctl_lookup_uint64 (*(GVariant **) b, "Id");

  return id_a < id_b ? -1 : id_a > id_b;
}

int
voipctl_cmd_group_list (const VoipctlCommand *cmd,
                        int                   argc,
                        char                **argv)
{
  g_autoptr(GPtrArray) groups = NULL;
  g_autoptr(GError) error = NULL;

  if (!voipctl_parse_args (cmd, NULL, &argc, &argv, 0, 0))
    return VOIPCTL_EXIT_USAGE;

  groups = voipctl_list_objects ("org.voipd.Voip1.Group", &error);
  if (groups == NULL)
    return voipctl_fail (error);
  g_ptr_array_sort (groups, compare_ids);

  if (voipctl_json_wanted ())
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_array (builder);
      for (guint i = 0; i < groups->len; i++)
        voipctl_json_add_group (builder, g_ptr_array_index (groups, i));
      json_builder_end_array (builder);
      root = json_builder_get_root (builder);
      voipctl_print_json (root);
    }
  else
    {
      g_autoptr(VoipctlTable) table = NULL;

      table = voipctl_table_new (_("ID"), _("NAME"), _("OWNER"), _("MEMBERS"), _("UNREAD"), NULL);
      for (guint i = 0; i < groups->len; i++)
        {
          GVariant *props = g_ptr_array_index (groups, i);
          g_autoptr(GVariant) members = g_variant_lookup_value (props, "Members", G_VARIANT_TYPE_STRING_ARRAY);
          g_autofree char *id = g_strdup_printf ("%" G_GUINT64_FORMAT, voipctl_lookup_uint64 (props, "Id"));
          g_autofree char *n_members = g_strdup_printf ("%" G_GSIZE_FORMAT,
                                                        members != NULL ? g_variant_n_children (members) : 0);
          g_autofree char *unread = g_strdup_printf ("%u", voipctl_lookup_uint32 (props, "Unread"));

          voipctl_table_add_row (table, id,
                                 voipctl_lookup_string (props, "Name"),
                                 voipctl_lookup_string (props, "Owner"),
                                 n_members, unread, NULL);
        }
      voipctl_table_print (table);
    }
  return VOIPCTL_EXIT_OK;
}

int
voipctl_cmd_group_info (const VoipctlCommand *cmd,
                        int                   argc,
                        char                **argv)
{
  g_autoptr(VoipDBusGroup) group = NULL;
  g_autoptr(VoipDBusConversation) conversation = NULL;
  g_autoptr(GVariant) group_props = NULL;
  g_autoptr(GVariant) props = NULL;
  g_autoptr(GError) error = NULL;
  GVariantDict dict;
  guint unread;
  int status;

  if (!voipctl_parse_args (cmd, NULL, &argc, &argv, 1, 1))
    return VOIPCTL_EXIT_USAGE;
  group = group_from_arg (cmd, argv[1], &status);
  if (group == NULL)
    return status;
  /* Unread is the group's conversation's. */
  conversation = voip_dbus_conversation_proxy_new_for_bus_sync (
      G_BUS_TYPE_SESSION, G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS, VOIPCTL_BUS_NAME,
      g_dbus_proxy_get_object_path (G_DBUS_PROXY (group)), NULL, &error);
  if (conversation == NULL)
    return voipctl_fail (error);
  unread = voip_dbus_conversation_get_unread (conversation);

  group_props = voipctl_proxy_properties (G_DBUS_PROXY (group));
  g_variant_dict_init (&dict, group_props);
  g_variant_dict_insert (&dict, "Unread", "u", unread);
  props = g_variant_ref_sink (g_variant_dict_end (&dict));
  if (voipctl_json_wanted ())
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      voipctl_json_add_group (builder, props);
      root = json_builder_get_root (builder);
      voipctl_print_json (root);
    }
  else
    {
      const char *const *members = voip_dbus_group_get_members (group);
      g_autofree char *member_list = members != NULL ? g_strjoinv (", ", (char **) members) : g_strdup ("");
      g_autofree char *id = g_strdup_printf ("%" G_GUINT64_FORMAT, voip_dbus_group_get_id (group));
      g_autofree char *unread_text = g_strdup_printf ("%u", unread);

      voipctl_print_fields (_("Id"), id,
                            _("Name"), voip_dbus_group_get_name (group),
                            _("Owner"), voip_dbus_group_get_owner (group),
                            _("Members"), member_list,
                            _("Unread"), unread_text,
                            NULL);
    }
  return VOIPCTL_EXIT_OK;
}

typedef enum
{
  GROUP_RENAME,
  GROUP_ADD,
  GROUP_REMOVE,
  GROUP_LEAVE,
  GROUP_DELETE,
} GroupAction;

static int
group_action (const VoipctlCommand *cmd,
              int                   argc,
              char                **argv,
              GroupAction           action)
{
  int n_args = action == GROUP_LEAVE || action == GROUP_DELETE ? 1 : 2;
  g_autoptr(VoipDBusGroup) group = NULL;
  g_autoptr(GError) error = NULL;
  gboolean ok = FALSE;
  int status;

  if (!voipctl_parse_args (cmd, NULL, &argc, &argv, n_args, n_args))
    return VOIPCTL_EXIT_USAGE;
  if (action == GROUP_RENAME && !g_utf8_validate (argv[2], -1, NULL))
    return voipctl_usage_error (cmd, _("the name is not valid UTF-8"));

  group = group_from_arg (cmd, argv[1], &status);
  if (group == NULL)
    return status;

  switch (action)
    {
    case GROUP_RENAME:
      ok = voip_dbus_group_call_rename_sync (group, argv[2], NULL, &error);
      break;
    case GROUP_ADD:
      ok = voip_dbus_group_call_add_member_sync (group, argv[2], NULL, &error);
      break;
    case GROUP_REMOVE:
      ok = voip_dbus_group_call_remove_member_sync (group, argv[2], NULL, &error);
      break;
    case GROUP_LEAVE:
      ok = voip_dbus_group_call_leave_sync (group, NULL, &error);
      break;
    case GROUP_DELETE:
      ok = voip_dbus_group_call_delete_sync (group, NULL, &error);
      break;
    }
  if (!ok)
    return voipctl_fail (error);
  return VOIPCTL_EXIT_OK;
}

int
voipctl_cmd_group_rename (const VoipctlCommand *cmd, int argc, char **argv)
{
  return group_action (cmd, argc, argv, GROUP_RENAME);
}

int
voipctl_cmd_group_add (const VoipctlCommand *cmd, int argc, char **argv)
{
  return group_action (cmd, argc, argv, GROUP_ADD);
}

int
voipctl_cmd_group_remove (const VoipctlCommand *cmd, int argc, char **argv)
{
  return group_action (cmd, argc, argv, GROUP_REMOVE);
}

int
voipctl_cmd_group_leave (const VoipctlCommand *cmd, int argc, char **argv)
{
  return group_action (cmd, argc, argv, GROUP_LEAVE);
}

int
voipctl_cmd_group_delete (const VoipctlCommand *cmd, int argc, char **argv)
{
  return group_action (cmd, argc, argv, GROUP_DELETE);
}
