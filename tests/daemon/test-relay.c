/* test-relay.c — a TCP relay in front of the voip-server for daemon tests. */
#define G_LOG_DOMAIN "test-relay"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include "test-relay.h"

struct _TestRelay {
  GThread         *thread;
  GMainContext    *context;   /* the relay thread's */
  GMainLoop       *loop;
  GSocketService  *service;
  guint16          port;
  GCancellable    *cancellable;  /* of the splices, cancelled at the end */
  guint            splices;      /* in progress; relay thread only */

  GMutex           lock;
  GCond            cond;
  gboolean         ready;     /* under lock: port is set */
  gboolean         hang_up;   /* under lock: listen even with no target */
  gboolean         applied;   /* under lock: the last set_target took effect */
  guint16          target;    /* under lock */
};

static void
on_splice_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  TestRelay *relay = user_data;

  g_io_stream_splice_finish (result, NULL);
  relay->splices--;
}

/* A daemon connected: connect to the server (loopback, so synchronously) and
 * copy both ways until either side closes; then close both. */
static gboolean
on_incoming (GSocketService *service, GSocketConnection *incoming,
             GObject *source_object, gpointer user_data)
{
  TestRelay *relay = user_data;
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) outgoing = NULL;
  guint16 target;

  /* Loopback: no proxy resolver (and none of the desktop settings it reads). */
  g_socket_client_set_enable_proxy (client, FALSE);

  g_mutex_lock (&relay->lock);
  target = relay->target;
  g_mutex_unlock (&relay->lock);

  if (target != 0)
    outgoing = g_socket_client_connect_to_host (client, "127.0.0.1", target, NULL, NULL);
  if (outgoing == NULL)
    {
      g_io_stream_close (G_IO_STREAM (incoming), NULL, NULL);
      return TRUE;
    }
  g_socket_set_option (g_socket_connection_get_socket (outgoing), IPPROTO_TCP, TCP_NODELAY, 1, NULL);
  g_socket_set_option (g_socket_connection_get_socket (incoming), IPPROTO_TCP, TCP_NODELAY, 1, NULL);
  g_io_stream_splice_async (G_IO_STREAM (incoming), G_IO_STREAM (outgoing),
                            G_IO_STREAM_SPLICE_CLOSE_STREAM1 | G_IO_STREAM_SPLICE_CLOSE_STREAM2,
                            G_PRIORITY_DEFAULT, relay->cancellable, on_splice_done, relay);
  relay->splices++;
  return TRUE;
}

/* In the relay thread: listen on relay->port (0 the first time: any). */
static void
start_listening (TestRelay *relay)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, relay->port);
  g_autoptr(GSocketAddress) effective = NULL;

  relay->service = g_socket_service_new ();
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (relay->service), address,
                                      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                      NULL, &effective, &error))
    g_error ("relay: cannot listen on port %u: %s", relay->port, error->message);
  g_signal_connect (relay->service, "incoming", G_CALLBACK (on_incoming), relay);
  g_socket_service_start (relay->service);
  relay->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
}

static void
stop_listening (TestRelay *relay)
{
  if (relay->service == NULL)
    return;
  g_socket_service_stop (relay->service);
  g_socket_listener_close (G_SOCKET_LISTENER (relay->service));
  g_clear_object (&relay->service);
}

/* In the relay thread: listen while there is a target, so that connecting
 * while the server is down is refused, as it would be without the relay. */
static gboolean
apply_target (gpointer data)
{
  TestRelay *relay = data;

  g_mutex_lock (&relay->lock);
  if (relay->target == 0 && !relay->hang_up)
    stop_listening (relay);
  else if (relay->service == NULL)
    start_listening (relay);
  relay->applied = TRUE;
  g_cond_broadcast (&relay->cond);
  g_mutex_unlock (&relay->lock);
  return G_SOURCE_REMOVE;
}

static gpointer
relay_thread_main (gpointer data)
{
  TestRelay *relay = data;

  g_main_context_push_thread_default (relay->context);
  g_mutex_lock (&relay->lock);
  start_listening (relay);
  relay->ready = TRUE;
  g_cond_broadcast (&relay->cond);
  g_mutex_unlock (&relay->lock);

  g_main_loop_run (relay->loop);

  stop_listening (relay);
  /* Cut the relayed connections and let every operation finish. */
  g_cancellable_cancel (relay->cancellable);
  while (relay->splices > 0)
    g_main_context_iteration (relay->context, TRUE);
  while (g_main_context_iteration (relay->context, FALSE))
    ;
  g_main_context_pop_thread_default (relay->context);
  return NULL;
}

static gboolean
quit_loop (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

TestRelay *
test_relay_new (guint16 target_port)
{
  TestRelay *relay = g_new0 (TestRelay, 1);

  g_mutex_init (&relay->lock);
  g_cond_init (&relay->cond);
  relay->target = target_port;
  relay->cancellable = g_cancellable_new ();
  relay->context = g_main_context_new ();
  relay->loop = g_main_loop_new (relay->context, FALSE);
  relay->thread = g_thread_new ("test-relay", relay_thread_main, relay);

  g_mutex_lock (&relay->lock);
  while (!relay->ready)
    g_cond_wait (&relay->cond, &relay->lock);
  g_mutex_unlock (&relay->lock);
  return relay;
}

void
test_relay_free (TestRelay *relay)
{
  if (relay == NULL)
    return;
  g_main_context_invoke (relay->context, quit_loop, relay->loop);
  g_thread_join (relay->thread);
  g_main_loop_unref (relay->loop);
  g_object_unref (relay->cancellable);
  g_main_context_unref (relay->context);
  g_mutex_clear (&relay->lock);
  g_cond_clear (&relay->cond);
  g_free (relay);
}

guint16
test_relay_get_port (TestRelay *relay)
{
  return relay->port;
}

static void
update (TestRelay *relay, guint16 target_port, gboolean hang_up)
{
  g_mutex_lock (&relay->lock);
  relay->target = target_port;
  relay->hang_up = hang_up;
  relay->applied = FALSE;
  g_mutex_unlock (&relay->lock);

  g_main_context_invoke (relay->context, apply_target, relay);

  g_mutex_lock (&relay->lock);
  while (!relay->applied)
    g_cond_wait (&relay->cond, &relay->lock);
  g_mutex_unlock (&relay->lock);
}

void
test_relay_set_target (TestRelay *relay, guint16 target_port)
{
  update (relay, target_port, FALSE);
}

void
test_relay_hang_up (TestRelay *relay)
{
  update (relay, 0, TRUE);
}
