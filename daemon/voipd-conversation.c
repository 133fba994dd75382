/* voipd-conversation.c — org.voipd.Voip1.Conversation: sending, history,
 * edits, unread counts and the Message* signals, for contacts and groups alike. */
#define G_LOG_DOMAIN "voipd"

#include <glib/gi18n.h>

#include "voipd-contacts.h"
#include "voipd-conversation.h"
#include "voipd-errors.h"
#include "voipd-groups.h"

struct _VoipdConversations {
  GObject parent_instance;

  VoipdSession             *session;
  VoipdCache               *cache;
  GDBusObjectManagerServer *manager;
};

G_DEFINE_FINAL_TYPE (VoipdConversations, voipd_conversations, G_TYPE_OBJECT)

static void
voipd_conversations_dispose (GObject *object)
{
  VoipdConversations *self = VOIPD_CONVERSATIONS (object);

  g_clear_object (&self->session);
  g_clear_object (&self->cache);
  g_clear_object (&self->manager);
  G_OBJECT_CLASS (voipd_conversations_parent_class)->dispose (object);
}

static void
voipd_conversations_class_init (VoipdConversationsClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = voipd_conversations_dispose;
}

static void
voipd_conversations_init (VoipdConversations *self)
{
}

VoipdConversations *
voipd_conversations_new (VoipdSession *session, VoipdCache *cache,
                         GDBusObjectManagerServer *manager)
{
  VoipdConversations *self = g_object_new (VOIPD_TYPE_CONVERSATIONS, NULL);

  self->session = g_object_ref (session);
  self->cache = g_object_ref (cache);
  self->manager = g_object_ref (manager);
  return self;
}

/* What a Conversation interface stands for; its handlers' user data. */
typedef struct {
  VoipdConversations    *convs;   /* not owned: it outlives its objects */
  char         *peer;      /* NULL for a group */
  gint64        group;     /* 0 for a peer */
} Conversation;

static void
conversation_free (Conversation *conversation)
{
  g_free (conversation->peer);
  g_free (conversation);
}

GVariant *
voipd_message_to_dbus (const VoipdCachedMessage *m, const char *me)
{
  return g_variant_new ("(txssssbbu)", (guint64) m->id, m->timestamp_ms, m->sender,
                        g_strcmp0 (m->sender, me) == 0 ? "outgoing" : "incoming",
                        m->kind == VOIP_MESSAGE_KIND_VOICE ? "voice" : "text",
                        m->text ? m->text : "", m->edited, m->deleted, m->duration_ms);
}

VoipdCachedMessage *
voipd_message_from_wire (GVariant *message)
{
  VoipdCachedMessage *m = g_new0 (VoipdCachedMessage, 1);
  guint64 id, seq, group;

  g_variant_get (message, "(ttxsstusu@aybb&s)", &id, &seq, &m->timestamp_ms, &m->sender,
                 &m->recipient, &group, &m->kind, &m->text, &m->duration_ms, NULL,
                 &m->edited, &m->deleted, NULL);
  m->id = id;
  m->seq = seq;
  m->group = group;
  return m;
}

VoipDBusConversation *
voipd_conversation_lookup (VoipdConversations *convs, const char *peer, gint64 group)
{
  g_autofree char *path = group != 0 ? voipd_group_path (group) : voipd_contact_path (peer);
  g_autoptr(GDBusObject) object = g_dbus_object_manager_get_object (
      G_DBUS_OBJECT_MANAGER (convs->manager), path);

  return object ? voip_dbus_object_peek_conversation (VOIP_DBUS_OBJECT (object)) : NULL;
}

/* The conversation a message belongs to, seen from `me`. */
static VoipDBusConversation *
lookup_for_message (VoipdConversations *convs, const VoipdCachedMessage *m)
{
  const char *me = voipd_session_get_username (convs->session);

  if (m->group != 0)
    return voipd_conversation_lookup (convs, NULL, m->group);
  return voipd_conversation_lookup (convs, g_strcmp0 (m->sender, me) == 0 ? m->recipient
                                                                            : m->sender, 0);
}

