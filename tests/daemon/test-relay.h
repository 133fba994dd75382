/* test-relay.h — a TCP relay in front of the voip-server for daemon tests.
 *
 * The daemon remembers its server as HOST:PORT, but TestServer restarts the
 * server on a new port. The daemons therefore connect to a relay on a port
 * that stays, and the relay forwards each connection to the server's current
 * port. While the server is down (target 0) the relay does not listen, so a
 * connection is refused as it would be without the relay; when the server
 * dies, the relayed connections close with it.
 *
 * The relay runs in a thread of its own, so it forwards while the test is
 * blocked (in a voipctl call, say).
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _TestRelay TestRelay;

/* Listens on 127.0.0.1 (a free port) and forwards to 127.0.0.1:target_port. */
TestRelay *test_relay_new        (guint16 target_port);
void       test_relay_free       (TestRelay *relay);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TestRelay, test_relay_free)

guint16    test_relay_get_port   (TestRelay *relay);
/* New connections go to this port from now on (0: refuse them); returns
 * once the relay listens, or no longer does. */
void       test_relay_set_target (TestRelay *relay, guint16 target_port);

/* No server behind, but the relay listens and closes each connection at once
 * (a proxy in front of a server that is down); until the next set_target. */
void       test_relay_hang_up    (TestRelay *relay);

G_END_DECLS
