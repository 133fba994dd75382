/* server-job.c — submitting a request's work to the store and answering it. */
#define G_LOG_DOMAIN "voip-server"

#include "server-job.h"

gint64
server_now_ms (void)
{
  return g_get_real_time () / 1000;
}

ServerJob *
server_job_alloc (gsize size, Server *server, ServerSession *session,
                  const ServerRequest *request, ServerJobWork work,
                  ServerJobAfter after, GDestroyNotify clear)
{
  ServerJob *job = g_malloc0 (size);

  job->server = g_object_ref (server);
  job->session = session ? g_object_ref (session) : NULL;
  job->user_id = session ? server_session_get_user_id (session) : 0;
  job->now_ms = server_now_ms ();
  job->code = request ? request->code : 0;
  job->request_id = request ? request->request_id : 0;
  job->work = work;
  job->after = after;
  job->clear = clear;
  return job;
}

static void
server_job_free (ServerJob *job)
{
  if (job->clear)
    job->clear (job);
  g_clear_pointer (&job->reply, g_variant_unref);
  g_free (job->detail);
  g_clear_object (&job->session);
  g_clear_object (&job->server);
  g_free (job);
}

gboolean
server_job_fail (ServerJob *job, VoipStatus status, const char *detail)
{
  job->status = status;
  g_free (job->detail);
  job->detail = g_strdup (detail ? detail : voip_status_message (status));
  return FALSE;
}

gboolean
server_job_fail_store (ServerJob *job, GError *error)
{
  g_warning ("storage failed for request %u: %s", job->code,
             error ? error->message : "unknown error");
  return server_job_fail (job, VOIP_STATUS_STORAGE, NULL);
}

void
server_job_suspend (ServerJob *job)
{
  job->suspended = TRUE;
}

void
server_job_finish (ServerJob *job)
{
  if (job->session != NULL)
    {
      if (job->status != VOIP_STATUS_OK)
        server_session_reply_error (job->session, job->code, job->request_id,
                                    job->status, job->detail);
      else
        {
          g_autoptr(GVariant) reply = g_variant_take_ref (
              job->reply ? g_steal_pointer (&job->reply) : g_variant_new ("()"));
          server_session_reply (job->session, job->code, job->request_id, reply);
        }
    }
  server_job_free (job);
}

gboolean
server_job_require_friend (Store *store, ServerJob *job, const char *username,
                           VoipStatus refusal, gint64 *friend_id)
{
  g_auto(StoreUser) user = { 0 };
  g_autoptr(GError) error = NULL;
  int state;

  if (!store_user_find (store, username, &user, &error))
    return error ? server_job_fail_store (job, error) : server_job_fail (job, refusal, NULL);
  state = store_contact_state (store, job->user_id, user.id, &error);
  if (state < 0)
    return server_job_fail_store (job, error);
  if (state != VOIP_SUBSCRIPTION_FRIEND)
    return server_job_fail (job, refusal, NULL);
  *friend_id = user.id;
  return TRUE;
}

static gboolean
on_job_work (Store *store, gpointer data)
{
  ServerJob *job = data;

  return job->work (store, job);
}

static void
on_job_done (gpointer data, gboolean committed)
{
  ServerJob *job = data;

  if (!committed && job->status == VOIP_STATUS_OK)
    server_job_fail (job, VOIP_STATUS_STORAGE, NULL);
  if (job->status == VOIP_STATUS_OK && job->after)
    job->after (job);
  if (job->suspended)
    {
      job->suspended = FALSE;
      return;
    }
  server_job_finish (job);
}

void
server_job_submit (ServerJob *job)
{
  store_run (server_get_store (job->server), on_job_work, on_job_done, job);
}
