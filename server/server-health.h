/* server-health.h — the health probe for a load balancer ([server] health).
 *
 * A TCP listener that answers each connection with one HTTP/1.0 response
 * and closes it: "200 OK" while the node serves, "503 Service Unavailable"
 * while it shuts down or (in a cluster) has lost its link to NATS. HAProxy
 * checks it with `option httpchk` and `check port` (data/haproxy.cfg); a
 * plain TCP check works too. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _ServerHealth ServerHealth;

/* Whether the node serves now; asked on every probe. */
typedef gboolean (*ServerHealthCheck) (gpointer user_data, const char **reason);

ServerHealth *server_health_new  (const char *address, ServerHealthCheck check,
                                  gpointer user_data, GError **error);
void          server_health_free (ServerHealth *self);
/* "ADDR:PORT" it listens on. */
const char   *server_health_get_address (ServerHealth *self);

G_END_DECLS
