/* server-calls.c — the calls registry and its state machine.
 *
 * A call is a list of participants in joining order, the initiator first.
 * A participant is INVITED (every session the user had at the invitation
 * rings), JOINED (through exactly one session: the one that answered, or
 * the initiator's) or LEFT. A user is in at most one call at a time.
 *
 * A call ends as soon as it can no longer have two joined participants:
 * nobody is joined, or joined + invited < 2. Whatever made it end (a
 * rejection, a hang-up, a dropped session, the ring timeout) is the reason
 * every remaining session is told.
 *
 * Events are built while the state changes and sent only once it is
 * consistent again (an Outbox). Sending never closes a session (a slow one
 * is closed from an idle, and comes back here through
 * server_calls_session_ended() then), but the outbox keeps every event of
 * a change describing the same, settled state.
 *
 * In a cluster, the node where a call starts owns it: its state lives here
 * only, in memory, as on one node. A participant's sessions on other nodes
 * are reached through those nodes (server-cluster-calls.c): the call rings
 * "on node M" and is joined "through node M", and M tells which of its
 * sessions. Messages to other nodes go out at once: NATS never calls back
 * inside a publish, so nothing here changes under them.
 */
#define G_LOG_DOMAIN "voip-server"

#include "server-calls.h"
#include "server-job.h"
#include "cluster/server-cluster-calls.h"

typedef struct {
  gint64                user_id;
  char                 *username;
  VoipParticipantState  state;
  ServerSession        *session;   /* JOINED: the session taking part; not owned */
  GPtrArray            *ringing;   /* INVITED: the sessions ringing; not owned */
  char                 *joined_node;    /* JOINED through another node (session NULL) */
  GPtrArray            *ringing_nodes;  /* INVITED: the other nodes ringing (char*) */
} Participant;

struct _ServerCall {
  guint64      id;
  gint64       group_id;
  gint64       started_ms;     /* when a second participant joined; 0 before */
  GPtrArray   *participants;   /* Participant*, joining order */
  guint        ring_timer;
  ServerCalls *calls;
};

struct _ServerCalls {
  Server     *server;      /* not owned: the server owns us */
  guint64     last_id;
  GHashTable *by_id;       /* guint64* → ServerCall* (owned) */
  GHashTable *by_user;     /* gint64* → ServerCall*: users invited or joined */
  GHashTable *by_group;    /* gint64* → ServerCall* */
  ServerClusterCalls *cluster;   /* NULL: a single node */
};

/* ---- outbox: events waiting for the state to settle ---------------------------- */

typedef struct {
  GPtrArray *sessions;   /* ServerSession* (ref) */
  GPtrArray *frames;     /* GBytes*, same index */
} Outbox;

static void
outbox_init (Outbox *outbox)
{
  outbox->sessions = g_ptr_array_new_with_free_func (g_object_unref);
  outbox->frames = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
}

/* Sends everything; the calls may change (or go) meanwhile. */
static void
outbox_flush (Outbox *outbox)
{
  for (guint i = 0; i < outbox->sessions->len; i++)
    server_session_send_frame (outbox->sessions->pdata[i], outbox->frames->pdata[i]);
  g_ptr_array_unref (outbox->sessions);
  g_ptr_array_unref (outbox->frames);
}

/* CallChanged's payload: the call as it is now, in that state. */
static GVariant *
view_payload (ServerCall *call, VoipCallState state, VoipCallReason reason)
{
  Participant *initiator = call->participants->pdata[0];
  GVariantBuilder participants;

  g_variant_builder_init (&participants, G_VARIANT_TYPE ("a(su)"));
  for (guint i = 0; i < call->participants->len; i++)
    {
      Participant *p = call->participants->pdata[i];
      g_variant_builder_add (&participants, "(su)", p->username, p->state);
    }
  return g_variant_new ("(tstuuxa(su))", call->id, initiator->username, (guint64) call->group_id,
                        state, reason, call->started_ms, &participants);
}

