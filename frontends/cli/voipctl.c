/* voipctl.c — main(), the table of subcommands, and what they share: option
 * parsing, error reporting, password prompts and the daemon's objects.
 *
 * A subcommand is one row of `commands` and one function: the table drives
 * dispatch, `voipctl --help`, and the usage line of every subcommand.
 */
#define G_LOG_DOMAIN "voipctl"

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "voipctl.h"

static const VoipctlCommand commands[] = {
  /* Translators: in the synopses (the third column), translate the words in
   * capitals (USER, ID, FILE…) but neither the options (--server, --group,
   * --wait) nor the presences, which are typed as they are. */
  { "register",       NULL,     N_("--server SERVER USER"),
    N_("Create an account on a server and log in"), voipctl_cmd_register },
  { "login",          NULL,     N_("--server SERVER USER"),
    N_("Log in with a password"), voipctl_cmd_login },
  { "logout",         NULL,     "",
    N_("Log out and forget the stored login"), voipctl_cmd_logout },
  { "passwd",         NULL,     "",
    N_("Change the password"), voipctl_cmd_passwd },
  { "delete-account", NULL,     "",
    N_("Delete the account on the server"), voipctl_cmd_delete_account },
  { "status",         NULL,     "",
    N_("Show the connection state and the account"), voipctl_cmd_status },
  /* Translators: keep --timeout as it is. */
  { "wait-online",    NULL,     N_("[--timeout SECONDS]"),
    N_("Wait until the account is online"), voipctl_cmd_wait_online },
  /* Translators: the values a user types; keep them as they are. */
  { "presence",       NULL,     N_("online|away|busy|dnd|invisible"),
    N_("Set your presence"), voipctl_cmd_presence },
  { "profile",        NULL,     N_("[USER]"),
    N_("Show your profile or another user's"), voipctl_cmd_profile },
  { "profile",        "set",    N_("FIELD VALUE"),
    N_("Change a field of your profile"), voipctl_cmd_profile_set },
  { "contacts",       NULL,     "",
    N_("List your contacts"), voipctl_cmd_contacts },
  { "contact",        "list",   "",
    N_("List your contacts"), voipctl_cmd_contacts },
  { "contact",        "add",    N_("USER"),
    N_("Ask a user to be friends"), voipctl_cmd_contact_add },
  { "contact",        "accept", N_("USER"),
    N_("Accept a friend request"), voipctl_cmd_contact_accept },
  { "contact",        "deny",   N_("USER"),
    N_("Deny a friend request, or withdraw yours"), voipctl_cmd_contact_deny },
  { "contact",        "remove", N_("USER"),
    N_("End a friendship"), voipctl_cmd_contact_remove },
  { "contact",        "mute",   N_("USER"),
    N_("Stop notifications of a friend's messages"), voipctl_cmd_contact_mute },
  { "contact",        "unmute", N_("USER"),
    N_("Notify a friend's messages again"), voipctl_cmd_contact_unmute },
  { "send",           NULL,     N_("USER TEXT | --group ID TEXT"),
    N_("Send a text message"), voipctl_cmd_send },
  { "voice-message",  NULL,     N_("USER FILE.ogg | --group ID FILE.ogg"),
    N_("Send a voice message (Ogg Opus)"), voipctl_cmd_voice_message },
  { "history",        NULL,     N_("USER | --group ID"),
    N_("Show a conversation"), voipctl_cmd_history },
  { "read",           NULL,     N_("USER | --group ID"),
    N_("Mark a conversation read"), voipctl_cmd_read },
  { "message",        "edit",   N_("ID TEXT"),
    N_("Change the text of one of your messages"), voipctl_cmd_message_edit },
  { "message",        "delete", N_("ID"),
    N_("Delete one of your messages"), voipctl_cmd_message_delete },
  { "message",        "save",   N_("ID FILE.ogg"),
    N_("Save the audio of a voice message"), voipctl_cmd_message_save },
  { "group",          "create", N_("NAME [USER…]"),
    N_("Create a group and print its id"), voipctl_cmd_group_create },
  { "groups",         NULL,     "",
    N_("List your groups"), voipctl_cmd_group_list },
  { "group",          "list",   "",
    N_("List your groups"), voipctl_cmd_group_list },
  { "group",          "info",   N_("ID"),
    N_("Show a group"), voipctl_cmd_group_info },
  { "group",          "rename", N_("ID NAME"),
    N_("Rename a group"), voipctl_cmd_group_rename },
  { "group",          "add",    N_("ID USER"),
    N_("Add a friend to a group"), voipctl_cmd_group_add },
  { "group",          "remove", N_("ID USER"),
    N_("Remove a member from a group (owner only)"), voipctl_cmd_group_remove },
  { "group",          "leave",  N_("ID"),
    N_("Leave a group"), voipctl_cmd_group_leave },
  { "group",          "delete", N_("ID"),
    N_("Delete a group (owner only)"), voipctl_cmd_group_delete },
  { "plugin",         "send",   N_("USER PLUGIN DATA"),
    N_("Send plugin data to an online friend"), voipctl_cmd_plugin_send },
  { "call",           NULL,     N_("USER [--wait] | --group ID [--wait]"),
    N_("Call a friend or a group and print the call's id"), voipctl_cmd_call },
  { "answer",         NULL,     N_("[CALL]"),
    N_("Answer the ringing call"), voipctl_cmd_answer },
  { "reject",         NULL,     N_("[CALL]"),
    N_("Decline the ringing call"), voipctl_cmd_reject },
  { "hangup",         NULL,     N_("[CALL]"),
    N_("Leave the call, or cancel it while it rings"), voipctl_cmd_hangup },
  { "mute",           NULL,     N_("[CALL]"),
    N_("Mute your microphone in the call"), voipctl_cmd_mute },
  { "unmute",         NULL,     N_("[CALL]"),
    N_("Unmute your microphone in the call"), voipctl_cmd_unmute },
  { "calls",          NULL,     "",
    N_("List calls, with their live statistics"), voipctl_cmd_calls },
  { "call",           "list",   "",
    N_("List calls, with their live statistics"), voipctl_cmd_calls },
  { "monitor",        NULL,     "",
    N_("Print events until interrupted"), voipctl_cmd_monitor },
};

