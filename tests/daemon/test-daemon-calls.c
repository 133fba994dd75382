/* test-daemon-calls.c — voice calls between real daemons, through voipctl and
 * D-Bus: a 1:1 call from ringing to hang-up with real audio (each user's
 * microphone is a test tone, each speaker a WAV file, and the received
 * frequency is measured), the refusals (reject, busy, offline, not a friend,
 * yourself, ring timeout), mute, a peer whose daemon dies, our own session
 * lost (logout, server gone), no media engine or a broken microphone, one
 * user on two desktops, a group call, and voipd keeping GStreamer and libnice out of
 * memory until the first call.
 *
 * alice's microphone plays 440 Hz, bob's 880 Hz, carol's 660 Hz; each hears
 * into $HOME/received.wav. Waits are generous and nothing asserts on time. */
#include <signal.h>
#include <string.h>

#include "daemon-fixture.h"
#include "tone-report.h"

#define CALL_PATH_PREFIX TEST_VOIPD_PATH "/call/"
/* How far a received tone may be from the one sent. */
#define FREQ_TOLERANCE_HZ 5.0
/* The stretch of a WAV the audio checks look at: its end, well after any
 * change (mute, unmute) the test made seconds before. */
#define TAIL_MS 3000

/* ---- set-up ----------------------------------------------------------------- */

static guint
tone_of (const char *name)
{
  return g_str_equal (name, "alice") ? 440 : g_str_equal (name, "bob") ? 880 : 660;
}

static char *
received_wav (TestUser *user)
{
  return g_build_filename (test_user_get_home (user), "received.wav", NULL);
}

static void
configure_audio (TestUser *user)
{
  g_autofree char *wav = received_wav (user);
  g_autofree char *source = g_strdup_printf ("'audiotestsrc freq=%u is-live=true wave=sine volume=0.5'",
                                             tone_of (test_user_get_name (user)));
  g_autofree char *sink = g_strdup_printf ("'wavenc ! filesink location=%s'", wav);

  test_user_set_setting (user, "audio-source", source);
  test_user_set_setting (user, "audio-sink", sink);
  /* The canceller would treat a steady tone as noise to suppress. */
  test_user_set_setting (user, "echo-cancellation", "false");
}

static void
configure_short_ring (GKeyFile *config)
{
  g_key_file_set_integer (config, "calls", "ring-timeout", 1);
}

static const DaemonFixtureOptions call_options = { NULL, configure_audio };
static const DaemonFixtureOptions short_ring_options = { configure_short_ring, configure_audio };

/* ---- calls as voipctl lists them ------------------------------------------------ */

static guint64
start_call_at (const char *file, int line, TestUser *caller, const char *callee)
{
  g_autoptr(JsonNode) root = NULL;

  /* `voipctl --json call` prints {"id": N}. */
  if (g_str_has_prefix (callee, "--group "))
    root = test_user_voipctl_json_at (file, line, caller, "--json", "call", "--group",
                                      callee + strlen ("--group "), NULL);
  else
    root = test_user_voipctl_json_at (file, line, caller, "--json", "call", callee, NULL);
  if (test_json_get_int (test_json_object (root), "id") <= 0)
    g_assertion_message (G_LOG_DOMAIN, file, line, "start_call",
                         "voipctl call should print the call's id");
  return (guint64) test_json_get_int (test_json_object (root), "id");
}
#define start_call(caller, callee) start_call_at (__FILE__, __LINE__, (caller), (callee))

/* `voipctl calls --json`'s entry for the call (a new reference), or NULL. */
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
  const char *reason;   /* NULL: any */
  char       *last;
} CallWait;

static gboolean
check_call_state (TestUser *user, gpointer data)
{
  CallWait *wait = data;
  g_autoptr(JsonObject) call = find_call (user, wait->id);

  g_free (wait->last);
  wait->last = call != NULL ? g_strdup_printf ("%s (%s)", test_json_get_string (call, "state"),
                                               test_json_get_string (call, "reason"))
                            : g_strdup ("(no such call)");
  return call != NULL && g_str_equal (test_json_get_string (call, "state"), wait->state)
         && (wait->reason == NULL || g_str_equal (test_json_get_string (call, "reason"), wait->reason));
}

static void
wait_call_at (const char *file, int line, TestUser *user, guint64 id, const char *state,
              const char *reason)
{
  CallWait wait = { id, state, reason, NULL };

  if (!test_user_wait (user, TEST_USER_WAIT_MS, check_call_state, &wait))
    {
      g_autofree char *message = g_strdup_printf (
          "%s: call %" G_GUINT64_FORMAT " never became %s (%s); last: %s",
          test_user_get_name (user), id, state, reason ? reason : "any reason", wait.last);
      g_assertion_message (G_LOG_DOMAIN, file, line, "wait_call", message);
    }
  g_free (wait.last);
}
#define wait_call(user, id, state, reason) \
  wait_call_at (__FILE__, __LINE__, (user), (id), (state), (reason))

