/* server-session.c — one client connection.
 *
 * Readiness comes from the server's epoll poller (server-poller.c).
 * Reading: the socket feeds a VoipFrameReader; each whole frame is
 * checked against the catalogue and handed to the dispatcher. A broken stream
 * (bad magic, version, kind or length) closes the session; a bad payload
 * gets an error reply and the session goes on.
 *
 * Requests are served in order of arrival, and one that changes the login
 * state (server_session_hold_requests) holds the ones behind it, unparsed,
 * until it is answered: they must see its outcome.
 *
 * Writing: frames queue as GBytes (an event for many sessions is encoded
 * once and shared) and leave together, in one writev() per main-loop
 * iteration. A client that does not read, replies or events, is closed as
 * too slow once more than max_output_queue waits for it; at most
 * MAX_IN_FLIGHT of its requests wait for the store at a time.
 *
 * Closing never happens inside a send: a send may come from a fan-out
 * walking a list this session is in (a user's sessions, a call's), and
 * closing takes the session out of those lists. A too-slow session is only
 * marked (it takes no more frames) and closed from an idle; a goodbye is
 * queued and flushed from the poller's deferred call.
 */
#define G_LOG_DOMAIN "voip-server"

#include <sys/epoll.h>

#include "server-session.h"

#define READ_CHUNK 16384

/* Requests a client may have waiting for their replies. Past this the
 * session stops reading, so one client cannot fill the store's queue. */
#define MAX_IN_FLIGHT 256

/* How long a closing session may take to flush its goodbye to a peer that
 * does not read, before the socket is closed anyway. */
#define CLOSE_GRACE_S 2

/* Replies go out in request order although some are answered at once
 * (Ping, validation errors) and others after a trip through the store. */
typedef struct {
  guint32 request_id;
  GBytes *frame;       /* NULL until answered */
} PendingReply;

struct _ServerSession {
  GObject parent_instance;

  GIOStream            *stream;
  GPollableInputStream *input;
  GPollableOutputStream *output;
  ServerPoller         *poller;
  ServerPollerWatch    *watch;
  int                   fd;
  guint                 close_timer;
  VoipFrameReader      *reader;
  char                 *peer_address;

  GQueue  in_flight;        /* PendingReply, in request order */
  GQueue  out_queue;        /* GBytes */
  gsize   out_offset;       /* bytes of the head already written */
  gsize   out_queued;       /* bytes waiting, all frames */
  gsize   max_output_queue;
  gboolean write_blocked;   /* the socket is full: waiting for EPOLLOUT */
  gboolean reading;         /* EPOLLIN is wanted */

  gint64  connected_us;
  gint64  last_activity_us;
  gboolean started;
  gboolean closing;         /* no more reading; close when flushed */
  gboolean closed;
  gboolean authenticating;
  gboolean catch_up;        /* parse what the reader holds, and read, when deferred */
  gboolean input_drained;   /* the last read found the socket empty */
  gboolean draining;        /* the server shuts down: answer, then say goodbye */
  PendingReply *held_by;    /* in flight: later requests wait for its reply */

  gint64  user_id;
  char   *username;
  char   *token_hash;

  ServerSessionRequestFunc on_request;
  ServerSessionClosedFunc  on_closed;
  gpointer                 user_data;
};

G_DEFINE_FINAL_TYPE (ServerSession, server_session, G_TYPE_OBJECT)

static void session_update_events (ServerSession *self);
static void session_read (ServerSession *self);

static void
pending_reply_free (PendingReply *pending)
{
  g_clear_pointer (&pending->frame, g_bytes_unref);
  g_free (pending);
}

