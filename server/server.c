/* server.c — Server: accepts connections (TLS when configured), keeps every
 * session, closes the ones that never log in or go silent, hands requests to
 * the dispatcher, and shuts down cleanly. */
#define G_LOG_DOMAIN "voip-server"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include "server.h"
#include "server-calls.h"
#include "cluster/server-cluster-calls.h"
#include "server-dispatch.h"
#include "server-health.h"
#include "server-presence.h"
#include "server-rate-limit.h"
#include "server-stun.h"
#include "server-tls.h"

#define SWEEP_INTERVAL_S     1
/* The longest a shutdown waits for sessions to answer what they have read
 * and to flush their goodbye (a session's own grace is 2 s). */
#define SHUTDOWN_TIMEOUT_S   5

struct _Server {
  GObject parent_instance;

  ServerConfig    *config;
  Store           *store;
  ServerPassword  *password;
  ServerRegistry  *registry;
  ServerCalls     *calls;
  ServerStun      *stun;
  ServerRateLimit *ip_limit;
  ServerRateLimit *account_limit;
  ServerTls       *tls;           /* NULL: plain TCP */
  ServerPoller    *poller;
  ServerCluster   *cluster;       /* NULL: a single node */
  ServerHealth    *health;        /* NULL: no [server] health */

  GSocketService  *service;
  char            *listen_address;
  GHashTable      *sessions;      /* ServerSession* → itself (owned): every connection */
  guint            sweep_id;
  gboolean         shutting_down;
  struct _Shutdown *shutdown;     /* while shutting down */
};

G_DEFINE_FINAL_TYPE (Server, server, G_TYPE_OBJECT)

/* ---- sessions -------------------------------------------------------------- */

static void
on_session_request (ServerSession *session, const ServerRequest *request, gpointer user_data)
{
  Server *self = user_data;

  if (self->shutting_down)
    {
      server_session_reply_error (session, request->code, request->request_id,
                                  VOIP_STATUS_SHUTTING_DOWN, NULL);
      return;
    }
  server_dispatch (self, session, request);
}

static void server_shutdown_schedule_end (Server *self);

static void
on_session_closed (ServerSession *session, gpointer user_data)
{
  Server *self = user_data;

  if (server_session_get_user_id (session) != 0)
    server_session_ended (self, session);
  g_hash_table_remove (self->sessions, session);
  if (self->shutting_down && g_hash_table_size (self->sessions) == 0)
    server_shutdown_schedule_end (self);
}

static void
server_add_session (Server *self, GIOStream *stream, int fd, const char *peer)
{
  ServerSession *session = server_session_new (stream, fd, self->poller, peer,
                                               self->config->max_output_queue,
                                               on_session_request, on_session_closed, self);

  g_hash_table_add (self->sessions, session);
  server_session_start (session);
}

/* A TLS connection is not a session until its handshake is over, so the
 * sweep's login timeout cannot see it: the handshake has its own, as long,
 * or a client that never sends its ClientHello would hold the socket open
 * for ever. */
typedef struct {
  Server       *server;
  char         *peer;
  int           fd;
  GCancellable *cancellable;
  guint         timeout_id;
} Handshake;

static gboolean
on_tls_handshake_timeout (gpointer user_data)
{
  Handshake *handshake = user_data;

  handshake->timeout_id = 0;
  g_cancellable_cancel (handshake->cancellable);
  return G_SOURCE_REMOVE;
}

static void
on_tls_handshake (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Handshake *handshake = user_data;
  g_autoptr(GError) error = NULL;

  g_clear_handle_id (&handshake->timeout_id, g_source_remove);

  if (g_tls_connection_handshake_finish (G_TLS_CONNECTION (source), result, &error)
      && server_tls_check_handshake (G_TLS_CONNECTION (source), &error))
    {
      if (!handshake->server->shutting_down)
        server_add_session (handshake->server, G_IO_STREAM (source), handshake->fd,
                            handshake->peer);
    }
  else
    g_debug ("TLS handshake with %s failed: %s", handshake->peer, error->message);
  g_object_unref (handshake->server);
  g_object_unref (handshake->cancellable);
  g_free (handshake->peer);
  g_free (handshake);
}

