/* test-client.c — a small synchronous protocol client for tests. */
#define G_LOG_DOMAIN "test-client"

#include <poll.h>
#include <sys/socket.h>
#include <string.h>

#include "test-client.h"

typedef struct {
  guint32 request_id;
  guint16 code;
} PendingRequest;

struct _TestClient {
  GSocket         *socket;
  VoipFrameReader *reader;
  guint16          port;
  guint            timeout_ms;
  gboolean         closed;        /* the server closed (or reset) the connection */

  guint32          next_request_id;
  GQueue           pending;       /* PendingRequest*, in the order sent */
  GHashTable      *replies;       /* request id → TestFrame*, arrived, not yet taken */
  GQueue           events;        /* TestFrame*, arrived, not yet taken */
  GByteArray      *corked;        /* bytes held for one write, while corked */

  char            *username;
  char            *password;
  char            *token;
};

/* ---- helpers ------------------------------------------------------------ */

static void G_GNUC_PRINTF (4, 5)
fail_at (const char *file, int line, const char *func, const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_assertion_message (G_LOG_DOMAIN, file, line, func, message);
}

static const char *
message_name (guint code)
{
  const VoipMessageSpec *spec = voip_catalogue_lookup (code);
  return spec ? spec->name : "UnknownCode";
}

void
test_frame_free (TestFrame *frame)
{
  if (frame == NULL)
    return;
  g_clear_pointer (&frame->payload, g_variant_unref);
  g_free (frame);
}

static gint64
deadline_after (guint timeout_ms)
{
  return g_get_monotonic_time () + (gint64) timeout_ms * 1000;
}

/* Reads one frame from the server, waiting until `deadline` (monotonic µs).
 * Returns TRUE with a frame; FALSE with error unset on timeout; FALSE with
 * an error when the connection is closed or the server broke the protocol. */
static gboolean
read_frame (TestClient *client, gint64 deadline, TestFrame **out, GError **error)
{
  for (;;)
    {
      VoipHeader header;
      g_autoptr(GBytes) payload = NULL;
      g_autoptr(GError) local_error = NULL;
      guint8 buffer[65536];
      gssize received;
      gint64 now;

      if (voip_frame_reader_next (client->reader, &header, &payload, &local_error))
        {
          g_autoptr(GVariant) value = voip_payload_decode (&header, payload, &local_error);
          TestFrame *frame;

          if (value == NULL)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "server sent a bad %s frame (kind %u, status %u): %s",
                           message_name (header.code), header.kind, header.status,
                           local_error->message);
              return FALSE;
            }
          if (header.kind != VOIP_KIND_REPLY && header.kind != VOIP_KIND_EVENT)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "server sent a frame of kind %u", header.kind);
              return FALSE;
            }
          if (header.kind == VOIP_KIND_EVENT && (header.request_id != 0 || header.status != 0))
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "server sent a %s event with request id %u and status %u",
                           message_name (header.code), header.request_id, header.status);
              return FALSE;
            }
          frame = g_new0 (TestFrame, 1);
          frame->header = header;
          frame->payload = g_steal_pointer (&value);
          *out = frame;
          return TRUE;
        }
      if (local_error != NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "server sent a bad frame header: %s", local_error->message);
          return FALSE;
        }
      if (client->closed)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                               "the server closed the connection");
          return FALSE;
        }

      now = g_get_monotonic_time ();
      if (now >= deadline)
        return FALSE;
      if (!g_socket_condition_timed_wait (client->socket, G_IO_IN | G_IO_HUP | G_IO_ERR,
                                          deadline - now, NULL, &local_error))
        {
          if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
            return FALSE;
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      received = g_socket_receive (client->socket, (char *) buffer, sizeof buffer,
                                   NULL, &local_error);
      if (received < 0)
        {
          if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)
              || g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
            continue;
          /* A reset (the server closed with our data unread) is a close too. */
          client->closed = TRUE;
        }
      else if (received == 0)
        client->closed = TRUE;
      else
        voip_frame_reader_feed (client->reader, buffer, received);
    }
}

