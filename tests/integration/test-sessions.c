/* test-sessions.c — a session's life under load (PROTOCOL.md, "Requests,
 * replies and events", "Strict decoding and errors", "Shutdown"): requests
 * pipelined behind a login or a logout, a slow session dropped in the
 * middle of a fan-out, a client that never reads its replies, and the
 * replies owed at shutdown. */
#include <string.h>
#include <sys/wait.h>

#include "test-client.h"
#include "test-server.h"

static GVariant *
bytes_of (gsize size, guint8 fill)
{
  g_autofree guint8 *data = g_malloc (MAX (size, 1));

  memset (data, fill, size);
  return g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, data, size, 1);
}

static void
assert_reply (TestClient *client, guint32 request_id, guint expected_status)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  guint status = G_MAXUINT;

  reply = test_client_wait_reply (client, request_id, &status, &error);
  g_assert_no_error (error);
  if (status != expected_status)
    {
      g_autofree char *text = g_variant_print (reply, FALSE);

      g_error ("request %u: expected %s, got %s %s", request_id,
               voip_status_name (expected_status), voip_status_name (status), text);
    }
}

static guint32
send_request (TestClient *client, guint16 code, GVariant *payload)
{
  g_autoptr(GError) error = NULL;
  guint32 id = test_client_send_request (client, code, payload, &error);

  g_assert_no_error (error);
  return id;
}

static void
uncork (TestClient *client)
{
  g_autoptr(GError) error = NULL;

  test_client_uncork (client, &error);
  g_assert_no_error (error);
}

/* ---- pipelining across a change of login state ----------------------------- */

/* Requests written together with Login, Resume or Register wait for its
 * outcome; those behind Logout are served as logged out. The test client
 * fails on a reply out of order. */
static void
test_pipelined_login (void)
{
  g_autoptr(TestServer) server = test_server_new_started ();
  guint16 port = test_server_get_port (server);
  g_autoptr(TestClient) first = test_client_new_registered (port, "pipe");
  g_autofree char *password = test_password_for ("pipe");
  g_autofree char *newcomer_password = test_password_for ("newcomer");
  guint32 ids[4];

  /* Login, then at once a profile and the contacts. */
  {
    g_autoptr(TestClient) client = test_client_connect (port);

    test_client_cork (client);
    ids[0] = send_request (client, VOIP_MSG_LOGIN, g_variant_new ("(ss)", "pipe", password));
    ids[1] = send_request (client, VOIP_MSG_GET_PROFILE, g_variant_new ("(s)", "pipe"));
    ids[2] = send_request (client, VOIP_MSG_CONTACT_LIST, g_variant_new ("()"));
    ids[3] = send_request (client, VOIP_MSG_LOGIN, g_variant_new ("(ss)", "pipe", password));
    uncork (client);
    assert_reply (client, ids[0], VOIP_STATUS_OK);
    assert_reply (client, ids[1], VOIP_STATUS_OK);
    assert_reply (client, ids[2], VOIP_STATUS_OK);
    assert_reply (client, ids[3], VOIP_STATUS_ALREADY_LOGGED_IN);
  }

  /* A failed login: what follows is served as logged out. */
  {
    g_autoptr(TestClient) client = test_client_connect (port);

    test_client_cork (client);
    ids[0] = send_request (client, VOIP_MSG_LOGIN,
                           g_variant_new ("(ss)", "pipe", "not-the-password"));
    ids[1] = send_request (client, VOIP_MSG_GET_PROFILE, g_variant_new ("(s)", "pipe"));
    ids[2] = send_request (client, VOIP_MSG_LOGIN, g_variant_new ("(ss)", "pipe", password));
    ids[3] = send_request (client, VOIP_MSG_GET_PROFILE, g_variant_new ("(s)", "pipe"));
    uncork (client);
    assert_reply (client, ids[0], VOIP_STATUS_BAD_LOGIN);
    assert_reply (client, ids[1], VOIP_STATUS_NOT_LOGGED_IN);
    assert_reply (client, ids[2], VOIP_STATUS_OK);
    assert_reply (client, ids[3], VOIP_STATUS_OK);
  }

  /* Resume. */
  {
    g_autoptr(TestClient) client = test_client_connect (port);

    test_client_cork (client);
    ids[0] = send_request (client, VOIP_MSG_RESUME,
                           g_variant_new ("(ss)", "pipe", test_client_get_token (first)));
    ids[1] = send_request (client, VOIP_MSG_GET_PROFILE, g_variant_new ("(s)", "pipe"));
    uncork (client);
    assert_reply (client, ids[0], VOIP_STATUS_OK);
    assert_reply (client, ids[1], VOIP_STATUS_OK);
  }

  /* Register. */
  {
    g_autoptr(TestClient) client = test_client_connect (port);

    test_client_cork (client);
    ids[0] = send_request (client, VOIP_MSG_REGISTER,
                           g_variant_new ("(sss)", "newcomer", newcomer_password, ""));
    ids[1] = send_request (client, VOIP_MSG_GET_PROFILE, g_variant_new ("(s)", "newcomer"));
    uncork (client);
    assert_reply (client, ids[0], VOIP_STATUS_OK);
    assert_reply (client, ids[1], VOIP_STATUS_OK);
  }

  /* Logout: the next request is not served on the revoked session, and a
   * login behind it works. */
  {
    g_autoptr(TestClient) client = test_client_new_logged_in (port, "pipe", password);

    test_client_cork (client);
    ids[0] = send_request (client, VOIP_MSG_LOGOUT, g_variant_new ("()"));
    ids[1] = send_request (client, VOIP_MSG_GET_PROFILE, g_variant_new ("(s)", "pipe"));
    ids[2] = send_request (client, VOIP_MSG_LOGIN, g_variant_new ("(ss)", "pipe", password));
    ids[3] = send_request (client, VOIP_MSG_CONTACT_LIST, g_variant_new ("()"));
    uncork (client);
    assert_reply (client, ids[0], VOIP_STATUS_OK);
    assert_reply (client, ids[1], VOIP_STATUS_NOT_LOGGED_IN);
    assert_reply (client, ids[2], VOIP_STATUS_OK);
    assert_reply (client, ids[3], VOIP_STATUS_OK);
  }
}

