/* voipctl-calls.c — voice calls: starting one (and staying with it under
 * --wait), answering, rejecting, hanging up, muting, and the listing.
 *
 * A call is the daemon's object /org/voipd/Voip1/call/ID. Where a command
 * takes an optional CALL, leaving it out means the only call it can mean: the
 * ringing incoming call for answer and reject, the call that has not ended
 * for the others.
 */
#define G_LOG_DOMAIN "voipctl"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib/gi18n.h>

#include "voipctl.h"

#define CALL_INTERFACE "org.voipd.Voip1.Call"
#define ERROR_PREFIX   "org.voipd.Voip1.Error."

/* ---- helpers ------------------------------------------------------------------ */

static char *
call_path (guint64 id)
{
  return g_strdup_printf (VOIPCTL_CALL_PATH "%" G_GUINT64_FORMAT, id);
}

static VoipDBusCall *
get_call (guint64 id, GError **error)
{
  g_autofree char *path = call_path (id);
  g_autoptr(VoipDBusCall) call = NULL;

  call = voip_dbus_call_proxy_new_for_bus_sync (G_BUS_TYPE_SESSION, G_DBUS_PROXY_FLAGS_NONE,
                                           VOIPCTL_BUS_NAME, path, NULL, error);
  if (call == NULL)
    return NULL;
  if (voip_dbus_call_get_state (call) == NULL)
    {
      g_autofree char *owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (call));

      if (owner == NULL)
        g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER,
                     _("nobody owns %s on the session bus"), VOIPCTL_BUS_NAME);
      else
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                     _("there is no call %llu"), (unsigned long long) id);
      return NULL;
    }
  return g_steal_pointer (&call);
}

typedef enum
{
  PICK_RINGING,   /* an incoming call that rings */
  PICK_ONGOING,   /* a call that has not ended */
} CallPick;

/* The call CALL names, or the only one that fits. On failure prints why and
 * sets *out_status. */
static VoipDBusCall *
pick_call (const VoipctlCommand *cmd,
           const char           *arg,
           CallPick              pick,
           int                  *out_status)
{
  g_autoptr(GPtrArray) calls = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) ids = g_string_new (NULL);
  VoipDBusCall *call;
  guint64 id = 0;
  guint found = 0;

  if (arg != NULL)
    {
      if (!voipctl_parse_id (arg, &id))
        {
          *out_status = voipctl_usage_error (cmd, _("invalid call id '%s': expected a positive integer"),
                                             arg);
          return NULL;
        }
    }
  else
    {
      calls = voipctl_list_objects (CALL_INTERFACE, &error);
      if (calls == NULL)
        {
          *out_status = voipctl_fail (error);
          return NULL;
        }
      for (guint i = 0; i < calls->len; i++)
        {
          GVariant *props = calls->pdata[i];
          const char *state = voipctl_lookup_string (props, "State");
          gboolean fits = pick == PICK_RINGING
                          ? strcmp (state, "ringing") == 0
                            && strcmp (voipctl_lookup_string (props, "Direction"), "incoming") == 0
                          : strcmp (state, "ended") != 0;

          if (!fits)
            continue;
          id = voipctl_lookup_uint64 (props, "Id");
          g_string_append_printf (ids, "%s%" G_GUINT64_FORMAT, found > 0 ? ", " : "", id);
          found++;
        }
      if (found == 0)
        {
          *out_status = voipctl_failf ("%s", pick == PICK_RINGING ? _("no call is ringing")
                                                                  : _("you are in no call"));
          return NULL;
        }
      if (found > 1)
        {
          *out_status = voipctl_failf (_("there are several calls (%s); name one"), ids->str);
          return NULL;
        }
    }

  call = get_call (id, &error);
  if (call == NULL)
    *out_status = voipctl_fail (error);
  return call;
}

