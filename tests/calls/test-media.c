/* test-media — the media engine alone: two or three calls in one process,
 * their signals and relayed packets wired to each other through the main
 * loop, tones in and WAV files out, checked with tone-analyze.
 *
 * VOIPD_MEDIA_MODULE and TONE_ANALYZE come from meson. For measurements:
 * TEST_MEDIA_MS (how much audio /media/basic, server-relay and mesh wait
 * for, in ms of received packets; 2000),
 * TEST_MEDIA_LATENCY_FILE (where /media/latency writes its figure, in ms),
 * TEST_MEDIA_KEEP (keep the WAV files).
 */
#include <gio/gio.h>
#include <gmodule.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "tone-report.h"
#include "voipd-media.h"
#include "voip-catalogue.h"

#define CONNECT_LIMIT_S 20    /* a generous limit, not a timing assertion */
#define AUDIO_LIMIT_S 30      /* the same for audio to flow (ASan on a loaded machine) */
#define POLL_MS 50
/* What the checks analyze: this much audio after the peer connected, and
 * the start of it skipped (ICE's first packets, the jitter buffer filling). */
#define AUDIO_PACKETS 100     /* 20 ms each: 2 s */
#define SETTLE_MS 300
#define MAX_PARTIES 3

static const VoipdMediaApi *api;

/* For LeakSanitizer builds, two leaks that are not ours: GLib's first block
 * of quarks, allocated by its constructor and dropped on purpose when
 * GStreamer's thousands of quarks outgrow it (lock-free readers may still
 * hold it); and webrtcechoprobe 1.22, which leaks the latency query it makes
 * for each latency event. */
const char *__lsan_default_suppressions (void);
const char *
__lsan_default_suppressions (void)
{
  return "leak:_dl_init\n"
         "leak:libgstwebrtcdsp.so\n";
}

typedef struct _Fixture Fixture;

typedef struct {
  Fixture *fixture;
  char *name;
  guint freq;
  char *wav;
  VoipdMediaCall *call;
  gint64 started;             /* when the call (and its WAV) started */
  GHashTable *states;         /* peer → VoipdMediaPeerState */
  GHashTable *paths;          /* peer → path */
  gint64 connect_begin;
  GHashTable *connect_ms;     /* peer → ms from add_peer to CONNECTED */
  guint connected_ms;         /* from started to the first CONNECTED peer, or 0 */
} Party;

struct _Fixture {
  char *dir;
  Party parties[MAX_PARTIES];
  guint n_parties;
  gboolean allow_relay;
  gboolean drop_candidates;   /* ICE cannot succeed */
  gboolean echo_cancellation; /* for the parties added next */
  const char *stun_host;      /* for the parties added next */
  const char *sink;           /* for the parties added next, instead of a WAV file */
  guint relayed;              /* packets that went through relay_out */
  guint relay_jitter_ms;      /* relayed packets are late by 0 to this, at random */
};

typedef struct {
  Fixture *fixture;
  char *to;
  char *from;
  guint kind;
  char *data;
  GBytes *packet;
} Delivery;

static Party *
find_party (Fixture *fixture, const char *name)
{
  for (guint i = 0; i < fixture->n_parties; i++)
    if (g_str_equal (fixture->parties[i].name, name))
      return &fixture->parties[i];
  return NULL;
}

static void
delivery_free (Delivery *delivery)
{
  g_free (delivery->to);
  g_free (delivery->from);
  g_free (delivery->data);
  g_clear_pointer (&delivery->packet, g_bytes_unref);
  g_free (delivery);
}

/* Like voipd and the server: later, on the main context, and only to a call
 * that still exists. */
static gboolean
deliver (gpointer data)
{
  Delivery *delivery = data;
  Party *to = find_party (delivery->fixture, delivery->to);

  if (to && to->call)
    {
      if (delivery->packet)
        api->relay_in (to->call, delivery->from, delivery->packet);
      else
        api->signal_in (to->call, delivery->from, delivery->kind, delivery->data);
    }
  return G_SOURCE_REMOVE;
}

static void
post_delivery (Party *from, const char *to, guint kind, const char *text, GBytes *packet)
{
  Delivery *delivery = g_new0 (Delivery, 1);

  delivery->fixture = from->fixture;
  delivery->to = g_strdup (to);
  delivery->from = g_strdup (from->name);
  delivery->kind = kind;
  delivery->data = g_strdup (text);
  delivery->packet = packet ? g_bytes_ref (packet) : NULL;
  if (packet && from->fixture->relay_jitter_ms)
    g_timeout_add_full (G_PRIORITY_DEFAULT,
                        g_random_int_range (0, from->fixture->relay_jitter_ms + 1), deliver,
                        delivery, (GDestroyNotify) delivery_free);
  else
    g_idle_add_full (G_PRIORITY_DEFAULT, deliver, delivery, (GDestroyNotify) delivery_free);
}