/* ---- a slow session dropped during a fan-out ----------------------------------- */

/* The most a TCP send buffer may grow to (tcp_wmem's maximum): what the
 * server's kernel may hold for a peer that does not read. */
static gsize
send_buffer_max (void)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) fields = NULL;

  if (!g_file_get_contents ("/proc/sys/net/ipv4/tcp_wmem", &text, NULL, NULL))
    return 64 * 1024 * 1024;
  fields = g_strsplit_set (g_strstrip (text), " \t", -1);
  return g_strv_length (fields) > 0 ? g_ascii_strtoull (fields[g_strv_length (fields) - 1],
                                                        NULL, 10)
                                    : 64 * 1024 * 1024;
}

/* User xavier has a session that never reads and a healthy one. A friend
 * floods xavier with 64 KiB PluginSends, more than the kernels on both
 * sides and max-output-queue can hold for the slow session, so that the
 * server drops it during one of them; the healthy session gets every single
 * event, before, at and after the drop, and the server goes on. */
static void
test_slow_session_in_fan_out (void)
{
  g_autoptr(TestServer) server = test_server_new ();
  g_autoptr(TestClient) slow = NULL;
  g_autoptr(TestClient) healthy = NULL;
  g_autoptr(TestClient) friend = NULL;
  const gsize max_output_queue = 256 * 1024;
  gsize absorbed;
  guint n_sends;
  guint16 port;

  g_key_file_set_integer (test_server_get_config (server), "server", "max-output-queue",
                          max_output_queue);
  test_server_start (server);
  port = test_server_get_port (server);
  /* The slow session logs in first: it comes first in xavier's sessions,
   * where dropping it used to shift the healthy one out of the loop. */
  slow = test_client_new_registered (port, "xavier");
  healthy = test_client_new_session (slow);
  friend = test_client_new_registered (port, "friend");
  test_befriend (friend, slow);
  test_client_flush_events (healthy);

  /* Twice what the two kernels may buffer, and the queue, and some more
   * sends to see the healthy session served after the drop. */
  absorbed = 2 * (test_client_set_receive_buffer (slow, 64 * 1024) + send_buffer_max ())
             + max_output_queue;
  n_sends = absorbed / VOIP_PLUGIN_PAYLOAD_MAX + 16;
  g_test_message ("%u PluginSends of 64 KiB", n_sends);
  for (guint i = 0; i < n_sends; i++)
    {
      g_autoptr(GVariant) event = NULL;
      g_autoptr(GVariant) data = NULL;
      guint8 fill = i & 0xff;
      const guint8 *bytes;
      gsize size;

      test_client_call_ok (friend, VOIP_MSG_PLUGIN_SEND,
                           g_variant_new ("(ss@ay)", "xavier", "flood",
                                          bytes_of (VOIP_PLUGIN_PAYLOAD_MAX, fill)));
      event = test_client_expect_event (healthy, VOIP_MSG_PLUGIN_MESSAGE);
      g_variant_get (event, "(&s&s@ay)", NULL, NULL, &data);
      bytes = g_variant_get_fixed_array (data, &size, 1);
      g_assert_cmpuint (size, ==, VOIP_PLUGIN_PAYLOAD_MAX);
      g_assert_cmpuint (bytes[0], ==, fill);
    }

  test_client_assert_ping (healthy);
  test_client_assert_ping (friend);
  test_client_assert_no_event (healthy, VOIP_MSG_PLUGIN_MESSAGE, 0);
  /* The slow session was dropped, without a goodbye. */
  test_client_set_timeout (slow, 60000);
  test_client_expect_closed_maybe_event (slow, VOIP_CLOSE_TOO_SLOW);
}

