/* voipd-connection.c — the daemon's side of the wire protocol.
 *
 * Requests carry ids; replies find their request by id. Each request also
 * ends by itself: cancelled (from an idle, as GIO does) or after the request
 * timeout, and a reply that comes later is dropped. Frames are checked
 * against the catalogue as they arrive (voip_payload_decode), so the rest of
 * the daemon only sees well-typed payloads. A Ping goes out every keepalive
 * interval; if the previous one is still unanswered the connection is
 * declared lost, which also catches a server that vanished without a FIN.
 *
 * TLS: the certificate is checked by GIO against the CA file or the system's
 * authorities; when that fails, accept-certificate decides by the pinned
 * fingerprint (voipd-connection.h says how). */
#define G_LOG_DOMAIN "voipd"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include <glib/gi18n.h>

#include "voipd-connection.h"
#include "voipd-errors.h"
#include "voipd-event-check.h"

#define READ_CHUNK 16384

struct _VoipdConnection {
  GObject parent_instance;

  guint             keepalive_interval_s;
  guint             request_timeout_ms;
  GSocketConnection *socket_connection;
  GIOStream        *stream;         /* the socket connection, or TLS over it */
  GSource          *read_source;
  VoipFrameReader  *reader;
  GQueue            out_queue;      /* GBytes waiting for the writer */
  gboolean          writing;
  guint             generation;     /* bumped by every close: stale callbacks see it */
  GCancellable     *cancellable;    /* cancelled on close */
  GHashTable       *pending;        /* request id → Request */
  guint32           next_request_id;
  guint             keepalive_id;
  gboolean          ping_outstanding;
  gboolean          open;

  GTask            *connect_task;   /* the connect in flight, if any */
  VoipdTlsTrust     tls_trust;
  char             *tls_fingerprint;
};

enum { SIGNAL_EVENT, SIGNAL_LOST, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (VoipdConnection, voipd_connection, G_TYPE_OBJECT)

static void connection_write_next (VoipdConnection *self);

/* ---- requests in flight ---------------------------------------------------- */

/* One request waiting for its reply, in self->pending. It owns its task and
 * leaves the table in exactly one way: a reply, a failure of the
 * connection, its timeout or its cancellation. */
typedef struct {
  VoipdConnection *connection;      /* not a reference: the table is the connection's */
  guint32          id;
  guint16          code;            /* its reply must have the same */
  GTask           *task;
  guint            timeout_id;
  GCancellable    *cancellable;
  gulong           cancelled_id;
  guint            cancel_idle_id;
} Request;

static void
request_free (Request *request)
{
  g_clear_handle_id (&request->timeout_id, g_source_remove);
  g_clear_handle_id (&request->cancel_idle_id, g_source_remove);
  if (request->cancelled_id != 0)
    g_cancellable_disconnect (request->cancellable, request->cancelled_id);
  g_clear_object (&request->cancellable);
  g_clear_object (&request->task);
  g_free (request);
}

/* Takes the request out of the table: its callbacks can no longer fire. */
static Request *
request_steal (VoipdConnection *self, guint32 id)
{
  Request *request = NULL;

  if (!g_hash_table_steal_extended (self->pending, GUINT_TO_POINTER (id), NULL,
                                    (gpointer *) &request))
    return NULL;
  return request;
}

static gboolean
on_request_timeout (gpointer user_data)
{
  Request *request = user_data;
  VoipdConnection *self = request->connection;
  g_autoptr(GTask) task = g_object_ref (request->task);

  request->timeout_id = 0;
  request_free (request_steal (self, request->id));
  g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                           _("the server did not answer within %u s"),
                           self->request_timeout_ms / 1000);
  return G_SOURCE_REMOVE;
}

static gboolean
on_request_cancel_idle (gpointer user_data)
{
  Request *request = user_data;
  g_autoptr(GTask) task = g_object_ref (request->task);

  request->cancel_idle_id = 0;
  request_free (request_steal (request->connection, request->id));
  g_task_return_error_if_cancelled (task);
  return G_SOURCE_REMOVE;
}