/* The peer's stats show a path and received packets. */
static gboolean
check_stats_flowing (TestUser *user, gpointer data)
{
  g_autoptr(JsonObject) call = find_call (user, *(guint64 *) data);
  JsonArray *stats;

  if (call == NULL)
    return FALSE;
  stats = test_json_get_array (call, "stats");
  for (guint i = 0; i < json_array_get_length (stats); i++)
    {
      JsonObject *peer = json_array_get_object_element (stats, i);

      if (*test_json_get_string (peer, "path") != '\0'
          && test_json_get_int (peer, "packets_received") > 0)
        return TRUE;
    }
  return FALSE;
}

static void
wait_stats_flowing (TestUser *user, guint64 id)
{
  if (!test_user_wait (user, TEST_USER_WAIT_MS, check_stats_flowing, &id))
    g_error ("%s: call %" G_GUINT64_FORMAT " never showed a path and packets",
             test_user_get_name (user), id);
}

static char *
call_path (guint64 id)
{
  return g_strdup_printf (CALL_PATH_PREFIX "%" G_GUINT64_FORMAT, id);
}

/* Audio for a few seconds: a pause for sound to accumulate, not a wait for
 * something to happen. */
static void
let_audio_flow (guint seconds)
{
  test_iterate_for (seconds * 1000);
}

/* ---- the audio ---------------------------------------------------------------------- */

typedef struct {
  double duration_ms;
  double rms;
  double dominant_hz;
  double power[2];      /* at the two frequencies asked for */
} ToneReport;

/* What tone-analyze hears in wav from skip_ms on, with the power at two
 * frequencies. The analyzer is part of the build: without it the test fails
 * (tone_analyze), since a call test that cannot hear its audio proves
 * nothing. */
static void
analyze (const char *wav, guint skip_ms, guint freq_a, guint freq_b, ToneReport *report)
{
  const guint freqs[] = { freq_a, freq_b };
  g_autoptr(GHashTable) values = NULL;

  values = tone_analyze (wav, skip_ms, freqs, G_N_ELEMENTS (freqs));
  report->duration_ms = tone_value (values, "duration_ms");
  report->rms = tone_value (values, "rms");
  report->dominant_hz = tone_value (values, "dominant_hz");
  report->power[0] = tone_power (values, freq_a);
  report->power[1] = tone_power (values, freq_b);
}

/* All of what `listener` received, and its end (the last TAIL_MS). */
static void
analyze_tail (TestUser *listener, guint freq_a, guint freq_b, ToneReport *whole,
              ToneReport *tail)
{
  g_autofree char *wav = received_wav (listener);

  analyze (wav, 0, freq_a, freq_b, whole);
  g_assert_cmpfloat (whole->duration_ms, >, TAIL_MS);
  analyze (wav, (guint) whole->duration_ms - TAIL_MS, freq_a, freq_b, tail);
}

/* `listener` heard `speaker`'s tone (after the first second of set-up). */
static void
assert_heard (TestUser *listener, TestUser *speaker)
{
  g_autofree char *wav = received_wav (listener);
  guint tone = tone_of (test_user_get_name (speaker));
  guint own = tone_of (test_user_get_name (listener));
  ToneReport report;

  analyze (wav, 1000, tone, own, &report);
  g_assert_cmpfloat_with_epsilon (report.dominant_hz, tone, FREQ_TOLERANCE_HZ);
  g_assert_cmpfloat (report.power[0], >, report.power[1]);
}

/* ---- GStreamer and libnice in a daemon's memory ------------------------------------------ */

static gboolean
daemon_maps (TestUser *user, const char *library)
{
  g_autofree char *maps_path = g_strdup_printf ("/proc/%d/maps",
                                                (int) test_user_get_daemon_pid (user));
  g_autofree char *maps = NULL;

  g_assert_true (g_file_get_contents (maps_path, &maps, NULL, NULL));
  return strstr (maps, library) != NULL;
}

/* ---- voipctl call --wait in the background ------------------------------------------------ */

typedef struct {
  GSubprocess *process;
  char        *out_path;
} Waiting;

static Waiting *
call_and_wait (TestUser *caller, const char *callee)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autoptr(GError) error = NULL;
  Waiting *waiting = g_new0 (Waiting, 1);

  waiting->out_path = g_build_filename (test_user_get_home (caller), "call-wait.out", NULL);
  g_subprocess_launcher_set_environ (launcher, (char **) test_user_get_environ (caller));
  g_subprocess_launcher_set_stdout_file_path (launcher, waiting->out_path);
  waiting->process = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("VOIPCTL"), "call",
                                                  callee, "--wait", NULL);
  g_assert_no_error (error);
  return waiting;
}

