/* server-session.h — one client connection: framing, output queue, login state. */
#pragma once

#include <gio/gio.h>
#include "voip-proto.h"
#include "server-poller.h"

G_BEGIN_DECLS

#define SERVER_TYPE_SESSION (server_session_get_type ())
G_DECLARE_FINAL_TYPE (ServerSession, server_session, SERVER, SESSION, GObject)

/* A decoded request, handed to the dispatcher. */
typedef struct {
  guint16   code;
  guint32   request_id;
  GVariant *payload;
} ServerRequest;

typedef void (*ServerSessionRequestFunc) (ServerSession *session, const ServerRequest *request,
                                          gpointer user_data);
typedef void (*ServerSessionClosedFunc)  (ServerSession *session, gpointer user_data);

/* fd is the connection's socket, watched through the poller. */
ServerSession *server_session_new (GIOStream *stream, int fd, ServerPoller *poller,
                                   const char *peer_address, gsize max_output_queue,
                                   ServerSessionRequestFunc on_request,
                                   ServerSessionClosedFunc on_closed,
                                   gpointer user_data);

/* Starts watching the socket. Call once, after the TLS handshake if any. */
void        server_session_start (ServerSession *self);

void        server_session_send_frame (ServerSession *self, GBytes *frame);
void        server_session_reply (ServerSession *self, guint16 code, guint32 request_id,
                                  GVariant *payload);
void        server_session_reply_error (ServerSession *self, guint16 code, guint32 request_id,
                                        VoipStatus status, const char *detail);
void        server_session_send_event (ServerSession *self, guint16 code, GVariant *payload);

/* Queues SessionClosed with the reason and takes no more frames; the session
 * closes once its output is flushed, or after a grace period. Too-slow
 * sessions get no goodbye. The close itself (and on_closed) never happens
 * inside this call, nor inside a send, so callers may be walking lists the
 * session is in. Idempotent. */
void        server_session_close (ServerSession *self, VoipCloseReason reason, const char *detail);
/* The server shuts down: the requests read so far, and those the socket
 * already holds, are answered (the server says ShuttingDown to those it no
 * longer serves), then SessionClosed (shutdown) and close. */
void        server_session_shutdown (ServerSession *self);
gboolean    server_session_is_closed (ServerSession *self);

const char *server_session_get_peer_address (ServerSession *self);
gint64      server_session_get_connected_us (ServerSession *self);
gint64      server_session_get_last_activity_us (ServerSession *self);

/* Login state, set by the account handlers. user_id 0: not logged in. */
gint64      server_session_get_user_id (ServerSession *self);
const char *server_session_get_username (ServerSession *self);
const char *server_session_get_token_hash (ServerSession *self);
void        server_session_set_login (ServerSession *self, gint64 user_id, const char *username,
                                      const char *token_hash);
void        server_session_clear_login (ServerSession *self);

/* The request just handed to on_request changes the login state (Login,
 * Logout, ...): the requests behind it stay unread until it is answered,
 * so that they are served as its outcome says. */
void        server_session_hold_requests (ServerSession *self, guint32 request_id);

/* A login is in flight (password hashing): the login timeout waits, and a
 * second login is refused. */
gboolean    server_session_get_authenticating (ServerSession *self);
void        server_session_set_authenticating (ServerSession *self, gboolean authenticating);

G_END_DECLS
