/* server.h — voip-server: the listener, the sessions, and what handlers share. */
#pragma once

#include <gio/gio.h>

#include "server-config.h"
#include "server-password.h"
#include "server-registry.h"
#include "server-session.h"
#include "store.h"

G_BEGIN_DECLS

#define SERVER_TYPE_SERVER (server_get_type ())
G_DECLARE_FINAL_TYPE (Server, server, SERVER, SERVER, GObject)

typedef struct _ServerCalls ServerCalls;   /* server-calls.h */

/* Takes ownership of config. Opens the database and the password workers. */
Server         *server_new (ServerConfig *config, GError **error);
/* Binds the listening socket; server_get_listen_address() then has the port. */
gboolean        server_listen (Server *self, GError **error);
const char     *server_get_listen_address (Server *self);
/* Says goodbye to every session, stops listening, drains the store; calls
 * done when it is safe to exit. */
void            server_shutdown (Server *self, GCallback done, gpointer user_data);

const ServerConfig *server_get_config   (Server *self);
Store              *server_get_store    (Server *self);
ServerPassword     *server_get_password (Server *self);
ServerRegistry     *server_get_registry (Server *self);
ServerCalls        *server_get_calls    (Server *self);
/* The embedded STUN responder's UDP port; 0 when it is off. */
guint16             server_get_stun_port (Server *self);
/* "ADDR:PORT" of the health probe ([server] health); NULL when it is off. */
const char         *server_get_health_address (Server *self);
/* "ADDR:PORT" of the STUN responder; NULL when it is off. */
const char         *server_get_stun_address (Server *self);

/* A logged-in session goes away (closed, logged out, revoked): it leaves its
 * calls, then the registry (telling friends when the user goes offline). */
void                server_session_ended (Server *self, ServerSession *session);

/* Login rate limits: per address for every attempt, per account for failures. */
gboolean server_login_attempt_allowed (Server *self, ServerSession *session, const char *username);
void     server_login_failed          (Server *self, const char *username);

/* Events. The frame is encoded once, whatever the number of sessions. */
void     server_send_event_to_user (Server *self, gint64 user_id, guint16 code,
                                    GVariant *payload, ServerSession *except);
/* Closes every session of the user except `except` and except the sessions
 * logged in with keep_token_hash (may be NULL). */
void     server_close_user_sessions (Server *self, gint64 user_id, ServerSession *except,
                                     const char *keep_token_hash, VoipCloseReason reason,
                                     const char *detail);
/* The same, on every node of a cluster: the tokens are gone from the store,
 * and the user's sessions elsewhere end too. */
void     server_revoke_user_sessions (Server *self, gint64 user_id, ServerSession *except,
                                      const char *keep_token_hash, VoipCloseReason reason,
                                      const char *detail);

G_END_DECLS
