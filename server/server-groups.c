/* server-groups.c — groups: only members see one; any member may rename it
 * or add a friend of theirs; only the owner removes members or deletes it.
 * Every change ends with GroupChanged to every member and GroupRemoved to
 * whoever lost access. */
#define G_LOG_DOMAIN "voip-server"

#include "server-groups.h"
#include "server-handlers.h"
#include "server-job.h"

typedef struct {
  ServerJob  base;
  gint64     group_id;
  char      *name;
  char      *target;          /* a member's username */
  gint64     target_id;
  char     **members;         /* GroupCreate */
  StoreGroup before;          /* GroupDelete: who must hear */
  StoreGroup after;           /* the group's new state */
  gboolean   deleted;
  GPtrArray *groups;          /* GroupList: StoreGroup* */
} GroupJob;

void
server_group_free (StoreGroup *group)
{
  store_group_clear (group);
  g_free (group);
}

static void
group_job_clear (GroupJob *job)
{
  g_free (job->name);
  g_free (job->target);
  g_strfreev (job->members);
  store_group_clear (&job->before);
  store_group_clear (&job->after);
  g_clear_pointer (&job->groups, g_ptr_array_unref);
}

GVariant *
server_group_to_variant (const StoreGroup *group)
{
  return g_variant_new ("(tss@as)", (guint64) group->id, group->name, group->owner,
                        g_variant_new_strv ((const char *const *) group->members->pdata,
                                            group->members->len));
}

void
server_groups_broadcast_changed (Server *server, const StoreGroup *group, ServerSession *except)
{
  g_autoptr(GBytes) frame = voip_frame_encode (VOIP_KIND_EVENT, VOIP_MSG_GROUP_CHANGED, 0, 0,
                                               server_group_to_variant (group));

  for (guint i = 0; i < group->member_ids->len; i++)
    server_registry_send (server_get_registry (server),
                          g_array_index (group->member_ids, gint64, i), frame, except);
}

static void
send_group_removed (Server *server, gint64 user_id, gint64 group_id,
                    VoipGroupRemovedReason reason, ServerSession *except)
{
  g_autoptr(GBytes) frame = voip_frame_encode (VOIP_KIND_EVENT, VOIP_MSG_GROUP_REMOVED, 0, 0,
                                               g_variant_new ("(tu)", (guint64) group_id, reason));

  server_registry_send (server_get_registry (server), user_id, frame, except);
}

gboolean
server_groups_leave (Store *store, gint64 group_id, gint64 user_id, StoreGroup *after,
                     gboolean *deleted, GError **error)
{
  g_auto(StoreGroup) group = { 0 };

  *deleted = FALSE;
  if (!store_group_get (store, group_id, &group, error))
    return *error == NULL;   /* gone already: nothing to leave */
  if (!store_group_remove_member (store, group_id, user_id, error))
    return FALSE;
  if (group.member_ids->len <= 1)
    {
      *deleted = TRUE;
      return store_group_delete (store, group_id, error);
    }
  if (group.owner_id == user_id)
    {
      /* Members are in joining order; the first one that is not the leaver inherits. */
      gint64 heir = g_array_index (group.member_ids, gint64, 0);

      if (heir == user_id)
        heir = g_array_index (group.member_ids, gint64, 1);
      if (!store_group_set_owner (store, group_id, heir, error))
        return FALSE;
    }
  return store_group_get (store, group_id, after, error);
}

/* The group as the acting member may see it; FALSE (with the job failed)
 * when it does not exist or they are not in it: both look the same. */
static gboolean
load_own_group (Store *store, GroupJob *job, StoreGroup *out)
{
  g_autoptr(GError) error = NULL;
  gboolean member;

  if (!store_group_get (store, job->group_id, out, &error))
    return error ? server_job_fail_store (&job->base, error)
                 : server_job_fail (&job->base, VOIP_STATUS_NO_SUCH_GROUP, NULL);
  member = FALSE;
  for (guint i = 0; i < out->member_ids->len; i++)
    member |= g_array_index (out->member_ids, gint64, i) == job->base.user_id;
  if (!member)
    return server_job_fail (&job->base, VOIP_STATUS_NO_SUCH_GROUP, NULL);
  return TRUE;
}

