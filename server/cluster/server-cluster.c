/* server-cluster.c — the NATS link (server-cluster.h).
 *
 * libnats runs message and connection callbacks on its own threads. They
 * touch nothing but an Inbox, which they reach through its reference, and
 * hand each message to the main context with g_main_context_invoke_full();
 * the Delivery keeps the Inbox alive, and the Inbox says whether its
 * ServerCluster still exists when the delivery runs. */
#define G_LOG_DOMAIN "voip-server"

#include "server-cluster.h"

#include <nats/nats.h>
#include <string.h>

#define SUBJECT_USER_PREFIX   "voip.user."
/* "NODE\nUSER_ID\nPRESENCE\nUSERNAME": a user's presence on NODE. */
#define SUBJECT_PRESENCE      "voip.presence"
/* "NODE": alive (every SERVER_CLUSTER_HEARTBEAT_S). */
#define SUBJECT_HEARTBEAT     "voip.heartbeat"
/* "NODE": a node (re)joined; the others announce their users again. */
#define SUBJECT_HELLO         "voip.hello"
/* "NODE\nUSERNAME": a wrong password there, counted by every node against
 * the account's login limit. Only in memory, as on one node: a failed login
 * writes nothing to the store (an attacker would drive that write), and a
 * lost message only lets one more guess through. */
#define SUBJECT_LOGIN_FAILED  "voip.login-failed"
/* "NODE\nUSER_ID\nREASON\nKEEP_TOKEN_HASH\nDETAIL": end the user's
 * sessions but those on the token (empty: all); the store no longer has
 * the tokens, so the clients cannot resume. */
#define SUBJECT_REVOKE        "voip.revoke"
/* "NODE\n*" or "NODE\nID,ID,...": NODE could not publish events for these
 * users (or anyone) during its gap; their sessions resync from the store. */
#define SUBJECT_RESYNC        "voip.resync"
/* voip.calls.NODE: messages for the calls NODE owns or mirrors
 * (server-cluster-calls.c says what they hold). */
#define SUBJECT_CALLS_PREFIX  "voip.calls."
/* How long to wait between reconnection attempts, and how long a silent
 * NATS server is trusted: two missed pings of PING_INTERVAL_MS. */
#define RECONNECT_WAIT_MS     250
#define PING_INTERVAL_MS      2000
#define MAX_PINGS_OUT         2
/* What was written to a NATS server that then went silent may be lost
 * without an error: libnats notices the silence only after MAX_PINGS_OUT
 * unanswered pings. The users we published to in that long before a
 * disconnection (and a ping more of slack) resync on the other nodes. */
#define UNSURE_WINDOW_US      ((gint64) PING_INTERVAL_MS * (MAX_PINGS_OUT + 1) * 1000)
/* At shutdown, how long libnats may take to end its threads. */
#define CLOSE_WAIT_MS         5000

typedef struct {
  gatomicrefcount  ref;
  ServerCluster   *owner;     /* touched on the main context only; NULL once freed */
  GMainContext    *context;
  gint             closing;   /* atomic: the disconnection is ours */
} Inbox;

struct _ServerCluster {
  char                   *node;
  Inbox                  *inbox;
  natsConnection         *connection;
  GHashTable             *subscriptions;   /* gint64* user id → natsSubscription* */
  ServerClusterCallbacks  callbacks;
  gpointer                user_data;
  gboolean                publish_failed;  /* said once until the next gap */
  GHashTable             *announced;       /* gint64* user id → char* "ID\nPRESENCE\nUSERNAME" */
  ServerClusterPresence  *remote;
  guint                   heartbeat_id;
  natsSubscription       *control[6];      /* the control subjects */
  GHashTable             *unsent;          /* gint64* user ids whose events failed to go */
  gboolean                unsent_all;      /* too many: everyone resyncs */
  GHashTable             *recent;          /* gint64* user id → Recent: published lately */
  gint64                  disconnected_us; /* when the link was lost; 0 while it is up */
  natsSubscription       *calls;           /* voip.calls.NODE */
};

/* The last publication for a user, for UNSURE_WINDOW_US. */
typedef struct {
  gint64 user_id;   /* the key */
  gint64 published_us;
} Recent;

