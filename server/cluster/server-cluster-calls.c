/* server-cluster-calls.c — the messages between nodes about calls, and the
 * mirror of the calls other nodes own (server-cluster-calls.h).
 *
 * A message is one GVariant MESSAGE_TYPE in normal form: op, sender node,
 * call id, user id, username, peer, a number, and a payload (a CallChanged
 * view, or a relayed event's). Another node is trusted as the server
 * itself (NATS is the cluster's private network), but what it sends is
 * still checked before use: a malformed message changes nothing. */
#define G_LOG_DOMAIN "voip-server"

#include "server-cluster-calls.h"
#include "server-calls.h"

#define MESSAGE_TYPE "(ystxssuv)"
#define VIEW_TYPE    "(tstuuxa(su))"

/* One user here in a call owned by another node. */
typedef struct {
  gint64         user_id;
  guint64        call_id;
  char          *owner;
  GPtrArray     *ringing;    /* ServerSession*, not owned (ended sessions leave) */
  ServerSession *pending;    /* answered here, the owner not yet heard */
  ServerSession *joined;     /* the session taking part */
  GVariant      *last_view;  /* what the owner said last, for when it dies */
} Mirror;

/* A group call another node owns, as it announced. */
typedef struct {
  gint64   group_id;
  guint64  call_id;
  char    *owner;
} GroupCall;

struct _ServerClusterCalls {
  Server        *server;    /* not owned */
  ServerCluster *cluster;   /* not owned */
  GHashTable    *mirrors;   /* gint64* user id → Mirror* */
  GHashTable    *groups;    /* gint64* group id → GroupCall* */
};

typedef struct {
  guint8       op;
  const char  *node;
  guint64      call_id;
  gint64       user_id;
  const char  *username;
  const char  *peer;
  guint32      number;
  GVariant    *payload;    /* owned */
  GVariant    *variant;    /* owned: the whole message, which the strings point into */
} Message;

/* ---- helpers --------------------------------------------------------------------- */

static void
mirror_free (gpointer data)
{
  Mirror *mirror = data;

  g_free (mirror->owner);
  g_ptr_array_unref (mirror->ringing);
  g_clear_pointer (&mirror->last_view, g_variant_unref);
  g_free (mirror);
}

static void
group_call_free (gpointer data)
{
  GroupCall *group = data;

  g_free (group->owner);
  g_free (group);
}

static VoipCallState
view_state (GVariant *view)
{
  guint32 state;

  g_variant_get_child (view, 3, "u", &state);
  return state;
}

/* The view, in another state and reason; `left` (if not NULL) has left. */
static GVariant *
view_restate (GVariant *view, VoipCallState state, VoipCallReason reason, const char *left)
{
  guint64 id, group;
  const char *initiator, *username;
  gint64 started_ms;
  guint32 participant;
  g_autoptr(GVariantIter) iter = NULL;
  GVariantBuilder participants;

  g_variant_get (view, "(t&stuuxa(su))", &id, &initiator, &group, NULL, NULL, &started_ms,
                 &iter);
  g_variant_builder_init (&participants, G_VARIANT_TYPE ("a(su)"));
  while (g_variant_iter_next (iter, "(&su)", &username, &participant))
    g_variant_builder_add (&participants, "(su)", username,
                           g_strcmp0 (username, left) == 0 ? VOIP_PARTICIPANT_LEFT : participant);
  return g_variant_new ("(tstuuxa(su))", id, initiator, group, state, reason, started_ms,
                        &participants);
}

static void
send_event (ServerSession *session, guint16 code, GVariant *payload)
{
  g_autoptr(GBytes) frame = voip_frame_encode (VOIP_KIND_EVENT, code, 0, 0, payload);

  server_session_send_frame (session, frame);
}

static void
send_to_owner (ServerClusterCalls *self, Mirror *mirror, ServerClusterCallsOp op,
               const char *username, const char *peer, guint32 number, GVariant *payload)
{
  server_cluster_calls_send (self, mirror->owner, op, mirror->call_id, mirror->user_id, username,
                             peer, number, payload);
}

