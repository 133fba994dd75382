/* test-daemon-resilience.c — what happens around the daemon: the server
 * restarted mid-session, the daemon restarted (it resumes from the stored
 * token), no keyring at all, the server down (the cache answers, sends wait
 * in the outbox and arrive once), and logout forgetting the token. */
#include <string.h>

#include "daemon-fixture.h"

/* ---- helpers ------------------------------------------------------------ */

/* The history of `conversation` holds each text exactly once (waits for the
 * last one first). */
static void
assert_each_once (TestUser *user, const char *conversation, const char *const *texts)
{
  g_autoptr(JsonArray) history = NULL;
  guint n = g_strv_length ((char **) texts);

  test_user_wait_message (user, conversation, texts[n - 1]);
  history = test_user_history (user, conversation, 500);
  for (guint i = 0; i < n; i++)
    if (daemon_count_text (history, texts[i]) != 1)
      g_error ("%s: \"%s\" is %u times in the history of %s, expected once",
               test_user_get_name (user), texts[i], daemon_count_text (history, texts[i]),
               conversation);
}

static JsonObject *
status_of (TestUser *user, JsonNode **root)
{
  *root = voipctl_json (user, "status", "--json");
  return test_json_object (*root);
}

/* `voipctl send` succeeds and says the message is queued (id 0). */
static void
send_queued (TestUser *user, const char *conversation, const char *text)
{
  g_autofree char *out = voipctl_ok (user, "--json", "send", conversation, text);

  g_assert_cmpstr (g_strstrip (out), ==, "{\"id\":0,\"queued\":true}");
}

static gboolean
is_not_online (TestUser *user, gpointer data)
{
  g_autoptr(JsonNode) root = voipctl_json (user, "status", "--json");
  const char *state = test_json_get_string (test_json_object (root), "state");

  return g_strcmp0 (state, "online") != 0;
}

/* ---- tests -------------------------------------------------------------- */

/* The server goes down and comes back (same database, same address): the
 * daemons reconnect by themselves; a message sent meanwhile arrives once;
 * nothing sent before is lost or doubled. */
static void
test_server_restart (DaemonFixture *f, gconstpointer data)
{
  g_autoptr(JsonNode) root = NULL;
  const char *const before[] = { "before 1", "before 2", "before 3", NULL };
  const char *const all[] = { "before 1", "before 2", "before 3", "while down", "after", NULL };
  const char *const group_all[] = { "group before", "group while down", NULL };
  g_autofree char *group_id = NULL;
  g_autofree char *group = NULL;

  test_user_befriend (f->alice, f->bob);
  test_user_befriend (f->alice, f->carol);
  group_id = g_strstrip (voipctl_ok (f->alice, "group", "create", "Survivors", "bob", "carol"));
  group = g_strdup_printf ("--group %s", group_id);
  for (guint i = 0; before[i] != NULL; i++)
    daemon_send (f->alice, "bob", before[i]);
  daemon_send (f->carol, group, "group before");
  assert_each_once (f->bob, "alice", before);
  assert_each_once (f->bob, group, (const char *const[]) { "group before", NULL });

  daemon_fixture_stop_server (f);
  test_user_wait_state (f->alice, "reconnecting");
  test_user_wait_state (f->bob, "reconnecting");
  root = voipctl_json (f->alice, "status", "--json");
  g_assert_cmpstr (test_json_get_string (test_json_object (root), "state_reason"), !=, "");
  g_clear_pointer (&root, json_node_unref);

  /* Meanwhile: queued. */
  send_queued (f->alice, "bob", "while down");
  {
    g_autofree char *out = voipctl_ok (f->alice, "--json", "send", "--group", group_id,
                                       "group while down");
    g_assert_cmpstr (g_strstrip (out), ==, "{\"id\":0,\"queued\":true}");
  }

  daemon_fixture_start_server (f);
  test_user_wait_state (f->alice, "online");
  test_user_wait_state (f->bob, "online");
  test_user_wait_state (f->carol, "online");

  daemon_send (f->alice, "bob", "after");
  assert_each_once (f->bob, "alice", all);
  assert_each_once (f->alice, "bob", all);
  assert_each_once (f->bob, group, group_all);
  assert_each_once (f->carol, group, group_all);

  /* A message bob sends now reaches alice: both sessions are live. */
  daemon_send (f->bob, "alice", "welcome back");
  test_user_wait_message (f->alice, "bob", "welcome back");
  test_user_wait_contact (f->bob, "alice", "presence", "online");

  /* Status after the reconnection is the same as before. */
  root = voipctl_json (f->alice, "status", "--json");
  g_assert_cmpstr (test_json_get_string (test_json_object (root), "username"), ==, "alice");
  g_assert_cmpstr (test_json_get_string (test_json_object (root), "server"), ==, f->address);
}

