/* test-daemon-cluster-calls.c — voice calls between real daemons logged in
 * to different nodes of a cluster (voip-server nodes on one PostgreSQL, a
 * nats-server between them), checked by their audio as
 * test-daemon-calls.c does on one server: alice's microphone plays 440 Hz,
 * bob's 880 Hz, carol's 660 Hz, and each speaker is a WAV file whose
 * frequencies tone-analyze measures.
 *   - a 1:1 call, alice on node0 and bob on node1 (two nodes): each hears the other;
 *   - the same through the server relay (VOIPD_MEDIA_FORCE_RELAY: no ICE),
 *     the audio crossing the nodes over NATS;
 *   - a three-way group call, one user on each of three nodes. */
#include <string.h>

#include "test-nats.h"
#include "test-postgres.h"
#include "test-server.h"
#include "test-user.h"
#include "tone-report.h"

#define CALL_NODES 3
#define FREQ_TOLERANCE_HZ 5.0

typedef struct {
  TestPostgres *pg;
  TestNats  *nats;
  TestServer   *nodes[CALL_NODES];
  TestUser     *users[CALL_NODES];   /* alice on node0, bob on node1, carol on node2 */
} Fixture;

typedef struct {
  guint    nodes;         /* nodes and users: 2 or CALL_NODES */
  gboolean force_relay;
} Options;

static guint
tone_of (TestUser *user)
{
  const char *name = test_user_get_name (user);

  return g_str_equal (name, "alice") ? 440 : g_str_equal (name, "bob") ? 880 : 660;
}

static char *
received_wav (TestUser *user)
{
  return g_build_filename (test_user_get_home (user), "received.wav", NULL);
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  const Options *options = data;
  const char *names[CALL_NODES] = { "alice", "bob", "carol" };
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  g_autofree char *nats = NULL;

  f->pg = test_postgres_new_or_skip ();
  if (f->pg == NULL)
    return;
  url = test_postgres_create_database (f->pg, &error);
  g_assert_no_error (error);
  f->nats = test_nats_new (1);
  nats = test_nats_get_urls (f->nats);
  for (guint i = 0; i < options->nodes; i++)
    {
      GKeyFile *config;
      g_autofree char *node = g_strdup_printf ("node%u", i);
      g_autofree char *address = NULL;
      g_autofree char *wav = NULL;
      g_autofree char *source = NULL;
      g_autofree char *sink = NULL;

      f->nodes[i] = test_server_new ();
      config = test_server_get_config (f->nodes[i]);
      g_key_file_set_string (config, "store", "url", url);
      g_key_file_set_string (config, "cluster", "nats", nats);
      g_key_file_set_string (config, "cluster", "node", node);
      test_server_start (f->nodes[i]);

      f->users[i] = test_user_new (names[i], TEST_USER_DEFAULT);
      address = g_strdup_printf ("127.0.0.1:%u", test_server_get_port (f->nodes[i]));
      test_user_set_server (f->users[i], address);
      wav = received_wav (f->users[i]);
      source = g_strdup_printf ("'audiotestsrc freq=%u is-live=true wave=sine volume=0.5'",
                                tone_of (f->users[i]));
      sink = g_strdup_printf ("'wavenc ! filesink location=%s'", wav);
      test_user_set_setting (f->users[i], "audio-source", source);
      test_user_set_setting (f->users[i], "audio-sink", sink);
      test_user_set_setting (f->users[i], "echo-cancellation", "false");
      if (options->force_relay)
        test_user_setenv (f->users[i], "VOIPD_MEDIA_FORCE_RELAY", "1");
      test_user_start_daemon (f->users[i]);
      test_user_register (f->users[i]);
    }
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  for (guint i = 0; i < CALL_NODES; i++)
    g_clear_pointer (&f->users[i], test_user_free);
  for (guint i = 0; i < CALL_NODES; i++)
    g_clear_pointer (&f->nodes[i], test_server_free);
  g_clear_pointer (&f->nats, test_nats_free);
  g_clear_pointer (&f->pg, test_postgres_free);
}

