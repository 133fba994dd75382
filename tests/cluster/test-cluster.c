/* test-cluster.c — voip-server nodes on one PostgreSQL database, with their
 * events between them over NATS: users on different nodes see each other's
 * friend requests, presence changes and messages as on one server, and a
 * node whose NATS server dies moves to another and makes its sessions
 * resync, losing nothing acknowledged.
 *
 * Everything is real and private to the test: a PostgreSQL cluster
 * (tests/support/test-postgres.h), nats-server processes on loopback
 * (test-nats.h) and the voip-server binary (test-server.h).
 */
#include "test-nats.h"
#include "cluster-proxy.h"
#include "test-client.h"
#include "test-postgres.h"
#include "test-server.h"

#include <glib/gstdio.h>
#include <string.h>

typedef struct {
  TestPostgres *pg;
  char         *url;
  TestNats  *nats;
  TestServer   *nodes[3];
  guint         n_nodes;
  /* More configuration for every node: GROUP, KEY, VALUE, ..., NULL. */
  const char   *const *settings;
} Cluster;

/* Starts node `index` on the shared database with the given NATS list. */
static TestServer *
node_start (Cluster *cluster, guint index, const char *nats_urls)
{
  TestServer *server = test_server_new ();
  GKeyFile *config = test_server_get_config (server);
  g_autofree char *name = g_strdup_printf ("node%u", index);

  g_key_file_set_string (config, "store", "url", cluster->url);
  g_key_file_set_string (config, "cluster", "nats", nats_urls);
  g_key_file_set_string (config, "cluster", "node", name);
  for (guint i = 0; cluster->settings != NULL && cluster->settings[i] != NULL; i += 3)
    g_key_file_set_string (config, cluster->settings[i], cluster->settings[i + 1],
                           cluster->settings[i + 2]);
  test_server_start (server);
  return server;
}

/* PostgreSQL, `nats_count` NATS servers, `nodes` voip-server nodes on all of
 * them; FALSE when PostgreSQL cannot be had (the test is skipped, failed
 * under CI=true). */
static gboolean
cluster_start (Cluster *cluster, guint nats_count, guint nodes)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *urls = NULL;

  cluster->pg = test_postgres_new_or_skip ();
  if (cluster->pg == NULL)
    return FALSE;
  cluster->url = test_postgres_create_database (cluster->pg, &error);
  g_assert_no_error (error);
  cluster->nats = test_nats_new (nats_count);
  urls = test_nats_get_urls (cluster->nats);
  for (guint i = 0; i < nodes; i++)
    cluster->nodes[i] = node_start (cluster, i, urls);
  cluster->n_nodes = nodes;
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

/* The next MessageReceived on the client; its text. */
static char *
expect_text (TestClient *client)
{
  g_autoptr(GVariant) event = test_client_expect_event (client, VOIP_MSG_MESSAGE_RECEIVED);
  const char *text;

  g_variant_get (event, "(ttx&s&stu&su@aybb&s)", NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                 &text, NULL, NULL, NULL, NULL, NULL);
  return g_strdup (text);
}

/* Waits for a PresenceChanged of `username` saying `presence`; others of
 * the same user before it (a second session seen as "online") are skipped. */
static void
expect_presence (TestClient *client, const char *username, guint32 presence)
{
  for (;;)
    {
      g_autoptr(GVariant) event = test_client_expect_event (client, VOIP_MSG_PRESENCE_CHANGED);
      const char *who;
      guint32 what;

      g_variant_get (event, "(&su)", &who, &what);
      if (g_str_equal (who, username) && what == presence)
        return;
    }
}

/* Bob's presence in alice's ContactList. */
static guint32
listed_presence (TestClient *client, const char *username)
{
  g_autoptr(GVariant) reply = test_client_call (client, VOIP_MSG_CONTACT_LIST,
                                                g_variant_new ("()"));
  g_autoptr(GVariantIter) iter = NULL;
  const char *who;
  guint32 presence;

  g_variant_get (reply, "(a(ssus))", &iter);
  while (g_variant_iter_next (iter, "(&s&su&s)", &who, NULL, &presence, NULL))
    if (g_str_equal (who, username))
      return presence;
  g_error ("%s is not listed", username);
}