static void
session_finish_close (ServerSession *self)
{
  if (self->closed)
    return;
  self->closed = TRUE;
  g_clear_handle_id (&self->close_timer, g_source_remove);
  server_poller_unwatch (self->poller, g_steal_pointer (&self->watch));
  g_queue_clear_full (&self->out_queue, (GDestroyNotify) g_bytes_unref);
  self->out_queued = 0;
  self->out_offset = 0;
  /* Async, because closing a TLS stream sends close_notify. */
  g_io_stream_close_async (self->stream, G_PRIORITY_DEFAULT, NULL, NULL, NULL);

  g_object_ref (self);
  if (self->on_closed)
    self->on_closed (self, self->user_data);
  g_object_unref (self);
}

static void
session_protocol_error (ServerSession *self, const char *detail)
{
  g_debug ("closing %s: %s", self->peer_address, detail);
  server_session_close (self, VOIP_CLOSE_PROTOCOL_ERROR, detail);
}

static void
session_handle_frame (ServerSession *self, const VoipHeader *header, GBytes *payload)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) value = NULL;
  ServerRequest request;
  PendingReply *pending;

  if (header->kind != VOIP_KIND_REQUEST)
    {
      session_protocol_error (self, "clients send requests only");
      return;
    }
  pending = g_new0 (PendingReply, 1);
  pending->request_id = header->request_id;
  g_queue_push_tail (&self->in_flight, pending);

  value = voip_payload_decode (header, payload, &error);
  if (value == NULL)
    {
      server_session_reply_error (self, header->code, header->request_id,
                                  error->code, error->message);
      return;
    }
  request = (ServerRequest) {
    .code = header->code, .request_id = header->request_id, .payload = value,
  };
  self->on_request (self, &request, self->user_data);
}

/* The output queue does not stop reading: a client that sends requests and
 * never reads their replies must reach max_output_queue and be closed, not
 * linger unread until the idle timeout. */
static gboolean
session_wants_input (ServerSession *self)
{
  return self->started && !self->closing && !self->closed
         && self->held_by == NULL
         && self->in_flight.length < MAX_IN_FLIGHT;
}

/* Serves the whole frames the reader holds, while the session may. */
static void
session_handle_frames (ServerSession *self)
{
  while (session_wants_input (self))
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) payload = NULL;
      VoipHeader header;

      if (!voip_frame_reader_next (self->reader, &header, &payload, &error))
        {
          if (error != NULL)
            session_protocol_error (self, error->message);
          return;
        }
      session_handle_frame (self, &header, payload);
    }
}

/* Serves what the reader holds, then reads until the socket is empty (a
 * TLS layer may hold decrypted bytes that epoll cannot see) or until
 * backpressure or a held request says stop. */
static void
session_read (ServerSession *self)
{
  guint8 buffer[READ_CHUNK];

  session_handle_frames (self);
  while (session_wants_input (self))
    {
      g_autoptr(GError) error = NULL;
      gssize n = g_pollable_input_stream_read_nonblocking (self->input, buffer, sizeof buffer,
                                                           NULL, &error);

      if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          self->input_drained = TRUE;
          return;
        }
      if (n <= 0)
        {
          if (n < 0)
            g_debug ("read from %s failed: %s", self->peer_address, error->message);
          session_finish_close (self);
          return;
        }

      self->input_drained = FALSE;
      self->last_activity_us = g_get_monotonic_time ();
      voip_frame_reader_feed (self->reader, buffer, n);
      session_handle_frames (self);
    }
}

