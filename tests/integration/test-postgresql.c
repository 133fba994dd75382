/* test-postgresql.c — voip-server on PostgreSQL ([store] url) through an
 * outage: requests made while PostgreSQL is down are answered Storage in
 * bounded time (the client's timeout, far above the store's 5 s), nothing
 * hangs, and service resumes by itself once PostgreSQL is back, with every
 * acknowledged message still there.
 *
 * The rest of the integration suite runs on PostgreSQL through
 * tests/run-postgresql.sh; this test needs its own server to stop.
 */
#include "test-client.h"
#include "test-postgres.h"
#include "test-server.h"

/* Sends a text; returns the reply's status. */
static guint
send_text (TestClient *client, const char *to, const char *client_id, const char *text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  guint status = G_MAXUINT;

  reply = test_client_request (client, VOIP_MSG_SEND_TEXT,
                               g_variant_new ("(stss)", to, (guint64) 0, client_id, text),
                               &status, &error);
  /* A transport error is a hang or a crash: never acceptable. */
  g_assert_no_error (error);
  return status;
}

static gboolean
on_tick (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
test_outage (void)
{
  g_autoptr(TestPostgres) pg = test_postgres_new_or_skip ();
  g_autoptr(GError) error = NULL;
  g_autoptr(TestServer) server = NULL;
  g_autoptr(TestClient) alice = NULL;
  g_autoptr(TestClient) bob = NULL;
  g_autoptr(GPtrArray) texts = NULL;
  g_autofree char *url = NULL;
  g_autofree char *first_id = test_new_client_id ();
  g_autofree char *lost_id = test_new_client_id ();
  guint16 port;
  gint64 deadline;
  guint status = G_MAXUINT;

  if (pg == NULL)
    return;
  url = test_postgres_create_database (pg, &error);
  g_assert_no_error (error);
  server = test_server_new ();
  g_key_file_set_string (test_server_get_config (server), "store", "url", url);
  test_server_start (server);
  port = test_server_get_port (server);

  alice = test_client_new_registered (port, "alice");
  bob = test_client_new_registered (port, "bob");
  test_befriend (alice, bob);
  g_assert_cmpuint (send_text (alice, "bob", first_id, "before"), ==, VOIP_STATUS_OK);

  g_assert_true (test_postgres_stop (pg, &error));
  g_assert_no_error (error);

  /* Writes and reads alike: Storage, and the session stays usable. */
  g_assert_cmpuint (send_text (alice, "bob", lost_id, "during"), ==, VOIP_STATUS_STORAGE);
  test_client_call_fails (bob, VOIP_MSG_SYNC, g_variant_new ("(tu)", (guint64) 0, 10),
                          VOIP_STATUS_STORAGE);
  test_client_assert_ping (alice);

  g_assert_true (test_postgres_start (pg, &error));
  g_assert_no_error (error);

  /* The same message, resent as a client does, goes through once the store
   * has its connection again; polled every 100 ms. */
  deadline = g_get_monotonic_time () + 60 * G_TIME_SPAN_SECOND;
  while ((status = send_text (alice, "bob", lost_id, "during")) == VOIP_STATUS_STORAGE &&
         g_get_monotonic_time () < deadline)
    {
      gboolean ticked = FALSE;

      g_timeout_add (100, on_tick, &ticked);
      while (!ticked)
        g_main_context_iteration (NULL, TRUE);
    }
  g_assert_cmpuint (status, ==, VOIP_STATUS_OK);

  texts = test_client_sync_texts (bob);
  g_assert_cmpuint (texts->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (texts, 0), ==, "before");
  g_assert_cmpstr (g_ptr_array_index (texts, 1), ==, "during");

  g_clear_pointer (&alice, test_client_free);
  g_clear_pointer (&bob, test_client_free);
  /* The server before the cluster: it must exit cleanly with its store. */
  g_clear_pointer (&server, test_server_free);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/postgresql/outage", test_outage);
  return g_test_run ();
}
