/* test-server.c — runs the real voip-server binary for a test. */
#define G_LOG_DOMAIN "test-server"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <glib/gstdio.h>

#include "test-server.h"
#include "test-client.h"
#include "test-nats.h"
#include "test-process.h"
#include "test-postgres.h"

#define START_TIMEOUT_MS 30000

struct _TestServer {
  char        *dir;
  char        *database;
  char        *config_path;
  GKeyFile    *config;
  char        *listen;         /* --listen; "127.0.0.1:0" unless set */
  char        *netns;          /* run under `ip netns exec NETNS`, or NULL */

  GSubprocess *process;
  GThread     *stdout_thread;  /* copies the server's stdout to ours, finds the port */

  GMutex       lock;
  GCond        cond;
  guint16      port;           /* under lock; 0 until the server listens */
  guint16      stun_port;      /* under lock; 0 until "stun on ADDR:PORT" */
  gboolean     stdout_closed;  /* under lock */
  GPtrArray   *output;         /* under lock: every line of this run so far */
  TestReports  reports;        /* the stdout thread's; read once it is joined */

  /* VOIP_TEST_CLUSTER=1 (tests/run-cluster.sh) on PostgreSQL: a second node
   * on the same database, NATS between the two, and test clients that
   * connect to the two in turn (test_client_set_twin_port()). */
  TestServer  *twin;
  TestNats    *nats;
  gboolean     is_twin;
};

/* ---- helpers ------------------------------------------------------------ */

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    while ((name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *child = g_build_filename (path, name, NULL);

        if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
          remove_tree (child);
        else
          g_unlink (child);
      }
  g_rmdir (path);
}

/* Reads the server's stdout line by line until it closes: the line
 * "listening on 127.0.0.1:PORT" gives the port; every line is echoed to our
 * stdout so that it ends up in the test log. */
static gpointer
stdout_thread_main (gpointer data)
{
  TestServer *server = data;
  g_autoptr(GDataInputStream) lines = NULL;
  char *line;

  lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (server->process));
  while ((line = g_data_input_stream_read_line_utf8 (lines, NULL, NULL, NULL)) != NULL)
    {
      g_autofree char *owned = line;
      const char *colon;

      g_printerr ("[voip-server] %s\n", line);
      test_reports_scan (&server->reports, line);
      g_mutex_lock (&server->lock);
      g_ptr_array_add (server->output, g_strdup (line));
      g_mutex_unlock (&server->lock);
      if (g_str_has_prefix (line, "listening on ")
          && (colon = strrchr (line, ':')) != NULL)
        {
          guint64 port = g_ascii_strtoull (colon + 1, NULL, 10);

          g_mutex_lock (&server->lock);
          if (server->port == 0 && port > 0 && port <= G_MAXUINT16)
            server->port = port;
          g_cond_broadcast (&server->cond);
          g_mutex_unlock (&server->lock);
        }
      else if (g_str_has_prefix (line, "stun on ")
               && (colon = strrchr (line, ':')) != NULL)
        {
          guint64 port = g_ascii_strtoull (colon + 1, NULL, 10);

          g_mutex_lock (&server->lock);
          if (server->stun_port == 0 && port > 0 && port <= G_MAXUINT16)
            server->stun_port = port;
          g_cond_broadcast (&server->cond);
          g_mutex_unlock (&server->lock);
        }
    }

  g_mutex_lock (&server->lock);
  server->stdout_closed = TRUE;
  g_cond_broadcast (&server->cond);
  g_mutex_unlock (&server->lock);
  return NULL;
}

/* In the child before exec: if the test dies (a failed assertion aborts
 * it), the server dies with it instead of holding the test's output open. */
