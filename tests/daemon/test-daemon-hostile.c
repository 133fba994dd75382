/* test-daemon-hostile.c — a real voipd facing a server that breaks the
 * protocol with well-formed frames.
 *
 * The daemon logs in to a real voip-server through a relay of this test
 * that reads both directions frame by frame (proto's reader and encoder)
 * and can answer a request itself or slip frames of its own in between
 * the server's: a reply of another code than its request's, and events
 * whose ids and usernames no server may send. The daemon runs with fatal
 * criticals and must exit with status 0 on SIGTERM at the end; the bad
 * events must leave no D-Bus object behind.
 */
#include <gio/gio.h>

#include "test-server.h"
#include "test-user.h"
#include "voip-proto.h"

#define READ_CHUNK 16384

typedef struct {
  GSocketListener *listener;
  GCancellable    *cancellable;
  guint16          port;
  guint16          target_port;
  GThread         *accept_thread;
  GMutex           lock;
  GPtrArray       *threads;        /* the pumps, joined at the end */
  GPtrArray       *connections;    /* every GSocketConnection, closed at the end */
  GOutputStream   *to_client;      /* of the newest connection; under lock */
  gboolean         answer_armed;   /* the next request of answer_code gets a wrong reply */
  guint16          answer_code;
  guint            accepted;       /* connections from the daemon so far */
} HostileRelay;

typedef struct {
  HostileRelay      *relay;
  GSocketConnection *from;
  GSocketConnection *to;
  gboolean           upstream;     /* client → server */
} Pump;

/* A frame as the reader gave it, encoded again (the same bytes: the fuzz
 * target checks that re-encoding is the identity). */
static GBytes *
reencode (const VoipHeader *header, GBytes *payload)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) value = voip_payload_decode (header, payload, &error);

  g_assert_no_error (error);
  return voip_frame_encode (header->kind, header->code, header->status, header->request_id,
                            value);
}

static void
write_frame (GOutputStream *out, GBytes *frame)
{
  /* Errors: the daemon hung up; its reconnect is what comes next. */
  g_output_stream_write_all (out, g_bytes_get_data (frame, NULL), g_bytes_get_size (frame),
                             NULL, NULL, NULL);
}

static gpointer
pump_run (gpointer data)
{
  Pump *pump = data;
  HostileRelay *relay = pump->relay;
  g_autoptr(VoipFrameReader) reader = voip_frame_reader_new ();
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (pump->from));
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (pump->to));
  guint8 buffer[READ_CHUNK];
  gssize n;

  while ((n = g_input_stream_read (in, buffer, sizeof buffer, NULL, NULL)) > 0)
    {
      VoipHeader header;
      GBytes *payload;

      voip_frame_reader_feed (reader, buffer, n);
      while (voip_frame_reader_next (reader, &header, &payload, NULL))
        {
          g_autoptr(GBytes) frame = NULL;

          g_mutex_lock (&relay->lock);
          if (pump->upstream && relay->answer_armed && header.kind == VOIP_KIND_REQUEST
              && header.code == relay->answer_code)
            {
              /* A valid payload, of ContactPending's reply type. */
              relay->answer_armed = FALSE;
              frame = voip_frame_encode (VOIP_KIND_REPLY, VOIP_MSG_CONTACT_PENDING, 0,
                                         header.request_id,
                                         g_variant_new ("(@as@as)",
                                                        g_variant_new_strv (NULL, 0),
                                                        g_variant_new_strv (NULL, 0)));
              write_frame (relay->to_client, frame);
            }
          else
            {
              frame = reencode (&header, payload);
              write_frame (out, frame);
            }
          g_mutex_unlock (&relay->lock);
          g_bytes_unref (payload);
        }
    }
  /* One side is gone: so is the other. A shutdown, not a close, wakes the
   * other pump's blocking read; the sockets are closed at the end. */
  g_socket_shutdown (g_socket_connection_get_socket (pump->to), TRUE, TRUE, NULL);
  g_socket_shutdown (g_socket_connection_get_socket (pump->from), TRUE, TRUE, NULL);
  g_object_unref (pump->from);
  g_object_unref (pump->to);
  g_free (pump);
  return NULL;
}

static void
start_pump (HostileRelay *relay, GSocketConnection *from, GSocketConnection *to,
            gboolean upstream)
{
  Pump *pump = g_new0 (Pump, 1);

  pump->relay = relay;
  pump->from = g_object_ref (from);
  pump->to = g_object_ref (to);
  pump->upstream = upstream;
  g_ptr_array_add (relay->threads, g_thread_new ("pump", pump_run, pump));
}

static gpointer
accept_run (gpointer data)
{
  HostileRelay *relay = data;
  GSocketConnection *client;

  while ((client = g_socket_listener_accept (relay->listener, NULL, relay->cancellable, NULL)))
    {
      g_autoptr(GSocketClient) connector = g_socket_client_new ();
      g_autoptr(GError) error = NULL;
      GSocketConnection *server;

      server = g_socket_client_connect_to_host (connector, "127.0.0.1", relay->target_port,
                                                NULL, &error);
      g_assert_no_error (error);
      g_mutex_lock (&relay->lock);
      g_ptr_array_add (relay->connections, client);
      g_ptr_array_add (relay->connections, server);
      relay->to_client = g_io_stream_get_output_stream (G_IO_STREAM (client));
      relay->accepted++;
      g_mutex_unlock (&relay->lock);
      start_pump (relay, client, server, TRUE);
      start_pump (relay, server, client, FALSE);
    }
  return NULL;
}