static gboolean
group_contains (const StoreGroup *group, gint64 user_id)
{
  for (guint i = 0; i < group->member_ids->len; i++)
    if (g_array_index (group->member_ids, gint64, i) == user_id)
      return TRUE;
  return FALSE;
}

static void
broadcast_after (GroupJob *job)
{
  server_groups_broadcast_changed (job->base.server, &job->after, NULL);
}

static GroupJob *
group_job_new (Server *server, ServerSession *session, const ServerRequest *request,
               gpointer work, gpointer after)
{
  return server_job_new (GroupJob, server, session, request, work, after, group_job_clear);
}

static void
reply_invalid (ServerSession *session, const ServerRequest *request, VoipStatus status,
               GError *error)
{
  server_session_reply_error (session, request->code, request->request_id, status,
                              error ? error->message : NULL);
}

/* ---- GroupCreate -------------------------------------------------------------- */

static gboolean
group_create_work (Store *store, GroupJob *job)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));

  for (guint i = 0; job->members[i] != NULL; i++)
    {
      gint64 id;

      if (!server_job_require_friend (store, &job->base, job->members[i],
                                      VOIP_STATUS_NOT_A_FRIEND, &id))
        return FALSE;
      g_array_append_val (ids, id);
    }
  job->group_id = store_group_create (store, job->name, job->base.user_id, job->base.now_ms,
                                      &error);
  if (job->group_id == 0 || !store_group_add_member (store, job->group_id, job->base.user_id,
                                                     job->base.now_ms, &error))
    return server_job_fail_store (&job->base, error);
  for (guint i = 0; i < ids->len; i++)
    if (!store_group_add_member (store, job->group_id, g_array_index (ids, gint64, i),
                                 job->base.now_ms, &error))
      return server_job_fail_store (&job->base, error);
  if (!store_group_get (store, job->group_id, &job->after, &error))
    return server_job_fail_store (&job->base, error);
  job->base.reply = g_variant_new ("(t)", (guint64) job->group_id);
  return TRUE;
}

void
server_handle_group_create (Server *server, ServerSession *session, const ServerRequest *request)
{
  const char *name;
  g_autofree const char **members = NULL;
  g_autoptr(GPtrArray) unique = g_ptr_array_new ();
  const char *me = server_session_get_username (session);
  g_autoptr(GError) error = NULL;
  GroupJob *job;

  g_variant_get (request->payload, "(&s^a&s)", &name, &members);
  if (!voip_validate_group_name (name, &error))
    {
      reply_invalid (session, request, error->code, error);
      return;
    }
  for (guint i = 0; members[i] != NULL; i++)
    {
      if (!voip_validate_username (members[i], NULL))
        {
          reply_invalid (session, request, VOIP_STATUS_NOT_A_FRIEND, NULL);
          return;
        }
      if (!g_str_equal (members[i], me)
          && !g_ptr_array_find_with_equal_func (unique, members[i], g_str_equal, NULL))
        g_ptr_array_add (unique, (gpointer) members[i]);
      if (unique->len + 1 > VOIP_GROUP_MEMBERS_MAX)
        {
          reply_invalid (session, request, VOIP_STATUS_GROUP_FULL, NULL);
          return;
        }
    }
  g_ptr_array_add (unique, NULL);

  job = group_job_new (server, session, request, group_create_work, broadcast_after);
  job->name = g_strdup (name);
  job->members = g_strdupv ((char **) unique->pdata);
  server_job_submit (&job->base);
}

/* ---- GroupList, GroupInfo ----------------------------------------------------- */

static gboolean
group_list_work (Store *store, GroupJob *job)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) ids = store_group_list_for_user (store, job->base.user_id, &error);

  if (ids == NULL)
    return server_job_fail_store (&job->base, error);
  job->groups = g_ptr_array_new_with_free_func ((GDestroyNotify) server_group_free);
  for (guint i = 0; i < ids->len; i++)
    {
      StoreGroup *group = g_new0 (StoreGroup, 1);

      g_ptr_array_add (job->groups, group);
      if (!store_group_get (store, g_array_index (ids, gint64, i), group, &error))
        return server_job_fail_store (&job->base, error);
    }
  return TRUE;
}

