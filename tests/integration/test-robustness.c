/* test-robustness.c — bad input, slow clients and timeouts (PROTOCOL.md,
 * "Strict decoding and errors"). Each misbehaving connection runs next to a
 * well-behaved, logged-in one that must keep being served. */
#include <string.h>

#include "test-client.h"
#include "test-server.h"

typedef struct {
  TestServer *server;
  guint16     port;
  TestClient *good;    /* logged in, well-behaved */
  TestClient *bad;     /* connected, not logged in */
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  f->server = test_server_new_started ();
  f->port = test_server_get_port (f->server);
  f->good = test_client_new_registered (f->port, "good");
  f->bad = test_client_connect (f->port);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  /* The server survived, and still serves the good client. */
  if (f->good != NULL)
    {
      test_client_assert_ping (f->good);
      test_client_call_ok (f->good, VOIP_MSG_CONTACT_LIST, g_variant_new ("()"));
      g_assert_true (test_server_is_running (f->server));
    }
  g_clear_pointer (&f->good, test_client_free);
  g_clear_pointer (&f->bad, test_client_free);
  g_clear_pointer (&f->server, test_server_free);
}

static void
send_header (TestClient *client, guint16 magic, guint8 version, guint8 kind, guint16 code,
             guint32 length)
{
  g_autoptr(GError) error = NULL;
  VoipHeader header = {
    .magic = magic, .version = version, .kind = kind, .code = code,
    .status = 0, .request_id = 1, .length = length,
  };
  guint8 bytes[VOIP_HEADER_SIZE];

  voip_header_write (&header, bytes);
  test_client_send_raw (client, bytes, sizeof bytes, &error);
  g_assert_no_error (error);
}

/* A request frame with the payload bytes of `value` (any type). */
static void
send_request_bytes (TestClient *client, guint16 code, guint32 request_id,
                    const void *payload, gsize len)
{
  g_autoptr(GError) error = NULL;

  test_client_send_frame_raw (client, VOIP_KIND_REQUEST, code, request_id, payload, len, &error);
  g_assert_no_error (error);
}

static void
send_request_variant (TestClient *client, guint16 code, guint32 request_id, GVariant *value)
{
  g_autoptr(GVariant) owned = g_variant_ref_sink (value);

  send_request_bytes (client, code, request_id, g_variant_get_data (owned),
                      g_variant_get_size (owned));
}

/* The reply to request_id must be an error with `status`. */
static void
expect_error_reply (TestClient *client, guint32 request_id, guint status)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  guint got = 0;

  reply = test_client_wait_reply (client, request_id, &got, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (voip_status_name (got), ==, voip_status_name (status));
  g_assert_true (g_variant_is_of_type (reply, G_VARIANT_TYPE ("(s)")));
}

/* ---- connection-fatal input -------------------------------------------- */