static char *
waiting_output (Waiting *waiting)
{
  char *out = NULL;

  if (!g_file_get_contents (waiting->out_path, &out, NULL, NULL))
    out = g_strdup ("");
  return out;
}

typedef struct {
  Waiting    *waiting;
  const char *needle;
} OutputWait;

static gboolean
check_output (TestUser *user, gpointer data)
{
  OutputWait *wait = data;
  g_autofree char *out = waiting_output (wait->waiting);

  return strstr (out, wait->needle) != NULL;
}

static void
waiting_wait_output (TestUser *user, Waiting *waiting, const char *needle)
{
  OutputWait wait = { waiting, needle };

  if (!test_user_wait (user, TEST_USER_WAIT_MS, check_output, &wait))
    {
      g_autofree char *out = waiting_output (waiting);
      g_error ("voipctl call --wait never printed '%s'; it printed:\n%s", needle, out);
    }
}

static gboolean
check_exited (TestUser *user, gpointer data)
{
  return g_subprocess_get_identifier (((Waiting *) data)->process) == NULL;
}

/* Waits for voipctl to exit and returns its exit status. */
static int
waiting_finish (TestUser *user, Waiting *waiting)
{
  g_autoptr(GError) error = NULL;

  if (!test_user_wait (user, TEST_USER_WAIT_MS, check_exited, waiting))
    g_error ("voipctl call --wait did not exit");
  g_subprocess_wait (waiting->process, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (waiting->process));
  return g_subprocess_get_exit_status (waiting->process);
}

static void
waiting_free (Waiting *waiting)
{
  if (g_subprocess_get_identifier (waiting->process) != NULL)
    g_subprocess_force_exit (waiting->process);
  g_object_unref (waiting->process);
  g_free (waiting->out_path);
  g_free (waiting);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Waiting, waiting_free)

/* ---- tests ------------------------------------------------------------------------------ */

/* The whole of a call: nothing of GStreamer or libnice in voipd before it;
 * alice calls, bob's daemon shows the call ringing (InterfacesAdded), bob
 * answers, both reach active with a path and packets in the stats, alice
 * hangs up, both end with reason hangup, and each heard the other's tone. */
static void
test_call_one_to_one (DaemonFixture *f, gconstpointer data)
{
  g_autoptr(TestSignals) bob_signals = NULL;
  g_autoptr(TestMonitor) bob_monitor = NULL;
  g_autoptr(GVariant) state = NULL;
  g_autoptr(GVariant) participants = NULL;
  g_autoptr(JsonObject) call = NULL;
  g_autofree char *path = NULL;
  g_autofree char *path_q = NULL;
  g_autofree char *id_text = NULL;
  JsonArray *stats;
  JsonObject *peer;
  guint64 id;

  test_user_befriend (f->alice, f->bob);
  for (guint i = 0; i < 2; i++)
    {
      TestUser *user = i == 0 ? f->alice : f->bob;

      g_assert_false (daemon_maps (user, "libgstreamer-1.0"));
      g_assert_false (daemon_maps (user, "libnice"));
    }
  bob_signals = test_user_watch_signals (f->bob);
  bob_monitor = test_user_monitor (f->bob);

  id = start_call (f->alice, "bob");
  path = call_path (id);
  path_q = g_strdup_printf ("'%s'", path);
  id_text = g_strdup_printf ("%" G_GUINT64_FORMAT, id);

  /* Incoming on bob's side: a new object, ringing, from alice. */
  g_free (test_signals_wait (bob_signals, "InterfacesAdded", TEST_VOIPD_PATH, path_q,
                             "'ringing'", "'incoming'", "'alice'"));
  g_free (test_monitor_wait (bob_monitor, "\"call-added\"", "\"ringing\"", "\"alice\""));
  state = test_user_get_property (f->bob, path, "Call", "State");
  g_assert_cmpstr (g_variant_get_string (state, NULL), ==, "ringing");
  participants = test_user_get_property (f->bob, path, "Call", "Participants");
  g_assert_true (g_variant_is_of_type (participants, G_VARIANT_TYPE ("a(ss)")));
  g_assert_cmpuint (g_variant_n_children (participants), ==, 1);   /* alice, not bob */
  call = find_call (f->alice, id);
  g_assert_nonnull (call);
  g_assert_cmpstr (test_json_get_string (call, "direction"), ==, "outgoing");
  g_assert_cmpstr (test_json_get_string (call, "state"), ==, "ringing");
  g_clear_pointer (&call, json_object_unref);

  /* bob answers (naming no call: the only ringing one). */
  g_free (voipctl_ok (f->bob, "answer"));
  wait_call (f->bob, id, "active", "answered");
  wait_call (f->alice, id, "active", "answered");
  g_free (test_monitor_wait (bob_monitor, "\"property-changed\"", "\"state\"", "\"active\""));
  /* The real engine now is (a module given in VOIPD_MEDIA_MODULE may be a stand-in). */
  if (g_getenv ("VOIPD_MEDIA_MODULE") == NULL)
    g_assert_true (daemon_maps (f->alice, "libgstreamer-1.0"));
  wait_stats_flowing (f->alice, id);
  wait_stats_flowing (f->bob, id);
  call = find_call (f->bob, id);
  g_assert_cmpint (test_json_get_int (call, "start_time"), >, 0);
  stats = test_json_get_array (call, "stats");
  g_assert_cmpuint (json_array_get_length (stats), ==, 1);
  peer = json_array_get_object_element (stats, 0);
  g_assert_cmpstr (test_json_get_string (peer, "peer"), ==, "alice");
  g_assert_cmpstr (test_json_get_string (peer, "path"), ==, "host");   /* both on loopback */
  g_clear_pointer (&call, json_object_unref);
  let_audio_flow (3);

  g_free (voipctl_ok (f->alice, "hangup", id_text));
  wait_call (f->alice, id, "ended", "hangup");
  wait_call (f->bob, id, "ended", "hangup");
  /* Hanging up what has ended is an error the daemon reports. */
  g_free (voipctl_fails (f->alice, "hangup", id_text));
  g_free (voipctl_fails (f->alice, "hangup"));

  assert_heard (f->alice, f->bob);
  assert_heard (f->bob, f->alice);
}

