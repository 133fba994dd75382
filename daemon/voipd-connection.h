/* voipd-connection.h — one connection to voip-server: requests and events. */
#pragma once

#include <gio/gio.h>
#include "voip-proto.h"

G_BEGIN_DECLS

/* A request the server has not answered in this long fails with
 * G_IO_ERROR_TIMED_OUT (the keepalive separately catches a dead link). */
#define VOIPD_REQUEST_TIMEOUT_S 30
/* Opening the connection (TCP and the TLS handshake) gives up after this. */
#define VOIPD_CONNECT_TIMEOUT_S 10

#define VOIPD_TYPE_CONNECTION (voipd_connection_get_type ())
G_DECLARE_FINAL_TYPE (VoipdConnection, voipd_connection, VOIPD, CONNECTION, GObject)

/* How far the server's certificate is trusted. */
typedef enum {
  VOIPD_TLS_TRUST_NONE,        /* plain TCP */
  VOIPD_TLS_TRUST_VERIFIED,    /* validated by the CA file or the system's authorities */
  VOIPD_TLS_TRUST_PINNED,      /* not validated, but the fingerprint pinned for this server */
  VOIPD_TLS_TRUST_FIRST_USE,   /* not validated and nothing pinned: trusted on first use;
                                * the caller pins its fingerprint */
} VoipdTlsTrust;

/* What a connection trusts. With ca_file, only certificates that its CAs
 * sign are accepted. Without, the system's authorities decide, and a
 * certificate they do not validate is accepted only if its SHA-256
 * fingerprint is pinned_fingerprint, or, when nothing is pinned, on first
 * use (VOIPD_TLS_TRUST_FIRST_USE). */
typedef struct {
  gboolean    tls;
  const char *ca_file;              /* PEM; NULL or "": the system's authorities */
  const char *pinned_fingerprint;   /* as voipd_connection_get_tls_fingerprint(); NULL: none */
} VoipdConnectOptions;

/* Signals:
 *   "event" (guint code, GVariant *payload)  an event frame from the server
 *   "lost"  (GError *error)                  the connection broke (emitted once;
 *                                             not after voipd_connection_close)
 */
VoipdConnection *voipd_connection_new (guint keepalive_interval_s);

/* server is HOST:PORT. A connect still in flight is cancelled (it fails with
 * G_IO_ERROR_CANCELLED) and an open connection closed first. A certificate
 * refused under `options` fails with G_TLS_ERROR_BAD_CERTIFICATE and a
 * message that says why (both fingerprints when a pinned one changed). */
void      voipd_connection_connect_async  (VoipdConnection *self, const char *server,
                                           const VoipdConnectOptions *options,
                                           GCancellable *cancellable,
                                           GAsyncReadyCallback callback, gpointer user_data);
gboolean  voipd_connection_connect_finish (VoipdConnection *self, GAsyncResult *result,
                                           GError **error);

/* payload may be floating. The reply's payload, or an error: VOIP_ERROR with
 * the status when the server refused (or TOO_LARGE, with nothing sent, when
 * the payload does not fit in a frame), G_IO_ERROR when the connection
 * failed, G_IO_ERROR_TIMED_OUT after the request timeout, and
 * G_IO_ERROR_CANCELLED (from an idle) once `cancellable` is cancelled; a late
 * reply to a cancelled or timed-out request is dropped. */
void      voipd_connection_request_async  (VoipdConnection *self, guint16 code, GVariant *payload,
                                           GCancellable *cancellable,
                                           GAsyncReadyCallback callback, gpointer user_data);
GVariant *voipd_connection_request_finish (VoipdConnection *self, GAsyncResult *result,
                                           GError **error);
/* For tests: the timeout of the requests made from now on (default
 * VOIPD_REQUEST_TIMEOUT_S seconds). */
void      voipd_connection_set_request_timeout_ms (VoipdConnection *self, guint timeout_ms);

/* Closes now; pending requests fail with G_IO_ERROR_CLOSED, a connect in
 * flight with G_IO_ERROR_CANCELLED. */
void      voipd_connection_close (VoipdConnection *self);
gboolean  voipd_connection_is_open (VoipdConnection *self);
/* The address the connection reached (an IP address as text), or NULL when
 * closed. */
char     *voipd_connection_dup_remote_host (VoipdConnection *self);

/* Of the open connection: whether it is TLS and how its certificate is
 * trusted, and the SHA-256 fingerprint of that certificate, as upper-case
 * hex pairs joined by colons (as `openssl x509 -fingerprint -sha256` prints
 * it); NULL over plain TCP. */
VoipdTlsTrust voipd_connection_get_tls_trust       (VoipdConnection *self);
const char   *voipd_connection_get_tls_fingerprint (VoipdConnection *self);
/* The fingerprint of a certificate, in that form. */
char         *voipd_tls_certificate_fingerprint    (GTlsCertificate *certificate);

G_END_DECLS
