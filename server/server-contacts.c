/* server-contacts.c — friend requests and friendships (seed 001's flows).
 *
 * The four changes (request, accept, deny, remove) share one job: each is a
 * row saying from which relationship it may start and what it leads to. */
#define G_LOG_DOMAIN "voip-server"

#include "server-handlers.h"
#include "server-job.h"

typedef enum { ACT_REQUEST, ACT_ACCEPT, ACT_DENY, ACT_REMOVE } ContactAction;

/* What an unknown (or malformed) username gets: only a request says the user
 * does not exist; for the others there is simply no such relationship. */
static const VoipStatus unknown_user_status[] = {
  [ACT_REQUEST] = VOIP_STATUS_NO_SUCH_USER,
  [ACT_ACCEPT]  = VOIP_STATUS_NO_SUCH_REQUEST,
  [ACT_DENY]    = VOIP_STATUS_NO_SUCH_REQUEST,
  [ACT_REMOVE]  = VOIP_STATUS_NOT_A_FRIEND,
};

typedef struct {
  ServerJob     base;
  ContactAction action;
  char         *me;
  char         *other;
  gint64        other_id;
  char         *my_display_name;
  char         *other_display_name;
  VoipSubscription result;   /* the relationship afterwards, as I see it */
  VoipContactChange change;
  GPtrArray    *list;        /* ContactList: StoreContact*; ContactPending: incoming */
  GPtrArray    *outgoing;    /* ContactPending */
} ContactJob;

static void
contact_job_clear (ContactJob *job)
{
  g_free (job->me);
  g_free (job->other);
  g_free (job->my_display_name);
  g_free (job->other_display_name);
  g_clear_pointer (&job->list, g_ptr_array_unref);
  g_clear_pointer (&job->outgoing, g_ptr_array_unref);
}

static gboolean
display_name_of (Store *store, gint64 user_id, char **out, GError **error)
{
  g_auto(StoreProfile) profile = { 0 };

  if (!store_profile_get (store, user_id, &profile, error))
    return FALSE;
  *out = g_steal_pointer (&profile.display_name);
  return TRUE;
}

static gboolean
contact_change_work (Store *store, ContactJob *job)
{
  g_auto(StoreUser) other = { 0 };
  g_autoptr(GError) error = NULL;
  gint64 me = job->base.user_id;
  int state;
  gboolean ok;

  if (!store_user_find (store, job->other, &other, &error))
    return error ? server_job_fail_store (&job->base, error)
                 : server_job_fail (&job->base, unknown_user_status[job->action], NULL);
  job->other_id = other.id;
  state = store_contact_state (store, me, other.id, &error);
  if (state < 0)
    return server_job_fail_store (&job->base, error);

  switch (job->action)
    {
    case ACT_REQUEST:
      if (state == VOIP_SUBSCRIPTION_FRIEND)
        return server_job_fail (&job->base, VOIP_STATUS_ALREADY_FRIEND, NULL);
      if (state == VOIP_SUBSCRIPTION_OUTGOING)
        return server_job_fail (&job->base, VOIP_STATUS_REQUEST_PENDING, NULL);
      if (state == VOIP_SUBSCRIPTION_INCOMING)
        {
          /* They asked first: asking back accepts. */
          job->result = VOIP_SUBSCRIPTION_FRIEND;
          job->change = VOIP_CONTACT_CHANGE_ACCEPTED;
          ok = store_contact_befriend (store, me, other.id, job->base.now_ms, &error);
        }
      else
        {
          job->result = VOIP_SUBSCRIPTION_OUTGOING;
          job->change = VOIP_CONTACT_CHANGE_REQUESTED;
          ok = store_contact_request (store, me, other.id, job->base.now_ms, &error);
        }
      break;
    case ACT_ACCEPT:
      if (state != VOIP_SUBSCRIPTION_INCOMING)
        return server_job_fail (&job->base, VOIP_STATUS_NO_SUCH_REQUEST, NULL);
      job->result = VOIP_SUBSCRIPTION_FRIEND;
      job->change = VOIP_CONTACT_CHANGE_ACCEPTED;
      ok = store_contact_befriend (store, me, other.id, job->base.now_ms, &error);
      break;
    case ACT_DENY:
      if (state != VOIP_SUBSCRIPTION_INCOMING && state != VOIP_SUBSCRIPTION_OUTGOING)
        return server_job_fail (&job->base, VOIP_STATUS_NO_SUCH_REQUEST, NULL);
      job->result = VOIP_SUBSCRIPTION_NONE;
      job->change = VOIP_CONTACT_CHANGE_DENIED;
      ok = store_contact_unlink (store, me, other.id, &error);
      break;
    case ACT_REMOVE:
      if (state != VOIP_SUBSCRIPTION_FRIEND)
        return server_job_fail (&job->base, VOIP_STATUS_NOT_A_FRIEND, NULL);
      job->result = VOIP_SUBSCRIPTION_NONE;
      job->change = VOIP_CONTACT_CHANGE_REMOVED;
      ok = store_contact_unlink (store, me, other.id, &error);
      break;
    default:
      g_assert_not_reached ();
    }
  if (!ok
      || !display_name_of (store, me, &job->my_display_name, &error)
      || !display_name_of (store, other.id, &job->other_display_name, &error))
    return server_job_fail_store (&job->base, error);
  return TRUE;
}

