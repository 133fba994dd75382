/* test-cluster-calls.c — calls between users on different voip-server
 * nodes (one PostgreSQL, NATS between them): ringing on every session of
 * the callee wherever they are, answered elsewhere, busy, rejection, ring
 * timeout, hang-ups from either side, a three-way group call on three
 * nodes, ICE signals and relayed audio across nodes, and a node killed
 * with SIGKILL mid-call.
 *
 * Every component is real and private to the test (test-postgres.h,
 * test-nats.h, test-server.h); clients speak the protocol
 * (test-client.h), as tests/integration/test-calls.c does on one node. */
#include "test-nats.h"
#include "test-client.h"
#include "test-postgres.h"
#include "test-server.h"

#include <string.h>

#define NODES_MAX 3

typedef struct {
  TestPostgres *pg;
  char         *url;
  TestNats     *nats;
  const char   *ring_timeout;   /* NULL: the default */
  TestServer   *nodes[NODES_MAX];
  guint         n_nodes;
} Cluster;

/* One more node, node<n_nodes>. */
static void
cluster_add_node (Cluster *cluster)
{
  TestServer *server = test_server_new ();
  GKeyFile *config = test_server_get_config (server);
  g_autofree char *name = g_strdup_printf ("node%u", cluster->n_nodes);
  g_autofree char *urls = test_nats_get_urls (cluster->nats);

  g_assert_cmpuint (cluster->n_nodes, <, NODES_MAX);
  g_key_file_set_string (config, "store", "url", cluster->url);
  g_key_file_set_string (config, "cluster", "nats", urls);
  g_key_file_set_string (config, "cluster", "node", name);
  if (cluster->ring_timeout != NULL)
    g_key_file_set_string (config, "calls", "ring-timeout", cluster->ring_timeout);
  test_server_start (server);
  cluster->nodes[cluster->n_nodes++] = server;
}

static gboolean
cluster_start (Cluster *cluster, guint nodes, const char *ring_timeout)
{
  g_autoptr(GError) error = NULL;

  cluster->pg = test_postgres_new_or_skip ();
  if (cluster->pg == NULL)
    return FALSE;
  cluster->url = test_postgres_create_database (cluster->pg, &error);
  g_assert_no_error (error);
  cluster->nats = test_nats_new (1);
  cluster->ring_timeout = ring_timeout;
  for (guint i = 0; i < nodes; i++)
    cluster_add_node (cluster);
  return TRUE;
}

static void
cluster_stop (Cluster *cluster)
{
  for (guint i = 0; i < cluster->n_nodes; i++)
    g_clear_pointer (&cluster->nodes[i], test_server_free);
  g_clear_pointer (&cluster->nats, test_nats_free);
  g_clear_pointer (&cluster->url, g_free);
  g_clear_pointer (&cluster->pg, test_postgres_free);
}

static guint16
port_of (Cluster *cluster, guint node)
{
  return test_server_get_port (cluster->nodes[node]);
}

/* Another session of the user, on another node. */
static TestClient *
second_session (TestClient *client, Cluster *cluster, guint node)
{
  return test_client_new_logged_in (port_of (cluster, node), test_client_get_username (client),
                                    test_client_get_password (client));
}

/* "STATE REASON user:state ...", REASON "-" for none. */
static char *
describe_call (GVariant *call, guint64 *id)
{
  g_autoptr(GVariantIter) participants = NULL;
  GString *text = g_string_new (NULL);
  const char *initiator, *username;
  guint32 state, reason, participant;

  g_variant_get (call, "(t&stuuxa(su))", id, &initiator, NULL, &state, &reason, NULL,
                 &participants);
  g_string_append_printf (text, "%s %s", voip_call_state_to_string (state),
                          reason ? voip_call_reason_to_string (reason) : "-");
  while (g_variant_iter_next (participants, "(&su)", &username, &participant))
    g_string_append_printf (text, " %s:%s", username,
                            voip_participant_state_to_string (participant));
  return g_string_free (text, FALSE);
}