/* A friend request, its answer and the presence that follows, across nodes. */
static void
test_contacts (void)
{
  Cluster cluster = { 0 };
  g_autoptr(TestClient) alice = NULL;
  g_autoptr(TestClient) bob = NULL;
  g_autoptr(TestClient) bob2 = NULL;
  g_autoptr(GVariant) event = NULL;
  const char *username;
  guint32 subscription, change, presence;

  if (!cluster_start (&cluster, 1, 2))
    return;
  alice = test_client_new_registered (port_of (&cluster, 0), "alice");
  bob = test_client_new_registered (port_of (&cluster, 1), "bob");

  test_client_call_ok (alice, VOIP_MSG_CONTACT_REQUEST, g_variant_new ("(s)", "bob"));
  event = test_client_expect_event (bob, VOIP_MSG_CONTACT_CHANGED);
  g_variant_get (event, "(&ssuu)", &username, NULL, &subscription, &change);
  g_assert_cmpstr (username, ==, "alice");
  g_assert_cmpuint (subscription, ==, VOIP_SUBSCRIPTION_INCOMING);
  g_clear_pointer (&event, g_variant_unref);

  test_client_call_ok (bob, VOIP_MSG_CONTACT_ACCEPT, g_variant_new ("(s)", "alice"));
  event = test_client_expect_event (alice, VOIP_MSG_CONTACT_CHANGED);
  g_variant_get (event, "(&ssuu)", &username, NULL, &subscription, &change);
  g_assert_cmpstr (username, ==, "bob");
  g_assert_cmpuint (subscription, ==, VOIP_SUBSCRIPTION_FRIEND);
  g_clear_pointer (&event, g_variant_unref);
  test_client_flush_events (alice);
  test_client_flush_events (bob);

  /* Bob's choice reaches alice on the other node; his own second session,
   * on alice's node, learns it too. */
  bob2 = test_client_new_session (bob);
  test_client_flush_events (bob2);
  test_client_call_ok (bob, VOIP_MSG_SET_PRESENCE, g_variant_new ("(u)", VOIP_PRESENCE_AWAY));
  expect_presence (alice, "bob", VOIP_PRESENCE_AWAY);
  event = test_client_expect_event (bob2, VOIP_MSG_PRESENCE_CHANGED);
  g_variant_get (event, "(&su)", &username, &presence);
  g_assert_cmpuint (presence, ==, VOIP_PRESENCE_AWAY);
  g_clear_pointer (&event, g_variant_unref);
  /* Every node knows bob's choice, whichever of his sessions made it. */
  g_assert_cmpuint (listed_presence (alice, "bob"), ==, VOIP_PRESENCE_AWAY);

  /* Invisible: offline for alice, and a change to nothing she can see
   * after that; bob's other session knows the truth. */
  test_client_call_ok (bob2, VOIP_MSG_SET_PRESENCE,
                       g_variant_new ("(u)", VOIP_PRESENCE_INVISIBLE));
  expect_presence (alice, "bob", VOIP_PRESENCE_OFFLINE);
  expect_presence (bob, "bob", VOIP_PRESENCE_INVISIBLE);
  g_assert_cmpuint (listed_presence (alice, "bob"), ==, VOIP_PRESENCE_OFFLINE);
  test_client_call_ok (bob, VOIP_MSG_SET_PRESENCE, g_variant_new ("(u)", VOIP_PRESENCE_ONLINE));
  expect_presence (alice, "bob", VOIP_PRESENCE_ONLINE);

  /* Bob's session on alice's node ends; he is still online on the other. */
  test_client_call_ok (bob2, VOIP_MSG_LOGOUT, g_variant_new ("()"));
  g_clear_pointer (&bob2, test_client_free);
  g_assert_cmpuint (listed_presence (alice, "bob"), ==, VOIP_PRESENCE_ONLINE);
  test_client_assert_no_event (alice, VOIP_MSG_PRESENCE_CHANGED, 500);

  g_clear_pointer (&alice, test_client_free);
  g_clear_pointer (&bob, test_client_free);
  g_clear_pointer (&bob2, test_client_free);
  cluster_stop (&cluster);
}

/* 1:1 messages live across nodes, the sender's other sessions included,
 * and offline delivery through the shared store. */
static void
test_messages (void)
{
  Cluster cluster = { 0 };
  g_autoptr(TestClient) alice = NULL;
  g_autoptr(TestClient) alice2 = NULL;
  g_autoptr(TestClient) bob = NULL;
  g_autoptr(GPtrArray) texts = NULL;
  g_autofree char *text = NULL;

  if (!cluster_start (&cluster, 1, 2))
    return;
  alice = test_client_new_registered (port_of (&cluster, 0), "alice");
  bob = test_client_new_registered (port_of (&cluster, 1), "bob");
  test_befriend (alice, bob);
  alice2 = test_client_new_logged_in (port_of (&cluster, 1), "alice",
                                      test_client_get_password (alice));
  test_client_flush_events (alice2);

  test_send_text (alice, "bob", 0, NULL, "hello from node0");
  text = expect_text (bob);
  g_assert_cmpstr (text, ==, "hello from node0");
  g_clear_pointer (&text, g_free);
  text = expect_text (alice2);
  g_assert_cmpstr (text, ==, "hello from node0");
  g_clear_pointer (&text, g_free);

  test_send_text (bob, "alice", 0, NULL, "hello from node1");
  text = expect_text (alice);
  g_assert_cmpstr (text, ==, "hello from node1");
  g_clear_pointer (&text, g_free);

  /* Bob offline: the message waits in the store, and he finds it on the
   * other node. */
  test_client_call_ok (bob, VOIP_MSG_LOGOUT, g_variant_new ("()"));
  g_clear_pointer (&bob, test_client_free);
  test_send_text (alice, "bob", 0, NULL, "while you were away");
  bob = test_client_new_logged_in (port_of (&cluster, 0), "bob", "password-bob");
  texts = test_client_sync_texts (bob);
  g_assert_cmpuint (texts->len, ==, 3);
  g_assert_cmpstr (g_ptr_array_index (texts, 2), ==, "while you were away");

  g_clear_pointer (&alice, test_client_free);
  g_clear_pointer (&alice2, test_client_free);
  g_clear_pointer (&bob, test_client_free);
  cluster_stop (&cluster);
}

/* A node killed without a word: its users go offline for the others
 * within SERVER_CLUSTER_NODE_TIMEOUT_S (the client's 10 s is the bound
 * here), and nothing it acknowledged is lost. */
static void
test_node_killed (void)
{
  Cluster cluster = { 0 };
  g_autoptr(TestClient) alice = NULL;
  g_autoptr(TestClient) bob = NULL;
  g_autoptr(GPtrArray) texts = NULL;

  if (!cluster_start (&cluster, 1, 2))
    return;
  alice = test_client_new_registered (port_of (&cluster, 0), "alice");
  bob = test_client_new_registered (port_of (&cluster, 1), "bob");
  test_befriend (alice, bob);
  g_assert_cmpuint (listed_presence (alice, "bob"), ==, VOIP_PRESENCE_ONLINE);
  test_send_text (bob, "alice", 0, NULL, "acknowledged");

  test_server_kill (cluster.nodes[1]);
  expect_presence (alice, "bob", VOIP_PRESENCE_OFFLINE);
  g_assert_cmpuint (listed_presence (alice, "bob"), ==, VOIP_PRESENCE_OFFLINE);

  /* Bob comes back on the node that lives. */
  g_clear_pointer (&bob, test_client_free);
  bob = test_client_new_logged_in (port_of (&cluster, 0), "bob", "password-bob");
  expect_presence (alice, "bob", VOIP_PRESENCE_ONLINE);
  texts = test_client_sync_texts (bob);
  g_assert_cmpuint (texts->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (texts, 0), ==, "acknowledged");

  g_clear_pointer (&alice, test_client_free);
  g_clear_pointer (&bob, test_client_free);
  cluster_stop (&cluster);
}

