/* cluster-proxy.h — a TCP proxy on loopback that the test can cut.
 *
 * A node that reaches its NATS server through the proxy loses the link when
 * the test cuts it (every connection closed, new ones closed at once) and
 * gets it back when the test restores it, while the NATS server and the
 * other nodes live on: "a node lost NATS for a while". The proxy runs on a
 * thread of its own, with its own GMainContext.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _ClusterProxy ClusterProxy;

/* Listens on a free loopback port and forwards to 127.0.0.1:target_port. */
ClusterProxy *cluster_proxy_new  (guint16 target_port);
void          cluster_proxy_free (ClusterProxy *proxy);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ClusterProxy, cluster_proxy_free)

guint16       cluster_proxy_get_port (ClusterProxy *proxy);
/* Cut: closes every connection and refuses new ones; uncut: forwards again. */
void          cluster_proxy_set_cut  (ClusterProxy *proxy, gboolean cut);

G_END_DECLS
