/* test-durability.c — an acknowledged message survives kill -9, and
 * SIGTERM shuts down cleanly (PROTOCOL.md: "The reply comes only after the
 * message is durable"). */
#include <sys/wait.h>

#include "test-client.h"
#include "test-server.h"

/* Every message of a user's conversations, by Sync: id → text. */
static GHashTable *
sync_all (TestClient *client)
{
  GHashTable *texts = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  guint64 after = 0;
  gboolean more = TRUE;

  while (more)
    {
      g_autoptr(GVariant) reply = test_client_call (client, VOIP_MSG_SYNC,
                                                    g_variant_new ("(tu)", after, 500));
      g_autoptr(GVariantIter) iter = NULL;
      guint64 id, seq;
      const char *text;
      guint n = 0;

      g_variant_get (reply, "(a(ttxsstusuaybbs)b)", &iter, &more);
      while (g_variant_iter_next (iter, "(ttx&s&stu&su@aybb&s)", &id, &seq, NULL, NULL, NULL,
                                  NULL, NULL, &text, NULL, NULL, NULL, NULL, NULL))
        {
          g_assert_cmpuint (seq, >, after);
          after = seq;
          g_hash_table_replace (texts, g_memdup2 (&id, sizeof id), g_strdup (text));
          n++;
        }
      g_assert_true (n > 0 || !more);
    }
  return texts;
}

static void
test_kill9 (void)
{
  const guint n = 300;
  g_autoptr(TestServer) server = test_server_new_started ();
  guint16 port = test_server_get_port (server);
  g_autoptr(TestClient) alice = test_client_new_registered (port, "alice");
  g_autoptr(TestClient) bob = test_client_new_registered (port, "bob");
  g_autofree char *bob_token = NULL;
  g_autofree guint32 *request_ids = g_new0 (guint32, n);
  g_autofree guint64 *ids = g_new0 (guint64, n);
  g_auto(GStrv) client_ids = g_new0 (char *, n + 1);
  g_autoptr(GHashTable) seen_by_bob = NULL;
  g_autoptr(GHashTable) seen_by_alice = NULL;

  test_befriend (alice, bob);
  bob_token = g_strdup (test_client_get_token (bob));

  /* Pipelined, so that many of them share a commit. Every other one has
   * neither recipient nor group: refused, it must never show up. */
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *text = g_strdup_printf ("durable message %u", i);

      client_ids[i] = test_new_client_id ();
      request_ids[i] = test_client_send_request (alice, VOIP_MSG_SEND_TEXT,
                                                 g_variant_new ("(stss)", i % 2 ? "bob" : "",
                                                                (guint64) 0, client_ids[i], text),
                                                 NULL);
      g_assert_cmpuint (request_ids[i], !=, 0);
    }
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) reply = NULL;
      guint status = 0;

      reply = test_client_wait_reply (alice, request_ids[i], &status, &error);
      g_assert_no_error (error);
      if (i % 2 == 0)
        {
          /* Neither recipient nor group: refused, and never stored. */
          g_assert_cmpuint (status, ==, VOIP_STATUS_MALFORMED);
          continue;
        }
      g_assert_cmpuint (status, ==, VOIP_STATUS_OK);
      g_variant_get (reply, "(ttx)", &ids[i], NULL, NULL);
      g_assert_cmpuint (ids[i], >, 0);
    }

  /* Right after the last acknowledgement. */
  test_server_kill (server);
  g_clear_pointer (&alice, test_client_free);
  g_clear_pointer (&bob, test_client_free);

  test_server_start (server);
  port = test_server_get_port (server);

  /* Tokens survive too. */
  bob = test_client_connect (port);
  test_client_call_ok (bob, VOIP_MSG_RESUME, g_variant_new ("(ss)", "bob", bob_token));
  alice = test_client_new_logged_in (port, "alice", "password-alice");

  seen_by_bob = sync_all (bob);
  seen_by_alice = sync_all (alice);
  g_assert_cmpuint (g_hash_table_size (seen_by_bob), ==, n / 2);
  g_assert_cmpuint (g_hash_table_size (seen_by_alice), ==, n / 2);
  for (guint i = 1; i < n; i += 2)
    {
      g_autofree char *text = g_strdup_printf ("durable message %u", i);

      g_assert_cmpstr (g_hash_table_lookup (seen_by_bob, &ids[i]), ==, text);
      g_assert_cmpstr (g_hash_table_lookup (seen_by_alice, &ids[i]), ==, text);
    }

  /* A resend after the crash is still recognised. */
  {
    g_autoptr(GVariant) reply = test_client_call (alice, VOIP_MSG_SEND_TEXT,
                                                  g_variant_new ("(stss)", "bob", (guint64) 0,
                                                                 client_ids[n - 1],
                                                                 "durable message, resent"));
    guint64 id;

    g_variant_get (reply, "(ttx)", &id, NULL, NULL);
    g_assert_cmpuint (id, ==, ids[n - 1]);
    test_client_assert_no_event (bob, VOIP_MSG_MESSAGE_RECEIVED, 0);
  }

  /* And new messages get new, larger ids. */
  g_assert_cmpuint (test_send_text (alice, "bob", 0, NULL, "after the crash"), >, ids[n - 1]);
}

static void
test_sigterm (void)
{
  g_autoptr(TestServer) server = test_server_new_started ();
  guint16 port = test_server_get_port (server);
  g_autoptr(TestClient) alice = test_client_new_registered (port, "alice");
  g_autoptr(TestClient) bob = test_client_new_registered (port, "bob");
  g_autoptr(TestClient) anonymous = test_client_connect (port);
  g_autoptr(GHashTable) texts = NULL;
  guint64 id;
  int status = -1;

  test_befriend (alice, bob);
  id = test_send_text (alice, "bob", 0, NULL, "before the shutdown");

  g_assert_true (test_server_stop (server, 30000, &status));
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);

  /* Connections were closed (told why, if at all: shutdown). */
  test_client_expect_closed_maybe_event (alice, VOIP_CLOSE_SHUTDOWN);
  test_client_expect_closed_maybe_event (bob, VOIP_CLOSE_SHUTDOWN);
  test_client_expect_closed_maybe_event (anonymous, VOIP_CLOSE_SHUTDOWN);

  /* The same database opens again with everything in it. */
  test_server_start (server);
  g_clear_pointer (&bob, test_client_free);
  bob = test_client_new_logged_in (test_server_get_port (server), "bob", "password-bob");
  texts = sync_all (bob);
  g_assert_cmpstr (g_hash_table_lookup (texts, &id), ==, "before the shutdown");
  {
    g_autoptr(GVariant) reply = test_client_call (bob, VOIP_MSG_CONTACT_LIST, g_variant_new ("()"));
    g_autoptr(GVariant) list = g_variant_get_child_value (reply, 0);

    g_assert_cmpuint (g_variant_n_children (list), ==, 1);
  }
  g_assert_true (test_server_stop (server, 30000, &status));
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/durability/kill-9", test_kill9);
  g_test_add_func ("/durability/sigterm", test_sigterm);
  return g_test_run ();
}
