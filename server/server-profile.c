/* server-profile.c — SetProfile and GetProfile. Anyone may read a user's
 * public fields; phone and mail only friends (and the user). */
#define G_LOG_DOMAIN "voip-server"

#include "server-handlers.h"
#include "server-job.h"

typedef struct {
  ServerJob    base;
  char        *username;
  gint64       target_id;
  gboolean     friend_or_self;
  GVariant    *fields;      /* SetProfile */
  gboolean     announce;    /* display_name or motd changed */
  StoreProfile profile;
  GPtrArray   *friends;
} ProfileJob;

static void
profile_job_clear (ProfileJob *job)
{
  g_free (job->username);
  g_clear_pointer (&job->fields, g_variant_unref);
  store_profile_clear (&job->profile);
  g_clear_pointer (&job->friends, g_ptr_array_unref);
}

/* ---- SetProfile ------------------------------------------------------- */

static gboolean
set_profile_work (Store *store, ProfileJob *job)
{
  g_autoptr(GError) error = NULL;

  if (!store_profile_set (store, job->base.user_id, job->fields, &error))
    return server_job_fail_store (&job->base, error);
  if (!job->announce)
    return TRUE;
  if (!store_profile_get (store, job->base.user_id, &job->profile, &error))
    return server_job_fail_store (&job->base, error);
  job->friends = store_contact_friends (store, job->base.user_id, &error);
  return job->friends != NULL || server_job_fail_store (&job->base, error);
}

static void
set_profile_after (ProfileJob *job)
{
  Server *server = job->base.server;
  ServerRegistry *registry = server_get_registry (server);
  g_autoptr(GBytes) frame = NULL;

  if (!job->announce)
    return;
  frame = voip_frame_encode (VOIP_KIND_EVENT, VOIP_MSG_PROFILE_CHANGED, 0, 0,
                             g_variant_new ("(ssus)", job->username, job->profile.display_name,
                                            server_registry_visible_presence (registry,
                                                                              job->base.user_id),
                                            job->profile.motd));
  server_registry_send (registry, job->base.user_id, frame, job->base.session);
  for (guint i = 0; i < job->friends->len; i++)
    server_registry_send (registry, ((StoreContact *) job->friends->pdata[i])->id, frame, NULL);
}

void
server_handle_set_profile (Server *server, ServerSession *session, const ServerRequest *request)
{
  g_autoptr(GVariant) fields = g_variant_get_child_value (request->payload, 0);
  g_autoptr(GError) error = NULL;
  ProfileJob *job;

  if (!voip_validate_profile_fields (fields, &error))
    {
      server_reply_gerror (session, request, error);
      return;
    }
  job = server_job_new (ProfileJob, server, session, request, set_profile_work,
                        set_profile_after, profile_job_clear);
  job->username = g_strdup (server_session_get_username (session));
  job->fields = g_steal_pointer (&fields);
  /* Friends hear of the fields they see in their contact list. */
  job->announce = g_variant_lookup (job->fields, "display_name", "&s", NULL)
                  || g_variant_lookup (job->fields, "motd", "&s", NULL);
  server_job_submit (&job->base);
}

/* ---- GetProfile -------------------------------------------------------- */

static gboolean
get_profile_work (Store *store, ProfileJob *job)
{
  g_auto(StoreUser) user = { 0 };
  g_autoptr(GError) error = NULL;
  int state;

  if (!store_user_find (store, job->username, &user, &error))
    return error ? server_job_fail_store (&job->base, error)
                 : server_job_fail (&job->base, VOIP_STATUS_NO_SUCH_USER, NULL);
  job->target_id = user.id;
  if (!store_profile_get (store, user.id, &job->profile, &error))
    return server_job_fail_store (&job->base, error);
  if (user.id == job->base.user_id)
    job->friend_or_self = TRUE;
  else
    {
      state = store_contact_state (store, job->base.user_id, user.id, &error);
      if (state < 0)
        return server_job_fail_store (&job->base, error);
      job->friend_or_self = (state == VOIP_SUBSCRIPTION_FRIEND);
    }
  return TRUE;
}

static void
get_profile_after (ProfileJob *job)
{
  ServerRegistry *registry = server_get_registry (job->base.server);
  StoreProfile *p = &job->profile;
  ServerUser *self_user = server_registry_lookup (registry, job->target_id);
  VoipPresence presence = job->target_id == job->base.user_id && self_user
                          ? self_user->presence
                          : server_registry_visible_presence (registry, job->target_id);
  gsize avatar_size;
  gconstpointer avatar = g_bytes_get_data (p->avatar, &avatar_size);

  job->base.reply = g_variant_new (
      "(ssusssss@ay@a(ss))", job->username, p->display_name, presence, p->motd, p->city,
      job->friend_or_self ? p->phone : "", job->friend_or_self ? p->mail : "", p->language,
      g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, avatar, avatar_size, 1),
      p->plugins);
}

void
server_handle_get_profile (Server *server, ServerSession *session, const ServerRequest *request)
{
  const char *username;
  ProfileJob *job;

  g_variant_get (request->payload, "(&s)", &username);
  if (!voip_validate_username (username, NULL))
    {
      server_session_reply_error (session, request->code, request->request_id,
                                  VOIP_STATUS_NO_SUCH_USER, NULL);
      return;
    }
  job = server_job_new (ProfileJob, server, session, request, get_profile_work,
                        get_profile_after, profile_job_clear);
  job->username = g_strdup (username);
  server_job_submit (&job->base);
}