#define expect_call(client, id, description) \
  expect_call_at ((client), (id), (description), __LINE__)

static void
expect_call_at (TestClient *client, guint64 id, const char *description, int line)
{
  g_autoptr(GVariant) event = test_client_expect_event (client, VOIP_MSG_CALL_CHANGED);
  g_autofree char *got = NULL;
  guint64 got_id;

  got = describe_call (event, &got_id);
  if (got_id != id || g_strcmp0 (got, description) != 0)
    g_error ("line %d: %s: call %" G_GUINT64_FORMAT " \"%s\", expected call %" G_GUINT64_FORMAT
             " \"%s\"", line, test_client_get_username (client), got_id, got, id, description);
}

static guint64
invite (TestClient *client, const char *callee, guint64 group)
{
  g_autoptr(GVariant) reply = test_client_call (client, VOIP_MSG_CALL_INVITE,
                                                g_variant_new ("(st)", callee, group));
  guint64 id;

  g_variant_get (reply, "(t)", &id);
  return id;
}

static void
call_request (TestClient *client, guint16 code, guint64 id, guint status)
{
  test_client_call_fails (client, code, g_variant_new ("(t)", id), status);
}

#define answer(client, id)  call_request ((client), VOIP_MSG_CALL_ANSWER, (id), VOIP_STATUS_OK)
#define reject(client, id)  call_request ((client), VOIP_MSG_CALL_REJECT, (id), VOIP_STATUS_OK)
#define hangup(client, id)  call_request ((client), VOIP_MSG_CALL_HANGUP, (id), VOIP_STATUS_OK)

/* An ICE signal from `from` reaches `to`, through the server(s). */
static void
expect_signal_passes (TestClient *from, TestClient *to, guint64 id, const char *candidate)
{
  g_autoptr(GVariant) event = NULL;
  const char *sender, *data;
  guint64 got_id;

  test_client_call_ok (from, VOIP_MSG_CALL_SIGNAL,
                       g_variant_new ("(tsus)", id, test_client_get_username (to),
                                      (guint32) 2, candidate));
  event = test_client_expect_event (to, VOIP_MSG_CALL_SIGNAL_RECEIVED);
  g_variant_get (event, "(t&su&s)", &got_id, &sender, NULL, &data);
  g_assert_cmpuint (got_id, ==, id);
  g_assert_cmpstr (sender, ==, test_client_get_username (from));
  g_assert_cmpstr (data, ==, candidate);
}

/* A relayed audio packet (CallData) from `from` reaches `to` intact. */
static void
expect_data_passes (TestClient *from, TestClient *to, guint64 id, guint8 fill)
{
  guint8 packet[160];
  g_autoptr(GVariant) event = NULL;
  g_autoptr(GVariant) got = NULL;
  const char *sender;

  memset (packet, fill, sizeof packet);
  test_client_call_ok (from, VOIP_MSG_CALL_DATA,
                       g_variant_new ("(ts@ay)", id, test_client_get_username (to),
                                      g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, packet,
                                                                 sizeof packet, 1)));
  event = test_client_expect_event (to, VOIP_MSG_CALL_DATA_RECEIVED);
  g_variant_get (event, "(t&s@ay)", NULL, &sender, &got);
  g_assert_cmpstr (sender, ==, test_client_get_username (from));
  g_assert_cmpmem (g_variant_get_data (got), g_variant_get_size (got), packet, sizeof packet);
}

/* ---- 1:1 ------------------------------------------------------------------------------ */

/* alice on node0 calls bob, who has a session on node1 and one on node0:
 * both ring, the one on node1 answers, the other hears answered-elsewhere;
 * signals and relayed audio cross both ways; bob hangs up from node1. Then
 * bob calls back from node1 and alice hangs up from node0. */