/* ---- calls as voipctl lists them ------------------------------------------------ */

static guint64
start_call (TestUser *caller, const char *callee, const char *group)
{
  g_autoptr(JsonNode) root = group != NULL
    ? voipctl_json (caller, "--json", "call", "--group", group)
    : voipctl_json (caller, "--json", "call", callee);
  gint64 id = test_json_get_int (test_json_object (root), "id");

  g_assert_cmpint (id, >, 0);
  return (guint64) id;
}

static JsonObject *
find_call (TestUser *user, guint64 id)
{
  g_autoptr(JsonNode) root = voipctl_json (user, "calls", "--json");
  JsonObject *call = test_json_find_int (test_json_list (root), "id", (gint64) id);

  return call != NULL ? json_object_ref (call) : NULL;
}

typedef struct {
  guint64     id;
  const char *state;
} CallWait;

static gboolean
check_call_state (TestUser *user, gpointer data)
{
  CallWait *wait = data;
  g_autoptr(JsonObject) call = find_call (user, wait->id);

  return call != NULL && g_str_equal (test_json_get_string (call, "state"), wait->state);
}

static void
wait_call (TestUser *user, guint64 id, const char *state)
{
  CallWait wait = { id, state };

  if (!test_user_wait (user, TEST_USER_WAIT_MS, check_call_state, &wait))
    g_error ("%s: call %" G_GUINT64_FORMAT " never became %s", test_user_get_name (user), id,
             state);
}

typedef struct {
  guint64     id;
  guint       peers;
  const char *path;   /* NULL: any */
} StatsWait;

/* Every peer shows a path (that one, if given) and received packets. */
static gboolean
check_stats_flowing (TestUser *user, gpointer data)
{
  StatsWait *wait = data;
  g_autoptr(JsonObject) call = find_call (user, wait->id);
  JsonArray *stats;
  guint flowing = 0;

  if (call == NULL)
    return FALSE;
  stats = test_json_get_array (call, "stats");
  for (guint i = 0; i < json_array_get_length (stats); i++)
    {
      JsonObject *peer = json_array_get_object_element (stats, i);
      const char *path = test_json_get_string (peer, "path");

      flowing += *path != '\0' && (wait->path == NULL || g_str_equal (path, wait->path))
                 && test_json_get_int (peer, "packets_received") > 0;
    }
  return flowing == wait->peers;
}

static void
wait_stats_flowing (TestUser *user, guint64 id, guint peers, const char *path)
{
  StatsWait wait = { id, peers, path };

  if (!test_user_wait (user, TEST_USER_WAIT_MS, check_stats_flowing, &wait))
    g_error ("%s: call %" G_GUINT64_FORMAT " never showed %u peers' packets (path %s)",
             test_user_get_name (user), id, peers, path ? path : "any");
}

/* ---- the audio ------------------------------------------------------------------------ */

/* The share of power tone-analyze measures at freq (and at other, in
 * *other_power) in what listener received after the first second (set-up). */
static double
heard (TestUser *listener, guint freq, guint other, double *other_power)
{
  g_autofree char *wav = received_wav (listener);
  const guint freqs[] = { freq, other };
  g_autoptr(GHashTable) values = tone_analyze (wav, 1000, freqs, G_N_ELEMENTS (freqs));

  *other_power = tone_power (values, other);
  return tone_power (values, freq);
}

/* `listener` heard `speaker`'s tone above its own. */
static void
assert_heard (TestUser *listener, TestUser *speaker)
{
  g_autofree char *wav = received_wav (listener);
  const guint freqs[] = { tone_of (speaker), tone_of (listener) };
  g_autoptr(GHashTable) values = tone_analyze (wav, 1000, freqs, G_N_ELEMENTS (freqs));

  g_assert_cmpfloat_with_epsilon (tone_value (values, "dominant_hz"), tone_of (speaker),
                                  FREQ_TOLERANCE_HZ);
  g_assert_cmpfloat (tone_power (values, freqs[0]), >, tone_power (values, freqs[1]));
}