static char *
peer_address_of (GSocketConnection *connection)
{
  g_autoptr(GSocketAddress) address = g_socket_connection_get_remote_address (connection, NULL);

  if (G_IS_INET_SOCKET_ADDRESS (address))
    return g_inet_address_to_string (
        g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address)));
  return g_strdup ("unknown");
}

static gboolean
on_incoming (GSocketService *service, GSocketConnection *connection, GObject *source,
             gpointer user_data)
{
  Server *self = user_data;
  g_autofree char *peer = peer_address_of (connection);
  g_autoptr(GError) error = NULL;
  g_autoptr(GIOStream) tls = NULL;
  Handshake *handshake;

  GSocket *socket = g_socket_connection_get_socket (connection);

  if (self->shutting_down)
    return TRUE;
  g_socket_set_keepalive (socket, TRUE);
  /* Replies and events are small and already batched per loop iteration;
   * Nagle's algorithm would hold one back for the peer's delayed ACK
   * (40 ms), e.g. a CallChanged behind the reply before it. */
  g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
  if (self->tls == NULL)
    {
      server_add_session (self, G_IO_STREAM (connection), g_socket_get_fd (socket), peer);
      return TRUE;
    }

  tls = server_tls_wrap (self->tls, G_IO_STREAM (connection), &error);
  if (tls == NULL)
    {
      g_warning ("cannot start TLS with %s: %s", peer, error->message);
      return TRUE;
    }
  handshake = g_new0 (Handshake, 1);
  handshake->server = g_object_ref (self);
  handshake->peer = g_steal_pointer (&peer);
  handshake->fd = g_socket_get_fd (socket);
  handshake->cancellable = g_cancellable_new ();
  handshake->timeout_id = g_timeout_add_seconds (self->config->login_timeout_s,
                                                 on_tls_handshake_timeout, handshake);
  g_tls_connection_handshake_async (G_TLS_CONNECTION (tls), G_PRIORITY_DEFAULT,
                                    handshake->cancellable, on_tls_handshake, handshake);
  return TRUE;
}

/* Closes connections that never log in or have gone silent. One timer for
 * all sessions costs less than a timer each. */
static gboolean
on_sweep (gpointer user_data)
{
  Server *self = user_data;
  gint64 now = g_get_monotonic_time ();
  gint64 login_limit = now - (gint64) self->config->login_timeout_s * G_USEC_PER_SEC;
  gint64 idle_limit = now - (gint64) self->config->idle_timeout_s * G_USEC_PER_SEC;
  g_autoptr(GPtrArray) expired = g_ptr_array_new_with_free_func (g_object_unref);
  GHashTableIter iter;
  ServerSession *session;

  g_hash_table_iter_init (&iter, self->sessions);
  while (g_hash_table_iter_next (&iter, (gpointer *) &session, NULL))
    {
      if (server_session_get_user_id (session) == 0
          && !server_session_get_authenticating (session)
          && server_session_get_connected_us (session) < login_limit)
        g_ptr_array_add (expired, g_object_ref (session));
      else if (server_session_get_last_activity_us (session) < idle_limit)
        g_ptr_array_add (expired, g_object_ref (session));
    }
  for (guint i = 0; i < expired->len; i++)
    {
      session = expired->pdata[i];
      if (server_session_get_user_id (session) == 0)
        server_session_close (session, VOIP_CLOSE_LOGIN_TIMEOUT, "no login in time");
      else
        server_session_close (session, VOIP_CLOSE_IDLE, "connection idle");
    }

  server_rate_limit_prune (self->ip_limit);
  server_rate_limit_prune (self->account_limit);
  return G_SOURCE_CONTINUE;
}

/* ---- for handlers ----------------------------------------------------------- */

