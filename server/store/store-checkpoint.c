/* store-checkpoint.c — WAL checkpoints off the commit path.
 *
 * By default SQLite checkpoints inside the COMMIT that makes the WAL pass
 * 1000 pages: that commit then copies the WAL into the database and fsyncs
 * it, and every message in the batch waits. Here the store thread's commits
 * only signal, and a second connection on its own thread runs PASSIVE
 * checkpoints, which never block the writer.
 */
#define G_LOG_DOMAIN "voip-store"

#include "store-private.h"

/* WAL size (in pages) that asks for a checkpoint: 4 MiB at 1 KiB pages.
 * Larger checkpoints copy a hot page fewer times, but their burst of writes
 * and the fsync after it queue in front of the writer's WAL fdatasync: with
 * 32 MiB, deliveries stalled for up to 0.6 s; with 4 MiB, never over 50 ms
 * (docs/BENCHMARKS.md). */
#define CHECKPOINT_PAGES 4096

struct _StoreCheckpointer {
  sqlite3 *db;
  GThread *thread;
  GMutex   lock;
  GCond    wake;
  gboolean wanted;
  gboolean stopping;
};

/* Called by SQLite on the store thread after each commit. */
static int
on_wal_commit (void *data, sqlite3 *db, const char *name, int pages)
{
  StoreCheckpointer *self = data;

  if (pages >= CHECKPOINT_PAGES)
    {
      g_mutex_lock (&self->lock);
      self->wanted = TRUE;
      g_cond_signal (&self->wake);
      g_mutex_unlock (&self->lock);
    }
  return SQLITE_OK;
}

static gpointer
checkpointer_main (gpointer data)
{
  StoreCheckpointer *self = data;

  for (;;)
    {
      int wal_pages = 0, copied = 0, rc;

      g_mutex_lock (&self->lock);
      while (!self->wanted && !self->stopping)
        g_cond_wait (&self->wake, &self->lock);
      self->wanted = FALSE;
      if (self->stopping)
        {
          g_mutex_unlock (&self->lock);
          return NULL;
        }
      g_mutex_unlock (&self->lock);

      rc = sqlite3_wal_checkpoint_v2 (self->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
                                      &wal_pages, &copied);
      if (rc != SQLITE_OK && rc != SQLITE_BUSY)
        g_warning ("WAL checkpoint: %s", sqlite3_errmsg (self->db));
      else
        g_debug ("checkpoint: %d of %d WAL pages copied", copied, wal_pages);
    }
}

StoreCheckpointer *
store_checkpointer_start (Store *store, const char *path, GError **error)
{
  StoreCheckpointer *self = g_new0 (StoreCheckpointer, 1);
  g_autoptr(GError) thread_error = NULL;
  int rc;

  g_mutex_init (&self->lock);
  g_cond_init (&self->wake);
  rc = sqlite3_open_v2 (path, &self->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_exec (self->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, STORE_ERROR, STORE_ERROR_FAILED, "opening the checkpoint connection: %s",
                   self->db ? sqlite3_errmsg (self->db) : sqlite3_errstr (rc));
      store_checkpointer_stop (self);
      return NULL;
    }
  sqlite3_busy_timeout (self->db, STORE_BUSY_TIMEOUT_MS);

  self->thread = g_thread_try_new ("voip-checkpoint", checkpointer_main, self, &thread_error);
  if (self->thread == NULL)
    {
      g_set_error (error, STORE_ERROR, STORE_ERROR_FAILED, "starting the checkpoint thread: %s",
                   thread_error->message);
      store_checkpointer_stop (self);
      return NULL;
    }
  /* Replaces SQLite's automatic checkpoints on the writer. */
  sqlite3_wal_hook (store->db, on_wal_commit, self);
  return self;
}

void
store_checkpointer_stop (StoreCheckpointer *self)
{
  if (self == NULL)
    return;
  if (self->thread != NULL)
    {
      g_mutex_lock (&self->lock);
      self->stopping = TRUE;
      g_cond_signal (&self->wake);
      g_mutex_unlock (&self->lock);
      g_thread_join (self->thread);
    }
  if (self->db != NULL)
    sqlite3_close (self->db);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->wake);
  g_free (self);
}
