/* store-thread.c — the store thread and group commit.
 *
 * The main loop queues jobs; the thread takes every job waiting (up to
 * BATCH_MAX), runs them in one transaction with a savepoint each, commits
 * once, and hands the whole batch back to the main context in one idle
 * source. Under load one fsync covers a whole batch; when idle a lone job
 * is committed at once, so group commit adds no latency.
 */
#define G_LOG_DOMAIN "voip-store"

#include "store-backend.h"

/* Bounds the work one transaction holds (and one done burst on the main
 * loop) so the main loop keeps getting replies out under a flood. */
#define BATCH_MAX 1024

typedef struct {
  StoreWorkFunc work;
  StoreDoneFunc done;
  gpointer      job;
  gboolean      ran;
  gboolean      lost;        /* its work went on past a database error (see run_job) */
  gboolean      committed;
} StoreJob;

/* Queued by store_close(); FIFO order makes every earlier job run first. */
static StoreJob close_marker;

void
store_run (Store *store, StoreWorkFunc work, StoreDoneFunc done, gpointer job)
{
  StoreJob *entry;

  g_return_if_fail (store != NULL);
  g_return_if_fail (work != NULL);

  entry = g_new0 (StoreJob, 1);
  entry->work = work;
  entry->done = done;
  entry->job = job;

  g_atomic_int_inc (&store->n_jobs);
  g_async_queue_push (store->queue, entry);
}

guint
store_queue_length (Store *store)
{
  g_return_val_if_fail (store != NULL, 0);
  return (guint) g_atomic_int_get (&store->n_jobs);
}

guint
store_commit_count (Store *store)
{
  g_return_val_if_fail (store != NULL, 0);
  return (guint) g_atomic_int_get (&store->n_commits);
}

/* ---- on the main context ------------------------------------------------- */

static gboolean
deliver_batch (gpointer data)
{
  GPtrArray *batch = data;

  for (guint i = 0; i < batch->len; i++)
    {
      StoreJob *entry = g_ptr_array_index (batch, i);

      if (entry->done != NULL)
        entry->done (entry->job, entry->committed);
    }
  return G_SOURCE_REMOVE;
}

/* ---- on the store thread ------------------------------------------------- */

typedef enum {
  JOB_APPLIED,   /* work succeeded; its changes are in the transaction */
  JOB_UNDONE,    /* work failed; its savepoint was rolled back */
  JOB_BROKEN,    /* the transaction can no longer be trusted */
} JobOutcome;

/* Runs one job in its own savepoint. Any doubt about what the savepoint
 * holds (it could not be created, released or rolled back, or the database
 * ended the whole transaction under the job, as SQLite does on a full disk
 * or an I/O error and PostgreSQL when the connection breaks) makes the
 * transaction BROKEN, so that a failed job's changes can never reach the
 * disk. */
static JobOutcome
run_job (Store *store, StoreJob *entry)
{
  const StoreBackend *backend = store->backend;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  if (!backend->txn (store, STORE_TXN_SAVEPOINT, &error))
    {
      g_warning ("%s", error->message);
      return JOB_BROKEN;
    }

  entry->ran = TRUE;
  ok = entry->work (store, entry->job);

  if (!backend->in_transaction (store))
    {
      g_warning ("the database rolled back a transaction during a job");
      return JOB_BROKEN;
    }

  if (ok)
    {
      if (backend->txn (store, STORE_TXN_RELEASE, &error))
        return JOB_APPLIED;

      /* PostgreSQL refuses to release a savepoint in which a statement
       * failed: the work returned TRUE past an error. Its changes cannot be
       * trusted, so they are undone like a failed job's, and the job hears
       * that nothing was applied. */
      g_warning ("%s", error->message);
      g_clear_error (&error);
      entry->lost = TRUE;
    }

  /* ROLLBACK TO undoes the job but keeps the savepoint open; RELEASE
   * closes it, leaving the transaction as it was before the job. */
  if (!backend->txn (store, STORE_TXN_ROLLBACK_TO, &error) ||
      !backend->txn (store, STORE_TXN_RELEASE, &error))
    {
      g_warning ("%s", error->message);
      return JOB_BROKEN;
    }
  return JOB_UNDONE;
}

/* A job whose work never ran is never reported committed: its done
 * function would find no result. */