static void
on_signal_out (gpointer user_data, const char *peer, guint kind, const char *data)
{
  Party *party = user_data;

  g_assert_cmpuint (kind, >=, VOIP_CALL_SIGNAL_CREDENTIALS);
  g_assert_cmpuint (kind, <=, VOIP_CALL_SIGNAL_LAST);
  if (kind == VOIP_CALL_SIGNAL_CANDIDATE && party->fixture->drop_candidates)
    return;
  post_delivery (party, peer, kind, data, NULL);
}

static void
on_relay_out (gpointer user_data, const char *peer, GBytes *packet)
{
  Party *party = user_data;

  g_assert_true (party->fixture->allow_relay);
  party->fixture->relayed++;
  post_delivery (party, peer, 0, NULL, packet);
}

static void
on_peer_state (gpointer user_data, const char *peer, VoipdMediaPeerState state,
               const char *path)
{
  Party *party = user_data;

  g_test_message ("%s: %s is %s (%s)", party->name, peer,
                  state == VOIPD_MEDIA_PEER_CONNECTED ? "connected"
                  : state == VOIPD_MEDIA_PEER_FAILED ? "failed" : "connecting",
                  path ? path : "-");
  g_hash_table_insert (party->states, g_strdup (peer), GUINT_TO_POINTER (state));
  g_hash_table_insert (party->paths, g_strdup (peer), g_strdup (path ? path : ""));
  if (state == VOIPD_MEDIA_PEER_CONNECTED && party->connected_ms == 0)
    party->connected_ms = MAX (1, (g_get_monotonic_time () - party->started) / 1000);
  if (state == VOIPD_MEDIA_PEER_CONNECTED && !g_hash_table_contains (party->connect_ms, peer))
    g_hash_table_insert (party->connect_ms, g_strdup (peer),
                         GINT_TO_POINTER ((g_get_monotonic_time () - party->connect_begin) / 1000));
}

static const VoipdMediaCallbacks callbacks = { on_signal_out, on_relay_out, on_peer_state };

static Party *
add_party (Fixture *fixture, const char *name, guint freq)
{
  Party *party = &fixture->parties[fixture->n_parties++];
  /* 10 ms buffers, as a microphone gives them. */
  g_autofree char *source = g_strdup_printf ("audiotestsrc freq=%u is-live=true wave=sine volume=0.5 "
                                             "samplesperbuffer=480", freq);
  g_autofree char *sink = NULL;
  g_autoptr(GError) error = NULL;
  VoipdMediaConfig config = { 0 };
  VoipdMediaServer stun = { (char *) fixture->stun_host, 3478, NULL, NULL };

  party->fixture = fixture;
  party->name = g_strdup (name);
  party->freq = freq;
  party->wav = g_strdup_printf ("%s/%s.wav", fixture->dir, name);
  party->states = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  party->paths = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  party->connect_ms = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  sink = fixture->sink ? g_strdup (fixture->sink)
                       : g_strdup_printf ("wavenc ! filesink location=%s", party->wav);

  config.audio_source = source;
  config.audio_sink = sink;
  config.allow_server_relay = fixture->allow_relay;
  config.echo_cancellation = fixture->echo_cancellation;
  if (fixture->stun_host)
    {
      config.stun = &stun;
      config.n_stun = 1;
    }
  party->call = api->call_new (&config, &callbacks, party, &error);
  g_assert_no_error (error);
  g_assert_nonnull (party->call);
  party->started = g_get_monotonic_time ();
  return party;
}

static void
free_call (Party *party)
{
  g_clear_pointer (&party->call, api->call_free);
}

static void
fixture_set_up (Fixture *fixture, gconstpointer data)
{
  fixture->dir = g_dir_make_tmp ("test-media-XXXXXX", NULL);
  g_assert_nonnull (fixture->dir);
}