/* One NATS server of three dies: the node that used it reconnects to
 * another, closes its sessions so that they resync (events may have been
 * lost meanwhile), has the users it published to just before resync on the
 * other nodes, and events flow again; nothing acknowledged is lost. */
static void
test_nats_fault (void)
{
  Cluster cluster = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(TestClient) alice = NULL;
  g_autoptr(TestClient) bob = NULL;
  g_autoptr(GPtrArray) texts = NULL;
  g_autofree char *text = NULL;
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  g_autofree char *on_first = NULL;

  cluster.pg = test_postgres_new_or_skip ();
  if (cluster.pg == NULL)
    return;
  cluster.url = test_postgres_create_database (cluster.pg, &error);
  g_assert_no_error (error);
  cluster.nats = test_nats_new (3);
  /* Each node tries its list in order: node0 is on NATS 0, node1 on 1,
   * and both have 2 to fall back on. */
  first = g_strdup_printf ("%s,%s", test_nats_get_url (cluster.nats, 0),
                           test_nats_get_url (cluster.nats, 2));
  second = g_strdup_printf ("%s,%s", test_nats_get_url (cluster.nats, 1),
                            test_nats_get_url (cluster.nats, 2));
  cluster.nodes[0] = node_start (&cluster, 0, first);
  cluster.nodes[1] = node_start (&cluster, 1, second);
  cluster.n_nodes = 2;

  alice = test_client_new_registered (port_of (&cluster, 0), "alice");
  bob = test_client_new_registered (port_of (&cluster, 1), "bob");
  test_befriend (alice, bob);
  test_send_text (bob, "alice", 0, NULL, "before");
  text = expect_text (alice);
  g_assert_cmpstr (text, ==, "before");
  g_clear_pointer (&text, g_free);

  /* Node0 publishes for bob just before its NATS server dies: that may
   * never reach node1, so bob's session there resyncs too. */
  test_send_text (alice, "bob", 0, NULL, "last word");
  text = expect_text (bob);
  g_clear_pointer (&text, g_free);
  on_first = test_server_find_output (cluster.nodes[0], test_nats_get_url (cluster.nats, 0));
  g_assert_nonnull (on_first);
  test_nats_kill (cluster.nats, 0);
  test_client_expect_closed (alice, VOIP_CLOSE_SHUTDOWN);
  g_clear_pointer (&alice, test_client_free);
  test_client_expect_closed (bob, VOIP_CLOSE_SHUTDOWN);
  g_clear_pointer (&bob, test_client_free);

  /* The clients come back, as voipd does, and find what they missed. */
  bob = test_client_new_logged_in (port_of (&cluster, 1), "bob", "password-bob");
  test_send_text (bob, "alice", 0, NULL, "during");
  alice = test_client_new_logged_in (port_of (&cluster, 0), "alice", "password-alice");
  texts = test_client_sync_texts (alice);
  g_assert_cmpuint (texts->len, ==, 3);
  g_assert_cmpstr (g_ptr_array_index (texts, 2), ==, "during");

  test_send_text (bob, "alice", 0, NULL, "after");
  text = expect_text (alice);
  /* "during" may also come live, once node1's event for it crosses NATS
   * after alice's new session is there: delivery is at least once, and
   * clients drop by seq what their Sync already gave them. */
  if (g_strcmp0 (text, "during") == 0)
    {
      g_clear_pointer (&text, g_free);
      text = expect_text (alice);
    }
  g_assert_cmpstr (text, ==, "after");

  g_clear_pointer (&alice, test_client_free);
  g_clear_pointer (&bob, test_client_free);
  cluster_stop (&cluster);
}

/* The next GroupChanged on the client: name and members ("a b c"). */
static void
expect_group (TestClient *client, guint64 id, const char *name, const char *members)
{
  g_autoptr(GVariant) event = test_client_expect_event (client, VOIP_MSG_GROUP_CHANGED);
  g_autofree const char **names = NULL;
  g_autofree char *joined = NULL;
  const char *got_name;
  guint64 got_id;

  g_variant_get (event, "(t&s&s^a&s)", &got_id, &got_name, NULL, &names);
  joined = g_strjoinv (" ", (char **) names);
  g_assert_cmpuint (got_id, ==, id);
  g_assert_cmpstr (got_name, ==, name);
  g_assert_cmpstr (joined, ==, members);
}

/* The next event of `code` carrying a message: its kind and text. */
static void
expect_message (TestClient *client, guint16 code, guint64 *id, guint32 *kind, char **text)
{
  g_autoptr(GVariant) event = test_client_expect_event (client, code);

  g_variant_get (event, "(ttxsstusuaybbs)", id, NULL, NULL, NULL, NULL, NULL, kind, text, NULL,
                 NULL, NULL, NULL, NULL);
}

/* Three nodes, a user on each: a group made, renamed and pruned across
 * nodes, group texts, an edit, a voice message and its audio, plugin data,
 * and the history, as on one server. */
