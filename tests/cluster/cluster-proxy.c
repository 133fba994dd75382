/* cluster-proxy.c — a TCP proxy on loopback that the test can cut. */
#include "cluster-proxy.h"

struct _ClusterProxy {
  GMainContext      *context;
  GMainLoop         *loop;
  GThread           *thread;
  GSocketService    *service;
  guint16            port;
  guint16            target_port;
  GMutex             lock;
  gboolean           cut;           /* under lock */
  GPtrArray         *connections;   /* GIOStream*, both ends; on the proxy's thread */
};

typedef struct {
  ClusterProxy *proxy;
  GIOStream    *client;
  GIOStream    *server;
} Pair;

static void
on_spliced (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Pair *pair = user_data;

  /* Either side closed (or we cut): both ends are closed by the splice. */
  g_io_stream_splice_finish (result, NULL);
  g_ptr_array_remove (pair->proxy->connections, pair->client);
  g_ptr_array_remove (pair->proxy->connections, pair->server);
  g_object_unref (pair->client);
  g_object_unref (pair->server);
  g_free (pair);
  (void) source;
}

static gboolean
is_cut (ClusterProxy *proxy)
{
  gboolean cut;

  g_mutex_lock (&proxy->lock);
  cut = proxy->cut;
  g_mutex_unlock (&proxy->lock);
  return cut;
}

/* On the proxy's thread. The connect is blocking, but to loopback. */
static gboolean
on_incoming (GSocketService *service, GSocketConnection *connection, GObject *source,
             gpointer user_data)
{
  ClusterProxy *proxy = user_data;
  g_autoptr(GSocketClient) client = NULL;
  GSocketConnection *upstream;
  Pair *pair;

  (void) service;
  (void) source;
  if (is_cut (proxy))
    {
      g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
      return TRUE;
    }
  client = g_socket_client_new ();
  upstream = g_socket_client_connect_to_host (client, "127.0.0.1", proxy->target_port, NULL,
                                              NULL);
  if (upstream == NULL)
    {
      g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
      return TRUE;
    }
  pair = g_new0 (Pair, 1);
  pair->proxy = proxy;
  pair->client = G_IO_STREAM (g_object_ref (connection));
  pair->server = G_IO_STREAM (upstream);
  g_ptr_array_add (proxy->connections, pair->client);
  g_ptr_array_add (proxy->connections, pair->server);
  g_io_stream_splice_async (pair->client, pair->server,
                            G_IO_STREAM_SPLICE_CLOSE_STREAM1 | G_IO_STREAM_SPLICE_CLOSE_STREAM2,
                            G_PRIORITY_DEFAULT, NULL, on_spliced, pair);
  return TRUE;
}

static gpointer
proxy_thread (gpointer data)
{
  ClusterProxy *proxy = data;

  g_main_context_push_thread_default (proxy->context);
  g_main_loop_run (proxy->loop);
  g_main_context_pop_thread_default (proxy->context);
  return NULL;
}

/* On the proxy's thread: the sockets are closed under the splices, which
 * then end. */
static gboolean
close_all (gpointer data)
{
  ClusterProxy *proxy = data;

  for (guint i = 0; i < proxy->connections->len; i++)
    {
      GSocketConnection *connection = proxy->connections->pdata[i];

      g_socket_shutdown (g_socket_connection_get_socket (connection), TRUE, TRUE, NULL);
    }
  return G_SOURCE_REMOVE;
}

static gboolean
quit (gpointer data)
{
  ClusterProxy *proxy = data;

  g_socket_service_stop (proxy->service);
  g_socket_listener_close (G_SOCKET_LISTENER (proxy->service));
  close_all (proxy);
  g_main_loop_quit (proxy->loop);
  return G_SOURCE_REMOVE;
}

ClusterProxy *
cluster_proxy_new (guint16 target_port)
{
  ClusterProxy *proxy = g_new0 (ClusterProxy, 1);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;

  g_mutex_init (&proxy->lock);
  proxy->target_port = target_port;
  proxy->context = g_main_context_new ();
  proxy->loop = g_main_loop_new (proxy->context, FALSE);
  proxy->connections = g_ptr_array_new ();
  /* Made with the proxy's context as default, so that its sources go there. */
  g_main_context_push_thread_default (proxy->context);
  proxy->service = g_socket_service_new ();
  g_socket_listener_add_address (G_SOCKET_LISTENER (proxy->service), any,
                                 G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL, &bound,
                                 &error);
  g_assert_no_error (error);
  proxy->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_signal_connect (proxy->service, "incoming", G_CALLBACK (on_incoming), proxy);
  g_socket_service_start (proxy->service);
  g_main_context_pop_thread_default (proxy->context);
  proxy->thread = g_thread_new ("cluster-proxy", proxy_thread, proxy);
  return proxy;
}

void
cluster_proxy_free (ClusterProxy *proxy)
{
  if (proxy == NULL)
    return;
  g_main_context_invoke (proxy->context, quit, proxy);
  g_thread_join (proxy->thread);
  /* The splices still running end as their streams close. */
  while (proxy->connections->len > 0)
    g_main_context_iteration (proxy->context, TRUE);
  g_object_unref (proxy->service);
  g_ptr_array_unref (proxy->connections);
  g_main_loop_unref (proxy->loop);
  g_main_context_unref (proxy->context);
  g_mutex_clear (&proxy->lock);
  g_free (proxy);
}

guint16
cluster_proxy_get_port (ClusterProxy *proxy)
{
  return proxy->port;
}

void
cluster_proxy_set_cut (ClusterProxy *proxy, gboolean cut)
{
  g_mutex_lock (&proxy->lock);
  proxy->cut = cut;
  g_mutex_unlock (&proxy->lock);
  if (cut)
    g_main_context_invoke (proxy->context, close_all, proxy);
}