/* A relayed event's payload has the type its code says. */
static gboolean
relayed_event_ok (guint32 code, GVariant *payload)
{
  if (code == VOIP_MSG_CALL_SIGNAL_RECEIVED)
    return g_variant_is_of_type (payload, G_VARIANT_TYPE ("(tsus)"));
  if (code == VOIP_MSG_CALL_DATA_RECEIVED)
    return g_variant_is_of_type (payload, G_VARIANT_TYPE ("(tsay)"));
  return FALSE;
}

static gboolean
parse (GBytes *bytes, Message *message)
{
  GVariant *variant = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE (MESSAGE_TYPE),
                                                                    bytes, FALSE));
  g_autoptr(GVariant) payload = NULL;

  message->variant = variant;
  if (!g_variant_is_normal_form (variant))
    return FALSE;
  g_variant_get (variant, "(y&stx&s&su@v)", &message->op, &message->node, &message->call_id,
                 &message->user_id, &message->username, &message->peer, &message->number,
                 &payload);
  if (message->op < 1 || message->op > SERVER_CLUSTER_CALLS_OP_LAST || message->user_id <= 0
      || !server_cluster_validate_node (message->node, NULL))
    return FALSE;
  message->payload = g_variant_get_variant (payload);
  if ((message->op == SERVER_CLUSTER_CALLS_RING || message->op == SERVER_CLUSTER_CALLS_VIEW_RINGING
       || message->op == SERVER_CLUSTER_CALLS_VIEW_JOINED)
      && !g_variant_is_of_type (message->payload, G_VARIANT_TYPE (VIEW_TYPE)))
    return FALSE;
  if ((message->op == SERVER_CLUSTER_CALLS_RELAY || message->op == SERVER_CLUSTER_CALLS_DATA)
      && !relayed_event_ok (message->number, message->payload))
    return FALSE;
  if (message->op == SERVER_CLUSTER_CALLS_GROUP_CALL
      && !g_variant_is_of_type (message->payload, G_VARIANT_TYPE ("(t)")))
    return FALSE;
  return TRUE;
}

/* ---- the mirror: what the owner says ------------------------------------------------ */

static void
on_ring (ServerClusterCalls *self, Message *m)
{
  ServerUser *user = server_registry_lookup (server_get_registry (self->server), m->user_id);
  Mirror *mirror = g_hash_table_lookup (self->mirrors, &m->user_id);
  guint32 rang = 0;

  if (user != NULL && (server_calls_for_user (server_get_calls (self->server), m->user_id) != NULL
                       || (mirror != NULL && mirror->call_id != m->call_id)))
    rang = SERVER_CLUSTER_CALLS_BUSY;
  else if (user != NULL && mirror == NULL)
    {
      mirror = g_new0 (Mirror, 1);
      mirror->user_id = m->user_id;
      mirror->call_id = m->call_id;
      mirror->owner = g_strdup (m->node);
      mirror->ringing = g_ptr_array_new ();
      g_ptr_array_extend (mirror->ringing, user->sessions, NULL, NULL);
      mirror->last_view = g_variant_ref (m->payload);
      g_hash_table_insert (self->mirrors, &mirror->user_id, mirror);
      for (guint i = 0; i < mirror->ringing->len; i++)
        send_event (mirror->ringing->pdata[i], VOIP_MSG_CALL_CHANGED, m->payload);
      rang = mirror->ringing->len;
    }
  server_cluster_calls_send (self, m->node, SERVER_CLUSTER_CALLS_RANG, m->call_id, m->user_id,
                             "", "", rang, g_variant_new ("()"));
}