static void
test_one_to_one (void)
{
  Cluster cluster = { 0 };
  g_autoptr(TestClient) alice = NULL;
  g_autoptr(TestClient) bob = NULL;
  g_autoptr(TestClient) bob2 = NULL;
  guint64 id;

  if (!cluster_start (&cluster, 2, NULL))
    return;
  alice = test_client_new_registered (port_of (&cluster, 0), "alice");
  bob = test_client_new_registered (port_of (&cluster, 1), "bob");
  test_befriend (alice, bob);
  bob2 = second_session (bob, &cluster, 0);
  test_client_flush_events (alice);

  id = invite (alice, "bob", 0);
  expect_call (alice, id, "ringing - alice:joined bob:invited");
  expect_call (bob, id, "ringing - alice:joined bob:invited");
  expect_call (bob2, id, "ringing - alice:joined bob:invited");
  answer (bob, id);
  expect_call (bob2, id, "ended answered-elsewhere alice:joined bob:joined");
  expect_call (alice, id, "active answered alice:joined bob:joined");
  expect_call (bob, id, "active answered alice:joined bob:joined");
  call_request (bob2, VOIP_MSG_CALL_ANSWER, id, VOIP_STATUS_CALL_ANSWERED);

  expect_signal_passes (alice, bob, id, "candidate:1 1 UDP 2130706431 127.0.0.1 5000 typ host");
  expect_signal_passes (bob, alice, id, "candidate:2 1 UDP 2130706431 127.0.0.1 5002 typ host");
  expect_data_passes (alice, bob, id, 0xa1);
  expect_data_passes (bob, alice, id, 0xb0);
  test_client_assert_no_event (bob2, VOIP_MSG_CALL_SIGNAL_RECEIVED, 0);
  test_client_assert_no_event (bob2, VOIP_MSG_CALL_DATA_RECEIVED, 0);

  hangup (bob, id);
  expect_call (bob, id, "ended hangup alice:joined bob:left");
  expect_call (alice, id, "ended hangup alice:left bob:left");
  call_request (bob, VOIP_MSG_CALL_HANGUP, id, VOIP_STATUS_NO_SUCH_CALL);

  /* The other way: the call lives on node1, alice's node hangs up. */
  g_clear_pointer (&bob2, test_client_free);
  id = invite (bob, "alice", 0);
  expect_call (bob, id, "ringing - bob:joined alice:invited");
  expect_call (alice, id, "ringing - bob:joined alice:invited");
  answer (alice, id);
  expect_call (bob, id, "active answered bob:joined alice:joined");
  expect_call (alice, id, "active answered bob:joined alice:joined");
  expect_data_passes (alice, bob, id, 0x33);
  hangup (alice, id);
  expect_call (alice, id, "ended hangup bob:joined alice:left");
  expect_call (bob, id, "ended hangup bob:left alice:left");

  g_clear_pointer (&alice, test_client_free);
  g_clear_pointer (&bob, test_client_free);
  cluster_stop (&cluster);
}

/* Busy (the callee in a call on their own node), rejection, the caller
 * giving up, and the ring timeout, all across nodes. */
