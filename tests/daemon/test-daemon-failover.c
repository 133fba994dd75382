/* test-daemon-failover.c — voipd fails over between the nodes of a server list.
 *
 * Two real voip-server processes share one PostgreSQL store (a private
 * PostgreSQL from tests/support/test-postgres.h). Two servers on one SQLite
 * file are no cluster: the SQLite store is a single writer in one process
 * (its store thread owns the file and caches what it wrote), so a second
 * process would see a stale or locked database. Real voipd and voipctl run
 * for each user (tests/support/test-user.h), logged in with
 * `--server A,B`:
 *   - node A is killed with SIGKILL: voipd comes back online on B with its
 *     token (no password), and a message typed while it was offline arrives;
 *   - the first node of the list is dead at login: the login goes to the next;
 *   - a malformed list is refused with Malformed and changes nothing.
 * A real SRV lookup needs a DNS server, which this test does not run; the
 * SRV path is covered up to its GNetworkService by tests/unit/test-server-list.c. */
#include <string.h>

#include "test-postgres.h"
#include "test-server.h"
#include "test-user.h"

typedef struct {
  TestPostgres *pg;
  TestServer   *a;
  TestServer   *b;
  char         *list;    /* "127.0.0.1:A,127.0.0.1:B" */
  TestUser     *alice;
  TestUser     *bob;
} Fixture;

static TestServer *
start_node (const char *url)
{
  TestServer *server = test_server_new ();

  g_key_file_set_string (test_server_get_config (server), "store", "url", url);
  test_server_start (server);
  return server;
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;

  f->pg = test_postgres_new_or_skip ();
  if (f->pg == NULL)
    return;
  url = test_postgres_create_database (f->pg, &error);
  g_assert_no_error (error);
  f->a = start_node (url);
  f->b = start_node (url);
  f->list = g_strdup_printf ("127.0.0.1:%u,127.0.0.1:%u", test_server_get_port (f->a),
                             test_server_get_port (f->b));
  f->alice = test_user_new ("alice", TEST_USER_DEFAULT);
  f->bob = test_user_new ("bob", TEST_USER_DEFAULT);
  test_user_start_daemon (f->alice);
  test_user_start_daemon (f->bob);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->alice, test_user_free);
  g_clear_pointer (&f->bob, test_user_free);
  g_clear_pointer (&f->a, test_server_free);
  g_clear_pointer (&f->b, test_server_free);
  g_clear_pointer (&f->pg, test_postgres_free);
  g_free (f->list);
}

static gboolean
is_not_online (TestUser *user, gpointer data)
{
  g_autoptr(JsonNode) root = voipctl_json (user, "status", "--json");
  const char *state = test_json_get_string (test_json_object (root), "state");

  return g_strcmp0 (state, "online") != 0;
}

static void
assert_status (TestUser *user, const char *state, const char *server)
{
  g_autoptr(JsonNode) root = voipctl_json (user, "status", "--json");
  JsonObject *status = test_json_object (root);

  g_assert_cmpstr (test_json_get_string (status, "state"), ==, state);
  g_assert_cmpstr (test_json_get_string (status, "server"), ==, server);
}

/* The history of `conversation` holds `text` exactly once. */
static void
assert_once (TestUser *user, const char *conversation, const char *text)
{
  g_autoptr(JsonArray) history = NULL;
  guint count = 0;

  test_user_wait_message (user, conversation, text);
  history = test_user_history (user, conversation, 500);
  for (guint i = 0; i < json_array_get_length (history); i++)
    if (g_strcmp0 (json_object_get_string_member (json_array_get_object_element (history, i),
                                                  "text"), text) == 0)
      count++;
  g_assert_cmpuint (count, ==, 1);
}

/* Node A dies; both daemons come back on B by themselves. B is down too
 * while A dies, so that there is an offline time to type in whatever the
 * timing: a whole round fails, and the daemon backs off until B is back
 * (on the same port). */
