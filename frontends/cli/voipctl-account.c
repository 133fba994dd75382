/* voipctl-account.c — the account: register, login, logout, passwd,
 * delete-account, status, presence, profile and profile set.
 */
#define G_LOG_DOMAIN "voipctl"

#include <string.h>

#include <glib/gi18n.h>

#include "voipctl.h"

static const char *const presences[] = { "online", "away", "busy", "dnd", "invisible", NULL };
static const char *const profile_fields[] = {
  "display_name", "motd", "city", "phone", "mail", "language", "avatar", NULL
};

/* register and login: the same options, the same flow. */
static int
sign_in (const VoipctlCommand *cmd,
         int                   argc,
         char                **argv,
         gboolean              create)
{
  g_autofree char *server = NULL;
  g_autofree char *email = NULL;
  gboolean password_stdin = FALSE;
  const GOptionEntry register_entries[] = {
    { "server", 's', 0, G_OPTION_ARG_STRING, &server,
      N_("The server: HOST:PORT (an IPv6 host in brackets), a comma-separated list "
         "HOST:PORT,HOST:PORT,... of at most 16, or a DOMAIN whose _voip._tcp SRV "
         "records name the servers (default: the last one used)"), N_("SERVER") },
    { "email", 'e', 0, G_OPTION_ARG_STRING, &email,
      N_("An e-mail address for the account"), N_("ADDR") },
    { "password-stdin", 0, 0, G_OPTION_ARG_NONE, &password_stdin,
      N_("Read the password from the first line of standard input"), NULL },
    G_OPTION_ENTRY_NULL
  };
  const GOptionEntry login_entries[] = {
    register_entries[0], register_entries[2], G_OPTION_ENTRY_NULL
  };
  g_autoptr(VoipDBusAccount) account = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(VoipctlPassword) password = NULL;
  g_autofree char *prompt = NULL;
  const char *username;
  gboolean ok;

  if (!voipctl_parse_args (cmd, create ? register_entries : login_entries, &argc, &argv, 1, 1))
    return VOIPCTL_EXIT_USAGE;
  username = argv[1];
  /* The server (one node, a list or an SRV domain) is voipd's to check:
   * one parser, and its Malformed error says what is wrong. */

  account = voipctl_get_account (&error);
  if (account == NULL)
    return voipctl_fail (error);

  if (server == NULL)
    {
      const char *last = voip_dbus_account_get_server (account);

      if (last == NULL || *last == '\0')
        return voipctl_usage_error (cmd, _("missing --server SERVER"));
      server = g_strdup (last);
    }

  prompt = g_strdup_printf (_("Password for %s@%s: "), username, server);
  password = voipctl_read_password (prompt, password_stdin, &error);
  if (password == NULL)
    return voipctl_fail (error);

  if (create && !password_stdin)
    {
      g_auto(VoipctlPassword) again = voipctl_read_password (_("Repeat the password: "), FALSE, &error);

      if (again == NULL)
        return voipctl_fail (error);
      if (strcmp (password, again) != 0)
        return voipctl_failf (_("the passwords do not match"));
    }

  if (create)
    ok = voip_dbus_account_call_register_sync (account, server, username, password,
                                          email != NULL ? email : "", NULL, &error);
  else
    ok = voip_dbus_account_call_login_sync (account, server, username, password, NULL, &error);
  if (!ok)
    return voipctl_fail (error);
  return VOIPCTL_EXIT_OK;
}

int
voipctl_cmd_register (const VoipctlCommand *cmd,
                      int                   argc,
                      char                **argv)
{
  return sign_in (cmd, argc, argv, TRUE);
}

int
voipctl_cmd_login (const VoipctlCommand *cmd,
                   int                   argc,
                   char                **argv)
{
  return sign_in (cmd, argc, argv, FALSE);
}

int
voipctl_cmd_logout (const VoipctlCommand *cmd,
                    int                   argc,
                    char                **argv)
{
  g_autoptr(VoipDBusAccount) account = NULL;
  g_autoptr(GError) error = NULL;

  if (!voipctl_parse_args (cmd, NULL, &argc, &argv, 0, 0))
    return VOIPCTL_EXIT_USAGE;

  account = voipctl_get_account (&error);
  if (account == NULL || !voip_dbus_account_call_logout_sync (account, NULL, &error))
    return voipctl_fail (error);
  return VOIPCTL_EXIT_OK;
}