/* How the other side sees the relationship, given how I see it. */
static VoipSubscription
mirror (VoipSubscription mine)
{
  switch (mine)
    {
    case VOIP_SUBSCRIPTION_INCOMING: return VOIP_SUBSCRIPTION_OUTGOING;
    case VOIP_SUBSCRIPTION_OUTGOING: return VOIP_SUBSCRIPTION_INCOMING;
    default:                         return mine;
    }
}

static void
send_presence (Server *server, gint64 to_id, gint64 about_id, const char *about)
{
  VoipPresence presence = server_registry_visible_presence (server_get_registry (server), about_id);

  if (presence != VOIP_PRESENCE_OFFLINE)
    server_send_event_to_user (server, to_id, VOIP_MSG_PRESENCE_CHANGED,
                               g_variant_new ("(su)", about, presence), NULL);
}

static void
contact_change_after (ContactJob *job)
{
  Server *server = job->base.server;
  gint64 me = job->base.user_id;

  server_send_event_to_user (server, job->other_id, VOIP_MSG_CONTACT_CHANGED,
                             g_variant_new ("(ssuu)", job->me, job->my_display_name,
                                            mirror (job->result), job->change), NULL);
  server_send_event_to_user (server, me, VOIP_MSG_CONTACT_CHANGED,
                             g_variant_new ("(ssuu)", job->other, job->other_display_name,
                                            job->result, job->change), job->base.session);
  if (job->result == VOIP_SUBSCRIPTION_FRIEND)
    {
      send_presence (server, job->other_id, me, job->me);
      send_presence (server, me, job->other_id, job->other);
    }
  if (job->action == ACT_REQUEST)
    job->base.reply = g_variant_new ("(u)", job->result);
}

static void
contact_change_start (Server *server, ServerSession *session, const ServerRequest *request,
                      ContactAction action)
{
  const char *other;
  ContactJob *job;

  g_variant_get (request->payload, "(&s)", &other);
  if (!voip_validate_username (other, NULL))
    {
      server_session_reply_error (session, request->code, request->request_id,
                                  unknown_user_status[action], NULL);
      return;
    }
  if (g_str_equal (other, server_session_get_username (session)))
    {
      server_session_reply_error (session, request->code, request->request_id,
                                  VOIP_STATUS_SELF, NULL);
      return;
    }
  job = server_job_new (ContactJob, server, session, request, contact_change_work,
                        contact_change_after, contact_job_clear);
  job->action = action;
  job->me = g_strdup (server_session_get_username (session));
  job->other = g_strdup (other);
  server_job_submit (&job->base);
}

void
server_handle_contact_request (Server *server, ServerSession *session, const ServerRequest *request)
{
  contact_change_start (server, session, request, ACT_REQUEST);
}

void
server_handle_contact_accept (Server *server, ServerSession *session, const ServerRequest *request)
{
  contact_change_start (server, session, request, ACT_ACCEPT);
}

void
server_handle_contact_deny (Server *server, ServerSession *session, const ServerRequest *request)
{
  contact_change_start (server, session, request, ACT_DENY);
}

void
server_handle_contact_remove (Server *server, ServerSession *session, const ServerRequest *request)
{
  contact_change_start (server, session, request, ACT_REMOVE);
}

/* ---- lists ----------------------------------------------------------------- */

static gboolean
contact_list_work (Store *store, ContactJob *job)
{
  g_autoptr(GError) error = NULL;

  job->list = store_contact_friends (store, job->base.user_id, &error);
  return job->list != NULL || server_job_fail_store (&job->base, error);
}

static void
contact_list_after (ContactJob *job)
{
  ServerRegistry *registry = server_get_registry (job->base.server);
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a" VOIP_T_CONTACT));
  for (guint i = 0; i < job->list->len; i++)
    {
      StoreContact *friend = job->list->pdata[i];

      g_variant_builder_add (&builder, VOIP_T_CONTACT, friend->username, friend->display_name,
                             server_registry_visible_presence (registry, friend->id),
                             friend->motd);
    }
  job->base.reply = g_variant_new ("(a" VOIP_T_CONTACT ")", &builder);
}

void
server_handle_contact_list (Server *server, ServerSession *session, const ServerRequest *request)
{
  ContactJob *job = server_job_new (ContactJob, server, session, request, contact_list_work,
                                    contact_list_after, contact_job_clear);

  server_job_submit (&job->base);
}

static gboolean
contact_pending_work (Store *store, ContactJob *job)
{
  g_autoptr(GError) error = NULL;

  job->list = store_contact_pending (store, job->base.user_id, TRUE, &error);
  if (job->list != NULL)
    job->outgoing = store_contact_pending (store, job->base.user_id, FALSE, &error);
  return job->outgoing != NULL || server_job_fail_store (&job->base, error);
}

static void
contact_pending_after (ContactJob *job)
{
  GVariant *lists[2] = {
    g_variant_new_strv ((const char *const *) job->list->pdata, job->list->len),
    g_variant_new_strv ((const char *const *) job->outgoing->pdata, job->outgoing->len),
  };

  job->base.reply = g_variant_new_tuple (lists, 2);
}

void
server_handle_contact_pending (Server *server, ServerSession *session, const ServerRequest *request)
{
  ContactJob *job = server_job_new (ContactJob, server, session, request, contact_pending_work,
                                    contact_pending_after, contact_job_clear);

  server_job_submit (&job->base);
}
