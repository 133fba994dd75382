/* voipd-resync.h — bringing the local state in step with the server after
 * each login.
 *
 * One asynchronous operation (a GTask): own presence and profile, friends,
 * pending requests, groups, every message after the cache's last seq (page
 * by page, one cache transaction a page), then the outbox. It stops at the
 * first failed request, when the account is no longer online, or when
 * `cancellable` is cancelled (a newer resync, the account going away); the
 * reconnection then starts it again from the beginning. */
#pragma once

#include "voipd-account.h"

G_BEGIN_DECLS

/* The resync of `username`'s login on `connection` into `cache` and the
 * account's objects; `skeleton` receives the own profile; `wanted_presence`
 * is what the user chose (set again on the server unless it is online, the
 * server's default). */
void     voipd_resync_async  (VoipdAccount        *account,
                              VoipdConnection     *connection,
                              VoipdCache          *cache,
                              const char          *username,
                              VoipDBusAccount     *skeleton,
                              VoipPresence         wanted_presence,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data);
/* TRUE once everything is in step; FALSE with the reason otherwise. */
gboolean voipd_resync_finish (VoipdAccount        *account,
                              GAsyncResult        *result,
                              GError             **error);

G_END_DECLS