static void
session_flush (ServerSession *self)
{
  while (!self->closed && !g_queue_is_empty (&self->out_queue))
    {
      GOutputVector vectors[64];
      guint n_vectors = 0;
      gsize written = 0;
      g_autoptr(GError) error = NULL;
      GPollableReturn result;

      for (GList *l = self->out_queue.head; l != NULL && n_vectors < G_N_ELEMENTS (vectors);
           l = l->next, n_vectors++)
        {
          gsize size;
          const guint8 *data = g_bytes_get_data (l->data, &size);
          gsize skip = n_vectors == 0 ? self->out_offset : 0;

          vectors[n_vectors] = (GOutputVector) { data + skip, size - skip };
        }

      result = g_pollable_output_stream_writev_nonblocking (self->output, vectors, n_vectors,
                                                            &written, NULL, &error);
      if (result == G_POLLABLE_RETURN_WOULD_BLOCK)
        {
          self->write_blocked = TRUE;
          break;
        }
      if (result == G_POLLABLE_RETURN_FAILED)
        {
          g_debug ("write to %s failed: %s", self->peer_address, error->message);
          session_finish_close (self);
          return;
        }

      self->write_blocked = FALSE;
      self->out_queued -= written;
      while (written > 0)
        {
          gsize size = g_bytes_get_size (g_queue_peek_head (&self->out_queue));
          gsize left = size - self->out_offset;

          if (written < left)
            {
              self->out_offset += written;
              break;
            }
          written -= left;
          self->out_offset = 0;
          g_bytes_unref (g_queue_pop_head (&self->out_queue));
        }
    }

  if (self->closing && g_queue_is_empty (&self->out_queue))
    session_finish_close (self);
  else
    session_update_events (self);
}

/* At shutdown: once every request read has its reply and the socket holds
 * no more, the goodbye. */
static void
session_maybe_end_drain (ServerSession *self)
{
  if (self->draining && !self->closing && !self->closed
      && g_queue_is_empty (&self->in_flight) && self->input_drained)
    server_session_close (self, VOIP_CLOSE_SHUTDOWN, "server shutting down");
}

/* Once per main-loop iteration: everything queued meanwhile leaves at once. */
static void
on_deferred (gpointer user_data)
{
  ServerSession *self = user_data;

  g_object_ref (self);
  if (!self->write_blocked)
    session_flush (self);
  /* Reading stopped (backpressure, a held request) may resume: the reader
   * may hold whole frames, and a TLS layer input that epoll will not
   * announce. */
  if (self->catch_up && session_wants_input (self))
    {
      self->catch_up = FALSE;
      session_read (self);
    }
  session_maybe_end_drain (self);
  session_update_events (self);
  g_object_unref (self);
}

static void
session_update_events (ServerSession *self)
{
  gboolean want_input = session_wants_input (self);

  if (self->closed || self->watch == NULL)
    return;
  if (want_input && !self->reading)
    {
      /* Catch up on what arrived while paused (see on_deferred). */
      self->catch_up = TRUE;
      server_poller_defer (self->poller, self->watch, on_deferred);
    }
  self->reading = want_input;
  server_poller_set_events (self->poller, self->watch,
                            (want_input ? EPOLLIN : 0) | (self->write_blocked ? EPOLLOUT : 0));
}

static void
on_ready (gpointer user_data, guint32 events)
{
  ServerSession *self = user_data;

  g_object_ref (self);
  if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
    {
      self->write_blocked = FALSE;
      session_flush (self);
    }
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
    session_read (self);
  session_maybe_end_drain (self);
  session_update_events (self);
  g_object_unref (self);
}

static gboolean
on_close_now (gpointer user_data)
{
  ServerSession *self = user_data;

  self->close_timer = 0;
  g_object_ref (self);
  session_finish_close (self);
  g_object_unref (self);
  return G_SOURCE_REMOVE;
}

/* Its output is full: a goodbye would never arrive. Takes no more frames
 * from now on and closes from an idle, outside whatever fan-out is
 * sending (see the top of the file). */
static void
session_drop_too_slow (ServerSession *self)
{
  g_message ("closing %s: %" G_GSIZE_FORMAT " bytes of output queued",
             self->peer_address, self->out_queued);
  self->closing = TRUE;
  g_queue_clear_full (&self->out_queue, (GDestroyNotify) g_bytes_unref);
  self->out_queued = 0;
  self->out_offset = 0;
  g_clear_handle_id (&self->close_timer, g_source_remove);
  self->close_timer = g_idle_add_full (G_PRIORITY_DEFAULT, on_close_now, self, NULL);
}