/* CallChanged as `session` sees the call now. */
static void
outbox_add_view (Outbox *outbox, ServerCall *call, ServerSession *session,
                 VoipCallState state, VoipCallReason reason)
{
  g_ptr_array_add (outbox->sessions, g_object_ref (session));
  g_ptr_array_add (outbox->frames, voip_frame_encode (VOIP_KIND_EVENT, VOIP_MSG_CALL_CHANGED,
                                                      0, 0, view_payload (call, state, reason)));
}

/* The same for p's sessions on another node: the one joined through it
 * (op VIEW_JOINED) or those ringing there (VIEW_RINGING). */
static void
send_remote_view (ServerCall *call, Participant *p, const char *node, ServerClusterCallsOp op,
                  VoipCallState state, VoipCallReason reason)
{
  server_cluster_calls_send (call->calls->cluster, node, op, call->id, p->user_id, p->username,
                             "", 0, view_payload (call, state, reason));
}

/* The current state to every session concerned: joined sessions and ringing ones. */
static void
outbox_add_everyone (Outbox *outbox, ServerCall *call)
{
  for (guint i = 0; i < call->participants->len; i++)
    {
      Participant *p = call->participants->pdata[i];

      VoipCallState state = call->started_ms ? VOIP_CALL_STATE_ACTIVE : VOIP_CALL_STATE_RINGING;
      VoipCallReason reason = call->started_ms ? VOIP_CALL_REASON_ANSWERED : VOIP_CALL_REASON_NONE;

      if (p->state == VOIP_PARTICIPANT_JOINED && p->session != NULL)
        outbox_add_view (outbox, call, p->session, state, reason);
      else if (p->state == VOIP_PARTICIPANT_JOINED)
        send_remote_view (call, p, p->joined_node, SERVER_CLUSTER_CALLS_VIEW_JOINED, state, reason);
      else if (p->state == VOIP_PARTICIPANT_INVITED)
        {
          for (guint j = 0; j < p->ringing->len; j++)
            outbox_add_view (outbox, call, p->ringing->pdata[j], VOIP_CALL_STATE_RINGING,
                             VOIP_CALL_REASON_NONE);
          for (guint j = 0; j < p->ringing_nodes->len; j++)
            send_remote_view (call, p, p->ringing_nodes->pdata[j],
                              SERVER_CLUSTER_CALLS_VIEW_RINGING, VOIP_CALL_STATE_RINGING,
                              VOIP_CALL_REASON_NONE);
        }
    }
}

/* ---- participants ----------------------------------------------------------------- */

static void
participant_free (Participant *p)
{
  g_free (p->username);
  g_clear_pointer (&p->ringing, g_ptr_array_unref);
  g_clear_pointer (&p->ringing_nodes, g_ptr_array_unref);
  g_free (p->joined_node);
  g_free (p);
}

static Participant *
participant_new (gint64 user_id, const char *username, VoipParticipantState state)
{
  Participant *p = g_new0 (Participant, 1);

  p->user_id = user_id;
  p->username = g_strdup (username);
  p->state = state;
  p->ringing = g_ptr_array_new ();
  p->ringing_nodes = g_ptr_array_new_with_free_func (g_free);
  return p;
}

static Participant *
find_participant (ServerCall *call, gint64 user_id)
{
  for (guint i = 0; i < call->participants->len; i++)
    {
      Participant *p = call->participants->pdata[i];
      if (p->user_id == user_id)
        return p;
    }
  return NULL;
}

static guint
count_state (ServerCall *call, VoipParticipantState state)
{
  guint n = 0;

  for (guint i = 0; i < call->participants->len; i++)
    n += ((Participant *) call->participants->pdata[i])->state == state;
  return n;
}

/* Joined through a session here, or (session NULL) through another node. */
static void
mark_joined (ServerCalls *self, ServerCall *call, Participant *p, ServerSession *session,
             const char *node)
{
  p->state = VOIP_PARTICIPANT_JOINED;
  p->session = session;
  g_free (p->joined_node);
  p->joined_node = session == NULL ? g_strdup (node) : NULL;
  g_ptr_array_set_size (p->ringing, 0);
  g_ptr_array_set_size (p->ringing_nodes, 0);
  g_hash_table_insert (self->by_user, &p->user_id, call);
  if (call->started_ms == 0 && count_state (call, VOIP_PARTICIPANT_JOINED) >= 2)
    call->started_ms = server_now_ms ();
}