/* The server killed outright (no goodbye), too. */
static void
test_server_killed (DaemonFixture *f, gconstpointer data)
{
  test_user_befriend (f->alice, f->bob);
  daemon_send (f->alice, "bob", "before the crash");
  test_user_wait_message (f->bob, "alice", "before the crash");

  test_relay_set_target (f->relay, 0);
  test_server_kill (f->server);
  g_assert_true (test_user_wait (f->alice, TEST_USER_WAIT_MS, is_not_online, NULL));
  send_queued (f->alice, "bob", "after the crash");
  daemon_fixture_start_server (f);
  test_user_wait_state (f->alice, "online");
  assert_each_once (f->bob, "alice",
                    (const char *const[]) { "before the crash", "after the crash", NULL });
}

/* Something in front of the server (a proxy, a load balancer) accepts
 * connections and closes them at once while the server is down: the daemon
 * keeps retrying and gets back online once the server is up. */
static void
test_server_hangs_up (DaemonFixture *f, gconstpointer data)
{
  test_user_befriend (f->alice, f->bob);
  daemon_fixture_stop_server (f);
  test_relay_hang_up (f->relay);
  test_user_wait_state (f->alice, "reconnecting");
  send_queued (f->alice, "bob", "through the hang-ups");
  daemon_fixture_start_server (f);
  test_user_wait_state (f->alice, "online");
  test_user_wait_state (f->bob, "online");
  assert_each_once (f->bob, "alice", (const char *const[]) { "through the hang-ups", NULL });
}

/* An idle session stays up: for 15 s with nothing to do (longer than the
 * 10 s the daemon gives a request), with the default keepalive settings, the
 * state never leaves online. A window of quiet, like
 * test_client_assert_no_event(), not a timing measure. */
static void
test_idle_stays_online (DaemonFixture *f, gconstpointer data)
{
  g_autoptr(TestUser) dave = NULL;
  g_autoptr(TestSignals) signals = NULL;

  dave = test_user_new ("dave", TEST_USER_DEFAULT);
  test_user_set_server (dave, f->address);
  test_user_start_daemon (dave);
  test_user_register (dave);
  signals = test_user_watch_signals (dave);

  test_iterate_for (15000);
  test_user_wait_state (dave, "online");
  {
    g_autoptr(JsonNode) root = voipctl_json (dave, "status", "--json");
    g_assert_cmpstr (test_json_get_string (test_json_object (root), "state"), ==, "online");
  }
  /* No state change at all in the window. */
  test_signals_assert_none (signals, "PropertiesChanged", TEST_VOIPD_PATH, "'State'");
}

/* The daemon restarts (SIGTERM, and SIGKILL): it resumes from the token in
 * the keyring, with no password; messages sent to alice while her daemon was
 * away arrive. */
static void
test_daemon_restart (DaemonFixture *f, gconstpointer data)
{
  g_autoptr(JsonNode) root = NULL;
  JsonObject *status;

  test_user_befriend (f->alice, f->bob);
  daemon_send (f->bob, "alice", "before the restart");
  test_user_wait_message (f->alice, "bob", "before the restart");

  test_user_stop_daemon (f->alice);
  test_user_wait_contact (f->bob, "alice", "presence", "offline");
  daemon_send (f->bob, "alice", "while alice was away");
  test_user_start_daemon (f->alice);
  test_user_wait_state (f->alice, "online");
  status = status_of (f->alice, &root);
  g_assert_cmpstr (test_json_get_string (status, "username"), ==, "alice");
  g_assert_cmpstr (test_json_get_string (status, "server"), ==, f->address);
  g_assert_true (test_json_get_bool (status, "remember_login"));
  g_clear_pointer (&root, json_node_unref);
  assert_each_once (f->alice, "bob",
                    (const char *const[]) { "before the restart", "while alice was away", NULL });
  test_user_wait_contact (f->alice, "bob", "subscription", "friend");

  /* A crash, not a clean stop. */
  test_user_kill_daemon (f->alice);
  daemon_send (f->bob, "alice", "after the crash");
  test_user_start_daemon (f->alice);
  test_user_wait_state (f->alice, "online");
  status = status_of (f->alice, &root);
  g_assert_cmpstr (test_json_get_string (status, "username"), ==, "alice");
  g_clear_pointer (&root, json_node_unref);
  assert_each_once (f->alice, "bob",
                    (const char *const[]) { "before the restart", "while alice was away",
                                            "after the crash", NULL });
  daemon_send (f->alice, "bob", "alice is back");
  test_user_wait_message (f->bob, "alice", "alice is back");
}

/* No secret service on the bus: the daemon works, says it cannot remember
 * the login, and after a restart says why it is offline instead of hanging
 * on a prompt; a password brings it back. */
