/* voipd-cache-thread.c — see voipd-cache-thread.h.
 *
 * The queue carries batches (arrays of jobs). The thread takes one, then
 * whatever else is already waiting (up to CACHE_BATCH_MAX jobs): a burst of
 * events pushed one by one still shares a transaction. Each job runs in a
 * savepoint of that transaction; results are handed back only after the
 * commit, so a caller that hears "done" can rely on it (and, for a durable
 * job, on it surviving power loss).
 *
 * Completions go to each task's own main context through an idle, and the
 * thread never drops a task's last reference: tasks hold the cache, and the
 * cache must be finalized on the main thread, which joins this one.
 */
#define G_LOG_DOMAIN "voipd"

#include "voipd-cache-thread.h"

/* Jobs in one transaction at most: bounds the time a reader of the file
 * (another voipd tool, a backup) waits, and the memory of pending results. */
#define CACHE_BATCH_MAX 2000

struct _VoipdCacheJob {
  VoipdCacheJobFunc func;
  gpointer          data;
  GDestroyNotify    data_free;
  GTask            *task;
  gboolean          durable;
  gboolean          has_pointer;   /* the result is `result`, maybe NULL */
  gpointer          result;
  GDestroyNotify    result_free;
  gssize            result_int;
  GError           *error;
};

struct _VoipdCacheThread {
  GThread     *thread;
  GAsyncQueue *queue;      /* GPtrArray* of jobs, or the stop mark */
  VoipSqlite  *db;         /* the thread's alone once it runs */
  gint         commits;    /* atomic */
  /* Main side. */
  guint        holds;
  GPtrArray   *held;
};

/* Queued last by voipd_cache_thread_free(). */
static int stop_mark;
#define STOP ((gpointer) &stop_mark)

/* ---- jobs ------------------------------------------------------------------ */

VoipdCacheJob *
voipd_cache_job_new (VoipdCacheJobFunc func, gpointer data, GDestroyNotify data_free,
                     GTask *task)
{
  VoipdCacheJob *job = g_new0 (VoipdCacheJob, 1);

  job->func = func;
  job->data = data;
  job->data_free = data_free;
  job->task = task;
  return job;
}

void
voipd_cache_job_set_durable (VoipdCacheJob *job)
{
  job->durable = TRUE;
}

void
voipd_cache_job_set_pointer (VoipdCacheJob *job, gpointer result, GDestroyNotify result_free)
{
  if (job->result_free != NULL && job->result != NULL)
    job->result_free (job->result);
  job->has_pointer = TRUE;
  job->result = result;
  job->result_free = result_free;
}

void
voipd_cache_job_set_int (VoipdCacheJob *job, gssize result)
{
  job->result_int = result;
}

/* Without its task: that is dropped on the task's context only. */
static void
job_free (VoipdCacheJob *job)
{
  if (job->data_free != NULL)
    job->data_free (job->data);
  if (job->result_free != NULL && job->result != NULL)
    job->result_free (job->result);
  g_clear_error (&job->error);
  g_free (job);
}

/* On the task's main context. */
static gboolean
complete_job (gpointer user_data)
{
  VoipdCacheJob *job = user_data;
  g_autoptr(GTask) task = g_steal_pointer (&job->task);

  if (job->error != NULL)
    g_task_return_error (task, g_steal_pointer (&job->error));
  else if (job->has_pointer)
    {
      g_task_return_pointer (task, job->result, job->result_free);
      job->result = NULL;
      job->result_free = NULL;
    }
  else
    g_task_return_int (task, job->result_int);
  job_free (job);
  return G_SOURCE_REMOVE;
}

/* ---- the thread ------------------------------------------------------------- */

static void
run_job (VoipSqlite *db, VoipdCacheJob *job)
{
  if (!voip_sqlite_exec_prepared (db, "SAVEPOINT job", "starting a cache job", &job->error))
    return;
  if (job->func (db, job, job->data, &job->error))
    {
      voip_sqlite_exec_prepared (db, "RELEASE job", "finishing a cache job", &job->error);
      return;
    }
  /* ROLLBACK TO keeps the savepoint open: release it too. */
  if (!voip_sqlite_exec_prepared (db, "ROLLBACK TO job", "undoing a cache job", NULL)
      || !voip_sqlite_exec_prepared (db, "RELEASE job", "undoing a cache job", NULL))
    g_warning ("undoing a cache job: %s", sqlite3_errmsg (voip_sqlite_get_handle (db)));
}

