/* server-cluster.h — the link between voip-server nodes over NATS.
 *
 * Each user has a subject, voip.user.<id>. A node subscribes to the users
 * that have a session on it, and publishes there every event for a user
 * (the frame as the sessions receive it), so that the user's sessions on
 * the other nodes get it too. The connection does not echo what this node
 * publishes: its own sessions already had it.
 *
 * NATS is the live path, not the truth: when the link to NATS was lost and
 * comes back, events published meanwhile are gone, so the owner is told
 * (gap) and makes its sessions resync from the store.
 *
 * libnats calls back on its own threads; everything here is handed to the
 * GMainContext given at creation, and the callbacks run there only.
 */
#pragma once

#include <gio/gio.h>

#include "server-cluster-presence.h"

G_BEGIN_DECLS

typedef struct _ServerCluster ServerCluster;

typedef struct {
  /* A frame for the local sessions of user_id, from another node. */
  void (*user_frame) (gint64 user_id, GBytes *frame, gpointer user_data);
  /* The link to NATS was lost for a while and is back: events may be missing. */
  void (*gap)        (gpointer user_data);
  /* Users (ServerClusterGone*) who were online only on a node that died. */
  void (*users_gone) (GPtrArray *gone, gpointer user_data);
  /* A user with a session here chose a presence on another node. */
  void (*user_presence) (gint64 user_id, VoipPresence presence, gpointer user_data);
  /* A wrong password for username on another node (the account's login limit). */
  void (*login_failed)  (const char *username, gpointer user_data);
  /* Another node revoked the user's tokens: end the sessions here, except
   * those on keep_token_hash (NULL: none). */
  void (*revoked)       (gint64 user_id, const char *keep_token_hash, guint reason,
                         const char *detail, gpointer user_data);
  /* Another node could not publish events for these users (user_ids NULL:
   * for anyone) while it had no link to NATS: their sessions resync. */
  void (*resync)        (GArray *user_ids, gpointer user_data);
  /* A message for this node's calls (server-cluster-calls.h), from another
   * node; NULL: the node takes none. */
  void (*calls_message) (GBytes *message, gpointer user_data);
  /* A node was heard from for the first time (or again after it was taken
   * for dead); NULL: not wanted. */
  void (*node_joined)   (const char *node, gpointer user_data);
  /* The heartbeat found these nodes (char*) dead; NULL: not wanted. */
  void (*nodes_gone)    (GPtrArray *nodes, gpointer user_data);
} ServerClusterCallbacks;

/* Checks a node name: 1 to SERVER_CLUSTER_NODE_MAX of [A-Za-z0-9_-]. */
#define SERVER_CLUSTER_NODE_MAX 64
gboolean       server_cluster_validate_node (const char *node, GError **error);
/* Checks a [cluster] nats list: nats://HOST:PORT, at least one. */
gboolean       server_cluster_validate_urls (const char *const *urls, GError **error);

/* What libnats keeps of a node's publications while it reconnects, by default. */
#define SERVER_CLUSTER_RECONNECT_BUFFER (8 * 1024 * 1024)
/* How many users a node remembers it could not publish for, during a gap;
 * past that, it asks every node to resync everyone. */
#define SERVER_CLUSTER_RESYNC_USERS_MAX 32768   /* ids of up to 19 digits: < 1 MB, NATS' max payload */

/* Connects to one of urls (blocking: at start-up only). reconnect_buffer:
 * bytes of publications libnats keeps while reconnecting. */
ServerCluster *server_cluster_new  (const char *node, const char *const *urls,
                                    gsize reconnect_buffer, GMainContext *context,
                                    const ServerClusterCallbacks *callbacks, gpointer user_data,
                                    GError **error);
/* Closes the link; no callback runs after this returns. */
void           server_cluster_free (ServerCluster *self);

const char    *server_cluster_get_node (ServerCluster *self);
/* TRUE while the link to NATS is up. */
gboolean       server_cluster_is_connected (ServerCluster *self);

/* The user has a first session here / no more session here. */
void           server_cluster_watch_user   (ServerCluster *self, gint64 user_id);
void           server_cluster_unwatch_user (ServerCluster *self, gint64 user_id);
/* Sends a frame to the user's sessions on the other nodes. Never blocks:
 * libnats buffers it (and, while reconnecting, up to its reconnect buffer). */
void           server_cluster_publish_user (ServerCluster *self, gint64 user_id, GBytes *frame);

/* Tells the other nodes the user's presence here (their choice, invisible
 * included); OFFLINE when the user has no more session here. */
void           server_cluster_announce (ServerCluster *self, gint64 user_id, const char *username,
                                        VoipPresence presence);
/* Tells the other nodes a password was wrong for username. */
void           server_cluster_login_failed (ServerCluster *self, const char *username);
/* Tells the other nodes to end the user's sessions (but those on
 * keep_token_hash, if not NULL), with reason and detail. */
void           server_cluster_revoke (ServerCluster *self, gint64 user_id,
                                      const char *keep_token_hash, guint reason,
                                      const char *detail);

/* The user's presence on the other nodes; OFFLINE when on none. */
VoipPresence   server_cluster_remote_presence (ServerCluster *self, gint64 user_id);
/* The username the other nodes know the user by; NULL when on none. */
const char    *server_cluster_remote_username (ServerCluster *self, gint64 user_id);
/* The other nodes (char*) alive, as far as their heartbeats tell. */
GPtrArray     *server_cluster_nodes (ServerCluster *self);
/* The other nodes (char*) where the user has a session. */
GPtrArray     *server_cluster_user_nodes (ServerCluster *self, gint64 user_id);

/* Sends a message to the calls of another node (voip.calls.NODE). Never
 * blocks; FALSE when libnats refused it (no link, buffer full). */
gboolean       server_cluster_publish_calls (ServerCluster *self, const char *node,
                                             GBytes *message);

G_END_DECLS