/* ---- tests ---------------------------------------------------------------------------- */

/* alice (node0) calls bob (node1); he answers; both become active, packets
 * flow (peer to peer, or through the servers with force_relay), and after
 * a few seconds of audio alice hangs up; each heard the other's tone. */
static void
test_one_to_one (Fixture *f, gconstpointer data)
{
  const Options *options = data;
  TestUser *alice = f->users[0], *bob = f->users[1];
  const char *path = options->force_relay ? "server-relay" : NULL;
  g_autofree char *id_text = NULL;
  guint64 id;

  if (f->pg == NULL)
    return;
  test_user_befriend (alice, bob);
  id = start_call (alice, "bob", NULL);
  id_text = g_strdup_printf ("%" G_GUINT64_FORMAT, id);
  wait_call (bob, id, "ringing");
  g_free (voipctl_ok (bob, "answer"));
  wait_call (alice, id, "active");
  wait_call (bob, id, "active");
  wait_stats_flowing (alice, id, 1, path);
  wait_stats_flowing (bob, id, 1, path);
  /* Audio to analyse: a pause in which it flows, not a condition. */
  test_iterate_for (3000);
  g_free (voipctl_ok (alice, "hangup", id_text));
  wait_call (alice, id, "ended");
  wait_call (bob, id, "ended");

  assert_heard (alice, bob);
  assert_heard (bob, alice);
}

/* A group of three, one on each node: each hears the other two, about
 * half of the power each, and not itself. */
static void
test_group (Fixture *f, gconstpointer data)
{
  TestUser *alice = f->users[0], *bob = f->users[1], *carol = f->users[2];
  g_autofree char *out = NULL;
  guint64 id;

  if (f->pg == NULL)
    return;
  test_user_befriend (alice, bob);
  test_user_befriend (alice, carol);
  out = voipctl_ok (alice, "group", "create", "choir", "bob", "carol");
  id = start_call (alice, NULL, g_strstrip (out));
  wait_call (bob, id, "ringing");
  wait_call (carol, id, "ringing");
  g_free (voipctl_ok (bob, "answer"));
  g_free (voipctl_ok (carol, "answer"));
  for (guint i = 0; i < CALL_NODES; i++)
    wait_call (f->users[i], id, "active");
  for (guint i = 0; i < CALL_NODES; i++)
    wait_stats_flowing (f->users[i], id, 2, NULL);
  test_iterate_for (4000);
  g_free (voipctl_ok (alice, "hangup"));
  g_free (voipctl_ok (bob, "hangup"));
  for (guint i = 0; i < CALL_NODES; i++)
    wait_call (f->users[i], id, "ended");

  for (guint i = 0; i < CALL_NODES; i++)
    {
      TestUser *one = f->users[(i + 1) % CALL_NODES], *other = f->users[(i + 2) % CALL_NODES];
      double other_power, own_power;

      /* Two tones of equal level: about half of the power each. */
      g_assert_cmpfloat (heard (f->users[i], tone_of (one), tone_of (other), &other_power), >,
                         0.25);
      g_assert_cmpfloat (other_power, >, 0.25);
      heard (f->users[i], tone_of (one), tone_of (f->users[i]), &own_power);
      g_assert_cmpfloat (own_power, <, 0.02);
    }
}

static const Options pair_options = { 2, FALSE };
static const Options relay_options = { 2, TRUE };
static const Options group_options = { CALL_NODES, FALSE };

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/cluster/daemon-calls/one-to-one", Fixture, &pair_options, fixture_set_up,
              test_one_to_one, fixture_tear_down);
  g_test_add ("/cluster/daemon-calls/server-relay", Fixture, &relay_options, fixture_set_up,
              test_one_to_one, fixture_tear_down);
  g_test_add ("/cluster/daemon-calls/group", Fixture, &group_options, fixture_set_up, test_group,
              fixture_tear_down);
  return g_test_run ();
}