const ServerConfig *server_get_config (Server *self) { return self->config; }
Store *server_get_store (Server *self) { return self->store; }
ServerPassword *server_get_password (Server *self) { return self->password; }
ServerRegistry *server_get_registry (Server *self) { return self->registry; }
const char *server_get_listen_address (Server *self) { return self->listen_address; }
ServerCalls *server_get_calls (Server *self) { return self->calls; }

guint16
server_get_stun_port (Server *self)
{
  return self->stun ? server_stun_get_port (self->stun) : 0;
}

const char *
server_get_health_address (Server *self)
{
  return self->health ? server_health_get_address (self->health) : NULL;
}

/* The health probe's question: does this node serve? */
static gboolean
health_check (gpointer user_data, const char **reason)
{
  Server *self = user_data;

  if (self->shutting_down)
    {
      *reason = "shutting down";
      return FALSE;
    }
  if (self->cluster != NULL && !server_cluster_is_connected (self->cluster))
    {
      *reason = "no link to NATS";
      return FALSE;
    }
  return TRUE;
}

const char *
server_get_stun_address (Server *self)
{
  return self->stun ? server_stun_get_address (self->stun) : NULL;
}

void
server_session_ended (Server *self, ServerSession *session)
{
  if (self->calls != NULL)   /* NULL only once disposed */
    server_calls_session_ended (self->calls, session);
  server_presence_session_ended (self, session);
}

gboolean
server_login_attempt_allowed (Server *self, ServerSession *session, const char *username)
{
  g_autofree char *account_key = g_strconcat ("user:", username, NULL);

  /* Check the account first so a locked account does not also drain the address. */
  if (!server_rate_limit_check (self->account_limit, account_key))
    return FALSE;
  return server_rate_limit_take (self->ip_limit, server_session_get_peer_address (session));
}

void
server_login_failed (Server *self, const char *username)
{
  g_autofree char *account_key = g_strconcat ("user:", username, NULL);

  server_rate_limit_take (self->account_limit, account_key);
  /* Each node counts every node's failures: the limit is the cluster's. */
  if (self->cluster != NULL)
    server_cluster_login_failed (self->cluster, username);
}

void
server_send_event_to_user (Server *self, gint64 user_id, guint16 code, GVariant *payload,
                           ServerSession *except)
{
  g_autoptr(GBytes) frame = voip_frame_encode (VOIP_KIND_EVENT, code, 0, 0, payload);

  server_registry_send (self->registry, user_id, frame, except);
}

void
server_close_user_sessions (Server *self, gint64 user_id, ServerSession *except,
                            const char *keep_token_hash, VoipCloseReason reason,
                            const char *detail)
{
  ServerUser *user = server_registry_lookup (self->registry, user_id);
  g_autoptr(GPtrArray) doomed = g_ptr_array_new_with_free_func (g_object_unref);

  if (user == NULL)
    return;
  for (guint i = 0; i < user->sessions->len; i++)
    {
      ServerSession *session = user->sessions->pdata[i];

      if (session != except
          && (keep_token_hash == NULL
              || g_strcmp0 (server_session_get_token_hash (session), keep_token_hash) != 0))
        g_ptr_array_add (doomed, g_object_ref (session));
    }
  /* Closing detaches from the registry, so work on a copy. */
  for (guint i = 0; i < doomed->len; i++)
    {
      ServerSession *session = doomed->pdata[i];

      server_session_ended (self, session);
      server_session_clear_login (session);
      server_session_close (session, reason, detail);
    }
}

void
server_revoke_user_sessions (Server *self, gint64 user_id, ServerSession *except,
                             const char *keep_token_hash, VoipCloseReason reason,
                             const char *detail)
{
  server_close_user_sessions (self, user_id, except, keep_token_hash, reason, detail);
  if (self->cluster != NULL)
    server_cluster_revoke (self->cluster, user_id, keep_token_hash, reason, detail);
}

/* ---- the cluster ---------------------------------------------------------------- */

static void
on_cluster_user_frame (gint64 user_id, GBytes *frame, gpointer user_data)
{
  Server *self = user_data;

  server_registry_send_local (self->registry, user_id, frame);
}