typedef enum {
  DELIVERY_FRAME,
  DELIVERY_GAP,
  DELIVERY_DISCONNECTED,
  DELIVERY_PRESENCE,
  DELIVERY_HEARTBEAT,
  DELIVERY_HELLO,
  DELIVERY_LOGIN_FAILED,
  DELIVERY_REVOKE,
  DELIVERY_RESYNC,
  DELIVERY_CALLS,
} DeliveryKind;

typedef struct {
  Inbox       *inbox;
  DeliveryKind kind;
  gint64       user_id;
  GBytes      *frame;      /* DELIVERY_FRAME, DELIVERY_CALLS */
  char        *node;       /* the control subjects */
  char        *username;   /* DELIVERY_PRESENCE, DELIVERY_LOGIN_FAILED */
  VoipPresence presence;
  guint        reason;     /* DELIVERY_REVOKE */
  char        *token_hash; /* DELIVERY_REVOKE; NULL: none kept */
  char        *detail;     /* DELIVERY_REVOKE */
  GArray      *user_ids;   /* DELIVERY_RESYNC; NULL: everyone */
} Delivery;

static Inbox *
inbox_ref (Inbox *inbox)
{
  g_atomic_ref_count_inc (&inbox->ref);
  return inbox;
}

static void
inbox_unref (Inbox *inbox)
{
  if (g_atomic_ref_count_dec (&inbox->ref))
    {
      g_main_context_unref (inbox->context);
      g_free (inbox);
    }
}

static void
delivery_free (gpointer data)
{
  Delivery *delivery = data;

  g_clear_pointer (&delivery->inbox, inbox_unref);
  g_clear_pointer (&delivery->frame, g_bytes_unref);
  g_free (delivery->node);
  g_free (delivery->username);
  g_free (delivery->token_hash);
  g_free (delivery->detail);
  g_clear_pointer (&delivery->user_ids, g_array_unref);
  g_free (delivery);
}

static gboolean publish_text (ServerCluster *self, const char *subject, const char *text);
static void announce_all (ServerCluster *self);
static void publish_resync (ServerCluster *self);
static void remember_unsent (ServerCluster *self, gint64 user_id);

/* The link is back: what we published in the UNSURE_WINDOW_US before it
 * was lost may never have reached the other nodes. */
static void
remember_unsure (ServerCluster *self)
{
  gint64 since = (self->disconnected_us != 0 ? self->disconnected_us : g_get_monotonic_time ())
                 - UNSURE_WINDOW_US;
  GHashTableIter iter;
  Recent *recent;

  g_hash_table_iter_init (&iter, self->recent);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &recent))
    if (recent->published_us >= since)
      remember_unsent (self, recent->user_id);
  g_hash_table_remove_all (self->recent);
  self->disconnected_us = 0;
}

/* On the main context. */
static gboolean
delivery_run (gpointer data)
{
  Delivery *delivery = data;
  ServerCluster *self = delivery->inbox->owner;
  gint64 now = g_get_monotonic_time ();

  gboolean known;

  if (self == NULL)
    return G_SOURCE_REMOVE;
  known = delivery->node == NULL || server_cluster_presence_knows (self->remote, delivery->node);
  switch (delivery->kind)
    {
    case DELIVERY_FRAME:
      if (g_hash_table_contains (self->subscriptions, &delivery->user_id))
        self->callbacks.user_frame (delivery->user_id, delivery->frame, self->user_data);
      break;
    case DELIVERY_DISCONNECTED:
      if (self->disconnected_us == 0)
        self->disconnected_us = now;
      break;
    case DELIVERY_GAP:
      self->publish_failed = FALSE;
      remember_unsure (self);
      /* The others may have forgotten us meanwhile. */
      publish_text (self, SUBJECT_HELLO, self->node);
      announce_all (self);
      publish_resync (self);
      self->callbacks.gap (self->user_data);
      break;
    case DELIVERY_PRESENCE:
      server_cluster_presence_set (self->remote, delivery->node, delivery->user_id,
                                   delivery->username, delivery->presence, now);
      /* A choice made there holds here too (and in what this node tells
       * a node that joins later). */
      if (delivery->presence != VOIP_PRESENCE_OFFLINE
          && g_hash_table_contains (self->announced, &delivery->user_id))
        {
          g_hash_table_replace (self->announced,
                                g_memdup2 (&delivery->user_id, sizeof delivery->user_id),
                                g_strdup_printf ("%" G_GINT64_FORMAT "\n%u\n%s",
                                                 delivery->user_id, (guint) delivery->presence,
                                                 delivery->username));
          self->callbacks.user_presence (delivery->user_id, delivery->presence,
                                         self->user_data);
        }
      break;
    case DELIVERY_HEARTBEAT:
      server_cluster_presence_seen (self->remote, delivery->node, now);
      break;
    case DELIVERY_HELLO:
      server_cluster_presence_seen (self->remote, delivery->node, now);
      announce_all (self);
      break;
    case DELIVERY_LOGIN_FAILED:
      self->callbacks.login_failed (delivery->username, self->user_data);
      break;
    case DELIVERY_REVOKE:
      if (g_hash_table_contains (self->subscriptions, &delivery->user_id))
        self->callbacks.revoked (delivery->user_id, delivery->token_hash, delivery->reason,
                                 delivery->detail, self->user_data);
      break;
    case DELIVERY_RESYNC:
      self->callbacks.resync (delivery->user_ids, self->user_data);
      break;
    case DELIVERY_CALLS:
      if (self->callbacks.calls_message != NULL)
        self->callbacks.calls_message (delivery->frame, self->user_data);
      break;
    }
  if (!known && server_cluster_presence_knows (self->remote, delivery->node)
      && self->callbacks.node_joined != NULL)
    self->callbacks.node_joined (delivery->node, self->user_data);
  return G_SOURCE_REMOVE;
}