/* Tells the daemon's clients, on the message's conversation (if it still
 * has an object). */
static void
signal_message (VoipdConversations *convs, guint code, const VoipdCachedMessage *m)
{
  VoipDBusConversation *conversation = lookup_for_message (convs, m);
  GVariant *message;

  if (conversation == NULL)
    return;
  message = voipd_message_to_dbus (m, voipd_session_get_username (convs->session));
  if (code == VOIP_MSG_MESSAGE_RECEIVED)
    voip_dbus_conversation_emit_message_received (conversation, message);
  else if (code == VOIP_MSG_MESSAGE_EDITED)
    voip_dbus_conversation_emit_message_edited (conversation, message);
  else
    voip_dbus_conversation_emit_message_deleted (conversation, message);
}

typedef struct {
  VoipdConversations    *convs;
  guint               code;
  VoipdCachedMessage *message;
} StoredEvent;

static void
stored_event_free (StoredEvent *event)
{
  g_object_unref (event->convs);
  voipd_cached_message_free (event->message);
  g_free (event);
}

/* The cache says whether the message is new: only then is it signalled. */
static void
on_event_stored (GObject *source, GAsyncResult *result, gpointer user_data)
{
  StoredEvent *event = user_data;
  VoipdConversations *convs = event->convs;
  const VoipdCachedMessage *m = event->message;
  g_autoptr(GError) error = NULL;
  VoipDBusConversation *conversation;
  gboolean is_new = FALSE;

  if (!voipd_cache_put_message_finish (VOIPD_CACHE (source), result, &is_new, &error))
    g_warning ("%s", error->message);
  /* Already seen: a resync overlapping a live event, or our own message,
   * signalled when the server stored it. */
  if (event->code == VOIP_MSG_MESSAGE_RECEIVED && !is_new)
    {
      stored_event_free (event);
      return;
    }

  conversation = lookup_for_message (convs, m);
  if (conversation != NULL)
    {
      if (event->code == VOIP_MSG_MESSAGE_RECEIVED
          && g_strcmp0 (m->sender, voipd_session_get_username (convs->session)) != 0)
        {
          voipd_cache_add_unread (VOIPD_CACHE (source), m->group != 0 ? NULL : m->sender,
                                  m->group, 1, NULL);
          voip_dbus_conversation_set_unread (conversation,
                                        voip_dbus_conversation_get_unread (conversation) + 1);
        }
      signal_message (convs, event->code, m);
    }
  stored_event_free (event);
}

void
voipd_conversation_handle_event (VoipdConversations *convs, guint code, GVariant *payload)
{
  VoipdCache *cache = convs->cache;
  StoredEvent *event = g_new0 (StoredEvent, 1);

  event->convs = g_object_ref (convs);
  event->code = code;
  event->message = voipd_message_from_wire (payload);
  /* The message before the position, in the order the cache thread writes:
   * a crash between them must not skip the message at the next resync. */
  voipd_cache_put_message_async (cache, event->message, NULL, on_event_stored, event);
  voipd_cache_raise_last_seq (cache, event->message->seq, NULL);
}

static gboolean
check_logged_in (VoipdConversations *convs, GDBusMethodInvocation *invocation)
{
  if (voipd_session_get_username (convs->session) != NULL)
    return TRUE;
  g_dbus_method_invocation_return_error_literal (invocation, VOIPD_ERROR,
                                                 VOIPD_ERROR_NOT_LOGGED_IN, _("not logged in"));
  return FALSE;
}

/* ---- sending ---------------------------------------------------------------- */

typedef struct {
  VoipdConversations    *convs;
  GDBusMethodInvocation *invocation;
  VoipdOutboxEntry      *entry;
} SendCall;

static void
send_call_free (SendCall *call)
{
  g_object_unref (call->convs);
  g_clear_object (&call->invocation);
  voipd_outbox_entry_free (call->entry);
  g_free (call);
}