static void
on_request_cancelled (GCancellable *cancellable, gpointer user_data)
{
  Request *request = user_data;

  /* Not here: this may run inside whatever cancelled, and the handler
   * cannot disconnect itself. */
  if (request->cancel_idle_id == 0)
    request->cancel_idle_id = g_idle_add (on_request_cancel_idle, request);
}

static void
fail_pending (VoipdConnection *self, const GError *error)
{
  g_autoptr(GHashTable) pending = g_steal_pointer (&self->pending);
  GHashTableIter iter;
  Request *request;

  self->pending = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL,
                                         (GDestroyNotify) request_free);
  g_hash_table_iter_init (&iter, pending);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &request))
    g_task_return_error (request->task, g_error_copy (error));
}

/* ---- closing --------------------------------------------------------------- */

static void
connection_shut (VoipdConnection *self, const GError *error, gboolean announce)
{
  if (!self->open)
    return;
  self->open = FALSE;
  self->generation++;
  self->writing = FALSE;
  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->keepalive_id, g_source_remove);
  if (self->read_source)
    {
      g_source_destroy (self->read_source);
      g_clear_pointer (&self->read_source, g_source_unref);
    }
  g_queue_clear_full (&self->out_queue, (GDestroyNotify) g_bytes_unref);
  if (self->stream)
    g_io_stream_close_async (self->stream, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
  g_clear_object (&self->stream);
  g_clear_object (&self->socket_connection);
  self->tls_trust = VOIPD_TLS_TRUST_NONE;
  g_clear_pointer (&self->tls_fingerprint, g_free);

  g_object_ref (self);
  fail_pending (self, error);
  if (announce)
    g_signal_emit (self, signals[SIGNAL_LOST], 0, error);
  g_object_unref (self);
}

static void
connection_lost (VoipdConnection *self, const char *why)
{
  g_autoptr(GError) error = g_error_new (G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                                         _("connection to the server lost: %s"), why);
  g_debug ("%s", error->message);
  connection_shut (self, error, TRUE);
}

static void connect_cancel (VoipdConnection *self);

void
voipd_connection_close (VoipdConnection *self)
{
  g_autoptr(GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CLOSED,
                                                 _("the connection was closed"));
  connect_cancel (self);
  connection_shut (self, error, FALSE);
}

gboolean
voipd_connection_is_open (VoipdConnection *self)
{
  return self->open;
}

char *
voipd_connection_dup_remote_host (VoipdConnection *self)
{
  g_autoptr(GSocketAddress) address = NULL;

  if (!self->open || self->socket_connection == NULL)
    return NULL;
  address = g_socket_connection_get_remote_address (self->socket_connection, NULL);
  if (address == NULL || !G_IS_INET_SOCKET_ADDRESS (address))
    return NULL;
  return g_inet_address_to_string (
      g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address)));
}

VoipdTlsTrust
voipd_connection_get_tls_trust (VoipdConnection *self)
{
  return self->open ? self->tls_trust : VOIPD_TLS_TRUST_NONE;
}

const char *
voipd_connection_get_tls_fingerprint (VoipdConnection *self)
{
  return self->open ? self->tls_fingerprint : NULL;
}

/* ---- writing ------------------------------------------------------------- */

typedef struct {
  VoipdConnection *connection;
  guint            generation;
} Write;

static void
on_written (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Write *write = user_data;
  VoipdConnection *self = write->connection;
  g_autoptr(GError) error = NULL;
  gboolean ok = g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, &error);

  /* A write of a connection closed since then: its queue is gone already,
   * and the one there now belongs to the next connection. */
  if (write->generation == self->generation)
    {
      if (!ok)
        connection_lost (self, error->message);
      else
        {
          g_bytes_unref (g_queue_pop_head (&self->out_queue));
          self->writing = FALSE;
          connection_write_next (self);
        }
    }
  g_object_unref (self);
  g_free (write);
}