/* On any thread; takes the delivery. */
static void
inbox_post_delivery (Inbox *inbox, Delivery *delivery)
{
  delivery->inbox = inbox_ref (inbox);
  g_main_context_invoke_full (inbox->context, G_PRIORITY_DEFAULT, delivery_run, delivery,
                              delivery_free);
}

static void
inbox_post (Inbox *inbox, gint64 user_id, GBytes *frame)
{
  Delivery *delivery = g_new0 (Delivery, 1);

  delivery->kind = frame != NULL ? DELIVERY_FRAME : DELIVERY_GAP;
  delivery->user_id = user_id;
  delivery->frame = frame;
  inbox_post_delivery (inbox, delivery);
}

static gboolean
parse_user_subject (const char *subject, gint64 *user_id)
{
  guint64 id;

  if (!g_str_has_prefix (subject, SUBJECT_USER_PREFIX)
      || !g_ascii_string_to_unsigned (subject + strlen (SUBJECT_USER_PREFIX), 10, 1,
                                      G_MAXINT64, &id, NULL))
    return FALSE;
  *user_id = (gint64) id;
  return TRUE;
}

/* ---- libnats callbacks: on libnats' threads ---------------------------------- */

static void
on_message (natsConnection *connection, natsSubscription *subscription, natsMsg *message,
            void *closure)
{
  Inbox *inbox = closure;
  gint64 user_id;

  (void) connection;
  (void) subscription;
  if (parse_user_subject (natsMsg_GetSubject (message), &user_id)
      && natsMsg_GetDataLength (message) > 0)
    inbox_post (inbox, user_id, g_bytes_new (natsMsg_GetData (message),
                                             natsMsg_GetDataLength (message)));
  else
    g_warning ("cluster: ignored a message on '%s'", natsMsg_GetSubject (message));
  natsMsg_Destroy (message);
}

static void
on_calls_message (natsConnection *connection, natsSubscription *subscription, natsMsg *message,
                  void *closure)
{
  Delivery *delivery = g_new0 (Delivery, 1);

  (void) connection;
  (void) subscription;
  delivery->kind = DELIVERY_CALLS;
  delivery->frame = g_bytes_new (natsMsg_GetData (message), natsMsg_GetDataLength (message));
  natsMsg_Destroy (message);
  inbox_post_delivery (closure, delivery);
}