/* Files a frame away: events in the queue, replies by request id. */
static gboolean
store_frame (TestClient *client, TestFrame *frame, GError **error)
{
  g_autoptr(TestFrame) owned = frame;

  if (frame->header.kind == VOIP_KIND_EVENT)
    {
      g_queue_push_tail (&client->events, g_steal_pointer (&owned));
      return TRUE;
    }

  /* A reply: it must answer the oldest request still waiting. */
  for (GList *l = client->pending.head; l != NULL; l = l->next)
    {
      PendingRequest *request = l->data;

      if (request->request_id != frame->header.request_id)
        continue;
      if (l != client->pending.head)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "reply to request %u came before the reply to request %u",
                       request->request_id,
                       ((PendingRequest *) client->pending.head->data)->request_id);
          return FALSE;
        }
      if (request->code != frame->header.code)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "reply to a %s request has code %u (%s)", message_name (request->code),
                       frame->header.code, message_name (frame->header.code));
          return FALSE;
        }
      g_free (g_queue_pop_head (&client->pending));
      break;
    }
  g_hash_table_replace (client->replies, GUINT_TO_POINTER (frame->header.request_id),
                        g_steal_pointer (&owned));
  return TRUE;
}

static GVariant *
take_event (TestClient *client, guint16 code)
{
  for (GList *l = client->events.head; l != NULL; l = l->next)
    {
      TestFrame *frame = l->data;

      if (frame->header.code == code)
        {
          GVariant *payload = g_steal_pointer (&frame->payload);

          g_queue_delete_link (&client->events, l);
          test_frame_free (frame);
          return payload;
        }
    }
  return NULL;
}

/* ---- connection --------------------------------------------------------- */

/* port → its twin's port (GUINT_TO_POINTER), and the turn of each port. */
static GMutex      twin_lock;
static GHashTable *twin_ports;
static GHashTable *twin_turns;

void
test_client_set_twin_port (guint16 port, guint16 twin_port)
{
  g_mutex_lock (&twin_lock);
  if (twin_ports == NULL)
    {
      twin_ports = g_hash_table_new (NULL, NULL);
      twin_turns = g_hash_table_new (NULL, NULL);
    }
  g_hash_table_insert (twin_ports, GUINT_TO_POINTER (port), GUINT_TO_POINTER (twin_port));
  g_mutex_unlock (&twin_lock);
}

/* Every other connection to a port with a twin goes to the twin. */
static guint16
port_in_turn (guint16 port)
{
  guint16 chosen = port;

  g_mutex_lock (&twin_lock);
  if (twin_ports != NULL && g_hash_table_contains (twin_ports, GUINT_TO_POINTER (port)))
    {
      guint turn = GPOINTER_TO_UINT (g_hash_table_lookup (twin_turns, GUINT_TO_POINTER (port)));

      if (turn % 2 == 1)
        chosen = GPOINTER_TO_UINT (g_hash_table_lookup (twin_ports, GUINT_TO_POINTER (port)));
      g_hash_table_insert (twin_turns, GUINT_TO_POINTER (port), GUINT_TO_POINTER (turn + 1));
    }
  g_mutex_unlock (&twin_lock);
  return chosen;
}

TestClient *
test_client_new (guint16 port, GError **error)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  TestClient *client;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_TCP, error);
  if (socket == NULL)
    return NULL;
  address = g_inet_socket_address_new_from_string ("127.0.0.1", port_in_turn (port));
  if (!g_socket_connect (socket, address, NULL, error))
    return NULL;
  /* Blocking, but a send to a server that stopped reading gives up. */
  g_socket_set_blocking (socket, TRUE);
  g_socket_set_timeout (socket, 60);

  client = g_new0 (TestClient, 1);
  client->socket = g_steal_pointer (&socket);
  client->reader = voip_frame_reader_new ();
  client->port = port;
  client->timeout_ms = TEST_CLIENT_DEFAULT_TIMEOUT_MS;
  client->next_request_id = 1;
  g_queue_init (&client->pending);
  g_queue_init (&client->events);
  client->replies = g_hash_table_new_full (NULL, NULL, NULL,
                                           (GDestroyNotify) test_frame_free);
  return client;
}