static void
connection_write_next (VoipdConnection *self)
{
  GBytes *frame;
  Write *write;

  if (self->writing || !self->open || g_queue_is_empty (&self->out_queue))
    return;
  frame = g_queue_peek_head (&self->out_queue);
  write = g_new0 (Write, 1);
  write->connection = g_object_ref (self);
  write->generation = self->generation;
  self->writing = TRUE;
  /* The frame stays queued (and alive) until the write is done. */
  g_output_stream_write_all_async (g_io_stream_get_output_stream (self->stream),
                                   g_bytes_get_data (frame, NULL), g_bytes_get_size (frame),
                                   G_PRIORITY_DEFAULT, self->cancellable, on_written, write);
}

/* ---- reading ------------------------------------------------------------- */

static void
handle_reply (VoipdConnection *self, const VoipHeader *header, GVariant *value)
{
  Request *request = request_steal (self, header->request_id);
  g_autoptr(GTask) task = NULL;

  if (request == NULL)
    {
      /* Also the late answer to a request that timed out or was cancelled. */
      g_debug ("reply to unknown request %u", header->request_id);
      return;
    }
  task = g_object_ref (request->task);
  if (header->code != request->code)
    {
      /* PROTOCOL.md: a reply has its request's code and id. Another code
       * means a payload of another type: never handed to the caller. */
      g_autoptr(GError) error = g_error_new (
          VOIP_ERROR, VOIP_STATUS_MALFORMED,
          _("the server answered request %u (code %u) with a reply of code %u"),
          header->request_id, request->code, header->code);

      request_free (request);
      g_task_return_error (task, g_error_copy (error));
      g_warning ("protocol error: %s", error->message);
      connection_lost (self, error->message);
      return;
    }
  request_free (request);
  if (header->status != VOIP_STATUS_OK)
    {
      const char *detail;
      g_autofree char *message = NULL;

      g_variant_get (value, "(&s)", &detail);
      message = voipd_error_server_message (header->status, detail);
      g_task_return_new_error (task, VOIP_ERROR, header->status, "%s", message);
    }
  else
    g_task_return_pointer (task, g_variant_ref (value), (GDestroyNotify) g_variant_unref);
}

static void
handle_frame (VoipdConnection *self, const VoipHeader *header, GBytes *payload)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) value = voip_payload_decode (header, payload, &error);

  if (value == NULL)
    {
      g_warning ("the server sent a bad frame (code %u): %s", header->code, error->message);
      return;
    }
  if (header->kind == VOIP_KIND_EVENT && !voipd_event_check (header->code, value, &error))
    {
      /* Dropped, not fatal: the session stays usable, and the next resync
       * brings the state the event would have changed. */
      g_warning ("the server sent a bad event (code %u), dropped: %s", header->code,
                 error->message);
      return;
    }
  if (header->kind == VOIP_KIND_EVENT)
    g_signal_emit (self, signals[SIGNAL_EVENT], 0, (guint) header->code, value);
  else if (header->kind == VOIP_KIND_REPLY)
    handle_reply (self, header, value);
}

static gboolean
on_readable (GObject *stream, gpointer user_data)
{
  g_autoptr(VoipdConnection) self = g_object_ref (user_data);
  guint8 buffer[READ_CHUNK];
  g_autoptr(GError) error = NULL;
  gssize n;
  VoipHeader header;
  GBytes *payload;

  n = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (stream), buffer,
                                                sizeof buffer, NULL, &error);
  if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    return G_SOURCE_CONTINUE;
  if (n <= 0)
    {
      /* Returning REMOVE destroys the source; forget it first. */
      g_clear_pointer (&self->read_source, g_source_unref);
      connection_lost (self, n == 0 ? "the server closed the connection" : error->message);
      return G_SOURCE_REMOVE;
    }

  /* The reference held above keeps self alive through the handlers, which
   * may drop the last one anybody else had (and close the connection). */
  voip_frame_reader_feed (self->reader, buffer, n);
  while (self->open && voip_frame_reader_next (self->reader, &header, &payload, &error))
    {
      handle_frame (self, &header, payload);
      g_bytes_unref (payload);
    }
  if (error != NULL)
    connection_lost (self, error->message);
  return self->read_source != NULL ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

