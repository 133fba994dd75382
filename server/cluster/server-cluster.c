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
/* How long to wait between reconnection attempts, and how long a silent
 * NATS server is trusted: two missed pings of PING_INTERVAL_MS. */
#define RECONNECT_WAIT_MS     250
#define PING_INTERVAL_MS      2000
#define MAX_PINGS_OUT         2
/* What libnats keeps of our publications while it reconnects. */
#define RECONNECT_BUFFER      (8 * 1024 * 1024)
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
};

typedef struct {
  Inbox  *inbox;
  gint64  user_id;   /* 0: a gap */
  GBytes *frame;
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

  inbox_unref (delivery->inbox);
  g_clear_pointer (&delivery->frame, g_bytes_unref);
  g_free (delivery);
}

/* On the main context. */
static gboolean
delivery_run (gpointer data)
{
  Delivery *delivery = data;
  ServerCluster *self = delivery->inbox->owner;

  if (self == NULL)
    return G_SOURCE_REMOVE;
  if (delivery->frame == NULL)
    {
      self->publish_failed = FALSE;
      self->callbacks.gap (self->user_data);
    }
  else if (g_hash_table_contains (self->subscriptions, &delivery->user_id))
    self->callbacks.user_frame (delivery->user_id, delivery->frame, self->user_data);
  return G_SOURCE_REMOVE;
}

/* On any thread. */
static void
inbox_post (Inbox *inbox, gint64 user_id, GBytes *frame)
{
  Delivery *delivery = g_new0 (Delivery, 1);

  delivery->inbox = inbox_ref (inbox);
  delivery->user_id = user_id;
  delivery->frame = frame;
  g_main_context_invoke_full (inbox->context, G_PRIORITY_DEFAULT, delivery_run, delivery,
                              delivery_free);
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
on_disconnected (natsConnection *connection, void *closure)
{
  Inbox *inbox = closure;

  (void) connection;
  /* g_warning is thread-safe; nothing else is touched. */
  if (!g_atomic_int_get (&inbox->closing))
    g_warning ("cluster: lost the link to NATS; reconnecting");
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

ServerCluster *
server_cluster_new (const char *node, const char *const *urls, GMainContext *context,
                    const ServerClusterCallbacks *callbacks, gpointer user_data, GError **error)
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
  if (status == NATS_OK)
    status = natsOptions_SetAllowReconnect (options, true);
  if (status == NATS_OK)
    status = natsOptions_SetMaxReconnect (options, -1);
  if (status == NATS_OK)
    status = natsOptions_SetReconnectWait (options, RECONNECT_WAIT_MS);
  if (status == NATS_OK)
    status = natsOptions_SetReconnectBufSize (options, RECONNECT_BUFFER);
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
  inbox->owner = self;
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
  g_hash_table_unref (self->subscriptions);
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

  if (status != NATS_OK && !self->publish_failed)
    {
      /* Until the next gap, which resyncs everyone anyway. */
      self->publish_failed = TRUE;
      g_warning ("cluster: cannot publish to NATS: %s", natsStatus_GetText (status));
    }
}