/* "12:34" or "1:02:03". */
static char *
format_duration (gint64 seconds)
{
  if (seconds < 0)
    seconds = 0;
  if (seconds >= 3600)
    return g_strdup_printf ("%" G_GINT64_FORMAT ":%02d:%02d", seconds / 3600,
                            (int) (seconds / 60 % 60), (int) (seconds % 60));
  return g_strdup_printf ("%02d:%02d", (int) (seconds / 60), (int) (seconds % 60));
}

static double
lookup_double (GVariant *dict, const char *key)
{
  double value;

  return g_variant_lookup (dict, key, "d", &value) ? value : 0.0;
}

/* One peer's stats for people: "bob host rtt 3 ms, loss 0.0 %, jitter 1.2 ms, buffer 20 ms". */
static char *
format_peer_stats (const char *peer, GVariant *dict)
{
  const char *path = "";

  g_variant_lookup (dict, "path", "&s", &path);
  return g_strdup_printf (_("%s %s rtt %.0f ms, loss %.1f %%, jitter %.1f ms, buffer %.0f ms"),
                          peer, *path != '\0' ? path : _("(connecting)"),
                          lookup_double (dict, "rtt_ms"), lookup_double (dict, "loss_percent"),
                          lookup_double (dict, "jitter_ms"),
                          lookup_double (dict, "jitter_buffer_ms"));
}

static char *
format_stats (GVariant *stats)
{
  g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func (g_free);
  GVariantIter iter;
  const char *peer;
  GVariant *dict;

  if (stats == NULL)
    return g_strdup ("");
  g_variant_iter_init (&iter, stats);
  while (g_variant_iter_next (&iter, "{&s@a{sv}}", &peer, &dict))
    {
      g_ptr_array_add (parts, format_peer_stats (peer, dict));
      g_variant_unref (dict);
    }
  g_ptr_array_add (parts, NULL);
  return g_strjoinv ("; ", (char **) parts->pdata);
}

static char *
format_participants (GVariant *participants)
{
  g_autoptr(GString) text = g_string_new (NULL);
  GVariantIter iter;
  const char *username, *state;

  if (participants == NULL)
    return g_strdup ("");
  g_variant_iter_init (&iter, participants);
  while (g_variant_iter_next (&iter, "(&s&s)", &username, &state))
    g_string_append_printf (text, "%s%s (%s)", text->len > 0 ? ", " : "", username, state);
  return g_string_free (g_steal_pointer (&text), FALSE);
}

/* ---- voipctl calls ---------------------------------------------------------------- */

static gint64
group_id (GVariant *props)
{
  g_autoptr(GVariant) group = g_variant_lookup_value (props, "Group", G_VARIANT_TYPE_OBJECT_PATH);
  const char *path = group != NULL ? g_variant_get_string (group, NULL) : "/";
  guint64 id = 0;

  if (g_str_has_prefix (path, VOIPCTL_GROUP_PATH))
    g_ascii_string_to_unsigned (path + strlen (VOIPCTL_GROUP_PATH), 10, 0, G_MAXUINT64, &id, NULL);
  return (gint64) id;
}

static void
json_add_double (JsonBuilder *builder, const char *key, GVariant *dict, const char *name)
{
  json_builder_set_member_name (builder, key);
  json_builder_add_double_value (builder, lookup_double (dict, name));
}

/* A call's properties as a JSON object: id, direction, initiator, state,
 * reason, group (0: none), participants [{username, state}], muted,
 * start_time (ms since the epoch, 0 before the answer), and stats
 * [{peer, path, rtt_ms, loss_percent, jitter_ms, jitter_buffer_ms, send_kbps,
 * receive_kbps, packets_received}]. */
