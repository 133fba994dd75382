/* server-rate-limit.c — token buckets. A full bucket is the same as no
 * bucket, so prune() keeps the table as small as the set of recent offenders. */
#include "server-rate-limit.h"

typedef struct {
  double tokens;
  gint64 updated_us;
} Bucket;

struct _ServerRateLimit {
  GHashTable *buckets;   /* char* → Bucket* */
  double      burst;
  double      refill_per_us;
};

ServerRateLimit *
server_rate_limit_new (double burst, double refill_per_second)
{
  ServerRateLimit *self = g_new0 (ServerRateLimit, 1);

  self->buckets = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->burst = burst;
  self->refill_per_us = refill_per_second / G_USEC_PER_SEC;
  return self;
}

void
server_rate_limit_free (ServerRateLimit *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->buckets);
  g_free (self);
}

static double
bucket_refill (ServerRateLimit *self, Bucket *bucket, gint64 now_us)
{
  bucket->tokens = MIN (self->burst,
                        bucket->tokens + (now_us - bucket->updated_us) * self->refill_per_us);
  bucket->updated_us = now_us;
  return bucket->tokens;
}

static gboolean
rate_limit_spend (ServerRateLimit *self, const char *key, gboolean take)
{
  gint64 now_us = g_get_monotonic_time ();
  Bucket *bucket = g_hash_table_lookup (self->buckets, key);

  if (bucket == NULL)
    {
      if (!take)
        return self->burst >= 1;
      bucket = g_new (Bucket, 1);
      bucket->tokens = self->burst;
      bucket->updated_us = now_us;
      g_hash_table_insert (self->buckets, g_strdup (key), bucket);
    }
  if (bucket_refill (self, bucket, now_us) < 1)
    return FALSE;
  if (take)
    bucket->tokens -= 1;
  return TRUE;
}

gboolean
server_rate_limit_take (ServerRateLimit *self, const char *key)
{
  return rate_limit_spend (self, key, TRUE);
}

gboolean
server_rate_limit_check (ServerRateLimit *self, const char *key)
{
  return rate_limit_spend (self, key, FALSE);
}

void
server_rate_limit_prune (ServerRateLimit *self)
{
  gint64 now_us = g_get_monotonic_time ();
  GHashTableIter iter;
  Bucket *bucket;

  g_hash_table_iter_init (&iter, self->buckets);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &bucket))
    if (bucket_refill (self, bucket, now_us) >= self->burst)
      g_hash_table_iter_remove (&iter);
}

guint
server_rate_limit_size (ServerRateLimit *self)
{
  return g_hash_table_size (self->buckets);
}