static void
test_garbage (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  const char garbage[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";

  test_client_send_raw (f->bad, garbage, sizeof garbage - 1, &error);
  g_assert_no_error (error);
  test_client_expect_closed_maybe_event (f->bad, VOIP_CLOSE_PROTOCOL_ERROR);
}

static void
test_bad_magic (Fixture *f, gconstpointer data)
{
  send_header (f->bad, 0x1338, VOIP_PROTOCOL_VERSION, VOIP_KIND_REQUEST, VOIP_MSG_PING, 1);
  test_client_send_raw (f->bad, "", 1, NULL);
  test_client_expect_closed_maybe_event (f->bad, VOIP_CLOSE_PROTOCOL_ERROR);
}

static void
test_bad_version (Fixture *f, gconstpointer data)
{
  send_header (f->bad, VOIP_PROTOCOL_MAGIC, 2, VOIP_KIND_REQUEST, VOIP_MSG_PING, 1);
  test_client_send_raw (f->bad, "", 1, NULL);
  test_client_expect_closed_maybe_event (f->bad, VOIP_CLOSE_PROTOCOL_ERROR);
}

static void
test_bad_kind (Fixture *f, gconstpointer data)
{
  g_autoptr(TestClient) zero = test_client_connect (f->port);

  send_header (f->bad, VOIP_PROTOCOL_MAGIC, VOIP_PROTOCOL_VERSION, 4, VOIP_MSG_PING, 1);
  test_client_send_raw (f->bad, "", 1, NULL);
  test_client_expect_closed_maybe_event (f->bad, VOIP_CLOSE_PROTOCOL_ERROR);

  send_header (zero, VOIP_PROTOCOL_MAGIC, VOIP_PROTOCOL_VERSION, 0, VOIP_MSG_PING, 1);
  test_client_send_raw (zero, "", 1, NULL);
  test_client_expect_closed_maybe_event (zero, VOIP_CLOSE_PROTOCOL_ERROR);
}

/* Clients send requests only: a reply or an event from one is fatal,
 * logged in or not. */
static void
test_client_sends_reply_or_event (Fixture *f, gconstpointer data)
{
  g_autoptr(TestClient) logged_in = test_client_new_registered (f->port, "sender");
  g_autoptr(GError) error = NULL;
  const guint8 unit = 0;
  g_autoptr(GVariant) presence = g_variant_ref_sink (g_variant_new ("(su)", "good", 1));

  test_client_send_frame_raw (f->bad, VOIP_KIND_REPLY, VOIP_MSG_PING, 1, &unit, 1, &error);
  g_assert_no_error (error);
  test_client_expect_closed_maybe_event (f->bad, VOIP_CLOSE_PROTOCOL_ERROR);

  test_client_send_frame_raw (logged_in, VOIP_KIND_EVENT, VOIP_MSG_PRESENCE_CHANGED, 0,
                              g_variant_get_data (presence), g_variant_get_size (presence),
                              &error);
  g_assert_no_error (error);
  test_client_expect_closed_maybe_event (logged_in, VOIP_CLOSE_PROTOCOL_ERROR);
}

static void
test_oversized_length (Fixture *f, gconstpointer data)
{
  /* Only the header: the server must not wait for a megabyte. */
  send_header (f->bad, VOIP_PROTOCOL_MAGIC, VOIP_PROTOCOL_VERSION, VOIP_KIND_REQUEST,
               VOIP_MSG_PING, VOIP_MAX_FRAME_PAYLOAD + 1);
  test_client_expect_closed_maybe_event (f->bad, VOIP_CLOSE_PROTOCOL_ERROR);
}

/* A frame cut short by the client going away is no problem for the server. */
static void
test_truncated (Fixture *f, gconstpointer data)
{
  g_autoptr(TestClient) half_header = test_client_connect (f->port);
  g_autoptr(TestClient) half_payload = test_client_new_registered (f->port, "halfway");
  g_autoptr(GVariant) login = g_variant_ref_sink (g_variant_new ("(ss)", "good", "password-good"));
  VoipHeader header = {
    .magic = VOIP_PROTOCOL_MAGIC, .version = VOIP_PROTOCOL_VERSION,
    .kind = VOIP_KIND_REQUEST, .code = VOIP_MSG_LOGIN, .request_id = 1,
    .length = g_variant_get_size (login),
  };
  guint8 bytes[VOIP_HEADER_SIZE];

  voip_header_write (&header, bytes);
  test_client_send_raw (half_header, bytes, 7, NULL);
  test_client_assert_ping (f->good);
  test_client_close (half_header);

  test_client_send_raw (f->bad, bytes, sizeof bytes, NULL);
  test_client_send_raw (f->bad, g_variant_get_data (login), 5, NULL);
  test_client_assert_ping (f->good);
  test_client_close (f->bad);

  /* A logged-in client going away mid-frame. */
  header.code = VOIP_MSG_SEND_TEXT;
  header.length = 4000;
  voip_header_write (&header, bytes);
  test_client_send_raw (half_payload, bytes, sizeof bytes, NULL);
  test_client_send_raw (half_payload, "good\0\0\0\0", 8, NULL);
  test_client_assert_ping (f->good);
  test_client_close (half_payload);
  test_client_assert_ping (f->good);
}

/* ---- input answered with an error reply --------------------------------- */

static void
test_wrong_type (Fixture *f, gconstpointer data)
{
  /* A Login payload that is a (u), an (s) and a (sss). */
  send_request_variant (f->bad, VOIP_MSG_LOGIN, 1, g_variant_new ("(u)", 7));
  expect_error_reply (f->bad, 1, VOIP_STATUS_MALFORMED);
  send_request_variant (f->bad, VOIP_MSG_LOGIN, 2, g_variant_new ("(s)", "good"));
  expect_error_reply (f->bad, 2, VOIP_STATUS_MALFORMED);
  send_request_variant (f->bad, VOIP_MSG_LOGIN, 3, g_variant_new ("(sss)", "good", "a", "b"));
  expect_error_reply (f->bad, 3, VOIP_STATUS_MALFORMED);
  /* A logged-in client too. */
  send_request_variant (f->good, VOIP_MSG_SET_PRESENCE, 100, g_variant_new ("(s)", "away"));
  expect_error_reply (f->good, 100, VOIP_STATUS_MALFORMED);
  /* The connection stays usable. */
  test_client_assert_ping (f->bad);
  test_client_call_ok (f->bad, VOIP_MSG_LOGIN, g_variant_new ("(ss)", "good", "password-good"));
}

static void
test_not_normal (Fixture *f, gconstpointer data)
{
  static const guint8 five_byte_u[5] = { 1, 0, 0, 0, 0 };
  static const guint8 no_nul[] = "bob\0x";
  /* "(ss)" is "good\0" "password-good\0" then the framing offset of the
   * first string's end (5); 9 points into the second string. */
  static const guint8 bad_offset[] = "good\0password-good\0\x09";

  /* Ping's () is one zero byte, not zero bytes or two. */
  send_request_bytes (f->bad, VOIP_MSG_PING, 1, NULL, 0);
  expect_error_reply (f->bad, 1, VOIP_STATUS_MALFORMED);
  send_request_bytes (f->bad, VOIP_MSG_PING, 2, "\0\0", 2);
  expect_error_reply (f->bad, 2, VOIP_STATUS_MALFORMED);
  /* A non-zero padding byte in (): */
  send_request_bytes (f->bad, VOIP_MSG_PING, 3, "\1", 1);
  expect_error_reply (f->bad, 3, VOIP_STATUS_MALFORMED);
  send_request_bytes (f->good, VOIP_MSG_SET_PRESENCE, 101, five_byte_u, sizeof five_byte_u);
  expect_error_reply (f->good, 101, VOIP_STATUS_MALFORMED);
  send_request_bytes (f->good, VOIP_MSG_CONTACT_REQUEST, 102, no_nul, sizeof no_nul - 1);
  expect_error_reply (f->good, 102, VOIP_STATUS_MALFORMED);
  send_request_bytes (f->bad, VOIP_MSG_LOGIN, 4, bad_offset, sizeof bad_offset - 1);
  expect_error_reply (f->bad, 4, VOIP_STATUS_MALFORMED);
  test_client_assert_ping (f->bad);
  /* Nothing happened: bad is still logged out. */
  test_client_call_fails (f->bad, VOIP_MSG_CONTACT_LIST, g_variant_new ("()"),
                          VOIP_STATUS_NOT_LOGGED_IN);
}

static void
test_invalid_utf8 (Fixture *f, gconstpointer data)
{
  g_autoptr(TestClient) other = test_client_new_registered (f->port, "other");
  static const guint8 bad_name[] = "g\xffod";  /* "(s)": the string and its nul */
  /* SendText "(stss)": recipient "other", group 0, client_id "c1", text "\xc3\x28" */
  g_autoptr(GVariant) good_text = g_variant_ref_sink (
    g_variant_new ("(stss)", "other", (guint64) 0, "c1", "AB"));
  g_autofree guint8 *bad_text = g_memdup2 (g_variant_get_data (good_text),
                                           g_variant_get_size (good_text));
  gsize size = g_variant_get_size (good_text);
  guint8 *text;

  test_befriend (f->good, other);
  send_request_bytes (f->good, VOIP_MSG_CONTACT_REQUEST, 200, bad_name, sizeof bad_name);
  expect_error_reply (f->good, 200, VOIP_STATUS_MALFORMED);

  /* Corrupt "AB" into an invalid UTF-8 sequence, same length. */
  text = memmem (bad_text, size, "AB", 3);
  g_assert_nonnull (text);
  text[0] = 0xc3;
  text[1] = 0x28;
  send_request_bytes (f->good, VOIP_MSG_SEND_TEXT, 201, bad_text, size);
  expect_error_reply (f->good, 201, VOIP_STATUS_MALFORMED);
  test_client_assert_no_event (other, VOIP_MSG_MESSAGE_RECEIVED, 0);
}

static void
test_unknown_code (Fixture *f, gconstpointer data)
{
  static const guint8 unit = 0;
  g_autoptr(GVariant) presence = g_variant_ref_sink (g_variant_new ("(su)", "good", 1));

  send_request_bytes (f->bad, 999, 1, &unit, 1);
  expect_error_reply (f->bad, 1, VOIP_STATUS_UNKNOWN_MESSAGE);
  /* A free code of the call range. */
  send_request_bytes (f->bad, 90, 2, &unit, 1);
  expect_error_reply (f->bad, 2, VOIP_STATUS_UNKNOWN_MESSAGE);
  /* An event's code used as a request. */
  send_request_bytes (f->good, VOIP_MSG_PRESENCE_CHANGED, 300,
                      g_variant_get_data (presence), g_variant_get_size (presence));
  expect_error_reply (f->good, 300, VOIP_STATUS_UNKNOWN_MESSAGE);
  test_client_assert_ping (f->bad);
}

/* Pipelined requests are answered in order (the test client checks). */
static void
test_pipelining (Fixture *f, gconstpointer data)
{
  guint32 ids[64];

  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    {
      GVariant *payload = i % 2 ? g_variant_new ("()") : g_variant_new ("(s)", "good");

      ids[i] = test_client_send_request (f->good, i % 2 ? VOIP_MSG_PING : VOIP_MSG_GET_PROFILE,
                                         payload, NULL);
      g_assert_cmpuint (ids[i], !=, 0);
    }
  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) reply = NULL;
      guint status = 1;

      reply = test_client_wait_reply (f->good, ids[i], &status, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (status, ==, VOIP_STATUS_OK);
    }
}

