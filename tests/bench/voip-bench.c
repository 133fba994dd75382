/* voip-bench.c — a load generator for voip-server.
 *
 *   voip-bench prepare    --server H:P --pairs 500 --accounts FILE
 *   voip-bench sessions   --server H:P --accounts FILE --clients 10000 --procs 4 --server-pid PID
 *   voip-bench throughput --server H:P --accounts FILE --pairs 500 --procs 2 --duration 10
 *   voip-bench latency    --server H:P --accounts FILE --pairs 500 --rate 5000 --duration 10
 *
 * The parent forks --procs workers. Each worker drives its share of the
 * connections from one epoll loop: no threads and no GSource per socket, so a
 * connection costs one small struct, a frame reader and, only while the socket
 * is full, an output buffer. Parent and workers share one anonymous mapping:
 * the parent writes the start time and the stop flag; each worker writes its
 * counters, its latency samples and, in prepare, the tokens it obtained.
 *
 * Pairs are adjacent: connection 2k sends to connection 2k + 1, and a pair
 * always lives in one worker.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <gio/gio.h>

#include "voip-proto.h"

#define BENCH_PASSWORD   "bench-password"
#define MAX_SECONDS      1024
#define TOKEN_SIZE       (VOIP_TOKEN_LENGTH + 1)
#define SCRATCH_SIZE     (64 * 1024)
#define PING_INTERVAL_US (30 * G_USEC_PER_SEC)
#define DRAIN_US         (5 * G_USEC_PER_SEC)
/* --server may list the nodes of a cluster. */
#define MAX_NODES        8
/* failover: the drops are over once none came for this long. */
#define FAILOVER_QUIET_US (2 * G_USEC_PER_SEC)

typedef enum {
  MODE_PREPARE,
  MODE_SESSIONS,
  MODE_THROUGHPUT,
  MODE_LATENCY,
  MODE_FAILOVER,
} Mode;

/* ---- what parent and workers share ---- */

typedef struct {
  gint    ready;             /* setup finished: held + failed == assigned */
  gint    done;              /* run finished; every counter is final */
  guint64 assigned;
  guint64 held;              /* logged-in connections (prepare: accounts done) */
  guint64 failed;
  guint64 lost;              /* held connections the server closed later */
  gint64  setup_us;
  guint64 sent;
  guint64 acked;
  guint64 acked_window;
  guint64 send_errors;
  guint64 delivered;
  guint64 delivered_window;
  guint64 window_full;       /* latency: a paced send waited for the window */
  guint64 per_second[MAX_SECONDS];
  guint64 n_samples;
  guint64 dropped;           /* failover: held sessions whose node went away */
  guint64 recovered;         /* failover: ... logged in again on another node */
  gint64  first_drop_us;     /* failover: monotonic; 0 until a drop */
  gint64  last_drop_us;
  gint64  last_recovery_us;
  char    error[256];        /* the first error, for the report */
} WorkerStats;

typedef struct {
  gint64 go_us;              /* monotonic start of the run; 0 until then */
  gint   stop;
} Control;

/* ---- one process's view ---- */

typedef struct {
  char *username;
  char *token;
} Account;

typedef struct {
  Mode     mode;
  struct sockaddr_storage addr[MAX_NODES];
  socklen_t addr_len[MAX_NODES];
  guint    n_nodes;
  char    *server;
  gint     server_pid;
  char    *server_pids;      /* sessions: "PID,PID,...", the nodes' RSS summed */
  gint     clients;
  gint     procs;
  gint     pairs;
  gint     duration;
  gint     warmup;
  gint     rate;
  gint     window;
  gint     size;
  gint     hold;
  gint     timeout;
  gint     batch;
  char    *accounts_path;
  GPtrArray *accounts;       /* of Account */
  guint32  nonce;            /* makes client_ids unique across runs */

  Control     *control;
  WorkerStats *stats;        /* [procs] */
  guint32     *samples;      /* [procs][sample_cap], microseconds */
  guint64      sample_cap;
  char        *tokens;       /* [n accounts][TOKEN_SIZE], prepare only */
} Bench;

static Bench bench;

typedef enum {
  CONN_IDLE,
  CONN_CONNECTING,
  CONN_REGISTERING,
  CONN_LOGGING_IN,
  CONN_RESUMING,
  CONN_LOGGED_IN,
  CONN_BEFRIENDING,
  CONN_CLOSED,
} ConnState;

typedef struct {
  int              fd;
  guint8           state;
  guint8           want_out;     /* EPOLLOUT is registered */
  guint32          account;      /* index into bench.accounts / bench.tokens */
  guint32          next_id;
  guint32          outstanding;  /* requests without a reply */
  guint32          out_len;
  guint32          out_off;
  guint8          *out;          /* unsent bytes; NULL while the socket keeps up */
  VoipFrameReader *reader;
  gint64           next_send_us; /* latency: when the next paced send is due */
  guint64          count;        /* sender: messages sent; receiver: received */
  guint8           node;         /* index into bench.addr */
  gint64           dropped_us;   /* failover: when its node went away; 0: never */
} Conn;

typedef enum {
  PHASE_SETUP,
  PHASE_WAIT,
  PHASE_RUN,
  PHASE_DRAIN,
  PHASE_HOLD,
  PHASE_EXIT,
} Phase;

typedef struct {
  guint        index;
  int          epfd;
  Phase        phase;
  Conn        *conns;
  guint        n_conns;
  guint        unit_size;        /* connections per setup unit: 2 in prepare */
  guint        n_units;
  guint        next_unit;
  guint        units_in_flight;
  guint        units_done;
  WorkerStats *stats;
  guint32     *samples;
  gint64       setup_start_us;
  gint64       setup_deadline_us;
  gint64       go_us;
  gint64       window_start_us;
  gint64       window_end_us;
  gint64       drain_deadline_us;
  gint64       next_ping_us;
  gint64       interval_us;      /* latency: between two sends of one sender */
  guint64      outstanding;      /* SendText requests without a reply */
  guint8      *scratch;
  GString     *text;
} Worker;

