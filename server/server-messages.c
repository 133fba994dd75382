/* server-messages.c — text and voice messages, history, sync, edit, delete.
 *
 * A message is acknowledged only after the store's transaction holding it
 * is on disk (the job's done runs after the commit), then delivered to every
 * online session of every recipient: one encoded frame shared by all. The
 * sender's client_id makes a resend after a lost acknowledgement harmless. */
#define G_LOG_DOMAIN "voip-server"

#include "server-handlers.h"
#include "server-job.h"

typedef struct {
  ServerJob     base;
  char         *peer;          /* direct conversation partner, or NULL */
  gint64        message_id;
  StoreMessage *message;       /* sent, edited or deleted */
  gboolean      duplicate;
  GArray       *recipients;    /* gint64 user ids who see the conversation */
  guint         limit;
  gint64        bound;         /* History: before_id; Sync: after_seq */
  char         *text;          /* Edit */
  GPtrArray    *page;          /* History, Sync: StoreMessage* */
  gboolean      more;
} MessageJob;

static void
message_job_clear (MessageJob *job)
{
  g_free (job->peer);
  g_clear_pointer (&job->message, store_message_free);
  g_clear_pointer (&job->recipients, g_array_unref);
  g_free (job->text);
  g_clear_pointer (&job->page, g_ptr_array_unref);
}

static GVariant *
message_to_variant (const StoreMessage *m)
{
  gsize voice_size = 0;
  gconstpointer voice = m->voice ? g_bytes_get_data (m->voice, &voice_size) : NULL;

  return g_variant_new ("(ttxsstusu@aybbs)", (guint64) m->id, (guint64) m->seq, m->timestamp_ms,
                        m->sender, m->recipient ? m->recipient : "", (guint64) m->group_id,
                        m->kind, m->text ? m->text : "", m->duration_ms,
                        g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, voice, voice_size, 1),
                        m->edited, m->deleted, m->client_id ? m->client_id : "");
}

static GVariant *
page_to_variant (GPtrArray *page, gboolean more)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a" VOIP_T_MESSAGE));
  for (guint i = 0; i < page->len; i++)
    g_variant_builder_add_value (&builder, message_to_variant (page->pdata[i]));
  return g_variant_new ("(a" VOIP_T_MESSAGE "b)", &builder, more);
}

/* Sends a message event to everyone in the conversation but the acting session. */
static void
deliver (MessageJob *job, guint16 code)
{
  g_autoptr(GBytes) frame = voip_frame_encode (VOIP_KIND_EVENT, code, 0, 0,
                                               message_to_variant (job->message));

  for (guint i = 0; i < job->recipients->len; i++)
    server_registry_send (server_get_registry (job->base.server),
                          g_array_index (job->recipients, gint64, i), frame, job->base.session);
}

/* Everyone who sees a conversation: both sides, or the group's members. */
static gboolean
load_recipients (Store *store, MessageJob *job, const StoreMessage *m, GError **error)
{
  job->recipients = g_array_new (FALSE, FALSE, sizeof (gint64));
  if (m->group_id == 0)
    {
      g_array_append_val (job->recipients, m->sender_id);
      g_array_append_val (job->recipients, m->recipient_id);
      return TRUE;
    }
  else
    {
      g_auto(StoreGroup) group = { 0 };

      if (!store_group_get (store, m->group_id, &group, error))
        return *error == NULL;   /* the group is gone: nobody to tell */
      g_array_append_vals (job->recipients, group.member_ids->data, group.member_ids->len);
      return TRUE;
    }
}

static gboolean
can_see (Store *store, gint64 user_id, const StoreMessage *m, gboolean *visible, GError **error)
{
  if (m->group_id == 0)
    {
      *visible = (m->sender_id == user_id || m->recipient_id == user_id);
      return TRUE;
    }
  *visible = store_group_is_member (store, m->group_id, user_id, error);
  return *error == NULL;
}

/* Checks the conversation (friend or own group) and fills the message's
 * recipient and group fields. */