/* bob rejects: both end with reason rejected (StateReasonCode, and words
 * for people in StateReason); alice's `call --wait` exits 1 saying so.
 * alice cannot answer her own call. */
static void
test_call_rejected (DaemonFixture *f, gconstpointer data)
{
  g_autoptr(Waiting) waiting = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GVariant) code = NULL;
  g_autoptr(GVariant) reason = NULL;
  g_autofree char *out = NULL;
  g_autofree char *path = NULL;
  JsonObject *call;
  guint64 id;

  test_user_befriend (f->alice, f->bob);
  waiting = call_and_wait (f->alice, "bob");
  waiting_wait_output (f->alice, waiting, "ringing");
  root = voipctl_json (f->bob, "calls", "--json");
  g_assert_cmpuint (json_array_get_length (test_json_list (root)), ==, 1);
  call = json_array_get_object_element (test_json_list (root), 0);
  id = test_json_get_int (call, "id");
  g_assert_cmpstr (test_json_get_string (call, "direction"), ==, "incoming");
  g_assert_cmpstr (test_json_get_string (call, "initiator"), ==, "alice");
  path = call_path (id);
  g_free (test_user_call_fails (f->alice, path, "Call", "Answer", g_variant_new ("()"),
                                "org.voipd.Voip1.Error.NotAllowed"));
  wait_call (f->alice, id, "ringing", "");

  g_free (voipctl_ok (f->bob, "reject"));
  wait_call (f->bob, id, "ended", "rejected");
  wait_call (f->alice, id, "ended", "rejected");
  code = test_user_get_property (f->alice, path, "Call", "StateReasonCode");
  reason = test_user_get_property (f->alice, path, "Call", "StateReason");
  g_assert_cmpstr (g_variant_get_string (code, NULL), ==, "rejected");
  g_assert_cmpstr (g_variant_get_string (reason, NULL), !=, "");
  g_assert_cmpstr (g_variant_get_string (reason, NULL), !=, "rejected");
  g_assert_cmpint (waiting_finish (f->alice, waiting), ==, 1);
  out = waiting_output (waiting);
  g_assert_nonnull (strstr (out, "rejected"));
  /* Nothing rings any more. */
  g_free (voipctl_fails (f->bob, "answer"));
}

/* The callee hangs up: both end with reason hangup, and the caller's
 * `call --wait` (which saw the call connected) exits 0. */
static void
test_call_callee_hangs_up (DaemonFixture *f, gconstpointer data)
{
  g_autoptr(Waiting) waiting = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *out = NULL;
  guint64 id;

  test_user_befriend (f->alice, f->bob);
  waiting = call_and_wait (f->alice, "bob");
  waiting_wait_output (f->alice, waiting, "ringing");
  root = voipctl_json (f->bob, "calls", "--json");
  id = test_json_get_int (json_array_get_object_element (test_json_list (root), 0), "id");
  g_free (voipctl_ok (f->bob, "answer"));
  wait_call (f->bob, id, "active", NULL);
  waiting_wait_output (f->alice, waiting, "connected");
  /* Answering what is already active fails; the call goes on. */
  {
    g_autofree char *path = call_path (id);

    g_free (test_user_call_fails (f->bob, path, "Call", "Answer", g_variant_new ("()"),
                                  "org.voipd.Voip1.Error.NotAllowed"));
    wait_call (f->bob, id, "active", "answered");
  }

  g_free (voipctl_ok (f->bob, "hangup"));
  wait_call (f->bob, id, "ended", "hangup");
  wait_call (f->alice, id, "ended", "hangup");
  g_assert_cmpint (waiting_finish (f->alice, waiting), ==, 0);
  out = waiting_output (waiting);
  g_assert_nonnull (strstr (out, "hangup"));
}