/* Takes p out of the call; its sessions (but `gone`, which is closing) hear
 * that the call is over for them. */
static void
participant_leave (ServerCalls *self, ServerCall *call, Participant *p, VoipCallReason reason,
                   ServerSession *gone, Outbox *outbox)
{
  g_autoptr(GPtrArray) told = g_ptr_array_new ();
  g_autofree char *joined_node = NULL;
  g_autoptr(GPtrArray) ringing_nodes = NULL;

  if (p->state == VOIP_PARTICIPANT_JOINED && p->session != NULL)
    g_ptr_array_add (told, p->session);
  else if (p->state == VOIP_PARTICIPANT_INVITED)
    g_ptr_array_extend (told, p->ringing, NULL, NULL);

  if (p->state == VOIP_PARTICIPANT_JOINED)
    joined_node = g_steal_pointer (&p->joined_node);
  else if (p->state == VOIP_PARTICIPANT_INVITED)
    {
      ringing_nodes = g_ptr_array_new_with_free_func (g_free);
      for (guint i = 0; i < p->ringing_nodes->len; i++)
        g_ptr_array_add (ringing_nodes, g_strdup (p->ringing_nodes->pdata[i]));
    }
  g_hash_table_remove (self->by_user, &p->user_id);
  p->state = VOIP_PARTICIPANT_LEFT;
  p->session = NULL;
  g_ptr_array_set_size (p->ringing, 0);
  g_ptr_array_set_size (p->ringing_nodes, 0);

  /* The other nodes' sessions hear as those here do, the state settled. */
  if (joined_node != NULL)
    send_remote_view (call, p, joined_node, SERVER_CLUSTER_CALLS_VIEW_JOINED,
                      VOIP_CALL_STATE_ENDED, reason);
  for (guint i = 0; ringing_nodes != NULL && i < ringing_nodes->len; i++)
    send_remote_view (call, p, ringing_nodes->pdata[i], SERVER_CLUSTER_CALLS_VIEW_RINGING,
                      VOIP_CALL_STATE_ENDED, reason);

  for (guint i = 0; i < told->len; i++)
    if (told->pdata[i] != gone)
      outbox_add_view (outbox, call, told->pdata[i], VOIP_CALL_STATE_ENDED, reason);
}

/* ---- calls ------------------------------------------------------------------------ */

static void
call_free (ServerCall *call)
{
  g_clear_handle_id (&call->ring_timer, g_source_remove);
  g_ptr_array_unref (call->participants);
  g_free (call);
}

/* Everyone still in the call hears it is over; the call is freed. */
static void
call_end (ServerCalls *self, ServerCall *call, VoipCallReason reason, Outbox *outbox)
{
  for (guint i = 0; i < call->participants->len; i++)
    {
      Participant *p = call->participants->pdata[i];

      if (p->state != VOIP_PARTICIPANT_LEFT)
        participant_leave (self, call, p, reason, NULL, outbox);
    }
  g_debug ("call %" G_GUINT64_FORMAT " ended: %s", call->id, voip_call_reason_to_string (reason));
  if (call->group_id != 0)
    g_hash_table_remove (self->by_group, &call->group_id);
  if (call->group_id != 0 && self->cluster != NULL)
    server_cluster_calls_announce_group (self->cluster, NULL, call->id, call->group_id, FALSE);
  g_hash_table_remove (self->by_id, &call->id);   /* frees it */
}

/* After someone left: ends the call if it can no longer have two joined
 * participants, else tells everyone its new state. */
static void
call_settle (ServerCalls *self, ServerCall *call, VoipCallReason reason, Outbox *outbox)
{
  guint joined = count_state (call, VOIP_PARTICIPANT_JOINED);
  guint invited = count_state (call, VOIP_PARTICIPANT_INVITED);

  if (joined == 0 || joined + invited < 2)
    call_end (self, call, reason, outbox);
  else
    outbox_add_everyone (outbox, call);
}