static void
test_no_keyring (DaemonFixture *f, gconstpointer data)
{
  g_autoptr(TestUser) dave = daemon_fixture_new_user (f, "dave", TEST_USER_NO_KEYRING);
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *human = NULL;
  g_autofree char *reason = NULL;
  JsonObject *status;

  test_user_register (dave);
  status = status_of (dave, &root);
  g_assert_cmpstr (test_json_get_string (status, "state"), ==, "online");
  g_assert_cmpstr (test_json_get_string (status, "username"), ==, "dave");
  g_assert_false (test_json_get_bool (status, "remember_login"));
  g_clear_pointer (&root, json_node_unref);

  /* It works: a friend and a message. */
  test_user_befriend (dave, f->alice);
  daemon_send (dave, "alice", "no keyring here");
  test_user_wait_message (f->alice, "dave", "no keyring here");

  /* Restarted: nothing to resume from; offline at once, and the reason says
   * why (the keyring), in JSON and for people. */
  test_user_restart_daemon (dave);
  test_user_wait_state (dave, "offline");
  status = status_of (dave, &root);
  g_assert_false (test_json_get_bool (status, "remember_login"));
  reason = g_ascii_strdown (test_json_get_string (status, "state_reason"), -1);
  if (strstr (reason, "keyring") == NULL && strstr (reason, "secret") == NULL)
    g_error ("without a keyring, after a restart, state_reason should say that the login "
             "could not be remembered (the keyring); got \"%s\"",
             test_json_get_string (status, "state_reason"));
  g_clear_pointer (&root, json_node_unref);
  human = voipctl_ok (dave, "status");
  g_assert_nonnull (strstr (human, "offline"));
  g_assert_nonnull (strstr (human, "eyring"));
  /* The cache still answers. */
  test_user_wait_contact (dave, "alice", "subscription", "friend");
  /* And a password brings it back. */
  test_user_login (dave);
  daemon_send (dave, "alice", "logged in again");
  test_user_wait_message (f->alice, "dave", "logged in again");
}

/* With the server down: contacts, groups and history answer from the cache,
 * sends are queued, and each queued message arrives once, in order, after
 * the server is back. */
static void
test_offline (DaemonFixture *f, gconstpointer data)
{
  g_autoptr(JsonNode) contacts = NULL;
  g_autoptr(JsonNode) groups = NULL;
  g_autoptr(JsonArray) history = NULL;
  g_autofree char *human = NULL;
  g_autofree char *group_id = NULL;
  JsonObject *bob;

  test_user_befriend (f->alice, f->bob);
  group_id = g_strstrip (voipctl_ok (f->alice, "group", "create", "Offline club", "bob"));
  daemon_send (f->bob, "alice", "cached 1");
  daemon_send (f->alice, "bob", "cached 2");
  test_user_wait_message (f->alice, "bob", "cached 1");

  daemon_fixture_stop_server (f);
  g_assert_true (test_user_wait (f->alice, TEST_USER_WAIT_MS, is_not_online, NULL));

  contacts = voipctl_json (f->alice, "contacts", "--json");
  bob = test_json_find (test_json_list (contacts), "username", "bob");
  g_assert_nonnull (bob);
  g_assert_cmpstr (test_json_get_string (bob, "subscription"), ==, "friend");
  groups = voipctl_json (f->alice, "group", "list", "--json");
  g_assert_nonnull (test_json_find (test_json_list (groups), "name", "Offline club"));
  history = test_user_history (f->alice, "bob", 50);
  g_assert_cmpuint (json_array_get_length (history), ==, 2);
  g_assert_cmpuint (daemon_count_text (history, "cached 1"), ==, 1);
  g_assert_cmpuint (daemon_count_text (history, "cached 2"), ==, 1);
  g_clear_pointer (&history, json_array_unref);
  human = voipctl_ok (f->alice, "history", "bob");
  g_assert_nonnull (strstr (human, "cached 1"));

  send_queued (f->alice, "bob", "queued 1");
  send_queued (f->alice, "bob", "queued 2");
  send_queued (f->alice, "bob", "queued 3");

  daemon_fixture_start_server (f);
  test_user_wait_state (f->alice, "online");
  assert_each_once (f->bob, "alice",
                    (const char *const[]) { "cached 1", "cached 2", "queued 1", "queued 2",
                                            "queued 3", NULL });
  /* In the order sent, with ids. */
  history = test_user_history (f->bob, "alice", 50);
  g_assert_cmpuint (json_array_get_length (history), ==, 5);
  for (guint i = 2; i < 5; i++)
    {
      g_autofree char *text = g_strdup_printf ("queued %u", i - 1);
      JsonObject *message = json_array_get_object_element (history, i);

      g_assert_cmpstr (test_json_get_string (message, "text"), ==, text);
      g_assert_cmpint (test_json_get_int (message, "id"), >, 0);
    }
  g_clear_pointer (&history, json_array_unref);
  /* alice's own copies got their server ids, no duplicates. */
  assert_each_once (f->alice, "bob",
                    (const char *const[]) { "cached 1", "cached 2", "queued 1", "queued 2",
                                            "queued 3", NULL });
  history = test_user_history (f->alice, "bob", 50);
  g_assert_cmpuint (json_array_get_length (history), ==, 5);
  for (guint i = 0; i < 5; i++)
    g_assert_cmpint (test_json_get_int (json_array_get_object_element (history, i), "id"), >, 0);
}