/* ---- requests ------------------------------------------------------------ */

void
voipd_connection_request_async (VoipdConnection *self, guint16 code, GVariant *payload,
                                GCancellable *cancellable, GAsyncReadyCallback callback,
                                gpointer user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_autoptr(GVariant) owned = g_variant_ref_sink (payload);
  g_autoptr(GVariant) normal = NULL;
  GBytes *frame;
  Request *request;
  guint32 id;

  g_task_set_source_tag (task, voipd_connection_request_async);
  if (g_task_return_error_if_cancelled (task))
    return;
  if (!self->open)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                               _("not connected to the server"));
      return;
    }
  /* What does not fit in a frame is refused here, before anything is sent
   * (voip_frame_encode would not encode it). */
  normal = g_variant_get_normal_form (owned);
  if (g_variant_get_size (normal) > VOIP_MAX_FRAME_PAYLOAD)
    {
      g_task_return_new_error (task, VOIP_ERROR, VOIP_STATUS_TOO_LARGE,
                               _("the request is too large (%zu bytes, at most %zu)"),
                               g_variant_get_size (normal), (gsize) VOIP_MAX_FRAME_PAYLOAD);
      return;
    }
  id = ++self->next_request_id;
  if (id == 0)
    id = ++self->next_request_id;
  frame = voip_frame_encode (VOIP_KIND_REQUEST, code, 0, id, normal);
  if (frame == NULL)
    {
      /* Never queue a NULL: the writer would send nothing and the request
       * would wait for ever. */
      g_task_return_new_error (task, VOIP_ERROR, VOIP_STATUS_MALFORMED,
                               _("the request cannot be encoded"));
      return;
    }

  request = g_new0 (Request, 1);
  request->connection = self;
  request->id = id;
  request->code = code;
  request->task = g_object_ref (task);
  request->timeout_id = g_timeout_add (self->request_timeout_ms, on_request_timeout, request);
  if (cancellable != NULL)
    {
      request->cancellable = g_object_ref (cancellable);
      request->cancelled_id = g_cancellable_connect (cancellable,
                                                     G_CALLBACK (on_request_cancelled),
                                                     request, NULL);
    }
  g_hash_table_insert (self->pending, GUINT_TO_POINTER (id), request);
  g_queue_push_tail (&self->out_queue, frame);
  connection_write_next (self);
}

