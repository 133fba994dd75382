/* server-cluster-calls.h — calls between users on different nodes.
 *
 * A call lives on the node where it started (its owner, server-calls.c),
 * in memory, as on one node: calls last minutes, every change is a live
 * event, and a call whose owner died cannot go on anyway (its state and its
 * relay are gone with it). PostgreSQL is not involved: it would add a
 * round trip to every answer and ICE candidate, and hold nothing a client
 * could resume from.
 *
 * The other nodes reach the owner over NATS (voip.calls.OWNER) and keep a
 * mirror of what concerns their own sessions: for each of their users in a
 * call owned elsewhere, the call, its owner, the sessions ringing and the
 * one joined. A user is in one call at a time, so the mirror is by user.
 *
 * A node that dies is noticed by the heartbeat (server-cluster-presence.h,
 * SERVER_CLUSTER_NODE_TIMEOUT_S): the owner drops the participants who
 * were there, and the other nodes end the calls it owned for their
 * sessions, with reason OFFLINE.
 */
#pragma once

#include "server.h"
#include "server-cluster.h"

G_BEGIN_DECLS

typedef struct _ServerClusterCalls ServerClusterCalls;

typedef enum {
  /* owner → node: ring the user's sessions (payload: the RINGING view);
   * the node answers RANG. */
  SERVER_CLUSTER_CALLS_RING = 1,
  /* node → owner: number = sessions rung, or SERVER_CLUSTER_CALLS_BUSY. */
  SERVER_CLUSTER_CALLS_RANG,
  /* owner → node: a view for the user's ringing sessions there. */
  SERVER_CLUSTER_CALLS_VIEW_RINGING,
  /* owner → node: a view for the user's session joined there. */
  SERVER_CLUSTER_CALLS_VIEW_JOINED,
  /* node → owner: the user answered / rejected / hung up there. */
  SERVER_CLUSTER_CALLS_ANSWER,
  SERVER_CLUSTER_CALLS_REJECT,
  SERVER_CLUSTER_CALLS_HANGUP,
  /* node → owner: the user has no more session ringing or joined there. */
  SERVER_CLUSTER_CALLS_GONE,
  /* node → owner: a relayed event (number = its code) from the user to
   * `peer`; the owner passes it on. */
  SERVER_CLUSTER_CALLS_RELAY,
  /* owner → node: a relayed event (number = code) for the user's joined
   * session there. */
  SERVER_CLUSTER_CALLS_DATA,
  /* owner → every node: the group's call (payload "(t)": the group) runs
   * (number 1) or ended (0), so that members elsewhere can join it. */
  SERVER_CLUSTER_CALLS_GROUP_CALL,
  /* node → owner: the user, a member (checked there), joins the group
   * call they were not ringing for. */
  SERVER_CLUSTER_CALLS_JOIN,
} ServerClusterCallsOp;

#define SERVER_CLUSTER_CALLS_OP_LAST SERVER_CLUSTER_CALLS_JOIN
/* RANG: the user is in another call on that node. */
#define SERVER_CLUSTER_CALLS_BUSY G_MAXUINT32

ServerClusterCalls *server_cluster_calls_new  (Server *server, ServerCluster *cluster);
void                server_cluster_calls_free (ServerClusterCalls *self);

/* Sends a message to the calls of `node`. Takes a floating payload. */
void        server_cluster_calls_send (ServerClusterCalls *self, const char *node,
                                       ServerClusterCallsOp op, guint64 call_id, gint64 user_id,
                                       const char *username, const char *peer, guint32 number,
                                       GVariant *payload);
/* The other nodes where the user has a session (char*, owned). */
GPtrArray  *server_cluster_calls_user_nodes (ServerClusterCalls *self, gint64 user_id);
/* The username the other nodes know user_id by (newly allocated; "" if none). */
char       *server_cluster_calls_username (ServerClusterCalls *self, gint64 user_id);

/* A message from another node (voip.calls.NODE). Malformed ones are logged
 * and dropped. */
void        server_cluster_calls_receive (ServerClusterCalls *self, GBytes *message);
/* The calls these nodes owned end for the sessions here. */
void        server_cluster_calls_nodes_gone (ServerClusterCalls *self, GPtrArray *nodes);
/* A logged-in session goes away: the mirror forgets it (and the owner
 * hears when it was the user's last session in the call here). */
void        server_cluster_calls_session_ended (ServerClusterCalls *self,
                                                ServerSession *session);
/* Tells `node` (NULL: every other node) that the group's call runs (or
 * ended). */
void        server_cluster_calls_announce_group (ServerClusterCalls *self, const char *node,
                                                 guint64 call_id, gint64 group_id,
                                                 gboolean running);
/* The running call of a group that another node owns; 0 when none known. */
guint64     server_cluster_calls_group_call (ServerClusterCalls *self, gint64 group_id);
/* The group of a running group call another node owns; 0 when unknown. */
gint64      server_cluster_calls_group_of (ServerClusterCalls *self, guint64 call_id);
/* The session (of a member: the caller checked) joins the group call
 * another node owns; the owner answers with the call's views (or ends it
 * for the session if it cannot join). */
void        server_cluster_calls_join (ServerClusterCalls *self, ServerSession *session,
                                       guint64 call_id);
/* TRUE when the user is in a call owned by another node. */
gboolean    server_cluster_calls_user_in_call (ServerClusterCalls *self, gint64 user_id);

/* A call request (CallAnswer, CallReject, CallHangup, CallSignal,
 * CallData) from a session here about a call owned by another node.
 * FALSE when the session's user has no such call in the mirror (the
 * caller answers NoSuchCall); else *status is the reply's. For
 * CallSignal and CallData, peer and event (the payload its peer is to
 * receive, floating) are given; the owner checks the peer. */
gboolean    server_cluster_calls_request (ServerClusterCalls *self, ServerSession *session,
                                          guint16 code, guint64 call_id, const char *peer,
                                          GVariant *event, VoipStatus *status);

G_END_DECLS