static void conn_fail (Worker *w, Conn *c, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

/* ---- helpers ---- */

static gint64
now_us (void)
{
  return g_get_monotonic_time ();
}

static gboolean
is_pair_mode (void)
{
  return bench.mode != MODE_SESSIONS && bench.mode != MODE_FAILOVER;
}

static const char *
account_name (guint32 account)
{
  return ((Account *) g_ptr_array_index (bench.accounts, account))->username;
}

static void G_GNUC_PRINTF (2, 3)
worker_note_error (Worker *w, const char *fmt, ...)
{
  va_list args;

  if (w->stats->error[0] != '\0')
    return;
  va_start (args, fmt);
  g_vsnprintf (w->stats->error, sizeof w->stats->error, fmt, args);
  va_end (args);
}

static void
raise_nofile_limit (void)
{
  struct rlimit limit;

  if (getrlimit (RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max)
    {
      limit.rlim_cur = limit.rlim_max;
      if (setrlimit (RLIMIT_NOFILE, &limit) != 0)
        g_printerr ("voip-bench: cannot raise the open-file limit: %s\n", g_strerror (errno));
    }
}

static guint64
nofile_limit (void)
{
  struct rlimit limit;

  return getrlimit (RLIMIT_NOFILE, &limit) == 0 ? (guint64) limit.rlim_cur : 1024;
}

/* VmRSS of a process in KiB, or -1. */
static gint64
process_rss_kib (gint pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", pid);
  g_autofree char *contents = NULL;
  const char *line;

  if (pid <= 0 || !g_file_get_contents (path, &contents, NULL, NULL))
    return -1;
  line = strstr (contents, "\nVmRSS:");
  if (line == NULL)
    return -1;
  return g_ascii_strtoll (line + strlen ("\nVmRSS:"), NULL, 10);
}

/* User + system CPU time of a process in microseconds, or -1. */
static gint64
process_cpu_us (gint pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree char *contents = NULL;
  g_auto(GStrv) fields = NULL;
  const char *rest;
  long ticks = sysconf (_SC_CLK_TCK);

  if (pid <= 0 || !g_file_get_contents (path, &contents, NULL, NULL))
    return -1;
  /* The command name may contain spaces; the fields after it do not. */
  rest = strrchr (contents, ')');
  if (rest == NULL)
    return -1;
  fields = g_strsplit (rest + 2, " ", 0);
  /* fields[0] is field 3 (state): utime is field 14, stime field 15. */
  if (g_strv_length (fields) < 13)
    return -1;
  return (g_ascii_strtoll (fields[11], NULL, 10) + g_ascii_strtoll (fields[12], NULL, 10))
         * G_USEC_PER_SEC / ticks;
}

/* CPU time of each thread of a process, in microseconds, summed by thread
 * name (the server's main loop, its store thread, ...). */
static GHashTable *
process_thread_cpu_us (gint pid)
{
  g_autofree char *dir_path = g_strdup_printf ("/proc/%d/task", pid);
  g_autoptr(GDir) dir = pid > 0 ? g_dir_open (dir_path, 0, NULL) : NULL;
  GHashTable *threads = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  const char *tid;

  while (dir != NULL && (tid = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir_path, tid, "stat", NULL);
      g_autofree char *contents = NULL;
      g_auto(GStrv) fields = NULL;
      const char *open, *close;
      g_autofree char *name = NULL;
      gint64 us;

      if (!g_file_get_contents (path, &contents, NULL, NULL)
          || (open = strchr (contents, '(')) == NULL
          || (close = strrchr (contents, ')')) == NULL)
        continue;
      fields = g_strsplit (close + 2, " ", 0);
      if (g_strv_length (fields) < 13)
        continue;
      name = g_strndup (open + 1, close - open - 1);
      us = (g_ascii_strtoll (fields[11], NULL, 10) + g_ascii_strtoll (fields[12], NULL, 10))
           * G_USEC_PER_SEC / sysconf (_SC_CLK_TCK);
      us += GPOINTER_TO_SIZE (g_hash_table_lookup (threads, name));
      g_hash_table_insert (threads, g_steal_pointer (&name), GSIZE_TO_POINTER ((gsize) us));
    }
  return threads;
}

static gboolean
resolve_node (const char *server, guint node, GError **error)
{
  g_autoptr(GSocketConnectable) connectable = NULL;
  g_autofree char *port = NULL;
  struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
  struct addrinfo *result = NULL;
  int rc;

  connectable = g_network_address_parse (server, 0, error);
  if (connectable == NULL)
    return FALSE;
  if (g_network_address_get_port (G_NETWORK_ADDRESS (connectable)) == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "--server needs HOST:PORT, got \"%s\"", server);
      return FALSE;
    }
  port = g_strdup_printf ("%u", g_network_address_get_port (G_NETWORK_ADDRESS (connectable)));
  rc = getaddrinfo (g_network_address_get_hostname (G_NETWORK_ADDRESS (connectable)),
                    port, &hints, &result);
  if (rc != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "cannot resolve \"%s\": %s", server, gai_strerror (rc));
      return FALSE;
    }
  memcpy (&bench.addr[node], result->ai_addr, result->ai_addrlen);
  bench.addr_len[node] = result->ai_addrlen;
  freeaddrinfo (result);
  return TRUE;
}

/* --server HOST:PORT[,HOST:PORT...]: one server, or the nodes of a cluster. */
static gboolean
resolve_server (const char *server, GError **error)
{
  g_auto(GStrv) nodes = g_strsplit (server, ",", -1);

  bench.n_nodes = g_strv_length (nodes);
  if (bench.n_nodes == 0 || bench.n_nodes > MAX_NODES)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "--server takes 1 to %d HOST:PORT", MAX_NODES);
      return FALSE;
    }
  for (guint i = 0; i < bench.n_nodes; i++)
    if (!resolve_node (nodes[i], i, error))
      return FALSE;
  return TRUE;
}

/* The node a connection starts on: a session's account spreads them; in a
 * pair, the receiver is on the node after the sender's, so that every
 * message crosses nodes when there are several. */
static guint
first_node (guint32 account)
{
  if (bench.mode == MODE_SESSIONS || bench.mode == MODE_FAILOVER || bench.mode == MODE_PREPARE)
    return account % bench.n_nodes;
  return (account / 2 + account % 2) % bench.n_nodes;
}

static void
account_free (gpointer data)
{
  Account *account = data;

  g_free (account->username);
  g_free (account->token);
  g_free (account);
}

/* Lines of "username token"; '#' starts a comment. */
static gboolean
load_accounts (const char *path, GError **error)
{
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;

  if (!g_file_get_contents (path, &contents, NULL, error))
    return FALSE;
  lines = g_strsplit (contents, "\n", 0);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) words = NULL;
      Account *account;

      g_strstrip (lines[i]);
      if (lines[i][0] == '\0' || lines[i][0] == '#')
        continue;
      words = g_strsplit_set (lines[i], " \t", 0);
      if (g_strv_length (words) != 2
          || !voip_validate_username (words[0], NULL)
          || !voip_validate_token (words[1], NULL))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "%s:%u: expected \"username token\"", path, i + 1);
          return FALSE;
        }
      account = g_new0 (Account, 1);
      account->username = g_strdup (words[0]);
      account->token = g_strdup (words[1]);
      g_ptr_array_add (bench.accounts, account);
    }
  return TRUE;
}

/* ---- connections ---- */

static void
conn_watch (Worker *w, Conn *c, gboolean want_out)
{
  struct epoll_event event = {
    .events = EPOLLIN | (want_out ? EPOLLOUT : 0),
    .data.u32 = (guint32) (c - w->conns),
  };

  if (c->want_out == want_out)
    return;
  c->want_out = want_out;
  epoll_ctl (w->epfd, EPOLL_CTL_MOD, c->fd, &event);
}

static void
conn_close (Worker *w, Conn *c)
{
  if (c->state == CONN_CLOSED)
    return;
  if (c->fd >= 0)
    close (c->fd);  /* also leaves the epoll set */
  c->fd = -1;
  c->state = CONN_CLOSED;
  g_clear_pointer (&c->out, g_free);
  c->out_len = c->out_off = 0;
  g_clear_pointer (&c->reader, voip_frame_reader_free);
  w->outstanding -= MIN (w->outstanding, c->outstanding);
  c->outstanding = 0;
}

static void
unit_finished (Worker *w, gboolean ok, guint n_accounts)
{
  if (ok)
    w->stats->held += n_accounts;
  else
    w->stats->failed += n_accounts;
  w->units_in_flight--;
  w->units_done++;
}

static void
conn_fail (Worker *w, Conn *c, const char *fmt, ...)
{
  g_autofree char *why = NULL;
  /* A logged-in connection already counted as held. */
  gboolean during_setup = c->state != CONN_LOGGED_IN;
  va_list args;

  if (c->state == CONN_CLOSED)
    return;
  va_start (args, fmt);
  why = g_strdup_vprintf (fmt, args);
  va_end (args);
  worker_note_error (w, "%s: %s", account_name (c->account), why);

  if (bench.mode == MODE_PREPARE)
    {
      Conn *peer = &w->conns[(c - w->conns) ^ 1];

      conn_close (w, c);
      conn_close (w, peer);
      unit_finished (w, FALSE, 2);
      return;
    }
  conn_close (w, c);
  if (during_setup && c->dropped_us == 0)
    unit_finished (w, FALSE, 1);
  else
    w->stats->lost++;   /* or, in failover, never back */
}

static void conn_start (Worker *w, Conn *c);

/* failover: a held session's node went away; the client moves to the
 * next node at once (no backoff: this measures the cluster, not voipd)
 * and resumes with its token. */
