/* server-cluster-presence.h — who is online on the other nodes.
 *
 * Each node announces its users' presence (server-cluster.h) and a
 * heartbeat; this map holds what the others announced. A node silent for
 * SERVER_CLUSTER_NODE_TIMEOUT_S is taken for dead and its users leave the
 * map, so that a node killed without a word is noticed in bounded time. */
#pragma once

#include <glib.h>

#include "voip-proto.h"

G_BEGIN_DECLS

/* Heartbeats go out every SERVER_CLUSTER_HEARTBEAT_S; a node is dead after
 * this much silence (three missed beats and some slack). */
#define SERVER_CLUSTER_HEARTBEAT_S     1
#define SERVER_CLUSTER_NODE_TIMEOUT_S  4

typedef struct _ServerClusterPresence ServerClusterPresence;

/* A user who was online on a node that died. */
typedef struct {
  gint64  user_id;
  char   *username;
  VoipPresence presence;
} ServerClusterGone;

ServerClusterPresence *server_cluster_presence_new  (void);
void                   server_cluster_presence_free (ServerClusterPresence *self);

/* The node spoke at `now` (monotonic µs). */
void         server_cluster_presence_seen (ServerClusterPresence *self, const char *node,
                                           gint64 now);
/* The user's presence on that node; OFFLINE: no more session there. */
void         server_cluster_presence_set  (ServerClusterPresence *self, const char *node,
                                           gint64 user_id, const char *username,
                                           VoipPresence presence, gint64 now);
/* The user's presence on some other node (their choice, invisible
 * included), or OFFLINE when they have no session elsewhere. */
VoipPresence server_cluster_presence_get  (ServerClusterPresence *self, gint64 user_id);
/* The username another node announced for the user; NULL if none did. */
const char  *server_cluster_presence_username (ServerClusterPresence *self, gint64 user_id);
/* TRUE when the node was heard from and not taken for dead since. */
gboolean     server_cluster_presence_knows (ServerClusterPresence *self, const char *node);
/* The nodes (char*, owned) heard from and not yet taken for dead. */
GPtrArray   *server_cluster_presence_list_nodes (ServerClusterPresence *self);
/* The nodes (char*, owned) where the user has a session. */
GPtrArray   *server_cluster_presence_nodes (ServerClusterPresence *self, gint64 user_id);
/* Forgets the nodes silent since before now - timeout; returns their users
 * (ServerClusterGone*, owned) who are online on no other node, and adds
 * the nodes' names (char*) to dead_nodes if not NULL. */
GPtrArray   *server_cluster_presence_sweep (ServerClusterPresence *self, gint64 now,
                                            GPtrArray *dead_nodes);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ServerClusterPresence, server_cluster_presence_free)

G_END_DECLS