/* Closes the logged-in sessions of the users (NULL: of everyone), so that
 * their clients resume and sync by seq (as after a restart), rather than
 * living on with a hole they cannot see. */
static void
resync_sessions (Server *self, GArray *user_ids, const char *why)
{
  g_autoptr(GPtrArray) doomed = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GHashTable) listed = g_hash_table_new (g_int64_hash, g_int64_equal);
  GHashTableIter iter;
  gpointer session;

  if (self->shutting_down)
    return;
  for (guint i = 0; user_ids != NULL && i < user_ids->len; i++)
    g_hash_table_add (listed, &g_array_index (user_ids, gint64, i));
  g_hash_table_iter_init (&iter, self->sessions);
  while (g_hash_table_iter_next (&iter, &session, NULL))
    {
      gint64 user_id = server_session_get_user_id (session);

      if (user_id != 0 && (user_ids == NULL || g_hash_table_contains (listed, &user_id)))
        g_ptr_array_add (doomed, g_object_ref (session));
    }
  g_message ("cluster: %u sessions resync: %s", doomed->len, why);
  for (guint i = 0; i < doomed->len; i++)
    {
      server_session_ended (self, doomed->pdata[i]);
      server_session_clear_login (doomed->pdata[i]);
      server_session_close (doomed->pdata[i], VOIP_CLOSE_SHUTDOWN,
                            "events between servers were interrupted; reconnect and sync");
    }
}

/* NATS lost events for a while: the store has them. */
static void
on_cluster_gap (gpointer user_data)
{
  resync_sessions (user_data, NULL, "after the NATS gap");
}

/* Another node lost events for these users: the store has them. */
static void
on_cluster_resync (GArray *user_ids, gpointer user_data)
{
  resync_sessions (user_data, user_ids, "another node could not publish their events");
}

static void
on_cluster_login_failed (const char *username, gpointer user_data)
{
  Server *self = user_data;
  g_autofree char *account_key = g_strconcat ("user:", username, NULL);

  server_rate_limit_take (self->account_limit, account_key);
}

static void
on_cluster_revoked (gint64 user_id, const char *keep_token_hash, guint reason,
                    const char *detail, gpointer user_data)
{
  server_close_user_sessions (user_data, user_id, NULL, keep_token_hash, reason, detail);
}

static void
on_cluster_users_gone (GPtrArray *gone, gpointer user_data)
{
  server_presence_users_gone (user_data, gone);
}

static void
on_cluster_user_presence (gint64 user_id, VoipPresence presence, gpointer user_data)
{
  Server *self = user_data;
  ServerUser *user = server_registry_lookup (self->registry, user_id);

  /* The user chose on another node; the sessions here had the event. */
  if (user != NULL)
    user->presence = presence;
}

static void
on_cluster_calls_message (GBytes *message, gpointer user_data)
{
  Server *self = user_data;

  if (self->calls != NULL)   /* NULL only once disposed */
    server_cluster_calls_receive (server_calls_get_cluster (self->calls), message);
}

static void
on_cluster_node_joined (const char *node, gpointer user_data)
{
  Server *self = user_data;

  if (self->calls != NULL)
    server_calls_node_joined (self->calls, node);
}

/* Calls with users on those nodes lose them; calls they owned end here. */
static void
on_cluster_nodes_gone (GPtrArray *nodes, gpointer user_data)
{
  Server *self = user_data;

  if (self->calls != NULL)
    server_calls_nodes_gone (self->calls, nodes);
}

static const ServerClusterCallbacks cluster_callbacks = {
  .calls_message = on_cluster_calls_message,
  .nodes_gone    = on_cluster_nodes_gone,
  .node_joined   = on_cluster_node_joined,
  .user_frame    = on_cluster_user_frame,
  .gap           = on_cluster_gap,
  .users_gone    = on_cluster_users_gone,
  .user_presence = on_cluster_user_presence,
  .login_failed  = on_cluster_login_failed,
  .revoked       = on_cluster_revoked,
  .resync        = on_cluster_resync,
};

/* ---- lifecycle ----------------------------------------------------------------- */