static void
test_three_nodes (void)
{
  Cluster cluster = { 0 };
  g_autoptr(TestClient) alice = NULL;
  g_autoptr(TestClient) bob = NULL;
  g_autoptr(TestClient) carol = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) audio = g_variant_ref_sink (test_ogg_opus_new (3000));
  g_autofree char *text = NULL;
  guint64 group, id, edited_id, voice_id;
  guint32 kind;

  if (!cluster_start (&cluster, 1, 3))
    return;
  alice = test_client_new_registered (port_of (&cluster, 0), "alice");
  bob = test_client_new_registered (port_of (&cluster, 1), "bob");
  carol = test_client_new_registered (port_of (&cluster, 2), "carol");
  test_befriend (alice, bob);
  test_befriend (alice, carol);
  test_befriend (bob, carol);

  /* A group: made on node0, renamed on node2. */
  reply = test_client_call (alice, VOIP_MSG_GROUP_CREATE,
                            g_variant_new ("(s^as)", "team",
                                           (const char *[]) { "bob", "carol", NULL }));
  g_variant_get (reply, "(t)", &group);
  g_clear_pointer (&reply, g_variant_unref);
  for (TestClient **c = (TestClient *[]) { alice, bob, carol, NULL }; *c; c++)
    expect_group (*c, group, "team", "alice bob carol");
  test_client_call_ok (carol, VOIP_MSG_GROUP_RENAME, g_variant_new ("(ts)", group, "crew"));
  for (TestClient **c = (TestClient *[]) { alice, bob, carol, NULL }; *c; c++)
    expect_group (*c, group, "crew", "alice bob carol");

  /* A group text from node1 reaches node0 and node2; its edit too. */
  edited_id = test_send_text (bob, "", group, NULL, "hello crew");
  for (TestClient **c = (TestClient *[]) { alice, carol, NULL }; *c; c++)
    {
      expect_message (*c, VOIP_MSG_MESSAGE_RECEIVED, &id, &kind, &text);
      g_assert_cmpuint (id, ==, edited_id);
      g_assert_cmpstr (text, ==, "hello crew");
      g_clear_pointer (&text, g_free);
    }
  test_client_call_ok (bob, VOIP_MSG_EDIT, g_variant_new ("(ts)", edited_id, "hello, crew"));
  for (TestClient **c = (TestClient *[]) { alice, carol, NULL }; *c; c++)
    {
      expect_message (*c, VOIP_MSG_MESSAGE_EDITED, &id, &kind, &text);
      g_assert_cmpuint (id, ==, edited_id);
      g_assert_cmpstr (text, ==, "hello, crew");
      g_clear_pointer (&text, g_free);
    }

  /* A voice message from node2 to node0; its audio read back there. */
  reply = test_client_call (carol, VOIP_MSG_SEND_VOICE,
                            g_variant_new ("(sts@ayu)", "alice", (guint64) 0, "voice-1", audio,
                                           1500));
  g_variant_get (reply, "(ttx)", &voice_id, NULL, NULL);
  g_clear_pointer (&reply, g_variant_unref);
  expect_message (alice, VOIP_MSG_MESSAGE_RECEIVED, &id, &kind, &text);
  g_clear_pointer (&text, g_free);
  g_assert_cmpuint (id, ==, voice_id);
  g_assert_cmpuint (kind, ==, VOIP_MESSAGE_KIND_VOICE);
  reply = test_client_call (alice, VOIP_MSG_GET_VOICE, g_variant_new ("(t)", voice_id));
  {
    g_autoptr(GVariant) voice = g_variant_get_child_value (reply, 0);

    g_assert_true (g_variant_equal (voice, audio));
  }
  g_clear_pointer (&reply, g_variant_unref);

  /* Plugin data from node0 to node2 (relayed, never stored). */
  test_client_call_ok (alice, VOIP_MSG_PLUGIN_SEND,
                       g_variant_new ("(ss@ay)", "carol", "whiteboard",
                                      g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, "stroke",
                                                                 6, 1)));
  {
    g_autoptr(GVariant) event = test_client_expect_event (carol, VOIP_MSG_PLUGIN_MESSAGE);
    g_autoptr(GVariant) data = NULL;
    const char *sender, *plugin;

    g_variant_get (event, "(&s&s@ay)", &sender, &plugin, &data);
    g_assert_cmpstr (sender, ==, "alice");
    g_assert_cmpstr (plugin, ==, "whiteboard");
    g_assert_cmpuint (g_variant_n_children (data), ==, 6);
  }

  /* The history of the group, read on node2, has the edit. */
  reply = test_client_call (carol, VOIP_MSG_HISTORY,
                            g_variant_new ("(sttu)", "", group, (guint64) 0, 10));
  {
    g_autoptr(GVariant) messages = g_variant_get_child_value (reply, 0);
    g_autofree char *first = NULL;

    g_assert_cmpuint (g_variant_n_children (messages), ==, 1);
    g_variant_get_child (messages, 0, "(ttxsstusuaybbs)", &id, NULL, NULL, NULL, NULL, NULL,
                         NULL, &first, NULL, NULL, NULL, NULL, NULL);
    g_assert_cmpuint (id, ==, edited_id);
    g_assert_cmpstr (first, ==, "hello, crew");
  }
  g_clear_pointer (&reply, g_variant_unref);

  /* The owner on node0 removes the member on node2. */
  test_client_call_ok (alice, VOIP_MSG_GROUP_REMOVE_MEMBER, g_variant_new ("(ts)", group, "carol"));
  {
    g_autoptr(GVariant) event = test_client_expect_event (carol, VOIP_MSG_GROUP_REMOVED);
    guint64 removed;

    g_variant_get (event, "(tu)", &removed, NULL);
    g_assert_cmpuint (removed, ==, group);
  }
  expect_group (bob, group, "crew", "alice bob");
  test_client_call_fails (carol, VOIP_MSG_GROUP_INFO, g_variant_new ("(t)", group),
                          VOIP_STATUS_NO_SUCH_GROUP);

  g_clear_pointer (&alice, test_client_free);
  g_clear_pointer (&bob, test_client_free);
  g_clear_pointer (&carol, test_client_free);
  cluster_stop (&cluster);
}

