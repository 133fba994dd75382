/* server-call-handlers.c — CallInvite, CallAnswer, CallReject, CallHangup.
 *
 * What needs the store (is the callee a friend, is the caller a member of
 * the group) is checked in a job; who is online, busy or ringing is checked
 * after it, on the main loop, where the calls registry lives. */
#define G_LOG_DOMAIN "voip-server"

#include "server-calls.h"
#include "server-handlers.h"
#include "server-job.h"
#include "cluster/server-cluster-calls.h"

typedef struct {
  ServerJob  base;
  char      *callee;      /* CallInvite of a friend */
  gint64     callee_id;
  gint64     group_id;    /* CallInvite of a group */
  StoreGroup group;
  guint64    call_id;     /* CallAnswer of a group call one was not invited to */
} CallJob;

static void
call_job_clear (CallJob *job)
{
  g_free (job->callee);
  store_group_clear (&job->group);
}

static void
reply_status (ServerSession *session, const ServerRequest *request, VoipStatus status)
{
  if (status == VOIP_STATUS_OK)
    server_session_reply (session, request->code, request->request_id, g_variant_new ("()"));
  else
    server_session_reply_error (session, request->code, request->request_id, status, NULL);
}

/* A call unknown here may be owned by another node of a cluster. */
static VoipStatus
remote_request (Server *server, ServerSession *session, const ServerRequest *request,
                guint64 call_id)
{
  ServerClusterCalls *cluster = server_calls_get_cluster (server_get_calls (server));
  VoipStatus status;

  if (cluster != NULL
      && server_cluster_calls_request (cluster, session, request->code, call_id, NULL, NULL,
                                       &status))
    return status;
  return VOIP_STATUS_NO_SUCH_CALL;
}

/* The session may have logged out or closed while the job was in the store. */
static gboolean
still_logged_in (ServerJob *job)
{
  if (server_session_get_user_id (job->session) == job->user_id
      && !server_session_is_closed (job->session))
    return TRUE;
  server_job_fail (job, VOIP_STATUS_NOT_LOGGED_IN, NULL);
  return FALSE;
}

/* ---- CallInvite ------------------------------------------------------------------ */

static gboolean
invite_work (Store *store, CallJob *job)
{
  g_autoptr(GError) error = NULL;

  if (job->callee != NULL)
    return server_job_require_friend (store, &job->base, job->callee, VOIP_STATUS_NO_SUCH_USER,
                                      &job->callee_id);

  if (!store_group_get (store, job->group_id, &job->group, &error))
    return error ? server_job_fail_store (&job->base, error)
                 : server_job_fail (&job->base, VOIP_STATUS_NO_SUCH_GROUP, NULL);
  for (guint i = 0; i < job->group.member_ids->len; i++)
    if (g_array_index (job->group.member_ids, gint64, i) == job->base.user_id)
      return TRUE;
  return server_job_fail (&job->base, VOIP_STATUS_NO_SUCH_GROUP, NULL);
}

static void
invite_friend (CallJob *job, ServerCalls *calls, ServerRegistry *registry)
{
  guint64 id;

  /* Invisible callees are offline, and whether they are busy does not leak. */
  if (server_registry_visible_presence (registry, job->callee_id) == VOIP_PRESENCE_OFFLINE)
    {
      server_job_fail (&job->base, VOIP_STATUS_OFFLINE, NULL);
      return;
    }
  if (server_calls_for_user (calls, job->callee_id) != NULL)
    {
      server_job_fail (&job->base, VOIP_STATUS_BUSY, NULL);
      return;
    }
  id = server_calls_start (calls, job->base.session, 0, &job->callee_id, 1);
  job->base.reply = g_variant_new ("(t)", id);
}