static void
run_batch (VoipdCacheThread *self, GPtrArray *batch)
{
  const char *what = "writing to the cache";
  g_autoptr(GError) error = NULL;
  gboolean durable = FALSE;

  for (guint i = 0; i < batch->len; i++)
    durable |= ((VoipdCacheJob *) batch->pdata[i])->durable;
  if (durable ? voip_sqlite_begin_durable (self->db, what, &error)
              : voip_sqlite_begin (self->db, what, &error))
    {
      for (guint i = 0; i < batch->len; i++)
        run_job (self->db, batch->pdata[i]);
      voip_sqlite_commit (self->db, what, &error);
      g_atomic_int_set (&self->commits, (gint) voip_sqlite_get_commits (self->db));
    }

  for (guint i = 0; i < batch->len; i++)
    {
      VoipdCacheJob *job = batch->pdata[i];

      /* A failed transaction failed every job in it. */
      if (error != NULL && job->error == NULL)
        job->error = g_error_copy (error);
      if (job->task != NULL)
        {
          GSource *idle = g_idle_source_new ();

          g_source_set_callback (idle, complete_job, job, NULL);
          g_source_set_static_name (idle, "[voipd] cache result");
          g_source_attach (idle, g_task_get_context (job->task));
          g_source_unref (idle);
        }
      else
        {
          if (job->error != NULL)
            g_warning ("%s", job->error->message);
          job_free (job);
        }
    }
  g_ptr_array_set_size (batch, 0);
}

static gpointer
thread_main (gpointer user_data)
{
  VoipdCacheThread *self = user_data;
  gboolean stop = FALSE;

  while (!stop)
    {
      g_autoptr(GPtrArray) batch = g_async_queue_pop (self->queue);
      gpointer more;

      if (batch == STOP)
        {
          g_steal_pointer (&batch);
          break;
        }
      /* A batch from a hold is kept whole, however long. */
      while (batch->len < CACHE_BATCH_MAX && (more = g_async_queue_try_pop (self->queue)) != NULL)
        {
          g_autoptr(GPtrArray) next = more;

          if (more == STOP)
            {
              g_steal_pointer (&next);
              stop = TRUE;
              break;
            }
          g_ptr_array_extend_and_steal (batch, g_steal_pointer (&next));
        }
      run_batch (self, batch);
    }
  return NULL;
}

VoipdCacheThread *
voipd_cache_thread_new (VoipSqlite *db)
{
  VoipdCacheThread *self = g_new0 (VoipdCacheThread, 1);

  self->db = db;
  self->queue = g_async_queue_new ();
  self->held = g_ptr_array_new ();
  g_atomic_int_set (&self->commits, (gint) voip_sqlite_get_commits (db));
  self->thread = g_thread_new ("voipd-cache", thread_main, self);
  return self;
}

void
voipd_cache_thread_free (VoipdCacheThread *self)
{
  if (self == NULL)
    return;
  if (self->held->len > 0)
    g_async_queue_push (self->queue, g_steal_pointer (&self->held));
  g_async_queue_push (self->queue, STOP);
  g_thread_join (self->thread);
  g_clear_pointer (&self->held, g_ptr_array_unref);
  g_async_queue_unref (self->queue);
  voip_sqlite_close (self->db);
  g_free (self);
}

void
voipd_cache_thread_push (VoipdCacheThread *self, VoipdCacheJob *job)
{
  GPtrArray *batch;

  if (self->holds > 0)
    {
      g_ptr_array_add (self->held, job);
      return;
    }
  batch = g_ptr_array_new ();
  g_ptr_array_add (batch, job);
  g_async_queue_push (self->queue, batch);
}

void
voipd_cache_thread_hold (VoipdCacheThread *self)
{
  self->holds++;
}

void
voipd_cache_thread_release (VoipdCacheThread *self)
{
  g_return_if_fail (self->holds > 0);

  if (--self->holds > 0 || self->held->len == 0)
    return;
  g_async_queue_push (self->queue, g_steal_pointer (&self->held));
  self->held = g_ptr_array_new ();
}

guint
voipd_cache_thread_get_commits (VoipdCacheThread *self)
{
  return (guint) g_atomic_int_get (&self->commits);
}