static gboolean
conn_fail_over (Worker *w, Conn *c)
{
  gint64 now = now_us ();

  if (bench.mode != MODE_FAILOVER || c->state != CONN_LOGGED_IN || bench.n_nodes < 2)
    return FALSE;
  conn_close (w, c);
  c->dropped_us = now;
  c->node = (c->node + 1) % bench.n_nodes;
  w->stats->dropped++;
  if (w->stats->first_drop_us == 0)
    w->stats->first_drop_us = now;
  w->stats->last_drop_us = now;
  c->state = CONN_IDLE;
  conn_start (w, c);
  return TRUE;
}

static void
conn_flush (Worker *w, Conn *c)
{
  while (c->out_off < c->out_len)
    {
      ssize_t n = send (c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        {
          conn_watch (w, c, TRUE);
          return;
        }
      if (n < 0)
        {
          conn_fail (w, c, "send: %s", g_strerror (errno));
          return;
        }
      c->out_off += n;
    }
  /* Drained: give the buffer back so that idle connections stay small. */
  g_clear_pointer (&c->out, g_free);
  c->out_len = c->out_off = 0;
  conn_watch (w, c, FALSE);
}

static void
conn_queue (Conn *c, const guint8 *data, gsize len)
{
  gsize pending = c->out_len - c->out_off;

  if (c->out_off > 0)
    memmove (c->out, c->out + c->out_off, pending);
  c->out = g_realloc (c->out, pending + len);
  memcpy (c->out + pending, data, len);
  c->out_len = pending + len;
  c->out_off = 0;
}

/* Sends one request; payload may be floating. */
static void
conn_request (Worker *w, Conn *c, guint16 code, GVariant *payload)
{
  g_autoptr(GBytes) frame = voip_frame_encode (VOIP_KIND_REQUEST, code, 0, ++c->next_id, payload);
  gsize len;
  const guint8 *data = g_bytes_get_data (frame, &len);

  c->outstanding++;
  if (c->out == NULL)
    {
      ssize_t n = send (c->fd, data, len, MSG_NOSIGNAL);

      if (n == (ssize_t) len)
        return;
      if (n < 0 && errno != EAGAIN && errno != EINTR)
        {
          conn_fail (w, c, "send: %s", g_strerror (errno));
          return;
        }
      if (n > 0)
        {
          data += n;
          len -= n;
        }
    }
  conn_queue (c, data, len);
  conn_watch (w, c, TRUE);
}

static void
conn_start (Worker *w, Conn *c)
{
  struct epoll_event event = { .events = EPOLLIN | EPOLLOUT, .data.u32 = (guint32) (c - w->conns) };
  int one = 1;

  if (c->dropped_us == 0)
    c->node = first_node (c->account);
  c->state = CONN_CONNECTING;
  c->fd = socket (bench.addr[c->node].ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0)
    {
      conn_fail (w, c, "socket: %s", g_strerror (errno));
      return;
    }
  setsockopt (c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect (c->fd, (struct sockaddr *) &bench.addr[c->node], bench.addr_len[c->node]) < 0
      && errno != EINPROGRESS)
    {
      conn_fail (w, c, "connect: %s", g_strerror (errno));
      return;
    }
  c->reader = voip_frame_reader_new ();
  c->want_out = TRUE;
  epoll_ctl (w->epfd, EPOLL_CTL_ADD, c->fd, &event);
}

static void
conn_login (Worker *w, Conn *c)
{
  Account *account = g_ptr_array_index (bench.accounts, c->account);

  if (bench.mode == MODE_PREPARE)
    {
      c->state = CONN_REGISTERING;
      conn_request (w, c, VOIP_MSG_REGISTER,
                    g_variant_new ("(sss)", account->username, BENCH_PASSWORD, ""));
    }
  else
    {
      c->state = CONN_RESUMING;
      conn_request (w, c, VOIP_MSG_RESUME,
                    g_variant_new ("(ss)", account->username, account->token));
    }
}

static void
store_token (Conn *c, GVariant *reply)
{
  const char *token = NULL;

  g_variant_get (reply, "(&s&s)", NULL, &token);
  g_strlcpy (bench.tokens + (gsize) c->account * TOKEN_SIZE, token, TOKEN_SIZE);
}

/* ---- sending messages ---- */

static void
send_text (Worker *w, Conn *sender, gint64 stamp_us)
{
  Conn *receiver = sender + 1;
  char client_id[48];

  g_string_printf (w->text, "t=%" G_GINT64_FORMAT " ", stamp_us);
  while (w->text->len < (gsize) bench.size)
    g_string_append_c (w->text, 'x');
  g_snprintf (client_id, sizeof client_id, "%08x-%u-%" G_GUINT64_FORMAT,
              bench.nonce, sender->account, sender->count++);
  conn_request (w, sender, VOIP_MSG_SEND_TEXT,
                g_variant_new ("(stss)", account_name (receiver->account),
                               (guint64) 0, client_id, w->text->str));
  w->outstanding++;
  w->stats->sent++;
}

static gboolean
sender_active (Worker *w, Conn *c)
{
  return c->state == CONN_LOGGED_IN && c[1].state == CONN_LOGGED_IN;
}

/* ---- frames from the server ---- */

static void
on_message_received (Worker *w, Conn *c, const VoipHeader *header, GBytes *payload)
{
  gint64 now = now_us ();
  WorkerStats *stats = w->stats;

  c->count++;
  stats->delivered++;
  if (w->go_us == 0)
    return;
  if (now >= w->window_start_us && now < w->window_end_us)
    stats->delivered_window++;
  if (now >= w->go_us && (now - w->go_us) / G_USEC_PER_SEC < MAX_SECONDS)
    stats->per_second[(now - w->go_us) / G_USEC_PER_SEC]++;

  if (bench.mode == MODE_LATENCY)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) message = voip_payload_decode (header, payload, &error);
      const char *text = NULL;
      gint64 sent_us;

      if (message == NULL)
        {
          worker_note_error (w, "MessageReceived: %s", error->message);
          return;
        }
      g_variant_get_child (message, 7, "&s", &text);
      if (!g_str_has_prefix (text, "t="))
        return;
      sent_us = g_ascii_strtoll (text + 2, NULL, 10);
      if (sent_us >= w->window_start_us && sent_us < w->window_end_us
          && stats->n_samples < bench.sample_cap)
        w->samples[stats->n_samples++] = (guint32) MIN (now - sent_us, (gint64) G_MAXUINT32);
    }
}

static void
on_befriended (Worker *w, Conn *c, guint16 status)
{
  gsize index = c - w->conns;
  Conn *peer = &w->conns[index ^ 1];

  if (status != VOIP_STATUS_OK && status != VOIP_STATUS_ALREADY_FRIEND
      && status != VOIP_STATUS_REQUEST_PENDING)
    {
      conn_fail (w, c, "ContactRequest: %s", voip_status_name (status));
      return;
    }
  c->state = CONN_LOGGED_IN;
  if (index % 2 == 0)
    {
      /* The receiver asks back, which accepts the sender's request. */
      peer->state = CONN_BEFRIENDING;
      conn_request (w, peer, VOIP_MSG_CONTACT_REQUEST,
                    g_variant_new ("(s)", account_name (c->account)));
      return;
    }
  conn_close (w, c);
  conn_close (w, peer);
  unit_finished (w, TRUE, 2);
}

