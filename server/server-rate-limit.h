/* server-rate-limit.h — token buckets keyed by a string (an address, an account). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _ServerRateLimit ServerRateLimit;

/* Each key may spend `burst` tokens at once, and gets `refill_per_second` back. */
ServerRateLimit *server_rate_limit_new  (double burst, double refill_per_second);
void             server_rate_limit_free (ServerRateLimit *self);

/* TRUE if the key still has a token (and takes it). */
gboolean server_rate_limit_take  (ServerRateLimit *self, const char *key);
/* TRUE if the key has a token, without taking it. */
gboolean server_rate_limit_check (ServerRateLimit *self, const char *key);
/* Forgets buckets that have refilled completely; call now and then. */
void     server_rate_limit_prune (ServerRateLimit *self);
guint    server_rate_limit_size  (ServerRateLimit *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ServerRateLimit, server_rate_limit_free)

G_END_DECLS