/* "ID,ID,..." (at most SERVER_CLUSTER_RESYNC_USERS_MAX), or "*": NULL in *ids. */
static gboolean
parse_user_ids (const char *text, GArray **ids)
{
  g_auto(GStrv) fields = NULL;
  g_autoptr(GArray) parsed = NULL;

  *ids = NULL;
  if (g_str_equal (text, "*"))
    return TRUE;
  fields = g_strsplit (text, ",", SERVER_CLUSTER_RESYNC_USERS_MAX + 1);
  if (g_strv_length (fields) > SERVER_CLUSTER_RESYNC_USERS_MAX)
    return FALSE;
  parsed = g_array_new (FALSE, FALSE, sizeof (gint64));
  for (guint i = 0; fields[i] != NULL; i++)
    {
      guint64 id;

      if (!g_ascii_string_to_unsigned (fields[i], 10, 1, G_MAXINT64, &id, NULL))
        return FALSE;
      g_array_append_val (parsed, id);
    }
  *ids = g_steal_pointer (&parsed);
  return TRUE;
}

/* Fills the delivery from a control message's fields (after NODE); FALSE
 * when they are malformed. */
static gboolean
parse_control (const char *subject, char **fields, Delivery *delivery)
{
  guint n = g_strv_length (fields);
  guint64 id, number;

  if (g_str_equal (subject, SUBJECT_HEARTBEAT))
    delivery->kind = DELIVERY_HEARTBEAT;
  else if (g_str_equal (subject, SUBJECT_HELLO))
    delivery->kind = DELIVERY_HELLO;
  else if (g_str_equal (subject, SUBJECT_PRESENCE) && n == 4
           && g_ascii_string_to_unsigned (fields[1], 10, 1, G_MAXINT64, &id, NULL)
           && g_ascii_string_to_unsigned (fields[2], 10, 0, G_MAXUINT32, &number, NULL)
           && (number == VOIP_PRESENCE_OFFLINE || voip_validate_presence (number, NULL))
           && g_utf8_validate (fields[3], -1, NULL))
    {
      delivery->kind = DELIVERY_PRESENCE;
      delivery->user_id = (gint64) id;
      delivery->presence = number;
      delivery->username = g_strdup (fields[3]);
    }
  else if (g_str_equal (subject, SUBJECT_LOGIN_FAILED) && n == 2
           && voip_validate_username (fields[1], NULL))
    {
      delivery->kind = DELIVERY_LOGIN_FAILED;
      delivery->username = g_strdup (fields[1]);
    }
  else if (g_str_equal (subject, SUBJECT_REVOKE) && n == 5
           && g_ascii_string_to_unsigned (fields[1], 10, 1, G_MAXINT64, &id, NULL)
           && g_ascii_string_to_unsigned (fields[2], 10, 1, G_MAXUINT16, &number, NULL)
           && g_utf8_validate (fields[3], -1, NULL) && g_utf8_validate (fields[4], -1, NULL))
    {
      delivery->kind = DELIVERY_REVOKE;
      delivery->user_id = (gint64) id;
      delivery->reason = (guint) number;
      delivery->token_hash = *fields[3] != '\0' ? g_strdup (fields[3]) : NULL;
      delivery->detail = g_strdup (fields[4]);
    }
  else if (g_str_equal (subject, SUBJECT_RESYNC) && n == 2
           && parse_user_ids (fields[1], &delivery->user_ids))
    delivery->kind = DELIVERY_RESYNC;
  else
    return FALSE;
  return TRUE;
}

/* The control subjects: checked here, so that only well-formed deliveries
 * reach the main context. */
static void
on_control (natsConnection *connection, natsSubscription *subscription, natsMsg *message,
            void *closure)
{
  Inbox *inbox = closure;
  /* Copied: both live in the message, destroyed below. */
  g_autofree char *subject = g_strdup (natsMsg_GetSubject (message));
  g_autofree char *text = g_strndup (natsMsg_GetData (message), natsMsg_GetDataLength (message));
  g_auto(GStrv) fields = g_strsplit (text, "\n", 5);
  Delivery *delivery = g_new0 (Delivery, 1);

  (void) connection;
  (void) subscription;
  natsMsg_Destroy (message);
  if (!server_cluster_validate_node (fields[0], NULL) || !parse_control (subject, fields, delivery))
    {
      g_warning ("cluster: ignored a malformed message on '%s'", subject);
      delivery_free (delivery);   /* not posted: no inbox reference yet */
      return;
    }
  delivery->node = g_strdup (fields[0]);
  inbox_post_delivery (inbox, delivery);
}

