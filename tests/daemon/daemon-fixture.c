/* daemon-fixture.c — a server, a relay and three users for the daemon tests. */
#define G_LOG_DOMAIN "daemon-fixture"

#include <string.h>

#include "daemon-fixture.h"

TestUser *
daemon_fixture_new_user (DaemonFixture *f, const char *name, TestUserFlags flags)
{
  TestUser *user = test_user_new (name, flags);

  test_user_set_server (user, f->address);
  /* Retry quickly, so that the reconnection tests do not wait for the
   * default policy's 30 s steps. */
  test_user_set_setting (user, "reconnect-initial-delay-ms", "uint32 200");
  test_user_set_setting (user, "reconnect-max-delay-ms", "uint32 1000");
  if (f->options != NULL && f->options->configure_user != NULL)
    f->options->configure_user (user);
  test_user_start_daemon (user);
  return user;
}

void
daemon_fixture_setup (DaemonFixture *f, gconstpointer data)
{
  f->options = data;
  f->server = test_server_new ();
  if (f->options != NULL && f->options->configure_server != NULL)
    f->options->configure_server (test_server_get_config (f->server));
  test_server_start (f->server);
  f->relay = test_relay_new (test_server_get_port (f->server));
  f->address = g_strdup_printf ("127.0.0.1:%u", test_relay_get_port (f->relay));

  f->alice = daemon_fixture_new_user (f, "alice", TEST_USER_DEFAULT);
  f->bob = daemon_fixture_new_user (f, "bob", TEST_USER_DEFAULT);
  f->carol = daemon_fixture_new_user (f, "carol", TEST_USER_DEFAULT);
  test_user_register (f->alice);
  test_user_register (f->bob);
  test_user_register (f->carol);
}

void
daemon_fixture_teardown (DaemonFixture *f, gconstpointer data)
{
  g_clear_pointer (&f->alice, test_user_free);
  g_clear_pointer (&f->bob, test_user_free);
  g_clear_pointer (&f->carol, test_user_free);
  g_clear_pointer (&f->relay, test_relay_free);
  g_clear_pointer (&f->server, test_server_free);
  g_clear_pointer (&f->address, g_free);
}

void
daemon_fixture_stop_server (DaemonFixture *f)
{
  test_relay_set_target (f->relay, 0);
  g_assert_true (test_server_stop (f->server, 10000, NULL));
}

void
daemon_fixture_start_server (DaemonFixture *f)
{
  test_server_start (f->server);
  test_relay_set_target (f->relay, test_server_get_port (f->server));
}

guint64
daemon_send_at (const char *file, int line, TestUser *user, const char *conversation,
                const char *text)
{
  g_autoptr(TestRun) run = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonNode *root = NULL;
  guint64 id = 0;

  /* `voipctl --json send` prints {"id": N, "queued": false}. */
  if (g_str_has_prefix (conversation, "--group "))
    run = test_user_voipctlv (user, NULL, "--json", "send", "--group",
                              conversation + strlen ("--group "), text, NULL);
  else
    run = test_user_voipctlv (user, NULL, "--json", "send", conversation, text, NULL);
  if (run->exit_status == 0 && json_parser_load_from_data (parser, run->out, -1, NULL))
    root = json_parser_get_root (parser);
  if (root != NULL && JSON_NODE_HOLDS_OBJECT (root)
      && json_object_has_member (json_node_get_object (root), "id"))
    id = (guint64) json_object_get_int_member (json_node_get_object (root), "id");
  if (id == 0)
    {
      g_autofree char *message = g_strdup_printf ("%s: `%s` should print a message id; "
                                                  "exit %d, stdout \"%s\", stderr \"%s\"",
                                                  test_user_get_name (user), run->command,
                                                  run->exit_status, run->out, run->err);
      g_assertion_message (G_LOG_DOMAIN, file, line, "daemon_send", message);
    }
  return id;
}

guint
daemon_count_text (JsonArray *history, const char *text)
{
  guint count = 0;

  for (guint i = 0; i < json_array_get_length (history); i++)
    {
      JsonObject *message = json_array_get_object_element (history, i);

      if (message != NULL && json_object_has_member (message, "text")
          && g_strcmp0 (json_object_get_string_member (message, "text"), text) == 0)
        count++;
    }
  return count;
}
