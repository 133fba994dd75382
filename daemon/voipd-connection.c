/* voipd-connection.c — the daemon's side of the wire protocol.
 *
 * Requests carry ids; replies find their GTask by id. Frames are checked
 * against the catalogue as they arrive (voip_payload_decode), so the rest of
 * the daemon only sees well-typed payloads. A Ping goes out every keepalive
 * interval; if the previous one is still unanswered the connection is
 * declared lost, which also catches a server that vanished without a FIN. */
#define G_LOG_DOMAIN "voipd"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <glib/gi18n.h>

#include "voipd-connection.h"

#define READ_CHUNK 16384

struct _VoipdConnection {
  GObject parent_instance;

  guint             keepalive_interval_s;
  GSocketConnection *socket_connection;
  GIOStream        *stream;         /* the socket connection, or TLS over it */
  GSource          *read_source;
  VoipFrameReader  *reader;
  GQueue            out_queue;      /* GBytes waiting for the writer */
  gboolean          writing;
  guint             generation;     /* bumped by every close: stale callbacks see it */
  GCancellable     *cancellable;    /* cancelled on close */
  GHashTable       *pending;        /* request id → GTask */
  guint32           next_request_id;
  guint             keepalive_id;
  gboolean          ping_outstanding;
  gboolean          open;
};

enum { SIGNAL_EVENT, SIGNAL_LOST, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (VoipdConnection, voipd_connection, G_TYPE_OBJECT)

static void connection_write_next (VoipdConnection *self);

static void
fail_pending (VoipdConnection *self, const GError *error)
{
  g_autoptr(GHashTable) pending = g_steal_pointer (&self->pending);
  GHashTableIter iter;
  GTask *task;

  self->pending = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_object_unref);
  g_hash_table_iter_init (&iter, pending);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &task))
    g_task_return_error (task, g_error_copy (error));
}

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

void
voipd_connection_close (VoipdConnection *self)
{
  g_autoptr(GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CLOSED,
                                                 _("the connection was closed"));
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
handle_frame (VoipdConnection *self, const VoipHeader *header, GBytes *payload)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) value = voip_payload_decode (header, payload, &error);

  if (value == NULL)
    {
      g_warning ("the server sent a bad frame (code %u): %s", header->code, error->message);
      return;
    }
  if (header->kind == VOIP_KIND_EVENT)
    {
      g_signal_emit (self, signals[SIGNAL_EVENT], 0, (guint) header->code, value);
      return;
    }
  if (header->kind == VOIP_KIND_REPLY)
    {
      GTask *task = NULL;

      if (!g_hash_table_steal_extended (self->pending, GUINT_TO_POINTER (header->request_id),
                                        NULL, (gpointer *) &task))
        {
          g_debug ("reply to unknown request %u", header->request_id);
          return;
        }
      if (header->status != VOIP_STATUS_OK)
        {
          const char *detail;

          g_variant_get (value, "(&s)", &detail);
          g_task_return_new_error (task, VOIP_ERROR, header->status, "%s",
                                   *detail ? detail : voip_status_message (header->status));
        }
      else
        g_task_return_pointer (task, g_variant_ref (value), (GDestroyNotify) g_variant_unref);
      g_object_unref (task);
    }
}

static gboolean
on_readable (GObject *stream, gpointer user_data)
{
  VoipdConnection *self = user_data;
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

  g_object_ref (self);
  voip_frame_reader_feed (self->reader, buffer, n);
  while (self->open && voip_frame_reader_next (self->reader, &header, &payload, &error))
    {
      handle_frame (self, &header, payload);
      g_bytes_unref (payload);
    }
  if (error != NULL)
    connection_lost (self, error->message);
  g_object_unref (self);
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
  guint32 id;

  g_task_set_source_tag (task, voipd_connection_request_async);
  if (!self->open)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                               _("not connected to the server"));
      return;
    }
  id = ++self->next_request_id;
  if (id == 0)
    id = ++self->next_request_id;
  g_hash_table_insert (self->pending, GUINT_TO_POINTER (id), g_object_ref (task));
  g_queue_push_tail (&self->out_queue,
                     voip_frame_encode (VOIP_KIND_REQUEST, code, 0, id, owned));
  connection_write_next (self);
}

GVariant *
voipd_connection_request_finish (VoipdConnection *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
on_ping_reply (GObject *source, GAsyncResult *result, gpointer user_data)
{
  VoipdConnection *self = VOIPD_CONNECTION (source);
  g_autoptr(GVariant) reply = voipd_connection_request_finish (self, result, NULL);

  self->ping_outstanding = FALSE;
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

static void
on_connected (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  VoipdConnection *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;
  GSocketConnection *connection;

  connection = g_socket_client_connect_to_host_finish (G_SOCKET_CLIENT (source), result, &error);
  if (connection == NULL)
    {
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
voipd_connection_connect_async (VoipdConnection *self, const char *server, gboolean tls,
                                GCancellable *cancellable, GAsyncReadyCallback callback,
                                gpointer user_data)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, voipd_connection_connect_async);
  voipd_connection_close (self);
  g_socket_client_set_timeout (client, 10);
  g_socket_client_set_tls (client, tls);
  g_socket_client_connect_to_host_async (client, server, 7000, cancellable, on_connected, task);
}

gboolean
voipd_connection_connect_finish (VoipdConnection *self, GAsyncResult *result, GError **error)
{
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
  self->pending = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_object_unref);
  self->cancellable = g_cancellable_new ();
  self->reader = voip_frame_reader_new ();
}

VoipdConnection *
voipd_connection_new (guint keepalive_interval_s)
{
  VoipdConnection *self = g_object_new (VOIPD_TYPE_CONNECTION, NULL);

  self->keepalive_interval_s = MAX (1, keepalive_interval_s);
  return self;
}