/* ---- slow clients and timeouts ----------------------------------------- */

/* A client that floods requests for big replies and never reads is cut off
 * (too-slow); others are not held up by it. */
static void
test_slow_client (void)
{
  g_autoptr(TestServer) server = test_server_new ();
  g_autoptr(TestClient) slow = NULL;
  g_autoptr(TestClient) watcher = NULL;
  g_autoptr(GVariant) presence = NULL;
  GVariantBuilder fields;
  guint16 port;
  const guint n_requests = 200;

  g_key_file_set_integer (test_server_get_config (server), "server", "max-output-queue",
                          1024 * 1024);
  test_server_start (server);
  port = test_server_get_port (server);
  slow = test_client_new_registered (port, "slow");
  watcher = test_client_new_registered (port, "watcher");
  test_befriend (watcher, slow);

  /* A 200 KiB avatar makes each GetProfile reply that big. */
  g_variant_builder_init (&fields, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&fields, "{sv}", "avatar", test_png_new (200 * 1024));
  test_client_call_ok (slow, VOIP_MSG_SET_PROFILE, g_variant_new ("(a{sv})", &fields));

  /* 200 × 200 KiB = 40 MiB of replies, far beyond socket buffers and the
   * 1 MiB queue; the requests themselves are small. */
  for (guint i = 0; i < n_requests; i++)
    {
      g_autoptr(GError) error = NULL;

      if (test_client_send_request (slow, VOIP_MSG_GET_PROFILE, g_variant_new ("(s)", "slow"),
                                    &error) == 0)
        {
          /* The server stopped reading, or closed: both are fine. */
          g_test_message ("request %u not sent: %s", i, error->message);
          break;
        }
    }

  /* Meanwhile the watcher is served; and it learns that slow went offline
   * once the server cuts it off. Nothing of slow's socket is read yet. */
  test_client_set_timeout (watcher, 60000);
  for (guint i = 0; i < 5; i++)
    test_client_assert_ping (watcher);
  presence = test_client_expect_event (watcher, VOIP_MSG_PRESENCE_CHANGED);
  g_assert_true (g_variant_is_of_type (presence, G_VARIANT_TYPE ("(su)")));
  {
    const char *username;
    guint32 value;

    g_variant_get (presence, "(&su)", &username, &value);
    g_assert_cmpstr (username, ==, "slow");
    g_assert_cmpuint (value, ==, VOIP_PRESENCE_OFFLINE);
  }
  test_client_call_ok (watcher, VOIP_MSG_CONTACT_LIST, g_variant_new ("()"));

  /* Now read what slow got: the connection ends, with too-slow if told. */
  test_client_set_timeout (slow, 60000);
  test_client_expect_closed_maybe_event (slow, VOIP_CLOSE_TOO_SLOW);
}