static void
json_add_call (JsonBuilder *builder, GVariant *props)
{
  g_autoptr(GVariant) participants = g_variant_lookup_value (props, "Participants",
                                                             G_VARIANT_TYPE ("a(ss)"));
  g_autoptr(GVariant) stats = g_variant_lookup_value (props, "Stats",
                                                      G_VARIANT_TYPE ("a{sa{sv}}"));
  gboolean muted = FALSE;
  gint64 start_time = 0;
  GVariantIter iter;
  const char *name, *state;
  GVariant *dict;

  g_variant_lookup (props, "Muted", "b", &muted);
  g_variant_lookup (props, "StartTime", "x", &start_time);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_int_value (builder, (gint64) voipctl_lookup_uint64 (props, "Id"));
  json_builder_set_member_name (builder, "direction");
  json_builder_add_string_value (builder, voipctl_lookup_string (props, "Direction"));
  json_builder_set_member_name (builder, "initiator");
  json_builder_add_string_value (builder, voipctl_lookup_string (props, "Initiator"));
  json_builder_set_member_name (builder, "state");
  json_builder_add_string_value (builder, voipctl_lookup_string (props, "State"));
  json_builder_set_member_name (builder, "reason");
  json_builder_add_string_value (builder, voipctl_lookup_string (props, "StateReasonCode"));
  json_builder_set_member_name (builder, "group");
  json_builder_add_int_value (builder, group_id (props));

  json_builder_set_member_name (builder, "participants");
  json_builder_begin_array (builder);
  if (participants != NULL)
    {
      g_variant_iter_init (&iter, participants);
      while (g_variant_iter_next (&iter, "(&s&s)", &name, &state))
        {
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "username");
          json_builder_add_string_value (builder, name);
          json_builder_set_member_name (builder, "state");
          json_builder_add_string_value (builder, state);
          json_builder_end_object (builder);
        }
    }
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "muted");
  json_builder_add_boolean_value (builder, muted);
  json_builder_set_member_name (builder, "start_time");
  json_builder_add_int_value (builder, start_time);

  json_builder_set_member_name (builder, "stats");
  json_builder_begin_array (builder);
  if (stats != NULL)
    {
      g_variant_iter_init (&iter, stats);
      while (g_variant_iter_next (&iter, "{&s@a{sv}}", &name, &dict))
        {
          const char *path = "";
          guint64 packets = 0;

          g_variant_lookup (dict, "path", "&s", &path);
          g_variant_lookup (dict, "packets_received", "t", &packets);
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "peer");
          json_builder_add_string_value (builder, name);
          json_builder_set_member_name (builder, "path");
          json_builder_add_string_value (builder, path);
          json_add_double (builder, "rtt_ms", dict, "rtt_ms");
          json_add_double (builder, "loss_percent", dict, "loss_percent");
          json_add_double (builder, "jitter_ms", dict, "jitter_ms");
          json_add_double (builder, "jitter_buffer_ms", dict, "jitter_buffer_ms");
          json_add_double (builder, "send_kbps", dict, "send_kbps");
          json_add_double (builder, "receive_kbps", dict, "receive_kbps");
          json_builder_set_member_name (builder, "packets_received");
          json_builder_add_int_value (builder, (gint64) packets);
          json_builder_end_object (builder);
          g_variant_unref (dict);
        }
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
}

static int
compare_ids (gconstpointer a,
             gconstpointer b)
{
  guint64 x = voipctl_lookup_uint64 (*(GVariant **) a, "Id");
  guint64 y = voipctl_lookup_uint64 (*(GVariant **) b, "Id");

  return x < y ? -1 : x > y;
}

