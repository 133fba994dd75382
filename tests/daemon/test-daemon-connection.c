/* test-daemon-connection.c — voipd's connection to the server
 * (daemon/voipd-connection.c) against a real voip-server: a cancelled
 * request ends with G_IO_ERROR_CANCELLED from an idle and its reply is
 * dropped; a request the server never answers times out; a second connect
 * cancels the first; a payload too large for a frame is refused without
 * sending anything; and dropping the last reference to the connection from
 * a reply callback is safe (ASan sees the use after free this once was). The
 * silent server is a real listening socket that never answers: a server
 * that hangs. */
#include <string.h>

#include "test-client.h"
#include "test-server.h"
#include "voipd-connection.h"

#define WAIT_MS 30000

typedef struct {
  gboolean  done;
  GVariant *reply;
  GError   *error;
  VoipdConnection **drop;   /* released in the callback when set */
} Result;

static void
result_clear (Result *result)
{
  g_clear_pointer (&result->reply, g_variant_unref);
  g_clear_error (&result->error);
  result->done = FALSE;
}

static void
on_reply (GObject *source, GAsyncResult *async, gpointer user_data)
{
  Result *result = user_data;

  result->reply = voipd_connection_request_finish (VOIPD_CONNECTION (source), async,
                                                   &result->error);
  result->done = TRUE;
  if (result->drop != NULL)
    g_clear_object (result->drop);
}

static void
on_connected (GObject *source, GAsyncResult *async, gpointer user_data)
{
  Result *result = user_data;

  if (voipd_connection_connect_finish (VOIPD_CONNECTION (source), async, &result->error))
    result->reply = g_variant_ref_sink (g_variant_new_boolean (TRUE));
  result->done = TRUE;
}

static gboolean
on_wait_timeout (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
wait_done (Result *result)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (WAIT_MS, on_wait_timeout, &timed_out);

  while (!result->done && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  g_assert_true (result->done);
}

static const VoipdConnectOptions plain = { .tls = FALSE };

static VoipdConnection *
connect_to (const char *address)
{
  VoipdConnection *connection = voipd_connection_new (300);
  Result result = { 0 };

  voipd_connection_connect_async (connection, address, &plain, NULL, on_connected, &result);
  wait_done (&result);
  g_assert_no_error (result.error);
  result_clear (&result);
  return connection;
}

static char *
server_address (TestServer *server)
{
  return g_strdup_printf ("127.0.0.1:%u", test_server_get_port (server));
}

static void
assert_ping (VoipdConnection *connection)
{
  Result result = { 0 };

  voipd_connection_request_async (connection, VOIP_MSG_PING, g_variant_new ("()"), NULL,
                                  on_reply, &result);
  wait_done (&result);
  g_assert_no_error (result.error);
  g_assert_nonnull (result.reply);
  result_clear (&result);
}

static void
on_accepted (GObject *source, GAsyncResult *async, gpointer user_data)
{
  GSocketConnection **accepted = user_data;
  g_autoptr(GError) error = NULL;

  *accepted = g_socket_listener_accept_finish (G_SOCKET_LISTENER (source), async, NULL, &error);
  g_assert_no_error (error);
}

/* A connection to a server that accepts and never answers (a hung server):
 * a real listening socket that the test never reads from or writes to. */
static VoipdConnection *
connect_to_silent (GSocketListener *listener, GSocketConnection **accepted)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *address = NULL;
  VoipdConnection *connection = voipd_connection_new (300);
  Result result = { 0 };
  guint16 port;

  port = g_socket_listener_add_any_inet_port (listener, NULL, &error);
  g_assert_no_error (error);
  address = g_strdup_printf ("127.0.0.1:%u", port);
  g_socket_listener_accept_async (listener, NULL, on_accepted, accepted);
  voipd_connection_connect_async (connection, address, &plain, NULL, on_connected, &result);
  wait_done (&result);
  g_assert_no_error (result.error);
  result_clear (&result);
  while (*accepted == NULL)
    g_main_context_iteration (NULL, TRUE);
  return connection;
}

/* ---- tests -------------------------------------------------------------- */