static void
on_view (ServerClusterCalls *self, Message *m)
{
  Mirror *mirror = g_hash_table_lookup (self->mirrors, &m->user_id);
  gboolean ended = view_state (m->payload) == VOIP_CALL_STATE_ENDED;

  if (mirror == NULL || mirror->call_id != m->call_id)
    return;
  g_clear_pointer (&mirror->last_view, g_variant_unref);
  mirror->last_view = g_variant_ref (m->payload);
  if (m->op == SERVER_CLUSTER_CALLS_VIEW_RINGING)
    {
      for (guint i = 0; i < mirror->ringing->len; i++)
        send_event (mirror->ringing->pdata[i], VOIP_MSG_CALL_CHANGED, m->payload);
      /* A session joining a group call it was not ringing for. */
      if (mirror->pending != NULL && !g_ptr_array_find (mirror->ringing, mirror->pending, NULL))
        send_event (mirror->pending, VOIP_MSG_CALL_CHANGED, m->payload);
      if (ended)
        {
          g_ptr_array_set_size (mirror->ringing, 0);
          mirror->pending = NULL;
        }
    }
  else
    {
      if (mirror->joined == NULL && mirror->pending != NULL)
        {
          /* Our answer was taken: the other sessions here stop ringing. */
          g_autoptr(GVariant) elsewhere = g_variant_ref_sink (
              view_restate (m->payload, VOIP_CALL_STATE_ENDED,
                            VOIP_CALL_REASON_ANSWERED_ELSEWHERE, NULL));

          mirror->joined = g_steal_pointer (&mirror->pending);
          for (guint i = 0; i < mirror->ringing->len; i++)
            if (mirror->ringing->pdata[i] != mirror->joined)
              send_event (mirror->ringing->pdata[i], VOIP_MSG_CALL_CHANGED, elsewhere);
          g_ptr_array_set_size (mirror->ringing, 0);
        }
      if (mirror->joined != NULL)
        send_event (mirror->joined, VOIP_MSG_CALL_CHANGED, m->payload);
      if (ended)
        mirror->joined = NULL;
    }
  if (mirror->joined == NULL && mirror->pending == NULL && mirror->ringing->len == 0)
    g_hash_table_remove (self->mirrors, &m->user_id);
}

static void
on_data (ServerClusterCalls *self, Message *m)
{
  Mirror *mirror = g_hash_table_lookup (self->mirrors, &m->user_id);

  if (mirror != NULL && mirror->call_id == m->call_id && mirror->joined != NULL)
    send_event (mirror->joined, m->number, m->payload);
}

/* ---- the owner: what the others say ---------------------------------------------------- */

static void
on_relay (ServerClusterCalls *self, Message *m)
{
  ServerCall *call = server_calls_lookup (server_get_calls (self->server), m->call_id);

  if (call != NULL && server_call_is_joined_through (call, m->user_id, m->node))
    server_call_deliver (call, m->username, m->peer, m->number, m->payload);
}

static void
on_group_call (ServerClusterCalls *self, Message *m)
{
  guint64 group_id;
  GroupCall *group;

  g_variant_get (m->payload, "(t)", &group_id);
  if (group_id == 0 || group_id > G_MAXINT64)
    return;
  if (m->number == 0)
    {
      group = g_hash_table_lookup (self->groups, &(gint64) { (gint64) group_id });
      if (group != NULL && group->call_id == m->call_id)
        g_hash_table_remove (self->groups, &group->group_id);
      return;
    }
  group = g_new0 (GroupCall, 1);
  group->group_id = (gint64) group_id;
  group->call_id = m->call_id;
  group->owner = g_strdup (m->node);
  g_hash_table_replace (self->groups, &group->group_id, group);
}