static gboolean
resolve_conversation (Store *store, MessageJob *job, gint64 group_id, gint64 *peer_id)
{
  g_autoptr(GError) error = NULL;

  *peer_id = 0;
  if (job->peer != NULL)
    return server_job_require_friend (store, &job->base, job->peer, VOIP_STATUS_NO_SUCH_USER,
                                      peer_id);
  if (!store_group_is_member (store, group_id, job->base.user_id, &error))
    return error ? server_job_fail_store (&job->base, error)
                 : server_job_fail (&job->base, VOIP_STATUS_NO_SUCH_GROUP, NULL);
  return TRUE;
}

/* Validates (recipient, group): exactly one of them. A group id is any `t`:
 * one above the ids the store hands out names no group, as for GroupInfo. */
static gboolean
check_target (ServerSession *session, const ServerRequest *request, const char *recipient,
              guint64 group)
{
  VoipStatus status = VOIP_STATUS_OK;

  if ((*recipient == '\0') == (group == 0))
    status = VOIP_STATUS_MALFORMED;
  else if (group > G_MAXINT64)
    status = VOIP_STATUS_NO_SUCH_GROUP;
  else if (*recipient != '\0' && !voip_validate_username (recipient, NULL))
    status = VOIP_STATUS_NO_SUCH_USER;
  else if (g_strcmp0 (recipient, server_session_get_username (session)) == 0)
    status = VOIP_STATUS_MESSAGE_SELF;
  if (status == VOIP_STATUS_OK)
    return TRUE;
  server_session_reply_error (session, request->code, request->request_id, status,
                              status == VOIP_STATUS_MALFORMED
                              ? "give either a recipient or a group" : NULL);
  return FALSE;
}

/* ---- SendText, SendVoice ----------------------------------------------------- */

static gboolean
send_work (Store *store, MessageJob *job)
{
  g_autoptr(GError) error = NULL;
  StoreMessage *m = job->message;

  if (!resolve_conversation (store, job, m->group_id, &m->recipient_id))
    return FALSE;
  if (!store_message_insert (store, m, &job->duplicate, &error)
      || !load_recipients (store, job, m, &error))
    return server_job_fail_store (&job->base, error);
  return TRUE;
}

static void
send_after (MessageJob *job)
{
  StoreMessage *m = job->message;

  job->base.reply = g_variant_new ("(ttx)", (guint64) m->id, (guint64) m->seq, m->timestamp_ms);
  /* A resend was delivered the first time; the acknowledgement is what got lost. */
  if (!job->duplicate)
    deliver (job, VOIP_MSG_MESSAGE_RECEIVED);
}

static void
send_start (Server *server, ServerSession *session, const ServerRequest *request,
            StoreMessage *m, const char *recipient)
{
  MessageJob *job = server_job_new (MessageJob, server, session, request, send_work,
                                    send_after, message_job_clear);

  m->timestamp_ms = job->base.now_ms;
  m->sender_id = job->base.user_id;
  m->sender = g_strdup (server_session_get_username (session));
  m->recipient = g_strdup (recipient);
  job->peer = *recipient ? g_strdup (recipient) : NULL;
  job->message = m;
  server_job_submit (&job->base);
}

void
server_handle_send_text (Server *server, ServerSession *session, const ServerRequest *request)
{
  const char *recipient, *client_id, *text;
  guint64 group;
  g_autoptr(GError) error = NULL;
  StoreMessage *m;

  g_variant_get (request->payload, "(&st&s&s)", &recipient, &group, &client_id, &text);
  if (!check_target (session, request, recipient, group))
    return;
  if (!voip_validate_client_id (client_id, &error) || !voip_validate_text (text, &error))
    {
      server_reply_gerror (session, request, error);
      return;
    }
  m = g_new0 (StoreMessage, 1);
  m->group_id = group;
  m->kind = VOIP_MESSAGE_KIND_TEXT;
  m->text = g_strdup (text);
  m->client_id = g_strdup (client_id);
  send_start (server, session, request, m, recipient);
}

