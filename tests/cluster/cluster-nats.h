/* cluster-nats.h — nats-server processes for the cluster tests.
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

typedef struct _ClusterNats ClusterNats;

/* Starts `count` nats-servers (1: a lone server; more: a cluster where each
 * routes to the others) and waits until every one accepts connections. */
ClusterNats *cluster_nats_new  (guint count);
/* Stops every server still running (SIGTERM, exit checked). */
void         cluster_nats_free (ClusterNats *nats);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ClusterNats, cluster_nats_free)

/* "nats://127.0.0.1:PORT" of server i. */
const char  *cluster_nats_get_url (ClusterNats *nats, guint i);
/* Every server's URL, comma-separated, for [cluster] nats. */
char        *cluster_nats_get_urls (ClusterNats *nats);
/* SIGKILL on server i, for the fault tests. */
void         cluster_nats_kill (ClusterNats *nats, guint i);
/* SIGSTOP on server i: it accepts bytes into its sockets and answers
 * nothing, as a hung machine; end it with cluster_nats_kill(). */
void         cluster_nats_freeze (ClusterNats *nats, guint i);

G_END_DECLS