int
voipctl_cmd_calls (const VoipctlCommand *cmd,
                   int                   argc,
                   char                **argv)
{
  g_autoptr(GPtrArray) calls = NULL;
  g_autoptr(GError) error = NULL;

  if (!voipctl_parse_args (cmd, NULL, &argc, &argv, 0, 0))
    return VOIPCTL_EXIT_USAGE;

  calls = voipctl_list_objects (CALL_INTERFACE, &error);
  if (calls == NULL)
    return voipctl_fail (error);
  g_ptr_array_sort (calls, compare_ids);

  if (voipctl_json_wanted ())
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_array (builder);
      for (guint i = 0; i < calls->len; i++)
        json_add_call (builder, calls->pdata[i]);
      json_builder_end_array (builder);
      root = json_builder_get_root (builder);
      voipctl_print_json (root);
    }
  else
    {
      g_autoptr(VoipctlTable) table = NULL;

      table = voipctl_table_new (_("ID"), _("DIRECTION"), _("STATE"), _("REASON"),
                                 _("PARTICIPANTS"), _("MUTED"), _("STATS"), NULL);
      for (guint i = 0; i < calls->len; i++)
        {
          GVariant *props = calls->pdata[i];
          g_autoptr(GVariant) participants = g_variant_lookup_value (props, "Participants",
                                                                     G_VARIANT_TYPE ("a(ss)"));
          g_autoptr(GVariant) stats = g_variant_lookup_value (props, "Stats",
                                                              G_VARIANT_TYPE ("a{sa{sv}}"));
          g_autofree char *id = g_strdup_printf ("%" G_GUINT64_FORMAT,
                                                 voipctl_lookup_uint64 (props, "Id"));
          g_autofree char *who = format_participants (participants);
          g_autofree char *figures = format_stats (stats);
          gboolean muted = FALSE;

          g_variant_lookup (props, "Muted", "b", &muted);
          voipctl_table_add_row (table, id,
                                 voipctl_lookup_string (props, "Direction"),
                                 voipctl_lookup_string (props, "State"),
                                 voipctl_lookup_string (props, "StateReason"),
                                 who, muted ? _("yes") : _("no"), figures, NULL);
        }
      voipctl_table_print (table);
    }
  return VOIPCTL_EXIT_OK;
}

/* ---- voipctl call --wait ------------------------------------------------------------ */

typedef struct
{
  GMainLoop *loop;
  VoipDBusCall  *call;
  gboolean   tty;          /* stdout is a terminal: one line, refreshed in place */
  gboolean   line_open;    /* a refreshed line is on the screen */
  char      *last_state;
  guint      tick_id;
  gboolean   hanging_up;
  int        status;
} Watch;

static void
watch_print (Watch *watch, const char *text, gboolean in_place)
{
  if (watch->tty && in_place)
    {
      g_print ("\r\033[K%s", text);
      watch->line_open = TRUE;
    }
  else
    {
      if (watch->line_open)
        g_print ("\n");
      watch->line_open = FALSE;
      g_print ("%s\n", text);
    }
  fflush (stdout);
}

/* Seconds since the answer (StartTime is in ms since the epoch). */
static gint64
elapsed_s (VoipDBusCall *call)
{
  return MAX (0, g_get_real_time () / 1000 - voip_dbus_call_get_start_time (call)) / 1000;
}

static void
watch_print_connected (Watch *watch)
{
  g_autofree char *duration = format_duration (
      elapsed_s (watch->call));
  g_autofree char *stats = format_stats (voip_dbus_call_get_stats (watch->call));
  g_autofree char *text = NULL;

  if (voip_dbus_call_get_muted (watch->call))
    text = g_strdup_printf (_("connected %s (muted)  %s"), duration, stats);
  else
    text = g_strdup_printf (_("connected %s  %s"), duration, stats);
  watch_print (watch, text, TRUE);
}

static gboolean
on_watch_tick (gpointer user_data)
{
  watch_print_connected (user_data);
  return G_SOURCE_CONTINUE;
}

/* Was answered, and did not end for want of audio. */
static gboolean
call_succeeded (VoipDBusCall *call)
{
  const char *reason = voip_dbus_call_get_state_reason_code (call);

  return voip_dbus_call_get_start_time (call) != 0 && g_strcmp0 (reason, "failed") != 0;
}