/* ---- the command line ---------------------------------------------------- */

/* --json, given before the command (main reads it) or after it (every
 * command's option parsing knows it), as busctl and nmcli take theirs. */
static gboolean json_output;

static const GOptionEntry global_entries[] = {
  { "json", 'j', 0, G_OPTION_ARG_NONE, &json_output, N_("Print JSON"), NULL },
  G_OPTION_ENTRY_NULL
};

gboolean
voipctl_json_wanted (void)
{
  return json_output;
}

static char *
command_name (const VoipctlCommand *cmd)
{
  if (cmd->verb != NULL)
    return g_strdup_printf ("voipctl %s %s", cmd->noun, cmd->verb);
  return g_strdup_printf ("voipctl %s", cmd->noun);
}

/* The translated synopsis of the arguments; never _(""), which is the
 * catalogue's header. */
const char *
voipctl_params (const VoipctlCommand *cmd)
{
  return cmd->params[0] != '\0' ? _(cmd->params) : "";
}

/* "group add ID USER", for voipctl --help. */
static char *
synopsis (const VoipctlCommand *cmd)
{
  GString *text = g_string_new (cmd->noun);

  if (cmd->verb != NULL)
    g_string_append_printf (text, " %s", cmd->verb);
  if (cmd->params[0] != '\0')
    g_string_append_printf (text, " %s", voipctl_params (cmd));
  return g_string_free (text, FALSE);
}

static void
print_usage (FILE       *out,
             const char *only_noun)
{
  gsize width = 0;

  fprintf (out, "%s\n  voipctl %s\n\n%s\n\n%s\n",
           _("Usage:"), _("COMMAND [OPTION…] [ARGUMENT…]"),
           _("Control voipd, the voip daemon of your session."),
           _("Commands:"));

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      g_autofree char *text = synopsis (&commands[i]);

      if (only_noun == NULL || strcmp (only_noun, commands[i].noun) == 0)
        width = MAX (width, (gsize) g_utf8_strlen (text, -1));
    }

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      g_autofree char *text = NULL;

      if (only_noun != NULL && strcmp (only_noun, commands[i].noun) != 0)
        continue;
      text = synopsis (&commands[i]);
      fprintf (out, "  %s%*s  %s\n", text,
               (int) (width - g_utf8_strlen (text, -1)), "",
               _(commands[i].summary));
    }

  /* The options every command takes, wherever they are on the line. */
  fprintf (out, "\n%s\n  %-14s%s\n  %-14s%s\n  %-14s%s\n",
           _("Options, before or after the command:"),
           "-j, --json", _("Print JSON"),
           "-h, --help", _("Show the commands, or a command's options"),
           "--version", _("Show the version and exit"));
  fprintf (out, "\n%s\n",
           _("Run 'voipctl COMMAND --help' for the options of a command; see voipctl(1)."));
}