/* Sends a text; the reply's status (a transport error, i.e. a hang past
 * the client's timeout or a crash, fails the test). */
static guint
send_text_status (TestClient *client, const char *to, const char *client_id, const char *text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  guint status = G_MAXUINT;

  reply = test_client_request (client, VOIP_MSG_SEND_TEXT,
                               g_variant_new ("(stss)", to, (guint64) 0, client_id, text),
                               &status, &error);
  g_assert_no_error (error);
  return status;
}

/* Resends, as a client does, until the store takes it (polled, 60 s). */
static void
resend_until_stored (TestClient *client, const char *to, const char *client_id,
                     const char *text)
{
  gint64 deadline = g_get_monotonic_time () + 60 * G_TIME_SPAN_SECOND;
  guint status;

  while ((status = send_text_status (client, to, client_id, text)) == VOIP_STATUS_STORAGE
         && g_get_monotonic_time () < deadline)
    g_usleep (100 * 1000);
  g_assert_cmpuint (status, ==, VOIP_STATUS_OK);
}

/* PostgreSQL stops under two nodes: requests on either get Storage in
 * bounded time (the client's timeout, far above the store's 5 s), the
 * sessions and the link between the nodes live on, and once PostgreSQL is
 * back both nodes serve again by themselves; nothing acknowledged is lost. */
