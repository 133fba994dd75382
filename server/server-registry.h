/* server-registry.h — who is online: users, their sessions, their presence. */
#pragma once

#include "server-session.h"
#include "cluster/server-cluster.h"

G_BEGIN_DECLS

typedef struct {
  gint64        id;
  char         *username;
  GPtrArray    *sessions;   /* ServerSession*, not owned (the server owns sessions) */
  VoipPresence  presence;   /* the user's choice; others may see less */
} ServerUser;

typedef struct _ServerRegistry ServerRegistry;

ServerRegistry *server_registry_new  (void);
void            server_registry_free (ServerRegistry *self);

/* NULL when the user has no logged-in session. */
ServerUser *server_registry_lookup (ServerRegistry *self, gint64 user_id);
/* Attaches a logged-in session; *first tells that the user just came online. */
ServerUser *server_registry_attach (ServerRegistry *self, ServerSession *session, gboolean *first);
/* Detaches; returns TRUE when that was the user's last session. */
gboolean    server_registry_detach (ServerRegistry *self, ServerSession *session);

/* The user's choice, here or (in a cluster) on another node; OFFLINE when
 * online nowhere. */
VoipPresence server_registry_presence (ServerRegistry *self, gint64 user_id);
/* Presence as others may see it: OFFLINE when not online or invisible. */
VoipPresence server_registry_visible_presence (ServerRegistry *self, gint64 user_id);
/* TRUE when, in a cluster, the user has a session on another node. */
gboolean     server_registry_online_elsewhere (ServerRegistry *self, gint64 user_id);
/* The user's choice of presence, told to the other nodes. */
void         server_registry_set_presence (ServerRegistry *self, ServerUser *user,
                                           VoipPresence presence);

/* Queues a frame on every session of the user but `except`, and, in a
 * cluster, on the user's sessions on the other nodes. */
void        server_registry_send (ServerRegistry *self, gint64 user_id, GBytes *frame,
                                  ServerSession *except);
/* Queues a frame on the user's sessions on this node only (a frame that
 * came from another node). */
void        server_registry_send_local (ServerRegistry *self, gint64 user_id, GBytes *frame);
/* In a cluster (not owned; NULL: one node): users with a session here are
 * watched on it, and events go out through it. */
void        server_registry_set_cluster (ServerRegistry *self, ServerCluster *cluster);
guint       server_registry_count (ServerRegistry *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ServerRegistry, server_registry_free)

G_END_DECLS