gboolean
server_listen (Server *self, GError **error)
{
  g_autoptr(GSocketConnectable) connectable = NULL;
  g_autoptr(GSocketAddressEnumerator) enumerator = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GSocketAddress) bound = NULL;
  g_autofree char *host = NULL;

  connectable = g_network_address_parse (self->config->listen, 7000, error);
  if (connectable == NULL)
    {
      g_prefix_error (error, "bad listen address '%s': ", self->config->listen);
      return FALSE;
    }
  enumerator = g_socket_connectable_enumerate (connectable);
  address = g_socket_address_enumerator_next (enumerator, NULL, error);
  if (address == NULL)
    return FALSE;

  self->service = g_socket_service_new ();
  g_socket_listener_set_backlog (G_SOCKET_LISTENER (self->service), 4096);
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (self->service), address,
                                      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                      NULL, &bound, error))
    return FALSE;
  g_signal_connect (self->service, "incoming", G_CALLBACK (on_incoming), self);

  host = g_inet_address_to_string (
      g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (bound)));
  self->listen_address = g_strdup_printf (
      strchr (host, ':') ? "[%s]:%u" : "%s:%u", host,
      g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  g_socket_service_start (self->service);

  /* STUN answers on the address clients reach the server at. */
  if (self->config->stun_enabled)
    {
      self->stun = server_stun_new (g_inet_socket_address_get_address (
                                        G_INET_SOCKET_ADDRESS (bound)),
                                    self->config->stun_port, error);
      if (self->stun == NULL)
        return FALSE;
    }
  if (self->config->health != NULL)
    {
      self->health = server_health_new (self->config->health, health_check, self, error);
      if (self->health == NULL)
        return FALSE;
    }
  self->sweep_id = g_timeout_add_seconds (SWEEP_INTERVAL_S, on_sweep, self);
  return TRUE;
}

typedef struct _Shutdown {
  GCallback done;
  gpointer  user_data;
  guint     timer;
} Shutdown;

static gboolean
on_shutdown_end (gpointer data)
{
  Server *self = data;
  Shutdown *shutdown = g_steal_pointer (&self->shutdown);

  if (g_hash_table_size (self->sessions) > 0)
    g_message ("shutting down with %u sessions still open", g_hash_table_size (self->sessions));
  g_clear_pointer (&self->store, store_close);
  ((void (*) (gpointer)) shutdown->done) (shutdown->user_data);
  g_free (shutdown);
  return G_SOURCE_REMOVE;
}

/* From an idle: the last session may be closing inside its own callback. */
static void
server_shutdown_schedule_end (Server *self)
{
  if (self->shutdown == NULL)
    return;
  g_source_remove (self->shutdown->timer);
  self->shutdown->timer = g_idle_add_full (G_PRIORITY_DEFAULT, on_shutdown_end,
                                           g_object_ref (self), g_object_unref);
}

void
server_shutdown (Server *self, GCallback done, gpointer user_data)
{
  g_autoptr(GPtrArray) all = NULL;
  GHashTableIter iter;
  gpointer session;

  if (self->shutting_down)
    return;
  self->shutting_down = TRUE;
  g_message ("shutting down");
  if (self->service)
    {
      g_socket_service_stop (self->service);
      g_socket_listener_close (G_SOCKET_LISTENER (self->service));
    }
  g_clear_handle_id (&self->sweep_id, g_source_remove);
  g_clear_pointer (&self->stun, server_stun_free);

  self->shutdown = g_new0 (Shutdown, 1);
  self->shutdown->done = done;
  self->shutdown->user_data = user_data;
  self->shutdown->timer = g_timeout_add_seconds_full (G_PRIORITY_DEFAULT, SHUTDOWN_TIMEOUT_S,
                                                      on_shutdown_end, g_object_ref (self),
                                                      g_object_unref);

  /* Each session answers what it has read (the store still serves them;
   * on_session_request says ShuttingDown to the rest), says goodbye and
   * closes; the last one to close ends the shutdown. */
  all = g_ptr_array_new_with_free_func (g_object_unref);
  g_hash_table_iter_init (&iter, self->sessions);
  while (g_hash_table_iter_next (&iter, &session, NULL))
    g_ptr_array_add (all, g_object_ref (session));
  for (guint i = 0; i < all->len; i++)
    server_session_shutdown (all->pdata[i]);
  if (g_hash_table_size (self->sessions) == 0)
    server_shutdown_schedule_end (self);
}