static void
watch_update (Watch *watch)
{
  const char *state = voip_dbus_call_get_state (watch->call);

  if (state == NULL)
    return;
  if (g_strcmp0 (state, watch->last_state) == 0)
    return;
  g_free (watch->last_state);
  watch->last_state = g_strdup (state);

  if (strcmp (state, "ringing") == 0)
    watch_print (watch, _("ringing"), FALSE);
  else if (strcmp (state, "connecting") == 0)
    watch_print (watch, _("answered; connecting"), FALSE);
  else if (strcmp (state, "active") == 0)
    {
      watch_print_connected (watch);
      if (watch->tick_id == 0)
        watch->tick_id = g_timeout_add_seconds (1, on_watch_tick, watch);
    }
  else if (strcmp (state, "ended") == 0)
    {
      /* The words, and the code that scripts match ("declined (rejected)"). */
      g_autofree char *reason = g_strdup_printf ("%s (%s)",
                                                 voip_dbus_call_get_state_reason (watch->call),
                                                 voip_dbus_call_get_state_reason_code (watch->call));
      g_autofree char *text = NULL;

      g_clear_handle_id (&watch->tick_id, g_source_remove);
      if (voip_dbus_call_get_start_time (watch->call) != 0)
        {
          g_autofree char *duration = NULL;

          duration = format_duration (elapsed_s (watch->call));
          text = g_strdup_printf (_("ended after %s: %s"), duration, reason);
        }
      else
        text = g_strdup_printf (_("ended: %s"), reason);
      watch_print (watch, text, FALSE);
      watch->status = call_succeeded (watch->call) ? VOIPCTL_EXIT_OK : VOIPCTL_EXIT_FAILURE;
      g_main_loop_quit (watch->loop);
    }
}

static void
on_watch_properties_changed (GDBusProxy        *proxy,
                             GVariant          *changed,
                             const char *const *invalidated,
                             Watch             *watch)
{
  const char *state = voip_dbus_call_get_state (watch->call);

  g_autoptr(GVariant) muted = g_variant_lookup_value (changed, "Muted", NULL);

  watch_update (watch);
  /* Muting shows at once, not at the next tick. */
  if (muted != NULL && g_strcmp0 (state, "active") == 0)
    watch_print_connected (watch);
}

static void
on_watch_owner_changed (GDBusProxy *proxy,
                        GParamSpec *pspec,
                        Watch      *watch)
{
  g_autofree char *owner = g_dbus_proxy_get_name_owner (proxy);

  if (owner != NULL)
    return;
  watch_print (watch, _("voipd went away; the call is over"), FALSE);
  watch->status = VOIPCTL_EXIT_FAILURE;
  g_main_loop_quit (watch->loop);
}

static void
on_watch_hung_up (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Watch *watch = user_data;
  g_autoptr(GError) error = NULL;

  if (!voip_dbus_call_call_hangup_finish (VOIP_DBUS_CALL (source), result, &error))
    {
      /* Already over (NoSuchCall): the state says how it ended. */
      if (g_strcmp0 (voip_dbus_call_get_state (watch->call), "ended") != 0)
        {
          voipctl_fail (error);
          watch->status = VOIPCTL_EXIT_FAILURE;
          g_main_loop_quit (watch->loop);
        }
    }
}

static gboolean
on_watch_interrupt (gpointer user_data)
{
  Watch *watch = user_data;

  /* A second Ctrl-C leaves without waiting for the daemon. */
  if (watch->hanging_up)
    {
      watch->status = VOIPCTL_EXIT_FAILURE;
      g_main_loop_quit (watch->loop);
      return G_SOURCE_CONTINUE;
    }
  watch->hanging_up = TRUE;
  watch_print (watch, _("hanging up"), FALSE);
  voip_dbus_call_call_hangup (watch->call, NULL, on_watch_hung_up, watch);
  return G_SOURCE_CONTINUE;
}