static void
invite_group (CallJob *job, ServerCalls *calls, ServerRegistry *registry)
{
  ServerCall *running = server_calls_for_group (calls, job->group_id);
  ServerClusterCalls *cluster = server_calls_get_cluster (calls);
  guint64 elsewhere = cluster ? server_cluster_calls_group_call (cluster, job->group_id) : 0;
  g_autoptr(GArray) invitees = NULL;
  VoipStatus status;

  if (running == NULL && elsewhere != 0)
    {
      /* The group's call runs on another node: join it there. */
      server_cluster_calls_join (cluster, job->base.session, elsewhere);
      job->base.reply = g_variant_new ("(t)", elsewhere);
      return;
    }

  if (running != NULL)
    {
      /* The group's call runs already: join it. */
      status = server_call_answer (calls, running, job->base.session);
      if (status != VOIP_STATUS_OK)
        server_job_fail (&job->base, status, NULL);
      else
        job->base.reply = g_variant_new ("(t)", server_call_get_id (running));
      return;
    }

  invitees = g_array_new (FALSE, FALSE, sizeof (gint64));
  for (guint i = 0; i < job->group.member_ids->len; i++)
    {
      gint64 member = g_array_index (job->group.member_ids, gint64, i);

      if (invitees->len + 1 >= VOIP_CALL_PARTICIPANTS_MAX)
        break;
      if (member != job->base.user_id
          && server_registry_visible_presence (registry, member) != VOIP_PRESENCE_OFFLINE
          && server_calls_for_user (calls, member) == NULL)
        g_array_append_val (invitees, member);
    }
  if (invitees->len == 0)
    {
      server_job_fail (&job->base, VOIP_STATUS_OFFLINE, NULL);
      return;
    }
  job->base.reply = g_variant_new ("(t)", server_calls_start (calls, job->base.session,
                                                              job->group_id,
                                                              (const gint64 *) invitees->data,
                                                              invitees->len));
}

static void
invite_after (CallJob *job)
{
  Server *server = job->base.server;
  ServerCalls *calls = server_get_calls (server);
  ServerCall *mine;

  if (!still_logged_in (&job->base))
    return;
  mine = server_calls_for_user (calls, job->base.user_id);
  if ((mine != NULL
       && (job->callee != NULL || server_call_get_group (mine) != job->group_id))
      || (server_calls_get_cluster (calls) != NULL
          && server_cluster_calls_user_in_call (server_calls_get_cluster (calls),
                                                job->base.user_id)))
    {
      server_job_fail (&job->base, VOIP_STATUS_BUSY, NULL);
      return;
    }
  if (job->callee != NULL)
    invite_friend (job, calls, server_get_registry (server));
  else
    invite_group (job, calls, server_get_registry (server));
}

void
server_handle_call_invite (Server *server, ServerSession *session, const ServerRequest *request)
{
  const char *callee;
  guint64 group_id;
  CallJob *job;

  g_variant_get (request->payload, "(&st)", &callee, &group_id);
  if ((*callee == '\0') == (group_id == 0))
    {
      server_session_reply_error (session, request->code, request->request_id,
                                  VOIP_STATUS_MALFORMED, "give either a callee or a group");
      return;
    }
  if (*callee != '\0' && g_str_equal (callee, server_session_get_username (session)))
    {
      reply_status (session, request, VOIP_STATUS_CALL_SELF);
      return;
    }
  if (*callee != '\0' && !voip_validate_username (callee, NULL))
    {
      reply_status (session, request, VOIP_STATUS_NO_SUCH_USER);
      return;
    }
  if (group_id > G_MAXINT64)
    {
      reply_status (session, request, VOIP_STATUS_NO_SUCH_GROUP);
      return;
    }
  job = server_job_new (CallJob, server, session, request, invite_work, invite_after,
                        call_job_clear);
  job->callee = *callee ? g_strdup (callee) : NULL;
  job->group_id = group_id;
  server_job_submit (&job->base);
}

/* ---- CallAnswer ------------------------------------------------------------------ */

/* The group of call_id if another node owns it and the session's user is
 * not in it through this node already; else 0. */
static gint64
calls_elsewhere_group (ServerCalls *calls, ServerSession *session, guint64 call_id)
{
  ServerClusterCalls *cluster = server_calls_get_cluster (calls);

  if (cluster == NULL
      || server_cluster_calls_user_in_call (cluster, server_session_get_user_id (session)))
    return 0;
  return server_cluster_calls_group_of (cluster, call_id);
}