void
server_handle_send_voice (Server *server, ServerSession *session, const ServerRequest *request)
{
  const char *recipient, *client_id;
  guint64 group;
  guint32 duration_ms;
  g_autoptr(GVariant) voice = NULL;
  g_autoptr(GError) error = NULL;
  StoreMessage *m;

  g_variant_get (request->payload, "(&st&s@ayu)", &recipient, &group, &client_id, &voice,
                 &duration_ms);
  if (!check_target (session, request, recipient, group))
    return;
  if (!voip_validate_client_id (client_id, &error)
      || !voip_validate_voice (voice, duration_ms, &error))
    {
      server_reply_gerror (session, request, error);
      return;
    }
  m = g_new0 (StoreMessage, 1);
  m->group_id = group;
  m->kind = VOIP_MESSAGE_KIND_VOICE;
  m->text = g_strdup ("");
  m->duration_ms = duration_ms;
  m->voice = g_variant_get_data_as_bytes (voice);
  m->client_id = g_strdup (client_id);
  send_start (server, session, request, m, recipient);
}

/* ---- History, Sync ------------------------------------------------------------ */

static gboolean
check_limit (ServerSession *session, const ServerRequest *request, guint32 limit)
{
  if (limit >= 1 && limit <= VOIP_HISTORY_PAGE_MAX)
    return TRUE;
  server_session_reply_error (session, request->code, request->request_id,
                              VOIP_STATUS_MALFORMED, "limit is 1 to 500");
  return FALSE;
}

static gboolean
history_work (Store *store, MessageJob *job)
{
  g_autoptr(GError) error = NULL;
  gint64 peer_id = 0;

  if (job->peer != NULL)
    {
      g_auto(StoreUser) user = { 0 };

      /* A former friend's history stays readable, and so does a deleted
       * account's: its name stays its own. */
      if (!store_user_find_any (store, job->peer, &user, &error))
        return error ? server_job_fail_store (&job->base, error)
                     : server_job_fail (&job->base, VOIP_STATUS_NO_SUCH_USER, NULL);
      peer_id = user.id;
    }
  else if (!resolve_conversation (store, job, job->message_id, &peer_id))
    return FALSE;

  job->page = store_message_history (store, peer_id ? job->base.user_id : 0, peer_id,
                                     peer_id ? 0 : job->message_id, job->bound, job->limit,
                                     VOIP_HISTORY_PAGE_BYTES, &job->more, &error);
  return job->page != NULL || server_job_fail_store (&job->base, error);
}

static void
page_after (MessageJob *job)
{
  job->base.reply = page_to_variant (job->page, job->more);
}

void
server_handle_history (Server *server, ServerSession *session, const ServerRequest *request)
{
  const char *peer;
  guint64 group, before_id;
  guint32 limit;
  MessageJob *job;

  g_variant_get (request->payload, "(&sttu)", &peer, &group, &before_id, &limit);
  if (!check_target (session, request, peer, group) || !check_limit (session, request, limit))
    return;
  job = server_job_new (MessageJob, server, session, request, history_work, page_after,
                        message_job_clear);
  job->peer = *peer ? g_strdup (peer) : NULL;
  job->message_id = group;   /* the group id, for resolve_conversation */
  job->bound = MIN (before_id, (guint64) G_MAXINT64);
  job->limit = limit;
  server_job_submit (&job->base);
}

static gboolean
sync_work (Store *store, MessageJob *job)
{
  g_autoptr(GError) error = NULL;

  job->page = store_message_sync (store, job->base.user_id, job->bound, job->limit,
                                  VOIP_HISTORY_PAGE_BYTES, &job->more, &error);
  return job->page != NULL || server_job_fail_store (&job->base, error);
}

void
server_handle_sync (Server *server, ServerSession *session, const ServerRequest *request)
{
  guint64 after_seq;
  guint32 limit;
  MessageJob *job;

  g_variant_get (request->payload, "(tu)", &after_seq, &limit);
  if (!check_limit (session, request, limit))
    return;
  job = server_job_new (MessageJob, server, session, request, sync_work, page_after,
                        message_job_clear);
  job->bound = MIN (after_seq, (guint64) G_MAXINT64);
  job->limit = limit;
  server_job_submit (&job->base);
}