static gboolean
on_ring_timeout (gpointer user_data)
{
  ServerCall *call = user_data;
  ServerCalls *self = call->calls;
  Outbox outbox;

  call->ring_timer = 0;
  if (count_state (call, VOIP_PARTICIPANT_INVITED) == 0)
    return G_SOURCE_REMOVE;   /* everyone answered or declined in time */
  outbox_init (&outbox);
  for (guint i = 0; i < call->participants->len; i++)
    {
      Participant *p = call->participants->pdata[i];

      if (p->state == VOIP_PARTICIPANT_INVITED)
        participant_leave (self, call, p, VOIP_CALL_REASON_TIMEOUT, NULL, &outbox);
    }
  call_settle (self, call, VOIP_CALL_REASON_TIMEOUT, &outbox);
  outbox_flush (&outbox);
  return G_SOURCE_REMOVE;
}

/* ---- public ----------------------------------------------------------------------- */

ServerCalls *
server_calls_new (Server *server)
{
  ServerCalls *self = g_new0 (ServerCalls, 1);

  self->server = server;
  self->by_id = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL,
                                       (GDestroyNotify) call_free);
  self->by_user = g_hash_table_new (g_int64_hash, g_int64_equal);
  self->by_group = g_hash_table_new (g_int64_hash, g_int64_equal);
  return self;
}

void
server_calls_free (ServerCalls *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->by_user);
  g_hash_table_unref (self->by_group);
  g_hash_table_unref (self->by_id);
  g_clear_pointer (&self->cluster, server_cluster_calls_free);
  g_free (self);
}

void
server_calls_set_cluster (ServerCalls *self, ServerCluster *cluster)
{
  g_clear_pointer (&self->cluster, server_cluster_calls_free);
  if (cluster == NULL)
    return;
  self->cluster = server_cluster_calls_new (self->server, cluster);
  /* Ids are the cluster's: each node counts from a random point below
   * 2^52 (JavaScript clients read them as doubles). */
  self->last_id = ((guint64) g_random_int () << 20) & ((G_GUINT64_CONSTANT (1) << 52) - 1);
}

ServerClusterCalls *
server_calls_get_cluster (ServerCalls *self)
{
  return self->cluster;
}

ServerCall *
server_calls_lookup (ServerCalls *self, guint64 call_id)
{
  return g_hash_table_lookup (self->by_id, &call_id);
}

ServerCall *
server_calls_for_user (ServerCalls *self, gint64 user_id)
{
  return g_hash_table_lookup (self->by_user, &user_id);
}

ServerCall *
server_calls_for_group (ServerCalls *self, gint64 group_id)
{
  return g_hash_table_lookup (self->by_group, &group_id);
}

guint64 server_call_get_id (ServerCall *call) { return call->id; }
gint64 server_call_get_group (ServerCall *call) { return call->group_id; }

VoipParticipantState
server_call_get_participant_state (ServerCall *call, gint64 user_id)
{
  Participant *p = find_participant (call, user_id);

  return p ? p->state : 0;
}

ServerSession *
server_call_get_joined_session (ServerCall *call, const char *username)
{
  for (guint i = 0; i < call->participants->len; i++)
    {
      Participant *p = call->participants->pdata[i];

      if (p->state == VOIP_PARTICIPANT_JOINED && g_str_equal (p->username, username))
        return p->session;
    }
  return NULL;
}