static void
dispatch (ServerClusterCalls *self, Message *m)
{
  ServerCalls *calls = server_get_calls (self->server);

  switch ((ServerClusterCallsOp) m->op)
    {
    case SERVER_CLUSTER_CALLS_RING:
      on_ring (self, m);
      break;
    case SERVER_CLUSTER_CALLS_VIEW_RINGING:
    case SERVER_CLUSTER_CALLS_VIEW_JOINED:
      on_view (self, m);
      break;
    case SERVER_CLUSTER_CALLS_DATA:
      on_data (self, m);
      break;
    case SERVER_CLUSTER_CALLS_RANG:
      server_calls_remote_rang (calls, m->call_id, m->user_id, m->node, m->number);
      break;
    case SERVER_CLUSTER_CALLS_ANSWER:
    case SERVER_CLUSTER_CALLS_JOIN:
      if (voip_validate_username (m->username, NULL))
        server_calls_remote_answer (calls, m->call_id, m->user_id, m->username, m->node,
                                    m->op == SERVER_CLUSTER_CALLS_JOIN);
      break;
    case SERVER_CLUSTER_CALLS_GROUP_CALL:
      on_group_call (self, m);
      break;
    case SERVER_CLUSTER_CALLS_REJECT:
      server_calls_remote_leave (calls, m->call_id, m->user_id, m->node,
                                 VOIP_CALL_REASON_REJECTED);
      break;
    case SERVER_CLUSTER_CALLS_HANGUP:
      server_calls_remote_leave (calls, m->call_id, m->user_id, m->node, VOIP_CALL_REASON_HANGUP);
      break;
    case SERVER_CLUSTER_CALLS_GONE:
      server_calls_remote_leave (calls, m->call_id, m->user_id, m->node, VOIP_CALL_REASON_OFFLINE);
      break;
    case SERVER_CLUSTER_CALLS_RELAY:
      on_relay (self, m);
      break;
    }
}

/* ---- public ---------------------------------------------------------------------------- */

ServerClusterCalls *
server_cluster_calls_new (Server *server, ServerCluster *cluster)
{
  ServerClusterCalls *self = g_new0 (ServerClusterCalls, 1);

  self->server = server;
  self->cluster = cluster;
  self->mirrors = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, mirror_free);
  self->groups = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, group_call_free);
  return self;
}

void
server_cluster_calls_free (ServerClusterCalls *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->mirrors);
  g_hash_table_unref (self->groups);
  g_free (self);
}

void
server_cluster_calls_send (ServerClusterCalls *self, const char *node, ServerClusterCallsOp op,
                           guint64 call_id, gint64 user_id, const char *username,
                           const char *peer, guint32 number, GVariant *payload)
{
  g_autoptr(GVariant) message = g_variant_ref_sink (
      g_variant_new (MESSAGE_TYPE, (guint8) op, server_cluster_get_node (self->cluster), call_id,
                     user_id, username ? username : "", peer, number, payload));
  g_autoptr(GBytes) bytes = g_variant_get_data_as_bytes (message);

  /* Lost, the call goes on without it: a participant there is dropped by
   * the heartbeat if the node is gone, and clients hang up what stalls. */
  if (!server_cluster_publish_calls (self->cluster, node, bytes))
    g_debug ("cluster: a call message for %s was not sent", node);
}

GPtrArray *
server_cluster_calls_user_nodes (ServerClusterCalls *self, gint64 user_id)
{
  return server_cluster_user_nodes (self->cluster, user_id);
}

char *
server_cluster_calls_username (ServerClusterCalls *self, gint64 user_id)
{
  return g_strdup (server_cluster_remote_username (self->cluster, user_id)
                   ? server_cluster_remote_username (self->cluster, user_id) : "");
}

void
server_cluster_calls_receive (ServerClusterCalls *self, GBytes *bytes)
{
  Message message = { 0 };

  if (!parse (bytes, &message))
    {
      g_warning ("cluster: ignored a malformed call message");
      g_clear_pointer (&message.payload, g_variant_unref);
      g_variant_unref (message.variant);
      return;
    }
  g_debug ("cluster: call %" G_GUINT64_FORMAT ": op %u from %s for user %" G_GINT64_FORMAT,
           message.call_id, message.op, message.node, message.user_id);
  dispatch (self, &message);
  g_variant_unref (message.payload);
  g_variant_unref (message.variant);
}