TestClient *
test_client_connect (guint16 port)
{
  g_autoptr(GError) error = NULL;
  TestClient *client = test_client_new (port, &error);

  g_assert_no_error (error);
  return client;
}

void
test_client_free (TestClient *client)
{
  if (client == NULL)
    return;
  if (client->socket != NULL)
    g_socket_close (client->socket, NULL);
  g_clear_object (&client->socket);
  voip_frame_reader_free (client->reader);
  g_queue_clear_full (&client->pending, g_free);
  g_queue_clear_full (&client->events, (GDestroyNotify) test_frame_free);
  g_hash_table_unref (client->replies);
  g_clear_pointer (&client->corked, g_byte_array_unref);
  g_free (client->username);
  g_free (client->password);
  g_free (client->token);
  g_free (client);
}

void
test_client_set_timeout (TestClient *client, guint timeout_ms)
{
  client->timeout_ms = timeout_ms;
}

void
test_client_close (TestClient *client)
{
  g_socket_close (client->socket, NULL);
  client->closed = TRUE;
}

const char *
test_client_get_username (TestClient *client)
{
  return client->username;
}

const char *
test_client_get_password (TestClient *client)
{
  return client->password;
}

const char *
test_client_get_token (TestClient *client)
{
  return client->token;
}

guint16
test_client_get_port (TestClient *client)
{
  return client->port;
}

/* ---- requests ----------------------------------------------------------- */

gboolean
test_client_send_raw (TestClient *client, const void *data, gsize len, GError **error)
{
  const char *bytes = data;
  gsize sent = 0;

  if (client->corked != NULL)
    {
      g_byte_array_append (client->corked, data, len);
      return TRUE;
    }
  while (sent < len)
    {
      gssize n = g_socket_send (client->socket, bytes + sent, len - sent, NULL, error);

      if (n < 0)
        return FALSE;
      sent += n;
    }
  return TRUE;
}

void
test_client_cork (TestClient *client)
{
  g_return_if_fail (client->corked == NULL);
  client->corked = g_byte_array_new ();
}

gboolean
test_client_uncork (TestClient *client, GError **error)
{
  g_autoptr(GByteArray) corked = g_steal_pointer (&client->corked);

  g_return_val_if_fail (corked != NULL, FALSE);
  return test_client_send_raw (client, corked->data, corked->len, error);
}

gboolean
test_client_send_frame_raw (TestClient *client, guint8 kind, guint16 code,
                            guint32 request_id, const void *payload, gsize len,
                            GError **error)
{
  VoipHeader header = {
    .magic = VOIP_PROTOCOL_MAGIC, .version = VOIP_PROTOCOL_VERSION,
    .kind = kind, .code = code, .status = 0,
    .request_id = request_id, .length = len,
  };
  g_autofree guint8 *frame = g_malloc (VOIP_HEADER_SIZE + len);

  voip_header_write (&header, frame);
  if (len > 0)
    memcpy (frame + VOIP_HEADER_SIZE, payload, len);
  if (kind == VOIP_KIND_REQUEST)
    {
      PendingRequest *request = g_new0 (PendingRequest, 1);

      request->request_id = request_id;
      request->code = code;
      g_queue_push_tail (&client->pending, request);
    }
  return test_client_send_raw (client, frame, VOIP_HEADER_SIZE + len, error);
}