guint64
server_calls_start (ServerCalls *self, ServerSession *initiator, gint64 group_id,
                    const gint64 *invitee_ids, guint n_invitees)
{
  ServerRegistry *registry = server_get_registry (self->server);
  ServerCall *call = g_new0 (ServerCall, 1);
  Participant *first;
  Outbox outbox;

  call->id = ++self->last_id;
  call->group_id = group_id;
  call->calls = self;
  call->participants = g_ptr_array_new_with_free_func ((GDestroyNotify) participant_free);
  g_hash_table_insert (self->by_id, &call->id, call);
  if (group_id != 0)
    g_hash_table_insert (self->by_group, &call->group_id, call);

  first = participant_new (server_session_get_user_id (initiator),
                           server_session_get_username (initiator), VOIP_PARTICIPANT_JOINED);
  g_ptr_array_add (call->participants, first);
  mark_joined (self, call, first, initiator, NULL);

  for (guint i = 0; i < n_invitees; i++)
    {
      ServerUser *user = server_registry_lookup (registry, invitee_ids[i]);
      g_autoptr(GPtrArray) nodes = self->cluster
                                   ? server_cluster_calls_user_nodes (self->cluster, invitee_ids[i])
                                   : NULL;
      Participant *p;

      if (user == NULL && (nodes == NULL || nodes->len == 0))
        continue;
      p = participant_new (invitee_ids[i], user ? user->username : NULL,
                           VOIP_PARTICIPANT_INVITED);
      if (user != NULL)
        g_ptr_array_extend (p->ringing, user->sessions, NULL, NULL);
      for (guint j = 0; nodes != NULL && j < nodes->len; j++)
        {
          if (p->username == NULL)
            p->username = server_cluster_calls_username (self->cluster, p->user_id);
          g_ptr_array_add (p->ringing_nodes, g_strdup (nodes->pdata[j]));
        }
      g_ptr_array_add (call->participants, p);
      g_hash_table_insert (self->by_user, &p->user_id, call);
    }

  call->ring_timer = g_timeout_add_seconds (server_get_config (self->server)->ring_timeout_s,
                                            on_ring_timeout, call);
  g_debug ("call %" G_GUINT64_FORMAT " started by %s, %u invited", call->id, first->username,
           call->participants->len - 1);

  if (group_id != 0 && self->cluster != NULL)
    server_cluster_calls_announce_group (self->cluster, NULL, call->id, group_id, TRUE);
  /* Other nodes ring their sessions (RING) and say how many they rang. */
  for (guint i = 1; i < call->participants->len; i++)
    {
      Participant *p = call->participants->pdata[i];

      for (guint j = 0; j < p->ringing_nodes->len; j++)
        server_cluster_calls_send (self->cluster, p->ringing_nodes->pdata[j],
                                   SERVER_CLUSTER_CALLS_RING, call->id, p->user_id, p->username,
                                   "", 0, view_payload (call, VOIP_CALL_STATE_RINGING,
                                                        VOIP_CALL_REASON_NONE));
    }
  outbox_init (&outbox);
  for (guint i = 0; i < call->participants->len; i++)
    {
      Participant *p = call->participants->pdata[i];

      if (p->state == VOIP_PARTICIPANT_JOINED)
        outbox_add_view (&outbox, call, p->session, VOIP_CALL_STATE_RINGING, VOIP_CALL_REASON_NONE);
      for (guint j = 0; p->state == VOIP_PARTICIPANT_INVITED && j < p->ringing->len; j++)
        outbox_add_view (&outbox, call, p->ringing->pdata[j], VOIP_CALL_STATE_RINGING,
                         VOIP_CALL_REASON_NONE);
    }
  outbox_flush (&outbox);
  return call->id;
}

/* The user answers through `session` here, or (session NULL) through a
 * session of theirs on `node`. */