/* The same with the user's only session: dropping it takes the user
 * offline in the middle of the fan-out (the user's record was freed under
 * the loop, which ASan saw). The friend's PluginSends are answered all
 * along, Ok until the drop, then Offline. */
static void
test_slow_only_session (void)
{
  g_autoptr(TestServer) server = test_server_new ();
  g_autoptr(TestClient) slow = NULL;
  g_autoptr(TestClient) friend = NULL;
  const gsize max_output_queue = 256 * 1024;
  guint n_sends, sent = 0;
  guint status = VOIP_STATUS_OK;
  guint16 port;

  g_key_file_set_integer (test_server_get_config (server), "server", "max-output-queue",
                          max_output_queue);
  test_server_start (server);
  port = test_server_get_port (server);
  slow = test_client_new_registered (port, "yvonne");
  friend = test_client_new_registered (port, "friend");
  test_befriend (friend, slow);

  n_sends = (2 * (test_client_set_receive_buffer (slow, 64 * 1024) + send_buffer_max ())
             + max_output_queue) / VOIP_PLUGIN_PAYLOAD_MAX + 16;
  while (status == VOIP_STATUS_OK && sent < n_sends)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) reply = NULL;

      reply = test_client_request (friend, VOIP_MSG_PLUGIN_SEND,
                                   g_variant_new ("(ss@ay)", "yvonne", "flood",
                                                  bytes_of (VOIP_PLUGIN_PAYLOAD_MAX, 0x33)),
                                   &status, &error);
      g_assert_no_error (error);
      sent++;
    }
  g_test_message ("Offline after %u PluginSends of 64 KiB", sent);
  g_assert_cmpuint (status, ==, VOIP_STATUS_OFFLINE);
  /* The friend saw yvonne go offline, and the server goes on. */
  g_variant_unref (test_client_expect_event (friend, VOIP_MSG_PRESENCE_CHANGED));
  test_client_assert_ping (friend);
  test_client_set_timeout (slow, 60000);
  test_client_expect_closed_maybe_event (slow, VOIP_CLOSE_TOO_SLOW);
}

/* ---- a client that never reads its replies ---------------------------------------- */

/* Pings have tiny replies, answered at once: nothing but the output queue
 * can stop such a client. It must be closed as too slow, not linger. */