static void
test_cancel (void)
{
  g_autoptr(TestServer) server = test_server_new_started ();
  g_autofree char *address = server_address (server);
  g_autoptr(VoipdConnection) connection = connect_to (address);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GCancellable) already = g_cancellable_new ();
  g_autoptr(GCancellable) hung = g_cancellable_new ();
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GSocketConnection) accepted = NULL;
  g_autoptr(VoipdConnection) silent = connect_to_silent (listener, &accepted);
  Result result = { 0 };

  /* Cancelled while the server says nothing: it ends now, not when (if
   * ever) the server answers. */
  voipd_connection_request_async (silent, VOIP_MSG_PING, g_variant_new ("()"), hung, on_reply,
                                  &result);
  g_cancellable_cancel (hung);
  g_assert_false (result.done);   /* from an idle, never from inside cancel() */
  wait_done (&result);
  g_assert_error (result.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  result_clear (&result);

  /* Cancelled in flight: the server's answer (the name is free, so it
   * would be a success) never reaches the caller. */
  voipd_connection_request_async (connection, VOIP_MSG_REGISTER,
                                  g_variant_new ("(sss)", "cancelled", "some-password", ""),
                                  cancellable, on_reply, &result);
  g_cancellable_cancel (cancellable);
  g_assert_false (result.done);   /* from an idle, never from inside cancel() */
  wait_done (&result);
  g_assert_error (result.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (result.reply);
  result_clear (&result);

  /* Cancelled before it is made: nothing is sent either. */
  g_cancellable_cancel (already);
  voipd_connection_request_async (connection, VOIP_MSG_PING, g_variant_new ("()"), already,
                                  on_reply, &result);
  g_assert_false (result.done);
  wait_done (&result);
  g_assert_error (result.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  result_clear (&result);

  /* The connection goes on, and the late reply was dropped. */
  assert_ping (connection);
  g_assert_true (voipd_connection_is_open (connection));
}

/* A server that accepts and never answers: the request times out. */
static void
test_timeout (void)
{
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GSocketConnection) accepted = NULL;
  g_autoptr(VoipdConnection) connection = connect_to_silent (listener, &accepted);
  Result result = { 0 };

  voipd_connection_set_request_timeout_ms (connection, 200);
  voipd_connection_request_async (connection, VOIP_MSG_PING, g_variant_new ("()"), NULL,
                                  on_reply, &result);
  wait_done (&result);
  g_assert_error (result.error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  result_clear (&result);
}

static void
test_second_connect_cancels_first (void)
{
  g_autoptr(TestServer) server = test_server_new_started ();
  g_autofree char *address = server_address (server);
  g_autoptr(VoipdConnection) connection = voipd_connection_new (300);
  Result first = { 0 }, second = { 0 };

  voipd_connection_connect_async (connection, address, &plain, NULL, on_connected, &first);
  voipd_connection_connect_async (connection, address, &plain, NULL, on_connected, &second);
  wait_done (&first);
  wait_done (&second);
  g_assert_error (first.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_no_error (second.error);
  result_clear (&first);
  result_clear (&second);
  assert_ping (connection);

  /* A close cancels a connect in flight. */
  voipd_connection_connect_async (connection, address, &plain, NULL, on_connected, &first);
  voipd_connection_close (connection);
  wait_done (&first);
  g_assert_error (first.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (voipd_connection_is_open (connection));
  result_clear (&first);
}

static void
test_too_large (void)
{
  g_autoptr(TestServer) server = test_server_new_started ();
  g_autofree char *address = server_address (server);
  g_autoptr(VoipdConnection) connection = connect_to (address);
  gsize size = VOIP_MAX_FRAME_PAYLOAD + 1;
  g_autofree char *huge = g_malloc (size + 1);
  Result result = { 0 };

  memset (huge, 'a', size);
  huge[size] = '\0';
  voipd_connection_request_async (connection, VOIP_MSG_GET_PROFILE,
                                  g_variant_new ("(s)", huge), NULL, on_reply, &result);
  wait_done (&result);
  g_assert_error (result.error, VOIP_ERROR, VOIP_STATUS_TOO_LARGE);
  result_clear (&result);
  assert_ping (connection);
}

static void
on_event_drop (VoipdConnection *connection, guint code, GVariant *payload, gpointer user_data)
{
  VoipdConnection **slot = user_data;

  /* The handler drops the only reference, in the middle of the reading of
   * the frame that carried the event. */
  g_clear_object (slot);
}

static void
test_unref_in_callback (void)
{
  g_autoptr(TestServer) server = test_server_new_started ();
  g_autofree char *address = server_address (server);
  VoipdConnection *connection = connect_to (address);
  g_autoptr(TestClient) asker = test_client_connect (test_server_get_port (server));
  Result result = { 0 };
  gboolean timed_out = FALSE;
  guint id;

  voipd_connection_request_async (connection, VOIP_MSG_REGISTER,
                                  g_variant_new ("(sss)", "dropper", "dropper-password", ""),
                                  NULL, on_reply, &result);
  wait_done (&result);
  g_assert_no_error (result.error);
  result_clear (&result);
  g_signal_connect (connection, "event", G_CALLBACK (on_event_drop), &connection);

  /* Someone asks dropper to be friends: an event on the connection. */
  test_client_call_ok (asker, VOIP_MSG_REGISTER,
                       g_variant_new ("(sss)", "asker", "asker-password", ""));
  test_client_call_ok (asker, VOIP_MSG_CONTACT_REQUEST, g_variant_new ("(s)", "dropper"));
  id = g_timeout_add (WAIT_MS, on_wait_timeout, &timed_out);
  while (connection != NULL && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  g_assert_null (connection);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/daemon/connection/cancel", test_cancel);
  g_test_add_func ("/daemon/connection/timeout", test_timeout);
  g_test_add_func ("/daemon/connection/second-connect-cancels-first",
                   test_second_connect_cancels_first);
  g_test_add_func ("/daemon/connection/too-large", test_too_large);
  g_test_add_func ("/daemon/connection/unref-in-callback", test_unref_in_callback);
  return g_test_run ();
}
