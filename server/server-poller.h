/* server-poller.h — readiness for many sockets through one epoll fd.
 *
 * GMainContext polls every source's fds on every iteration, so one source
 * per connection makes each wake-up cost O(connections). The poller is a
 * single GSource holding one epoll fd: a wake-up costs O(ready sockets).
 * It also runs deferred work (a session's output flush) once per main-loop
 * iteration, just before the loop sleeps, so that frames queued during one
 * iteration leave in one writev(). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _ServerPoller ServerPoller;
typedef struct _ServerPollerWatch ServerPollerWatch;

/* events: EPOLLIN / EPOLLOUT / EPOLLERR / EPOLLHUP as in <sys/epoll.h>. */
typedef void (*ServerPollerFunc) (gpointer user_data, guint32 events);
typedef void (*ServerPollerDeferFunc) (gpointer user_data);

ServerPoller      *server_poller_new   (GMainContext *context, GError **error);
void               server_poller_free  (ServerPoller *self);

ServerPollerWatch *server_poller_watch (ServerPoller *self, int fd, guint32 events,
                                        ServerPollerFunc func, gpointer user_data);
void               server_poller_set_events (ServerPoller *self, ServerPollerWatch *watch,
                                             guint32 events);
/* Stops watching; safe from within the watch's own callback. */
void               server_poller_unwatch (ServerPoller *self, ServerPollerWatch *watch);

/* Runs func(user_data) once before the loop next sleeps. A watch may defer
 * at most one call at a time; deferring again before it ran does nothing. */
void               server_poller_defer (ServerPoller *self, ServerPollerWatch *watch,
                                        ServerPollerDeferFunc func);

G_END_DECLS
