/* voipd-tls-pins.h — trust on first use: the pinned certificate of each server.
 *
 * A server whose certificate neither the tls-ca-file nor the system's
 * authorities validate is trusted on first use: the SHA-256 fingerprint of
 * its certificate is kept in the GSettings key tls-pinned-certificates
 * (a{ss}, "HOST:PORT" → fingerprint), as ssh keeps known_hosts, and from
 * then on only that certificate is accepted from that server. Removing the
 * entry (gsettings, dconf-editor) trusts the next certificate again. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The pinned fingerprint of `server`, or NULL. */
char    *voipd_tls_pins_lookup (GSettings *settings, const char *server);
/* Pins `fingerprint` for `server` (replacing any pin it had). */
gboolean voipd_tls_pins_store  (GSettings *settings, const char *server,
                                const char *fingerprint);

G_END_DECLS
