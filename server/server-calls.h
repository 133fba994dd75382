/* server-calls.h — calls in progress: who rings, who takes part, and what
 * each session is told. Calls live in memory only and die with the server.
 *
 * The functions here run on the main loop once a handler has checked what
 * needs the store (friendship, group membership). They send CallChanged to
 * every session concerned and return the status for the request's reply. */
#pragma once

#include "server.h"

G_BEGIN_DECLS

typedef struct _ServerCall  ServerCall;

ServerCalls *server_calls_new  (Server *server);
void         server_calls_free (ServerCalls *self);

ServerCall  *server_calls_lookup    (ServerCalls *self, guint64 call_id);
/* The call the user rings for or takes part in, if any (a user is in at
 * most one call at a time). */
ServerCall  *server_calls_for_user  (ServerCalls *self, gint64 user_id);
/* The running call of a group, if any. */
ServerCall  *server_calls_for_group (ServerCalls *self, gint64 group_id);

guint64      server_call_get_id     (ServerCall *call);
gint64       server_call_get_group  (ServerCall *call);
/* The user's state in the call; 0 when the user never took part. */
VoipParticipantState server_call_get_participant_state (ServerCall *call, gint64 user_id);
/* The session through which a participant is joined; NULL when not joined. */
ServerSession *server_call_get_joined_session (ServerCall *call, const char *username);

/* Starts a call from the initiator's session, ringing every session of each
 * invitee (online users, in no call). Returns the call's id. */
guint64      server_calls_start (ServerCalls *self, ServerSession *initiator, gint64 group_id,
                                 const gint64 *invitee_ids, guint n_invitees);

/* Answers a ringing call, or joins a running group call (the caller has
 * checked the membership). OK, Busy, CallFull or CallAnswered. */
VoipStatus   server_call_answer (ServerCalls *self, ServerCall *call, ServerSession *session);
VoipStatus   server_call_reject (ServerCalls *self, ServerCall *call, ServerSession *session);
VoipStatus   server_call_hangup (ServerCalls *self, ServerCall *call, ServerSession *session);

/* A logged-in session goes away: it leaves the call it takes part in or
 * rings for. Idempotent. */
void         server_calls_session_ended (ServerCalls *self, ServerSession *session);

/* ---- in a cluster -------------------------------------------------------------- */

typedef struct _ServerCluster      ServerCluster;        /* cluster/server-cluster.h */
typedef struct _ServerClusterCalls ServerClusterCalls;   /* cluster/server-cluster-calls.h */

/* Calls reach the users' sessions on the other nodes through cluster (NULL:
 * one node); call ids become the cluster's. */
void         server_calls_set_cluster (ServerCalls *self, ServerCluster *cluster);
/* NULL on a single node. */
ServerClusterCalls *server_calls_get_cluster (ServerCalls *self);

/* What another node says about one of our calls: it rang `rang` sessions
 * of the user (SERVER_CLUSTER_CALLS_BUSY: the user is in another call
 * there); the user answered there; the user left there (HANGUP, REJECTED,
 * or OFFLINE: no more session there). Unknown calls are ignored. */
void         server_calls_remote_rang   (ServerCalls *self, guint64 call_id, gint64 user_id,
                                         const char *node, guint32 rang);
/* join: a member there (checked there) joins the group call without
 * having rung. */
void         server_calls_remote_answer (ServerCalls *self, guint64 call_id, gint64 user_id,
                                         const char *username, const char *node, gboolean join);
void         server_calls_remote_leave  (ServerCalls *self, guint64 call_id, gint64 user_id,
                                         const char *node, VoipCallReason reason);
/* These nodes died: their users leave our calls (OFFLINE), and the calls
 * they owned end for our sessions. */
void         server_calls_nodes_gone    (ServerCalls *self, GPtrArray *nodes);

/* A node joined the cluster: it hears of our running group calls, so
 * that its users can join them. */
void         server_calls_node_joined   (ServerCalls *self, const char *node);

/* TRUE when the user takes part through a session on `node` (NULL: here). */
gboolean     server_call_is_joined_through (ServerCall *call, gint64 user_id, const char *node);
/* Sends an event (code, payload: CallSignalReceived or CallDataReceived)
 * to the joined session of `peer`, here or on its node; FALSE when peer is
 * not joined or is `from`. The payload is not floating, and not taken. */
gboolean     server_call_deliver (ServerCall *call, const char *from, const char *peer,
                                  guint16 code, GVariant *payload);

G_END_DECLS