int
voipctl_cmd_passwd (const VoipctlCommand *cmd,
                    int                   argc,
                    char                **argv)
{
  gboolean password_stdin = FALSE;
  const GOptionEntry entries[] = {
    { "password-stdin", 0, 0, G_OPTION_ARG_NONE, &password_stdin,
      N_("Read the current password, then the new one, from two lines of standard input"), NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(VoipDBusAccount) account = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(VoipctlPassword) old_password = NULL;
  g_auto(VoipctlPassword) new_password = NULL;

  if (!voipctl_parse_args (cmd, entries, &argc, &argv, 0, 0))
    return VOIPCTL_EXIT_USAGE;

  account = voipctl_get_account (&error);
  if (account == NULL)
    return voipctl_fail (error);

  old_password = voipctl_read_password (_("Current password: "), password_stdin, &error);
  if (old_password == NULL)
    return voipctl_fail (error);
  new_password = voipctl_read_password (_("New password: "), password_stdin, &error);
  if (new_password == NULL)
    return voipctl_fail (error);
  if (!password_stdin)
    {
      g_auto(VoipctlPassword) again = voipctl_read_password (_("Repeat the new password: "), FALSE, &error);

      if (again == NULL)
        return voipctl_fail (error);
      if (strcmp (new_password, again) != 0)
        return voipctl_failf (_("the passwords do not match"));
    }

  if (!voip_dbus_account_call_change_password_sync (account, old_password, new_password, NULL, &error))
    return voipctl_fail (error);
  return VOIPCTL_EXIT_OK;
}

int
voipctl_cmd_delete_account (const VoipctlCommand *cmd,
                            int                   argc,
                            char                **argv)
{
  gboolean password_stdin = FALSE;
  const GOptionEntry entries[] = {
    { "password-stdin", 0, 0, G_OPTION_ARG_NONE, &password_stdin,
      N_("Read the password from the first line of standard input"), NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(VoipDBusAccount) account = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(VoipctlPassword) password = NULL;
  g_autofree char *prompt = NULL;

  if (!voipctl_parse_args (cmd, entries, &argc, &argv, 0, 0))
    return VOIPCTL_EXIT_USAGE;

  account = voipctl_get_account (&error);
  if (account == NULL)
    return voipctl_fail (error);

  prompt = g_strdup_printf (_("Password of %s, to delete the account: "),
                            voip_dbus_account_get_username (account));
  password = voipctl_read_password (prompt, password_stdin, &error);
  if (password == NULL)
    return voipctl_fail (error);

  if (!voip_dbus_account_call_delete_account_sync (account, password, NULL, &error))
    return voipctl_fail (error);
  return VOIPCTL_EXIT_OK;
}

static const char *
or_empty (const char *text)
{
  return text != NULL ? text : "";
}

int
voipctl_cmd_status (const VoipctlCommand *cmd,
                    int                   argc,
                    char                **argv)
{
  g_autoptr(VoipDBusAccount) account = NULL;
  g_autoptr(GError) error = NULL;

  if (!voipctl_parse_args (cmd, NULL, &argc, &argv, 0, 0))
    return VOIPCTL_EXIT_USAGE;

  account = voipctl_get_account (&error);
  if (account == NULL)
    return voipctl_fail (error);

  if (voipctl_json_wanted ())
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "state");
      json_builder_add_string_value (builder, or_empty (voip_dbus_account_get_state (account)));
      /* The code is what scripts match; the reason is for people. */
      json_builder_set_member_name (builder, "state_reason_code");
      json_builder_add_string_value (builder,
                                     or_empty (voip_dbus_account_get_state_reason_code (account)));
      json_builder_set_member_name (builder, "state_reason");
      json_builder_add_string_value (builder, or_empty (voip_dbus_account_get_state_reason (account)));
      json_builder_set_member_name (builder, "server");
      json_builder_add_string_value (builder, or_empty (voip_dbus_account_get_server (account)));
      json_builder_set_member_name (builder, "username");
      json_builder_add_string_value (builder, or_empty (voip_dbus_account_get_username (account)));
      json_builder_set_member_name (builder, "presence");
      json_builder_add_string_value (builder, or_empty (voip_dbus_account_get_presence (account)));
      json_builder_set_member_name (builder, "remember_login");
      json_builder_add_boolean_value (builder, voip_dbus_account_get_remember_login (account));
      json_builder_set_member_name (builder, "tls");
      json_builder_add_boolean_value (builder, voip_dbus_account_get_tls (account));
      json_builder_set_member_name (builder, "tls_fingerprint");
      json_builder_add_string_value (builder, or_empty (voip_dbus_account_get_tls_fingerprint (account)));
      json_builder_end_object (builder);

      root = json_builder_get_root (builder);
      voipctl_print_json (root);
    }
  else
    {
      /* The link's security, with the certificate to compare out of band. */
      g_autofree char *tls = voip_dbus_account_get_tls (account)
                             ? g_strdup_printf (_("yes (SHA-256 %s)"),
                                                voip_dbus_account_get_tls_fingerprint (account))
                             : g_strdup (_("no"));

      voipctl_print_fields (_("State"), voip_dbus_account_get_state (account),
                            _("Reason"), voip_dbus_account_get_state_reason (account),
                            _("Server"), voip_dbus_account_get_server (account),
                            _("Username"), voip_dbus_account_get_username (account),
                            _("Presence"), voip_dbus_account_get_presence (account),
                            _("Remember login"),
                            voip_dbus_account_get_remember_login (account) ? _("yes") : _("no"),
                            _("TLS"), tls,
                            NULL);
    }
  return VOIPCTL_EXIT_OK;
}

int
voipctl_cmd_presence (const VoipctlCommand *cmd,
                      int                   argc,
                      char                **argv)
{
  g_autoptr(VoipDBusAccount) account = NULL;
  g_autoptr(GError) error = NULL;

  if (!voipctl_parse_args (cmd, NULL, &argc, &argv, 1, 1))
    return VOIPCTL_EXIT_USAGE;
  if (!g_strv_contains (presences, argv[1]))
    return voipctl_usage_error (cmd, _("invalid presence '%s': expected online, away, busy, dnd or invisible"),
                                argv[1]);

  account = voipctl_get_account (&error);
  if (account == NULL || !voip_dbus_account_call_set_presence_sync (account, argv[1], NULL, &error))
    return voipctl_fail (error);
  return VOIPCTL_EXIT_OK;
}

/* ---- profile -------------------------------------------------------------- */

static void
print_profile_json (GVariant *profile)
{
  static const char *const strings[] = {
    "username", "display_name", "presence", "motd", "city", "phone", "mail", "language", NULL
  };
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GVariant) avatar = NULL;
  g_autoptr(GVariant) plugins = NULL;
  g_autofree char *avatar_base64 = NULL;

  avatar = g_variant_lookup_value (profile, "avatar", G_VARIANT_TYPE_BYTESTRING);
  plugins = g_variant_lookup_value (profile, "plugins", G_VARIANT_TYPE ("a(ss)"));
  if (avatar != NULL && g_variant_n_children (avatar) > 0)
    avatar_base64 = g_base64_encode (g_variant_get_data (avatar), g_variant_get_size (avatar));

  json_builder_begin_object (builder);
  for (gsize i = 0; strings[i] != NULL; i++)
    {
      json_builder_set_member_name (builder, strings[i]);
      json_builder_add_string_value (builder, voipctl_lookup_string (profile, strings[i]));
    }
  json_builder_set_member_name (builder, "avatar");
  json_builder_add_string_value (builder, avatar_base64 != NULL ? avatar_base64 : "");
  json_builder_set_member_name (builder, "plugins");
  json_builder_begin_array (builder);
  if (plugins != NULL)
    {
      GVariantIter iter;
      const char *name, *description;

      g_variant_iter_init (&iter, plugins);
      while (g_variant_iter_next (&iter, "(&s&s)", &name, &description))
        {
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "name");
          json_builder_add_string_value (builder, name);
          json_builder_set_member_name (builder, "description");
          json_builder_add_string_value (builder, description);
          json_builder_end_object (builder);
        }
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  voipctl_print_json (root);
}

static void
print_profile (GVariant *profile)
{
  g_autoptr(GVariant) avatar = NULL;
  g_autoptr(GVariant) plugins = NULL;
  g_autoptr(GString) plugin_list = g_string_new (NULL);
  g_autofree char *avatar_text = NULL;

  avatar = g_variant_lookup_value (profile, "avatar", G_VARIANT_TYPE_BYTESTRING);
  if (avatar != NULL && g_variant_n_children (avatar) > 0)
    {
      gsize size = g_variant_n_children (avatar);

      /* %zu, not G_GSIZE_FORMAT: xgettext cuts a msgid at a macro. */
      avatar_text = g_strdup_printf (ngettext ("PNG, %zu byte", "PNG, %zu bytes", size), size);
    }
  else
    avatar_text = g_strdup (_("none"));

  plugins = g_variant_lookup_value (profile, "plugins", G_VARIANT_TYPE ("a(ss)"));
  if (plugins != NULL)
    {
      GVariantIter iter;
      const char *name, *description;

      g_variant_iter_init (&iter, plugins);
      while (g_variant_iter_next (&iter, "(&s&s)", &name, &description))
        g_string_append_printf (plugin_list, "%s%s (%s)", plugin_list->len > 0 ? ", " : "",
                                name, description);
    }

  voipctl_print_fields (_("Username"), voipctl_lookup_string (profile, "username"),
                        _("Display name"), voipctl_lookup_string (profile, "display_name"),
                        _("Presence"), voipctl_lookup_string (profile, "presence"),
                        _("Message of the day"), voipctl_lookup_string (profile, "motd"),
                        _("City"), voipctl_lookup_string (profile, "city"),
                        _("Phone"), voipctl_lookup_string (profile, "phone"),
                        _("Mail"), voipctl_lookup_string (profile, "mail"),
                        _("Language"), voipctl_lookup_string (profile, "language"),
                        _("Avatar"), avatar_text,
                        _("Plugins"), plugin_list->str,
                        NULL);
}

static int
show_profile (const char *username,
              gboolean    json)
{
  g_autoptr(VoipDBusAccount) account = NULL;
  g_autoptr(GVariant) profile = NULL;
  g_autoptr(GError) error = NULL;

  account = voipctl_get_account (&error);
  if (account == NULL)
    return voipctl_fail (error);

  if (username == NULL)
    {
      username = voip_dbus_account_get_username (account);
      if (username == NULL || *username == '\0')
        return voipctl_failf (_("not logged in: name a USER, or log in first"));
    }

  if (!voip_dbus_account_call_get_profile_sync (account, username, &profile, NULL, &error))
    return voipctl_fail (error);

  if (json)
    print_profile_json (profile);
  else
    print_profile (profile);
  return VOIPCTL_EXIT_OK;
}

int
voipctl_cmd_profile (const VoipctlCommand *cmd,
                     int                   argc,
                     char                **argv)
{

  if (!voipctl_parse_args (cmd, NULL, &argc, &argv, 0, 1))
    return VOIPCTL_EXIT_USAGE;
  return show_profile (argc > 1 ? argv[1] : NULL, voipctl_json_wanted ());
}

static GVariant *
read_avatar (const char  *filename,
             GError     **error)
{
  static const guint8 png_signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  g_autoptr(GFile) file = g_file_new_for_commandline_arg (filename);
  g_autoptr(GBytes) bytes = NULL;
  gsize size;
  const guint8 *data;

  bytes = g_file_load_bytes (file, NULL, NULL, error);
  if (bytes == NULL)
    return NULL;

  data = g_bytes_get_data (bytes, &size);
  if (size < sizeof png_signature || memcmp (data, png_signature, sizeof png_signature) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("%s is not a PNG image"), filename);
      return NULL;
    }
  return g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, bytes, TRUE);
}