static HostileRelay *
hostile_relay_new (guint16 target_port)
{
  HostileRelay *relay = g_new0 (HostileRelay, 1);
  g_autoptr(GError) error = NULL;

  g_mutex_init (&relay->lock);
  relay->target_port = target_port;
  relay->threads = g_ptr_array_new ();
  relay->connections = g_ptr_array_new_with_free_func (g_object_unref);
  relay->cancellable = g_cancellable_new ();
  relay->listener = g_socket_listener_new ();
  {
    g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
    g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
    g_autoptr(GSocketAddress) effective = NULL;

    g_socket_listener_add_address (relay->listener, address, G_SOCKET_TYPE_STREAM,
                                   G_SOCKET_PROTOCOL_TCP, NULL, &effective, &error);
    g_assert_no_error (error);
    relay->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  }
  relay->accept_thread = g_thread_new ("accept", accept_run, relay);
  return relay;
}

static void
hostile_relay_free (HostileRelay *relay)
{
  g_cancellable_cancel (relay->cancellable);
  g_thread_join (relay->accept_thread);
  g_socket_listener_close (relay->listener);
  for (guint i = 0; i < relay->connections->len; i++)
    g_socket_shutdown (g_socket_connection_get_socket (g_ptr_array_index (relay->connections, i)),
                       TRUE, TRUE, NULL);
  for (guint i = 0; i < relay->threads->len; i++)
    g_thread_join (g_ptr_array_index (relay->threads, i));
  for (guint i = 0; i < relay->connections->len; i++)
    g_io_stream_close (g_ptr_array_index (relay->connections, i), NULL, NULL);
  g_ptr_array_unref (relay->threads);
  g_ptr_array_unref (relay->connections);
  g_object_unref (relay->listener);
  g_object_unref (relay->cancellable);
  g_mutex_clear (&relay->lock);
  g_free (relay);
}

/* Sends an event to the daemon, between two frames of the server's. */
static void
hostile_relay_inject (HostileRelay *relay, guint16 code, GVariant *payload)
{
  g_autoptr(GBytes) frame = voip_frame_encode (VOIP_KIND_EVENT, code, 0, 0, payload);

  g_assert_nonnull (frame);
  g_mutex_lock (&relay->lock);
  write_frame (relay->to_client, frame);
  g_mutex_unlock (&relay->lock);
}

/* ---- the daemon's objects ---------------------------------------------------- */

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

/* The children of ROOT/kind ("group", "contact", "call"), sorted, joined by ' '. */
static char *
children_of (TestUser *user, const char *kind)
{
  g_autofree char *path = g_strdup_printf ("%s/%s", TEST_VOIPD_PATH, kind);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GDBusNodeInfo) node = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  const char *xml;

  reply = g_dbus_connection_call_sync (test_user_get_bus (user), TEST_VOIPD_BUS_NAME, path,
                                       "org.freedesktop.DBus.Introspectable", "Introspect",
                                       NULL, G_VARIANT_TYPE ("(s)"), G_DBUS_CALL_FLAGS_NONE,
                                       TEST_USER_COMMAND_MS, NULL, &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(&s)", &xml);
  node = g_dbus_node_info_new_for_xml (xml, &error);
  g_assert_no_error (error);
  for (guint i = 0; node->nodes != NULL && node->nodes[i] != NULL; i++)
    g_ptr_array_add (names, node->nodes[i]->path);
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (" ", (char **) names->pdata);
}

/* ---- the test ------------------------------------------------------------------ */

typedef struct {
  TestServer   *server;
  HostileRelay *relay;
  TestUser     *user;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autofree char *address = NULL;

  f->server = test_server_new_started ();
  f->relay = hostile_relay_new (test_server_get_port (f->server));
  address = g_strdup_printf ("127.0.0.1:%u", f->relay->port);
  f->user = test_user_new ("mallory", TEST_USER_DEFAULT);
  test_user_set_server (f->user, address);
  test_user_set_setting (f->user, "reconnect-initial-delay-ms", "uint32 200");
  test_user_set_setting (f->user, "reconnect-max-delay-ms", "uint32 1000");
  test_user_start_daemon (f->user);
  test_user_register (f->user);
  test_user_wait_state (f->user, "online");
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  /* Exit status 0 at SIGTERM: the daemon survived all of it. */
  test_user_stop_daemon (f->user);
  test_user_free (f->user);
  hostile_relay_free (f->relay);
  test_server_free (f->server);
}

static guint
accepted_count (HostileRelay *relay)
{
  guint accepted;

  g_mutex_lock (&relay->lock);
  accepted = relay->accepted;
  g_mutex_unlock (&relay->lock);
  return accepted;
}