/* Ctrl-C on `call --wait` hangs up, and it exits 0 (the call was answered). */
static void
test_call_wait_interrupted (DaemonFixture *f, gconstpointer data)
{
  g_autoptr(Waiting) waiting = NULL;
  g_autoptr(JsonNode) root = NULL;
  guint64 id;

  test_user_befriend (f->alice, f->bob);
  waiting = call_and_wait (f->alice, "bob");
  waiting_wait_output (f->alice, waiting, "ringing");
  root = voipctl_json (f->bob, "calls", "--json");
  id = test_json_get_int (json_array_get_object_element (test_json_list (root), 0), "id");
  g_free (voipctl_ok (f->bob, "answer"));
  waiting_wait_output (f->alice, waiting, "connected");

  g_subprocess_send_signal (waiting->process, SIGINT);
  wait_call (f->bob, id, "ended", "hangup");
  g_assert_cmpint (waiting_finish (f->alice, waiting), ==, 0);
}

/* carol calls bob while bob talks with alice: Busy, on the bus and from
 * voipctl ("bob is busy"). */
static void
test_call_busy (DaemonFixture *f, gconstpointer data)
{
  g_autofree char *bob_path = test_contact_path ("bob");
  g_autofree char *err = NULL;
  guint64 id;

  test_user_befriend (f->alice, f->bob);
  test_user_befriend (f->carol, f->bob);
  id = start_call (f->alice, "bob");
  wait_call (f->bob, id, "ringing", NULL);
  g_free (voipctl_ok (f->bob, "answer"));
  wait_call (f->alice, id, "active", NULL);

  g_free (test_user_call_fails (f->carol, bob_path, "Contact", "Call", g_variant_new ("()"),
                                "org.voipd.Voip1.Error.Busy"));
  err = voipctl_fails (f->carol, "call", "bob");
  g_assert_nonnull (strstr (err, "bob is busy"));
  /* The call goes on. */
  wait_call (f->bob, id, "active", NULL);
  g_free (voipctl_ok (f->alice, "hangup"));
  wait_call (f->bob, id, "ended", "hangup");
}

/* Refusals before anything rings: bob offline, carol not a friend, alice
 * herself. None of them loads the call objects. */
static void
test_call_refused (DaemonFixture *f, gconstpointer data)
{
  g_autofree char *bob_path = test_contact_path ("bob");
  g_autofree char *carol_path = test_contact_path ("carol");
  g_autofree char *err = NULL;
  g_autoptr(JsonNode) root = NULL;

  test_user_befriend (f->alice, f->bob);
  /* carol is a contact (alice asked) but not a friend. */
  g_free (voipctl_ok (f->alice, "contact", "add", "carol"));
  test_user_wait_contact (f->alice, "carol", "subscription", "outgoing");
  /* The server does not tell "no such user" from "not a friend". */
  g_free (test_user_call_fails (f->alice, carol_path, "Contact", "Call", g_variant_new ("()"),
                                "org.voipd.Voip1.Error.NoSuchUser"));
  err = voipctl_fails (f->alice, "call", "carol");
  g_assert_nonnull (strstr (err, "carol is not your friend"));
  g_clear_pointer (&err, g_free);

  err = voipctl_fails (f->alice, "call", "alice");
  g_assert_nonnull (strstr (err, "yourself"));
  g_clear_pointer (&err, g_free);

  g_free (voipctl_ok (f->bob, "logout"));
  test_user_wait_contact (f->alice, "bob", "presence", "offline");
  g_free (test_user_call_fails (f->alice, bob_path, "Contact", "Call", g_variant_new ("()"),
                                "org.voipd.Voip1.Error.Offline"));
  err = voipctl_fails (f->alice, "call", "bob");
  g_assert_nonnull (strstr (err, "bob is offline"));

  root = voipctl_json (f->alice, "calls", "--json");
  g_assert_cmpuint (json_array_get_length (test_json_list (root)), ==, 0);
}

/* Nobody answers within the server's ring timeout (1 s here). */
static void
test_call_ring_timeout (DaemonFixture *f, gconstpointer data)
{
  g_autoptr(Waiting) waiting = NULL;
  g_autofree char *out = NULL;

  test_user_befriend (f->alice, f->bob);
  waiting = call_and_wait (f->alice, "bob");
  g_assert_cmpint (waiting_finish (f->alice, waiting), ==, 1);
  out = waiting_output (waiting);
  g_assert_nonnull (strstr (out, "timeout"));
  g_free (voipctl_fails (f->bob, "answer"));
}