static void
test_postgres_outage (void)
{
  Cluster cluster = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(TestClient) alice = NULL;
  g_autoptr(TestClient) bob = NULL;
  g_autoptr(TestClient) late = NULL;
  g_autoptr(GPtrArray) texts = NULL;
  g_autofree char *text = NULL;
  g_autofree char *alice_id = test_new_client_id ();
  g_autofree char *bob_id = test_new_client_id ();

  if (!cluster_start (&cluster, 1, 2))
    return;
  alice = test_client_new_registered (port_of (&cluster, 0), "alice");
  bob = test_client_new_registered (port_of (&cluster, 1), "bob");
  test_befriend (alice, bob);
  test_send_text (alice, "bob", 0, NULL, "before");
  text = expect_text (bob);
  g_clear_pointer (&text, g_free);

  g_assert_true (test_postgres_stop (cluster.pg, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (send_text_status (alice, "bob", alice_id, "during, from alice"), ==,
                    VOIP_STATUS_STORAGE);
  g_assert_cmpuint (send_text_status (bob, "alice", bob_id, "during, from bob"), ==,
                    VOIP_STATUS_STORAGE);
  test_client_call_fails (bob, VOIP_MSG_SYNC, g_variant_new ("(tu)", (guint64) 0, 10),
                          VOIP_STATUS_STORAGE);
  late = test_client_connect (port_of (&cluster, 1));
  test_client_call_fails (late, VOIP_MSG_LOGIN,
                          g_variant_new ("(ss)", "alice", test_client_get_password (alice)),
                          VOIP_STATUS_STORAGE);
  test_client_assert_ping (alice);
  test_client_assert_ping (bob);

  g_assert_true (test_postgres_start (cluster.pg, &error));
  g_assert_no_error (error);
  resend_until_stored (alice, "bob", alice_id, "during, from alice");
  text = expect_text (bob);
  g_assert_cmpstr (text, ==, "during, from alice");
  g_clear_pointer (&text, g_free);
  resend_until_stored (bob, "alice", bob_id, "during, from bob");
  text = expect_text (alice);
  g_assert_cmpstr (text, ==, "during, from bob");
  test_client_call_ok (late, VOIP_MSG_LOGIN,
                       g_variant_new ("(ss)", "alice", test_client_get_password (alice)));

  texts = test_client_sync_texts (late);
  g_assert_cmpuint (texts->len, ==, 3);
  g_assert_cmpstr (g_ptr_array_index (texts, 0), ==, "before");
  g_assert_cmpstr (g_ptr_array_index (texts, 1), ==, "during, from alice");
  g_assert_cmpstr (g_ptr_array_index (texts, 2), ==, "during, from bob");

  g_clear_pointer (&alice, test_client_free);
  g_clear_pointer (&bob, test_client_free);
  g_clear_pointer (&late, test_client_free);
  cluster_stop (&cluster);
}

/* Polls the node's output for text (10 s at most). */
static void
expect_output (TestServer *node, const char *text)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_TIME_SPAN_SECOND;

  for (;;)
    {
      g_autofree char *line = test_server_find_output (node, text);

      if (line != NULL)
        return;
      if (g_get_monotonic_time () > deadline)
        g_error ("the node never said '%s'", text);
      g_usleep (20 * 1000);
    }
}

/* A node loses its NATS server for a while (a proxy cut: NATS and the
 * other node live on), and what it published meanwhile does not fit its
 * reconnect buffer: once back, it tells the other node that alice's
 * sessions missed events, and they resync; alice finds bob's message. */
static void
test_nats_buffer_overflow (void)
{
  /* No room at all: every publication during the cut is lost. */
  const char *const settings[] = { "cluster", "reconnect-buffer", "1", NULL };
  Cluster cluster = { .settings = settings };
  g_autoptr(GError) error = NULL;
  g_autoptr(ClusterProxy) proxy = NULL;
  g_autoptr(TestClient) alice = NULL;
  g_autoptr(TestClient) bob = NULL;
  g_autoptr(GPtrArray) texts = NULL;
  g_autofree char *text = NULL;
  g_autofree char *through_proxy = NULL;
  guint64 nats_port;

  cluster.pg = test_postgres_new_or_skip ();
  if (cluster.pg == NULL)
    return;
  cluster.url = test_postgres_create_database (cluster.pg, &error);
  g_assert_no_error (error);
  cluster.nats = test_nats_new (1);
  g_assert_true (g_ascii_string_to_unsigned (strrchr (test_nats_get_url (cluster.nats, 0),
                                                      ':') + 1, 10, 1, 65535, &nats_port,
                                             NULL));
  proxy = cluster_proxy_new ((guint16) nats_port);
  through_proxy = g_strdup_printf ("nats://127.0.0.1:%u", cluster_proxy_get_port (proxy));
  cluster.nodes[0] = node_start (&cluster, 0, test_nats_get_url (cluster.nats, 0));
  cluster.nodes[1] = node_start (&cluster, 1, through_proxy);
  cluster.n_nodes = 2;

  alice = test_client_new_registered (port_of (&cluster, 0), "alice");
  bob = test_client_new_registered (port_of (&cluster, 1), "bob");
  test_befriend (alice, bob);

  cluster_proxy_set_cut (proxy, TRUE);
  expect_output (cluster.nodes[1], "lost the link to NATS");
  /* Stored and acknowledged; its event for alice's node is dropped. */
  test_send_text (bob, "alice", 0, NULL, "during the cut");
  cluster_proxy_set_cut (proxy, FALSE);

  /* Node1 is back: its own sessions resync (the gap), and so do alice's
   * on node0, which never lost its link. */
  test_client_expect_closed (bob, VOIP_CLOSE_SHUTDOWN);
  test_client_expect_closed (alice, VOIP_CLOSE_SHUTDOWN);
  g_clear_pointer (&alice, test_client_free);
  alice = test_client_new_logged_in (port_of (&cluster, 0), "alice", "password-alice");
  texts = test_client_sync_texts (alice);
  g_assert_cmpuint (texts->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (texts, 0), ==, "during the cut");

  /* Events flow again. */
  g_clear_pointer (&bob, test_client_free);
  bob = test_client_new_logged_in (port_of (&cluster, 1), "bob", "password-bob");
  test_send_text (bob, "alice", 0, NULL, "after");
  text = expect_text (alice);
  g_assert_cmpstr (text, ==, "after");

  g_clear_pointer (&alice, test_client_free);
  g_clear_pointer (&bob, test_client_free);
  cluster_stop (&cluster);
}

/* A NATS server hangs (SIGSTOP): what a node wrote to it is lost without
 * an error, and the node learns of it only when its pings go unanswered.
 * Once on another NATS server, it has the users it published to just
 * before resync on the other nodes: alice finds bob's message. */
static void
test_nats_frozen (void)
{
  Cluster cluster = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(TestClient) alice = NULL;
  g_autoptr(TestClient) bob = NULL;
  g_autoptr(GPtrArray) texts = NULL;
  g_autofree char *text = NULL;
  g_autofree char *second = NULL;

  cluster.pg = test_postgres_new_or_skip ();
  if (cluster.pg == NULL)
    return;
  cluster.url = test_postgres_create_database (cluster.pg, &error);
  g_assert_no_error (error);
  cluster.nats = test_nats_new (3);
  second = g_strdup_printf ("%s,%s", test_nats_get_url (cluster.nats, 1),
                            test_nats_get_url (cluster.nats, 2));
  cluster.nodes[0] = node_start (&cluster, 0, test_nats_get_url (cluster.nats, 0));
  cluster.nodes[1] = node_start (&cluster, 1, second);
  cluster.n_nodes = 2;

  alice = test_client_new_registered (port_of (&cluster, 0), "alice");
  bob = test_client_new_registered (port_of (&cluster, 1), "bob");
  test_befriend (alice, bob);
  test_send_text (bob, "alice", 0, NULL, "before");
  text = expect_text (alice);
  g_assert_cmpstr (text, ==, "before");
  g_clear_pointer (&text, g_free);

  test_nats_freeze (cluster.nats, 1);
  /* Acknowledged (stored); its event goes into the hung server's socket. */
  test_send_text (bob, "alice", 0, NULL, "into the void");
  expect_output (cluster.nodes[1], "lost the link to NATS");
  /* The client's timeout covers the reconnection to NATS 2. */
  test_client_expect_closed (alice, VOIP_CLOSE_SHUTDOWN);
  g_clear_pointer (&alice, test_client_free);
  alice = test_client_new_logged_in (port_of (&cluster, 0), "alice", "password-alice");
  texts = test_client_sync_texts (alice);
  g_assert_cmpuint (texts->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (texts, 1), ==, "into the void");

  g_clear_pointer (&alice, test_client_free);
  g_clear_pointer (&bob, test_client_free);
  test_nats_kill (cluster.nats, 1);
  cluster_stop (&cluster);
}

/* Logs in as username with the right password on a new connection until
 * the node refuses with RATE_LIMITED (the failures other nodes counted
 * reach it over NATS, a moment after their replies); fails the test if it
 * never does. */
static void
expect_account_limited (guint16 port, const char *username)
{
  g_autofree char *password = test_password_for (username);
  gint64 deadline = g_get_monotonic_time () + 10 * G_TIME_SPAN_SECOND;

  for (;;)
    {
      g_autoptr(TestClient) client = test_client_connect (port);
      g_autoptr(GVariant) reply = NULL;
      g_autoptr(GError) error = NULL;
      guint status = VOIP_STATUS_OK;

      reply = test_client_request (client, VOIP_MSG_LOGIN,
                                   g_variant_new ("(ss)", username, password), &status, &error);
      g_assert_no_error (error);
      if (status == VOIP_STATUS_RATE_LIMITED)
        return;
      g_assert_cmpuint (status, ==, VOIP_STATUS_OK);
      if (g_get_monotonic_time () > deadline)
        g_error ("%s can still log in on port %u", username, port);
      g_usleep (20 * 1000);   /* poll */
    }
}

/* Wrong passwords for one account spread over two nodes: each node counts
 * them all, so the account's limit holds for the cluster, not per node. */
static void
test_login_limit (void)
{
  /* Three failures allowed; the address limit out of the way. */
  const char *const settings[] = { "security", "login-failures-per-account", "3",
                                   "security", "login-failure-refill-seconds", "3600",
                                   "security", "login-attempts-per-ip", "1000000", NULL };
  Cluster cluster = { .settings = settings };
  g_autoptr(TestClient) alice = NULL;
  g_autoptr(TestClient) attacker0 = NULL;
  g_autoptr(TestClient) attacker1 = NULL;

  if (!cluster_start (&cluster, 1, 2))
    return;
  alice = test_client_new_registered (port_of (&cluster, 0), "alice");
  attacker0 = test_client_connect (port_of (&cluster, 0));
  attacker1 = test_client_connect (port_of (&cluster, 1));

  test_client_call_fails (attacker0, VOIP_MSG_LOGIN,
                          g_variant_new ("(ss)", "alice", "wrong-password"),
                          VOIP_STATUS_BAD_LOGIN);
  test_client_call_fails (attacker1, VOIP_MSG_LOGIN,
                          g_variant_new ("(ss)", "alice", "wrong-password"),
                          VOIP_STATUS_BAD_LOGIN);
  test_client_call_fails (attacker1, VOIP_MSG_LOGIN,
                          g_variant_new ("(ss)", "alice", "wrong-password"),
                          VOIP_STATUS_BAD_LOGIN);
  /* One failure here, two there: both nodes refuse the account now. */
  expect_account_limited (port_of (&cluster, 0), "alice");
  expect_account_limited (port_of (&cluster, 1), "alice");
  /* Others are not affected, nor alice's session. */
  {
    g_autoptr(TestClient) bob = test_client_new_registered (port_of (&cluster, 1), "bob");

    test_client_call_ok (alice, VOIP_MSG_CONTACT_LIST, g_variant_new ("()"));
  }

  g_clear_pointer (&alice, test_client_free);
  g_clear_pointer (&attacker0, test_client_free);
  g_clear_pointer (&attacker1, test_client_free);
  cluster_stop (&cluster);
}

/* Resume with the token on a new connection: status expected. */
static void
expect_resume (guint16 port, const char *username, const char *token, guint status)
{
  g_autoptr(TestClient) client = test_client_connect (port);

  g_variant_unref (test_client_call_full (client, VOIP_MSG_RESUME,
                                          g_variant_new ("(ss)", username, token), status,
                                          __FILE__, __LINE__, G_STRFUNC));
}

/* A password change on one node ends the user's other sessions on every
 * node, and their tokens work nowhere; so does a deleted account. */
static void
test_revocation (void)
{
  Cluster cluster = { 0 };
  g_autoptr(TestClient) alice = NULL;
  g_autoptr(TestClient) alice_there = NULL;
  g_autoptr(TestClient) alice_here = NULL;
  g_autoptr(TestClient) bob = NULL;
  g_autoptr(TestClient) bob_there = NULL;
  g_autofree char *old_token = NULL;

  if (!cluster_start (&cluster, 1, 2))
    return;
  alice = test_client_new_registered (port_of (&cluster, 0), "alice");
  alice_here = test_client_new_session (alice);
  alice_there = test_client_new_logged_in (port_of (&cluster, 1), "alice",
                                           test_client_get_password (alice));
  old_token = g_strdup (test_client_get_token (alice_there));

  test_client_call_ok (alice, VOIP_MSG_CHANGE_PASSWORD,
                       g_variant_new ("(ss)", test_client_get_password (alice),
                                      "a-new-password"));
  test_client_expect_closed (alice_here, VOIP_CLOSE_TOKEN_REVOKED);
  test_client_expect_closed (alice_there, VOIP_CLOSE_TOKEN_REVOKED);
  for (guint node = 0; node < 2; node++)
    expect_resume (port_of (&cluster, node), "alice", old_token, VOIP_STATUS_BAD_TOKEN);
  /* The session that changed it lives on, and its token works everywhere. */
  test_client_call_ok (alice, VOIP_MSG_CONTACT_LIST, g_variant_new ("()"));
  expect_resume (port_of (&cluster, 1), "alice", test_client_get_token (alice), VOIP_STATUS_OK);

  bob = test_client_new_registered (port_of (&cluster, 1), "bob");
  bob_there = test_client_new_logged_in (port_of (&cluster, 0), "bob",
                                         test_client_get_password (bob));
  g_clear_pointer (&old_token, g_free);
  old_token = g_strdup (test_client_get_token (bob_there));
  test_client_call_ok (bob, VOIP_MSG_DELETE_ACCOUNT,
                       g_variant_new ("(s)", test_client_get_password (bob)));
  test_client_expect_closed (bob_there, VOIP_CLOSE_ACCOUNT_DELETED);
  expect_resume (port_of (&cluster, 0), "bob", old_token, VOIP_STATUS_BAD_TOKEN);

  g_clear_pointer (&alice, test_client_free);
  g_clear_pointer (&alice_here, test_client_free);
  g_clear_pointer (&alice_there, test_client_free);
  g_clear_pointer (&bob, test_client_free);
  g_clear_pointer (&bob_there, test_client_free);
  cluster_stop (&cluster);
}

/* voip-server --check-config on FILE: its exit status, its output in *out. */
static int
check_config (const char *text, char **out)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("voip-check-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "server.conf", NULL);
  g_autoptr(GSubprocess) process = NULL;
  g_autofree char *stdout_text = NULL;
  g_autofree char *stderr_text = NULL;

  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (path, text, -1, &error));
  process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                              &error, g_getenv ("VOIP_SERVER"), "--check-config",
                              "--config", path, NULL);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_communicate_utf8 (process, NULL, NULL, &stdout_text,
                                                &stderr_text, &error));
  g_assert_no_error (error);
  g_unlink (path);
  g_rmdir (dir);
  *out = g_strconcat (stdout_text, stderr_text, NULL);
  g_assert_true (g_subprocess_get_if_exited (process));
  return g_subprocess_get_exit_status (process);
}

