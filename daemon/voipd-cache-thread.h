/* voipd-cache-thread.h — the cache's worker thread: it alone owns the
 * SQLite connection, runs queued jobs in batches (one transaction per batch)
 * and hands each job's result back to the main context its caller was on.
 *
 * As server/store/store-thread.c does for the server: nothing that waits for
 * the disk (a commit, an fsync, a lock held by another process) runs on the
 * daemon's main loop. voipd-cache.c is its only user.
 */
#pragma once

#include <gio/gio.h>

#include "voip-sqlite.h"

G_BEGIN_DECLS

typedef struct _VoipdCacheThread VoipdCacheThread;
typedef struct _VoipdCacheJob    VoipdCacheJob;

/* Runs on the cache thread, inside the batch's transaction (and its own
 * savepoint: a job that fails leaves nothing behind, and the others of the
 * batch still commit). Sets a result with voipd_cache_job_set_*(). */
typedef gboolean (*VoipdCacheJobFunc) (VoipSqlite *db, VoipdCacheJob *job, gpointer data,
                                       GError **error);

/* `task` (may be NULL: a write nobody waits for, whose failure is logged)
 * is returned on its own main context once the batch has committed: with
 * the job's error, or its pointer result, or its integer result. */
VoipdCacheJob *voipd_cache_job_new (VoipdCacheJobFunc func, gpointer data,
                                    GDestroyNotify data_free, GTask *task);
/* The batch that holds this job commits with synchronous=FULL. */
void           voipd_cache_job_set_durable (VoipdCacheJob *job);
/* A pointer result (NULL is one: "not found"). */
void           voipd_cache_job_set_pointer (VoipdCacheJob *job, gpointer result,
                                            GDestroyNotify result_free);
void           voipd_cache_job_set_int     (VoipdCacheJob *job, gssize result);

/* Takes `db` and starts the thread. */
VoipdCacheThread *voipd_cache_thread_new  (VoipSqlite *db);
/* Runs what is queued (and held), stops the thread, closes the database.
 * Waits for the disk: for shutdown only. */
void              voipd_cache_thread_free (VoipdCacheThread *thread);

/* Queues a job (taken). */
void              voipd_cache_thread_push    (VoipdCacheThread *thread, VoipdCacheJob *job);
/* Between hold and release, jobs wait on the caller's side and go to the
 * thread as one batch, one transaction: a sync page, a burst of events.
 * Holds nest. */
void              voipd_cache_thread_hold    (VoipdCacheThread *thread);
void              voipd_cache_thread_release (VoipdCacheThread *thread);
/* Transactions committed so far (for tests and statistics). */
guint             voipd_cache_thread_get_commits (VoipdCacheThread *thread);

G_END_DECLS