static void
on_disconnected (natsConnection *connection, void *closure)
{
  Inbox *inbox = closure;

  (void) connection;
  /* g_warning is thread-safe; nothing else is touched. */
  if (!g_atomic_int_get (&inbox->closing))
    {
      Delivery *delivery = g_new0 (Delivery, 1);

      g_warning ("cluster: lost the link to NATS; reconnecting");
      delivery->kind = DELIVERY_DISCONNECTED;
      inbox_post_delivery (inbox, delivery);
    }
}

static void
on_reconnected (natsConnection *connection, void *closure)
{
  char url[256] = "";

  natsConnection_GetConnectedUrl (connection, url, sizeof url);
  g_message ("cluster: NATS link back (%s); sessions resync", url);
  inbox_post (closure, 0, NULL);
}

/* ---- validation --------------------------------------------------------------- */

gboolean
server_cluster_validate_node (const char *node, GError **error)
{
  gsize len = node ? strlen (node) : 0;

  if (len == 0 || len > SERVER_CLUSTER_NODE_MAX)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "[cluster] node must be 1 to %d characters", SERVER_CLUSTER_NODE_MAX);
      return FALSE;
    }
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum (node[i]) && node[i] != '-' && node[i] != '_')
      {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                     "[cluster] node '%s': only letters, digits, '-' and '_'", node);
        return FALSE;
      }
  return TRUE;
}

gboolean
server_cluster_validate_urls (const char *const *urls, GError **error)
{
  if (urls == NULL || urls[0] == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "[cluster] nats needs at least one nats://HOST:PORT");
      return FALSE;
    }
  for (guint i = 0; urls[i] != NULL; i++)
    {
      g_autoptr(GUri) uri = g_uri_parse (urls[i], G_URI_FLAGS_NONE, NULL);

      if (uri == NULL || g_strcmp0 (g_uri_get_scheme (uri), "nats") != 0
          || g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0'
          || g_uri_get_port (uri) <= 0
          || (*g_uri_get_path (uri) != '\0' && strcmp (g_uri_get_path (uri), "/") != 0))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "[cluster] nats: '%s' is not nats://HOST:PORT", urls[i]);
          return FALSE;
        }
    }
  return TRUE;
}

/* ---- the link ------------------------------------------------------------------ */

static gboolean
nats_ok (natsStatus status, const char *what, GError **error)
{
  if (status == NATS_OK)
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cluster: %s: %s", what,
               natsStatus_GetText (status));
  return FALSE;
}

static void
subscription_free (gpointer data)
{
  natsSubscription *subscription = data;

  natsSubscription_Unsubscribe (subscription);
  natsSubscription_Destroy (subscription);
}

/* A publication failed (no link and the reconnect buffer full, or none):
 * said once until the next gap. */
static void
publish_failure (ServerCluster *self, natsStatus status)
{
  if (!self->publish_failed)
    {
      self->publish_failed = TRUE;
      g_warning ("cluster: cannot publish to NATS: %s", natsStatus_GetText (status));
    }
}

static gboolean
publish_text (ServerCluster *self, const char *subject, const char *text)
{
  natsStatus status = natsConnection_PublishString (self->connection, subject, text);

  if (status != NATS_OK)
    publish_failure (self, status);
  return status == NATS_OK;
}

/* The user's sessions on the other nodes missed something of ours: they
 * will be told to resync when the link is back. */
static void
remember_unsent (ServerCluster *self, gint64 user_id)
{
  if (self->unsent_all)
    return;
  if (g_hash_table_size (self->unsent) >= SERVER_CLUSTER_RESYNC_USERS_MAX)
    {
      self->unsent_all = TRUE;
      g_hash_table_remove_all (self->unsent);
      return;
    }
  g_hash_table_add (self->unsent, g_memdup2 (&user_id, sizeof user_id));
}

/* A publication for the user went to libnats: it may yet be lost if the
 * server has gone silent (remember_unsure()). */
static void
remember_recent (ServerCluster *self, gint64 user_id)
{
  Recent *recent = g_hash_table_lookup (self->recent, &user_id);

  if (recent == NULL)
    {
      recent = g_new (Recent, 1);
      recent->user_id = user_id;
      g_hash_table_insert (self->recent, &recent->user_id, recent);
    }
  recent->published_us = g_get_monotonic_time ();
}

/* After a gap: the users whose events we could not publish resync on the
 * other nodes (ours resync anyway). */