int
voipctl_usage_error (const VoipctlCommand *cmd,
                     const char           *format,
                     ...)
{
  g_autofree char *name = command_name (cmd);
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  g_printerr ("%s: %s\n", name, message);
  g_printerr (_("Try '%s --help' for more information.\n"), name);
  return VOIPCTL_EXIT_USAGE;
}

/* Parses the options of a subcommand; what remains in argv[1..argc-1] are
 * its positional arguments, whose number must be within min..max (max < 0:
 * no limit). Prints a usage error and returns FALSE otherwise. */
gboolean
voipctl_parse_args (const VoipctlCommand *cmd,
                    const GOptionEntry   *entries,
                    int                  *argc,
                    char               ***argv,
                    int                   min_args,
                    int                   max_args)
{
  static const GOptionEntry no_entries[] = { G_OPTION_ENTRY_NULL };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  int n_args;

  context = g_option_context_new (voipctl_params (cmd));
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_set_summary (context, _(cmd->summary));
  g_option_context_set_description (context, _("See voipctl(1) for details and examples."));
  /* Always a main group, even empty: GOption needs one to parse. */
  g_option_context_add_main_entries (context, entries != NULL ? entries : no_entries, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, global_entries, GETTEXT_PACKAGE);

  if (!g_option_context_parse (context, argc, argv, &error))
    {
      voipctl_usage_error (cmd, "%s", error->message);
      return FALSE;
    }

  n_args = *argc - 1;
  if (n_args < min_args)
    {
      voipctl_usage_error (cmd, _("missing argument; expected %s"), voipctl_params (cmd));
      return FALSE;
    }
  if (max_args >= 0 && n_args > max_args)
    {
      voipctl_usage_error (cmd, _("unexpected argument '%s'"), (*argv)[1 + max_args]);
      return FALSE;
    }
  return TRUE;
}

gboolean
voipctl_parse_id (const char *text,
                  guint64    *out_id)
{
  return g_ascii_string_to_unsigned (text, 10, 1, G_MAXUINT64, out_id, NULL);
}

/* ---- errors --------------------------------------------------------------- */

/* Prints the daemon's message (org.voipd.Voip1.Error.* stripped of its name)
 * and returns the exit status of a failure. */
int
voipctl_fail (const GError *error)
{
  g_autoptr(GError) copy = g_error_copy (error);

  g_dbus_error_strip_remote_error (copy);

  if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER))
    g_printerr ("voipctl: %s (%s)\n", _("voipd is not running"), copy->message);
  else
    g_printerr ("voipctl: %s\n", copy->message);

  return VOIPCTL_EXIT_FAILURE;
}

int
voipctl_failf (const char *format,
               ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  g_printerr ("voipctl: %s\n", message);
  return VOIPCTL_EXIT_FAILURE;
}

/* ---- passwords ------------------------------------------------------------ */

void
voipctl_free_password (char *password)
{
  if (password != NULL)
    explicit_bzero (password, strlen (password));
  g_free (password);
}

/* One line without its line ending, or NULL at the end of the input. */
static char *
read_line (FILE *in)
{
  char *line = NULL;
  size_t size = 0;
  ssize_t length;
  char *copy;

  length = getline (&line, &size, in);
  if (length < 0)
    {
      free (line);
      return NULL;
    }
  while (length > 0 && (line[length - 1] == '\n' || line[length - 1] == '\r'))
    line[--length] = '\0';

  copy = g_strdup (line);
  explicit_bzero (line, size);
  free (line);
  return copy;
}

/* Reads a password from stdin (one line) or asks for it on the terminal
 * without echo. Never from a pipe unless asked: a script must say so with
 * --password-stdin. */