static void
child_setup (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

/* Forgets a process that has exited; what it printed must have been clean
 * and, if it was asked to stop (not killed), so must its exit. */
static void
reap (TestServer *server, gboolean stopped)
{
  if (server->stdout_thread != NULL)
    g_thread_join (g_steal_pointer (&server->stdout_thread));
  if (stopped)
    test_process_check_exit (server->process, "voip-server", &server->reports);
  else
    test_process_check_reports ("voip-server", &server->reports);
  test_reports_clear (&server->reports);
  g_clear_object (&server->process);
  server->port = 0;
  server->stun_port = 0;
  server->stdout_closed = FALSE;
  g_ptr_array_set_size (server->output, 0);
}

/* ---- public ------------------------------------------------------------- */

TestServer *
test_server_new (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  TestServer *server = g_new0 (TestServer, 1);

  server->dir = g_dir_make_tmp ("voip-test-XXXXXX", &error);
  g_assert_no_error (error);
  server->database = g_build_filename (server->dir, "voip.db", NULL);
  server->config_path = g_build_filename (server->dir, "server.conf", NULL);
  server->listen = g_strdup ("127.0.0.1:0");
  g_mutex_init (&server->lock);
  g_cond_init (&server->cond);
  server->output = g_ptr_array_new_with_free_func (g_free);

  /* Fast hashing and no IP rate limit to speak of: tests register many users
   * from 127.0.0.1. The tests of those features set their own values. */
  server->config = g_key_file_new ();
  g_key_file_set_string (server->config, "security", "password-hash", "minimum");
  g_key_file_set_integer (server->config, "security", "login-attempts-per-ip", 100000);
  g_key_file_set_integer (server->config, "security", "login-refill-per-second", 100000);
  /* Tests run side by side: the STUN responder takes any free UDP port. */
  g_key_file_set_integer (server->config, "stun", "port", 0);
  /* tests/run-postgresql.sh: the same tests on PostgreSQL, a database each. */
  url = test_postgres_database_from_env ();
  if (url != NULL)
    g_key_file_set_string (server->config, "store", "url", url);
  return server;
}

TestServer *
test_server_new_started (void)
{
  TestServer *server = test_server_new ();

  test_server_start (server);
  return server;
}

void
test_server_free (TestServer *server)
{
  if (server == NULL)
    return;
  /* SIGTERM, so that LeakSanitizer runs in the server, and a server that
   * does not end cleanly fails the test. */
  if (server->process != NULL)
    test_server_stop (server, TEST_PROCESS_STOP_MS, NULL);
  g_clear_pointer (&server->twin, test_server_free);
  g_clear_pointer (&server->nats, test_nats_free);
  if (g_getenv ("VOIP_TEST_KEEP") == NULL)
    remove_tree (server->dir);
  else
    g_printerr ("keeping %s\n", server->dir);
  g_key_file_unref (server->config);
  g_mutex_clear (&server->lock);
  g_cond_clear (&server->cond);
  g_ptr_array_unref (server->output);
  g_free (server->dir);
  g_free (server->database);
  g_free (server->config_path);
  g_free (server->listen);
  g_free (server->netns);
  g_free (server);
}

void
test_server_set_listen (TestServer *server, const char *address, const char *netns)
{
  g_assert_null (server->process);
  g_free (server->listen);
  server->listen = g_strdup (address);
  g_free (server->netns);
  server->netns = g_strdup (netns);
}

GKeyFile *
test_server_get_config (TestServer *server)
{
  return server->config;
}

const char *
test_server_get_dir (TestServer *server)
{
  return server->dir;
}

/* VOIP_TEST_CLUSTER=1, on PostgreSQL, and not in a namespace: run as two
 * nodes (the NAT tests keep their one server in its namespace). */
static gboolean
wants_twin (TestServer *server)
{
  return !server->is_twin && server->netns == NULL
         && g_strcmp0 (g_getenv ("VOIP_TEST_CLUSTER"), "1") == 0
         && g_key_file_has_key (server->config, "store", "url", NULL);
}

/* The second node: the same configuration, another name. */
static void
twin_start (TestServer *server)
{
  g_autofree char *data = g_key_file_to_data (server->config, NULL, NULL);
  g_autoptr(GError) error = NULL;

  if (server->twin == NULL)
    {
      server->twin = test_server_new ();
      server->twin->is_twin = TRUE;
    }
  g_key_file_load_from_data (server->twin->config, data, -1, G_KEY_FILE_NONE, &error);
  g_assert_no_error (error);
  g_key_file_set_string (server->twin->config, "cluster", "node", "twin");
  test_server_start (server->twin);
  test_client_set_twin_port (test_server_get_port (server), test_server_get_port (server->twin));
}

void
test_server_start (TestServer *server)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  const char *binary = g_getenv ("VOIP_SERVER");
  gint64 deadline;
  guint16 port;

  g_assert_null (server->process);
  if (binary == NULL)
    g_error ("VOIP_SERVER is not set; run the integration tests with meson test");
  if (wants_twin (server))
    {
      g_autofree char *urls = NULL;

      /* A NATS server of its own: user ids of the tests running side by
       * side would meet on one. */
      if (server->nats == NULL)
        server->nats = test_nats_new (1);
      urls = test_nats_get_urls (server->nats);
      g_key_file_set_string (server->config, "cluster", "nats", urls);
      g_key_file_set_string (server->config, "cluster", "node", "first");
    }

  g_key_file_save_to_file (server->config, server->config_path, &error);
  g_assert_no_error (error);

  /* stderr too, so that the stdout thread sees sanitizer reports. */
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                        | G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  /* A GLib critical in the server is a bug: make it crash, so that the test
   * that provoked it fails instead of passing on a half-built reply. */
  test_process_launcher_fatal (launcher);
  /* `ip netns exec` execs the server in place: same pid, same death signal. */
  const char *argv[] = { "ip", "netns", "exec", server->netns,
                         binary, "--listen", server->listen, "--database", server->database,
                         "--config", server->config_path, NULL };
  server->process = g_subprocess_launcher_spawnv (launcher, server->netns ? argv : argv + 4,
                                                  &error);
  g_assert_no_error (error);
  server->stdout_thread = g_thread_new ("server-stdout", stdout_thread_main, server);

  deadline = g_get_monotonic_time () + (gint64) START_TIMEOUT_MS * 1000;
  g_mutex_lock (&server->lock);
  while (server->port == 0 && !server->stdout_closed)
    if (!g_cond_wait_until (&server->cond, &server->lock, deadline))
      break;
  port = server->port;
  g_mutex_unlock (&server->lock);

  if (port == 0)
    {
      test_server_kill (server);
      g_error ("%s did not print \"listening on %s\" with a port", binary, server->listen);
    }
  if (wants_twin (server))
    twin_start (server);
}