GVariant *
voipd_connection_request_finish (VoipdConnection *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
voipd_connection_set_request_timeout_ms (VoipdConnection *self, guint timeout_ms)
{
  self->request_timeout_ms = MAX (1, timeout_ms);
}

static void
on_ping_reply (GObject *source, GAsyncResult *result, gpointer user_data)
{
  VoipdConnection *self = VOIPD_CONNECTION (source);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = voipd_connection_request_finish (self, result, &error);

  self->ping_outstanding = FALSE;
  /* A ping that timed out is what the keepalive looks for. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    connection_lost (self, "the server stopped answering");
}

static gboolean
on_keepalive (gpointer user_data)
{
  VoipdConnection *self = user_data;

  if (self->ping_outstanding)
    {
      self->keepalive_id = 0;
      connection_lost (self, "the server stopped answering");
      return G_SOURCE_REMOVE;
    }
  self->ping_outstanding = TRUE;
  voipd_connection_request_async (self, VOIP_MSG_PING, g_variant_new ("()"), NULL,
                                  on_ping_reply, NULL);
  return G_SOURCE_CONTINUE;
}

/* ---- connecting ---------------------------------------------------------- */

/* One connect: what it trusts, and what the certificate check found. */
typedef struct {
  GCancellable  *cancellable;       /* ours: a second connect or a close cancels it */
  GCancellable  *caller;            /* the caller's, forwarded to ours */
  gulong         caller_id;
  GTlsDatabase  *database;          /* from the CA file; NULL: the system's */
  char          *ca_file;
  char          *pinned_fingerprint;
  VoipdTlsTrust  trust;
  char          *refusal;           /* why the certificate was refused */
} Connect;

static void
connect_free (Connect *connect)
{
  if (connect->caller_id != 0)
    g_cancellable_disconnect (connect->caller, connect->caller_id);
  g_clear_object (&connect->caller);
  g_clear_object (&connect->cancellable);
  g_clear_object (&connect->database);
  g_free (connect->ca_file);
  g_free (connect->pinned_fingerprint);
  g_free (connect->refusal);
  g_free (connect);
}

char *
voipd_tls_certificate_fingerprint (GTlsCertificate *certificate)
{
  g_autoptr(GByteArray) der = NULL;
  g_autofree char *hex = NULL;
  GString *out;

  g_object_get (certificate, "certificate", &der, NULL);
  if (der == NULL)
    return g_strdup ("");
  hex = g_compute_checksum_for_data (G_CHECKSUM_SHA256, der->data, der->len);
  out = g_string_sized_new (3 * strlen (hex) / 2);
  for (const char *c = hex; c[0] != '\0' && c[1] != '\0'; c += 2)
    {
      if (out->len > 0)
        g_string_append_c (out, ':');
      g_string_append_c (out, g_ascii_toupper (c[0]));
      g_string_append_c (out, g_ascii_toupper (c[1]));
    }
  return g_string_free (out, FALSE);
}

/* The first problem GIO found with a certificate, for a person. */
static const char *
certificate_problem (GTlsCertificateFlags errors)
{
  if (errors & G_TLS_CERTIFICATE_UNKNOWN_CA)
    return _("it is not signed by a trusted certificate authority");
  if (errors & G_TLS_CERTIFICATE_BAD_IDENTITY)
    return _("it was issued for another server name");
  if (errors & G_TLS_CERTIFICATE_NOT_ACTIVATED)
    return _("it is not valid yet");
  if (errors & G_TLS_CERTIFICATE_EXPIRED)
    return _("it has expired");
  if (errors & G_TLS_CERTIFICATE_REVOKED)
    return _("it was revoked");
  if (errors & G_TLS_CERTIFICATE_INSECURE)
    return _("its algorithm is insecure");
  return _("it could not be validated");
}

/* Only called when validation failed: the CA file is final; otherwise the
 * pin decides, and with no pin the certificate is trusted on first use. */
static gboolean
on_accept_certificate (GTlsConnection *tls, GTlsCertificate *certificate,
                       GTlsCertificateFlags errors, gpointer user_data)
{
  Connect *connect = user_data;
  g_autofree char *fingerprint = voipd_tls_certificate_fingerprint (certificate);

  g_clear_pointer (&connect->refusal, g_free);
  if (connect->database != NULL)
    {
      connect->refusal = g_strdup_printf (
          _("the server's certificate (SHA-256 %s) is refused: with the CA file %s, %s"),
          fingerprint, connect->ca_file, certificate_problem (errors));
      return FALSE;
    }
  if (connect->pinned_fingerprint == NULL)
    {
      g_message ("trusting the server's certificate on first use (SHA-256 %s; %s)",
                 fingerprint, certificate_problem (errors));
      connect->trust = VOIPD_TLS_TRUST_FIRST_USE;
      return TRUE;
    }
  if (g_ascii_strcasecmp (fingerprint, connect->pinned_fingerprint) == 0)
    {
      connect->trust = VOIPD_TLS_TRUST_PINNED;
      return TRUE;
    }
  connect->refusal = g_strdup_printf (
      _("the server's certificate changed: SHA-256 %s was pinned, the server offers %s; "
        "if the server's certificate was replaced on purpose, remove its pin from the "
        "tls-pinned-certificates setting"),
      connect->pinned_fingerprint, fingerprint);
  return FALSE;
}

static void
on_socket_client_event (GSocketClient *client, GSocketClientEvent event,
                        GSocketConnectable *connectable, GIOStream *connection,
                        gpointer user_data)
{
  Connect *connect = user_data;

  if (event != G_SOCKET_CLIENT_TLS_HANDSHAKING)
    return;
  if (connect->database != NULL)
    g_tls_connection_set_database (G_TLS_CONNECTION (connection), connect->database);
  g_signal_connect (connection, "accept-certificate", G_CALLBACK (on_accept_certificate),
                    connect);
}

static void
on_caller_cancelled (GCancellable *caller, gpointer user_data)
{
  g_cancellable_cancel (user_data);
}

static void
connect_cancel (VoipdConnection *self)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->connect_task);

  /* Its callback sees that it is no longer the current connect. */
  if (task != NULL)
    g_cancellable_cancel (((Connect *) g_task_get_task_data (task))->cancellable);
}