static int
watch_call (VoipDBusCall *call)
{
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  Watch watch = { 0 };
  guint sigint_id, sigterm_id;

  watch.loop = loop;
  watch.call = call;
  /* Refreshed in place (\r and an erase-line escape) only on a terminal
   * that knows the escape: a pipe or a log gets a line per update. */
  watch.tty = isatty (STDOUT_FILENO) && g_strcmp0 (g_getenv ("TERM"), "dumb") != 0;
  watch.status = VOIPCTL_EXIT_FAILURE;

  g_signal_connect (call, "g-properties-changed", G_CALLBACK (on_watch_properties_changed), &watch);
  g_signal_connect (call, "notify::g-name-owner", G_CALLBACK (on_watch_owner_changed), &watch);
  sigint_id = g_unix_signal_add (SIGINT, on_watch_interrupt, &watch);
  sigterm_id = g_unix_signal_add (SIGTERM, on_watch_interrupt, &watch);

  watch_update (&watch);
  if (g_strcmp0 (watch.last_state, "ended") != 0)
    g_main_loop_run (loop);

  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);
  g_clear_handle_id (&watch.tick_id, g_source_remove);
  g_signal_handlers_disconnect_by_data (call, &watch);
  if (watch.line_open)
    g_print ("\n");
  g_free (watch.last_state);
  return watch.status;
}

/* ---- voipctl call ---------------------------------------------------------------------- */

/* The new call's id, labelled for people, or {"id": N} with --json. */
static void
print_call_id (guint64     id,
               const char *username,
               const char *group_id)
{
  unsigned long long printed_id = id;

  if (voipctl_json_wanted ())
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "id");
      json_builder_add_int_value (builder, (gint64) id);
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      voipctl_print_json (root);
    }
  else if (group_id != NULL)
    g_print (_("Call %llu to group %s\n"), printed_id, group_id);
  else
    g_print (_("Call %llu to %s\n"), printed_id, username);
}

/* Contact.Call's refusals, about the person called. */
static int
fail_call (const char *username, const GError *error)
{
  g_autofree char *name = g_dbus_error_get_remote_error (error);
  const char *what = name != NULL && g_str_has_prefix (name, ERROR_PREFIX)
                     ? name + strlen (ERROR_PREFIX) : "";

  if (username != NULL && strcmp (what, "Busy") == 0)
    return voipctl_failf (_("%s is busy"), username);
  if (username != NULL && strcmp (what, "Offline") == 0)
    return voipctl_failf (_("%s is offline"), username);
  if (username != NULL && (strcmp (what, "NotAFriend") == 0 || strcmp (what, "NoSuchUser") == 0))
    return voipctl_failf (_("%s is not your friend"), username);
  if (strcmp (what, "CallSelf") == 0)
    return voipctl_failf (_("you cannot call yourself"));
  return voipctl_fail (error);
}