/* alice mutes mid-call: bob receives silence; in a second call she mutes
 * while it rings (before any media exists), and unmuting brings her tone
 * back. Muted shows in `voipctl calls` and on the bus. */
static void
test_call_mute (DaemonFixture *f, gconstpointer data)
{
  g_autoptr(JsonObject) call = NULL;
  g_autoptr(GVariant) muted = NULL;
  g_autofree char *path = NULL;
  ToneReport first_whole, muted_tail, second_whole, unmuted_tail;
  guint64 id;

  test_user_befriend (f->alice, f->bob);

  /* 1. Muted after the call connected. */
  id = start_call (f->alice, "bob");
  wait_call (f->bob, id, "ringing", NULL);
  g_free (voipctl_ok (f->bob, "answer"));
  wait_call (f->alice, id, "active", NULL);
  wait_stats_flowing (f->bob, id);
  let_audio_flow (2);
  g_free (voipctl_ok (f->alice, "mute"));
  call = find_call (f->alice, id);
  g_assert_true (test_json_get_bool (call, "muted"));
  g_clear_pointer (&call, json_object_unref);
  path = call_path (id);
  muted = test_user_get_property (f->alice, path, "Call", "Muted");
  g_assert_true (g_variant_get_boolean (muted));
  let_audio_flow (TAIL_MS / 1000 + 3);
  g_free (voipctl_ok (f->alice, "hangup"));
  wait_call (f->bob, id, "ended", "hangup");
  analyze_tail (f->bob, 440, 880, &first_whole, &muted_tail);

  /* 2. Muted while ringing, unmuted once connected. */
  id = start_call (f->alice, "bob");
  g_free (voipctl_ok (f->alice, "mute"));
  wait_call (f->bob, id, "ringing", NULL);
  g_free (voipctl_ok (f->bob, "answer"));
  wait_call (f->alice, id, "active", NULL);
  call = find_call (f->alice, id);
  g_assert_true (test_json_get_bool (call, "muted"));
  g_clear_pointer (&call, json_object_unref);
  wait_stats_flowing (f->bob, id);
  let_audio_flow (3);
  g_free (voipctl_ok (f->alice, "unmute"));
  let_audio_flow (TAIL_MS / 1000 + 3);
  g_free (voipctl_ok (f->bob, "hangup"));
  wait_call (f->alice, id, "ended", "hangup");

  analyze_tail (f->bob, 440, 880, &second_whole, &unmuted_tail);
  /* The first call: alice's tone, then silence. */
  g_assert_cmpfloat_with_epsilon (first_whole.dominant_hz, 440, FREQ_TOLERANCE_HZ);
  g_assert_cmpfloat (muted_tail.rms * 10, <, first_whole.rms);
  /* The second: the tone is back at the end, and the muted seconds at the
   * start (a good third of the file) pull the level of the whole down. */
  g_assert_cmpfloat_with_epsilon (unmuted_tail.dominant_hz, 440, FREQ_TOLERANCE_HZ);
  g_assert_cmpfloat (muted_tail.rms * 10, <, unmuted_tail.rms);
  g_assert_cmpfloat (muted_tail.power[0] * 10, <, unmuted_tail.power[0]);
  g_assert_cmpfloat (second_whole.rms, <, unmuted_tail.rms * 0.95);
}

/* bob's voipd dies mid-call: the server sees his session go, and alice's
 * call ends with reason offline. */
static void
test_call_peer_killed (DaemonFixture *f, gconstpointer data)
{
  guint64 id;

  test_user_befriend (f->alice, f->bob);
  id = start_call (f->alice, "bob");
  wait_call (f->bob, id, "ringing", NULL);
  g_free (voipctl_ok (f->bob, "answer"));
  wait_call (f->alice, id, "active", NULL);

  test_user_kill_daemon (f->bob);
  wait_call (f->alice, id, "ended", "offline");
  /* alice is free again. */
  g_free (voipctl_fails (f->alice, "hangup"));
}

/* Our own session goes: the call ends here too, with reason offline, both
 * when the user logs out and when the server goes away. */
static void
test_call_session_lost (DaemonFixture *f, gconstpointer data)
{
  guint64 id;

  test_user_befriend (f->alice, f->bob);
  id = start_call (f->alice, "bob");
  wait_call (f->bob, id, "ringing", NULL);
  g_free (voipctl_ok (f->bob, "answer"));
  wait_call (f->alice, id, "active", NULL);
  g_free (voipctl_ok (f->alice, "logout"));
  wait_call (f->alice, id, "ended", "offline");
  wait_call (f->bob, id, "ended", "offline");

  test_user_login (f->alice);
  test_user_wait_contact (f->alice, "bob", "presence", "online");
  id = start_call (f->alice, "bob");
  wait_call (f->bob, id, "ringing", NULL);
  g_free (voipctl_ok (f->bob, "answer"));
  wait_call (f->bob, id, "active", NULL);
  daemon_fixture_stop_server (f);
  wait_call (f->alice, id, "ended", "offline");
  wait_call (f->bob, id, "ended", "offline");
}