static void
test_unread_replies (void)
{
  g_autoptr(TestServer) server = test_server_new ();
  g_autoptr(TestClient) greedy = NULL;
  g_autoptr(TestClient) other = NULL;
  g_autoptr(GByteArray) batch = g_byte_array_new ();
  const gsize max_bytes = 256 * 1024 * 1024;
  gsize sent = 0;
  guint16 port;

  g_key_file_set_integer (test_server_get_config (server), "server", "max-output-queue",
                          64 * 1024);
  test_server_start (server);
  port = test_server_get_port (server);
  greedy = test_client_new_registered (port, "greedy");
  other = test_client_new_registered (port, "other");

  /* 1024 Pings a write, outside the client's bookkeeping (their replies
   * are never waited for). */
  for (guint i = 0; i < 1024; i++)
    {
      g_autoptr(GBytes) frame = voip_frame_encode (VOIP_KIND_REQUEST, VOIP_MSG_PING, 0,
                                                   100000 + i, g_variant_new ("()"));
      gsize size;
      const guint8 *data = g_bytes_get_data (frame, &size);

      g_byte_array_append (batch, data, size);
    }
  while (sent < max_bytes && !test_client_peer_hung_up (greedy))
    {
      g_autoptr(GError) error = NULL;

      if (!test_client_send_raw (greedy, batch->data, batch->len, &error))
        {
          g_test_message ("send failed after %" G_GSIZE_FORMAT " bytes: %s", sent,
                          error->message);
          break;
        }
      sent += batch->len;
    }
  g_test_message ("%" G_GSIZE_FORMAT " bytes of Pings sent", sent);

  test_client_set_timeout (greedy, 60000);
  test_client_expect_closed_maybe_event (greedy, VOIP_CLOSE_TOO_SLOW);
  /* Others were served all along. */
  test_client_assert_ping (other);
}

/* ---- shutdown ----------------------------------------------------------------------- */

/* Requests in flight at SIGTERM: each gets its reply, in order — its result,
 * or ShuttingDown once the server no longer serves — then SessionClosed
 * (shutdown), then the close; the server exits 0. */
static void
test_shutdown_answers_everything (void)
{
  g_autoptr(TestServer) server = test_server_new_started ();
  g_autoptr(TestClient) client = test_client_new_registered (test_server_get_port (server),
                                                             "calm");
  const guint n_requests = 2000;
  guint32 first_id = 0;
  guint served = 0, refused = 0;
  int status = 0;

  test_client_cork (client);
  for (guint i = 0; i < n_requests; i++)
    {
      guint32 id = i % 3 == 0 ? send_request (client, VOIP_MSG_PING, g_variant_new ("()"))
                   : i % 3 == 1 ? send_request (client, VOIP_MSG_CONTACT_LIST,
                                                g_variant_new ("()"))
                   : send_request (client, VOIP_MSG_GET_PROFILE,
                                   g_variant_new ("(s)", "calm"));
      if (first_id == 0)
        first_id = id;
    }
  uncork (client);
  g_assert_true (test_server_stop (server, 30000, &status));
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);

  for (guint i = 0; i < n_requests; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(TestFrame) frame = test_client_next_frame (client, &error);

      g_assert_no_error (error);
      g_assert_cmpuint (frame->header.kind, ==, VOIP_KIND_REPLY);
      g_assert_cmpuint (frame->header.request_id, ==, first_id + i);
      if (frame->header.status == VOIP_STATUS_OK)
        {
          /* Served requests come first: the ones read before the signal. */
          g_assert_cmpuint (refused, ==, 0);
          served++;
        }
      else
        {
          g_assert_cmpuint (frame->header.status, ==, VOIP_STATUS_SHUTTING_DOWN);
          refused++;
        }
    }
  g_test_message ("%u served, %u answered ShuttingDown", served, refused);
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(TestFrame) frame = test_client_next_frame (client, &error);
    guint32 reason;

    g_assert_no_error (error);
    g_assert_cmpuint (frame->header.kind, ==, VOIP_KIND_EVENT);
    g_assert_cmpuint (frame->header.code, ==, VOIP_MSG_SESSION_CLOSED);
    g_variant_get (frame->payload, "(u&s)", &reason, NULL);
    g_assert_cmpuint (reason, ==, VOIP_CLOSE_SHUTDOWN);
  }
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(TestFrame) frame = test_client_next_frame (client, &error);

    g_assert_null (frame);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sessions/pipelined-login", test_pipelined_login);
  g_test_add_func ("/sessions/slow-session-in-fan-out", test_slow_session_in_fan_out);
  g_test_add_func ("/sessions/slow-only-session", test_slow_only_session);
  g_test_add_func ("/sessions/unread-replies", test_unread_replies);
  g_test_add_func ("/sessions/shutdown-answers-everything", test_shutdown_answers_everything);
  return g_test_run ();
}