guint16
test_server_get_port (TestServer *server)
{
  guint16 port;

  g_mutex_lock (&server->lock);
  port = server->port;
  g_mutex_unlock (&server->lock);
  return port;
}

guint16
test_server_get_stun_port (TestServer *server)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) START_TIMEOUT_MS * 1000;
  guint16 port;

  /* The line follows "listening on" at once, but another thread reads it. */
  g_mutex_lock (&server->lock);
  while (server->stun_port == 0 && !server->stdout_closed)
    if (!g_cond_wait_until (&server->cond, &server->lock, deadline))
      break;
  port = server->stun_port;
  g_mutex_unlock (&server->lock);
  return port;
}

char *
test_server_find_output (TestServer *server, const char *text)
{
  char *found = NULL;

  g_mutex_lock (&server->lock);
  for (guint i = 0; i < server->output->len && found == NULL; i++)
    if (strstr (server->output->pdata[i], text) != NULL)
      found = g_strdup (server->output->pdata[i]);
  g_mutex_unlock (&server->lock);
  return found;
}

gboolean
test_server_is_running (TestServer *server)
{
  return server->process != NULL && g_subprocess_get_identifier (server->process) != NULL;
}

gboolean
test_server_stop (TestServer *server, guint timeout_ms, int *wait_status)
{
  g_return_val_if_fail (server->process != NULL, FALSE);

  g_subprocess_send_signal (server->process, SIGTERM);
  if (!test_process_wait_exit (server->process, timeout_ms))
    {
      test_process_fail ("voip-server did not exit within %u ms of SIGTERM", timeout_ms);
      test_server_kill (server);
      return FALSE;
    }
  if (wait_status != NULL)
    *wait_status = g_subprocess_get_status (server->process);
  reap (server, TRUE);
  /* The service stops as a whole. */
  if (server->twin != NULL && server->twin->process != NULL)
    test_server_stop (server->twin, timeout_ms, NULL);
  return TRUE;
}

void
test_server_kill (TestServer *server)
{
  g_return_if_fail (server->process != NULL);

  g_subprocess_force_exit (server->process);
  g_subprocess_wait (server->process, NULL, NULL);
  reap (server, FALSE);
  if (server->twin != NULL && server->twin->process != NULL)
    test_server_kill (server->twin);
}