guint32
test_client_send_request (TestClient *client, guint16 code, GVariant *payload, GError **error)
{
  g_autoptr(GBytes) frame = NULL;
  PendingRequest *request;
  guint32 request_id = client->next_request_id++;

  frame = voip_frame_encode (VOIP_KIND_REQUEST, code, 0, request_id, payload);
  request = g_new0 (PendingRequest, 1);
  request->request_id = request_id;
  request->code = code;
  g_queue_push_tail (&client->pending, request);
  if (!test_client_send_raw (client, g_bytes_get_data (frame, NULL),
                             g_bytes_get_size (frame), error))
    return 0;
  return request_id;
}

GVariant *
test_client_wait_reply (TestClient *client, guint32 request_id, guint *status_out,
                        GError **error)
{
  gint64 deadline = deadline_after (client->timeout_ms);

  for (;;)
    {
      gpointer key, value;
      TestFrame *frame = NULL;
      GError *local_error = NULL;

      if (g_hash_table_steal_extended (client->replies, GUINT_TO_POINTER (request_id),
                                       &key, &value))
        {
          g_autoptr(TestFrame) reply = value;

          if (status_out != NULL)
            *status_out = reply->header.status;
          return g_steal_pointer (&reply->payload);
        }
      if (!read_frame (client, deadline, &frame, &local_error))
        {
          if (local_error == NULL)
            g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                         "no reply to request %u within %u ms", request_id,
                         client->timeout_ms);
          else
            g_propagate_error (error, local_error);
          return NULL;
        }
      if (!store_frame (client, frame, error))
        return NULL;
    }
}

GVariant *
test_client_request (TestClient *client, guint16 code, GVariant *payload,
                     guint *status_out, GError **error)
{
  guint32 request_id = test_client_send_request (client, code, payload, error);

  if (request_id == 0)
    return NULL;
  return test_client_wait_reply (client, request_id, status_out, error);
}

GVariant *
test_client_call_full (TestClient *client, guint16 code, GVariant *payload,
                       guint expected_status, const char *file, int line, const char *func)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  guint status = 0;

  reply = test_client_request (client, code, payload, &status, &error);
  if (reply == NULL)
    {
      fail_at (file, line, func, "%s: %s", message_name (code), error->message);
      return NULL;
    }
  if (status != expected_status)
    {
      g_autofree char *text = g_variant_print (reply, FALSE);

      fail_at (file, line, func, "%s: expected status %u %s, got %u %s with %s",
               message_name (code), expected_status, voip_status_name (expected_status),
               status, voip_status_name (status), text);
    }
  return g_steal_pointer (&reply);
}

gboolean
test_client_ping (TestClient *client, GError **error)
{
  g_autoptr(GVariant) reply = NULL;
  guint status = 0;

  reply = test_client_request (client, VOIP_MSG_PING, g_variant_new ("()"), &status, error);
  if (reply == NULL)
    return FALSE;
  if (status != VOIP_STATUS_OK)
    {
      g_set_error (error, VOIP_ERROR, status, "Ping failed with %s",
                   voip_status_name (status));
      return FALSE;
    }
  return TRUE;
}

/* ---- events ------------------------------------------------------------- */

GVariant *
test_client_wait_event (TestClient *client, guint16 code, guint timeout_ms)
{
  gint64 deadline = deadline_after (timeout_ms);

  for (;;)
    {
      g_autoptr(GError) error = NULL;
      GVariant *payload = take_event (client, code);
      TestFrame *frame = NULL;

      if (payload != NULL)
        return payload;
      if (!read_frame (client, deadline, &frame, &error))
        {
          if (error != NULL
              && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED))
            g_error ("waiting for %s: %s", message_name (code), error->message);
          return NULL;
        }
      if (!store_frame (client, frame, &error))
        g_error ("waiting for %s: %s", message_name (code), error->message);
    }
}

