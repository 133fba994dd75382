/* server-tls.h — TLS on client connections: the certificate served, the
 * protocol versions and ciphers allowed (a GnuTLS priority string; TLS 1.2
 * and later only, RFC 8996), and what the start-up log says about them. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _ServerTls ServerTls;

/* Loads the PEM certificate (chain) and key and makes `priority` the GnuTLS
 * priority of every TLS connection of this process. A priority GnuTLS cannot
 * parse, or one that allows SSL 3.0, TLS 1.0 or TLS 1.1, or neither TLS 1.2
 * nor 1.3, is an error. GIO's GnuTLS backend reads the priority once per
 * process (from G_TLS_GNUTLS_PRIORITY, which this sets): call it before any
 * TLS connection exists, and with the same priority every time. */
ServerTls  *server_tls_new             (const char *certificate, const char *key,
                                        const char *priority, GError **error);
void        server_tls_free            (ServerTls *self);

/* Starts server-side TLS on an accepted connection; the handshake is the
 * caller's. */
GIOStream  *server_tls_wrap            (ServerTls *self, GIOStream *base, GError **error);
/* After a successful handshake: an error if the connection still ended up on
 * a protocol older than TLS 1.2 (a TLS backend that ignores the priority). */
gboolean    server_tls_check_handshake (GTlsConnection *connection, GError **error);

/* "subject CN=…, SHA-256 AB:CD:…, valid until …; priority …", for the log. */
const char *server_tls_get_description (ServerTls *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ServerTls, server_tls_free)

G_END_DECLS