void
server_session_send_frame (ServerSession *self, GBytes *frame)
{
  if (self->closing || self->closed || frame == NULL)
    return;   /* after close(), only its SessionClosed notice goes out */
  if (self->out_queued + g_bytes_get_size (frame) > self->max_output_queue)
    {
      session_drop_too_slow (self);
      return;
    }
  g_queue_push_tail (&self->out_queue, g_bytes_ref (frame));
  self->out_queued += g_bytes_get_size (frame);
  if (!self->write_blocked && self->watch != NULL)
    server_poller_defer (self->poller, self->watch, on_deferred);
}

/* Parks the reply with its request, then sends every reply at the head of
 * the line that is answered. */
static void
session_queue_reply (ServerSession *self, guint32 request_id, GBytes *frame)
{
  PendingReply *pending = NULL;

  for (GList *l = self->in_flight.head; l != NULL; l = l->next)
    {
      PendingReply *candidate = l->data;

      if (candidate->frame == NULL && candidate->request_id == request_id)
        {
          pending = candidate;
          break;
        }
    }
  if (pending == NULL)
    {
      g_warning ("reply to %s for request %u that is not in flight",
                 self->peer_address, request_id);
      return;
    }
  pending->frame = g_bytes_ref (frame);
  if (pending == self->held_by)
    self->held_by = NULL;   /* the requests behind it may go (session_update_events) */

  while (!g_queue_is_empty (&self->in_flight)
         && ((PendingReply *) g_queue_peek_head (&self->in_flight))->frame != NULL)
    {
      pending = g_queue_pop_head (&self->in_flight);
      server_session_send_frame (self, pending->frame);
      pending_reply_free (pending);
    }
  /* A reply frees a place in flight: reading may resume. */
  session_update_events (self);
  /* At shutdown the last reply is followed by the goodbye. */
  if (self->draining && self->watch != NULL)
    server_poller_defer (self->poller, self->watch, on_deferred);
}

void
server_session_reply (ServerSession *self, guint16 code, guint32 request_id, GVariant *payload)
{
  g_autoptr(GBytes) frame = voip_frame_encode (VOIP_KIND_REPLY, code, 0, request_id, payload);

  session_queue_reply (self, request_id, frame);
}

void
server_session_reply_error (ServerSession *self, guint16 code, guint32 request_id,
                            VoipStatus status, const char *detail)
{
  g_autoptr(GBytes) frame = voip_frame_encode_error (code, status, request_id,
                                                     detail ? detail : voip_status_message (status));

  session_queue_reply (self, request_id, frame);
}

void
server_session_send_event (ServerSession *self, guint16 code, GVariant *payload)
{
  g_autoptr(GBytes) frame = voip_frame_encode (VOIP_KIND_EVENT, code, 0, 0, payload);

  server_session_send_frame (self, frame);
}

void
server_session_close (ServerSession *self, VoipCloseReason reason, const char *detail)
{
  if (self->closing || self->closed)
    return;
  if (reason == VOIP_CLOSE_TOO_SLOW)
    {
      session_drop_too_slow (self);
      return;
    }
  /* Queued, not flushed here: the caller may be walking a list this session
   * is in. The deferred flush closes once the goodbye is out. */
  server_session_send_event (self, VOIP_MSG_SESSION_CLOSED,
                             g_variant_new ("(us)", reason, detail ? detail : ""));
  self->closing = TRUE;
  if (self->watch == NULL)
    {
      /* Not started: nothing can be flushed. */
      self->close_timer = g_idle_add_full (G_PRIORITY_DEFAULT, on_close_now, self, NULL);
      return;
    }
  server_poller_defer (self->poller, self->watch, on_deferred);
  self->close_timer = g_timeout_add_seconds (CLOSE_GRACE_S, on_close_now, self);
}

gboolean
server_session_is_closed (ServerSession *self)
{
  return self->closed || self->closing;
}