static void
test_refusals (void)
{
  Cluster cluster = { 0 };
  g_autoptr(TestClient) alice = NULL;
  g_autoptr(TestClient) bob = NULL;
  g_autoptr(TestClient) carol = NULL;
  g_autoptr(TestClient) bob2 = NULL;
  guint64 id, busy;

  if (!cluster_start (&cluster, 2, "2"))
    return;
  alice = test_client_new_registered (port_of (&cluster, 0), "alice");
  bob = test_client_new_registered (port_of (&cluster, 1), "bob");
  carol = test_client_new_registered (port_of (&cluster, 1), "carol");
  test_befriend (alice, bob);
  test_befriend (bob, carol);
  test_befriend (alice, carol);

  /* bob is in a call with carol on node1: alice's call finds him busy,
   * even though his second session, on alice's node, is in no call. */
  busy = invite (carol, "bob", 0);
  expect_call (carol, busy, "ringing - carol:joined bob:invited");
  expect_call (bob, busy, "ringing - carol:joined bob:invited");
  answer (bob, busy);
  expect_call (carol, busy, "active answered carol:joined bob:joined");
  expect_call (bob, busy, "active answered carol:joined bob:joined");
  bob2 = second_session (bob, &cluster, 0);
  id = invite (alice, "bob", 0);
  expect_call (alice, id, "ringing - alice:joined bob:invited");
  expect_call (bob2, id, "ringing - alice:joined bob:invited");
  expect_call (alice, id, "ended busy alice:left bob:left");
  expect_call (bob2, id, "ended busy alice:joined bob:left");
  test_client_assert_no_event (bob, VOIP_MSG_CALL_CHANGED, 0);
  g_clear_pointer (&bob2, test_client_free);
  /* ... and bob, in a call, cannot call alice on node0 either. */
  test_client_call_fails (bob, VOIP_MSG_CALL_INVITE, g_variant_new ("(st)", "alice", (guint64) 0),
                          VOIP_STATUS_BUSY);
  hangup (carol, busy);
  expect_call (carol, busy, "ended hangup carol:left bob:joined");
  expect_call (bob, busy, "ended hangup carol:left bob:left");

  /* bob rejects on node1. */
  id = invite (alice, "bob", 0);
  expect_call (alice, id, "ringing - alice:joined bob:invited");
  expect_call (bob, id, "ringing - alice:joined bob:invited");
  reject (bob, id);
  expect_call (bob, id, "ended rejected alice:joined bob:left");
  expect_call (alice, id, "ended rejected alice:left bob:left");

  /* alice gives up before bob answers: his session stops ringing. */
  id = invite (alice, "bob", 0);
  expect_call (alice, id, "ringing - alice:joined bob:invited");
  expect_call (bob, id, "ringing - alice:joined bob:invited");
  hangup (alice, id);
  expect_call (alice, id, "ended hangup alice:left bob:invited");
  expect_call (bob, id, "ended hangup alice:left bob:left");
  call_request (bob, VOIP_MSG_CALL_ANSWER, id, VOIP_STATUS_NO_SUCH_CALL);

  /* Nobody answers: after the ring timeout (2 s here), both hear it. */
  id = invite (alice, "bob", 0);
  expect_call (alice, id, "ringing - alice:joined bob:invited");
  expect_call (bob, id, "ringing - alice:joined bob:invited");
  expect_call (bob, id, "ended timeout alice:joined bob:left");
  expect_call (alice, id, "ended timeout alice:left bob:left");

  g_clear_pointer (&alice, test_client_free);
  g_clear_pointer (&bob, test_client_free);
  g_clear_pointer (&carol, test_client_free);
  cluster_stop (&cluster);
}

/* ---- group ------------------------------------------------------------------------------ */

/* A three-way group call, one member on each of three nodes: both others
 * ring and join; signals and relayed audio pass between the two members
 * who are not on the call's node; one leaves and the other two go on; she
 * joins again from her node (CallAnswer of the call, CallInvite of the
 * group) and leaves again. */
