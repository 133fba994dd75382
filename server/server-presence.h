/* server-presence.h — who sees whom online. */
#pragma once

#include "server.h"

G_BEGIN_DECLS

/* A session has just logged in: registers it, and tells the friends when the
 * user comes online. */
void server_presence_session_started (Server *server, ServerSession *session);
/* A logged-in session is going away (disconnect, logout, revoked). */
void server_presence_session_ended   (Server *server, ServerSession *session);
/* Sends PresenceChanged(username, presence) to every online friend of user_id. */
void server_presence_notify_friends  (Server *server, gint64 user_id, const char *username,
                                      VoipPresence presence);

/* In a cluster, users (ServerClusterGone*) who were online only on a node
 * that died: their friends with a session here see them go offline. */
void server_presence_users_gone      (Server *server, GPtrArray *gone);

G_END_DECLS
