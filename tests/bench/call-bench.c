/* call-bench.c — the call measures of docs/BENCHMARKS.md ("Calls"), taken
 * through real daemons: a voip-server on loopback, desktop users with private
 * buses and keyrings (tests/support/test-user.h), voipd with the media module.
 *
 * Every user's audio-sink is a FIFO that this program reads (S16LE mono
 * 48 kHz, written by filesink without sync, so a buffer arrives here the
 * moment the daemon's mixer outputs it). From those streams it measures:
 *
 *   answer → audio   from the callee's Answer() until decoded audio (a loud
 *                    sample) reaches both sinks; ROUNDS calls with steady
 *                    tones both ways, each answered after ringing a second
 *                    (a person takes longer); p50 and max
 *   mouth → ear      one more call, whose caller's source is a click train,
 *                    teed into a second FIFO before the encoder; the delay
 *                    from each click there to the same click at the callee's
 *                    sink; p50 and max
 *   CPU, RSS         of each voipd during a SECONDS long 1:1 call (% of a core)
 *   mesh             MESH users in one group call for SECONDS: CPU of all
 *                    voipds, and whether every sink got audio in real time
 *                    (samples received / seconds elapsed ≥ 0.99 × 48000) with
 *                    its receive loss from Stats
 *
 * With NAT_PREFIX set, the 1:1 measures run across the cone NATs of
 * tests/calls/nat-topology.sh (which call-bench.sh builds under that prefix):
 * the server in PFX-pub at 198.18.0.3, alice's voipd in PFX-homeA, bob's in
 * PFX-homeB; ICE then connects through the server's STUN (srflx).
 *
 * Usage: call-bench [ROUNDS [SECONDS [MESH]]]   (defaults 10 20 8)
 * Environment: as the daemon tests (VOIP_SERVER, VOIPD, VOIPCTL,
 * GSETTINGS_SCHEMA_DIR, VOIPD_MEDIA_MODULE); call-bench.sh sets it up.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test-server.h"
#include "voip-limits.h"
#include "test-user.h"

#define RATE             48000
#define LOUD             3000     /* |sample| above this is sound */
#define QUIET_BEFORE_MS  100      /* a click starts after this much quiet */
#define CLICK_INTERVAL_MS 250
#define MAX_CLICKS       4096
#define RING_MS          1000     /* how long a call rings before the answer */

/* ---- a FIFO sink, read on its own thread -------------------------------- */

typedef struct {
  char    *path;
  GThread *thread;
  GMutex   lock;
  gboolean stop;
  gint64   armed_at;         /* loud audio after this time counts as first */
  gint64   first_loud;       /* 0 until then */
  guint64  samples;          /* since counting started */
  gint64   counting_since;
  gint64   clicks[MAX_CLICKS];  /* onset times, µs, monotonic */
  guint    n_clicks;
  gint64   last_loud;
} Fifo;

static gpointer
fifo_reader (gpointer data)
{
  Fifo *fifo = data;
  gint16 buffer[480];

  while (TRUE)
    {
      int fd;

      g_mutex_lock (&fifo->lock);
      if (fifo->stop)
        {
          g_mutex_unlock (&fifo->lock);
          return NULL;
        }
      g_mutex_unlock (&fifo->lock);
      /* Blocks until a daemon opens the FIFO to write (a call starts). */
      fd = open (fifo->path, O_RDONLY);
      if (fd < 0)
        g_error ("open %s: %s", fifo->path, g_strerror (errno));
      while (TRUE)
        {
          ssize_t n = read (fd, buffer, sizeof buffer);
          gint64 now = g_get_monotonic_time ();
          guint count;

          if (n <= 0)
            break;
          count = n / 2;
          g_mutex_lock (&fifo->lock);
          if (fifo->counting_since != 0)
            fifo->samples += count;
          for (guint i = 0; i < count; i++)
            {
              gint64 at = now - (gint64) (count - i) * G_USEC_PER_SEC / RATE;

              if (ABS (buffer[i]) < LOUD)
                continue;
              if (fifo->armed_at != 0 && fifo->first_loud == 0 && at >= fifo->armed_at)
                fifo->first_loud = at;
              if (at - fifo->last_loud > QUIET_BEFORE_MS * 1000 && fifo->n_clicks < MAX_CLICKS)
                fifo->clicks[fifo->n_clicks++] = at;
              fifo->last_loud = at;
            }
          g_mutex_unlock (&fifo->lock);
        }
      close (fd);
    }
}