static gboolean
join_work (Store *store, CallJob *job)
{
  g_autoptr(GError) error = NULL;

  if (store_group_is_member (store, job->group_id, job->base.user_id, &error))
    return TRUE;
  return error ? server_job_fail_store (&job->base, error)
               : server_job_fail (&job->base, VOIP_STATUS_NO_SUCH_CALL, NULL);
}

static void
join_after (CallJob *job)
{
  ServerCalls *calls = server_get_calls (job->base.server);
  ServerCall *call;
  VoipStatus status;

  if (!still_logged_in (&job->base))
    return;
  call = server_calls_lookup (calls, job->call_id);
  if (call == NULL && server_calls_get_cluster (calls) != NULL
      && server_cluster_calls_group_of (server_calls_get_cluster (calls), job->call_id)
         == job->group_id)
    {
      /* Owned by another node, which answers with the call's views. */
      server_cluster_calls_join (server_calls_get_cluster (calls), job->base.session,
                                 job->call_id);
      return;
    }
  if (call == NULL)
    {
      server_job_fail (&job->base, VOIP_STATUS_NO_SUCH_CALL, NULL);
      return;
    }
  status = server_call_answer (calls, call, job->base.session);
  if (status != VOIP_STATUS_OK)
    server_job_fail (&job->base, status, NULL);
}

void
server_handle_call_answer (Server *server, ServerSession *session, const ServerRequest *request)
{
  ServerCalls *calls = server_get_calls (server);
  ServerCall *call;
  guint64 call_id;
  VoipParticipantState state;
  CallJob *job;

  g_variant_get (request->payload, "(t)", &call_id);
  call = server_calls_lookup (calls, call_id);
  if (call == NULL && calls_elsewhere_group (calls, session, call_id) != 0)
    {
      /* A group call another node owns, which one was not ringing for
       * (or left): members only. */
      job = server_job_new (CallJob, server, session, request, join_work, join_after,
                            call_job_clear);
      job->group_id = calls_elsewhere_group (calls, session, call_id);
      job->call_id = call_id;
      server_job_submit (&job->base);
      return;
    }
  if (call == NULL)
    {
      reply_status (session, request, remote_request (server, session, request, call_id));
      return;
    }
  state = server_call_get_participant_state (call, server_session_get_user_id (session));
  if (state == VOIP_PARTICIPANT_INVITED || state == VOIP_PARTICIPANT_JOINED)
    {
      reply_status (session, request, server_call_answer (calls, call, session));
      return;
    }
  if (server_call_get_group (call) == 0)
    {
      reply_status (session, request, VOIP_STATUS_NO_SUCH_CALL);
      return;
    }
  /* Joining a group call one was not invited to (or left): members only. */
  job = server_job_new (CallJob, server, session, request, join_work, join_after,
                        call_job_clear);
  job->group_id = server_call_get_group (call);
  job->call_id = call_id;
  server_job_submit (&job->base);
}

/* ---- CallReject, CallHangup --------------------------------------------------------- */

void
server_handle_call_reject (Server *server, ServerSession *session, const ServerRequest *request)
{
  ServerCalls *calls = server_get_calls (server);
  guint64 call_id;
  ServerCall *call;

  g_variant_get (request->payload, "(t)", &call_id);
  call = server_calls_lookup (calls, call_id);
  reply_status (session, request,
                call ? server_call_reject (calls, call, session)
                     : remote_request (server, session, request, call_id));
}

void
server_handle_call_hangup (Server *server, ServerSession *session, const ServerRequest *request)
{
  ServerCalls *calls = server_get_calls (server);
  guint64 call_id;
  ServerCall *call;

  g_variant_get (request->payload, "(t)", &call_id);
  call = server_calls_lookup (calls, call_id);
  reply_status (session, request,
                call ? server_call_hangup (calls, call, session)
                     : remote_request (server, session, request, call_id));
}