static void
test_group (void)
{
  Cluster cluster = { 0 };
  g_autoptr(TestClient) alice = NULL;
  g_autoptr(TestClient) bob = NULL;
  g_autoptr(TestClient) carol = NULL;
  g_autoptr(GVariant) reply = NULL;
  guint64 group, id;

  if (!cluster_start (&cluster, 3, NULL))
    return;
  alice = test_client_new_registered (port_of (&cluster, 0), "alice");
  bob = test_client_new_registered (port_of (&cluster, 1), "bob");
  carol = test_client_new_registered (port_of (&cluster, 2), "carol");
  test_befriend (alice, bob);
  test_befriend (alice, carol);
  test_befriend (bob, carol);
  reply = test_client_call (alice, VOIP_MSG_GROUP_CREATE,
                            g_variant_new ("(s^as)", "team",
                                           (const char *[]) { "bob", "carol", NULL }));
  g_variant_get (reply, "(t)", &group);

  id = invite (alice, "", group);
  expect_call (alice, id, "ringing - alice:joined bob:invited carol:invited");
  expect_call (bob, id, "ringing - alice:joined bob:invited carol:invited");
  expect_call (carol, id, "ringing - alice:joined bob:invited carol:invited");
  answer (bob, id);
  expect_call (alice, id, "active answered alice:joined bob:joined carol:invited");
  expect_call (bob, id, "active answered alice:joined bob:joined carol:invited");
  expect_call (carol, id, "ringing - alice:joined bob:joined carol:invited");
  answer (carol, id);
  for (TestClient **c = (TestClient *[]) { alice, bob, carol, NULL }; *c; c++)
    expect_call (*c, id, "active answered alice:joined bob:joined carol:joined");

  expect_signal_passes (bob, carol, id, "candidate:3 1 UDP 2130706431 127.0.0.1 5004 typ host");
  expect_data_passes (carol, bob, id, 0xc4);
  expect_data_passes (alice, carol, id, 0xa2);
  expect_data_passes (carol, alice, id, 0xc5);

  hangup (carol, id);
  expect_call (carol, id, "ended hangup alice:joined bob:joined carol:left");
  expect_call (alice, id, "active answered alice:joined bob:joined carol:left");
  expect_call (bob, id, "active answered alice:joined bob:joined carol:left");
  expect_data_passes (bob, alice, id, 0xb1);

  /* carol comes back from node2, by answering the running call and by
   * calling the group: both join the call node0 owns. */
  answer (carol, id);
  for (TestClient **c = (TestClient *[]) { alice, bob, carol, NULL }; *c; c++)
    expect_call (*c, id, "active answered alice:joined bob:joined carol:joined");
  expect_data_passes (bob, carol, id, 0xb2);
  hangup (carol, id);
  expect_call (carol, id, "ended hangup alice:joined bob:joined carol:left");
  expect_call (alice, id, "active answered alice:joined bob:joined carol:left");
  expect_call (bob, id, "active answered alice:joined bob:joined carol:left");
  g_assert_cmpuint (invite (carol, "", group), ==, id);
  for (TestClient **c = (TestClient *[]) { alice, bob, carol, NULL }; *c; c++)
    expect_call (*c, id, "active answered alice:joined bob:joined carol:joined");
  expect_data_passes (carol, alice, id, 0xc6);
  hangup (carol, id);
  expect_call (carol, id, "ended hangup alice:joined bob:joined carol:left");
  expect_call (alice, id, "active answered alice:joined bob:joined carol:left");
  expect_call (bob, id, "active answered alice:joined bob:joined carol:left");
  test_client_call_fails (carol, VOIP_MSG_CALL_DATA,
                          g_variant_new ("(ts@ay)", id, "bob",
                                         g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, "x", 1,
                                                                    1)),
                          VOIP_STATUS_NO_SUCH_CALL);
  hangup (bob, id);
  expect_call (bob, id, "ended hangup alice:joined bob:left carol:left");
  expect_call (alice, id, "ended hangup alice:left bob:left carol:left");

  g_clear_pointer (&alice, test_client_free);
  g_clear_pointer (&bob, test_client_free);
  g_clear_pointer (&carol, test_client_free);
  cluster_stop (&cluster);
}

/* A node started while a group call runs hears of it: carol, offline when
 * the call began, logs in to the new node and joins by answering the call,
 * and again by calling the group. */
