/* server-poller.c — an epoll set as one GSource. */
#define G_LOG_DOMAIN "voip-server"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <gio/gio.h>

#include "server-poller.h"

#define EVENTS_PER_WAKEUP 512

struct _ServerPollerWatch {
  int                   fd;
  guint32               events;
  ServerPollerFunc      func;
  gpointer              user_data;
  ServerPollerDeferFunc deferred;   /* pending deferred call, or NULL */
  gboolean              dead;       /* unwatched; freed at a safe point */
};

typedef struct {
  GSource       source;
  ServerPoller *poller;
} PollerSource;

struct _ServerPoller {
  int        epoll_fd;
  GSource   *source;
  gpointer   tag;
  GPtrArray *deferred;   /* ServerPollerWatch* with a pending deferred call */
  GPtrArray *graveyard;  /* dead watches, freed outside of dispatch */
  gboolean   dispatching;
};

static void
run_deferred (ServerPoller *self)
{
  /* A deferred call may defer again (it then runs on the next iteration). */
  g_autoptr(GPtrArray) batch = g_steal_pointer (&self->deferred);

  self->deferred = g_ptr_array_new ();
  for (guint i = 0; i < batch->len; i++)
    {
      ServerPollerWatch *watch = batch->pdata[i];
      ServerPollerDeferFunc func = watch->deferred;

      watch->deferred = NULL;
      if (!watch->dead && func != NULL)
        func (watch->user_data);
    }
}

static void
bury_dead (ServerPoller *self)
{
  g_ptr_array_set_size (self->graveyard, 0);
}

static gboolean
poller_prepare (GSource *source, gint *timeout)
{
  ServerPoller *self = ((PollerSource *) source)->poller;

  run_deferred (self);
  if (!self->dispatching)
    bury_dead (self);
  *timeout = self->deferred->len > 0 ? 0 : -1;
  return self->deferred->len > 0;
}

static gboolean
poller_check (GSource *source)
{
  ServerPoller *self = ((PollerSource *) source)->poller;

  return g_source_query_unix_fd (source, self->tag) != 0 || self->deferred->len > 0;
}

static gboolean
poller_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  ServerPoller *self = ((PollerSource *) source)->poller;
  struct epoll_event events[EVENTS_PER_WAKEUP];
  int n;

  n = epoll_wait (self->epoll_fd, events, EVENTS_PER_WAKEUP, 0);
  if (n < 0 && errno != EINTR)
    g_warning ("epoll_wait: %s", g_strerror (errno));

  self->dispatching = TRUE;
  for (int i = 0; i < n; i++)
    {
      ServerPollerWatch *watch = events[i].data.ptr;

      if (!watch->dead)
        watch->func (watch->user_data, events[i].events);
    }
  self->dispatching = FALSE;
  bury_dead (self);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs poller_funcs = {
  .prepare = poller_prepare,
  .check = poller_check,
  .dispatch = poller_dispatch,
};

ServerPoller *
server_poller_new (GMainContext *context, GError **error)
{
  ServerPoller *self;
  int epoll_fd = epoll_create1 (EPOLL_CLOEXEC);

  if (epoll_fd < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "epoll_create1: %s", g_strerror (saved));
      return NULL;
    }
  self = g_new0 (ServerPoller, 1);
  self->epoll_fd = epoll_fd;
  self->deferred = g_ptr_array_new ();
  self->graveyard = g_ptr_array_new_with_free_func (g_free);
  self->source = g_source_new (&poller_funcs, sizeof (PollerSource));
  ((PollerSource *) self->source)->poller = self;
  g_source_set_static_name (self->source, "[voip-server] sessions");
  self->tag = g_source_add_unix_fd (self->source, epoll_fd, G_IO_IN);
  g_source_attach (self->source, context);
  return self;
}

void
server_poller_free (ServerPoller *self)
{
  if (self == NULL)
    return;
  g_source_destroy (self->source);
  g_source_unref (self->source);
  close (self->epoll_fd);
  g_ptr_array_unref (self->deferred);
  g_ptr_array_unref (self->graveyard);
  g_free (self);
}

ServerPollerWatch *
server_poller_watch (ServerPoller *self, int fd, guint32 events, ServerPollerFunc func,
                     gpointer user_data)
{
  ServerPollerWatch *watch = g_new0 (ServerPollerWatch, 1);
  struct epoll_event event = { .events = events, .data.ptr = watch };

  watch->fd = fd;
  watch->events = events;
  watch->func = func;
  watch->user_data = user_data;
  if (epoll_ctl (self->epoll_fd, EPOLL_CTL_ADD, fd, &event) < 0)
    g_warning ("epoll_ctl(ADD, %d): %s", fd, g_strerror (errno));
  return watch;
}

void
server_poller_set_events (ServerPoller *self, ServerPollerWatch *watch, guint32 events)
{
  struct epoll_event event = { .events = events, .data.ptr = watch };

  if (watch->dead || watch->events == events)
    return;
  watch->events = events;
  if (epoll_ctl (self->epoll_fd, EPOLL_CTL_MOD, watch->fd, &event) < 0)
    g_warning ("epoll_ctl(MOD, %d): %s", watch->fd, g_strerror (errno));
}

void
server_poller_unwatch (ServerPoller *self, ServerPollerWatch *watch)
{
  if (watch == NULL || watch->dead)
    return;
  /* The fd may already be closed, which removed it from the set. */
  epoll_ctl (self->epoll_fd, EPOLL_CTL_DEL, watch->fd, NULL);
  watch->dead = TRUE;
  if (watch->deferred != NULL)
    g_ptr_array_remove_fast (self->deferred, watch);
  /* Events for it may still be in this wake-up's array: free it later. */
  g_ptr_array_add (self->graveyard, watch);
}

void
server_poller_defer (ServerPoller *self, ServerPollerWatch *watch, ServerPollerDeferFunc func)
{
  if (watch->dead || watch->deferred != NULL)
    return;
  watch->deferred = func;
  g_ptr_array_add (self->deferred, watch);
}