static void
on_logged_in (Worker *w, Conn *c)
{
  gsize index = c - w->conns;
  Conn *peer = &w->conns[index ^ 1];

  c->state = CONN_LOGGED_IN;
  if (c->dropped_us != 0)
    {
      /* failover: back, on another node. */
      gint64 now = now_us ();

      if (w->stats->n_samples < bench.sample_cap)
        w->samples[w->stats->n_samples++] = (guint32) MIN (now - c->dropped_us,
                                                           (gint64) G_MAXUINT32);
      w->stats->recovered++;
      w->stats->last_recovery_us = now;
      c->dropped_us = 0;
      return;
    }
  if (bench.mode != MODE_PREPARE)
    {
      unit_finished (w, TRUE, 1);
      return;
    }
  if (peer->state != CONN_LOGGED_IN)
    return;
  /* Both are in: the sender asks. */
  if (index % 2 == 1)
    {
      c = peer;
      peer = &w->conns[index];
    }
  c->state = CONN_BEFRIENDING;
  conn_request (w, c, VOIP_MSG_CONTACT_REQUEST, g_variant_new ("(s)", account_name (peer->account)));
}

static void
on_reply (Worker *w, Conn *c, const VoipHeader *header, GBytes *payload)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;

  if (c->outstanding > 0)
    c->outstanding--;

  switch (c->state)
    {
    case CONN_REGISTERING:
    case CONN_LOGGING_IN:
      if (header->status == VOIP_STATUS_USER_EXISTS && c->state == CONN_REGISTERING)
        {
          /* A second prepare over the same database: log in instead. */
          c->state = CONN_LOGGING_IN;
          conn_request (w, c, VOIP_MSG_LOGIN,
                        g_variant_new ("(ss)", account_name (c->account), BENCH_PASSWORD));
          return;
        }
      if (header->status != VOIP_STATUS_OK)
        {
          conn_fail (w, c, "%s: %s", c->state == CONN_REGISTERING ? "Register" : "Login",
                     voip_status_name (header->status));
          return;
        }
      reply = voip_payload_decode (header, payload, &error);
      if (reply == NULL)
        {
          conn_fail (w, c, "bad reply: %s", error->message);
          return;
        }
      store_token (c, reply);
      on_logged_in (w, c);
      return;

    case CONN_RESUMING:
      if (header->status != VOIP_STATUS_OK)
        {
          conn_fail (w, c, "Resume: %s%s", voip_status_name (header->status),
                     header->status == VOIP_STATUS_RATE_LIMITED
                     ? " (raise [security] login-attempts-per-ip)" : "");
          return;
        }
      on_logged_in (w, c);
      return;

    case CONN_BEFRIENDING:
      on_befriended (w, c, header->status);
      return;

    case CONN_LOGGED_IN:
      if (header->code != VOIP_MSG_SEND_TEXT)
        return;  /* Ping */
      w->outstanding -= MIN (w->outstanding, 1);
      if (header->status != VOIP_STATUS_OK)
        {
          w->stats->send_errors++;
          worker_note_error (w, "SendText: %s", voip_status_name (header->status));
        }
      else
        {
          gint64 now = now_us ();

          w->stats->acked++;
          if (now >= w->window_start_us && now < w->window_end_us)
            w->stats->acked_window++;
        }
      if (bench.mode == MODE_THROUGHPUT && w->phase == PHASE_RUN && sender_active (w, c))
        send_text (w, c, now_us ());
      return;

    default:
      return;
    }
}

static void
on_event (Worker *w, Conn *c, const VoipHeader *header, GBytes *payload)
{
  if (header->code == VOIP_MSG_MESSAGE_RECEIVED)
    on_message_received (w, c, header, payload);
  else if (header->code == VOIP_MSG_SESSION_CLOSED)
    {
      g_autoptr(GVariant) event = voip_payload_decode (header, payload, NULL);
      guint32 reason = 0;
      const char *detail = "";

      if (event != NULL)
        g_variant_get (event, "(u&s)", &reason, &detail);
      conn_fail (w, c, "SessionClosed: reason %u (%s)", reason, detail);
    }
  /* Presence and contact events are read and dropped. */
}

static void
conn_read (Worker *w, Conn *c)
{
  for (int round = 0; round < 4; round++)
    {
      ssize_t n = recv (c->fd, w->scratch, SCRATCH_SIZE, 0);
      VoipHeader header;
      GBytes *payload = NULL;
      g_autoptr(GError) error = NULL;

      if (n == 0)
        {
          if (!conn_fail_over (w, c))
            conn_fail (w, c, "the server closed the connection");
          return;
        }
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          if (errno != EAGAIN && !conn_fail_over (w, c))
            conn_fail (w, c, "recv: %s", g_strerror (errno));
          return;
        }
      voip_frame_reader_feed (c->reader, w->scratch, n);
      while (c->state != CONN_CLOSED
             && voip_frame_reader_next (c->reader, &header, &payload, &error))
        {
          if (header.kind == VOIP_KIND_REPLY)
            on_reply (w, c, &header, payload);
          else if (header.kind == VOIP_KIND_EVENT)
            on_event (w, c, &header, payload);
          g_clear_pointer (&payload, g_bytes_unref);
        }
      if (error != NULL)
        {
          conn_fail (w, c, "bad frame: %s", error->message);
          return;
        }
      if (c->state == CONN_CLOSED || n < SCRATCH_SIZE)
        return;
    }
}

static void
conn_on_event (Worker *w, Conn *c, guint32 events)
{
  if (c->state == CONN_CLOSED || c->state == CONN_IDLE)
    return;  /* a stale event of a connection closed earlier in this batch */

  if (c->state == CONN_CONNECTING)
    {
      int err = 0;
      socklen_t len = sizeof err;

      if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
        return;
      getsockopt (c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0)
        {
          conn_fail (w, c, "connect: %s", g_strerror (err));
          return;
        }
      conn_watch (w, c, FALSE);
      conn_login (w, c);
      return;
    }
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
    conn_read (w, c);
  if (c->state != CONN_CLOSED && (events & EPOLLOUT))
    conn_flush (w, c);
}

/* ---- the worker's clock ---- */

static void
setup_tick (Worker *w, gint64 now)
{
  while (w->next_unit < w->n_units && w->units_in_flight < (guint) bench.batch)
    {
      guint unit = w->next_unit++;

      w->units_in_flight++;
      for (guint i = 0; i < w->unit_size; i++)
        {
          Conn *c = &w->conns[unit * w->unit_size + i];

          if (c->state == CONN_IDLE)
            conn_start (w, c);
        }
    }

  if (now > w->setup_deadline_us && w->units_done < w->n_units)
    {
      worker_note_error (w, "setup timed out after %d s", bench.timeout);
      for (guint i = 0; i < w->n_conns; i++)
        if (w->conns[i].state != CONN_LOGGED_IN && w->conns[i].state != CONN_CLOSED
            && w->conns[i].state != CONN_IDLE)
          conn_fail (w, &w->conns[i], "no answer within %d s", bench.timeout);
      /* Units that never started. */
      w->stats->failed += (w->n_units - w->next_unit) * w->unit_size;
      w->units_done += w->n_units - w->next_unit;
      w->next_unit = w->n_units;
    }

  if (w->units_done < w->n_units)
    return;
  w->stats->setup_us = now - w->setup_start_us;
  __atomic_store_n (&w->stats->ready, 1, __ATOMIC_RELEASE);
  switch (bench.mode)
    {
    case MODE_PREPARE:    w->phase = PHASE_EXIT; break;
    case MODE_SESSIONS:
    case MODE_FAILOVER:   w->phase = PHASE_HOLD; w->next_ping_us = now + PING_INTERVAL_US; break;
    case MODE_THROUGHPUT:
    case MODE_LATENCY:    w->phase = PHASE_WAIT; break;
    default:              g_assert_not_reached ();
    }
}