static void
test_group_late_node (void)
{
  Cluster cluster = { 0 };
  g_autoptr(TestClient) alice = NULL;
  g_autoptr(TestClient) bob = NULL;
  g_autoptr(TestClient) carol = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autofree char *password = NULL;
  guint64 group, id;

  if (!cluster_start (&cluster, 2, NULL))
    return;
  alice = test_client_new_registered (port_of (&cluster, 0), "alice");
  bob = test_client_new_registered (port_of (&cluster, 1), "bob");
  carol = test_client_new_registered (port_of (&cluster, 1), "carol");
  test_befriend (alice, bob);
  test_befriend (alice, carol);
  reply = test_client_call (alice, VOIP_MSG_GROUP_CREATE,
                            g_variant_new ("(s^as)", "team",
                                           (const char *[]) { "bob", "carol", NULL }));
  g_variant_get (reply, "(t)", &group);
  password = g_strdup (test_client_get_password (carol));
  g_clear_pointer (&carol, test_client_free);
  /* carol's going offline reached alice's node: she is not invited. */
  for (;;)
    {
      g_autoptr(GVariant) event = test_client_expect_event (alice, VOIP_MSG_PRESENCE_CHANGED);
      const char *who;
      guint32 presence;

      g_variant_get (event, "(&su)", &who, &presence);
      if (g_str_equal (who, "carol") && presence == VOIP_PRESENCE_OFFLINE)
        break;
    }

  id = invite (alice, "", group);
  expect_call (alice, id, "ringing - alice:joined bob:invited");
  expect_call (bob, id, "ringing - alice:joined bob:invited");
  answer (bob, id);
  expect_call (alice, id, "active answered alice:joined bob:joined");
  expect_call (bob, id, "active answered alice:joined bob:joined");

  cluster_add_node (&cluster);
  carol = test_client_new_logged_in (port_of (&cluster, 2), "carol", password);
  /* carol is online for alice: node0 will not ring her. */
  for (;;)
    {
      g_autoptr(GVariant) event = test_client_expect_event (alice, VOIP_MSG_PRESENCE_CHANGED);
      const char *who;
      guint32 presence;

      g_variant_get (event, "(&su)", &who, &presence);
      if (g_str_equal (who, "carol") && presence == VOIP_PRESENCE_ONLINE)
        break;
    }
  /* node2 hears of the call from node0 soon after: until then, answering
   * it is NoSuchCall, and changes nothing. */
  for (guint tries = 0;; tries++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) got = NULL;
      guint status;

      got = test_client_request (carol, VOIP_MSG_CALL_ANSWER, g_variant_new ("(t)", id), &status,
                                 &error);
      g_assert_no_error (error);
      if (status == VOIP_STATUS_OK)
        break;
      g_assert_cmpuint (status, ==, VOIP_STATUS_NO_SUCH_CALL);
      g_assert_cmpuint (tries, <, 1000);
      g_usleep (10 * 1000);
    }
  for (TestClient **c = (TestClient *[]) { alice, bob, carol, NULL }; *c; c++)
    expect_call (*c, id, "active answered alice:joined bob:joined carol:joined");
  expect_data_passes (carol, bob, id, 0xc7);
  hangup (carol, id);
  expect_call (carol, id, "ended hangup alice:joined bob:joined carol:left");
  expect_call (alice, id, "active answered alice:joined bob:joined carol:left");
  expect_call (bob, id, "active answered alice:joined bob:joined carol:left");
  /* Calling the group joins it too. */
  g_assert_cmpuint (invite (carol, "", group), ==, id);
  for (TestClient **c = (TestClient *[]) { alice, bob, carol, NULL }; *c; c++)
    expect_call (*c, id, "active answered alice:joined bob:joined carol:joined");

  g_clear_pointer (&alice, test_client_free);
  g_clear_pointer (&bob, test_client_free);
  g_clear_pointer (&carol, test_client_free);
  cluster_stop (&cluster);
}

/* ---- a node dies ------------------------------------------------------------------------ */