static void
test_check_config (void)
{
  g_autofree char *out = NULL;

  g_assert_cmpint (check_config ("[cluster]\nnats=nats://127.0.0.1:4222,nats://10.0.0.2:4222\n"
                                 "node=a\n[store]\nurl=postgresql:///voip\n", &out), ==, 0);
  g_assert_nonnull (strstr (out, "node a"));
  g_clear_pointer (&out, g_free);
  /* Each mistake is named; nothing is started. */
  g_assert_cmpint (check_config ("[cluster]\nnats=nats://127.0.0.1:4222\nnode=a\n", &out), ==, 1);
  g_assert_nonnull (strstr (out, "[store] url"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (check_config ("[cluster]\nnats=http://127.0.0.1\nnode=a\n"
                                 "[store]\nurl=postgresql:///voip\n", &out), ==, 1);
  g_assert_nonnull (strstr (out, "not nats://HOST:PORT"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (check_config ("[cluster]\nnode=a\n[store]\nurl=postgresql:///voip\n",
                                 &out), ==, 1);
  g_assert_nonnull (strstr (out, "both nats and node"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (check_config ("[server]\nlisten=127.0.0.1:99999\n", &out), ==, 1);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (check_config ("[server]\nlisen=127.0.0.1:7000\n", &out), ==, 1);
  g_assert_nonnull (strstr (out, "unknown setting"));
}

/* One probe of the health endpoint: the status line. */
static char *
probe_health (guint16 port)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketConnection) connection =
    g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, &error);
  g_autoptr(GDataInputStream) in = NULL;
  const char *request = "GET /health HTTP/1.0\r\n\r\n";

  g_assert_no_error (error);
  g_assert_true (g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (connection)),
                                            request, strlen (request), NULL, NULL, &error));
  g_assert_no_error (error);
  in = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (connection)));
  g_data_input_stream_set_newline_type (in, G_DATA_STREAM_NEWLINE_TYPE_CR_LF);
  return g_data_input_stream_read_line (in, NULL, NULL, &error);
}