/* A queued message is part of the conversation while it waits: the sender's
 * history shows it (id 0, see the XML's header), once, and then with its
 * server id once delivered. */
static void
test_outbox_visible (DaemonFixture *f, gconstpointer data)
{
  g_autoptr(JsonArray) history = NULL;
  JsonObject *message;

  test_user_befriend (f->alice, f->bob);
  daemon_fixture_stop_server (f);
  g_assert_true (test_user_wait (f->alice, TEST_USER_WAIT_MS, is_not_online, NULL));
  send_queued (f->alice, "bob", "waiting in the outbox");
  history = test_user_history (f->alice, "bob", 50);
  g_assert_cmpuint (daemon_count_text (history, "waiting in the outbox"), ==, 1);
  message = test_json_find (history, "text", "waiting in the outbox");
  g_assert_cmpint (test_json_get_int (message, "id"), ==, 0);
  g_assert_cmpstr (test_json_get_string (message, "sender"), ==, "alice");
  g_clear_pointer (&history, json_array_unref);

  daemon_fixture_start_server (f);
  test_user_wait_state (f->alice, "online");
  assert_each_once (f->bob, "alice", (const char *const[]) { "waiting in the outbox", NULL });
  assert_each_once (f->alice, "bob", (const char *const[]) { "waiting in the outbox", NULL });
  history = test_user_history (f->alice, "bob", 50);
  g_assert_cmpint (test_json_get_int (test_json_find (history, "text", "waiting in the outbox"),
                                      "id"), >, 0);
}

/* The outbox is durable: a message queued while the server is down survives
 * a restart of the daemon and is delivered once. */
static void
test_outbox_survives_restart (DaemonFixture *f, gconstpointer data)
{
  test_user_befriend (f->alice, f->bob);
  daemon_fixture_stop_server (f);
  g_assert_true (test_user_wait (f->alice, TEST_USER_WAIT_MS, is_not_online, NULL));
  send_queued (f->alice, "bob", "kept on disk");

  test_user_restart_daemon (f->alice);
  daemon_fixture_start_server (f);
  test_user_wait_state (f->alice, "online");
  assert_each_once (f->bob, "alice", (const char *const[]) { "kept on disk", NULL });
  assert_each_once (f->alice, "bob", (const char *const[]) { "kept on disk", NULL });
}

/* Logout revokes and forgets the token: a restarted daemon stays offline. */
static void
test_logout_forgets (DaemonFixture *f, gconstpointer data)
{
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonNode) contacts = NULL;
  JsonObject *status;

  test_user_befriend (f->alice, f->bob);
  g_free (voipctl_ok (f->alice, "logout"));
  test_user_wait_state (f->alice, "offline");
  test_user_restart_daemon (f->alice);
  test_user_wait_state (f->alice, "offline");
  status = status_of (f->alice, &root);
  g_assert_false (test_json_get_bool (status, "remember_login"));
  g_assert_cmpstr (test_json_get_string (status, "state_reason"), !=, "");
  /* The cache stays. */
  contacts = voipctl_json (f->alice, "contacts", "--json");
  g_assert_nonnull (test_json_find (test_json_list (contacts), "username", "bob"));
  test_user_wait_contact (f->bob, "alice", "presence", "offline");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  daemon_test_add ("/daemon/resilience/server-restart", test_server_restart);
  daemon_test_add ("/daemon/resilience/server-killed", test_server_killed);
  daemon_test_add ("/daemon/resilience/server-hangs-up", test_server_hangs_up);
  daemon_test_add ("/daemon/resilience/idle-stays-online", test_idle_stays_online);
  daemon_test_add ("/daemon/resilience/daemon-restart", test_daemon_restart);
  daemon_test_add ("/daemon/resilience/no-keyring", test_no_keyring);
  daemon_test_add ("/daemon/resilience/offline", test_offline);
  daemon_test_add ("/daemon/resilience/outbox-visible", test_outbox_visible);
  daemon_test_add ("/daemon/resilience/outbox-survives-restart", test_outbox_survives_restart);
  daemon_test_add ("/daemon/resilience/logout-forgets", test_logout_forgets);
  return g_test_run ();
}