static void
test_login_timeout (void)
{
  g_autoptr(TestServer) server = test_server_new ();
  g_autoptr(TestClient) idle = NULL;
  g_autoptr(TestClient) pinging = NULL;
  g_autoptr(TestClient) good = NULL;
  guint16 port;

  g_key_file_set_integer (test_server_get_config (server), "server", "login-timeout", 1);
  test_server_start (server);
  port = test_server_get_port (server);
  idle = test_client_connect (port);
  pinging = test_client_connect (port);
  good = test_client_new_registered (port, "good");

  /* Pings do not stand in for a login. */
  test_client_assert_ping (pinging);
  test_client_expect_closed (idle, VOIP_CLOSE_LOGIN_TIMEOUT);
  test_client_expect_closed (pinging, VOIP_CLOSE_LOGIN_TIMEOUT);

  /* The logged-in client stays. */
  test_client_assert_ping (good);
  test_client_assert_no_event (good, VOIP_MSG_SESSION_CLOSED, 0);
  g_assert_false (test_client_is_closed (good));
}

static void
test_idle_timeout (void)
{
  g_autoptr(TestServer) server = test_server_new ();
  g_autoptr(TestClient) silent = NULL;
  g_autoptr(TestClient) chatty = NULL;
  g_autoptr(TestClient) anonymous = NULL;
  guint16 port;

  g_key_file_set_integer (test_server_get_config (server), "server", "idle-timeout", 2);
  test_server_start (server);
  port = test_server_get_port (server);
  silent = test_client_new_registered (port, "silent");
  chatty = test_client_new_registered (port, "chatty");

  /* chatty pings every 100 ms (a 20× margin) while silent says nothing. */
  for (guint i = 0; i < 600 && !test_client_is_closed (silent); i++)
    {
      test_client_assert_ping (chatty);
      test_client_wait_closed (silent, 100);
    }
  test_client_expect_closed (silent, VOIP_CLOSE_IDLE);
  for (guint i = 0; i < 30; i++)
    {
      test_client_assert_ping (chatty);
      g_usleep (100 * 1000);
    }
  g_assert_false (test_client_is_closed (chatty));
  test_client_call_ok (chatty, VOIP_MSG_CONTACT_LIST, g_variant_new ("()"));

  /* The session is gone, its token is not. */
  anonymous = test_client_connect (port);
  test_client_call_ok (anonymous, VOIP_MSG_RESUME,
                       g_variant_new ("(ss)", "silent", test_client_get_token (silent)));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/robustness/garbage", test_garbage);
  ADD ("/robustness/bad-magic", test_bad_magic);
  ADD ("/robustness/bad-version", test_bad_version);
  ADD ("/robustness/bad-kind", test_bad_kind);
  ADD ("/robustness/client-sends-reply-or-event", test_client_sends_reply_or_event);
  ADD ("/robustness/oversized-length", test_oversized_length);
  ADD ("/robustness/truncated", test_truncated);
  ADD ("/robustness/wrong-type", test_wrong_type);
  ADD ("/robustness/not-normal", test_not_normal);
  ADD ("/robustness/invalid-utf8", test_invalid_utf8);
  ADD ("/robustness/unknown-code", test_unknown_code);
  ADD ("/robustness/pipelining", test_pipelining);
#undef ADD
  g_test_add_func ("/robustness/slow-client", test_slow_client);
  g_test_add_func ("/robustness/login-timeout", test_login_timeout);
  g_test_add_func ("/robustness/idle-timeout", test_idle_timeout);
  return g_test_run ();
}