GVariant *
test_client_expect_event_full (TestClient *client, guint16 code,
                               const char *file, int line, const char *func)
{
  GVariant *payload = test_client_wait_event (client, code, client->timeout_ms);

  if (payload == NULL)
    fail_at (file, line, func, "%s%s: no %s event within %u ms",
             client->username ? "user " : "", client->username ? client->username : "",
             message_name (code), client->timeout_ms);
  return payload;
}

void
test_client_assert_no_event_full (TestClient *client, guint16 code, guint ms,
                                  const char *file, int line, const char *func)
{
  g_autoptr(GVariant) payload = NULL;

  if (ms > 0)
    payload = test_client_wait_event (client, code, ms);
  if (payload == NULL && !client->closed)
    {
      g_autoptr(GError) error = NULL;

      /* Events queued before the Ping arrive before its reply. */
      if (!test_client_ping (client, &error)
          && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED))
        fail_at (file, line, func, "Ping: %s", error->message);
      payload = take_event (client, code);
    }
  if (payload != NULL)
    {
      g_autofree char *text = g_variant_print (payload, FALSE);

      fail_at (file, line, func, "%s%s: unexpected %s event %s",
               client->username ? "user " : "", client->username ? client->username : "",
               message_name (code), text);
    }
}

void
test_client_flush_events (TestClient *client)
{
  if (!client->closed)
    test_client_ping (client, NULL);
  g_queue_clear_full (&client->events, (GDestroyNotify) test_frame_free);
}

guint
test_client_count_events (TestClient *client, guint16 code)
{
  guint count = 0;

  for (GList *l = client->events.head; l != NULL; l = l->next)
    if (((TestFrame *) l->data)->header.code == code)
      count++;
  return count;
}

/* ---- connection state --------------------------------------------------- */

gboolean
test_client_peer_hung_up (TestClient *client)
{
  struct pollfd pfd = { .fd = g_socket_get_fd (client->socket), .events = POLLRDHUP };

  if (client->closed)
    return TRUE;
  return poll (&pfd, 1, 0) == 1 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

gsize
test_client_set_receive_buffer (TestClient *client, gsize bytes)
{
  g_autoptr(GError) error = NULL;
  int size = 0;

  if (!g_socket_set_option (client->socket, SOL_SOCKET, SO_RCVBUF, (int) bytes, &error)
      || !g_socket_get_option (client->socket, SOL_SOCKET, SO_RCVBUF, &size, &error))
    g_error ("SO_RCVBUF: %s", error->message);
  return size;
}

TestFrame *
test_client_next_frame (TestClient *client, GError **error)
{
  TestFrame *frame = NULL;
  GError *local_error = NULL;

  g_return_val_if_fail (client->events.length == 0 && g_hash_table_size (client->replies) == 0,
                        NULL);
  if (read_frame (client, deadline_after (client->timeout_ms), &frame, &local_error))
    return frame;
  if (local_error == NULL)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "no frame within %u ms",
                 client->timeout_ms);
  else
    g_propagate_error (error, local_error);
  return NULL;
}

gboolean
test_client_wait_closed (TestClient *client, guint timeout_ms)
{
  gint64 deadline = deadline_after (timeout_ms);

  while (!client->closed)
    {
      g_autoptr(GError) error = NULL;
      TestFrame *frame = NULL;

      if (!read_frame (client, deadline, &frame, &error))
        {
          if (error == NULL)
            return FALSE;  /* timed out */
          if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED))
            {
              /* The stream is broken; the server closing it is what we wait for. */
              g_test_message ("while waiting for the close: %s", error->message);
              voip_frame_reader_free (client->reader);
              client->reader = voip_frame_reader_new ();
            }
          continue;
        }
      if (!store_frame (client, frame, &error))
        g_test_message ("while waiting for the close: %s", error->message);
    }
  return TRUE;
}

gboolean
test_client_is_closed (TestClient *client)
{
  return client->closed;
}