static void
wait_tick (Worker *w, gint64 now)
{
  gint64 go = __atomic_load_n (&bench.control->go_us, __ATOMIC_ACQUIRE);

  if (__atomic_load_n (&bench.control->stop, __ATOMIC_ACQUIRE))
    {
      w->phase = PHASE_EXIT;
      return;
    }
  if (go == 0 || now < go)
    return;
  w->go_us = go;
  w->window_start_us = go + (gint64) bench.warmup * G_USEC_PER_SEC;
  w->window_end_us = w->window_start_us + (gint64) bench.duration * G_USEC_PER_SEC;
  w->phase = PHASE_RUN;

  for (guint i = 0; i < w->n_conns; i += 2)
    {
      Conn *sender = &w->conns[i];

      if (!sender_active (w, sender))
        continue;
      if (bench.mode == MODE_THROUGHPUT)
        for (gint k = 0; k < bench.window; k++)
          send_text (w, sender, now);
      else
        /* Spread the senders evenly over one interval: global pair index
         * i/2 * procs + worker index. */
        sender->next_send_us = go + w->interval_us
                               * ((i / 2) * bench.procs + w->index) / bench.pairs;
    }
}

static void
run_tick (Worker *w, gint64 now)
{
  if (now >= w->window_end_us)
    {
      w->phase = PHASE_DRAIN;
      w->drain_deadline_us = now + DRAIN_US;
      return;
    }
  if (bench.mode != MODE_LATENCY)
    return;
  for (guint i = 0; i < w->n_conns; i += 2)
    {
      Conn *sender = &w->conns[i];

      if (!sender_active (w, sender))
        continue;
      while (sender->next_send_us <= now && sender->state == CONN_LOGGED_IN)
        {
          if (sender->outstanding >= (guint32) bench.window)
            {
              /* Open loop, bounded: the send waits, and its stamp stays the
               * scheduled time, so the wait counts in the latency. */
              w->stats->window_full++;
              break;
            }
          send_text (w, sender, sender->next_send_us);
          sender->next_send_us += w->interval_us;
        }
    }
}

static void
drain_tick (Worker *w, gint64 now)
{
  if ((w->outstanding == 0 && w->stats->delivered >= w->stats->acked)
      || now >= w->drain_deadline_us)
    w->phase = PHASE_EXIT;
}

static void
hold_tick (Worker *w, gint64 now)
{
  if (__atomic_load_n (&bench.control->stop, __ATOMIC_ACQUIRE))
    {
      w->phase = PHASE_EXIT;
      return;
    }
  if (now < w->next_ping_us)
    return;
  w->next_ping_us = now + PING_INTERVAL_US;
  for (guint i = 0; i < w->n_conns; i++)
    if (w->conns[i].state == CONN_LOGGED_IN)
      conn_request (w, &w->conns[i], VOIP_MSG_PING, g_variant_new ("()"));
}

static int
worker_timeout_ms (Worker *w)
{
  switch (w->phase)
    {
    case PHASE_RUN:  return bench.mode == MODE_LATENCY ? 1 : 10;
    case PHASE_HOLD: return 100;
    default:         return 5;
    }
}

static void G_GNUC_NORETURN
worker_main (guint index)
{
  Worker worker = { .index = index };
  Worker *w = &worker;
  struct epoll_event events[512];
  guint n_units;

  prctl (PR_SET_PDEATHSIG, SIGKILL);
  raise_nofile_limit ();

  w->stats = &bench.stats[index];
  w->samples = bench.samples + (gsize) index * bench.sample_cap;
  w->scratch = g_malloc (SCRATCH_SIZE);
  w->text = g_string_sized_new (bench.size + 32);
  w->epfd = epoll_create1 (EPOLL_CLOEXEC);
  w->unit_size = bench.mode == MODE_PREPARE ? 2 : 1;
  if (bench.pairs > 0)
    w->interval_us = (gint64) G_USEC_PER_SEC * bench.pairs / MAX (bench.rate, 1);

  /* This worker's share: clients i ≡ index (mod procs), or pairs likewise. */
  if (is_pair_mode ())
    {
      n_units = (bench.pairs - index + bench.procs - 1) / bench.procs;
      w->n_conns = n_units * 2;
      w->conns = g_new0 (Conn, w->n_conns);
      for (guint u = 0; u < n_units; u++)
        {
          guint pair = u * bench.procs + index;

          w->conns[2 * u].account = 2 * pair;
          w->conns[2 * u + 1].account = 2 * pair + 1;
        }
      w->n_units = bench.mode == MODE_PREPARE ? n_units : w->n_conns;
    }
  else
    {
      n_units = (bench.clients - index + bench.procs - 1) / bench.procs;
      w->n_conns = n_units;
      w->conns = g_new0 (Conn, w->n_conns);
      for (guint u = 0; u < n_units; u++)
        w->conns[u].account = (u * bench.procs + index) % bench.accounts->len;
      w->n_units = n_units;
    }
  for (guint i = 0; i < w->n_conns; i++)
    w->conns[i].fd = -1;
  w->stats->assigned = w->n_conns;
  if (w->n_conns + 64 > nofile_limit ())
    worker_note_error (w, "%u connections need more than the open-file limit %" G_GUINT64_FORMAT,
                       w->n_conns, nofile_limit ());

  w->setup_start_us = now_us ();
  w->setup_deadline_us = w->setup_start_us + (gint64) bench.timeout * G_USEC_PER_SEC;

  while (w->phase != PHASE_EXIT)
    {
      int n = epoll_wait (w->epfd, events, G_N_ELEMENTS (events), worker_timeout_ms (w));
      gint64 now;

      if (n < 0 && errno != EINTR)
        g_error ("epoll_wait: %s", g_strerror (errno));
      for (int i = 0; i < n; i++)
        conn_on_event (w, &w->conns[events[i].data.u32], events[i].events);

      now = now_us ();
      switch (w->phase)
        {
        case PHASE_SETUP: setup_tick (w, now); break;
        case PHASE_WAIT:  wait_tick (w, now);  break;
        case PHASE_RUN:   run_tick (w, now);   break;
        case PHASE_DRAIN: drain_tick (w, now); break;
        case PHASE_HOLD:  hold_tick (w, now);  break;
        case PHASE_EXIT:  break;
        default:          g_assert_not_reached ();
        }
    }

  __atomic_store_n (&w->stats->done, 1, __ATOMIC_RELEASE);
  _exit (0);
}

/* ---- the parent ---- */

static GPid *workers;

static void
start_workers (void)
{
  workers = g_new0 (GPid, bench.procs);
  fflush (stdout);
  fflush (stderr);
  for (gint i = 0; i < bench.procs; i++)
    {
      pid_t pid = fork ();

      if (pid < 0)
        g_error ("fork: %s", g_strerror (errno));
      if (pid == 0)
        worker_main (i);
      workers[i] = pid;
    }
}

/* Waits until every worker has set the flag at offset (ready or done), or a
 * worker died, or the deadline passed. */
static gboolean
wait_workers (gsize flag_offset, gint64 deadline_us)
{
  for (;;)
    {
      gboolean all = TRUE;

      for (gint i = 0; i < bench.procs; i++)
        {
          gint *flag = (gint *) ((guint8 *) &bench.stats[i] + flag_offset);
          int status;

          if (__atomic_load_n (flag, __ATOMIC_ACQUIRE))
            continue;
          all = FALSE;
          if (workers[i] > 0 && waitpid (workers[i], &status, WNOHANG) == workers[i])
            {
              g_printerr ("voip-bench: worker %d ended early (status %d)\n", i, status);
              workers[i] = 0;
              return FALSE;
            }
        }
      if (all)
        return TRUE;
      if (now_us () > deadline_us)
        return FALSE;
      g_usleep (20 * 1000);
    }
}

static void
reap_workers (void)
{
  __atomic_store_n (&bench.control->stop, 1, __ATOMIC_RELEASE);
  for (gint i = 0; i < bench.procs; i++)
    if (workers[i] > 0)
      {
        gint64 deadline = now_us () + 10 * G_USEC_PER_SEC;
        int status;

        while (waitpid (workers[i], &status, WNOHANG) == 0)
          {
            if (now_us () > deadline)
              {
                kill (workers[i], SIGKILL);
                waitpid (workers[i], &status, 0);
                break;
              }
            g_usleep (10 * 1000);
          }
        workers[i] = 0;
      }
}

