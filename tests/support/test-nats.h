/* test-nats.h — nats-server processes for the cluster tests and the two-node
 * harness of test-server.c (VOIP_TEST_CLUSTER=1).
 *
 * Each server listens for clients on a free loopback port, and, in a
 * cluster of several, for routes on another; its output is copied to the
 * test's stderr behind "[nats-N]". nats-server 2.9 ends on SIGTERM with
 * "Server Exiting.." and exit status 1 (its signal handler calls
 * os.Exit(1)): that, and nothing else, is a clean stop.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _TestNats TestNats;

/* Starts `count` nats-servers (1: a lone server; more: a cluster where each
 * routes to the others) and waits until every one accepts connections. */
TestNats *test_nats_new  (guint count);
/* Stops every server still running (SIGTERM, exit checked). */
void         test_nats_free (TestNats *nats);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TestNats, test_nats_free)

/* "nats://127.0.0.1:PORT" of server i. */
const char  *test_nats_get_url (TestNats *nats, guint i);
/* Every server's URL, comma-separated, for [cluster] nats. */
char        *test_nats_get_urls (TestNats *nats);
/* SIGKILL on server i, for the fault tests. */
void         test_nats_kill (TestNats *nats, guint i);
/* SIGSTOP on server i: it accepts bytes into its sockets and answers
 * nothing, as a hung machine; end it with test_nats_kill(). */
void         test_nats_freeze (TestNats *nats, guint i);

G_END_DECLS