static Fifo *
fifo_new (const char *dir, const char *name)
{
  Fifo *fifo = g_new0 (Fifo, 1);

  fifo->path = g_build_filename (dir, name, NULL);
  if (mkfifo (fifo->path, 0600) != 0)
    g_error ("mkfifo %s: %s", fifo->path, g_strerror (errno));
  g_mutex_init (&fifo->lock);
  fifo->thread = g_thread_new (name, fifo_reader, fifo);
  return fifo;
}

static void
fifo_reset (Fifo *fifo, gboolean arm)
{
  g_mutex_lock (&fifo->lock);
  fifo->armed_at = arm ? g_get_monotonic_time () : 0;
  fifo->first_loud = 0;
  fifo->n_clicks = 0;
  fifo->samples = 0;
  fifo->counting_since = 0;
  g_mutex_unlock (&fifo->lock);
}

static gint64
fifo_first_loud (Fifo *fifo)
{
  gint64 at;

  g_mutex_lock (&fifo->lock);
  at = fifo->first_loud;
  g_mutex_unlock (&fifo->lock);
  return at;
}

static void
fifo_start_counting (Fifo *fifo)
{
  g_mutex_lock (&fifo->lock);
  fifo->samples = 0;
  fifo->counting_since = g_get_monotonic_time ();
  g_mutex_unlock (&fifo->lock);
}

static double
fifo_realtime_ratio (Fifo *fifo)
{
  double ratio;

  g_mutex_lock (&fifo->lock);
  ratio = fifo->samples / ((g_get_monotonic_time () - fifo->counting_since) / 1e6 * RATE);
  g_mutex_unlock (&fifo->lock);
  return ratio;
}

/* The reader threads stay blocked in open() or read() at exit: the process
 * ends with them. */

/* ---- users and calls ---------------------------------------------------- */

/* A method call to voipd that must succeed. */
static GVariant *
bench_call (TestUser *user, const char *path, const char *interface, const char *method,
            GVariant *parameters)
{
  g_autoptr(GError) error = NULL;
  GVariant *reply = test_user_call (user, path, interface, method, parameters, &error);

  if (reply == NULL)
    g_error ("%s: %s.%s on %s: %s", test_user_get_name (user), interface, method, path,
             error->message);
  return reply;
}

static char *
fifo_sink (Fifo *fifo)
{
  return g_strdup_printf ("'audioconvert ! audioresample ! audio/x-raw,format=S16LE,rate=48000,"
                          "channels=1 ! filesink location=%s sync=false buffer-mode=unbuffered'",
                          fifo->path);
}

/* The NAT topology's prefix, or NULL on loopback. */
static const char *nat_prefix;
#define NAT_SERVER_IP "198.18.0.3"

static TestUser *
bench_user (TestServer *server, const char *name, const char *source, Fifo *sink)
{
  TestUser *user = test_user_new (name, TEST_USER_DEFAULT);
  g_autofree char *address = g_strdup_printf ("%s:%u", nat_prefix ? NAT_SERVER_IP : "127.0.0.1",
                                              test_server_get_port (server));
  g_autofree char *quoted_source = g_strdup_printf ("'%s'", source);
  g_autofree char *sink_description = fifo_sink (sink);

  test_user_set_server (user, address);
  test_user_set_setting (user, "audio-source", quoted_source);
  test_user_set_setting (user, "audio-sink", sink_description);
  test_user_set_setting (user, "echo-cancellation", "false");
  if (nat_prefix != NULL)
    {
      g_autofree char *home = g_strdup_printf ("%s-home%s", nat_prefix,
                                               g_str_equal (name, "alice") ? "A" : "B");

      test_user_set_daemon_netns (user, home);
    }
  test_user_start_daemon (user);
  test_user_register (user);
  return user;
}