static void
server_dispose (GObject *object)
{
  Server *self = SERVER_SERVER (object);

  g_clear_handle_id (&self->sweep_id, g_source_remove);
  if (self->shutdown != NULL)
    g_clear_handle_id (&self->shutdown->timer, g_source_remove);
  g_clear_pointer (&self->shutdown, g_free);
  g_clear_object (&self->service);
  g_clear_pointer (&self->health, server_health_free);
  g_clear_pointer (&self->stun, server_stun_free);
  g_clear_pointer (&self->calls, server_calls_free);
  g_clear_pointer (&self->sessions, g_hash_table_unref);
  g_clear_pointer (&self->store, store_close);
  g_clear_pointer (&self->tls, server_tls_free);
  g_clear_pointer (&self->poller, server_poller_free);
  G_OBJECT_CLASS (server_parent_class)->dispose (object);
}

static void
server_finalize (GObject *object)
{
  Server *self = SERVER_SERVER (object);

  server_password_free (self->password);
  server_registry_set_cluster (self->registry, NULL);
  server_cluster_free (self->cluster);
  server_registry_free (self->registry);
  server_rate_limit_free (self->ip_limit);
  server_rate_limit_free (self->account_limit);
  server_config_free (self->config);
  g_free (self->listen_address);
  G_OBJECT_CLASS (server_parent_class)->finalize (object);
}

static void
server_class_init (ServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = server_dispose;
  object_class->finalize = server_finalize;
}

static void
server_init (Server *self)
{
  self->sessions = g_hash_table_new_full (g_direct_hash, g_direct_equal, g_object_unref, NULL);
  self->registry = server_registry_new ();
  self->calls = server_calls_new (self);
}

Server *
server_new (ServerConfig *config, GError **error)
{
  g_autoptr(Server) self = g_object_new (SERVER_TYPE_SERVER, NULL);
  g_autofree char *dir = NULL;

  self->config = config;
  if (!server_config_validate (config, error))
    return NULL;

  if (config->tls_certificate != NULL)
    {
      self->tls = server_tls_new (config->tls_certificate, config->tls_key,
                                  config->tls_priority, error);
      if (self->tls == NULL)
        return NULL;
      g_message ("TLS on: %s", server_tls_get_description (self->tls));
    }
  else
    g_message ("TLS off: clients connect over plain TCP ([tls] certificate and key unset)");

  dir = g_path_get_dirname (config->database);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                   "cannot create %s: %s", dir, g_strerror (errno));
      return NULL;
    }
  self->poller = server_poller_new (g_main_context_get_thread_default (), error);
  if (self->poller == NULL)
    return NULL;
  self->store = store_open (server_config_store_location (config),
                            g_main_context_get_thread_default (), error);
  if (self->store == NULL)
    return NULL;
  self->password = server_password_new (config->hash_cost, config->hash_threads, error);
  if (self->password == NULL)
    return NULL;
  self->ip_limit = server_rate_limit_new (config->login_attempts_per_ip,
                                          config->login_refill_per_second);
  self->account_limit = server_rate_limit_new (config->login_failures_per_account,
                                               1.0 / config->login_failure_refill_s);
  if (config->cluster_nats != NULL)
    {
      self->cluster = server_cluster_new (config->cluster_node,
                                          (const char *const *) config->cluster_nats,
                                          config->cluster_reconnect_buffer,
                                          g_main_context_get_thread_default (),
                                          &cluster_callbacks, self, error);
      if (self->cluster == NULL)
        return NULL;
      server_registry_set_cluster (self->registry, self->cluster);
      server_calls_set_cluster (self->calls, self->cluster);
    }
  return g_steal_pointer (&self);
}
