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

G_END_DECLS