static VoipStatus
call_answer (ServerCalls *self, ServerCall *call, gint64 user_id, const char *username,
             ServerSession *session, const char *node)
{
  Participant *p = find_participant (call, user_id);
  ServerCall *other = server_calls_for_user (self, user_id);
  g_autoptr(GPtrArray) elsewhere = g_ptr_array_new ();
  g_autoptr(GPtrArray) elsewhere_nodes = g_ptr_array_new_with_free_func (g_free);
  Outbox outbox;

  if (p != NULL && p->state == VOIP_PARTICIPANT_JOINED)
    return (session != NULL ? p->session == session : g_strcmp0 (p->joined_node, node) == 0)
           ? VOIP_STATUS_OK : VOIP_STATUS_CALL_ANSWERED;
  if (other != NULL && other != call)
    return VOIP_STATUS_BUSY;

  if (p == NULL || p->state == VOIP_PARTICIPANT_LEFT)
    {
      /* Joining a running group call: the membership was checked. */
      if (count_state (call, VOIP_PARTICIPANT_JOINED) + count_state (call, VOIP_PARTICIPANT_INVITED)
          >= VOIP_CALL_PARTICIPANTS_MAX)
        return VOIP_STATUS_CALL_FULL;
      if (p == NULL)
        {
          p = participant_new (user_id, username, VOIP_PARTICIPANT_LEFT);
          g_ptr_array_add (call->participants, p);
        }
    }
  else
    {
      /* Ringing: this session takes the call, the others stop ringing. */
      for (guint i = 0; i < p->ringing->len; i++)
        if (p->ringing->pdata[i] != session)
          g_ptr_array_add (elsewhere, p->ringing->pdata[i]);
      /* The answering node tells its own other sessions itself. */
      for (guint i = 0; i < p->ringing_nodes->len; i++)
        if (session != NULL || g_strcmp0 (p->ringing_nodes->pdata[i], node) != 0)
          g_ptr_array_add (elsewhere_nodes, g_strdup (p->ringing_nodes->pdata[i]));
    }

  mark_joined (self, call, p, session, node);
  outbox_init (&outbox);
  for (guint i = 0; i < elsewhere->len; i++)
    outbox_add_view (&outbox, call, elsewhere->pdata[i], VOIP_CALL_STATE_ENDED,
                     VOIP_CALL_REASON_ANSWERED_ELSEWHERE);
  for (guint i = 0; i < elsewhere_nodes->len; i++)
    send_remote_view (call, p, elsewhere_nodes->pdata[i], SERVER_CLUSTER_CALLS_VIEW_RINGING,
                      VOIP_CALL_STATE_ENDED, VOIP_CALL_REASON_ANSWERED_ELSEWHERE);
  outbox_add_everyone (&outbox, call);
  outbox_flush (&outbox);
  return VOIP_STATUS_OK;
}

VoipStatus
server_call_answer (ServerCalls *self, ServerCall *call, ServerSession *session)
{
  return call_answer (self, call, server_session_get_user_id (session),
                      server_session_get_username (session), session, NULL);
}

VoipStatus
server_call_reject (ServerCalls *self, ServerCall *call, ServerSession *session)
{
  Participant *p = find_participant (call, server_session_get_user_id (session));
  Outbox outbox;

  if (p == NULL || p->state == VOIP_PARTICIPANT_LEFT)
    return VOIP_STATUS_NO_SUCH_CALL;
  if (p->state != VOIP_PARTICIPANT_INVITED)
    return VOIP_STATUS_NOT_ALLOWED;   /* joined: hang up instead */
  outbox_init (&outbox);
  participant_leave (self, call, p, VOIP_CALL_REASON_REJECTED, NULL, &outbox);
  call_settle (self, call, VOIP_CALL_REASON_REJECTED, &outbox);
  outbox_flush (&outbox);
  return VOIP_STATUS_OK;
}

VoipStatus
server_call_hangup (ServerCalls *self, ServerCall *call, ServerSession *session)
{
  Participant *p = find_participant (call, server_session_get_user_id (session));
  Outbox outbox;

  if (p == NULL || p->state == VOIP_PARTICIPANT_LEFT)
    return VOIP_STATUS_NO_SUCH_CALL;
  if (p->state == VOIP_PARTICIPANT_INVITED)
    return server_call_reject (self, call, session);
  outbox_init (&outbox);
  participant_leave (self, call, p, VOIP_CALL_REASON_HANGUP, NULL, &outbox);
  call_settle (self, call, VOIP_CALL_REASON_HANGUP, &outbox);
  outbox_flush (&outbox);
  return VOIP_STATUS_OK;
}

void
server_calls_session_ended (ServerCalls *self, ServerSession *session)
{
  gint64 user_id = server_session_get_user_id (session);
  ServerCall *call = user_id ? server_calls_for_user (self, user_id) : NULL;
  Participant *p = call ? find_participant (call, user_id) : NULL;
  Outbox outbox;

  if (self->cluster != NULL)
    server_cluster_calls_session_ended (self->cluster, session);
  if (p == NULL)
    return;
  if (p->state == VOIP_PARTICIPANT_JOINED && p->session != session)
    return;
  if (p->state == VOIP_PARTICIPANT_INVITED)
    {
      if (!g_ptr_array_remove (p->ringing, session) || p->ringing->len > 0
          || p->ringing_nodes->len > 0)
        return;   /* the user's other sessions still ring */
    }
  outbox_init (&outbox);
  participant_leave (self, call, p, VOIP_CALL_REASON_OFFLINE, session, &outbox);
  call_settle (self, call, VOIP_CALL_REASON_OFFLINE, &outbox);
  outbox_flush (&outbox);
}

