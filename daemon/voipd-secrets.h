/* voipd-secrets.h — the session token in the user's keyring (libsecret).
 *
 * Only the server's session token is stored, never the password, keyed by
 * server and username. Everything here fails fast instead of prompting: a
 * daemon has no one to show a prompt to. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

void      voipd_secrets_store_async  (const char *server, const char *username, const char *token,
                                      GCancellable *cancellable, GAsyncReadyCallback callback,
                                      gpointer user_data);
gboolean  voipd_secrets_store_finish (GAsyncResult *result, GError **error);

/* The token, or NULL (with no error when there is simply none stored). */
void      voipd_secrets_lookup_async  (const char *server, const char *username,
                                       GCancellable *cancellable, GAsyncReadyCallback callback,
                                       gpointer user_data);
char     *voipd_secrets_lookup_finish (GAsyncResult *result, GError **error);

void      voipd_secrets_clear_async  (const char *server, const char *username,
                                      GCancellable *cancellable, GAsyncReadyCallback callback,
                                      gpointer user_data);
gboolean  voipd_secrets_clear_finish (GAsyncResult *result, GError **error);

G_END_DECLS
