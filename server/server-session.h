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

/* Sends SessionClosed with the reason, then closes once the output is flushed
 * (or at once if it cannot be). Idempotent. */
void        server_session_close (ServerSession *self, VoipCloseReason reason, const char *detail);
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

/* A login is in flight (password hashing); a second one is refused. */
gboolean    server_session_get_authenticating (ServerSession *self);
void        server_session_set_authenticating (ServerSession *self, gboolean authenticating);

G_END_DECLS