static void
on_connected (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  VoipdConnection *self = g_task_get_source_object (task);
  Connect *connect = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  GSocketConnection *connection;

  connection = g_socket_client_connect_to_host_finish (G_SOCKET_CLIENT (source), result, &error);
  if (task != self->connect_task || g_cancellable_is_cancelled (connect->cancellable))
    {
      /* Superseded by another connect, closed or cancelled meanwhile (maybe
       * after the socket connected: it is closed unused). */
      if (task == self->connect_task)
        g_clear_object (&self->connect_task);
      g_clear_object (&connection);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                               _("the connection attempt was cancelled"));
      return;
    }
  g_clear_object (&self->connect_task);
  if (connection == NULL)
    {
      if (connect->refusal != NULL)
        g_task_return_new_error (task, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE, "%s",
                                 connect->refusal);
      else
        g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  /* The client's timeout bounds the connect; the session itself may be
   * quiet for long (the keepalive watches it instead). */
  g_socket_set_timeout (g_socket_connection_get_socket (connection), 0);
  /* Requests are small and latency-bound (call set-up, relayed media):
   * never wait for the server's delayed ACK before sending the next one. */
  g_socket_set_option (g_socket_connection_get_socket (connection), IPPROTO_TCP, TCP_NODELAY, 1,
                       NULL);
  self->socket_connection = connection;
  self->stream = G_IS_TCP_WRAPPER_CONNECTION (connection)
                 ? g_object_ref (g_tcp_wrapper_connection_get_base_io_stream (
                       G_TCP_WRAPPER_CONNECTION (connection)))
                 : g_object_ref (G_IO_STREAM (connection));
  if (G_IS_TLS_CONNECTION (self->stream))
    {
      GTlsCertificate *peer = g_tls_connection_get_peer_certificate (
          G_TLS_CONNECTION (self->stream));

      self->tls_trust = connect->trust;
      self->tls_fingerprint = peer ? voipd_tls_certificate_fingerprint (peer) : g_strdup ("");
      g_signal_handlers_disconnect_by_data (self->stream, connect);
    }
  self->open = TRUE;
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  voip_frame_reader_free (self->reader);
  self->reader = voip_frame_reader_new ();
  self->read_source = g_pollable_input_stream_create_source (
      G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (self->stream)), NULL);
  g_source_set_callback (self->read_source, G_SOURCE_FUNC (on_readable), self, NULL);
  g_source_attach (self->read_source, NULL);
  self->ping_outstanding = FALSE;
  self->keepalive_id = g_timeout_add_seconds (self->keepalive_interval_s, on_keepalive, self);
  g_task_return_boolean (task, TRUE);
}