static void
fixture_tear_down (Fixture *fixture, gconstpointer data)
{
  for (guint i = 0; i < fixture->n_parties; i++)
    free_call (&fixture->parties[i]);
  /* Deliveries still queued find no call and go. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  for (guint i = 0; i < fixture->n_parties; i++)
    {
      Party *party = &fixture->parties[i];

      if (!g_getenv ("TEST_MEDIA_KEEP"))
        g_unlink (party->wav);
      g_free (party->wav);
      g_free (party->name);
      g_hash_table_unref (party->states);
      g_hash_table_unref (party->paths);
      g_hash_table_unref (party->connect_ms);
    }
  if (!g_getenv ("TEST_MEDIA_KEEP"))
    g_rmdir (fixture->dir);
  g_free (fixture->dir);
}

static void run_for (guint ms);

/* a controls; b adds a only after delay_ms, so that a's signals wait in b's
 * call for their peer (as when the callee answers later). */
static void
connect_parties_after (Party *a, Party *b, guint delay_ms)
{
  g_autoptr(GError) error = NULL;

  a->connect_begin = b->connect_begin = g_get_monotonic_time ();
  g_assert_true (api->add_peer (a->call, b->name, TRUE, &error));
  g_assert_no_error (error);
  if (delay_ms)
    run_for (delay_ms);
  g_assert_true (api->add_peer (b->call, a->name, FALSE, &error));
  g_assert_no_error (error);
  g_assert_false (api->add_peer (b->call, a->name, FALSE, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS);
}

static void
connect_parties (Party *a, Party *b)
{
  connect_parties_after (a, b, 0);
}

static gboolean
on_limit (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

static gboolean
is_connected (Party *party, const char *peer)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (party->states, peer)) == VOIPD_MEDIA_PEER_CONNECTED;
}

static gboolean
all_connected (Fixture *fixture)
{
  for (guint i = 0; i < fixture->n_parties; i++)
    for (guint j = 0; j < fixture->n_parties; j++)
      if (i != j && !is_connected (&fixture->parties[i], fixture->parties[j].name))
        return FALSE;
  return TRUE;
}

static void
wait_all_connected (Fixture *fixture, const char *expected_path)
{
  gboolean expired = FALSE;
  guint limit = g_timeout_add_seconds (CONNECT_LIMIT_S, on_limit, &expired);

  while (!all_connected (fixture) && !expired)
    g_main_context_iteration (NULL, TRUE);
  if (expired)
    g_test_fail_printf ("not all connected within %d s", CONNECT_LIMIT_S);
  else
    g_source_remove (limit);
  g_assert_false (expired);

  for (guint i = 0; i < fixture->n_parties; i++)
    for (guint j = 0; j < fixture->n_parties; j++)
      if (i != j)
        {
          Party *party = &fixture->parties[i];
          const char *peer = fixture->parties[j].name;

          g_assert_cmpstr (g_hash_table_lookup (party->paths, peer), ==, expected_path);
          g_test_message ("%s -> %s: CONNECTED (%s) %d ms after add_peer", party->name, peer,
                          expected_path, GPOINTER_TO_INT (g_hash_table_lookup (party->connect_ms, peer)));
        }
}

static void
run_for (guint ms)
{
  gboolean expired = FALSE;

  g_timeout_add (ms, on_limit, &expired);
  while (!expired)
    g_main_context_iteration (NULL, TRUE);
}

static guint64 packets_from (Party *party, const char *peer);

typedef gboolean (*Condition) (Fixture *fixture, gconstpointer data);

static gboolean
on_poll (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

/* Runs the main loop until condition holds, looking every POLL_MS (the
 * Stats it reads are not free), at most AUDIO_LIMIT_S: on a loaded machine
 * audio takes longer to flow, never a fixed time. */
static void
wait_until (Fixture *fixture, Condition condition, gconstpointer data, const char *what)
{
  gboolean expired = FALSE;
  guint limit = g_timeout_add_seconds (AUDIO_LIMIT_S, on_limit, &expired);
  guint poll = g_timeout_add (POLL_MS, on_poll, NULL);

  while (!condition (fixture, data) && !expired)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (poll);
  if (expired)
    g_test_fail_printf ("%s: not within %d s", what, AUDIO_LIMIT_S);
  else
    g_source_remove (limit);
  g_assert_false (expired);
}

typedef struct {
  Party *party;
  const char *peer;
  guint64 packets;
} PacketGoal;

static gboolean
has_packets (Fixture *fixture, gconstpointer data)
{
  const PacketGoal *goal = data;

  return packets_from (goal->party, goal->peer) >= goal->packets;
}

/* Until party has received packets (in all) from peer. */
static void
wait_packets (Party *party, const char *peer, guint64 packets)
{
  PacketGoal goal = { party, peer, packets };
  g_autofree char *what = g_strdup_printf ("%s receiving %" G_GUINT64_FORMAT " packets from %s",
                                           party->name, packets, peer);

  wait_until (party->fixture, has_packets, &goal, what);
}

static gboolean
all_have_packets (Fixture *fixture, gconstpointer data)
{
  guint64 packets = *(const guint64 *) data;

  for (guint i = 0; i < fixture->n_parties; i++)
    for (guint j = 0; j < fixture->n_parties; j++)
      if (i != j && fixture->parties[i].call
          && packets_from (&fixture->parties[i], fixture->parties[j].name) < packets)
        return FALSE;
  return TRUE;
}

/* Until every party has received AUDIO_PACKETS from every other. */
static void
wait_audio (Fixture *fixture)
{
  guint64 packets = AUDIO_PACKETS;

  if (g_getenv ("TEST_MEDIA_MS"))
    packets = MAX (1, atoi (g_getenv ("TEST_MEDIA_MS")) / 20);
  wait_until (fixture, all_have_packets, &packets, "audio flowing between all parties");
}

/* Where the WAV's audio from the peers starts being worth analyzing. */
static guint
heard_from (Party *party)
{
  return party->connected_ms + SETTLE_MS;
}

static guint
elapsed_ms (Party *party)
{
  return (g_get_monotonic_time () - party->started) / 1000;
}

/* What a party heard, from skip_ms on. */
static GHashTable *
analyze (Party *party, guint skip_ms, const guint *freqs, guint n_freqs)
{
  g_test_message ("%s hears:", party->name);
  return tone_analyze (party->wav, skip_ms, freqs, n_freqs);
}

static guint64
packets_from (Party *party, const char *peer)
{
  g_autoptr(GVariant) stats = g_variant_ref_sink (api->get_stats (party->call));
  g_autoptr(GVariant) entry = g_variant_lookup_value (stats, peer, G_VARIANT_TYPE_VARDICT);
  guint64 packets = 0;

  g_assert_nonnull (entry);
  g_assert_true (g_variant_lookup (entry, "packets-received", "t", &packets));
  return packets;
}

static void
check_stats (Party *party, const char *peer, const char *path)
{
  g_autoptr(GVariant) stats = g_variant_ref_sink (api->get_stats (party->call));
  g_autoptr(GVariant) entry = g_variant_lookup_value (stats, peer, G_VARIANT_TYPE_VARDICT);
  const char *doubles[] = { "rtt-ms", "loss-percent", "jitter-ms", "send-kbps", "receive-kbps",
                            "jitter-buffer-ms" };
  const char *actual_path = NULL;
  guint64 packets = 0;
  double value[G_N_ELEMENTS (doubles)];

  g_assert_nonnull (entry);
  g_assert_true (g_variant_lookup (entry, "path", "&s", &actual_path));
  g_assert_cmpstr (actual_path, ==, path);
  g_assert_true (g_variant_lookup (entry, "packets-received", "t", &packets));
  for (guint i = 0; i < G_N_ELEMENTS (doubles); i++)
    {
      g_assert_true (g_variant_lookup (entry, doubles[i], "d", &value[i]));
      g_assert_cmpfloat (value[i], >=, 0);
    }
  g_test_message ("%s <- %s: path=%s packets=%" G_GUINT64_FORMAT " rtt=%.2f ms loss=%.1f%% "
                  "jitter=%.2f ms send=%.1f kb/s receive=%.1f kb/s jitter buffer %.0f ms",
                  party->name, peer, actual_path, packets, value[0], value[1], value[2], value[3],
                  value[4], value[5]);
  g_assert_cmpuint (packets, >, 0);
  /* At least one Opus frame, at most the engine's limit. */
  g_assert_cmpfloat (value[5], >=, 20);
  g_assert_cmpfloat (value[5], <=, 200);
  g_assert_cmpfloat (value[3], >, 5);   /* ~32 kb/s of Opus plus RTP and SRTP */
  g_assert_cmpfloat (value[4], >, 5);
}

/* call_free let the sink finish: wavenc rewrote the sizes in the header. */
static void
assert_wav_complete (Party *party)
{
  g_autofree char *contents = NULL;
  gsize size = 0;
  guint32 riff_size;

  g_assert_true (g_file_get_contents (party->wav, &contents, &size, NULL));
  g_assert_cmpuint (size, >, 44);
  memcpy (&riff_size, contents + 4, sizeof riff_size);
  g_assert_cmpuint (GUINT32_FROM_LE (riff_size), ==, size - 8);
}

static void
assert_hears (Party *party, guint skip_ms, guint freq)
{
  g_autoptr(GHashTable) values = NULL;

  assert_wav_complete (party);
  values = analyze (party, skip_ms, &freq, 1);

  g_assert_cmpfloat_with_epsilon (tone_value (values, "dominant_hz"), freq, 5);
  /* Clean audio gives 0.99; dropouts on a busy machine spread the power. */
  g_assert_cmpfloat (tone_power (values, freq), >, 0.3);
}

/* --- the cases ------------------------------------------------------------ */

static void
test_basic (Fixture *fixture, gconstpointer data)
{
  Party *alice = add_party (fixture, "alice", 440);
  Party *bob = add_party (fixture, "bob", 880);

  connect_parties (alice, bob);
  wait_all_connected (fixture, "host");
  wait_audio (fixture);
  check_stats (alice, "bob", "host");
  check_stats (bob, "alice", "host");
  free_call (alice);
  free_call (bob);
  g_assert_cmpuint (fixture->relayed, ==, 0);

  assert_hears (alice, heard_from (alice), 880);
  assert_hears (bob, heard_from (bob), 440);
}

static gboolean
sends_little (Fixture *fixture, gconstpointer data)
{
  Party *party = (Party *) data;
  g_autoptr(GVariant) stats = g_variant_ref_sink (api->get_stats (party->call));
  g_autoptr(GVariant) entry = g_variant_lookup_value (stats, "bob", G_VARIANT_TYPE_VARDICT);
  double kbps = 100;

  g_assert_nonnull (entry);
  g_assert_true (g_variant_lookup (entry, "send-kbps", "d", &kbps));
  return kbps < 8;
}

static void
test_mute (Fixture *fixture, gconstpointer data)
{
  Party *alice = add_party (fixture, "alice", 440);
  Party *bob = add_party (fixture, "bob", 880);
  guint64 before, muted_at;
  g_autoptr(GHashTable) values = NULL;
  guint freq = 440;

  connect_parties_after (alice, bob, 300);
  wait_all_connected (fixture, "host");
  wait_packets (alice, "bob", AUDIO_PACKETS / 2);
  api->set_muted (alice->call, TRUE);
  muted_at = elapsed_ms (bob);
  before = packets_from (bob, "alice");
  /* Silence, not nothing: with DTX a comfort-noise frame every 400 ms,
   * about 1 kb/s with RTCP where speech takes 37. */
  wait_packets (bob, "alice", before + 3);
  wait_until (fixture, sends_little, alice, "alice sending less than 8 kb/s while muted");
  wait_packets (alice, "bob", packets_from (alice, "bob") + AUDIO_PACKETS / 2);
  free_call (alice);
  free_call (bob);

  values = analyze (bob, muted_at + SETTLE_MS, &freq, 1);
  g_assert_cmpfloat (tone_value (values, "rms"), <, 0.01);
  assert_hears (alice, heard_from (alice), 880);
}

/* A steady tone for longer than Opus's voice detector needs to call it
 * background noise (a second or two), through the defaults' echo canceller
 * and noise suppressor as the demo's tones go: it must keep arriving, as
 * music would, and not turn into DTX's comfort noise. The last seconds are
 * what is checked. */
#define STEADY_PACKETS 300    /* 6 s */
#define STEADY_CHECKED_MS 2000

static void
test_steady_tone (Fixture *fixture, gconstpointer data)
{
  Party *alice, *bob;
  guint64 checked_from;

  fixture->echo_cancellation = TRUE;
  alice = add_party (fixture, "alice", 440);
  bob = add_party (fixture, "bob", 880);

  connect_parties (alice, bob);
  wait_all_connected (fixture, "host");
  wait_packets (bob, "alice", STEADY_PACKETS);
  wait_packets (alice, "bob", STEADY_PACKETS);
  checked_from = elapsed_ms (bob) - STEADY_CHECKED_MS;
  free_call (alice);
  free_call (bob);

  assert_hears (bob, checked_from, 440);
  assert_hears (alice, checked_from, 880);
}

static void
test_server_relay (Fixture *fixture, gconstpointer data)
{
  Party *alice, *bob;

  fixture->allow_relay = TRUE;
  g_setenv ("VOIPD_MEDIA_FORCE_RELAY", "1", TRUE);
  alice = add_party (fixture, "alice", 440);
  bob = add_party (fixture, "bob", 880);
  g_unsetenv ("VOIPD_MEDIA_FORCE_RELAY");

  connect_parties (alice, bob);
  wait_all_connected (fixture, "server-relay");
  wait_audio (fixture);
  check_stats (alice, "bob", "server-relay");
  check_stats (bob, "alice", "server-relay");
  free_call (alice);
  free_call (bob);
  g_assert_cmpuint (fixture->relayed, >, 100);

  assert_hears (alice, heard_from (alice), 880);
  assert_hears (bob, heard_from (bob), 440);
}

static double
jitter_buffer_ms (Party *party, const char *peer)
{
  g_autoptr(GVariant) stats = g_variant_ref_sink (api->get_stats (party->call));
  g_autoptr(GVariant) entry = g_variant_lookup_value (stats, peer, G_VARIANT_TYPE_VARDICT);
  double ms = 0;

  g_assert_nonnull (entry);
  g_assert_true (g_variant_lookup (entry, "jitter-buffer-ms", "d", &ms));
  return ms;
}

typedef struct {
  Party *party;
  const char *peer;
  double at_least;
  double at_most;
} DepthGoal;

static gboolean
has_depth (Fixture *fixture, gconstpointer data)
{
  const DepthGoal *goal = data;
  double ms = jitter_buffer_ms (goal->party, goal->peer);

  return ms >= goal->at_least && ms <= goal->at_most;
}

/* The jitter buffer follows the network: relayed packets arrive up to 120 ms
 * late (and out of order), and it grows; they arrive at once again, and it
 * comes back down. The relay goes through this main loop, which a loaded
 * machine (ASan, other builds) makes jittery too: the figures are relative
 * to where the buffer stood before. */
static void
test_adaptive_jitter (Fixture *fixture, gconstpointer data)
{
  Party *alice, *bob;
  DepthGoal grown, calm;
  double before, peak;

  fixture->allow_relay = TRUE;
  g_setenv ("VOIPD_MEDIA_FORCE_RELAY", "1", TRUE);
  alice = add_party (fixture, "alice", 440);
  bob = add_party (fixture, "bob", 880);
  g_unsetenv ("VOIPD_MEDIA_FORCE_RELAY");

  connect_parties (alice, bob);
  wait_all_connected (fixture, "server-relay");
  wait_packets (bob, "alice", AUDIO_PACKETS / 2);
  before = jitter_buffer_ms (bob, "alice");
  g_test_message ("bob's jitter buffer for alice before: %.0f ms", before);

  fixture->relay_jitter_ms = 120;
  grown = (DepthGoal) { bob, "alice", MIN (200, MAX (60, before + 40)), 200 };
  wait_until (fixture, has_depth, &grown, "bob's jitter buffer growing by 40 ms or more");
  peak = jitter_buffer_ms (bob, "alice");
  g_test_message ("with 0-120 ms of jitter: %.0f ms", peak);

  fixture->relay_jitter_ms = 0;
  calm = (DepthGoal) { bob, "alice", 20, peak - 30 };
  wait_until (fixture, has_depth, &calm, "bob's jitter buffer shrinking by 30 ms or more");
  g_test_message ("calm again: %.0f ms", jitter_buffer_ms (bob, "alice"));
  check_stats (bob, "alice", "server-relay");
  free_call (alice);
  free_call (bob);
  assert_hears (bob, heard_from (bob), 440);
}

static void
test_mesh (Fixture *fixture, gconstpointer data)
{
  guint freqs[] = { 440, 660, 880 };
  const char *names[] = { "alice", "bob", "carol" };

  for (guint i = 0; i < 3; i++)
    add_party (fixture, names[i], freqs[i]);
  /* Whoever joined first controls. */
  connect_parties (&fixture->parties[0], &fixture->parties[1]);
  connect_parties (&fixture->parties[0], &fixture->parties[2]);
  connect_parties (&fixture->parties[1], &fixture->parties[2]);
  wait_all_connected (fixture, "host");
  wait_audio (fixture);
  for (guint i = 0; i < 3; i++)
    free_call (&fixture->parties[i]);

  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(GHashTable) values = analyze (&fixture->parties[i],
                                              heard_from (&fixture->parties[i]), freqs, 3);

      for (guint j = 0; j < 3; j++)
        if (i == j)
          g_assert_cmpfloat (tone_power (values, freqs[j]), <, 0.02);
        else
          g_assert_cmpfloat (tone_power (values, freqs[j]), >, 0.2);
    }
}

static void
test_remove_peer (Fixture *fixture, gconstpointer data)
{
  Party *alice = add_party (fixture, "alice", 440);
  Party *bob = add_party (fixture, "bob", 660);
  Party *carol = add_party (fixture, "carol", 880);
  g_autoptr(GVariant) stats = NULL;
  g_autoptr(GHashTable) values = NULL;
  guint freqs[] = { 660, 880 };
  guint removed_at;
  guint64 before;

  connect_parties (alice, bob);
  connect_parties (alice, carol);
  connect_parties (bob, carol);
  wait_all_connected (fixture, "host");
  wait_packets (alice, "carol", AUDIO_PACKETS / 2);

  /* Carol hangs up: everyone drops her, she drops everyone. */
  api->remove_peer (alice->call, "carol");
  api->remove_peer (bob->call, "carol");
  api->remove_peer (carol->call, "alice");
  api->remove_peer (carol->call, "bob");
  api->remove_peer (alice->call, "nobody");
  removed_at = elapsed_ms (alice);
  stats = g_variant_ref_sink (api->get_stats (alice->call));
  g_assert_cmpuint (g_variant_n_children (stats), ==, 1);
  before = packets_from (alice, "bob");
  wait_packets (alice, "bob", before + AUDIO_PACKETS);
  check_stats (alice, "bob", "host");
  for (guint i = 0; i < 3; i++)
    free_call (&fixture->parties[i]);

  values = analyze (alice, removed_at + 300, freqs, 2);
  g_assert_cmpfloat_with_epsilon (tone_value (values, "dominant_hz"), 660, 5);
  g_assert_cmpfloat (tone_power (values, 660), >, 0.5);
  g_assert_cmpfloat (tone_power (values, 880), <, 0.02);
}

/* ICE cannot work (no candidate gets through): both sides end up on the
 * server relay, through ICE failure or the engine's time limit. */
static void
test_ice_failure_relay (Fixture *fixture, gconstpointer data)
{
  Party *alice, *bob;

  fixture->allow_relay = TRUE;
  fixture->drop_candidates = TRUE;
  alice = add_party (fixture, "alice", 440);
  bob = add_party (fixture, "bob", 880);
  connect_parties (alice, bob);
  wait_all_connected (fixture, "server-relay");
  wait_packets (alice, "bob", AUDIO_PACKETS);
  check_stats (alice, "bob", "server-relay");
  free_call (alice);
  free_call (bob);
  assert_hears (alice, heard_from (alice), 880);
}

static gboolean
any_failed (Fixture *fixture)
{
  for (guint i = 0; i < fixture->n_parties; i++)
    {
      GHashTableIter iter;
      gpointer state;

      g_hash_table_iter_init (&iter, fixture->parties[i].states);
      while (g_hash_table_iter_next (&iter, NULL, &state))
        if (GPOINTER_TO_UINT (state) == VOIPD_MEDIA_PEER_FAILED)
          return TRUE;
    }
  return FALSE;
}

/* The same without the relay: the peer is reported FAILED. */
static void
test_ice_failure_no_relay (Fixture *fixture, gconstpointer data)
{
  gboolean expired = FALSE;
  guint limit;

  fixture->drop_candidates = TRUE;
  connect_parties (add_party (fixture, "alice", 440), add_party (fixture, "bob", 880));
  limit = g_timeout_add_seconds (CONNECT_LIMIT_S, on_limit, &expired);
  while (!any_failed (fixture) && !expired)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (expired);
  g_source_remove (limit);
  g_assert_cmpuint (fixture->relayed, ==, 0);
}

/* A STUN server given by name (resolved on the media thread) that does not
 * answer: host candidates still connect. */
static void
test_stun_by_name (Fixture *fixture, gconstpointer data)
{
  Party *alice, *bob;

  fixture->stun_host = "localhost";
  alice = add_party (fixture, "alice", 440);
  bob = add_party (fixture, "bob", 880);
  connect_parties (alice, bob);
  wait_all_connected (fixture, "host");
  wait_packets (alice, "bob", AUDIO_PACKETS);
  free_call (alice);
  free_call (bob);
  assert_hears (alice, heard_from (alice), 880);
}

/* With webrtcdsp and its echo probe in place, audio still flows. */
static void
test_echo_cancellation (Fixture *fixture, gconstpointer data)
{
  Party *alice, *bob;
  g_autoptr(GHashTable) values = NULL;
  guint freq = 880;

  fixture->echo_cancellation = TRUE;
  alice = add_party (fixture, "alice", 440);
  bob = add_party (fixture, "bob", 880);
  connect_parties (alice, bob);
  wait_all_connected (fixture, "host");
  wait_packets (alice, "bob", AUDIO_PACKETS);
  free_call (alice);
  free_call (bob);
  assert_wav_complete (alice);
  values = analyze (alice, heard_from (alice), &freq, 1);
  g_assert_cmpfloat (tone_value (values, "rms"), >, 0.001);
}

/* Mouth to ear: bob plays into a UDP socket in real time (sync=true, as an
 * audio device would); alice unmutes; how long until bob's sink plays her?
 * Reported, not asserted beyond a sanity bound (the machine may be busy). */
static void
test_latency (Fixture *fixture, gconstpointer data)
{
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                                            G_SOCKET_PROTOCOL_UDP, NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autofree char *sink = NULL;
  Party *alice, *bob;
  gint64 unmuted, heard = 0;

  g_assert_true (g_socket_bind (socket, any, FALSE, NULL));
  bound = g_socket_get_local_address (socket, NULL);
  g_socket_set_blocking (socket, FALSE);
  alice = add_party (fixture, "alice", 440);
  api->set_muted (alice->call, TRUE);
  sink = g_strdup_printf ("udpsink host=127.0.0.1 port=%u sync=true",
                          g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  fixture->sink = sink;
  bob = add_party (fixture, "bob", 880);
  fixture->sink = NULL;
  connect_parties (alice, bob);
  wait_all_connected (fixture, "host");
  /* Audio flows, and bob's jitter buffer for alice runs (muted, she sends
   * DTX frames). */
  wait_packets (alice, "bob", AUDIO_PACKETS / 2);
  wait_packets (bob, "alice", 2);

  unmuted = g_get_monotonic_time ();
  api->set_muted (alice->call, FALSE);
  while (!heard && g_get_monotonic_time () - unmuted < 5 * G_TIME_SPAN_SECOND)
    {
      gint16 samples[4096];
      gssize size;

      while (g_main_context_iteration (NULL, FALSE))
        ;
      while (!heard && (size = g_socket_receive (socket, (char *) samples, sizeof samples,
                                                 NULL, NULL)) > 0)
        for (gssize i = 0; i < size / 2; i++)
          if (ABS (samples[i]) > 3000)
            heard = g_get_monotonic_time ();
      g_usleep (500);
    }
  g_assert_cmpint (heard, >, 0);
  g_test_message ("mouth to ear (unmute to bob's real-time sink): %.1f ms",
                  (heard - unmuted) / 1000.0);
  if (g_getenv ("TEST_MEDIA_LATENCY_FILE"))
    {
      g_autofree char *line = g_strdup_printf ("%.1f\n", (heard - unmuted) / 1000.0);

      g_file_set_contents (g_getenv ("TEST_MEDIA_LATENCY_FILE"), line, -1, NULL);
    }
  g_assert_cmpint (heard - unmuted, <, 1000 * 1000);
}

static void
test_bad_source (void)
{
  VoipdMediaConfig config = { .audio_source = "nosuchelement", .audio_sink = "fakesink" };
  g_autoptr(GError) error = NULL;

  g_assert_null (api->call_new (&config, &callbacks, NULL, &error));
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
}

int
main (int argc, char **argv)
{
  const char *path = g_getenv ("VOIPD_MEDIA_MODULE");
  GModule *module;
  VoipdMediaGetApi get_api = NULL;

  g_test_init (&argc, &argv, NULL);
  /* Both are part of the build: a media test that cannot load the engine or
   * hear its audio fails rather than skips. */
  if (!path || !tone_analyzer_available ())
    g_error ("VOIPD_MEDIA_MODULE and TONE_ANALYZE must name the media module and tone-analyze "
             "(run the test through meson test)");
  module = g_module_open (path, G_MODULE_BIND_LAZY | G_MODULE_BIND_LOCAL);
  if (!module || !g_module_symbol (module, VOIPD_MEDIA_MODULE_SYMBOL, (gpointer *) &get_api))
    g_error ("Cannot load %s: %s", path, g_module_error ());
  api = get_api ();
  g_assert_cmpuint (api->version, ==, VOIPD_MEDIA_API_VERSION);
  /* Host candidates on loopback only: fast and independent of the network. */
  if (!g_getenv ("VOIPD_MEDIA_LOCAL_ADDRESSES"))
    g_setenv ("VOIPD_MEDIA_LOCAL_ADDRESSES", "127.0.0.1", TRUE);

  g_test_add ("/media/basic", Fixture, NULL, fixture_set_up, test_basic, fixture_tear_down);
  g_test_add ("/media/mute", Fixture, NULL, fixture_set_up, test_mute, fixture_tear_down);
  g_test_add ("/media/steady-tone", Fixture, NULL, fixture_set_up, test_steady_tone,
              fixture_tear_down);
  g_test_add ("/media/server-relay", Fixture, NULL, fixture_set_up, test_server_relay,
              fixture_tear_down);
  g_test_add ("/media/adaptive-jitter", Fixture, NULL, fixture_set_up, test_adaptive_jitter,
              fixture_tear_down);
  g_test_add ("/media/mesh", Fixture, NULL, fixture_set_up, test_mesh, fixture_tear_down);
  g_test_add ("/media/remove-peer", Fixture, NULL, fixture_set_up, test_remove_peer,
              fixture_tear_down);
  g_test_add ("/media/ice-failure-relay", Fixture, NULL, fixture_set_up,
              test_ice_failure_relay, fixture_tear_down);
  g_test_add ("/media/ice-failure-no-relay", Fixture, NULL, fixture_set_up,
              test_ice_failure_no_relay, fixture_tear_down);
  g_test_add ("/media/stun-by-name", Fixture, NULL, fixture_set_up, test_stun_by_name,
              fixture_tear_down);
  g_test_add ("/media/echo-cancellation", Fixture, NULL, fixture_set_up,
              test_echo_cancellation, fixture_tear_down);
  g_test_add ("/media/latency", Fixture, NULL, fixture_set_up, test_latency,
              fixture_tear_down);
  g_test_add_func ("/media/bad-source", test_bad_source);
  return g_test_run ();
}