int
voipctl_cmd_call (const VoipctlCommand *cmd,
                  int                   argc,
                  char                **argv)
{
  g_autofree char *group_arg = NULL;
  gboolean wait = FALSE;
  const GOptionEntry entries[] = {
    { "group", 'g', 0, G_OPTION_ARG_STRING, &group_arg, N_("Call a group"), N_("ID") },
    { "wait", 'w', 0, G_OPTION_ARG_NONE, &wait,
      N_("Stay with the call until it ends; Ctrl-C hangs up"), NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(VoipDBusCall) call = NULL;
  g_autofree char *path = NULL;
  const char *username = NULL;

  if (!voipctl_parse_args (cmd, entries, &argc, &argv, 0, 1))
    return VOIPCTL_EXIT_USAGE;
  if ((group_arg == NULL) == (argc < 2))
    return voipctl_usage_error (cmd, _("name either a USER or a --group ID"));
  /* --wait prints lines for people as the call goes: scripts follow a call
   * with `voipctl monitor --json`. */
  if (wait && voipctl_json_wanted ())
    return voipctl_usage_error (cmd, _("--json and --wait cannot go together; "
                                       "follow the call with 'voipctl monitor --json'"));

  if (group_arg != NULL)
    {
      g_autoptr(VoipDBusGroup) group = NULL;
      guint64 id;

      if (!voipctl_parse_id (group_arg, &id))
        return voipctl_usage_error (cmd, _("invalid group id '%s': expected a positive integer"),
                                    group_arg);
      group = voipctl_get_group (id, &error);
      if (group == NULL)
        return voipctl_fail (error);
      if (!voip_dbus_group_call_call_sync (group, &path, NULL, &error))
        return fail_call (NULL, error);
    }
  else
    {
      g_autoptr(VoipDBusAccount) account = voipctl_get_account (&error);
      g_autoptr(VoipDBusContact) contact = NULL;

      username = argv[1];
      if (account == NULL)
        return voipctl_fail (error);
      if (g_strcmp0 (voip_dbus_account_get_username (account), username) == 0)
        return voipctl_failf (_("you cannot call yourself"));
      contact = voipctl_get_contact (username, &error);
      if (contact == NULL)
        return voipctl_fail (error);
      if (!voip_dbus_contact_call_call_sync (contact, &path, NULL, &error))
        return fail_call (username, error);
    }

  call = voip_dbus_call_proxy_new_for_bus_sync (G_BUS_TYPE_SESSION, G_DBUS_PROXY_FLAGS_NONE,
                                           VOIPCTL_BUS_NAME, path, NULL, &error);
  if (call == NULL)
    return voipctl_fail (error);
  print_call_id (voip_dbus_call_get_id (call), username, group_arg);
  fflush (stdout);
  if (!wait)
    return VOIPCTL_EXIT_OK;
  return watch_call (call);
}

/* ---- answer, reject, hangup, mute ----------------------------------------------------- */

typedef enum
{
  ACTION_ANSWER,
  ACTION_REJECT,
  ACTION_HANGUP,
  ACTION_MUTE,
  ACTION_UNMUTE,
} CallAction;

static int
call_action (const VoipctlCommand *cmd,
             int                   argc,
             char                **argv,
             CallAction            action)
{
  g_autoptr(VoipDBusCall) call = NULL;
  g_autoptr(GError) error = NULL;
  gboolean ok = FALSE;
  int status = VOIPCTL_EXIT_FAILURE;

  if (!voipctl_parse_args (cmd, NULL, &argc, &argv, 0, 1))
    return VOIPCTL_EXIT_USAGE;
  call = pick_call (cmd, argc > 1 ? argv[1] : NULL,
                    action == ACTION_ANSWER || action == ACTION_REJECT ? PICK_RINGING
                                                                       : PICK_ONGOING,
                    &status);
  if (call == NULL)
    return status;

  switch (action)
    {
    case ACTION_ANSWER:
      ok = voip_dbus_call_call_answer_sync (call, NULL, &error);
      break;
    case ACTION_REJECT:
      ok = voip_dbus_call_call_reject_sync (call, NULL, &error);
      break;
    case ACTION_HANGUP:
      ok = voip_dbus_call_call_hangup_sync (call, NULL, &error);
      break;
    case ACTION_MUTE:
    case ACTION_UNMUTE:
      ok = voipctl_set_property (G_DBUS_PROXY (call), "Muted",
                                 g_variant_new_boolean (action == ACTION_MUTE), &error);
      break;
    }
  if (!ok)
    return voipctl_fail (error);
  return VOIPCTL_EXIT_OK;
}

int
voipctl_cmd_answer (const VoipctlCommand *cmd, int argc, char **argv)
{
  return call_action (cmd, argc, argv, ACTION_ANSWER);
}

int
voipctl_cmd_reject (const VoipctlCommand *cmd, int argc, char **argv)
{
  return call_action (cmd, argc, argv, ACTION_REJECT);
}

int
voipctl_cmd_hangup (const VoipctlCommand *cmd, int argc, char **argv)
{
  return call_action (cmd, argc, argv, ACTION_HANGUP);
}

int
voipctl_cmd_mute (const VoipctlCommand *cmd, int argc, char **argv)
{
  return call_action (cmd, argc, argv, ACTION_MUTE);
}

int
voipctl_cmd_unmute (const VoipctlCommand *cmd, int argc, char **argv)
{
  return call_action (cmd, argc, argv, ACTION_UNMUTE);
}
