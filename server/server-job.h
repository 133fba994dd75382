/* server-job.h — a request's trip through the store.
 *
 * A handler validates the request on the main loop, then fills a job whose
 * `work` runs on the store thread (inside the group-commit transaction) and
 * whose `after` runs back on the main loop once the transaction is durable.
 * The reply is sent for it: an error if work failed or the commit did, else
 * job->reply (or "()").
 *
 *   typedef struct { ServerJob base; char *peer; gint64 peer_id; } RemoveJob;
 *   RemoveJob *job = server_job_new (RemoveJob, server, session, request,
 *                                    remove_work, remove_after, remove_clear);
 *   server_job_submit (&job->base);
 */
#pragma once

#include "server.h"

G_BEGIN_DECLS

typedef struct _ServerJob ServerJob;

typedef gboolean (*ServerJobWork)  (Store *store, ServerJob *job);
typedef void     (*ServerJobAfter) (ServerJob *job);

struct _ServerJob {
  Server         *server;
  ServerSession  *session;     /* NULL for internal jobs, which send no reply */
  gint64          user_id;     /* the acting user, at submission */
  gint64          now_ms;      /* server time of the request */
  guint16         code;
  guint32         request_id;
  VoipStatus      status;      /* set by server_job_fail() */
  char           *detail;
  GVariant       *reply;       /* floating or full; NULL means "()" */
  ServerJobWork   work;
  ServerJobAfter  after;
  GDestroyNotify  clear;       /* frees the fields of the embedding struct */
  gboolean        suspended;
};

ServerJob *server_job_alloc (gsize size, Server *server, ServerSession *session,
                             const ServerRequest *request, ServerJobWork work,
                             ServerJobAfter after, GDestroyNotify clear);

#define server_job_new(Type, server, session, request, work, after, clear) \
  ((Type *) server_job_alloc (sizeof (Type), (server), (session), (request), \
                              (ServerJobWork) (work), (ServerJobAfter) (after), \
                              (GDestroyNotify) (clear)))

void     server_job_submit (ServerJob *job);

/* For work functions: records the error reply and returns FALSE (roll back). */
gboolean server_job_fail (ServerJob *job, VoipStatus status, const char *detail);
/* Records a store failure (logged; the client sees Storage) and returns FALSE. */
gboolean server_job_fail_store (ServerJob *job, GError *error);

/* Called from `after`: the job is neither answered nor freed now, because a
 * continuation (a password check, say) goes on with it. The continuation
 * either sets new work/after and calls server_job_submit() again, or ends
 * it with server_job_finish(). */
void     server_job_suspend (ServerJob *job);
/* Sends the reply (or the error) and frees the job. */
void     server_job_finish (ServerJob *job);

/* For work functions: resolves username to a friend of the acting user, or
 * fails the job with `refusal` (unknown users get the same answer as
 * strangers, so that nobody can probe who exists). */
gboolean server_job_require_friend (Store *store, ServerJob *job, const char *username,
                                    VoipStatus refusal, gint64 *friend_id);

gint64   server_now_ms (void);

G_END_DECLS