static void
test_node_killed (Fixture *f, gconstpointer data)
{
  g_autofree char *listen = NULL;
  g_autofree char *out = NULL;

  if (f->pg == NULL)
    return;
  test_user_set_server (f->alice, f->list);
  test_user_set_server (f->bob, f->list);
  test_user_register (f->alice);
  test_user_register (f->bob);
  test_user_befriend (f->alice, f->bob);
  g_free (voipctl_ok (f->alice, "send", "bob", "before the crash"));
  test_user_wait_message (f->bob, "alice", "before the crash");

  listen = g_strdup_printf ("127.0.0.1:%u", test_server_get_port (f->b));
  g_assert_true (test_server_stop (f->b, 30000, NULL));
  test_server_set_listen (f->b, listen, NULL);
  test_server_kill (f->a);
  g_assert_true (test_user_wait (f->alice, TEST_USER_WAIT_MS, is_not_online, NULL));
  out = voipctl_ok (f->alice, "--json", "send", "bob", "while offline");
  g_assert_cmpstr (g_strstrip (out), ==, "{\"id\":0,\"queued\":true}");

  test_server_start (f->b);
  test_user_wait_state (f->alice, "online");
  test_user_wait_state (f->bob, "online");
  assert_status (f->alice, "online", f->list);
  assert_once (f->bob, "alice", "while offline");
  assert_once (f->bob, "alice", "before the crash");
}

/* Node A dies while both are up: the daemon goes to B at once. */
static void
test_node_killed_other_up (Fixture *f, gconstpointer data)
{
  if (f->pg == NULL)
    return;
  test_user_set_server (f->alice, f->list);
  test_user_set_server (f->bob, f->list);
  test_user_register (f->alice);
  test_user_register (f->bob);
  test_user_befriend (f->alice, f->bob);

  test_server_kill (f->a);
  g_assert_true (test_user_wait (f->alice, TEST_USER_WAIT_MS, is_not_online, NULL));
  test_user_wait_state (f->alice, "online");
  test_user_wait_state (f->bob, "online");
  g_free (voipctl_ok (f->alice, "send", "bob", "on the other node"));
  assert_once (f->bob, "alice", "on the other node");
}

/* The first node of the list is dead at login: the login goes to the next. */
static void
test_first_dead_at_login (Fixture *f, gconstpointer data)
{
  if (f->pg == NULL)
    return;
  test_server_kill (f->a);
  test_user_set_server (f->alice, f->list);
  test_user_register (f->alice);
  assert_status (f->alice, "online", f->list);
}

/* A malformed list is refused with Malformed, and the session stays as it was. */
static void
test_malformed_list (Fixture *f, gconstpointer data)
{
  const char *bad[] = { "127.0.0.1:1,,127.0.0.1:2", "127.0.0.1:0", "a:1,a:1", "[::1]", "" };
  g_autofree char *single = NULL;

  if (f->pg == NULL)
    return;
  single = g_strdup_printf ("127.0.0.1:%u", test_server_get_port (f->b));
  test_user_set_server (f->alice, single);
  test_user_register (f->alice);
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *err = voipctl_input_fails (f->alice, test_user_get_password (f->alice),
                                                  "login", "--server", bad[i], "alice",
                                                  "--password-stdin");
      g_autofree char *message = NULL;

      assert_status (f->alice, "online", single);
      /* The empty server means the stored default, so only non-empty ones on the bus. */
      if (*bad[i] == '\0')
        continue;
      message = test_user_call_fails (f->alice, TEST_VOIPD_PATH, "Account", "Login",
                                      g_variant_new ("(sss)", bad[i], "alice",
                                                     test_user_get_password (f->alice)),
                                      "org.voipd.Voip1.Error.Malformed");
      assert_status (f->alice, "online", single);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/failover/node-killed", Fixture, NULL, fixture_set_up, test_node_killed,
              fixture_tear_down);
  g_test_add ("/failover/node-killed-other-up", Fixture, NULL, fixture_set_up,
              test_node_killed_other_up, fixture_tear_down);
  g_test_add ("/failover/first-dead-at-login", Fixture, NULL, fixture_set_up,
              test_first_dead_at_login, fixture_tear_down);
  g_test_add ("/failover/malformed-list", Fixture, NULL, fixture_set_up, test_malformed_list,
              fixture_tear_down);
  return g_test_run ();
}