char *
voipctl_read_password (const char  *prompt,
                       gboolean     from_stdin,
                       GError     **error)
{
  struct termios saved, quiet;
  gboolean restore;
  FILE *tty;
  char *password;
  int fd;

  if (from_stdin)
    {
      password = read_line (stdin);
      if (password == NULL)
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                             _("no password on standard input"));
      return password;
    }

  fd = open ("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _("cannot ask for the password without a terminal (%s); use --password-stdin"),
                   g_strerror (saved_errno));
      return NULL;
    }
  tty = fdopen (fd, "r+");
  if (tty == NULL)
    {
      close (fd);
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, g_strerror (errno));
      return NULL;
    }

  restore = tcgetattr (fd, &saved) == 0;
  if (restore)
    {
      quiet = saved;
      quiet.c_lflag &= ~(tcflag_t) ECHO;
      tcsetattr (fd, TCSAFLUSH, &quiet);
    }

  fputs (prompt, tty);
  fflush (tty);
  password = read_line (tty);

  if (restore)
    tcsetattr (fd, TCSAFLUSH, &saved);
  fputc ('\n', tty);
  fclose (tty);

  if (password == NULL)
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("no password given"));
  return password;
}

/* ---- the daemon's objects ------------------------------------------------- */

static gboolean
check_daemon (GDBusProxy  *proxy,
              GError     **error)
{
  g_autofree char *owner = g_dbus_proxy_get_name_owner (proxy);

  if (owner == NULL)
    {
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER,
                   _("nobody owns %s on the session bus"), VOIPCTL_BUS_NAME);
      return FALSE;
    }
  return TRUE;
}

/* The account at /org/voipd/Voip1 (not a managed object). Creating the proxy
 * starts voipd by D-Bus activation when it is installed. */
VoipDBusAccount *
voipctl_get_account (GError **error)
{
  g_autoptr(VoipDBusAccount) account = NULL;

  account = voip_dbus_account_proxy_new_for_bus_sync (G_BUS_TYPE_SESSION,
                                                 G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS,
                                                 VOIPCTL_BUS_NAME, VOIPCTL_ROOT_PATH,
                                                 NULL, error);
  if (account == NULL || !check_daemon (G_DBUS_PROXY (account), error))
    return NULL;
  return g_steal_pointer (&account);
}

gboolean
voipctl_set_property (GDBusProxy  *proxy,
                      const char  *property,
                      GVariant    *value,
                      GError     **error)
{
  g_autoptr(GVariant) reply = NULL;

  reply = g_dbus_proxy_call_sync (proxy, "org.freedesktop.DBus.Properties.Set",
                                  g_variant_new ("(ssv)", g_dbus_proxy_get_interface_name (proxy),
                                                 property, value),
                                  G_DBUS_CALL_FLAGS_NONE, -1, NULL, error);
  return reply != NULL;
}

/* A contact's object, found at its documented path. A proxy for a path where
 * nothing is exported has no properties: that is how a stranger shows. */
VoipDBusContact *
voipctl_get_contact (const char  *username,
                     GError     **error)
{
  g_autoptr(VoipDBusContact) contact = NULL;
  g_autofree char *escaped = g_dbus_escape_object_path (username);
  g_autofree char *path = g_strconcat (VOIPCTL_CONTACT_PATH, escaped, NULL);

  contact = voip_dbus_contact_proxy_new_for_bus_sync (G_BUS_TYPE_SESSION,
                                                 G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS,
                                                 VOIPCTL_BUS_NAME, path, NULL, error);
  if (contact == NULL || !check_daemon (G_DBUS_PROXY (contact), error))
    return NULL;
  if (voip_dbus_contact_get_username (contact) == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("%s is not one of your contacts"), username);
      return NULL;
    }
  return g_steal_pointer (&contact);
}

VoipDBusGroup *
voipctl_get_group (guint64   id,
                   GError  **error)
{
  g_autoptr(VoipDBusGroup) group = NULL;
  g_autofree char *path = g_strdup_printf (VOIPCTL_GROUP_PATH "%" G_GUINT64_FORMAT, id);

  group = voip_dbus_group_proxy_new_for_bus_sync (G_BUS_TYPE_SESSION,
                                             G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS,
                                             VOIPCTL_BUS_NAME, path, NULL, error);
  if (group == NULL || !check_daemon (G_DBUS_PROXY (group), error))
    return NULL;
  if (voip_dbus_group_get_name (group) == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("you are in no group with id %llu"), (unsigned long long) id);
      return NULL;
    }
  return g_steal_pointer (&group);
}

VoipDBusConversation *
voipctl_get_conversation_at (const char  *path,
                             GError     **error)
{
  return voip_dbus_conversation_proxy_new_for_bus_sync (G_BUS_TYPE_SESSION,
                                                   G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS |
                                                   G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES,
                                                   VOIPCTL_BUS_NAME, path, NULL, error);
}

