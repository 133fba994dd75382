/* test-nats.c — nats-server processes for the tests (test-nats.h). */
#include "test-nats.h"
#include "test-process.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

/* How long a nats-server may take to accept connections. */
#define NATS_START_TIMEOUT_S 30
#define NATS_SERVER          "/usr/sbin/nats-server"

typedef struct {
  GSubprocess *process;
  GThread     *reader;
  TestReports  reports;
  guint16      port;
  guint16      route_port;
  char        *url;
  gboolean     killed;
} Node;

struct _TestNats {
  GPtrArray *nodes;   /* Node* */
};

static guint16
free_port (void)
{
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                            G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (socket);
  g_assert_true (g_socket_bind (socket, any, FALSE, &error));
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

static gboolean
accepts (guint16 port)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) connection =
    g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, NULL);

  return connection != NULL;
}

/* A test that dies takes its nats-servers with it. */
static void
child_setup (gpointer user_data)
{
  (void) user_data;
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static void
node_start (Node *node, guint index, GPtrArray *all)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *prefix = g_strdup_printf ("[nats-%u] ", index);
  gint64 deadline;

  g_ptr_array_add (argv, g_strdup (NATS_SERVER));
  g_ptr_array_add (argv, g_strdup ("-a"));
  g_ptr_array_add (argv, g_strdup ("127.0.0.1"));
  g_ptr_array_add (argv, g_strdup ("-p"));
  g_ptr_array_add (argv, g_strdup_printf ("%u", node->port));
  g_ptr_array_add (argv, g_strdup ("-n"));
  g_ptr_array_add (argv, g_strdup_printf ("nats-%u", index));
  if (all->len > 1)
    {
      g_autoptr(GString) routes = g_string_new (NULL);

      g_ptr_array_add (argv, g_strdup ("--cluster_name"));
      g_ptr_array_add (argv, g_strdup ("voip-test"));
      g_ptr_array_add (argv, g_strdup ("--cluster"));
      g_ptr_array_add (argv, g_strdup_printf ("nats://127.0.0.1:%u", node->route_port));
      for (guint i = 0; i < all->len; i++)
        if (all->pdata[i] != node)
          g_string_append_printf (routes, "%snats://127.0.0.1:%u", routes->len ? "," : "",
                                  ((Node *) all->pdata[i])->route_port);
      g_ptr_array_add (argv, g_strdup ("--routes"));
      g_ptr_array_add (argv, g_string_free (g_steal_pointer (&routes), FALSE));
    }
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                        | G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  node->process = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata,
                                                &error);
  g_assert_no_error (error);
  node->reader = test_process_watch_output (g_subprocess_get_stdout_pipe (node->process),
                                            prefix, &node->reports);
  node->url = g_strdup_printf ("nats://127.0.0.1:%u", node->port);

  /* Polled every 50 ms; a server that exits fails at once. */
  deadline = g_get_monotonic_time () + NATS_START_TIMEOUT_S * G_TIME_SPAN_SECOND;
  while (!accepts (node->port))
    {
      if (test_process_wait_exit (node->process, 50))
        g_error ("nats-server %u exited at start", index);
      if (g_get_monotonic_time () > deadline)
        g_error ("nats-server %u does not accept connections", index);
    }
}

TestNats *
test_nats_new (guint count)
{
  TestNats *nats = g_new0 (TestNats, 1);

  /* Debian puts it in /usr/sbin, not always on a test's PATH. */
  if (!g_file_test (NATS_SERVER, G_FILE_TEST_IS_EXECUTABLE))
    g_error ("%s is missing (Debian package nats-server, in .ci/packages)", NATS_SERVER);
  nats->nodes = g_ptr_array_new ();
  for (guint i = 0; i < count; i++)
    {
      Node *node = g_new0 (Node, 1);

      node->port = free_port ();
      node->route_port = free_port ();
      g_ptr_array_add (nats->nodes, node);
    }
  for (guint i = 0; i < count; i++)
    node_start (nats->nodes->pdata[i], i, nats->nodes);
  return nats;
}

static void
node_stop (Node *node, guint index)
{
  g_autofree char *what = g_strdup_printf ("nats-server %u", index);

  if (!node->killed)
    {
      g_subprocess_send_signal (node->process, SIGTERM);
      if (!test_process_wait_exit (node->process, TEST_PROCESS_STOP_MS))
        {
          g_subprocess_force_exit (node->process);
          test_process_wait_exit (node->process, TEST_PROCESS_STOP_MS);
          test_process_fail ("%s did not exit after SIGTERM", what);
        }
    }
  g_thread_join (node->reader);
  if (!node->killed)
    {
      /* Its clean stop: exit status 1 from its own handler, not a signal. */
      int status = g_subprocess_get_status (node->process);

      if (!WIFEXITED (status) || WEXITSTATUS (status) != 1)
        test_process_fail ("%s: wait status %d after SIGTERM, not its exit 1", what, status);
    }
  test_process_check_reports (what, &node->reports);
  test_reports_clear (&node->reports);
  g_object_unref (node->process);
  g_free (node->url);
  g_free (node);
}

void
test_nats_free (TestNats *nats)
{
  if (nats == NULL)
    return;
  for (guint i = 0; i < nats->nodes->len; i++)
    node_stop (nats->nodes->pdata[i], i);
  g_ptr_array_unref (nats->nodes);
  g_free (nats);
}

const char *
test_nats_get_url (TestNats *nats, guint i)
{
  return ((Node *) nats->nodes->pdata[i])->url;
}

char *
test_nats_get_urls (TestNats *nats)
{
  GString *urls = g_string_new (NULL);

  for (guint i = 0; i < nats->nodes->len; i++)
    g_string_append_printf (urls, "%s%s", i ? "," : "", test_nats_get_url (nats, i));
  return g_string_free (urls, FALSE);
}

void
test_nats_kill (TestNats *nats, guint i)
{
  Node *node = nats->nodes->pdata[i];

  g_subprocess_force_exit (node->process);
  g_assert_true (test_process_wait_exit (node->process, TEST_PROCESS_STOP_MS));
  node->killed = TRUE;
}

void
test_nats_freeze (TestNats *nats, guint i)
{
  Node *node = nats->nodes->pdata[i];

  g_subprocess_send_signal (node->process, SIGSTOP);
}