void
voipd_connection_connect_async (VoipdConnection *self, const char *server,
                                const VoipdConnectOptions *options, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_autoptr(GError) error = NULL;
  Connect *connect = g_new0 (Connect, 1);

  g_task_set_source_tag (task, voipd_connection_connect_async);
  g_task_set_task_data (task, connect, (GDestroyNotify) connect_free);
  /* One connect at a time: the one in flight gives way, an open
   * connection closes. */
  voipd_connection_close (self);
  connect->cancellable = g_cancellable_new ();
  connect->trust = options->tls ? VOIPD_TLS_TRUST_VERIFIED : VOIPD_TLS_TRUST_NONE;
  if (options->tls && options->ca_file != NULL && *options->ca_file != '\0')
    {
      connect->ca_file = g_strdup (options->ca_file);
      connect->database = g_tls_file_database_new (options->ca_file, &error);
      if (connect->database == NULL)
        {
          g_task_return_new_error (task, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE,
                                   _("cannot use the CA file %s: %s"), options->ca_file,
                                   error->message);
          return;
        }
    }
  if (options->pinned_fingerprint != NULL && *options->pinned_fingerprint != '\0')
    connect->pinned_fingerprint = g_strdup (options->pinned_fingerprint);
  if (cancellable != NULL)
    {
      connect->caller = g_object_ref (cancellable);
      connect->caller_id = g_cancellable_connect (cancellable, G_CALLBACK (on_caller_cancelled),
                                                  g_object_ref (connect->cancellable),
                                                  g_object_unref);
    }
  self->connect_task = g_object_ref (task);
  g_socket_client_set_timeout (client, VOIPD_CONNECT_TIMEOUT_S);
  g_socket_client_set_tls (client, options->tls);
  g_signal_connect (client, "event", G_CALLBACK (on_socket_client_event), connect);
  g_socket_client_connect_to_host_async (client, server, 7000, connect->cancellable,
                                         on_connected, g_steal_pointer (&task));
}

gboolean
voipd_connection_connect_finish (VoipdConnection *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- GObject --------------------------------------------------------------- */

static void
voipd_connection_dispose (GObject *object)
{
  VoipdConnection *self = VOIPD_CONNECTION (object);

  voipd_connection_close (self);
  G_OBJECT_CLASS (voipd_connection_parent_class)->dispose (object);
}

static void
voipd_connection_finalize (GObject *object)
{
  VoipdConnection *self = VOIPD_CONNECTION (object);

  g_clear_object (&self->cancellable);
  g_hash_table_unref (self->pending);
  voip_frame_reader_free (self->reader);
  g_free (self->tls_fingerprint);
  G_OBJECT_CLASS (voipd_connection_parent_class)->finalize (object);
}

static void
voipd_connection_class_init (VoipdConnectionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = voipd_connection_dispose;
  object_class->finalize = voipd_connection_finalize;

  signals[SIGNAL_EVENT] = g_signal_new ("event", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                        0, NULL, NULL, NULL, G_TYPE_NONE, 2,
                                        G_TYPE_UINT, G_TYPE_VARIANT);
  signals[SIGNAL_LOST] = g_signal_new ("lost", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                       0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
}

static void
voipd_connection_init (VoipdConnection *self)
{
  g_queue_init (&self->out_queue);
  self->pending = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL,
                                         (GDestroyNotify) request_free);
  self->cancellable = g_cancellable_new ();
  self->reader = voip_frame_reader_new ();
  self->request_timeout_ms = VOIPD_REQUEST_TIMEOUT_S * 1000;
}

VoipdConnection *
voipd_connection_new (guint keepalive_interval_s)
{
  VoipdConnection *self = g_object_new (VOIPD_TYPE_CONNECTION, NULL);

  self->keepalive_interval_s = MAX (1, keepalive_interval_s);
  return self;
}
