/* server-dispatch.h — from a decoded request to its handler. */
#pragma once

#include "server.h"

G_BEGIN_DECLS

void     server_dispatch (Server *server, ServerSession *session, const ServerRequest *request);
/* TRUE when every request of the catalogue has a handler (checked at start
 * and by the unit tests, so the two tables cannot drift apart). */
gboolean server_dispatch_is_complete (GError **error);

G_END_DECLS