static void
publish_resync (ServerCluster *self)
{
  g_autoptr(GString) text = NULL;
  GHashTableIter iter;
  gint64 *user_id;

  if (!self->unsent_all && g_hash_table_size (self->unsent) == 0)
    return;
  text = g_string_new (self->node);
  g_string_append_c (text, '\n');
  if (self->unsent_all)
    g_string_append_c (text, '*');
  else
    {
      g_hash_table_iter_init (&iter, self->unsent);
      while (g_hash_table_iter_next (&iter, (gpointer *) &user_id, NULL))
        g_string_append_printf (text, "%s%" G_GINT64_FORMAT, text->str[text->len - 1] == '\n'
                                ? "" : ",", *user_id);
    }
  g_message ("cluster: events for %s may not have reached the other nodes; they resync",
             self->unsent_all ? "everyone" : "some users");
  /* Kept for the next gap if this fails too. */
  if (publish_text (self, SUBJECT_RESYNC, text->str))
    {
      self->unsent_all = FALSE;
      g_hash_table_remove_all (self->unsent);
    }
}

static void
announce_one (ServerCluster *self, const char *body)
{
  g_autofree char *text = g_strconcat (self->node, "\n", body, NULL);

  publish_text (self, SUBJECT_PRESENCE, text);
}

static void
announce_all (ServerCluster *self)
{
  GHashTableIter iter;
  gpointer body;

  g_hash_table_iter_init (&iter, self->announced);
  while (g_hash_table_iter_next (&iter, NULL, &body))
    announce_one (self, body);
}

/* Beats, and forgets the nodes that stopped beating. */
static gboolean
on_heartbeat (gpointer user_data)
{
  ServerCluster *self = user_data;
  g_autoptr(GPtrArray) gone = NULL;
  g_autoptr(GPtrArray) dead = g_ptr_array_new_with_free_func (g_free);

  publish_text (self, SUBJECT_HEARTBEAT, self->node);
  /* While the link is up, only the last UNSURE_WINDOW_US matter. */
  if (self->disconnected_us == 0)
    {
      gint64 since = g_get_monotonic_time () - UNSURE_WINDOW_US;
      GHashTableIter iter;
      Recent *recent;

      g_hash_table_iter_init (&iter, self->recent);
      while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &recent))
        if (recent->published_us < since)
          g_hash_table_iter_remove (&iter);
    }
  gone = server_cluster_presence_sweep (self->remote, g_get_monotonic_time (), dead);
  if (gone->len > 0)
    self->callbacks.users_gone (gone, self->user_data);
  if (dead->len > 0 && self->callbacks.nodes_gone != NULL)
    self->callbacks.nodes_gone (dead, self->user_data);
  return G_SOURCE_CONTINUE;
}

