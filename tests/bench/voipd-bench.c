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
 */
#include <signal.h>
#include <stdio.h>
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

int
main (int argc, char **argv)
{
  if (argc == 5 && strcmp (argv[1], "friends") == 0)
    return make_friends (g_ascii_strtoull (argv[2], NULL, 10), argv[3],
                         g_ascii_strtoull (argv[4], NULL, 10));
  if ((argc == 4 || argc == 5) && strcmp (argv[1], "online") == 0)
    return measure_online (argv[2], g_ascii_strtoull (argv[3], NULL, 10),
                           argc == 5 ? g_ascii_strtoull (argv[4], NULL, 10) : 3);
  fprintf (stderr, "usage: %s friends PORT USER COUNT\n"
                   "       %s online VOIPD RUNS [IDLE_SECONDS]\n", argv[0], argv[0]);
  return 2;
}