static WorkerStats
sum_stats (void)
{
  WorkerStats sum = { 0 };

  for (gint i = 0; i < bench.procs; i++)
    {
      const WorkerStats *s = &bench.stats[i];

      sum.assigned += s->assigned;
      sum.held += s->held;
      sum.failed += s->failed;
      sum.lost += s->lost;
      sum.setup_us = MAX (sum.setup_us, s->setup_us);
      sum.sent += s->sent;
      sum.acked += s->acked;
      sum.acked_window += s->acked_window;
      sum.send_errors += s->send_errors;
      sum.delivered += s->delivered;
      sum.delivered_window += s->delivered_window;
      sum.window_full += s->window_full;
      for (guint k = 0; k < MAX_SECONDS; k++)
        sum.per_second[k] += s->per_second[k];
      sum.n_samples += s->n_samples;
      sum.dropped += s->dropped;
      sum.recovered += s->recovered;
      if (s->first_drop_us != 0
          && (sum.first_drop_us == 0 || s->first_drop_us < sum.first_drop_us))
        sum.first_drop_us = s->first_drop_us;
      sum.last_drop_us = MAX (sum.last_drop_us, s->last_drop_us);
      sum.last_recovery_us = MAX (sum.last_recovery_us, s->last_recovery_us);
      if (sum.error[0] == '\0' && s->error[0] != '\0')
        memcpy (sum.error, s->error, sizeof sum.error);
    }
  return sum;
}

static void
print_title (const char *what)
{
  g_print ("\nvoip-bench %s - server %s, %d worker process%s\n",
           what, bench.server, bench.procs, bench.procs == 1 ? "" : "es");
  g_print ("  %-34s %s\n", "measure", "value");
  g_print ("  %-34s %s\n", "----------------------------------", "--------------------");
}

static void G_GNUC_PRINTF (2, 3)
print_row (const char *name, const char *fmt, ...)
{
  g_autofree char *value = NULL;
  va_list args;

  va_start (args, fmt);
  value = g_strdup_vprintf (fmt, args);
  va_end (args);
  g_print ("  %-34s %s\n", name, value);
}

static void
print_error (const WorkerStats *sum)
{
  if (sum->error[0] != '\0')
    print_row ("first error", "%s", sum->error);
}

static double
rate_per_s (guint64 count, gint64 us)
{
  return us > 0 ? (double) count * G_USEC_PER_SEC / us : 0.0;
}

static int
run_prepare (void)
{
  g_autoptr(GString) out = g_string_new ("# voip-bench accounts: username token; pair k = lines 2k, 2k+1\n");
  g_autoptr(GError) error = NULL;
  WorkerStats sum;
  gint64 start = now_us ();

  start_workers ();
  wait_workers (G_STRUCT_OFFSET (WorkerStats, ready),
                start + (gint64) (bench.timeout + 10) * G_USEC_PER_SEC);
  reap_workers ();
  sum = sum_stats ();

  for (guint i = 0; i < bench.accounts->len; i++)
    {
      const char *token = bench.tokens + (gsize) i * TOKEN_SIZE;

      if (token[0] != '\0')
        g_string_append_printf (out, "%s %s\n", account_name (i), token);
    }
  if (!g_file_set_contents (bench.accounts_path, out->str, out->len, &error))
    {
      g_printerr ("voip-bench: %s\n", error->message);
      return 1;
    }

  print_title ("prepare");
  print_row ("accounts registered and paired", "%" G_GUINT64_FORMAT " of %u",
             sum.held, bench.accounts->len);
  print_row ("friend pairs", "%" G_GUINT64_FORMAT, sum.held / 2);
  print_row ("failed accounts", "%" G_GUINT64_FORMAT, sum.failed);
  print_row ("time", "%.2f s (%.0f accounts/s)", (now_us () - start) / 1e6,
             rate_per_s (sum.held, now_us () - start));
  print_row ("accounts file", "%s", bench.accounts_path);
  print_error (&sum);
  return sum.failed == 0 ? 0 : 1;
}

/* The RSS of --server-pids summed (or of --server-pid); -1 if unknown. */
static gint64
servers_rss_kib (void)
{
  g_auto(GStrv) pids = NULL;
  gint64 sum = 0;

  if (bench.server_pids == NULL)
    return process_rss_kib (bench.server_pid);
  pids = g_strsplit (bench.server_pids, ",", -1);
  for (guint i = 0; pids[i] != NULL; i++)
    {
      gint64 rss = process_rss_kib ((gint) g_ascii_strtoll (pids[i], NULL, 10));

      if (rss < 0)
        return -1;
      sum += rss;
    }
  return sum;
}

static int
run_sessions (void)
{
  gint64 rss_before = servers_rss_kib ();
  gint64 rss_after, start = now_us ();
  gboolean ready;
  WorkerStats sum;

  start_workers ();
  ready = wait_workers (G_STRUCT_OFFSET (WorkerStats, ready),
                        start + (gint64) (bench.timeout + 10) * G_USEC_PER_SEC);
  /* Let the server settle (presence fan-out, freed login buffers). */
  g_usleep ((gulong) bench.hold * G_USEC_PER_SEC);
  rss_after = servers_rss_kib ();
  sum = sum_stats ();
  reap_workers ();

  print_title ("sessions");
  print_row ("sessions requested", "%d (over %u accounts)", bench.clients, bench.accounts->len);
  print_row ("sessions held", "%" G_GUINT64_FORMAT, sum.held - sum.lost);
  print_row ("failed to log in", "%" G_GUINT64_FORMAT, sum.failed);
  print_row ("closed by the server while held", "%" G_GUINT64_FORMAT, sum.lost);
  print_row ("log-in time (Resume)", "%.2f s (%.0f sessions/s)", sum.setup_us / 1e6,
             rate_per_s (sum.held, sum.setup_us));
  if (rss_before >= 0 && rss_after >= 0)
    {
      guint64 held = sum.held - sum.lost;

      print_row ("server RSS before", "%.1f MiB", rss_before / 1024.0);
      print_row ("server RSS holding them", "%.1f MiB (after %d s)", rss_after / 1024.0, bench.hold);
      print_row ("server RSS per session", "%.1f KiB",
                 held > 0 ? (double) (rss_after - rss_before) / held : 0.0);
    }
  else
    print_row ("server RSS", "n/a (give --server-pid)");
  print_error (&sum);
  return ready && sum.failed == 0 && sum.lost == 0 ? 0 : 1;
}

static int
compare_u32 (const void *a, const void *b)
{
  guint32 x = *(const guint32 *) a, y = *(const guint32 *) b;

  return x < y ? -1 : x > y;
}

static double
percentile_ms (const guint32 *sorted, guint64 n, double p)
{
  if (n == 0)
    return 0.0;
  return sorted[(guint64) ((n - 1) * p + 0.5)] / 1000.0;
}