ServerCluster *
server_cluster_new (const char *node, const char *const *urls, gsize reconnect_buffer,
                    GMainContext *context, const ServerClusterCallbacks *callbacks,
                    gpointer user_data, GError **error)
{
  ServerCluster *self;
  natsOptions *options = NULL;
  natsConnection *connection = NULL;
  Inbox *inbox;
  natsStatus status;

  if (!server_cluster_validate_node (node, error) || !server_cluster_validate_urls (urls, error))
    return NULL;

  inbox = g_new0 (Inbox, 1);
  g_atomic_ref_count_init (&inbox->ref);   /* libnats' reference, dropped at free */
  inbox->context = g_main_context_ref (context != NULL ? context : g_main_context_default ());

  status = natsOptions_Create (&options);
  if (status == NATS_OK)
    status = natsOptions_SetServers (options, (const char **) urls, g_strv_length ((char **) urls));
  if (status == NATS_OK)
    status = natsOptions_SetName (options, node);
  /* One pool of threads delivers every subscription's messages, rather
   * than a thread per subscription (one per online user). */
  if (status == NATS_OK)
    status = natsOptions_UseGlobalMessageDelivery (options, true);
  if (status == NATS_OK)
    status = natsOptions_SetNoEcho (options, true);
  /* The operator's order: each node's nearest NATS server first. */
  if (status == NATS_OK)
    status = natsOptions_SetNoRandomize (options, true);
  if (status == NATS_OK)
    status = natsOptions_SetAllowReconnect (options, true);
  if (status == NATS_OK)
    status = natsOptions_SetMaxReconnect (options, -1);
  if (status == NATS_OK)
    status = natsOptions_SetReconnectWait (options, RECONNECT_WAIT_MS);
  if (status == NATS_OK)
    status = natsOptions_SetReconnectBufSize (options, (int) MIN (reconnect_buffer, G_MAXINT));
  if (status == NATS_OK)
    status = natsOptions_SetPingInterval (options, PING_INTERVAL_MS);
  if (status == NATS_OK)
    status = natsOptions_SetMaxPingsOut (options, MAX_PINGS_OUT);
  if (status == NATS_OK)
    status = natsOptions_SetDisconnectedCB (options, on_disconnected, inbox);
  if (status == NATS_OK)
    status = natsOptions_SetReconnectedCB (options, on_reconnected, inbox);
  if (status == NATS_OK)
    status = natsConnection_Connect (&connection, options);
  natsOptions_Destroy (options);
  if (!nats_ok (status, "cannot connect to NATS", error))
    {
      natsConnection_Destroy (connection);
      nats_CloseAndWait (CLOSE_WAIT_MS);
      inbox_unref (inbox);
      return NULL;
    }

  self = g_new0 (ServerCluster, 1);
  self->node = g_strdup (node);
  self->inbox = inbox;
  self->connection = connection;
  self->subscriptions = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
                                               subscription_free);
  self->callbacks = *callbacks;
  self->user_data = user_data;
  self->announced = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  self->remote = server_cluster_presence_new ();
  self->unsent = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  /* The key lives in the value. */
  self->recent = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, g_free);
  inbox->owner = self;
  {
    const char *subjects[] = { SUBJECT_PRESENCE, SUBJECT_HEARTBEAT, SUBJECT_HELLO,
                               SUBJECT_LOGIN_FAILED, SUBJECT_REVOKE, SUBJECT_RESYNC };

    G_STATIC_ASSERT (G_N_ELEMENTS (subjects) == G_N_ELEMENTS (((ServerCluster *) 0)->control));

    for (guint i = 0; i < G_N_ELEMENTS (subjects); i++)
      if (!nats_ok (natsConnection_Subscribe (&self->control[i], connection, subjects[i],
                                              on_control, inbox),
                    "cannot subscribe", error))
        {
          server_cluster_free (self);
          return NULL;
        }
  }
  {
    g_autofree char *subject = g_strconcat (SUBJECT_CALLS_PREFIX, node, NULL);

    if (!nats_ok (natsConnection_Subscribe (&self->calls, connection, subject, on_calls_message,
                                            inbox),
                  "cannot subscribe", error))
      {
        server_cluster_free (self);
        return NULL;
      }
  }
  publish_text (self, SUBJECT_HELLO, node);
  self->heartbeat_id = g_timeout_add_seconds_full (G_PRIORITY_DEFAULT,
                                                   SERVER_CLUSTER_HEARTBEAT_S, on_heartbeat,
                                                   self, NULL);
  g_source_set_name_by_id (self->heartbeat_id, "[voip-server] cluster heartbeat");
  {
    char url[256] = "";

    natsConnection_GetConnectedUrl (connection, url, sizeof url);
    g_message ("cluster: node %s on NATS %s", node, url);
  }
  return self;
}

void
server_cluster_free (ServerCluster *self)
{
  if (self == NULL)
    return;
  self->inbox->owner = NULL;   /* deliveries still queued do nothing */
  g_atomic_int_set (&self->inbox->closing, TRUE);
  g_clear_handle_id (&self->heartbeat_id, g_source_remove);
  g_hash_table_unref (self->subscriptions);
  for (guint i = 0; i < G_N_ELEMENTS (self->control); i++)
    if (self->control[i] != NULL)
      subscription_free (self->control[i]);
  if (self->calls != NULL)
    subscription_free (self->calls);
  g_hash_table_unref (self->announced);
  g_hash_table_unref (self->unsent);
  g_hash_table_unref (self->recent);
  server_cluster_presence_free (self->remote);
  natsConnection_Close (self->connection);
  natsConnection_Destroy (self->connection);
  /* Waits for libnats' threads, so that none still holds the Inbox. */
  if (nats_CloseAndWait (CLOSE_WAIT_MS) != NATS_OK)
    g_warning ("cluster: libnats did not stop its threads in %d ms", CLOSE_WAIT_MS);
  else
    inbox_unref (self->inbox);
  g_free (self->node);
  g_free (self);
}