/* When the media cannot run. dave's voipd finds no media engine: calling
 * fails at once (NoMedia, before anyone rings), and so does answering.
 * erin's engine cannot build her microphone: her answer is accepted, then
 * the call fails on her side (reason failed) and ends for the caller. */
static void
test_call_media_failures (DaemonFixture *f, gconstpointer data)
{
  g_autofree char *alice_path = test_contact_path ("alice");
  g_autofree char *err = NULL;
  g_autoptr(TestUser) dave = NULL;
  g_autoptr(TestUser) erin = NULL;
  guint64 id;

  dave = test_user_new ("dave", TEST_USER_DEFAULT);
  test_user_set_server (dave, f->address);
  configure_audio (dave);
  test_user_setenv (dave, "VOIPD_MEDIA_MODULE", "/nonexistent/voipd-media.so");
  test_user_start_daemon (dave);
  test_user_register (dave);
  test_user_befriend (f->alice, dave);
  g_free (test_user_call_fails (dave, alice_path, "Contact", "Call", g_variant_new ("()"),
                                "org.voipd.Voip1.Error.NoMedia"));
  err = voipctl_fails (dave, "call", "alice");
  g_assert_nonnull (strstr (err, "media engine"));
  id = start_call (f->alice, "dave");
  wait_call (dave, id, "ringing", NULL);
  g_clear_pointer (&err, g_free);
  err = voipctl_fails (dave, "answer");
  g_assert_nonnull (strstr (err, "media engine"));
  g_free (voipctl_ok (f->alice, "hangup"));
  wait_call (dave, id, "ended", "hangup");

  erin = test_user_new ("erin", TEST_USER_DEFAULT);
  test_user_set_server (erin, f->address);
  configure_audio (erin);
  test_user_set_setting (erin, "audio-source", "'no-such-gstreamer-element'");
  test_user_start_daemon (erin);
  test_user_register (erin);
  test_user_befriend (f->alice, erin);
  id = start_call (f->alice, "erin");
  wait_call (erin, id, "ringing", NULL);
  g_free (voipctl_ok (erin, "answer"));
  wait_call (erin, id, "ended", "failed");
  wait_call (f->alice, id, "ended", NULL);
}

/* bob on two desktops: both ring; the first answer wins, the other desktop
 * sees answered-elsewhere and cannot answer any more. */
static void
test_call_two_sessions (DaemonFixture *f, gconstpointer data)
{
  g_autoptr(TestUser) bob2 = daemon_fixture_new_user (f, "bob", TEST_USER_DEFAULT);
  g_autofree char *path = NULL;
  g_autofree char *err = NULL;
  guint64 id;

  test_user_befriend (f->alice, f->bob);
  test_user_login (bob2);
  test_user_wait_contact (bob2, "alice", "subscription", "friend");
  id = start_call (f->alice, "bob");
  wait_call (f->bob, id, "ringing", NULL);
  wait_call (bob2, id, "ringing", NULL);

  g_free (voipctl_ok (f->bob, "answer"));
  wait_call (f->alice, id, "active", NULL);
  wait_call (bob2, id, "ended", "answered-elsewhere");
  path = call_path (id);
  g_free (test_user_call_fails (bob2, path, "Call", "Answer", g_variant_new ("()"),
                                "org.voipd.Voip1.Error.*"));

  g_free (voipctl_ok (f->alice, "hangup"));
  wait_call (f->bob, id, "ended", "hangup");
}

/* A group call of three: alice calls the group, bob and carol answer, each
 * has the two others as peers; carol leaves and the call goes on; she
 * rejoins it with a new call to the group. */
static void
test_call_group (DaemonFixture *f, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_autofree char *group = NULL;
  g_autoptr(JsonObject) call = NULL;
  guint64 id;

  test_user_befriend (f->alice, f->bob);
  test_user_befriend (f->alice, f->carol);
  out = voipctl_ok (f->alice, "group", "create", "band", "bob", "carol");
  group = g_strdup_printf ("--group %s", g_strstrip (out));
  id = start_call (f->alice, group);
  wait_call (f->bob, id, "ringing", NULL);
  wait_call (f->carol, id, "ringing", NULL);

  g_free (voipctl_ok (f->bob, "answer"));
  g_free (voipctl_ok (f->carol, "answer"));
  wait_call (f->alice, id, "active", NULL);
  wait_call (f->bob, id, "active", NULL);
  wait_call (f->carol, id, "active", NULL);
  call = find_call (f->carol, id);
  g_assert_cmpuint (json_array_get_length (test_json_get_array (call, "participants")), ==, 2);
  g_assert_cmpint (test_json_get_int (call, "group"), >, 0);
  g_clear_pointer (&call, json_object_unref);

  g_free (voipctl_ok (f->carol, "hangup"));
  wait_call (f->carol, id, "ended", "hangup");
  wait_stats_flowing (f->bob, id);
  call = find_call (f->alice, id);
  g_assert_cmpstr (test_json_get_string (call, "state"), ==, "active");
  g_clear_pointer (&call, json_object_unref);

  /* carol comes back: the group's running call, active at once. */
  g_assert_cmpuint (start_call (f->carol, group), ==, id);
  wait_call (f->carol, id, "active", NULL);
  wait_stats_flowing (f->carol, id);

  g_free (voipctl_ok (f->bob, "hangup"));
  g_free (voipctl_ok (f->carol, "hangup"));
  wait_call (f->alice, id, "ended", NULL);
}

