/* server-stun.h — the embedded STUN responder: answers Binding requests on
 * UDP with the address they came from, so that clients learn their public
 * address (their server-reflexive ICE candidate) without a STUN server of
 * their own. */
#pragma once

#include <sys/socket.h>

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _ServerStun ServerStun;

/* Binds UDP on address:port (port 0: any free port) and answers in the
 * thread-default main context until freed. */
ServerStun *server_stun_new         (GInetAddress *address, guint16 port, GError **error);
void        server_stun_free        (ServerStun *self);
/* "ADDR:PORT" as bound ("[ADDR]:PORT" for IPv6). */
const char *server_stun_get_address (ServerStun *self);
guint16     server_stun_get_port    (ServerStun *self);

/* Answers one datagram: request[0..request_len) arrived from `from`. Writes
 * the answer into response (a Binding success with the mapped address, or a
 * 420 error naming unknown comprehension-required attributes) and returns
 * its length, or 0 when the datagram is to be dropped (not STUN, not a
 * Binding request, a wrong FINGERPRINT, response_size too small). Pure: it
 * touches nothing but response, and is safe from any thread. */
gsize server_stun_build_response (const guint8 *request, gsize request_len,
                                  const struct sockaddr_storage *from, socklen_t from_len,
                                  guint8 *response, gsize response_size);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ServerStun, server_stun_free)

G_END_DECLS