/* ---- what the other nodes say (server-cluster-calls.c) ------------------------------ */

static gboolean
remove_node (GPtrArray *nodes, const char *node)
{
  for (guint i = 0; i < nodes->len; i++)
    if (g_str_equal (nodes->pdata[i], node))
      {
        g_ptr_array_remove_index (nodes, i);
        return TRUE;
      }
  return FALSE;
}

static gboolean
rings_nowhere (Participant *p)
{
  return p->ringing->len == 0 && p->ringing_nodes->len == 0;
}

/* The participant `user_id` of call `call_id`, if the call is ours. */
static Participant *
remote_participant (ServerCalls *self, guint64 call_id, gint64 user_id, ServerCall **call)
{
  *call = server_calls_lookup (self, call_id);
  return *call != NULL ? find_participant (*call, user_id) : NULL;
}

/* p's sessions on `node` are gone (GONE), or the node is (nodes_gone), or
 * it rang none of them (RANG): p leaves when that was all. TRUE if p left. */
static gboolean
node_lost (ServerCalls *self, ServerCall *call, Participant *p, const char *node,
           VoipCallReason reason, Outbox *outbox)
{
  if (p->state == VOIP_PARTICIPANT_JOINED && g_strcmp0 (p->joined_node, node) == 0)
    {
      g_clear_pointer (&p->joined_node, g_free);   /* nobody there to tell */
      p->session = NULL;
      participant_leave (self, call, p, reason, NULL, outbox);
      return TRUE;
    }
  if (p->state == VOIP_PARTICIPANT_INVITED && remove_node (p->ringing_nodes, node)
      && rings_nowhere (p))
    {
      participant_leave (self, call, p, reason, NULL, outbox);
      return TRUE;
    }
  return FALSE;
}

void
server_calls_remote_rang (ServerCalls *self, guint64 call_id, gint64 user_id, const char *node,
                          guint32 rang)
{
  ServerCall *call;
  Participant *p = remote_participant (self, call_id, user_id, &call);
  Outbox outbox;

  if (p == NULL || (rang > 0 && rang != SERVER_CLUSTER_CALLS_BUSY))
    return;
  outbox_init (&outbox);
  if (rang == SERVER_CLUSTER_CALLS_BUSY && p->state == VOIP_PARTICIPANT_INVITED)
    {
      /* In a call there: busy, as on one node, whatever else of theirs rings. */
      participant_leave (self, call, p, VOIP_CALL_REASON_BUSY, NULL, &outbox);
      call_settle (self, call, VOIP_CALL_REASON_BUSY, &outbox);
    }
  else if (rang == 0 && node_lost (self, call, p, node, VOIP_CALL_REASON_OFFLINE, &outbox))
    call_settle (self, call, VOIP_CALL_REASON_OFFLINE, &outbox);
  outbox_flush (&outbox);
}

void
server_calls_remote_answer (ServerCalls *self, guint64 call_id, gint64 user_id,
                            const char *username, const char *node, gboolean join)
{
  ServerCall *call;
  Participant *p = remote_participant (self, call_id, user_id, &call);
  VoipStatus status = VOIP_STATUS_NO_SUCH_CALL;
  gboolean ringing_there = FALSE;

  for (guint i = 0; p != NULL && i < p->ringing_nodes->len; i++)
    ringing_there |= g_str_equal (p->ringing_nodes->pdata[i], node);
  if (p != NULL && (ringing_there || p->state == VOIP_PARTICIPANT_JOINED))
    status = call_answer (self, call, user_id, username, NULL, node);
  else if (call != NULL && join && call->group_id != 0
           && (p == NULL || p->state == VOIP_PARTICIPANT_LEFT))
    status = call_answer (self, call, user_id, username, NULL, node);
  if (status == VOIP_STATUS_OK || call == NULL)
    return;
  /* Too late (answered elsewhere) or refused: the sessions there stop. */
  server_cluster_calls_send (self->cluster, node, SERVER_CLUSTER_CALLS_VIEW_RINGING, call_id,
                             user_id, username, "", 0,
                             view_payload (call, VOIP_CALL_STATE_ENDED,
                                           status == VOIP_STATUS_CALL_ANSWERED
                                           ? VOIP_CALL_REASON_ANSWERED_ELSEWHERE
                                           : VOIP_CALL_REASON_BUSY));
}