/* The conversation named on a command line: a contact (USER) or a group
 * (--group ID), whose object carries the Conversation interface. The
 * contact or group is looked up first, so that a stranger or an unknown
 * group is an error of its own. On failure returns NULL and sets
 * *out_status (after printing why). */
VoipDBusConversation *
voipctl_get_conversation (const VoipctlCommand *cmd,
                          const char           *username,
                          const char           *group_id,
                          int                  *out_status)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusProxy) proxy = NULL;
  VoipDBusConversation *conversation = NULL;

  if (group_id != NULL)
    {
      guint64 id;

      if (!voipctl_parse_id (group_id, &id))
        {
          *out_status = voipctl_usage_error (cmd, _("invalid group id '%s': expected a positive integer"),
                                             group_id);
          return NULL;
        }
      proxy = (GDBusProxy *) voipctl_get_group (id, &error);
    }
  else
    proxy = (GDBusProxy *) voipctl_get_contact (username, &error);

  if (proxy != NULL)
    conversation = voipctl_get_conversation_at (g_dbus_proxy_get_object_path (proxy), &error);
  if (conversation == NULL)
    *out_status = voipctl_fail (error);
  return conversation;
}

/* An object's properties, all its interfaces in one a{sv}: a contact's
 * Unread is on its Conversation interface, next to Contact's own. The
 * entries are the reply's own, referenced rather than copied: with a
 * thousand contacts a dictionary rebuilt per object (GVariantDict) costs as
 * much as parsing the reply. */
static GVariant *
merge_interfaces (GVariant *interfaces)
{
  g_auto(GVariantBuilder) merged = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  gsize n_interfaces = g_variant_n_children (interfaces);

  for (gsize i = 0; i < n_interfaces; i++)
    {
      g_autoptr(GVariant) interface = g_variant_get_child_value (interfaces, i);
      g_autoptr(GVariant) props = g_variant_get_child_value (interface, 1);
      gsize n_props = g_variant_n_children (props);

      for (gsize j = 0; j < n_props; j++)
        {
          g_autoptr(GVariant) entry = g_variant_get_child_value (props, j);

          g_variant_builder_add_value (&merged, entry);
        }
    }
  return g_variant_ref_sink (g_variant_builder_end (&merged));
}

GVariant *
voipctl_get_managed_objects (GError **error)
{
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(GVariant) reply = NULL;

  bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, error);
  if (bus == NULL)
    return NULL;

  /* One GetManagedObjects call, not a proxy per object: with a thousand
   * contacts the proxies would cost more than everything else. */
  reply = g_dbus_connection_call_sync (bus, VOIPCTL_BUS_NAME, VOIPCTL_ROOT_PATH,
                                       "org.freedesktop.DBus.ObjectManager",
                                       "GetManagedObjects", NULL,
                                       G_VARIANT_TYPE ("(a{oa{sa{sv}}})"),
                                       G_DBUS_CALL_FLAGS_NONE, -1, NULL, error);
  if (reply == NULL)
    return NULL;
  return g_variant_get_child_value (reply, 0);
}

GPtrArray *
voipctl_list_objects (const char *interface, GError **error)
{
  g_autoptr(GVariant) objects = NULL;
  GPtrArray *found;
  gsize n_objects;

  objects = voipctl_get_managed_objects (error);
  if (objects == NULL)
    return NULL;

  n_objects = g_variant_n_children (objects);
  found = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  for (gsize i = 0; i < n_objects; i++)
    {
      g_autoptr(GVariant) object = g_variant_get_child_value (objects, i);
      g_autoptr(GVariant) interfaces = g_variant_get_child_value (object, 1);
      g_autoptr(GVariant) props = g_variant_lookup_value (interfaces, interface, NULL);

      if (props != NULL)
        g_ptr_array_add (found, merge_interfaces (interfaces));
    }
  return found;
}

/* ---- main ----------------------------------------------------------------- */

/* Where the translations are: LOCALEDIR once installed. An uninstalled
 * voipctl (build/frontends/cli/voipctl) uses the catalogues meson builds in
 * the same tree, build/po/LANG/LC_MESSAGES/voip.mo, so that
 * `LANGUAGE=fr build/frontends/cli/voipctl --help` speaks French too. */
static char *
locale_dir (void)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *exe_dir = exe != NULL ? g_path_get_dirname (exe) : NULL;

  if (exe_dir != NULL && g_str_has_suffix (exe_dir, G_DIR_SEPARATOR_S "frontends"
                                                    G_DIR_SEPARATOR_S "cli"))
    {
      g_autofree char *build_po = g_build_filename (exe_dir, "..", "..", "po", NULL);

      if (g_file_test (build_po, G_FILE_TEST_IS_DIR))
        return g_steal_pointer (&build_po);
    }
  return g_strdup (LOCALEDIR);
}