void
server_cluster_calls_nodes_gone (ServerClusterCalls *self, GPtrArray *nodes)
{
  GHashTableIter iter;
  Mirror *mirror;
  GroupCall *group;

  g_hash_table_iter_init (&iter, self->groups);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &group))
    for (guint i = 0; i < nodes->len; i++)
      if (g_str_equal (group->owner, nodes->pdata[i]))
        {
          g_hash_table_iter_remove (&iter);
          break;
        }
  g_hash_table_iter_init (&iter, self->mirrors);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &mirror))
    for (guint i = 0; i < nodes->len; i++)
      if (g_str_equal (mirror->owner, nodes->pdata[i]))
        {
          ServerSession *any;
          g_autoptr(GVariant) ended = NULL;

          if (mirror->last_view == NULL)   /* a join the owner never answered */
            {
              g_hash_table_iter_remove (&iter);
              break;
            }
          any = mirror->joined ? mirror->joined
                               : mirror->ringing->len ? mirror->ringing->pdata[0] : NULL;
          ended = g_variant_ref_sink (
              view_restate (mirror->last_view, VOIP_CALL_STATE_ENDED, VOIP_CALL_REASON_OFFLINE,
                            any ? server_session_get_username (any) : NULL));

          g_message ("cluster: call %" G_GUINT64_FORMAT " ended: its node %s is gone",
                     mirror->call_id, mirror->owner);
          if (mirror->joined != NULL)
            send_event (mirror->joined, VOIP_MSG_CALL_CHANGED, ended);
          else
            for (guint j = 0; j < mirror->ringing->len; j++)
              send_event (mirror->ringing->pdata[j], VOIP_MSG_CALL_CHANGED, ended);
          g_hash_table_iter_remove (&iter);
          break;
        }
}

void
server_cluster_calls_session_ended (ServerClusterCalls *self, ServerSession *session)
{
  gint64 user_id = server_session_get_user_id (session);
  Mirror *mirror = g_hash_table_lookup (self->mirrors, &user_id);

  if (mirror == NULL)
    return;
  g_ptr_array_remove (mirror->ringing, session);
  if (mirror->pending == session)
    mirror->pending = NULL;
  if (mirror->joined == session)
    mirror->joined = NULL;
  else if (mirror->joined != NULL || mirror->ringing->len > 0 || mirror->pending != NULL)
    return;
  send_to_owner (self, mirror, SERVER_CLUSTER_CALLS_GONE, "", "", 0, g_variant_new ("()"));
  g_hash_table_remove (self->mirrors, &user_id);
}

void
server_cluster_calls_announce_group (ServerClusterCalls *self, const char *node, guint64 call_id,
                                     gint64 group_id, gboolean running)
{
  g_autoptr(GPtrArray) nodes = NULL;

  if (node != NULL)
    {
      nodes = g_ptr_array_new ();
      g_ptr_array_add (nodes, (gpointer) node);
    }
  else
    nodes = server_cluster_nodes (self->cluster);

  for (guint i = 0; i < nodes->len; i++)
    server_cluster_calls_send (self, nodes->pdata[i], SERVER_CLUSTER_CALLS_GROUP_CALL, call_id,
                               G_MAXINT64 /* no user */, "", "", running ? 1 : 0,
                               g_variant_new ("(t)", (guint64) group_id));
}

guint64
server_cluster_calls_group_call (ServerClusterCalls *self, gint64 group_id)
{
  GroupCall *group = g_hash_table_lookup (self->groups, &group_id);

  return group != NULL ? group->call_id : 0;
}

gint64
server_cluster_calls_group_of (ServerClusterCalls *self, guint64 call_id)
{
  GHashTableIter iter;
  GroupCall *group;

  g_hash_table_iter_init (&iter, self->groups);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &group))
    if (group->call_id == call_id)
      return group->group_id;
  return 0;
}