static void
group_list_after (GroupJob *job)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a" VOIP_T_GROUP));
  for (guint i = 0; i < job->groups->len; i++)
    g_variant_builder_add_value (&builder, server_group_to_variant (job->groups->pdata[i]));
  job->base.reply = g_variant_new ("(a" VOIP_T_GROUP ")", &builder);
}

void
server_handle_group_list (Server *server, ServerSession *session, const ServerRequest *request)
{
  server_job_submit (&group_job_new (server, session, request, group_list_work,
                                     group_list_after)->base);
}

static gboolean
group_info_work (Store *store, GroupJob *job)
{
  return load_own_group (store, job, &job->after);
}

static void
group_info_after (GroupJob *job)
{
  job->base.reply = server_group_to_variant (&job->after);
}

static GroupJob *
group_job_for_id (Server *server, ServerSession *session, const ServerRequest *request,
                  gpointer work, gpointer after)
{
  GroupJob *job = group_job_new (server, session, request, work, after);
  guint64 id;

  g_variant_get_child (request->payload, 0, "t", &id);
  job->group_id = id > G_MAXINT64 ? 0 : (gint64) id;
  return job;
}

void
server_handle_group_info (Server *server, ServerSession *session, const ServerRequest *request)
{
  server_job_submit (&group_job_for_id (server, session, request, group_info_work,
                                        group_info_after)->base);
}

/* ---- GroupRename ----------------------------------------------------------------- */

static gboolean
group_rename_work (Store *store, GroupJob *job)
{
  g_autoptr(GError) error = NULL;

  if (!load_own_group (store, job, &job->before))
    return FALSE;
  if (!store_group_rename (store, job->group_id, job->name, &error)
      || !store_group_get (store, job->group_id, &job->after, &error))
    return server_job_fail_store (&job->base, error);
  return TRUE;
}

void
server_handle_group_rename (Server *server, ServerSession *session, const ServerRequest *request)
{
  const char *name;
  g_autoptr(GError) error = NULL;
  GroupJob *job;

  g_variant_get_child (request->payload, 1, "&s", &name);
  if (!voip_validate_group_name (name, &error))
    {
      reply_invalid (session, request, error->code, error);
      return;
    }
  job = group_job_for_id (server, session, request, group_rename_work, broadcast_after);
  job->name = g_strdup (name);
  server_job_submit (&job->base);
}

/* ---- GroupAddMember, GroupRemoveMember -------------------------------------------- */

static gboolean
group_add_work (Store *store, GroupJob *job)
{
  g_autoptr(GError) error = NULL;

  if (!load_own_group (store, job, &job->before)
      || !server_job_require_friend (store, &job->base, job->target, VOIP_STATUS_NOT_A_FRIEND,
                                     &job->target_id))
    return FALSE;
  if (group_contains (&job->before, job->target_id))
    return server_job_fail (&job->base, VOIP_STATUS_ALREADY_IN_GROUP, NULL);
  if (job->before.member_ids->len >= VOIP_GROUP_MEMBERS_MAX)
    return server_job_fail (&job->base, VOIP_STATUS_GROUP_FULL, NULL);
  if (!store_group_add_member (store, job->group_id, job->target_id, job->base.now_ms, &error)
      || !store_group_get (store, job->group_id, &job->after, &error))
    return server_job_fail_store (&job->base, error);
  return TRUE;
}