int
voipctl_cmd_profile_set (const VoipctlCommand *cmd,
                         int                   argc,
                         char                **argv)
{
  g_autoptr(VoipDBusAccount) account = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariantDict) fields = NULL;
  GVariant *value;

  if (!voipctl_parse_args (cmd, NULL, &argc, &argv, 0, 2))
    return VOIPCTL_EXIT_USAGE;

  /* "voipctl profile set" alone: the profile of a user named "set". */
  if (argc == 1)
    return show_profile ("set", FALSE);
  if (argc != 3)
    return voipctl_usage_error (cmd, _("missing argument; expected %s"), voipctl_params (cmd));

  if (!g_strv_contains (profile_fields, argv[1]))
    return voipctl_usage_error (cmd,
                                _("unknown field '%s': expected display_name, motd, city, phone, mail, language or avatar"),
                                argv[1]);

  if (strcmp (argv[1], "avatar") == 0)
    {
      value = read_avatar (argv[2], &error);
      if (value == NULL)
        return voipctl_fail (error);
    }
  else
    {
      if (!g_utf8_validate (argv[2], -1, NULL))
        return voipctl_usage_error (cmd, _("the value is not valid UTF-8"));
      value = g_variant_new_string (argv[2]);
    }

  fields = g_variant_dict_new (NULL);
  g_variant_dict_insert_value (fields, argv[1], value);

  account = voipctl_get_account (&error);
  if (account == NULL ||
      !voip_dbus_account_call_set_profile_sync (account, g_variant_dict_end (fields), NULL, &error))
    return voipctl_fail (error);
  return VOIPCTL_EXIT_OK;
}
