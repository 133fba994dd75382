/* server-presence.c — presence lives in the registry; friends are in the
 * store, so telling them is a (read-only) store job. Invisible users are
 * reported as offline, and a change between the two is no change at all
 * for the friends. */
#define G_LOG_DOMAIN "voip-server"

#include "server-presence.h"
#include "server-handlers.h"
#include "server-job.h"

typedef struct {
  ServerJob   base;
  char       *username;
  VoipPresence presence;
  gboolean    here_only;   /* this node's sessions only: every node does the same */
  GPtrArray  *friends;
} NotifyJob;

static gboolean
notify_work (Store *store, NotifyJob *job)
{
  g_autoptr(GError) error = NULL;

  job->friends = store_contact_friends (store, job->base.user_id, &error);
  return job->friends != NULL || server_job_fail_store (&job->base, error);
}

static void
notify_after (NotifyJob *job)
{
  ServerRegistry *registry = server_get_registry (job->base.server);
  g_autoptr(GBytes) frame = voip_frame_encode (
      VOIP_KIND_EVENT, VOIP_MSG_PRESENCE_CHANGED, 0, 0,
      g_variant_new ("(su)", job->username, job->presence));

  for (guint i = 0; i < job->friends->len; i++)
    {
      StoreContact *friend = job->friends->pdata[i];
      if (job->here_only)
        server_registry_send_local (registry, friend->id, frame);
      else
        server_registry_send (registry, friend->id, frame, NULL);
    }
}

static void
notify_clear (NotifyJob *job)
{
  g_free (job->username);
  g_clear_pointer (&job->friends, g_ptr_array_unref);
}

static void
notify (Server *server, gint64 user_id, const char *username, VoipPresence presence,
        gboolean here_only)
{
  NotifyJob *job = server_job_new (NotifyJob, server, NULL, NULL,
                                   notify_work, notify_after, notify_clear);

  job->base.user_id = user_id;
  job->username = g_strdup (username);
  job->presence = presence;
  job->here_only = here_only;
  server_job_submit (&job->base);
}

void
server_presence_notify_friends (Server *server, gint64 user_id, const char *username,
                                VoipPresence presence)
{
  notify (server, user_id, username, presence, FALSE);
}

void
server_presence_users_gone (Server *server, GPtrArray *gone)
{
  ServerRegistry *registry = server_get_registry (server);

  for (guint i = 0; i < gone->len; i++)
    {
      ServerClusterGone *user = gone->pdata[i];

      /* Still online here, or was invisible: nothing changes for friends. */
      if (server_registry_lookup (registry, user->user_id) != NULL
          || user->presence == VOIP_PRESENCE_INVISIBLE)
        continue;
      notify (server, user->user_id, user->username, VOIP_PRESENCE_OFFLINE, TRUE);
    }
}

void
server_presence_session_started (Server *server, ServerSession *session)
{
  ServerRegistry *registry = server_get_registry (server);
  gboolean first;
  ServerUser *user = server_registry_attach (registry, session, &first);

  /* Online on another node already: the friends know. */
  if (first && !server_registry_online_elsewhere (registry, user->id))
    server_presence_notify_friends (server, user->id, user->username,
                                    server_registry_visible_presence (registry, user->id));
}

void
server_presence_session_ended (Server *server, ServerSession *session)
{
  ServerRegistry *registry = server_get_registry (server);
  gint64 user_id = server_session_get_user_id (session);
  VoipPresence visible = server_registry_visible_presence (registry, user_id);

  if (server_registry_detach (registry, session) && visible != VOIP_PRESENCE_OFFLINE
      && !server_registry_online_elsewhere (registry, user_id))
    server_presence_notify_friends (server, user_id, server_session_get_username (session),
                                    VOIP_PRESENCE_OFFLINE);
}

void
server_handle_set_presence (Server *server, ServerSession *session, const ServerRequest *request)
{
  ServerRegistry *registry = server_get_registry (server);
  gint64 user_id = server_session_get_user_id (session);
  ServerUser *user = server_registry_lookup (registry, user_id);
  g_autoptr(GError) error = NULL;
  VoipPresence before;
  guint32 presence;

  g_variant_get (request->payload, "(u)", &presence);
  if (!voip_validate_presence (presence, &error))
    {
      server_session_reply_error (session, request->code, request->request_id,
                                  error->code, error->message);
      return;
    }

  before = server_registry_visible_presence (registry, user_id);
  server_registry_set_presence (registry, user, presence);
  server_session_reply (session, request->code, request->request_id, g_variant_new ("()"));

  /* The user's other sessions learn the true value, friends what they may see. */
  server_send_event_to_user (server, user_id, VOIP_MSG_PRESENCE_CHANGED,
                             g_variant_new ("(su)", user->username, presence), session);
  if (server_registry_visible_presence (registry, user_id) != before)
    server_presence_notify_friends (server, user_id, user->username,
                                    server_registry_visible_presence (registry, user_id));
}