typedef struct {
  HostileRelay *relay;
  guint         before;
} Reconnect;

static gboolean
has_reconnected (TestUser *user, gpointer data)
{
  Reconnect *reconnect = data;

  return accepted_count (reconnect->relay) > reconnect->before;
}

/* GroupCreate answered with ContactPending's reply, under the request's id:
 * the request fails, the connection closes as a protocol error, and the
 * daemon logs in again. */
static void
test_wrong_reply_code (Fixture *f, gconstpointer data)
{
  g_autofree char *out = NULL;
  Reconnect reconnect = { f->relay, accepted_count (f->relay) };

  g_mutex_lock (&f->relay->lock);
  f->relay->answer_code = VOIP_MSG_GROUP_CREATE;
  f->relay->answer_armed = TRUE;
  g_mutex_unlock (&f->relay->lock);
  out = voipctl_fails (f->user, "group", "create", "tea");
  g_test_message ("voipctl: %s", out);
  g_assert_true (test_user_daemon_running (f->user));
  /* The connection was closed: the daemon connects and logs in again. */
  g_assert_true (test_user_wait (f->user, TEST_USER_WAIT_MS, has_reconnected, &reconnect));
  test_user_wait_state (f->user, "online");
  /* The session works: a real GroupCreate now goes through. */
  g_free (voipctl_ok (f->user, "group", "create", "tea"));
  g_assert_true (test_user_daemon_running (f->user));
}

static GVariant *
group (guint64 id, const char *owner)
{
  const char *members[] = { owner, NULL };

  return g_variant_new ("(tss^as)", id, "g", owner, members);
}

static GVariant *
call (guint64 id, const char *initiator, guint64 group_id)
{
  GVariantBuilder participants;

  g_variant_builder_init (&participants, G_VARIANT_TYPE ("a(su)"));
  g_variant_builder_add (&participants, "(su)", initiator, VOIP_PARTICIPANT_INVITED);
  return g_variant_new ("(tstuuxa(su))", id, initiator, group_id, VOIP_CALL_STATE_RINGING,
                        VOIP_CALL_REASON_NONE, (gint64) 0, &participants);
}

static void
test_bad_events (Fixture *f, gconstpointer data)
{
  const char *me = test_user_get_name (f->user);
  const guint64 too_big = (guint64) G_MAXINT64 + 1;
  const char *bad_names[] = { "", "Bad User", "x", "../../etc" };
  g_autofree char *real_group = NULL;
  g_autofree char *groups = NULL;
  g_autofree char *contacts = NULL;
  g_autofree char *calls = NULL;

  hostile_relay_inject (f->relay, VOIP_MSG_GROUP_CHANGED, group (0, me));
  hostile_relay_inject (f->relay, VOIP_MSG_GROUP_CHANGED, group (too_big, me));
  hostile_relay_inject (f->relay, VOIP_MSG_GROUP_CHANGED, group (G_MAXUINT64, me));
  hostile_relay_inject (f->relay, VOIP_MSG_GROUP_REMOVED,
                        g_variant_new ("(tu)", (guint64) 0, VOIP_GROUP_REMOVED_KICKED));
  hostile_relay_inject (f->relay, VOIP_MSG_CALL_CHANGED, call (0, "sentinel", 0));
  hostile_relay_inject (f->relay, VOIP_MSG_CALL_CHANGED, call (too_big, "sentinel", 0));
  for (gsize i = 0; i < G_N_ELEMENTS (bad_names); i++)
    {
      hostile_relay_inject (f->relay, VOIP_MSG_CONTACT_CHANGED,
                            g_variant_new ("(ssuu)", bad_names[i], "x",
                                           VOIP_SUBSCRIPTION_INCOMING,
                                           VOIP_CONTACT_CHANGE_REQUESTED));
      hostile_relay_inject (f->relay, VOIP_MSG_GROUP_CHANGED, group (78, bad_names[i]));
      hostile_relay_inject (f->relay, VOIP_MSG_CALL_CHANGED, call (79, bad_names[i], 0));
    }
  /* The server's reply comes after the injected events on the same
   * stream, and the daemon handles frames in order: once this returns,
   * every bad event has been handled. */
  real_group = g_strstrip (voipctl_ok (f->user, "group", "create", "real"));
  g_assert_cmpuint (g_ascii_strtoull (real_group, NULL, 10), >, 0);

  groups = children_of (f->user, "group");
  contacts = children_of (f->user, "contact");
  calls = children_of (f->user, "call");
  g_assert_cmpstr (groups, ==, real_group);
  g_assert_cmpstr (contacts, ==, "");
  g_assert_cmpstr (calls, ==, "");
  g_assert_true (test_user_daemon_running (f->user));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/daemon/hostile/wrong-reply-code", Fixture, NULL, fixture_setup,
              test_wrong_reply_code, fixture_teardown);
  g_test_add ("/daemon/hostile/bad-events", Fixture, NULL, fixture_setup, test_bad_events,
              fixture_teardown);
  return g_test_run ();
}