/* Three calls on three nodes, then node1 is killed with SIGKILL: the call
 * node0 owns with bob (on node1) ends for alice, the call node1 owned
 * ends for frank (on node0), both with reason offline, once the heartbeat
 * times out; the call between carol (node2) and dave (node0) goes on. */
static void
test_node_killed (void)
{
  Cluster cluster = { 0 };
  g_autoptr(TestClient) alice = NULL;
  g_autoptr(TestClient) bob = NULL;
  g_autoptr(TestClient) carol = NULL;
  g_autoptr(TestClient) dave = NULL;
  g_autoptr(TestClient) erin = NULL;
  g_autoptr(TestClient) frank = NULL;
  guint64 with_bob, with_erin, survivors;

  if (!cluster_start (&cluster, 3, NULL))
    return;
  alice = test_client_new_registered (port_of (&cluster, 0), "alice");
  bob = test_client_new_registered (port_of (&cluster, 1), "bob");
  carol = test_client_new_registered (port_of (&cluster, 2), "carol");
  dave = test_client_new_registered (port_of (&cluster, 0), "dave");
  erin = test_client_new_registered (port_of (&cluster, 1), "erin");
  frank = test_client_new_registered (port_of (&cluster, 0), "frank");
  test_befriend (alice, bob);
  test_befriend (carol, dave);
  test_befriend (erin, frank);

  with_bob = invite (alice, "bob", 0);
  survivors = invite (carol, "dave", 0);
  with_erin = invite (erin, "frank", 0);
  expect_call (bob, with_bob, "ringing - alice:joined bob:invited");
  expect_call (dave, survivors, "ringing - carol:joined dave:invited");
  expect_call (frank, with_erin, "ringing - erin:joined frank:invited");
  answer (bob, with_bob);
  answer (dave, survivors);
  answer (frank, with_erin);
  expect_call (alice, with_bob, "ringing - alice:joined bob:invited");
  expect_call (alice, with_bob, "active answered alice:joined bob:joined");
  expect_call (carol, survivors, "ringing - carol:joined dave:invited");
  expect_call (carol, survivors, "active answered carol:joined dave:joined");
  expect_call (dave, survivors, "active answered carol:joined dave:joined");
  expect_call (frank, with_erin, "active answered erin:joined frank:joined");

  test_server_kill (cluster.nodes[1]);
  /* The heartbeat timeout (4 s) is within the client's event timeout. */
  expect_call (alice, with_bob, "ended offline alice:left bob:left");
  expect_call (frank, with_erin, "ended offline erin:joined frank:left");
  test_client_assert_no_event (carol, VOIP_MSG_CALL_CHANGED, 0);
  test_client_assert_no_event (dave, VOIP_MSG_CALL_CHANGED, 0);
  expect_signal_passes (carol, dave, survivors, "candidate:4 1 UDP 2130706431 127.0.0.1 5006 typ host");
  expect_data_passes (dave, carol, survivors, 0xd0);
  /* Neither is held by a call that is gone: alice calls frank. */
  test_befriend (alice, frank);
  with_erin = invite (alice, "frank", 0);
  expect_call (frank, with_erin, "ringing - alice:joined frank:invited");

  g_clear_pointer (&bob, test_client_free);
  g_clear_pointer (&erin, test_client_free);
  g_clear_pointer (&alice, test_client_free);
  g_clear_pointer (&carol, test_client_free);
  g_clear_pointer (&dave, test_client_free);
  g_clear_pointer (&frank, test_client_free);
  cluster_stop (&cluster);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cluster/calls/one-to-one", test_one_to_one);
  g_test_add_func ("/cluster/calls/refusals", test_refusals);
  g_test_add_func ("/cluster/calls/group", test_group);
  g_test_add_func ("/cluster/calls/group-late-node", test_group_late_node);
  g_test_add_func ("/cluster/calls/node-killed", test_node_killed);
  return g_test_run ();
}