static GVariant *
entry_to_request (const VoipdOutboxEntry *e)
{
  if (e->kind == VOIP_MESSAGE_KIND_VOICE)
    return g_variant_new ("(sts@ayu)", e->recipient, (guint64) e->group, e->client_id,
                          g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, e->voice, TRUE),
                          e->duration_ms);
  return g_variant_new ("(stss)", e->recipient, (guint64) e->group, e->client_id, e->text);
}

typedef struct {
  VoipdConversations    *convs;
  VoipdCachedMessage *message;
} SentMessage;

/* The server tells our other sessions; this daemon's clients hear it here,
 * once (a resync that brings it back finds it known). */
static void
on_sent_cached (GObject *source, GAsyncResult *result, gpointer user_data)
{
  SentMessage *sent = user_data;
  g_autoptr(GError) error = NULL;
  gboolean is_new = FALSE;

  if (!voipd_cache_put_message_finish (VOIPD_CACHE (source), result, &is_new, &error))
    g_warning ("%s", error->message);
  if (is_new || error != NULL)
    signal_message (sent->convs, VOIP_MSG_MESSAGE_RECEIVED, sent->message);
  g_object_unref (sent->convs);
  voipd_cached_message_free (sent->message);
  g_free (sent);
}

/* The server stored it: keep our own copy in the cache. */
static void
cache_sent (VoipdConversations *convs, const VoipdOutboxEntry *e, GVariant *reply)
{
  VoipdCachedMessage m = { 0 };
  guint64 id, seq;
  SentMessage *sent;

  g_variant_get (reply, "(ttx)", &id, &seq, &m.timestamp_ms);
  m.id = id;
  m.seq = seq;
  m.sender = (char *) voipd_session_get_username (convs->session);
  m.recipient = e->recipient;
  m.group = e->group;
  m.kind = e->kind;
  m.text = e->text;
  m.duration_ms = e->duration_ms;
  sent = g_new0 (SentMessage, 1);
  sent->convs = g_object_ref (convs);
  sent->message = voipd_cached_message_copy (&m);
  voipd_cache_put_message_async (convs->cache, &m, NULL, on_sent_cached,
                                 sent);
}

/* The reply waits until the entry is on disk (synchronous=FULL). */
static void
on_queued (GObject *source, GAsyncResult *result, gpointer user_data)
{
  SendCall *call = user_data;
  g_autoptr(GError) error = NULL;

  if (voipd_cache_outbox_add_finish (VOIPD_CACHE (source), result, &error) == 0)
    g_dbus_method_invocation_return_gerror (call->invocation, error);
  else
    {
      g_debug ("message %s queued in the outbox", call->entry->client_id);
      g_dbus_method_invocation_return_value (call->invocation,
                                             g_variant_new ("(t)", (guint64) 0));
    }
  send_call_free (call);
}

/* Takes `call`. */
static void
queue_in_outbox (SendCall *call)
{
  voipd_cache_outbox_add_async (call->convs->cache, call->entry, NULL,
                                on_queued, call);
}

static void
on_sent (GObject *source, GAsyncResult *result, gpointer user_data)
{
  SendCall *call = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = voipd_connection_request_finish (VOIPD_CONNECTION (source),
                                                               result, &error);
  guint64 id;

  if (reply != NULL)
    {
      cache_sent (call->convs, call->entry, reply);
      g_variant_get_child (reply, 0, "t", &id);
      g_dbus_method_invocation_return_value (call->invocation, g_variant_new ("(t)", id));
    }
  else if (error->domain == G_IO_ERROR)
    {
      /* Lost on the way: the outbox sends it again, and its client_id
       * makes sure the server stores it once. */
      queue_in_outbox (call);
      return;
    }
  else
    voipd_session_return_error (call->invocation, error);
  send_call_free (call);
}