static void
set_committed (GPtrArray *batch, guint from, guint to, gboolean committed)
{
  for (guint i = from; i < to; i++)
    {
      StoreJob *entry = g_ptr_array_index (batch, i);

      entry->committed = committed && entry->ran && !entry->lost;
    }
}

/* Runs jobs [*next, len) in one transaction and commits it. If the
 * transaction breaks under a job, it is rolled back, the jobs run in it so
 * far are reported not committed, and it returns early: the caller starts
 * a new transaction for the rest, so they neither share the lost work's
 * fate nor run outside a transaction. */
static void
run_transaction (Store *store, GPtrArray *batch, guint *next)
{
  g_autoptr(GError) error = NULL;
  guint first = *next;

  if (!store->backend->txn (store, STORE_TXN_BEGIN, &error))
    {
      /* An unreachable database is logged by the backend when it is lost
       * and found again, not once per batch in between. */
      if (g_error_matches (error, STORE_ERROR, STORE_ERROR_UNAVAILABLE))
        g_debug ("%s", error->message);
      else
        g_warning ("%s", error->message);
      set_committed (batch, first, batch->len, FALSE);
      *next = batch->len;
      return;
    }

  while (*next < batch->len)
    {
      JobOutcome outcome = run_job (store, g_ptr_array_index (batch, *next));

      (*next)++;
      if (outcome == JOB_BROKEN)
        {
          g_warning ("rolling back a transaction of %u jobs", *next - first);
          store->backend->txn (store, STORE_TXN_ROLLBACK, NULL);
          set_committed (batch, first, *next, FALSE);
          return;
        }
    }

  if (store->backend->txn (store, STORE_TXN_COMMIT, &error))
    {
      set_committed (batch, first, batch->len, TRUE);
      g_atomic_int_inc (&store->n_commits);
      return;
    }

  /* A failed COMMIT may leave the transaction open (SQLITE_BUSY); end it
   * so that the next batch starts clean. */
  g_warning ("%s", error->message);
  store->backend->txn (store, STORE_TXN_ROLLBACK, NULL);
  set_committed (batch, first, batch->len, FALSE);
}

static void
run_batch (Store *store, GPtrArray *batch)
{
  GSource *source;
  guint next = 0;

  while (next < batch->len)
    run_transaction (store, batch, &next);

  g_debug ("ran a batch of %u jobs", batch->len);
  g_atomic_int_add (&store->n_jobs, -(gint) batch->len);

  /* One source per batch, carrying the batch (not the store, which may be
   * closed before the main loop gets to it). Sources of one priority are
   * dispatched in the order they were attached, which keeps done calls in
   * submission order across batches too. */
  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_static_name (source, "[voip-store] done");
  g_source_set_callback (source, deliver_batch, g_ptr_array_ref (batch),
                         (GDestroyNotify) g_ptr_array_unref);
  g_source_attach (source, store->main_context);
  g_source_unref (source);
}

static gpointer
store_thread_main (gpointer data)
{
  Store *store = data;
  gboolean closing = FALSE;

  store->owner = g_thread_self ();

  while (!closing)
    {
      g_autoptr(GPtrArray) batch = g_ptr_array_new_with_free_func (g_free);
      StoreJob *entry = g_async_queue_pop (store->queue);

      /* Block for the first job, then take whatever else is already there. */
      while (entry != NULL)
        {
          if (entry == &close_marker)
            {
              closing = TRUE;
              break;
            }
          g_ptr_array_add (batch, entry);
          entry = batch->len < BATCH_MAX ? g_async_queue_try_pop (store->queue) : NULL;
        }

      if (batch->len > 0)
        run_batch (store, batch);
    }

  return NULL;
}

gboolean
store_thread_start (Store *store, GError **error)
{
  g_autoptr(GError) thread_error = NULL;

  store->thread = g_thread_try_new ("voip-store", store_thread_main, store, &thread_error);
  if (store->thread == NULL)
    {
      g_set_error (error, STORE_ERROR, STORE_ERROR_FAILED, "starting the store thread: %s",
                   thread_error->message);
      return FALSE;
    }
  return TRUE;
}

void
store_thread_stop (Store *store)
{
  if (store->thread == NULL)
    return;

  g_async_queue_push (store->queue, &close_marker);
  g_thread_join (g_steal_pointer (&store->thread));
  store->owner = NULL;
}