/* The object path of the user's call in `state`, or NULL. */
static char *
find_call (TestUser *user, const char *state)
{
  g_autoptr(GVariant) reply = bench_call (user, "/org/voipd/Voip1",
                                          "org.freedesktop.DBus.ObjectManager",
                                          "GetManagedObjects", NULL);
  g_autoptr(GVariantIter) objects = NULL;
  const char *path;
  GVariant *interfaces;

  g_variant_get (reply, "(a{oa{sa{sv}}})", &objects);
  while (g_variant_iter_loop (objects, "{&o@a{sa{sv}}}", &path, &interfaces))
    {
      g_autoptr(GVariant) call = g_variant_lookup_value (interfaces, "org.voipd.Voip1.Call", NULL);
      const char *call_state;

      if (call != NULL && g_variant_lookup (call, "State", "&s", &call_state)
          && g_str_equal (call_state, state))
        {
          char *found = g_strdup (path);

          g_variant_unref (interfaces);
          return found;
        }
    }
  return NULL;
}

static char *
wait_call (TestUser *user, const char *state)
{
  for (guint i = 0; i < 3000; i++)
    {
      char *path = find_call (user, state);

      if (path != NULL)
        return path;
      test_iterate_for (5);
    }
  g_error ("%s never had a call in state %s", test_user_get_name (user), state);
}

static void
call_method (TestUser *user, const char *path, const char *method)
{
  g_autoptr(GVariant) reply = bench_call (user, path, "Call", method, NULL);
}

static char *
call_contact (TestUser *caller, const char *callee)
{
  g_autofree char *contact = g_strdup_printf ("/org/voipd/Voip1/contact/%s", callee);
  g_autoptr(GVariant) reply = bench_call (caller, contact, "Contact", "Call", NULL);
  char *path;

  g_variant_get (reply, "(o)", &path);
  return path;
}

static void
hang_up_and_wait (TestUser *user, const char *path, TestUser *const *others, guint n_others)
{
  call_method (user, path, "Hangup");
  g_free (wait_call (user, "ended"));
  for (guint i = 0; i < n_others; i++)
    g_free (wait_call (others[i], "ended"));
}

/* ---- measures ----------------------------------------------------------- */

static int
compare_gint64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

static void
print_p50_max (const char *what, GArray *values_us)
{
  g_array_sort (values_us, compare_gint64);
  if (values_us->len == 0)
    {
      printf ("| %s | no samples | |\n", what);
      return;
    }
  printf ("| %s | %.1f ms | %.1f ms | %u |\n", what,
          g_array_index (values_us, gint64, values_us->len / 2) / 1000.0,
          g_array_index (values_us, gint64, values_us->len - 1) / 1000.0, values_us->len);
}

typedef struct {
  guint64 ticks;   /* utime + stime */
  gint64  at;
} CpuMark;

static CpuMark
cpu_mark (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree char *text = NULL;
  CpuMark mark = { 0, g_get_monotonic_time () };
  char *after;
  g_auto(GStrv) fields = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL) || (after = strrchr (text, ')')) == NULL)
    g_error ("cannot read %s", path);
  fields = g_strsplit (after + 2, " ", 0);
  /* Fields 14 and 15 of stat(5); fields[0] is field 3. */
  mark.ticks = g_ascii_strtoull (fields[11], NULL, 10) + g_ascii_strtoull (fields[12], NULL, 10);
  return mark;
}

static double
cpu_percent (CpuMark before, CpuMark after)
{
  return 100.0 * (after.ticks - before.ticks) / sysconf (_SC_CLK_TCK)
         / ((after.at - before.at) / 1e6);
}