void
test_client_expect_closed_full (TestClient *client, guint reason, gboolean event_required,
                                const char *file, int line, const char *func)
{
  g_autoptr(GVariant) event = NULL;
  guint32 got;

  if (!test_client_wait_closed (client, client->timeout_ms))
    {
      fail_at (file, line, func, "%s%s: the server did not close the connection within %u ms",
               client->username ? "user " : "", client->username ? client->username : "",
               client->timeout_ms);
      return;
    }
  event = take_event (client, VOIP_MSG_SESSION_CLOSED);
  if (event == NULL)
    {
      if (event_required)
        fail_at (file, line, func, "%s%s: closed without a SessionClosed event",
                 client->username ? "user " : "", client->username ? client->username : "");
      return;
    }
  g_variant_get (event, "(u&s)", &got, NULL);
  if (got != reason)
    {
      g_autofree char *text = g_variant_print (event, FALSE);

      fail_at (file, line, func, "%s%s: expected SessionClosed reason %u, got %s",
               client->username ? "user " : "", client->username ? client->username : "",
               reason, text);
    }
}

/* ---- accounts and friends ----------------------------------------------- */

char *
test_password_for (const char *username)
{
  return g_strconcat ("password-", username, NULL);
}

TestClient *
test_client_new_registered (guint16 port, const char *username)
{
  TestClient *client = test_client_connect (port);
  g_autofree char *password = test_password_for (username);
  g_autoptr(GVariant) reply = NULL;
  const char *name, *token;

  reply = test_client_call (client, VOIP_MSG_REGISTER,
                            g_variant_new ("(sss)", username, password, ""));
  g_variant_get (reply, "(&s&s)", &name, &token);
  g_assert_cmpstr (name, ==, username);
  g_assert_cmpuint (strlen (token), ==, VOIP_TOKEN_LENGTH);
  client->username = g_strdup (username);
  client->password = g_steal_pointer (&password);
  client->token = g_strdup (token);
  return client;
}

TestClient *
test_client_new_logged_in (guint16 port, const char *username, const char *password)
{
  TestClient *client = test_client_connect (port);
  g_autoptr(GVariant) reply = NULL;
  const char *name, *token;

  reply = test_client_call (client, VOIP_MSG_LOGIN, g_variant_new ("(ss)", username, password));
  g_variant_get (reply, "(&s&s)", &name, &token);
  g_assert_cmpstr (name, ==, username);
  g_assert_cmpuint (strlen (token), ==, VOIP_TOKEN_LENGTH);
  client->username = g_strdup (username);
  client->password = g_strdup (password);
  client->token = g_strdup (token);
  return client;
}

TestClient *
test_client_new_session (TestClient *client)
{
  return test_client_new_logged_in (client->port, client->username, client->password);
}

void
test_befriend (TestClient *a, TestClient *b)
{
  g_autoptr(GVariant) reply = NULL;
  guint32 subscription;

  reply = test_client_call (a, VOIP_MSG_CONTACT_REQUEST, g_variant_new ("(s)", b->username));
  g_variant_get (reply, "(u)", &subscription);
  g_assert_cmpuint (subscription, ==, VOIP_SUBSCRIPTION_OUTGOING);
  test_client_call_ok (b, VOIP_MSG_CONTACT_ACCEPT, g_variant_new ("(s)", a->username));
  test_client_flush_events (a);
  test_client_flush_events (b);
}

guint64
test_send_text (TestClient *client, const char *recipient, guint64 group,
                const char *client_id, const char *text)
{
  g_autoptr(GVariant) reply = NULL;
  g_autofree char *own_id = client_id ? NULL : test_new_client_id ();
  guint64 id, seq;
  gint64 timestamp;

  reply = test_client_call (client, VOIP_MSG_SEND_TEXT,
                            g_variant_new ("(stss)", recipient ? recipient : "", group,
                                           client_id ? client_id : own_id, text));
  g_variant_get (reply, "(ttx)", &id, &seq, &timestamp);
  g_assert_cmpuint (id, >, 0);
  return id;
}