/* The health probe says 200 while the node serves and 503 once it lost
 * NATS; every log line names the node. */
static void
test_health (void)
{
  Cluster cluster = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  g_autofree char *status = NULL;
  g_autofree char *logged = NULL;
  g_autofree char *urls = NULL;
  guint64 port;
  gint64 deadline;

  cluster.pg = test_postgres_new_or_skip ();
  if (cluster.pg == NULL)
    return;
  cluster.url = test_postgres_create_database (cluster.pg, &error);
  g_assert_no_error (error);
  cluster.nats = test_nats_new (1);
  urls = test_nats_get_urls (cluster.nats);
  cluster.nodes[0] = test_server_new ();
  g_key_file_set_string (test_server_get_config (cluster.nodes[0]), "server", "health",
                         "127.0.0.1:0");
  g_key_file_set_string (test_server_get_config (cluster.nodes[0]), "store", "url", cluster.url);
  g_key_file_set_string (test_server_get_config (cluster.nodes[0]), "cluster", "nats", urls);
  g_key_file_set_string (test_server_get_config (cluster.nodes[0]), "cluster", "node", "node0");
  test_server_start (cluster.nodes[0]);
  cluster.n_nodes = 1;

  /* Printed just after "listening on": polled every 10 ms. */
  deadline = g_get_monotonic_time () + 30 * G_TIME_SPAN_SECOND;
  while ((line = test_server_find_output (cluster.nodes[0], "health on 127.0.0.1:")) == NULL
         && g_get_monotonic_time () < deadline)
    g_usleep (10000);
  g_assert_nonnull (line);
  g_assert_true (g_ascii_string_to_unsigned (strrchr (line, ':') + 1, 10, 1, 65535, &port, NULL));
  status = probe_health (port);
  g_assert_cmpstr (status, ==, "HTTP/1.0 200 OK");
  logged = test_server_find_output (cluster.nodes[0], "node=node0 ");
  g_assert_nonnull (logged);

  /* NATS gone: the node says it cannot serve (polled every probe). */
  test_nats_kill (cluster.nats, 0);
  deadline = g_get_monotonic_time () + 30 * G_TIME_SPAN_SECOND;
  do
    {
      g_clear_pointer (&status, g_free);
      status = probe_health (port);
    }
  while (g_strcmp0 (status, "HTTP/1.0 503 Service Unavailable") != 0
         && g_get_monotonic_time () < deadline && (g_usleep (50000), TRUE));
  g_assert_cmpstr (status, ==, "HTTP/1.0 503 Service Unavailable");
  cluster_stop (&cluster);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cluster/check-config", test_check_config);
  g_test_add_func ("/cluster/health", test_health);
  g_test_add_func ("/cluster/contacts", test_contacts);
  g_test_add_func ("/cluster/messages", test_messages);
  g_test_add_func ("/cluster/node-killed", test_node_killed);
  g_test_add_func ("/cluster/nats-fault", test_nats_fault);
  g_test_add_func ("/cluster/nats-buffer-overflow", test_nats_buffer_overflow);
  g_test_add_func ("/cluster/three-nodes", test_three_nodes);
  g_test_add_func ("/cluster/postgres-outage", test_postgres_outage);
  g_test_add_func ("/cluster/nats-frozen", test_nats_frozen);
  g_test_add_func ("/cluster/login-limit", test_login_limit);
  g_test_add_func ("/cluster/revocation", test_revocation);
  return g_test_run ();
}
