/* server-health.c — the health probe (server-health.h). Everything is
 * asynchronous and bounded: a probe reads at most HEALTH_REQUEST_MAX bytes
 * of request (so that closing does not reset the connection under the
 * response), answers, and is closed after HEALTH_TIMEOUT_S whatever
 * happens. */
#define G_LOG_DOMAIN "voip-server"

#include "server-health.h"

#include <string.h>

#define HEALTH_REQUEST_MAX 1024
#define HEALTH_TIMEOUT_S   2

struct _ServerHealth {
  GSocketService   *service;
  char             *address;
  ServerHealthCheck check;
  gpointer          user_data;
};

typedef struct {
  ServerHealth      *health;
  GSocketConnection *connection;
  GCancellable      *cancellable;
  guint              timeout_id;
  char               request[HEALTH_REQUEST_MAX];
  char              *response;
} Probe;

static void
probe_free (Probe *probe)
{
  g_clear_handle_id (&probe->timeout_id, g_source_remove);
  g_io_stream_close (G_IO_STREAM (probe->connection), NULL, NULL);
  g_object_unref (probe->connection);
  g_object_unref (probe->cancellable);
  g_free (probe->response);
  g_free (probe);
}

static gboolean
on_probe_timeout (gpointer data)
{
  Probe *probe = data;

  probe->timeout_id = 0;
  g_cancellable_cancel (probe->cancellable);
  return G_SOURCE_REMOVE;
}

static void
on_written (GObject *source, GAsyncResult *result, gpointer data)
{
  g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, NULL);
  probe_free (data);
}

static void
on_read (GObject *source, GAsyncResult *result, gpointer data)
{
  Probe *probe = data;
  g_autoptr(GError) error = NULL;
  const char *reason = "shutting down";
  gboolean up;

  if (g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error) < 0
      && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      probe_free (probe);
      return;
    }
  up = probe->health->check (probe->health->user_data, &reason);
  probe->response = up
    ? g_strdup ("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nup\n")
    : g_strdup_printf ("HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
                       "Connection: close\r\n\r\ndown: %s\n", reason);
  g_output_stream_write_all_async (g_io_stream_get_output_stream (G_IO_STREAM (probe->connection)),
                                   probe->response, strlen (probe->response),
                                   G_PRIORITY_DEFAULT, probe->cancellable, on_written, probe);
}

static gboolean
on_incoming (GSocketService *service, GSocketConnection *connection, GObject *source,
             gpointer user_data)
{
  Probe *probe = g_new0 (Probe, 1);

  (void) service;
  (void) source;
  probe->health = user_data;
  probe->connection = g_object_ref (connection);
  probe->cancellable = g_cancellable_new ();
  probe->timeout_id = g_timeout_add_seconds (HEALTH_TIMEOUT_S, on_probe_timeout, probe);
  /* One read: a request line, or nothing from a plain TCP check. */
  g_input_stream_read_async (g_io_stream_get_input_stream (G_IO_STREAM (connection)),
                             probe->request, sizeof probe->request, G_PRIORITY_DEFAULT,
                             probe->cancellable, on_read, probe);
  return TRUE;
}

ServerHealth *
server_health_new (const char *address, ServerHealthCheck check, gpointer user_data,
                   GError **error)
{
  g_autoptr(GSocketConnectable) connectable = g_network_address_parse (address, 0, error);
  g_autoptr(GSocketAddressEnumerator) enumerator = NULL;
  g_autoptr(GSocketAddress) wanted = NULL;
  g_autoptr(GSocketAddress) bound = NULL;
  ServerHealth *self;

  if (connectable == NULL)
    {
      g_prefix_error (error, "[server] health '%s': ", address);
      return NULL;
    }
  enumerator = g_socket_connectable_enumerate (connectable);
  wanted = g_socket_address_enumerator_next (enumerator, NULL, error);
  if (wanted == NULL)
    return NULL;
  self = g_new0 (ServerHealth, 1);
  self->check = check;
  self->user_data = user_data;
  self->service = g_socket_service_new ();
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (self->service), wanted,
                                      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL,
                                      &bound, error))
    {
      g_prefix_error (error, "[server] health '%s': ", address);
      server_health_free (self);
      return NULL;
    }
  {
    g_autofree char *host = g_inet_address_to_string (
        g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (bound)));

    self->address = g_strdup_printf ("%s:%u", host,
                                     g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  }
  g_signal_connect (self->service, "incoming", G_CALLBACK (on_incoming), self);
  g_socket_service_start (self->service);
  return self;
}

void
server_health_free (ServerHealth *self)
{
  if (self == NULL)
    return;
  g_socket_service_stop (self->service);
  g_socket_listener_close (G_SOCKET_LISTENER (self->service));
  g_object_unref (self->service);
  g_free (self->address);
  g_free (self);
}

const char *
server_health_get_address (ServerHealth *self)
{
  return self->address;
}