static void
send_entry (VoipdConversations *convs, GDBusMethodInvocation *invocation, VoipdOutboxEntry *entry)
{
  SendCall *call = g_new0 (SendCall, 1);

  call->convs = g_object_ref (convs);
  call->invocation = g_object_ref (invocation);
  call->entry = entry;
  entry->client_id = g_uuid_string_random ();
  entry->queued_ms = g_get_real_time () / 1000;

  if (!voipd_session_check_online (convs->session, NULL))
    {
      queue_in_outbox (call);
      return;
    }
  voipd_connection_request_async (voipd_session_get_connection (convs->session),
                                  entry->kind == VOIP_MESSAGE_KIND_VOICE ? VOIP_MSG_SEND_VOICE
                                                                         : VOIP_MSG_SEND_TEXT,
                                  entry_to_request (entry), NULL, on_sent, call);
}

static VoipdOutboxEntry *
entry_new (const Conversation *conversation, guint kind)
{
  VoipdOutboxEntry *entry = g_new0 (VoipdOutboxEntry, 1);

  entry->recipient = g_strdup (conversation->peer ? conversation->peer : "");
  entry->group = conversation->group;
  entry->kind = kind;
  return entry;
}

static gboolean
on_send_message (VoipDBusConversation *skeleton, GDBusMethodInvocation *invocation,
                 const char *text, Conversation *conversation)
{
  g_autoptr(GError) error = NULL;
  VoipdOutboxEntry *entry;

  if (!check_logged_in (conversation->convs, invocation))
    return G_DBUS_METHOD_INVOCATION_HANDLED;
  if (!voip_validate_text (text, &error))
    {
      g_dbus_method_invocation_return_gerror (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  entry = entry_new (conversation, VOIP_MESSAGE_KIND_TEXT);
  entry->text = g_strdup (text);
  entry->voice = g_bytes_new (NULL, 0);
  send_entry (conversation->convs, invocation, entry);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_send_voice_message (VoipDBusConversation *skeleton, GDBusMethodInvocation *invocation,
                       GVariant *ogg, guint duration_ms, Conversation *conversation)
{
  g_autoptr(GError) error = NULL;
  VoipdOutboxEntry *entry;

  if (!check_logged_in (conversation->convs, invocation))
    return G_DBUS_METHOD_INVOCATION_HANDLED;
  if (!voip_validate_voice (ogg, duration_ms, &error))
    {
      g_dbus_method_invocation_return_gerror (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  entry = entry_new (conversation, VOIP_MESSAGE_KIND_VOICE);
  entry->text = g_strdup ("");
  entry->voice = g_variant_get_data_as_bytes (ogg);
  entry->duration_ms = duration_ms;
  send_entry (conversation->convs, invocation, entry);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ---- history ------------------------------------------------------------------ */

typedef struct {
  VoipdConversations    *convs;
  GDBusMethodInvocation *invocation;
  char                  *peer;
  gint64                 group;
  gint64                 before_id;
  guint                  limit;
} HistoryCall;

static void
history_call_free (HistoryCall *call)
{
  g_object_unref (call->convs);
  g_object_unref (call->invocation);
  g_free (call->peer);
  g_free (call);
}

/* Messages still in the outbox belong to the conversation too: the newest
 * page shows them last, with id 0 and the time they were queued. */
static void
append_outbox (HistoryCall *call, GPtrArray *page)
{
  VoipdConversations *convs = call->convs;
  g_autoptr(GPtrArray) queued = NULL;

  if (call->before_id != 0)
    return;
  queued = voipd_cache_outbox_list (convs->cache, NULL);
  for (guint i = 0; queued != NULL && i < queued->len; i++)
    {
      VoipdOutboxEntry *e = queued->pdata[i];
      VoipdCachedMessage *m;

      if (e->group != call->group || g_strcmp0 (e->recipient, call->peer ? call->peer : "") != 0)
        continue;
      m = g_new0 (VoipdCachedMessage, 1);
      m->timestamp_ms = e->queued_ms;
      m->sender = g_strdup (voipd_session_get_username (convs->session));
      m->recipient = g_strdup (e->recipient);
      m->group = e->group;
      m->kind = e->kind;
      m->text = g_strdup (e->text);
      m->duration_ms = e->duration_ms;
      g_ptr_array_add (page, m);
    }
  if (page->len > call->limit)
    g_ptr_array_remove_range (page, 0, page->len - call->limit);
}

static void
return_page (HistoryCall *call, GPtrArray *page)
{
  const char *me = voipd_session_get_username (call->convs->session);
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(txssssbbu)"));
  for (guint i = 0; i < page->len; i++)
    g_variant_builder_add_value (&builder, voipd_message_to_dbus (page->pdata[i], me));
  g_dbus_method_invocation_return_value (call->invocation,
                                         g_variant_new ("(a(txssssbbu))", &builder));
}

static void
on_history_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  HistoryCall *call = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) page = voipd_cache_history_finish (VOIPD_CACHE (source), result, &error);

  if (page == NULL)
    g_dbus_method_invocation_return_gerror (call->invocation, error);
  else
    {
      append_outbox (call, page);
      return_page (call, page);
    }
  history_call_free (call);
}

/* Takes `call`. */
static void
history_from_cache (HistoryCall *call)
{
  voipd_cache_history_async (call->convs->cache,
                             voipd_session_get_username (call->convs->session), call->peer,
                             call->group, call->before_id, call->limit, NULL,
                             on_history_read, call);
}

static void
on_history (GObject *source, GAsyncResult *result, gpointer user_data)
{
  HistoryCall *call = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = voipd_connection_request_finish (VOIPD_CONNECTION (source),
                                                               result, &error);
  g_autoptr(GVariant) messages = NULL;
  g_autoptr(GPtrArray) page = g_ptr_array_new_with_free_func (
      (GDestroyNotify) voipd_cached_message_free);
  VoipdCache *cache = call->convs->cache;

  if (reply == NULL)
    {
      if (error->domain == G_IO_ERROR)
        {
          history_from_cache (call);
          return;
        }
      voipd_session_return_error (call->invocation, error);
      history_call_free (call);
      return;
    }
  messages = g_variant_get_child_value (reply, 0);
  for (gsize i = 0; i < g_variant_n_children (messages); i++)
    {
      g_autoptr(GVariant) wire = g_variant_get_child_value (messages, i);
      VoipdCachedMessage *m = voipd_message_from_wire (wire);

      if (!voipd_cache_put_message (cache, m, &error))
        {
          g_warning ("%s", error->message);
          g_clear_error (&error);
        }
      g_ptr_array_add (page, m);
    }
  append_outbox (call, page);
  return_page (call, page);
  history_call_free (call);
}

static gboolean
on_get_history (VoipDBusConversation *skeleton, GDBusMethodInvocation *invocation,
                guint64 before_id, guint limit, Conversation *conversation)
{
  VoipdConversations *convs = conversation->convs;
  HistoryCall *call;

  if (!check_logged_in (convs, invocation))
    return G_DBUS_METHOD_INVOCATION_HANDLED;
  if (limit < 1 || limit > VOIP_HISTORY_PAGE_MAX || before_id > G_MAXINT64)
    {
      g_dbus_method_invocation_return_error (invocation, VOIP_ERROR, VOIP_STATUS_MALFORMED,
                                             _("limit is 1 to %d"), VOIP_HISTORY_PAGE_MAX);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  call = g_new0 (HistoryCall, 1);
  call->convs = g_object_ref (convs);
  call->invocation = g_object_ref (invocation);
  call->peer = g_strdup (conversation->peer);
  call->group = conversation->group;
  call->before_id = before_id;
  call->limit = limit;
  if (!voipd_session_check_online (convs->session, NULL))
    {
      history_from_cache (call);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  voipd_connection_request_async (voipd_session_get_connection (convs->session), VOIP_MSG_HISTORY,
                                  g_variant_new ("(sttu)", call->peer ? call->peer : "",
                                                 (guint64) call->group, before_id, limit),
                                  NULL, on_history, call);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ---- edit, delete, voice: online only -------------------------------------------- */

typedef struct {
  VoipdConversations    *convs;
  GDBusMethodInvocation *invocation;
  guint64                id;
  char                  *text;   /* Edit; NULL for Delete */
} ChangeCall;

static void
change_call_free (ChangeCall *call)
{
  g_object_unref (call->convs);
  g_object_unref (call->invocation);
  g_free (call->text);
  g_free (call);
}

/* The server tells only the other sessions; update our copy here. */
static void
on_changed_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ChangeCall *call = user_data;
  VoipdCache *cache = VOIPD_CACHE (source);
  g_autoptr(VoipdCachedMessage) m = voipd_cache_get_message_finish (cache, result, NULL);

  if (m != NULL)
    {
      g_free (m->text);
      m->text = g_strdup (call->text ? call->text : "");
      m->edited |= call->text != NULL;
      m->deleted |= call->text == NULL;
      voipd_cache_put_message (cache, m, NULL);
      signal_message (call->convs, call->text ? VOIP_MSG_MESSAGE_EDITED
                                                : VOIP_MSG_MESSAGE_DELETED, m);
    }
  g_dbus_method_invocation_return_value (call->invocation, NULL);
  change_call_free (call);
}

static void
on_changed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ChangeCall *call = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = voipd_connection_request_finish (VOIPD_CONNECTION (source),
                                                               result, &error);

  if (reply == NULL)
    {
      voipd_session_return_error (call->invocation, error);
      change_call_free (call);
      return;
    }
  voipd_cache_get_message_async (call->convs->cache, call->id, NULL,
                                 on_changed_read, call);
}

static void
change_message (VoipdConversations *convs, GDBusMethodInvocation *invocation, guint64 id,
                const char *text)
{
  g_autoptr(GError) error = NULL;
  ChangeCall *call;

  if (!voipd_session_check_online (convs->session, &error)
      || (text != NULL && !voip_validate_text (text, &error)))
    {
      g_dbus_method_invocation_return_gerror (invocation, error);
      return;
    }
  call = g_new0 (ChangeCall, 1);
  call->convs = g_object_ref (convs);
  call->invocation = g_object_ref (invocation);
  call->id = id;
  call->text = g_strdup (text);
  voipd_connection_request_async (voipd_session_get_connection (convs->session),
                                  text ? VOIP_MSG_EDIT : VOIP_MSG_DELETE,
                                  text ? g_variant_new ("(ts)", id, text)
                                       : g_variant_new ("(t)", id),
                                  NULL, on_changed, call);
}

static gboolean
on_edit_message (VoipDBusConversation *skeleton, GDBusMethodInvocation *invocation, guint64 id,
                 const char *text, Conversation *conversation)
{
  change_message (conversation->convs, invocation, id, text);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_delete_message (VoipDBusConversation *skeleton, GDBusMethodInvocation *invocation, guint64 id,
                   Conversation *conversation)
{
  change_message (conversation->convs, invocation, id, NULL);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
on_voice (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GDBusMethodInvocation *invocation = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = voipd_connection_request_finish (VOIPD_CONNECTION (source),
                                                               result, &error);

  if (reply == NULL)
    voipd_session_return_error (invocation, error);
  else
    g_dbus_method_invocation_return_value (invocation, reply);
  g_object_unref (invocation);
}

static gboolean
on_get_voice_message (VoipDBusConversation *skeleton, GDBusMethodInvocation *invocation, guint64 id,
                      Conversation *conversation)
{
  VoipdConversations *convs = conversation->convs;
  g_autoptr(GError) error = NULL;

  if (!voipd_session_check_online (convs->session, &error))
    {
      g_dbus_method_invocation_return_gerror (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  voipd_connection_request_async (voipd_session_get_connection (convs->session), VOIP_MSG_GET_VOICE,
                                  g_variant_new ("(t)", id), NULL, on_voice,
                                  g_object_ref (invocation));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_mark_read (VoipDBusConversation *skeleton, GDBusMethodInvocation *invocation,
              Conversation *conversation)
{
  g_autoptr(GError) error = NULL;

  if (!voipd_cache_clear_unread (conversation->convs->cache,
                                 conversation->peer, conversation->group, &error))
    {
      g_dbus_method_invocation_return_gerror (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  voip_dbus_conversation_set_unread (skeleton, 0);
  voip_dbus_conversation_complete_mark_read (skeleton, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ---- the interface ------------------------------------------------------------------ */

VoipDBusConversation *
voipd_conversation_new (VoipdConversations *convs, const char *peer, gint64 group, guint unread)
{
  VoipDBusConversation *skeleton = voip_dbus_conversation_skeleton_new ();
  Conversation *conversation = g_new0 (Conversation, 1);

  conversation->convs = convs;
  conversation->peer = g_strdup (peer);
  conversation->group = group;
  g_object_set_data_full (G_OBJECT (skeleton), "voipd-conversation", conversation,
                          (GDestroyNotify) conversation_free);
  voip_dbus_conversation_set_unread (skeleton, unread);
  g_signal_connect (skeleton, "handle-send-message", G_CALLBACK (on_send_message),
                    conversation);
  g_signal_connect (skeleton, "handle-send-voice-message",
                    G_CALLBACK (on_send_voice_message), conversation);
  g_signal_connect (skeleton, "handle-get-history", G_CALLBACK (on_get_history), conversation);
  g_signal_connect (skeleton, "handle-get-voice-message", G_CALLBACK (on_get_voice_message),
                    conversation);
  g_signal_connect (skeleton, "handle-edit-message", G_CALLBACK (on_edit_message),
                    conversation);
  g_signal_connect (skeleton, "handle-delete-message", G_CALLBACK (on_delete_message),
                    conversation);
  g_signal_connect (skeleton, "handle-mark-read", G_CALLBACK (on_mark_read), conversation);
  return skeleton;
}

/* ---- the outbox -------------------------------------------------------------------- */

typedef struct {
  VoipdConversations    *convs;
  GPtrArray    *entries;   /* VoipdOutboxEntry*, in order */
  guint         next;
  GCallback     done;
  gpointer      user_data;
} Flush;

static void flush_next (Flush *flush);

static void
flush_finish (Flush *flush)
{
  if (flush->done)
    ((void (*) (gpointer)) flush->done) (flush->user_data);
  g_object_unref (flush->convs);
  g_ptr_array_unref (flush->entries);
  g_free (flush);
}

static void
on_flushed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Flush *flush = user_data;
  VoipdOutboxEntry *entry = flush->entries->pdata[flush->next];
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = voipd_connection_request_finish (VOIPD_CONNECTION (source),
                                                               result, &error);

  if (reply == NULL && error->domain == G_IO_ERROR)
    {
      flush_finish (flush);   /* the rest waits for the next connection */
      return;
    }
  if (reply != NULL)
    cache_sent (flush->convs, entry, reply);
  else
    /* The server refused it for good (no longer friends, say): dropping it
     * is the only way for the next ones to go. */
    g_warning ("a queued message to %s was refused: %s",
               *entry->recipient ? entry->recipient : "a group", error->message);
  voipd_cache_outbox_remove (flush->convs->cache, entry->local_id, NULL);
  flush->next++;
  flush_next (flush);
}

static void
flush_next (Flush *flush)
{
  VoipdOutboxEntry *entry;

  if (flush->next >= flush->entries->len
      || !voipd_session_check_online (flush->convs->session, NULL))
    {
      flush_finish (flush);
      return;
    }
  entry = flush->entries->pdata[flush->next];
  voipd_connection_request_async (voipd_session_get_connection (flush->convs->session),
                                  entry->kind == VOIP_MESSAGE_KIND_VOICE ? VOIP_MSG_SEND_VOICE
                                                                         : VOIP_MSG_SEND_TEXT,
                                  entry_to_request (entry), NULL, on_flushed, flush);
}

void
voipd_outbox_flush (VoipdConversations *convs, GCallback done, gpointer user_data)
{
  g_autoptr(GError) error = NULL;
  Flush *flush = g_new0 (Flush, 1);

  flush->convs = g_object_ref (convs);
  flush->done = done;
  flush->user_data = user_data;
  flush->entries = voipd_cache_outbox_list (convs->cache, &error);
  if (flush->entries == NULL)
    {
      g_warning ("%s", error->message);
      flush->entries = g_ptr_array_new ();
    }
  flush_next (flush);
}