/* `listener`, in a call with the two others, heard both of their tones and
 * not its own (the mixer mixes only peers). */
static void
assert_heard_two (TestUser *listener, TestUser *one, TestUser *other)
{
  g_autofree char *wav = received_wav (listener);
  guint own = tone_of (test_user_get_name (listener));
  ToneReport peers, self;

  analyze (wav, 1000, tone_of (test_user_get_name (one)), tone_of (test_user_get_name (other)),
           &peers);
  analyze (wav, 1000, own, tone_of (test_user_get_name (one)), &self);
  /* Two tones of equal level: about half of the power each. */
  g_assert_cmpfloat (peers.power[0], >, 0.25);
  g_assert_cmpfloat (peers.power[1], >, 0.25);
  g_assert_cmpfloat (self.power[0], <, 0.02);
}

/* A group call of three tones (alice 440 Hz, bob 880 Hz, carol 660 Hz):
 * each hears the other two, and not itself. */
static void
test_call_group_tones (DaemonFixture *f, gconstpointer data)
{
  TestUser *users[] = { f->alice, f->bob, f->carol };
  g_autofree char *out = NULL;
  g_autofree char *group = NULL;
  guint64 id;

  test_user_befriend (f->alice, f->bob);
  test_user_befriend (f->alice, f->carol);
  out = voipctl_ok (f->alice, "group", "create", "choir", "bob", "carol");
  group = g_strdup_printf ("--group %s", g_strstrip (out));
  id = start_call (f->alice, group);
  wait_call (f->bob, id, "ringing", NULL);
  wait_call (f->carol, id, "ringing", NULL);
  g_free (voipctl_ok (f->bob, "answer"));
  g_free (voipctl_ok (f->carol, "answer"));
  for (guint i = 0; i < G_N_ELEMENTS (users); i++)
    wait_call (users[i], id, "active", NULL);
  for (guint i = 0; i < G_N_ELEMENTS (users); i++)
    wait_stats_flowing (users[i], id);
  /* Audio to analyse: a pause in which it flows, not a condition. */
  test_iterate_for (4000);
  /* Two leave; with one left, the call ends for carol too. */
  g_free (voipctl_ok (f->alice, "hangup"));
  wait_call (f->alice, id, "ended", "hangup");
  g_free (voipctl_ok (f->bob, "hangup"));
  for (guint i = 0; i < G_N_ELEMENTS (users); i++)
    wait_call (users[i], id, "ended", NULL);

  assert_heard_two (f->alice, f->bob, f->carol);
  assert_heard_two (f->bob, f->alice, f->carol);
  assert_heard_two (f->carol, f->alice, f->bob);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  daemon_test_add_with ("/daemon/calls/one-to-one", test_call_one_to_one, &call_options);
  daemon_test_add_with ("/daemon/calls/rejected", test_call_rejected, &call_options);
  daemon_test_add_with ("/daemon/calls/callee-hangs-up", test_call_callee_hangs_up, &call_options);
  daemon_test_add_with ("/daemon/calls/wait-interrupted", test_call_wait_interrupted,
                        &call_options);
  daemon_test_add_with ("/daemon/calls/busy", test_call_busy, &call_options);
  daemon_test_add_with ("/daemon/calls/refused", test_call_refused, &call_options);
  daemon_test_add_with ("/daemon/calls/ring-timeout", test_call_ring_timeout, &short_ring_options);
  daemon_test_add_with ("/daemon/calls/mute", test_call_mute, &call_options);
  daemon_test_add_with ("/daemon/calls/peer-killed", test_call_peer_killed, &call_options);
  daemon_test_add_with ("/daemon/calls/media-failures", test_call_media_failures,
                        &call_options);
  daemon_test_add_with ("/daemon/calls/session-lost", test_call_session_lost, &call_options);
  daemon_test_add_with ("/daemon/calls/two-sessions", test_call_two_sessions, &call_options);
  daemon_test_add_with ("/daemon/calls/group", test_call_group, &call_options);
  daemon_test_add_with ("/daemon/calls/group-tones", test_call_group_tones, &call_options);
  return g_test_run ();
}