static gboolean
group_remove_work (Store *store, GroupJob *job)
{
  g_auto(StoreUser) user = { 0 };
  g_autoptr(GError) error = NULL;

  if (!load_own_group (store, job, &job->before))
    return FALSE;
  if (job->before.owner_id != job->base.user_id)
    return server_job_fail (&job->base, VOIP_STATUS_NOT_ALLOWED,
                            "only the owner removes members");
  if (!store_user_find (store, job->target, &user, &error))
    return error ? server_job_fail_store (&job->base, error)
                 : server_job_fail (&job->base, VOIP_STATUS_NOT_GROUP_MEMBER, NULL);
  job->target_id = user.id;
  if (user.id == job->base.user_id)
    return server_job_fail (&job->base, VOIP_STATUS_NOT_ALLOWED,
                            "the owner leaves instead of removing itself");
  if (!group_contains (&job->before, user.id))
    return server_job_fail (&job->base, VOIP_STATUS_NOT_GROUP_MEMBER, NULL);
  if (!store_group_remove_member (store, job->group_id, user.id, &error)
      || !store_group_get (store, job->group_id, &job->after, &error))
    return server_job_fail_store (&job->base, error);
  return TRUE;
}

static void
group_remove_after (GroupJob *job)
{
  broadcast_after (job);
  send_group_removed (job->base.server, job->target_id, job->group_id,
                      VOIP_GROUP_REMOVED_KICKED, NULL);
}

static void
group_member_start (Server *server, ServerSession *session, const ServerRequest *request,
                    gpointer work, gpointer after, VoipStatus unknown_user_status)
{
  const char *username;
  GroupJob *job;

  g_variant_get_child (request->payload, 1, "&s", &username);
  if (!voip_validate_username (username, NULL))
    {
      reply_invalid (session, request, unknown_user_status, NULL);
      return;
    }
  job = group_job_for_id (server, session, request, work, after);
  job->target = g_strdup (username);
  server_job_submit (&job->base);
}

void
server_handle_group_add_member (Server *server, ServerSession *session,
                                const ServerRequest *request)
{
  group_member_start (server, session, request, group_add_work, broadcast_after,
                      VOIP_STATUS_NOT_A_FRIEND);
}

void
server_handle_group_remove_member (Server *server, ServerSession *session,
                                   const ServerRequest *request)
{
  group_member_start (server, session, request, group_remove_work, group_remove_after,
                      VOIP_STATUS_NOT_GROUP_MEMBER);
}

/* ---- GroupLeave, GroupDelete ---------------------------------------------------- */

static gboolean
group_leave_work (Store *store, GroupJob *job)
{
  g_autoptr(GError) error = NULL;

  if (!load_own_group (store, job, &job->before))
    return FALSE;
  if (!server_groups_leave (store, job->group_id, job->base.user_id, &job->after,
                            &job->deleted, &error))
    return server_job_fail_store (&job->base, error);
  return TRUE;
}

static void
group_leave_after (GroupJob *job)
{
  if (!job->deleted)
    broadcast_after (job);
  send_group_removed (job->base.server, job->base.user_id, job->group_id,
                      VOIP_GROUP_REMOVED_LEFT, job->base.session);
}

static gboolean
group_delete_work (Store *store, GroupJob *job)
{
  g_autoptr(GError) error = NULL;

  if (!load_own_group (store, job, &job->before))
    return FALSE;
  if (job->before.owner_id != job->base.user_id)
    return server_job_fail (&job->base, VOIP_STATUS_NOT_ALLOWED,
                            "only the owner deletes a group");
  if (!store_group_delete (store, job->group_id, &error))
    return server_job_fail_store (&job->base, error);
  return TRUE;
}

static void
group_delete_after (GroupJob *job)
{
  for (guint i = 0; i < job->before.member_ids->len; i++)
    send_group_removed (job->base.server, g_array_index (job->before.member_ids, gint64, i),
                        job->group_id, VOIP_GROUP_REMOVED_DELETED, job->base.session);
}

void
server_handle_group_leave (Server *server, ServerSession *session, const ServerRequest *request)
{
  server_job_submit (&group_job_for_id (server, session, request, group_leave_work,
                                        group_leave_after)->base);
}

void
server_handle_group_delete (Server *server, ServerSession *session, const ServerRequest *request)
{
  server_job_submit (&group_job_for_id (server, session, request, group_delete_work,
                                        group_delete_after)->base);
}