static guint64
rss_kb (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", pid);
  g_autofree char *text = NULL;
  const char *line;

  if (!g_file_get_contents (path, &text, NULL, NULL) || (line = strstr (text, "VmRSS:")) == NULL)
    return 0;
  return g_ascii_strtoull (line + strlen ("VmRSS:"), NULL, 10);
}

static char *
stats_summary (TestUser *user, const char *path)
{
  g_autoptr(GVariant) stats = test_user_get_property (user, path, "Call", "Stats");
  g_autoptr(GString) out = g_string_new (NULL);
  GVariantIter iter;
  const char *peer;
  GVariant *values;

  g_variant_iter_init (&iter, stats);
  while (g_variant_iter_loop (&iter, "{&s@a{sv}}", &peer, &values))
    {
      const char *route = "?";
      double loss = -1, rtt = -1, receive = -1;

      g_variant_lookup (values, "path", "&s", &route);
      g_variant_lookup (values, "loss_percent", "d", &loss);
      g_variant_lookup (values, "rtt_ms", "d", &rtt);
      /* The sinks play in real time whatever arrives (the mixer fills with
       * silence): the rate says whether the peer's audio does. */
      g_variant_lookup (values, "receive_kbps", "d", &receive);
      g_string_append_printf (out, "%s%s %s loss %.1f%% rtt %.1f ms rx %.0f kb/s",
                              out->len ? "; " : "", peer, route, loss, rtt, receive);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static void
measure_one_to_one (TestServer *server, const char *dir, guint rounds, guint seconds)
{
  Fifo *alice_ear = fifo_new (dir, "alice-ear"), *bob_ear = fifo_new (dir, "bob-ear");
  Fifo *alice_mouth = fifo_new (dir, "alice-mouth");
  g_autofree char *click_source = g_strdup_printf (
    "audiotestsrc is-live=true wave=ticks freq=1000 volume=0.8 tick-interval=%u000000 "
    "samplesperbuffer=960 ! audio/x-raw,rate=48000,channels=1 ! tee name=t ! queue ! "
    "audioconvert ! audio/x-raw,format=S16LE ! filesink location=%s sync=false "
    "buffer-mode=unbuffered t. ! queue", CLICK_INTERVAL_MS, alice_mouth->path);
  const char *tone_source = "audiotestsrc is-live=true freq=440 volume=0.5 samplesperbuffer=960";
  g_autoptr(TestUser) alice = bench_user (server, "alice", tone_source, alice_ear);
  g_autoptr(TestUser) bob = bench_user (server, "bob",
                                        "audiotestsrc is-live=true freq=880 volume=0.5 "
                                        "samplesperbuffer=960", bob_ear);
  g_autoptr(GArray) setup = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GArray) latency = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autofree char *last_stats = NULL;
  double cpu_alice = 0, cpu_bob = 0;
  guint64 rss_alice = 0, rss_bob = 0, rss_idle = rss_kb (test_user_get_daemon_pid (alice));

  test_user_befriend (alice, bob);
  /* ROUNDS calls with tones, then one with the click train. */
  for (guint round = 0; round <= rounds; round++)
    {
      gboolean last = round == rounds;
      g_autofree char *quoted = g_strdup_printf ("'%s'", last ? click_source : tone_source);
      g_autofree char *outgoing = NULL;
      g_autofree char *incoming = NULL;
      gint64 answered, alice_hears, bob_hears;

      /* voipd reads its audio settings when the call's media starts. */
      test_user_set_setting (alice, "audio-source", quoted);
      outgoing = call_contact (alice, "bob");
      incoming = wait_call (bob, "ringing");
      test_iterate_for (RING_MS);

      fifo_reset (alice_ear, TRUE);
      fifo_reset (bob_ear, TRUE);
      fifo_reset (alice_mouth, FALSE);
      answered = g_get_monotonic_time ();
      call_method (bob, incoming, "Answer");
      while ((alice_hears = fifo_first_loud (alice_ear)) == 0
             || (bob_hears = fifo_first_loud (bob_ear)) == 0)
        {
          if (g_get_monotonic_time () - answered > 30 * G_USEC_PER_SEC)
            g_error ("round %u: no audio both ways 30 s after the answer", round);
          test_iterate_for (1);
        }
      if (!last)
        g_array_append_val (setup, (gint64) { MAX (alice_hears, bob_hears) - answered });

      if (last)
        {
          CpuMark a0 = cpu_mark (test_user_get_daemon_pid (alice));
          CpuMark b0 = cpu_mark (test_user_get_daemon_pid (bob));

          /* Clicks counted from here on, both FIFOs together. */
          fifo_reset (alice_mouth, FALSE);
          fifo_reset (bob_ear, FALSE);
          test_iterate_for (seconds * 1000);
          cpu_alice = cpu_percent (a0, cpu_mark (test_user_get_daemon_pid (alice)));
          cpu_bob = cpu_percent (b0, cpu_mark (test_user_get_daemon_pid (bob)));
          rss_alice = rss_kb (test_user_get_daemon_pid (alice));
          rss_bob = rss_kb (test_user_get_daemon_pid (bob));
          last_stats = stats_summary (alice, outgoing);

          /* Pair each click at the source with the first one at bob's ear
           * after it, within one click interval. */
          g_mutex_lock (&alice_mouth->lock);
          g_mutex_lock (&bob_ear->lock);
          for (guint i = 0, j = 0; i < alice_mouth->n_clicks; i++)
            {
              gint64 sent = alice_mouth->clicks[i];

              while (j < bob_ear->n_clicks && bob_ear->clicks[j] < sent)
                j++;
              if (j < bob_ear->n_clicks && bob_ear->clicks[j] - sent < CLICK_INTERVAL_MS * 1000)
                g_array_append_val (latency, (gint64) { bob_ear->clicks[j] - sent });
            }
          g_mutex_unlock (&bob_ear->lock);
          g_mutex_unlock (&alice_mouth->lock);
        }
      hang_up_and_wait (alice, outgoing, &bob, 1);
    }

  printf ("\n1:1 call %s, %u calls\n\n",
          nat_prefix ? "across two cone NATs in network namespaces" : "on loopback", rounds);
  printf ("| measure | p50 | max | samples |\n|---|---|---|---|\n");
  print_p50_max ("answer → decoded audio at both sinks", setup);
  print_p50_max ("mouth → ear (click at the source tee → callee's sink)", latency);
  printf ("\n| voipd | CPU (%% of a core) | RSS in call | RSS idle before |\n|---|---|---|---|\n");
  printf ("| caller (alice) | %.1f%% | %.1f MB | %.1f MB |\n", cpu_alice, rss_alice / 1024.0,
          rss_idle / 1024.0);
  printf ("| callee (bob) | %.1f%% | %.1f MB | |\n", cpu_bob, rss_bob / 1024.0);
  printf ("\nstats at the end (alice): %s\n", last_stats ? last_stats : "-");
  fflush (stdout);
}

static void
measure_mesh (TestServer *server, const char *dir, guint size, guint seconds)
{
  g_autoptr(GPtrArray) users = g_ptr_array_new_with_free_func ((GDestroyNotify) test_user_free);
  g_autoptr(GPtrArray) ears = g_ptr_array_new ();
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GString) members = g_string_new (NULL);
  g_autofree char *group_path = NULL;
  g_autoptr(GVariant) created = NULL;
  CpuMark before[VOIP_CALL_PARTICIPANTS_MAX], after;
  double cpu_total = 0, worst_ratio = 10;
  gint64 start;

  for (guint i = 0; i < size; i++)
    {
      g_autofree char *name = g_strdup_printf ("mesh%u", i);
      g_autofree char *source = g_strdup_printf ("audiotestsrc is-live=true freq=%u volume=0.2 "
                                                 "samplesperbuffer=960", 300 + 100 * i);
      Fifo *ear = fifo_new (dir, name);

      g_ptr_array_add (ears, ear);
      g_ptr_array_add (users, bench_user (server, name, source, ear));
      if (i > 0)
        {
          test_user_befriend (users->pdata[0], users->pdata[i]);
          g_string_append_printf (members, "%s%s", members->len ? "," : "", name);
        }
    }
  {
    g_auto(GStrv) names = g_strsplit (members->str, ",", 0);

    created = bench_call (users->pdata[0], "/org/voipd/Voip1", "Account", "CreateGroup",
                          g_variant_new ("(s^as)", "mesh", names));
    g_variant_get (created, "(o)", &group_path);
  }
  {
    g_autoptr(GVariant) reply = bench_call (users->pdata[0], group_path, "Group", "Call",
                                            NULL);
    char *path;

    g_variant_get (reply, "(o)", &path);
    g_ptr_array_add (paths, path);
  }
  for (guint i = 1; i < size; i++)
    {
      char *path = wait_call (users->pdata[i], "ringing");

      call_method (users->pdata[i], path, "Answer");
      g_ptr_array_add (paths, path);
    }
  for (guint i = 0; i < size; i++)
    g_free (wait_call (users->pdata[i], "active"));
  /* Let every pair connect before counting. */
  test_iterate_for (3000);
  for (guint i = 0; i < size; i++)
    {
      fifo_start_counting (ears->pdata[i]);
      before[i] = cpu_mark (test_user_get_daemon_pid (users->pdata[i]));
    }
  start = g_get_monotonic_time ();
  test_iterate_for (seconds * 1000);

  printf ("\n%u-way mesh group call, %u s\n\n", size, seconds);
  printf ("| user | CPU (%% of a core) | audio received / real time | receive loss per peer |\n"
          "|---|---|---|---|\n");
  for (guint i = 0; i < size; i++)
    {
      TestUser *user = users->pdata[i];
      double ratio = fifo_realtime_ratio (ears->pdata[i]);
      g_autofree char *stats = stats_summary (user, paths->pdata[i]);
      double cpu;

      after = cpu_mark (test_user_get_daemon_pid (user));
      cpu = cpu_percent (before[i], after);
      cpu_total += cpu;
      worst_ratio = MIN (worst_ratio, ratio);
      printf ("| %s | %.1f%% | %.3f | %s |\n", test_user_get_name (user), cpu, ratio, stats);
    }
  printf ("\nall voipds together: %.1f%% of a core (of 200%%) over %.1f s; worst sink %.3f of "
          "real time: %s\n", cpu_total, (g_get_monotonic_time () - start) / 1e6, worst_ratio,
          worst_ratio >= 0.99 ? "real time" : "UNDERRUNS");
  fflush (stdout);
}

int
main (int argc, char **argv)
{
  guint rounds = argc > 1 ? atoi (argv[1]) : 10;
  guint seconds = argc > 2 ? atoi (argv[2]) : 20;
  guint mesh = argc > 3 ? atoi (argv[3]) : 8;
  g_autoptr(TestServer) server = NULL;
  g_autofree char *dir = g_dir_make_tmp ("call-bench-XXXXXX", NULL);

  if (rounds == 0 || seconds == 0 || mesh > VOIP_CALL_PARTICIPANTS_MAX)
    {
      fprintf (stderr, "usage: call-bench [ROUNDS [SECONDS [MESH ≤ %d]]]\n", VOIP_CALL_PARTICIPANTS_MAX);
      return 2;
    }
  nat_prefix = g_getenv ("NAT_PREFIX");
  server = test_server_new ();
  if (nat_prefix != NULL)
    {
      g_autofree char *pub = g_strdup_printf ("%s-pub", nat_prefix);

      test_server_set_listen (server, NAT_SERVER_IP ":0", pub);
    }
  test_server_start (server);
  measure_one_to_one (server, dir, rounds, seconds);
  if (mesh >= 2 && nat_prefix == NULL)
    measure_mesh (server, dir, mesh, seconds);
  return 0;
}
