/* voipd-bench.c — the measures of daemon-bench.sh that a shell cannot take
 * precisely (docs/BENCHMARKS.md, "voipd").
 *
 *   voipd-bench friends PORT USER COUNT
 *       registers USER (password "password-USER") and COUNT other accounts on
 *       the server at 127.0.0.1:PORT, each of them USER's friend.
 *   voipd-bench online VOIPD RUNS [IDLE_SECONDS]
 *       RUNS times: starts VOIPD on the session bus of the environment and
 *       measures the time from the start to State "online" (the daemon must
 *       have a stored login), then stops it. After the last run the daemon
 *       stays IDLE_SECONDS (default 3) and its VmRSS is read from /proc.
 *       Prints one line per run, then "p50 MS", "max MS", "rss KB".
 *   voipd-bench resync PORT USER COUNT RUNS COMMAND...
 *       RUNS times: while USER's daemon is stopped, a friend of USER sends
 *       USER COUNT messages on the server at 127.0.0.1:PORT; then COMMAND
 *       (voipd, or a wrapper such as strace that runs it) starts on the
 *       session bus and must resync them. Measures the time from the start
 *       to State "online" and, all the while, the latency of a D-Bus
 *       Properties.Get of Account.State (one at a time, back to back).
 *       The daemon is stopped by a SIGTERM to the bus name's owner, so that
 *       a wrapper sees it exit. Prints one line per run, then "online p50
 *       MS", "online max MS", "get p50 MS", "get p99 MS", "get max MS".
 */
#include <signal.h>
#include <stdio.h>
#include <sys/types.h>
#include <unistd.h>
#include <string.h>

#include "test-client.h"
#include "test-process.h"

/* ---- friends ------------------------------------------------------------ */

static int
make_friends (guint16 port, const char *user, guint count)
{
  g_autoptr(TestClient) owner = test_client_new_registered (port, user);

  for (guint i = 0; i < count; i++)
    {
      g_autofree char *name = g_strdup_printf ("%s-f%05u", user, i);
      g_autoptr(TestClient) other = test_client_new_registered (port, name);

      test_client_call_ok (other, VOIP_MSG_CONTACT_REQUEST, g_variant_new ("(s)", user));
      test_client_call_ok (owner, VOIP_MSG_CONTACT_ACCEPT, g_variant_new ("(s)", name));
      if (i % 100 == 99)
        test_client_flush_events (owner);
    }
  test_client_flush_events (owner);
  return 0;
}

/* ---- online ------------------------------------------------------------- */

typedef struct {
  GDBusConnection *bus;
  gboolean         online;
} Watch;

static void
on_properties_changed (GDBusConnection *connection, const char *sender, const char *path,
                       const char *interface, const char *member, GVariant *parameters,
                       gpointer user_data)
{
  Watch *watch = user_data;
  g_autoptr(GVariant) changed = NULL;
  const char *state;

  g_variant_get (parameters, "(&s@a{sv}@as)", NULL, &changed, NULL);
  if (g_variant_lookup (changed, "State", "&s", &state) && strcmp (state, "online") == 0)
    watch->online = TRUE;
}

static void
on_state (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Watch *watch = user_data;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, NULL);
  g_autoptr(GVariant) value = NULL;

  if (reply == NULL)
    return;
  g_variant_get (reply, "(v)", &value);
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING)
      && strcmp (g_variant_get_string (value, NULL), "online") == 0)
    watch->online = TRUE;
}

static void
on_name_owner_changed (GDBusConnection *connection, const char *sender, const char *path,
                       const char *interface, const char *member, GVariant *parameters,
                       gpointer user_data)
{
  Watch *watch = user_data;
  const char *name, *new_owner;

  g_variant_get (parameters, "(&s&s&s)", &name, NULL, &new_owner);
  if (strcmp (name, "org.voipd.Voip1") != 0 || new_owner[0] == '\0')
    return;
  /* It may be online already by the time we ask. */
  g_dbus_connection_call (connection, "org.voipd.Voip1", "/org/voipd/Voip1",
                          "org.freedesktop.DBus.Properties", "Get",
                          g_variant_new ("(ss)", "org.voipd.Voip1.Account", "State"),
                          G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NONE, 10000, NULL,
                          on_state, watch);
}