/* The row of the command that starts at argv[0] (its noun) and argv[1] (a
 * verb, when the noun has them); *out_consumed says how many words name it. */
static const VoipctlCommand *
find_command (int         argc,
              char      **argv,
              int        *out_consumed,
              gboolean   *out_noun_known)
{
  const VoipctlCommand *bare = NULL;

  *out_noun_known = FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      if (strcmp (commands[i].noun, argv[0]) != 0)
        continue;
      *out_noun_known = TRUE;
      if (commands[i].verb == NULL)
        bare = &commands[i];
      else if (argc > 1 && strcmp (commands[i].verb, argv[1]) == 0)
        {
          *out_consumed = 2;
          return &commands[i];
        }
    }

  *out_consumed = 1;
  return bare;
}

static gboolean
is_help (const char *arg)
{
  return strcmp (arg, "--help") == 0 || strcmp (arg, "-h") == 0;
}

int
main (int    argc,
      char **argv)
{
  const VoipctlCommand *cmd;
  g_autofree char *name = NULL;
  g_autofree char *locale = locale_dir ();
  g_autofree char **sub_argv = NULL;
  gboolean noun_known;
  int consumed;
  int sub_argc;
  int first;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, locale);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  /* --version wherever it is (up to a "--"), as getopt's tools take it. */
  for (int i = 1; i < argc && strcmp (argv[i], "--") != 0; i++)
    if (strcmp (argv[i], "--version") == 0)
      {
        g_print ("voipctl %s\n", VOIPCTL_VERSION);
        return VOIPCTL_EXIT_OK;
      }

  /* The options before the command; after it, the command's option parsing
   * takes the same ones (voipctl_parse_args). */
  for (first = 1; first < argc && argv[first][0] == '-'; first++)
    {
      if (is_help (argv[first]))
        {
          print_usage (stdout, NULL);
          return VOIPCTL_EXIT_OK;
        }
      if (strcmp (argv[first], "--json") == 0 || strcmp (argv[first], "-j") == 0)
        {
          json_output = TRUE;
          continue;
        }
      g_printerr (_("voipctl: unknown option '%s'\n"), argv[first]);
      g_printerr (_("Try 'voipctl --help' for more information.\n"));
      return VOIPCTL_EXIT_USAGE;
    }

  if (first >= argc)
    {
      print_usage (stderr, NULL);
      return VOIPCTL_EXIT_USAGE;
    }
  if (strcmp (argv[first], "help") == 0)
    {
      print_usage (stdout, NULL);
      return VOIPCTL_EXIT_OK;
    }

  cmd = find_command (argc - first, argv + first, &consumed, &noun_known);
  if (cmd == NULL)
    {
      const char *noun = argv[first];
      const char *verb = first + 1 < argc ? argv[first + 1] : NULL;

      if (!noun_known)
        {
          g_printerr (_("voipctl: unknown command '%s'\n"), noun);
          g_printerr (_("Try 'voipctl --help' for more information.\n"));
          return VOIPCTL_EXIT_USAGE;
        }
      if (verb != NULL && is_help (verb))
        {
          print_usage (stdout, noun);
          return VOIPCTL_EXIT_OK;
        }
      if (verb != NULL)
        g_printerr (_("voipctl %s: unknown verb '%s'\n\n"), noun, verb);
      else
        g_printerr (_("voipctl %s: missing verb\n\n"), noun);
      print_usage (stderr, noun);
      return VOIPCTL_EXIT_USAGE;
    }

  /* The subcommand sees itself as argv[0], so that GOption's usage line
   * reads "voipctl group add [OPTION…] ID USER". */
  name = command_name (cmd);
  g_set_prgname (name);
  sub_argc = argc - first - consumed + 1;
  sub_argv = g_new0 (char *, sub_argc + 1);
  sub_argv[0] = name;
  for (int i = 1; i < sub_argc; i++)
    sub_argv[i] = argv[first + consumed + i - 1];

  {
    /* GOption removes what it parsed from the array, so pass a copy of the
     * pointer: the array itself is freed here, its strings belong to main. */
    char **args = sub_argv;
    return cmd->func (cmd, sub_argc, args);
  }
}
