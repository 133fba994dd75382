/* voipd-connection.h — one connection to voip-server: requests and events. */
#pragma once

#include <gio/gio.h>
#include "voip-proto.h"

G_BEGIN_DECLS

#define VOIPD_TYPE_CONNECTION (voipd_connection_get_type ())
G_DECLARE_FINAL_TYPE (VoipdConnection, voipd_connection, VOIPD, CONNECTION, GObject)

/* Signals:
 *   "event" (guint code, GVariant *payload)  an event frame from the server
 *   "lost"  (GError *error)                  the connection broke (emitted once;
 *                                             not after voipd_connection_close)
 */
VoipdConnection *voipd_connection_new (guint keepalive_interval_s);

/* server is HOST:PORT. */
void      voipd_connection_connect_async  (VoipdConnection *self, const char *server,
                                           gboolean tls, GCancellable *cancellable,
                                           GAsyncReadyCallback callback, gpointer user_data);
gboolean  voipd_connection_connect_finish (VoipdConnection *self, GAsyncResult *result,
                                           GError **error);

/* payload may be floating. The reply's payload, or an error: VOIP_ERROR with
 * the status when the server refused, G_IO_ERROR when the connection failed. */
void      voipd_connection_request_async  (VoipdConnection *self, guint16 code, GVariant *payload,
                                           GCancellable *cancellable,
                                           GAsyncReadyCallback callback, gpointer user_data);
GVariant *voipd_connection_request_finish (VoipdConnection *self, GAsyncResult *result,
                                           GError **error);

/* Closes now; pending requests fail with G_IO_ERROR_CLOSED. */
void      voipd_connection_close (VoipdConnection *self);
gboolean  voipd_connection_is_open (VoipdConnection *self);
/* The address the connection reached (an IP address as text), or NULL when
 * closed. */
char     *voipd_connection_dup_remote_host (VoipdConnection *self);

G_END_DECLS