const char *
server_cluster_get_node (ServerCluster *self)
{
  return self->node;
}

gboolean
server_cluster_is_connected (ServerCluster *self)
{
  return natsConnection_Status (self->connection) == NATS_CONN_STATUS_CONNECTED;
}

void
server_cluster_watch_user (ServerCluster *self, gint64 user_id)
{
  g_autofree char *subject = g_strdup_printf (SUBJECT_USER_PREFIX "%" G_GINT64_FORMAT, user_id);
  natsSubscription *subscription = NULL;
  natsStatus status;

  if (g_hash_table_contains (self->subscriptions, &user_id))
    return;
  status = natsConnection_Subscribe (&subscription, self->connection, subject, on_message,
                                     self->inbox);
  if (status != NATS_OK)
    {
      /* The user's sessions here will miss events from other nodes: say so. */
      g_warning ("cluster: cannot subscribe to %s: %s", subject, natsStatus_GetText (status));
      return;
    }
  g_hash_table_insert (self->subscriptions, g_memdup2 (&user_id, sizeof user_id), subscription);
}

void
server_cluster_unwatch_user (ServerCluster *self, gint64 user_id)
{
  g_hash_table_remove (self->subscriptions, &user_id);
}

void
server_cluster_publish_user (ServerCluster *self, gint64 user_id, GBytes *frame)
{
  g_autofree char *subject = g_strdup_printf (SUBJECT_USER_PREFIX "%" G_GINT64_FORMAT, user_id);
  gsize len;
  const void *data = g_bytes_get_data (frame, &len);
  natsStatus status = natsConnection_Publish (self->connection, subject, data, (int) len);

  if (status != NATS_OK)
    {
      publish_failure (self, status);
      remember_unsent (self, user_id);
    }
  else
    remember_recent (self, user_id);
}

void
server_cluster_login_failed (ServerCluster *self, const char *username)
{
  g_autofree char *text = g_strconcat (self->node, "\n", username, NULL);

  publish_text (self, SUBJECT_LOGIN_FAILED, text);
}

void
server_cluster_revoke (ServerCluster *self, gint64 user_id, const char *keep_token_hash,
                       guint reason, const char *detail)
{
  g_autofree char *text = g_strdup_printf ("%s\n%" G_GINT64_FORMAT "\n%u\n%s\n%s", self->node,
                                           user_id, reason,
                                           keep_token_hash ? keep_token_hash : "", detail);

  /* Lost, the sessions elsewhere resync after the gap, and cannot resume. */
  if (!publish_text (self, SUBJECT_REVOKE, text))
    remember_unsent (self, user_id);
  else
    remember_recent (self, user_id);
}

void
server_cluster_announce (ServerCluster *self, gint64 user_id, const char *username,
                         VoipPresence presence)
{
  g_autofree char *body = g_strdup_printf ("%" G_GINT64_FORMAT "\n%u\n%s", user_id,
                                           (guint) presence, username);

  announce_one (self, body);
  if (presence == VOIP_PRESENCE_OFFLINE)
    g_hash_table_remove (self->announced, &user_id);
  else
    g_hash_table_replace (self->announced, g_memdup2 (&user_id, sizeof user_id),
                          g_steal_pointer (&body));
}

VoipPresence
server_cluster_remote_presence (ServerCluster *self, gint64 user_id)
{
  return server_cluster_presence_get (self->remote, user_id);
}

const char *
server_cluster_remote_username (ServerCluster *self, gint64 user_id)
{
  return server_cluster_presence_username (self->remote, user_id);
}

GPtrArray *
server_cluster_nodes (ServerCluster *self)
{
  return server_cluster_presence_list_nodes (self->remote);
}

GPtrArray *
server_cluster_user_nodes (ServerCluster *self, gint64 user_id)
{
  return server_cluster_presence_nodes (self->remote, user_id);
}

gboolean
server_cluster_publish_calls (ServerCluster *self, const char *node, GBytes *message)
{
  g_autofree char *subject = g_strconcat (SUBJECT_CALLS_PREFIX, node, NULL);
  gsize len;
  const void *data = g_bytes_get_data (message, &len);
  natsStatus status = natsConnection_Publish (self->connection, subject, data, (int) len);

  if (status != NATS_OK)
    publish_failure (self, status);
  return status == NATS_OK;
}