static int
compare_doubles (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static long
rss_kb (const char *pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/status", pid);
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents (path, &status, NULL, NULL)
      || (line = strstr (status, "VmRSS:")) == NULL)
    return -1;
  return strtol (line + strlen ("VmRSS:"), NULL, 10);
}

static int
measure_online (const char *voipd, guint runs, guint idle_seconds)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) times = g_array_new (FALSE, FALSE, sizeof (double));
  Watch watch = { 0, };

  watch.bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  if (watch.bus == NULL)
    g_error ("no session bus: %s", error->message);
  g_dbus_connection_signal_subscribe (watch.bus, NULL, "org.freedesktop.DBus.Properties",
                                      "PropertiesChanged", "/org/voipd/Voip1",
                                      "org.voipd.Voip1.Account", G_DBUS_SIGNAL_FLAGS_NONE,
                                      on_properties_changed, &watch, NULL);
  g_dbus_connection_signal_subscribe (watch.bus, "org.freedesktop.DBus", "org.freedesktop.DBus",
                                      "NameOwnerChanged", "/org/freedesktop/DBus",
                                      "org.voipd.Voip1", G_DBUS_SIGNAL_FLAGS_NONE,
                                      on_name_owner_changed, &watch, NULL);
  /* The match rules are in place once a later call returns. */
  g_variant_unref (g_dbus_connection_call_sync (watch.bus, "org.freedesktop.DBus",
                                                "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                                "GetId", NULL, NULL, G_DBUS_CALL_FLAGS_NONE, -1,
                                                NULL, &error));
  g_assert_no_error (error);

  for (guint run = 0; run < runs; run++)
    {
      g_autoptr(GSubprocess) daemon = NULL;
      gint64 start, deadline;
      double ms;

      watch.online = FALSE;
      start = g_get_monotonic_time ();
      daemon = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error, voipd, NULL);
      if (daemon == NULL)
        g_error ("cannot start %s: %s", voipd, error->message);
      deadline = start + 30 * G_USEC_PER_SEC;
      while (!watch.online && g_get_monotonic_time () < deadline
             && g_subprocess_get_identifier (daemon) != NULL)
        g_main_context_iteration (NULL, TRUE);
      if (!watch.online)
        g_error ("run %u: voipd did not reach State online", run + 1);
      ms = (g_get_monotonic_time () - start) / 1000.0;
      g_array_append_val (times, ms);
      printf ("run %2u: %.1f ms\n", run + 1, ms);
      fflush (stdout);

      if (run == runs - 1)
        {
          gint64 until = g_get_monotonic_time () + (gint64) idle_seconds * G_USEC_PER_SEC;

          while (g_get_monotonic_time () < until)
            {
              g_main_context_iteration (NULL, FALSE);
              g_usleep (10000);
            }
          printf ("rss %ld KB\n", rss_kb (g_subprocess_get_identifier (daemon)));
        }
      /* As in the tests: a voipd that does not end cleanly (a crash, a
       * LeakSanitizer exit) fails the benchmark's smoke test. */
      if (test_process_terminate (daemon, "voipd"))
        {
          TestReports none = { 0, };

          test_process_check_exit (daemon, "voipd", &none);
        }
      /* Wait for the name to leave the bus before the next start. */
      for (;;)
        {
          g_autoptr(GVariant) reply = g_dbus_connection_call_sync (
            watch.bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
            "NameHasOwner", g_variant_new ("(s)", "org.voipd.Voip1"), G_VARIANT_TYPE ("(b)"),
            G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
          gboolean owned = TRUE;

          if (reply != NULL)
            g_variant_get (reply, "(b)", &owned);
          if (!owned)
            break;
          g_usleep (5000);
        }
      while (g_main_context_iteration (NULL, FALSE))
        ;
    }

  g_array_sort (times, compare_doubles);
  printf ("p50 %.1f ms\nmax %.1f ms\n", g_array_index (times, double, times->len / 2),
          g_array_index (times, double, times->len - 1));
  g_object_unref (watch.bus);
  return 0;
}

/* ---- resync ------------------------------------------------------------- */

/* Sends `count` texts from `sender` to `user`, a hundred requests in flight
 * at a time so that 10,000 take seconds rather than minutes. */