static int
run_messages (void)
{
  gint64 start = now_us (), go, window_start, window_end, cpu_start, cpu_end;
  gint64 rss_before = process_rss_kib (bench.server_pid);
  g_autoptr(GHashTable) threads_start = NULL;
  g_autoptr(GHashTable) threads_end = NULL;
  gboolean ok;
  WorkerStats sum;

  start_workers ();
  ok = wait_workers (G_STRUCT_OFFSET (WorkerStats, ready),
                     start + (gint64) (bench.timeout + 10) * G_USEC_PER_SEC);
  if (!ok)
    {
      reap_workers ();
      sum = sum_stats ();
      g_printerr ("voip-bench: the clients did not all log in (%" G_GUINT64_FORMAT
                  " of %" G_GUINT64_FORMAT "): %s\n", sum.held, sum.assigned, sum.error);
      return 1;
    }
  go = now_us () + 100 * 1000;
  window_start = go + (gint64) bench.warmup * G_USEC_PER_SEC;
  window_end = window_start + (gint64) bench.duration * G_USEC_PER_SEC;
  __atomic_store_n (&bench.control->go_us, go, __ATOMIC_RELEASE);

  g_usleep (MAX (window_start - now_us (), 0));
  cpu_start = process_cpu_us (bench.server_pid);
  threads_start = process_thread_cpu_us (bench.server_pid);
  g_usleep (MAX (window_end - now_us (), 0));
  cpu_end = process_cpu_us (bench.server_pid);
  threads_end = process_thread_cpu_us (bench.server_pid);

  wait_workers (G_STRUCT_OFFSET (WorkerStats, done), now_us () + DRAIN_US + 5 * G_USEC_PER_SEC);
  reap_workers ();
  sum = sum_stats ();

  print_title (bench.mode == MODE_THROUGHPUT ? "throughput" : "latency");
  print_row ("friend pairs (sender -> receiver)", "%d (%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
             " clients logged in)", bench.pairs, sum.held, sum.assigned);
  if (bench.mode == MODE_THROUGHPUT)
    print_row ("window per sender", "%d outstanding SendText", bench.window);
  else
    print_row ("offered load", "%d messages/s (%.1f/s per sender)", bench.rate,
               (double) bench.rate / bench.pairs);
  print_row ("message text", "%d bytes", bench.size);
  print_row ("measured window", "%d s after %d s warm-up", bench.duration, bench.warmup);
  print_row ("acknowledged (durable) /s", "%.0f",
             rate_per_s (sum.acked_window, window_end - window_start));
  print_row ("delivered MessageReceived /s", "%.0f",
             rate_per_s (sum.delivered_window, window_end - window_start));
  {
    g_autoptr(GString) seconds = g_string_new (NULL);
    guint first = bench.warmup, last = MIN (bench.warmup + bench.duration, MAX_SECONDS);

    for (guint k = first; k < last; k++)
      g_string_append_printf (seconds, "%s%.1fk", k == first ? "" : " ", sum.per_second[k] / 1000.0);
    print_row ("delivered in each second", "%s", seconds->str);
  }
  print_row ("sent / acked / delivered (total)", "%" G_GUINT64_FORMAT " / %" G_GUINT64_FORMAT
             " / %" G_GUINT64_FORMAT, sum.sent, sum.acked, sum.delivered);
  print_row ("acked but not delivered", "%" G_GUINT64_FORMAT,
             sum.acked > sum.delivered ? sum.acked - sum.delivered : 0);
  print_row ("error replies", "%" G_GUINT64_FORMAT, sum.send_errors);
  if (bench.mode == MODE_LATENCY)
    {
      guint32 *all = g_new (guint32, MAX (sum.n_samples, 1));
      guint64 n = 0;

      for (gint i = 0; i < bench.procs; i++)
        {
          memcpy (all + n, bench.samples + (gsize) i * bench.sample_cap,
                  bench.stats[i].n_samples * sizeof (guint32));
          n += bench.stats[i].n_samples;
        }
      qsort (all, n, sizeof (guint32), compare_u32);
      print_row ("latency samples", "%" G_GUINT64_FORMAT, n);
      print_row ("latency p50", "%.2f ms", percentile_ms (all, n, 0.50));
      print_row ("latency p90", "%.2f ms", percentile_ms (all, n, 0.90));
      print_row ("latency p99", "%.2f ms", percentile_ms (all, n, 0.99));
      print_row ("latency max", "%.2f ms", n > 0 ? all[n - 1] / 1000.0 : 0.0);
      print_row ("sends delayed by a full window", "%" G_GUINT64_FORMAT, sum.window_full);
      g_free (all);
    }
  if (cpu_start >= 0 && cpu_end >= 0)
    {
      g_autoptr(GString) split = g_string_new (NULL);
      GHashTableIter iter;
      gpointer name, us;

      g_hash_table_iter_init (&iter, threads_end);
      while (g_hash_table_iter_next (&iter, &name, &us))
        {
          gint64 busy = (gint64) GPOINTER_TO_SIZE (us)
                        - (gint64) GPOINTER_TO_SIZE (g_hash_table_lookup (threads_start, name));

          if (busy * 100 >= window_end - window_start)  /* 1% or more */
            g_string_append_printf (split, "%s%s %.0f%%", split->len ? ", " : "", (char *) name,
                                    100.0 * busy / (window_end - window_start));
        }
      print_row ("server CPU during the window", "%.0f%% of one core (%s)",
                 100.0 * (cpu_end - cpu_start) / (window_end - window_start), split->str);
    }
  if (rss_before >= 0 && process_rss_kib (bench.server_pid) >= 0)
    print_row ("server RSS before / after", "%.1f / %.1f MiB", rss_before / 1024.0,
               process_rss_kib (bench.server_pid) / 1024.0);
  else if (rss_before >= 0)
    print_row ("server RSS before / after", "%.1f MiB / the server is gone", rss_before / 1024.0);
  print_error (&sum);
  return sum.failed == 0 && sum.lost == 0 && sum.send_errors == 0
         && sum.acked <= sum.delivered ? 0 : 1;
}

/* Holds --clients sessions spread over the nodes of --server, prints
 * "ready" once they are in (the caller then kills a node), and waits until
 * every dropped session is logged in again on another node. */
static int
run_failover (void)
{
  gint64 start = now_us ();
  gint64 deadline;
  guint32 *all;
  guint64 n = 0;
  gboolean ready;
  WorkerStats sum;

  start_workers ();
  ready = wait_workers (G_STRUCT_OFFSET (WorkerStats, ready),
                        start + (gint64) (bench.timeout + 10) * G_USEC_PER_SEC);
  sum = sum_stats ();
  g_print ("ready: %" G_GUINT64_FORMAT " sessions over %u nodes\n", sum.held, bench.n_nodes);
  fflush (stdout);
  /* The drops, then the quiet that says they are over and everyone is back. */
  deadline = now_us () + (gint64) bench.timeout * G_USEC_PER_SEC;
  for (;;)
    {
      gint64 now = now_us ();

      sum = sum_stats ();
      if (sum.dropped > 0 && sum.recovered + sum.lost >= sum.dropped
          && now - sum.last_drop_us > FAILOVER_QUIET_US)
        break;
      if (now > deadline)
        break;
      g_usleep (50 * 1000);
    }
  reap_workers ();
  sum = sum_stats ();

  all = g_new (guint32, MAX (sum.n_samples, 1));
  for (gint i = 0; i < bench.procs; i++)
    {
      memcpy (all + n, bench.samples + (gsize) i * bench.sample_cap,
              bench.stats[i].n_samples * sizeof (guint32));
      n += bench.stats[i].n_samples;
    }
  qsort (all, n, sizeof (guint32), compare_u32);
  print_title ("failover");
  print_row ("sessions held", "%" G_GUINT64_FORMAT " over %u nodes", sum.held, bench.n_nodes);
  print_row ("dropped (their node died)", "%" G_GUINT64_FORMAT, sum.dropped);
  print_row ("back on another node", "%" G_GUINT64_FORMAT, sum.recovered);
  print_row ("never back", "%" G_GUINT64_FORMAT, sum.dropped - MIN (sum.dropped, sum.recovered));
  print_row ("drop -> logged in p50", "%.1f ms", percentile_ms (all, n, 0.50));
  print_row ("drop -> logged in p99", "%.1f ms", percentile_ms (all, n, 0.99));
  print_row ("drop -> logged in max", "%.1f ms", n > 0 ? all[n - 1] / 1000.0 : 0.0);
  if (sum.first_drop_us != 0 && sum.last_recovery_us != 0)
    print_row ("first drop -> all back", "%.1f ms",
               (sum.last_recovery_us - sum.first_drop_us) / 1000.0);
  print_error (&sum);
  g_free (all);
  return ready && sum.dropped > 0 && sum.recovered == sum.dropped ? 0 : 1;
}

