/* server-password.c — argon2id (libsodium crypto_pwhash_str) in a thread pool.
 *
 * Hashing costs tens of milliseconds and tens of MiB by design; it runs on
 * worker threads and its result comes back to the main context. */
#define G_LOG_DOMAIN "voip-server"

#include <sodium.h>
#include <string.h>

#include "server-password.h"

struct _ServerPassword {
  GThreadPool  *pool;
  GMainContext *context;
  unsigned long long opslimit;
  size_t        memlimit;
  char          dummy_hash[crypto_pwhash_STRBYTES];
};

typedef struct {
  ServerPassword  *owner;
  char            *password;
  char            *hash;          /* verify: the stored hash; hash: the result */
  gboolean         verify;
  gboolean         matches;
  ServerHashDone   hash_done;
  ServerVerifyDone verify_done;
  gpointer         user_data;
} PasswordJob;

static void
password_job_free (PasswordJob *job)
{
  if (job->password)
    sodium_memzero (job->password, strlen (job->password));
  g_free (job->password);
  g_free (job->hash);
  g_free (job);
}

static gboolean
on_job_done (gpointer data)
{
  PasswordJob *job = data;

  if (job->verify)
    job->verify_done (job->matches, job->user_data);
  else
    job->hash_done (g_steal_pointer (&job->hash), job->user_data);
  password_job_free (job);
  return G_SOURCE_REMOVE;
}

static void
run_job (gpointer data, gpointer pool_data)
{
  PasswordJob *job = data;
  ServerPassword *self = pool_data;

  if (job->verify)
    {
      const char *hash = job->hash ? job->hash : self->dummy_hash;
      job->matches = crypto_pwhash_str_verify (hash, job->password, strlen (job->password)) == 0
                     && job->hash != NULL;
    }
  else
    {
      char out[crypto_pwhash_STRBYTES];

      if (crypto_pwhash_str (out, job->password, strlen (job->password),
                             self->opslimit, self->memlimit) == 0)
        job->hash = g_strdup (out);
      else
        g_warning ("password hashing failed (out of memory?)");
    }
  g_main_context_invoke (self->context, on_job_done, job);
}

ServerPassword *
server_password_new (ServerHashCost cost, guint threads, GError **error)
{
  g_autoptr(ServerPassword) self = g_new0 (ServerPassword, 1);
  static const char dummy[] = "voip dummy password";

  if (sodium_init () < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "libsodium failed to initialise");
      return NULL;
    }
  switch (cost)
    {
    case SERVER_HASH_INTERACTIVE:
      self->opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
      self->memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
      break;
    case SERVER_HASH_MODERATE:
      self->opslimit = crypto_pwhash_OPSLIMIT_MODERATE;
      self->memlimit = crypto_pwhash_MEMLIMIT_MODERATE;
      break;
    case SERVER_HASH_MINIMUM:
      g_warning ("password-hash=minimum: passwords are hashed with almost no cost; "
                 "for tests and benchmarks only");
      self->opslimit = crypto_pwhash_OPSLIMIT_MIN;
      self->memlimit = crypto_pwhash_MEMLIMIT_MIN;
      break;
    }
  if (crypto_pwhash_str (self->dummy_hash, dummy, strlen (dummy),
                         self->opslimit, self->memlimit) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot hash passwords (out of memory)");
      return NULL;
    }
  self->context = g_main_context_ref_thread_default ();
  self->pool = g_thread_pool_new (run_job, self, threads, FALSE, error);
  if (self->pool == NULL)
    return NULL;
  return g_steal_pointer (&self);
}

void
server_password_free (ServerPassword *self)
{
  if (self == NULL)
    return;
  /* Wait for running jobs; their results are dropped with the main loop. */
  if (self->pool)
    g_thread_pool_free (self->pool, TRUE, TRUE);
  if (self->context)
    g_main_context_unref (self->context);
  g_free (self);
}

void
server_password_hash (ServerPassword *self, const char *password,
                      ServerHashDone done, gpointer user_data)
{
  PasswordJob *job = g_new0 (PasswordJob, 1);

  job->owner = self;
  job->password = g_strdup (password);
  job->hash_done = done;
  job->user_data = user_data;
  g_thread_pool_push (self->pool, job, NULL);
}

void
server_password_verify (ServerPassword *self, const char *password, const char *hash,
                        ServerVerifyDone done, gpointer user_data)
{
  PasswordJob *job = g_new0 (PasswordJob, 1);

  job->owner = self;
  job->password = g_strdup (password);
  job->hash = g_strdup (hash);
  job->verify = TRUE;
  job->verify_done = done;
  job->user_data = user_data;
  g_thread_pool_push (self->pool, job, NULL);
}

char *
server_token_new (void)
{
  guint8 raw[32];
  char hex[sizeof raw * 2 + 1];

  randombytes_buf (raw, sizeof raw);
  sodium_bin2hex (hex, sizeof hex, raw, sizeof raw);
  sodium_memzero (raw, sizeof raw);
  return g_strdup (hex);
}

char *
server_token_hash (const char *token)
{
  /* A plain hash suffices: the token has 256 bits of entropy, so nothing
   * can be guessed from the stored value, and lookups stay an index probe. */
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, token, -1);
}