void
server_session_shutdown (ServerSession *self)
{
  if (self->draining || self->closing || self->closed)
    return;
  self->draining = TRUE;
  if (self->watch == NULL)
    {
      server_session_close (self, VOIP_CLOSE_SHUTDOWN, "server shutting down");
      return;
    }
  /* Read what the socket already holds: those requests are answered too. */
  self->catch_up = TRUE;
  server_poller_defer (self->poller, self->watch, on_deferred);
}

void
server_session_hold_requests (ServerSession *self, guint32 request_id)
{
  PendingReply *pending = g_queue_peek_tail (&self->in_flight);

  g_return_if_fail (pending != NULL && pending->request_id == request_id
                    && pending->frame == NULL);
  self->held_by = pending;
}

void
server_session_start (ServerSession *self)
{
  self->started = TRUE;
  self->reading = TRUE;
  self->watch = server_poller_watch (self->poller, self->fd, EPOLLIN, on_ready, self);
}

static void
server_session_dispose (GObject *object)
{
  ServerSession *self = SERVER_SESSION (object);

  g_clear_handle_id (&self->close_timer, g_source_remove);
  server_poller_unwatch (self->poller, g_steal_pointer (&self->watch));
  g_queue_clear_full (&self->out_queue, (GDestroyNotify) g_bytes_unref);
  g_queue_clear_full (&self->in_flight, (GDestroyNotify) pending_reply_free);
  g_clear_object (&self->stream);
  G_OBJECT_CLASS (server_session_parent_class)->dispose (object);
}

static void
server_session_finalize (GObject *object)
{
  ServerSession *self = SERVER_SESSION (object);

  voip_frame_reader_free (self->reader);
  g_free (self->peer_address);
  g_free (self->username);
  g_free (self->token_hash);
  G_OBJECT_CLASS (server_session_parent_class)->finalize (object);
}

static void
server_session_class_init (ServerSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = server_session_dispose;
  object_class->finalize = server_session_finalize;
}

static void
server_session_init (ServerSession *self)
{
  g_queue_init (&self->out_queue);
  g_queue_init (&self->in_flight);
  self->reader = voip_frame_reader_new ();
}

ServerSession *
server_session_new (GIOStream *stream, int fd, ServerPoller *poller, const char *peer_address,
                    gsize max_output_queue, ServerSessionRequestFunc on_request,
                    ServerSessionClosedFunc on_closed, gpointer user_data)
{
  ServerSession *self = g_object_new (SERVER_TYPE_SESSION, NULL);

  self->stream = g_object_ref (stream);
  self->fd = fd;
  self->poller = poller;
  self->input = G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (stream));
  self->output = G_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (stream));
  self->peer_address = g_strdup (peer_address);
  self->max_output_queue = max_output_queue;
  self->connected_us = self->last_activity_us = g_get_monotonic_time ();
  self->on_request = on_request;
  self->on_closed = on_closed;
  self->user_data = user_data;
  return self;
}

const char *server_session_get_peer_address (ServerSession *self) { return self->peer_address; }
gint64      server_session_get_connected_us (ServerSession *self) { return self->connected_us; }
gint64      server_session_get_last_activity_us (ServerSession *self) { return self->last_activity_us; }
gint64      server_session_get_user_id (ServerSession *self) { return self->user_id; }
const char *server_session_get_username (ServerSession *self) { return self->username; }
const char *server_session_get_token_hash (ServerSession *self) { return self->token_hash; }
gboolean    server_session_get_authenticating (ServerSession *self) { return self->authenticating; }

void
server_session_set_authenticating (ServerSession *self, gboolean authenticating)
{
  self->authenticating = authenticating;
}

void
server_session_set_login (ServerSession *self, gint64 user_id, const char *username,
                          const char *token_hash)
{
  self->user_id = user_id;
  g_free (self->username);
  self->username = g_strdup (username);
  g_free (self->token_hash);
  self->token_hash = g_strdup (token_hash);
}

void
server_session_clear_login (ServerSession *self)
{
  server_session_set_login (self, 0, NULL, NULL);
  /* A logged-out connection gets a fresh login window. */
  self->connected_us = g_get_monotonic_time ();
}