static void *
map_shared (gsize size)
{
  void *memory = mmap (NULL, size, PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

  if (memory == MAP_FAILED)
    g_error ("mmap %" G_GSIZE_FORMAT " bytes: %s", size, g_strerror (errno));
  return memory;
}

static const char usage[] =
  "MODE is one of:\n"
  "  prepare     register 2 x --pairs accounts (benchNNNNN), befriend each pair,\n"
  "              write \"username token\" lines to --accounts\n"
  "  sessions    hold --clients logged-in sessions (Resume with the tokens);\n"
  "              report the server's RSS per session (--server-pid)\n"
  "  throughput  --pairs senders pipeline SendText (--window each); count\n"
  "              MessageReceived per second at the receivers\n"
  "  latency     the same pairs at --rate messages/s in total; report the\n"
  "              send -> MessageReceived latency percentiles\n"
  "  failover    hold --clients sessions over the nodes of --server, print\n"
  "              \"ready\"; when a node dies, its sessions resume on the next\n"
  "              node at once; report the time from drop to logged in\n"
  "--server may list the nodes of a cluster (HOST:PORT,HOST:PORT,...): pairs\n"
  "then have the receiver on the node after the sender's.\n";

int
main (int argc, char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  const char *mode;
  int status;
  GOptionEntry entries[] = {
    { "server", 's', 0, G_OPTION_ARG_STRING, &bench.server, "Server address, or the nodes'",
      "HOST:PORT[,...]" },
    { "server-pid", 0, 0, G_OPTION_ARG_INT, &bench.server_pid, "Server process, for RSS and CPU", "PID" },
    { "server-pids", 0, 0, G_OPTION_ARG_STRING, &bench.server_pids,
      "sessions: the nodes' processes, their RSS summed", "PID,PID,..." },
    { "accounts", 'a', 0, G_OPTION_ARG_FILENAME, &bench.accounts_path, "Account file", "FILE" },
    { "clients", 'c', 0, G_OPTION_ARG_INT, &bench.clients, "sessions: connections to hold (10000)", "N" },
    { "pairs", 'p', 0, G_OPTION_ARG_INT, &bench.pairs, "Friend pairs (500)", "N" },
    { "procs", 'j', 0, G_OPTION_ARG_INT, &bench.procs, "Worker processes (2)", "N" },
    { "duration", 'd', 0, G_OPTION_ARG_INT, &bench.duration, "Measured seconds (10)", "S" },
    { "warmup", 0, 0, G_OPTION_ARG_INT, &bench.warmup, "Seconds before measuring (1)", "S" },
    { "rate", 'r', 0, G_OPTION_ARG_INT, &bench.rate, "latency: total messages/s (5000)", "N" },
    { "window", 'w', 0, G_OPTION_ARG_INT, &bench.window,
      "Outstanding SendText per sender (throughput 16, latency 256)", "N" },
    { "size", 0, 0, G_OPTION_ARG_INT, &bench.size, "Message text bytes (64)", "N" },
    { "hold", 0, 0, G_OPTION_ARG_INT, &bench.hold, "sessions: seconds to hold before reading RSS (5)", "S" },
    { "timeout", 0, 0, G_OPTION_ARG_INT, &bench.timeout, "Seconds allowed for logging in (120)", "S" },
    { "batch", 0, 0, G_OPTION_ARG_INT, &bench.batch, "Log-ins in flight per worker (64)", "N" },
    { NULL }
  };

  bench.procs = 2;
  bench.clients = 10000;
  bench.pairs = 500;
  bench.duration = 10;
  bench.warmup = 1;
  bench.rate = 5000;
  bench.size = 64;
  bench.hold = 5;
  bench.timeout = 120;
  bench.batch = 64;

  context = g_option_context_new ("MODE - load a voip-server");
  g_option_context_set_description (context, usage);
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("voip-bench: %s\n", error->message);
      return 2;
    }
  if (argc != 2 || bench.server == NULL)
    {
      g_printerr ("usage: voip-bench MODE --server HOST:PORT [OPTION...]\n%s", usage);
      return 2;
    }
  mode = argv[1];
  if (g_str_equal (mode, "prepare"))
    bench.mode = MODE_PREPARE;
  else if (g_str_equal (mode, "sessions"))
    bench.mode = MODE_SESSIONS;
  else if (g_str_equal (mode, "throughput"))
    bench.mode = MODE_THROUGHPUT;
  else if (g_str_equal (mode, "latency"))
    bench.mode = MODE_LATENCY;
  else if (g_str_equal (mode, "failover"))
    bench.mode = MODE_FAILOVER;
  else
    {
      g_printerr ("voip-bench: unknown mode \"%s\"\n%s", mode, usage);
      return 2;
    }
  if (bench.window <= 0)
    bench.window = bench.mode == MODE_LATENCY ? 256 : 16;
  if (bench.procs < 1 || bench.pairs < 1 || bench.clients < 1 || bench.duration < 1
      || bench.duration + bench.warmup >= MAX_SECONDS || bench.rate < 1 || bench.batch < 1
      || bench.size < 24 || bench.size > VOIP_TEXT_MAX || bench.warmup < 0 || bench.hold < 0)
    {
      g_printerr ("voip-bench: an option is out of range\n");
      return 2;
    }
  if (bench.accounts_path == NULL)
    bench.accounts_path = g_strdup ("bench-accounts.txt");
  if (!resolve_server (bench.server, &error))
    {
      g_printerr ("voip-bench: %s\n", error->message);
      return 2;
    }

  raise_nofile_limit ();
  bench.accounts = g_ptr_array_new_with_free_func (account_free);
  if (bench.mode == MODE_PREPARE)
    {
      for (gint i = 0; i < 2 * bench.pairs; i++)
        {
          Account *account = g_new0 (Account, 1);

          account->username = g_strdup_printf ("bench%05d", i);
          g_ptr_array_add (bench.accounts, account);
        }
      bench.tokens = map_shared ((gsize) bench.accounts->len * TOKEN_SIZE);
    }
  else
    {
      if (!load_accounts (bench.accounts_path, &error))
        {
          g_printerr ("voip-bench: %s (run \"voip-bench prepare\" first)\n", error->message);
          return 2;
        }
      if (bench.accounts->len == 0
          || (is_pair_mode () && bench.accounts->len < (guint) bench.pairs * 2))
        {
          g_printerr ("voip-bench: %s has %u accounts; %s needs %d\n", bench.accounts_path,
                      bench.accounts->len, mode, is_pair_mode () ? bench.pairs * 2 : 1);
          return 2;
        }
    }
  if (is_pair_mode ())
    bench.procs = MIN (bench.procs, bench.pairs);
  else
    bench.procs = MIN (bench.procs, bench.clients);

  bench.nonce = g_random_int ();
  bench.control = map_shared (sizeof (Control));
  bench.stats = map_shared (sizeof (WorkerStats) * bench.procs);
  if (bench.mode == MODE_LATENCY)
    bench.sample_cap = (guint64) bench.rate * (bench.duration + 1) + 1024;
  else if (bench.mode == MODE_FAILOVER)
    bench.sample_cap = (guint64) bench.clients + 1024;
  bench.samples = map_shared (MAX (bench.sample_cap, 1) * sizeof (guint32) * bench.procs);

  switch (bench.mode)
    {
    case MODE_PREPARE:    status = run_prepare ();  break;
    case MODE_SESSIONS:   status = run_sessions (); break;
    case MODE_THROUGHPUT:
    case MODE_LATENCY:    status = run_messages (); break;
    case MODE_FAILOVER:   status = run_failover (); break;
    default:              g_assert_not_reached ();
    }
  g_ptr_array_unref (bench.accounts);
  return status;
}