/* ---- Edit, Delete, GetVoice ----------------------------------------------------- */

/* Loads job->message_id if the acting user can see it and it is not deleted. */
static gboolean
load_visible_message (Store *store, MessageJob *job, gboolean with_voice)
{
  g_autoptr(GError) error = NULL;
  gboolean visible = FALSE;

  job->message = store_message_get (store, job->message_id, with_voice, &error);
  if (job->message == NULL)
    return error ? server_job_fail_store (&job->base, error)
                 : server_job_fail (&job->base, VOIP_STATUS_NO_SUCH_MESSAGE, NULL);
  if (!can_see (store, job->base.user_id, job->message, &visible, &error))
    return server_job_fail_store (&job->base, error);
  if (!visible || job->message->deleted)
    return server_job_fail (&job->base, VOIP_STATUS_NO_SUCH_MESSAGE, NULL);
  return TRUE;
}

static gboolean
change_work (Store *store, MessageJob *job)
{
  g_autoptr(GError) error = NULL;
  gint64 seq;
  gboolean ok;

  if (!load_visible_message (store, job, FALSE))
    return FALSE;
  if (job->message->sender_id != job->base.user_id)
    return server_job_fail (&job->base, VOIP_STATUS_NOT_AUTHOR, NULL);
  if (job->text != NULL && job->message->kind != VOIP_MESSAGE_KIND_TEXT)
    return server_job_fail (&job->base, VOIP_STATUS_NOT_ALLOWED, "a voice message has no text");

  ok = job->text != NULL ? store_message_edit (store, job->message_id, job->text, &seq, &error)
                         : store_message_delete (store, job->message_id, &seq, &error);
  g_clear_pointer (&job->message, store_message_free);
  if (!ok || !(job->message = store_message_get (store, job->message_id, FALSE, &error))
      || !load_recipients (store, job, job->message, &error))
    return server_job_fail_store (&job->base, error);
  return TRUE;
}

static void
change_after (MessageJob *job)
{
  deliver (job, job->text != NULL ? VOIP_MSG_MESSAGE_EDITED : VOIP_MSG_MESSAGE_DELETED);
}

static MessageJob *
message_job_for_id (Server *server, ServerSession *session, const ServerRequest *request,
                    gpointer work, gpointer after)
{
  MessageJob *job = server_job_new (MessageJob, server, session, request, work, after,
                                    message_job_clear);
  guint64 id;

  g_variant_get_child (request->payload, 0, "t", &id);
  job->message_id = MIN (id, (guint64) G_MAXINT64);
  return job;
}

void
server_handle_edit (Server *server, ServerSession *session, const ServerRequest *request)
{
  const char *text;
  g_autoptr(GError) error = NULL;
  MessageJob *job;

  g_variant_get_child (request->payload, 1, "&s", &text);
  if (!voip_validate_text (text, &error))
    {
      server_reply_gerror (session, request, error);
      return;
    }
  job = message_job_for_id (server, session, request, change_work, change_after);
  job->text = g_strdup (text);
  server_job_submit (&job->base);
}

void
server_handle_delete (Server *server, ServerSession *session, const ServerRequest *request)
{
  server_job_submit (&message_job_for_id (server, session, request, change_work,
                                          change_after)->base);
}

static gboolean
get_voice_work (Store *store, MessageJob *job)
{
  if (!load_visible_message (store, job, TRUE))
    return FALSE;
  if (job->message->kind != VOIP_MESSAGE_KIND_VOICE || job->message->voice == NULL)
    return server_job_fail (&job->base, VOIP_STATUS_NO_SUCH_MESSAGE, "not a voice message");
  return TRUE;
}

static void
get_voice_after (MessageJob *job)
{
  job->base.reply = g_variant_new ("(@ay)", g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING,
                                                                      job->message->voice, TRUE));
}

void
server_handle_get_voice (Server *server, ServerSession *session, const ServerRequest *request)
{
  server_job_submit (&message_job_for_id (server, session, request, get_voice_work,
                                          get_voice_after)->base);
}