char *
test_new_client_id (void)
{
  return g_uuid_string_random ();
}

/* ---- media -------------------------------------------------------------- */

static guint32
crc32_update (guint32 crc, const guint8 *data, gsize len)
{
  crc = ~crc;
  for (gsize i = 0; i < len; i++)
    {
      crc ^= data[i];
      for (int k = 0; k < 8; k++)
        crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
    }
  return ~crc;
}

static void
png_chunk (GByteArray *png, const char *type, const guint8 *data, gsize len)
{
  guint32 be_len = GUINT32_TO_BE (len);
  guint32 crc;

  g_byte_array_append (png, (const guint8 *) &be_len, 4);
  g_byte_array_append (png, (const guint8 *) type, 4);
  if (len > 0)
    g_byte_array_append (png, data, len);
  crc = crc32_update (0, (const guint8 *) type, 4);
  crc = GUINT32_TO_BE (crc32_update (crc, data, len));
  g_byte_array_append (png, (const guint8 *) &crc, 4);
}

GVariant *
test_png_new (gsize min_size)
{
  static const guint8 signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  /* 1×1, 8-bit greyscale. */
  static const guint8 ihdr[13] = { 0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0 };
  /* zlib stream of the one scanline: filter 0, grey 0x80. */
  static const guint8 idat[10] = { 0x78, 0x9c, 0x63, 0x68, 0x00, 0x00, 0x00, 0x82, 0x00, 0x81 };
  const gsize base = 8 + (12 + 13) + (12 + 10) + 12;
  g_autoptr(GByteArray) png = g_byte_array_new ();
  gsize len;

  g_byte_array_append (png, signature, sizeof signature);
  png_chunk (png, "IHDR", ihdr, sizeof ihdr);
  if (min_size > base)
    {
      /* A private, safe-to-copy ancillary chunk ("prVt") that decoders skip. */
      gsize pad = min_size > base + 12 ? min_size - base - 12 : 0;
      g_autofree guint8 *zeros = g_malloc0 (MAX (pad, 1));

      png_chunk (png, "prVt", zeros, pad);
    }
  png_chunk (png, "IDAT", idat, sizeof idat);
  png_chunk (png, "IEND", NULL, 0);
  len = png->len;
  return g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, png->data, len, 1);
}

GVariant *
test_ogg_opus_new (gsize size)
{
  /* An Ogg page header (27 bytes, one segment) and an Opus identification
   * header; then padding. The server checks no more than that. */
  static const guint8 head[] = {
    'O', 'g', 'g', 'S', 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 1, 19,
    'O', 'p', 'u', 's', 'H', 'e', 'a', 'd', 1, 1, 0x38, 0x01, 0x80, 0xbb, 0, 0, 0, 0, 0,
  };
  g_autofree guint8 *data = NULL;

  g_return_val_if_fail (size >= sizeof head, NULL);
  data = g_malloc0 (size);
  memcpy (data, head, sizeof head);
  return g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, data, size, 1);
}

GPtrArray *
test_client_sync_texts (TestClient *client)
{
  g_autoptr(GVariant) reply = test_client_call (client, VOIP_MSG_SYNC,
                                                g_variant_new ("(tu)", (guint64) 0, 500));
  g_autoptr(GVariantIter) iter = NULL;
  GPtrArray *texts = g_ptr_array_new_with_free_func (g_free);
  const char *text;
  gboolean more;

  g_variant_get (reply, "(a(ttxsstusuaybbs)b)", &iter, &more);
  while (g_variant_iter_next (iter, "(ttx&s&stu&su@aybb&s)", NULL, NULL, NULL, NULL, NULL,
                              NULL, NULL, &text, NULL, NULL, NULL, NULL, NULL))
    g_ptr_array_add (texts, g_strdup (text));
  g_assert_false (more);
  return texts;
}