static void
send_missed (TestClient *sender, const char *user, guint count)
{
  for (guint done = 0; done < count;)
    {
      guint32 ids[100];
      guint batch = MIN (count - done, G_N_ELEMENTS (ids));

      for (guint i = 0; i < batch; i++)
        {
          g_autofree char *client_id = test_new_client_id ();
          g_autofree char *text = g_strdup_printf ("missed message %u", done + i);
          g_autoptr(GError) error = NULL;

          ids[i] = test_client_send_request (sender, VOIP_MSG_SEND_TEXT,
                                             g_variant_new ("(stss)", user, (guint64) 0,
                                                            client_id, text), &error);
          g_assert_no_error (error);
        }
      for (guint i = 0; i < batch; i++)
        {
          g_autoptr(GError) error = NULL;
          guint status = 0;
          g_autoptr(GVariant) reply = test_client_wait_reply (sender, ids[i], &status, &error);

          g_assert_no_error (error);
          g_assert_cmpuint (status, ==, VOIP_STATUS_OK);
        }
      done += batch;
    }
}

typedef struct {
  GDBusConnection *bus;
  gboolean         running;   /* probing */
  gboolean         online;
  gboolean         in_flight;
  gint64           sent_at;
  GArray          *latencies; /* double, ms */
} Probe;

static void send_probe (Probe *probe);

static void
on_probe_reply (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Probe *probe = user_data;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result,
                                                             NULL);
  g_autoptr(GVariant) value = NULL;

  probe->in_flight = FALSE;
  if (reply != NULL)
    {
      double ms = (g_get_monotonic_time () - probe->sent_at) / 1000.0;

      g_array_append_val (probe->latencies, ms);
      g_variant_get (reply, "(v)", &value);
      if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING)
          && strcmp (g_variant_get_string (value, NULL), "online") == 0)
        probe->online = TRUE;
    }
  if (probe->running)
    send_probe (probe);
}

static void
send_probe (Probe *probe)
{
  probe->in_flight = TRUE;
  probe->sent_at = g_get_monotonic_time ();
  g_dbus_connection_call (probe->bus, "org.voipd.Voip1", "/org/voipd/Voip1",
                          "org.freedesktop.DBus.Properties", "Get",
                          g_variant_new ("(ss)", "org.voipd.Voip1.Account", "State"),
                          G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NONE, 30000, NULL,
                          on_probe_reply, probe);
}

