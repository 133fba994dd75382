/* test-server.h — runs the real voip-server binary for a test.
 *
 * The binary is the one in the VOIP_SERVER environment variable (meson sets
 * it to the built voip-server). Each TestServer has its own temporary
 * directory holding voip.db and server.conf; the configuration defaults to
 * fast password hashing and generous login rate limits, and a test may
 * change it before starting. The server is started as
 *
 *   voip-server --listen 127.0.0.1:0 --database DIR/voip.db --config DIR/server.conf
 *
 * and is ready once it prints "listening on 127.0.0.1:PORT". It runs with
 * fatal-criticals added to G_DEBUG, and is killed if the test process dies.
 * Its stdout and stderr are copied to the test's stderr, prefixed with
 * "[voip-server]"; a sanitizer report or critical among them fails the test
 * (tests/support/test-process.h), and so does an exit after SIGTERM that is
 * not a clean exit with status 0.
 *
 * With VOIP_TEST_CLUSTER=1 on PostgreSQL (VOIP_TEST_CLUSTER=1
 * tests/run-postgresql.sh BUILD), a TestServer is a two-node cluster: a
 * second voip-server on the same database, a nats-server of its own between
 * them, and test clients that connect to the two nodes in turn; stopping or
 * killing the server stops or kills both. Not in CI: on 2026-12-02 8 of the
 * 12 integration programs fail that way, on what one node guarantees and a
 * cluster does not (an event from the other node may come after the reply
 * or the Ping that orders it on one node; per-node address limits; calls).
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _TestServer TestServer;

/* A temporary directory and the default test configuration; not started. */
TestServer *test_server_new        (void);
/* test_server_new() and test_server_start(). */
TestServer *test_server_new_started (void);
/* Stops the server if still running (test_server_stop(), which checks its
 * exit) and removes the directory (kept when VOIP_TEST_KEEP is set). */
void        test_server_free       (TestServer *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TestServer, test_server_free)

/* Where the next start listens instead of 127.0.0.1:0 (ADDR:PORT, PORT 0 for
 * any), and, if netns is not NULL, the network namespace it runs in (through
 * `ip netns exec NETNS`; root only). For the NAT tests. */
void        test_server_set_listen (TestServer *server, const char *address, const char *netns);

/* The configuration written to server.conf at each start; change it freely
 * before test_server_start(). */
GKeyFile   *test_server_get_config (TestServer *server);
const char *test_server_get_dir    (TestServer *server);

/* Writes the configuration, starts the server and waits until it listens;
 * failing to start fails the test. May be called again after a stop or kill
 * to restart on the same database (on a new port). */
void        test_server_start      (TestServer *server);
guint16     test_server_get_port   (TestServer *server);
/* The UDP port of the server's STUN responder, from its "stun on ADDR:PORT"
 * line (the test configuration sets [stun] port=0); waits for that line, and
 * returns 0 if the server closed its output without printing it (STUN off). */
guint16     test_server_get_stun_port (TestServer *server);
/* The first line the running server has printed so far (stdout and stderr)
 * that contains `text`, or NULL. Everything it logs before it listens is
 * there once test_server_start() has returned. */
char       *test_server_find_output (TestServer *server, const char *text);
gboolean    test_server_is_running (TestServer *server);

/* SIGTERM, then waits (up to timeout_ms) for the exit. Returns TRUE if the
 * server exited in time; its wait status is in *wait_status. Not exiting in
 * time (it is then killed), exiting otherwise than with status 0 or having
 * printed a report fails the test. */
gboolean    test_server_stop       (TestServer *server, guint timeout_ms, int *wait_status);
/* SIGKILL and reap, for the tests of crashes (its exit is not checked, but
 * what it printed before is). */
void        test_server_kill       (TestServer *server);

G_END_DECLS