void
server_calls_remote_leave (ServerCalls *self, guint64 call_id, gint64 user_id, const char *node,
                           VoipCallReason reason)
{
  ServerCall *call;
  Participant *p = remote_participant (self, call_id, user_id, &call);
  Outbox outbox;

  if (p == NULL)
    return;
  outbox_init (&outbox);
  if (reason == VOIP_CALL_REASON_OFFLINE)
    {
      if (node_lost (self, call, p, node, reason, &outbox))
        call_settle (self, call, reason, &outbox);
    }
  else if ((p->state == VOIP_PARTICIPANT_JOINED && g_strcmp0 (p->joined_node, node) == 0)
           || p->state == VOIP_PARTICIPANT_INVITED)
    {
      if (p->state == VOIP_PARTICIPANT_INVITED)
        reason = VOIP_CALL_REASON_REJECTED;
      participant_leave (self, call, p, reason, NULL, &outbox);
      call_settle (self, call, reason, &outbox);
    }
  outbox_flush (&outbox);
}

void
server_calls_nodes_gone (ServerCalls *self, GPtrArray *nodes)
{
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (guint64));
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, self->by_id);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_array_append_val (ids, *(guint64 *) key);
  for (guint i = 0; i < ids->len; i++)
    {
      ServerCall *call = server_calls_lookup (self, g_array_index (ids, guint64, i));
      gboolean changed = FALSE;
      Outbox outbox;

      outbox_init (&outbox);
      for (guint j = 0; j < call->participants->len; j++)
        for (guint k = 0; k < nodes->len; k++)
          changed |= node_lost (self, call, call->participants->pdata[j], nodes->pdata[k],
                                VOIP_CALL_REASON_OFFLINE, &outbox);
      if (changed)
        call_settle (self, call, VOIP_CALL_REASON_OFFLINE, &outbox);
      outbox_flush (&outbox);
    }
  if (self->cluster != NULL)
    server_cluster_calls_nodes_gone (self->cluster, nodes);
}

void
server_calls_node_joined (ServerCalls *self, const char *node)
{
  GHashTableIter iter;
  ServerCall *call;

  if (self->cluster == NULL)
    return;
  g_hash_table_iter_init (&iter, self->by_group);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &call))
    server_cluster_calls_announce_group (self->cluster, node, call->id, call->group_id, TRUE);
}

gboolean
server_call_is_joined_through (ServerCall *call, gint64 user_id, const char *node)
{
  Participant *p = find_participant (call, user_id);

  return p != NULL && p->state == VOIP_PARTICIPANT_JOINED && g_strcmp0 (p->joined_node, node) == 0;
}

gboolean
server_call_deliver (ServerCall *call, const char *from, const char *peer, guint16 code,
                     GVariant *payload)
{
  if (g_str_equal (from, peer))
    return FALSE;
  for (guint i = 0; i < call->participants->len; i++)
    {
      Participant *p = call->participants->pdata[i];

      if (p->state != VOIP_PARTICIPANT_JOINED || !g_str_equal (p->username, peer))
        continue;
      if (p->session != NULL)
        {
          g_autoptr(GBytes) frame = voip_frame_encode (VOIP_KIND_EVENT, code, 0, 0, payload);

          server_session_send_frame (p->session, frame);
        }
      else
        server_cluster_calls_send (call->calls->cluster, p->joined_node, SERVER_CLUSTER_CALLS_DATA,
                                   call->id, p->user_id, p->username, "", code, payload);
      return TRUE;
    }
  return FALSE;
}