static gboolean
name_has_owner (GDBusConnection *bus)
{
  g_autoptr(GVariant) reply = g_dbus_connection_call_sync (
    bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
    "NameHasOwner", g_variant_new ("(s)", "org.voipd.Voip1"), G_VARIANT_TYPE ("(b)"),
    G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  gboolean owned = FALSE;

  if (reply != NULL)
    g_variant_get (reply, "(b)", &owned);
  return owned;
}

static guint32
name_owner_pid (GDBusConnection *bus)
{
  g_autoptr(GVariant) reply = g_dbus_connection_call_sync (
    bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
    "GetConnectionUnixProcessID", g_variant_new ("(s)", "org.voipd.Voip1"),
    G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  guint32 pid = 0;

  if (reply != NULL)
    g_variant_get (reply, "(u)", &pid);
  return pid;
}

static double
percentile (GArray *sorted, double p)
{
  guint i = MIN (sorted->len - 1, (guint) (p * sorted->len));

  return g_array_index (sorted, double, i);
}

static int
measure_resync (guint16 port, const char *user, guint count, guint runs,
                const char *const *command)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) online_ms = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) all_gets = g_array_new (FALSE, FALSE, sizeof (double));
  g_autofree char *password = test_password_for (user);
  /* A new sender each time the tool runs on the same server. */
  g_autofree char *sender_name = g_strdup_printf ("%s-s%d", user, (int) getpid ());
  g_autofree char *sender_password = test_password_for (sender_name);
  g_autoptr(TestClient) owner = test_client_new_logged_in (port, user, password);
  g_autoptr(TestClient) sender = test_client_new_registered (port, sender_name);
  Probe probe = { 0, };

  test_befriend (sender, owner);
  /* Only the daemon should read USER's messages; the sender logs in again
   * for each run (a connection left idle through a long resync may be
   * dropped by the server). */
  g_clear_pointer (&owner, test_client_free);
  g_clear_pointer (&sender, test_client_free);
  probe.bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  if (probe.bus == NULL)
    g_error ("no session bus: %s", error->message);

  for (guint run = 0; run < runs; run++)
    {
      g_autoptr(GSubprocess) daemon = NULL;
      g_autoptr(GArray) gets = g_array_new (FALSE, FALSE, sizeof (double));
      gint64 start, deadline;
      double ms;
      guint32 pid;

      sender = test_client_new_logged_in (port, sender_name, sender_password);
      send_missed (sender, user, count);
      g_clear_pointer (&sender, test_client_free);
      probe.latencies = gets;
      probe.online = FALSE;
      start = g_get_monotonic_time ();
      daemon = g_subprocess_newv (command, G_SUBPROCESS_FLAGS_NONE, &error);
      if (daemon == NULL)
        g_error ("cannot start %s: %s", command[0], error->message);
      deadline = start + 300 * G_USEC_PER_SEC;
      while (!name_has_owner (probe.bus) && g_get_monotonic_time () < deadline)
        g_usleep (1000);
      probe.running = TRUE;
      send_probe (&probe);
      while (!probe.online && g_get_monotonic_time () < deadline
             && g_subprocess_get_identifier (daemon) != NULL)
        g_main_context_iteration (NULL, TRUE);
      ms = (g_get_monotonic_time () - start) / 1000.0;
      probe.running = FALSE;
      /* Let the last probe come back. */
      while (probe.in_flight)
        g_main_context_iteration (NULL, TRUE);
      if (!probe.online)
        g_error ("run %u: voipd did not reach State online", run + 1);
      g_array_append_val (online_ms, ms);
      g_array_append_vals (all_gets, gets->data, gets->len);
      g_array_sort (gets, compare_doubles);
      printf ("run %2u: online %.1f ms, %u gets, p50 %.2f ms, max %.2f ms\n", run + 1, ms,
              gets->len, percentile (gets, 0.5), percentile (gets, 1.0));
      fflush (stdout);

      pid = name_owner_pid (probe.bus);
      if (pid != 0)
        kill ((pid_t) pid, SIGTERM);
      if (!test_process_wait_exit (daemon, 30000))
        {
          g_subprocess_force_exit (daemon);
          g_error ("run %u: voipd did not exit on SIGTERM", run + 1);
        }
      if (!g_subprocess_get_successful (daemon))
        g_error ("run %u: %s did not exit cleanly", run + 1, command[0]);
      while (name_has_owner (probe.bus))
        g_usleep (5000);
    }

  g_array_sort (online_ms, compare_doubles);
  g_array_sort (all_gets, compare_doubles);
  printf ("online p50 %.1f ms\nonline max %.1f ms\n", percentile (online_ms, 0.5),
          percentile (online_ms, 1.0));
  printf ("get p50 %.2f ms\nget p99 %.2f ms\nget max %.2f ms\n", percentile (all_gets, 0.5),
          percentile (all_gets, 0.99), percentile (all_gets, 1.0));
  g_object_unref (probe.bus);
  return 0;
}

int
main (int argc, char **argv)
{
  if (argc == 5 && strcmp (argv[1], "friends") == 0)
    return make_friends (g_ascii_strtoull (argv[2], NULL, 10), argv[3],
                         g_ascii_strtoull (argv[4], NULL, 10));
  if ((argc == 4 || argc == 5) && strcmp (argv[1], "online") == 0)
    return measure_online (argv[2], g_ascii_strtoull (argv[3], NULL, 10),
                           argc == 5 ? g_ascii_strtoull (argv[4], NULL, 10) : 3);
  if (argc >= 7 && strcmp (argv[1], "resync") == 0)
    return measure_resync (g_ascii_strtoull (argv[2], NULL, 10), argv[3],
                           g_ascii_strtoull (argv[4], NULL, 10),
                           g_ascii_strtoull (argv[5], NULL, 10), (const char *const *) argv + 6);
  fprintf (stderr, "usage: %s friends PORT USER COUNT\n"
                   "       %s online VOIPD RUNS [IDLE_SECONDS]\n"
                   "       %s resync PORT USER COUNT RUNS COMMAND...\n",
           argv[0], argv[0], argv[0]);
  return 2;
}