void
server_cluster_calls_join (ServerClusterCalls *self, ServerSession *session, guint64 call_id)
{
  gint64 group_id = server_cluster_calls_group_of (self, call_id);
  GroupCall *group = g_hash_table_lookup (self->groups, &group_id);
  gint64 user_id = server_session_get_user_id (session);
  Mirror *mirror;

  if (group == NULL || g_hash_table_contains (self->mirrors, &user_id))
    return;
  mirror = g_new0 (Mirror, 1);
  mirror->user_id = user_id;
  mirror->call_id = call_id;
  mirror->owner = g_strdup (group->owner);
  mirror->ringing = g_ptr_array_new ();
  mirror->pending = session;
  g_hash_table_insert (self->mirrors, &mirror->user_id, mirror);
  send_to_owner (self, mirror, SERVER_CLUSTER_CALLS_JOIN, server_session_get_username (session),
                 "", 0, g_variant_new ("()"));
}

gboolean
server_cluster_calls_user_in_call (ServerClusterCalls *self, gint64 user_id)
{
  return g_hash_table_contains (self->mirrors, &user_id);
}

gboolean
server_cluster_calls_request (ServerClusterCalls *self, ServerSession *session, guint16 code,
                              guint64 call_id, const char *peer, GVariant *event,
                              VoipStatus *status)
{
  gint64 user_id = server_session_get_user_id (session);
  const char *username = server_session_get_username (session);
  Mirror *mirror = g_hash_table_lookup (self->mirrors, &user_id);
  g_autoptr(GVariant) sunk = event ? g_variant_ref_sink (event) : NULL;
  gboolean ringing_here;

  if (mirror == NULL || mirror->call_id != call_id)
    {
      g_debug ("cluster: call %" G_GUINT64_FORMAT ": request %u of %s: not mirrored", call_id,
               code, username);
      return FALSE;
    }
  ringing_here = g_ptr_array_find (mirror->ringing, session, NULL);
  *status = VOIP_STATUS_OK;
  switch (code)
    {
    case VOIP_MSG_CALL_ANSWER:
      /* The owner decides; if another session was first, this one hears
       * answered-elsewhere. */
      if (mirror->joined != NULL)
        *status = mirror->joined == session ? VOIP_STATUS_OK : VOIP_STATUS_CALL_ANSWERED;
      else if (mirror->pending != NULL && mirror->pending != session)
        *status = VOIP_STATUS_CALL_ANSWERED;
      else if (!ringing_here)
        *status = VOIP_STATUS_NO_SUCH_CALL;
      else if (mirror->pending == NULL)
        {
          mirror->pending = session;
          send_to_owner (self, mirror, SERVER_CLUSTER_CALLS_ANSWER, username, "", 0,
                         g_variant_new ("()"));
        }
      break;
    case VOIP_MSG_CALL_REJECT:
    case VOIP_MSG_CALL_HANGUP:
      if (mirror->joined == session)
        {
          if (code == VOIP_MSG_CALL_REJECT)
            *status = VOIP_STATUS_NOT_ALLOWED;   /* joined: hang up instead */
          else
            send_to_owner (self, mirror, SERVER_CLUSTER_CALLS_HANGUP, username, "", 0,
                           g_variant_new ("()"));
        }
      else if (ringing_here && mirror->joined == NULL)
        send_to_owner (self, mirror, SERVER_CLUSTER_CALLS_REJECT, username, "", 0,
                       g_variant_new ("()"));
      else
        *status = VOIP_STATUS_NO_SUCH_CALL;
      break;
    case VOIP_MSG_CALL_SIGNAL:
    case VOIP_MSG_CALL_DATA:
      if (mirror->joined != session)
        *status = VOIP_STATUS_NO_SUCH_CALL;
      else if (g_str_equal (peer, username))
        *status = VOIP_STATUS_NOT_ALLOWED;
      else
        send_to_owner (self, mirror, SERVER_CLUSTER_CALLS_RELAY, username, peer,
                       code == VOIP_MSG_CALL_SIGNAL ? VOIP_MSG_CALL_SIGNAL_RECEIVED
                                                    : VOIP_MSG_CALL_DATA_RECEIVED,
                       sunk);
      break;
    default:
      g_return_val_if_reached (FALSE);
    }
  return TRUE;
}
