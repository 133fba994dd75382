/* media-call.c — one call: the pipeline, the media thread, the peers, and the
 * event queue to voipd's main context.
 *
 * The ICE agents run on a thread of their own (media_context) so that voipd's
 * D-Bus work never delays a packet. Whatever happens on that thread or on a
 * GStreamer streaming thread and concerns voipd goes through one ordered queue
 * that a single idle source drains on the main context; call_free stops every
 * producer before it frees the queue, so no callback runs after it returns.
 *
 * Test and diagnostic switches, read at call_new:
 *   VOIPD_MEDIA_FORCE_RELAY=1        skip ICE: with allow_server_relay, send
 *                                    USE_RELAY at once and use the server relay
 *   VOIPD_MEDIA_LOCAL_ADDRESSES=a,b  host candidates on these addresses only
 *                                    (e.g. 127.0.0.1, or one namespace's link)
 *   VOIPD_MEDIA_DTX=0                no Opus DTX: every 20 ms frame is sent
 *                                    even in silence (benchmarks: the cost of
 *                                    continuous speech with a steady tone)
 */
#define G_LOG_DOMAIN "voipd-media"

#include "media-call.h"
#include "media-peer.h"

#include <gio/gio.h>
#include <gst/gst.h>
#include <string.h>

/* Signals of a peer not added yet are kept, up to this many. */
#define MAX_EARLY_SIGNALS 256

typedef struct {
  MediaPeer *peer;      /* a reference, or NULL */
  MediaEventFunc func;
  gpointer data;
  GDestroyNotify destroy;
} MediaEvent;

typedef struct {
  guint kind;
  char *data;
} EarlySignal;

static void
media_event_free (MediaEvent *event)
{
  if (event->destroy)
    event->destroy (event->data);
  g_clear_pointer (&event->peer, media_peer_unref);
  g_free (event);
}

static void
early_signal_free (EarlySignal *signal)
{
  g_free (signal->data);
  g_free (signal);
}

static void
early_queue_free (GQueue *queue)
{
  g_queue_free_full (queue, (GDestroyNotify) early_signal_free);
}

static void
media_server_free (MediaServer *server)
{
  g_free (server->host);
  g_free (server->username);
  g_free (server->password);
  g_free (server->address);
  g_free (server);
}

static VoipdMediaCall *
call_ref (VoipdMediaCall *self)
{
  self->ref_count++;
  return self;
}

static void
call_unref (VoipdMediaCall *self)
{
  if (--self->ref_count > 0)
    return;
  g_mutex_clear (&self->event_lock);
  g_main_context_unref (self->main_context);
  g_free (self);
}

/* --- the event queue ------------------------------------------------------ */

static gboolean
dispatch_events (gpointer data)
{
  VoipdMediaCall *self = call_ref (data);
  GQueue events = G_QUEUE_INIT;
  MediaEvent *event;

  g_mutex_lock (&self->event_lock);
  events = self->events;
  g_queue_init (&self->events);
  g_clear_pointer (&self->event_source, g_source_unref);
  g_mutex_unlock (&self->event_lock);

  /* A callback may free the call or remove a peer: check before each. */
  while ((event = g_queue_pop_head (&events)))
    {
      if (!self->closed && !(event->peer && media_peer_is_removed (event->peer)))
        event->func (self, event->peer, event->data);
      media_event_free (event);
    }
  call_unref (self);
  return G_SOURCE_REMOVE;
}

void
media_call_post (VoipdMediaCall *self, MediaPeer *peer, MediaEventFunc func, gpointer data,
                 GDestroyNotify destroy)
{
  MediaEvent *event = g_new0 (MediaEvent, 1);

  event->peer = peer ? media_peer_ref (peer) : NULL;
  event->func = func;
  event->data = data;
  event->destroy = destroy;

  g_mutex_lock (&self->event_lock);
  g_queue_push_tail (&self->events, event);
  if (!self->event_source)
    {
      /* The source does not own the call: call_free destroys it. */
      self->event_source = g_idle_source_new ();
      g_source_set_priority (self->event_source, G_PRIORITY_DEFAULT);
      g_source_set_callback (self->event_source, dispatch_events, self, NULL);
      g_source_attach (self->event_source, self->main_context);
    }
  g_mutex_unlock (&self->event_lock);
}

/* --- STUN and TURN addresses ---------------------------------------------- */

static void
on_servers_ready (VoipdMediaCall *self, MediaPeer *unused, gpointer data)
{
  GHashTableIter iter;
  gpointer peer;

  self->servers_ready = TRUE;
  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, NULL, &peer))
    media_peer_start_ice (peer);
}

static void
on_server_resolved (GObject *resolver, GAsyncResult *result, gpointer data)
{
  MediaServer *server = data;
  VoipdMediaCall *self = server->call;
  g_autoptr(GError) error = NULL;
  GList *addresses = g_resolver_lookup_by_name_finish (G_RESOLVER (resolver), result, &error);

  for (GList *l = addresses; l && !server->address; l = l->next)
    if (g_inet_address_get_family (l->data) == G_SOCKET_FAMILY_IPV4)
      server->address = g_inet_address_to_string (l->data);
  if (!server->address && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_message ("Cannot use the ICE server %s: %s", server->host,
               error ? error->message : "no IPv4 address");
  g_resolver_free_addresses (addresses);

  if (--self->servers_resolving == 0)
    media_call_post (self, NULL, on_servers_ready, NULL, NULL);
}

/* Media thread: a name lookup must not hold up voipd. */
static gboolean
resolve_servers (gpointer data)
{
  VoipdMediaCall *self = data;
  g_autoptr(GResolver) resolver = g_resolver_get_default ();
  GPtrArray *lists[] = { self->stun, self->turn };

  self->servers_resolving = 1;
  for (guint i = 0; i < G_N_ELEMENTS (lists); i++)
    for (guint j = 0; j < lists[i]->len; j++)
      {
        MediaServer *server = g_ptr_array_index (lists[i], j);

        if (server->address)
          continue;
        self->servers_resolving++;
        g_resolver_lookup_by_name_async (resolver, server->host, self->cancellable,
                                         on_server_resolved, server);
      }
  if (--self->servers_resolving == 0)
    media_call_post (self, NULL, on_servers_ready, NULL, NULL);
  return G_SOURCE_REMOVE;
}

static void
copy_servers (GPtrArray *to, VoipdMediaCall *self, const VoipdMediaServer *from, guint n,
              gboolean *all_addresses)
{
  for (guint i = 0; i < n; i++)
    {
      MediaServer *server = g_new0 (MediaServer, 1);

      server->call = self;
      server->host = g_strdup (from[i].host);
      server->port = from[i].port ? from[i].port : 3478;
      server->username = g_strdup (from[i].username);
      server->password = g_strdup (from[i].password);
      if (server->host && g_hostname_is_ip_address (server->host)
          && !strchr (server->host, ':'))
        server->address = g_strdup (server->host);
      else if (server->host)
        *all_addresses = FALSE;
      else
        continue;
      g_ptr_array_add (to, server);
    }
}

/* --- adapting to the network -------------------------------------------- */

/* Every MEDIA_BRANCH_ADAPT_MS on the main context (where peers come and go):
 * each peer's jitter buffer follows its jitter, and the one encoder's FEC
 * the worst loss any peer reports. Reports come once per RTCP interval;
 * between them the figure stays the same. */
static gboolean
on_adapt_timer (gpointer data)
{
  VoipdMediaCall *self = data;
  GHashTableIter iter;
  gpointer peer;
  double worst = -1;

  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, NULL, &peer))
    worst = MAX (worst, media_peer_adapt (peer));
  if (worst >= 0)
    media_pipeline_set_expected_loss (self->pipeline, worst);
  return G_SOURCE_CONTINUE;
}

/* --- the media thread ----------------------------------------------------- */

static gpointer
media_thread_run (gpointer data)
{
  VoipdMediaCall *self = data;

  g_main_context_push_thread_default (self->media_context);
  g_main_loop_run (self->media_loop);
  g_main_context_pop_thread_default (self->media_context);
  return NULL;
}

static gboolean
quit_media_loop (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

/* --- the API -------------------------------------------------------------- */

VoipdMediaCall *
media_call_new (const VoipdMediaConfig *config, const VoipdMediaCallbacks *callbacks,
                gpointer user_data, GError **error)
{
  VoipdMediaCall *self;
  MediaPipeline *pipeline;
  gboolean all_addresses = TRUE;
  const char *local_addresses = g_getenv ("VOIPD_MEDIA_LOCAL_ADDRESSES");

  if (!gst_init_check (NULL, NULL, error))
    return NULL;
  pipeline = media_pipeline_new (config->audio_source ? config->audio_source : "autoaudiosrc",
                                 config->audio_sink ? config->audio_sink : "autoaudiosink",
                                 config->echo_cancellation,
                                 g_strcmp0 (g_getenv ("VOIPD_MEDIA_DTX"), "0") != 0, error);
  if (!pipeline)
    return NULL;

  self = g_new0 (VoipdMediaCall, 1);
  self->ref_count = 1;
  g_mutex_init (&self->event_lock);
  g_queue_init (&self->events);
  self->main_context = g_main_context_ref_thread_default ();
  self->media_context = g_main_context_new ();
  self->media_loop = g_main_loop_new (self->media_context, FALSE);
  self->callbacks = *callbacks;
  self->user_data = user_data;
  self->allow_server_relay = config->allow_server_relay;
  /* Test and diagnostic switches: skip ICE; restrict host candidates. */
  self->force_relay = g_strcmp0 (g_getenv ("VOIPD_MEDIA_FORCE_RELAY"), "1") == 0;
  if (local_addresses && *local_addresses)
    self->local_addresses = g_strsplit (local_addresses, ",", -1);
  self->stun = g_ptr_array_new_with_free_func ((GDestroyNotify) media_server_free);
  self->turn = g_ptr_array_new_with_free_func ((GDestroyNotify) media_server_free);
  copy_servers (self->stun, self, config->stun, config->n_stun, &all_addresses);
  copy_servers (self->turn, self, config->turn, config->n_turn, &all_addresses);
  self->cancellable = g_cancellable_new ();
  self->pipeline = pipeline;
  self->peers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->early_signals = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                               (GDestroyNotify) early_queue_free);

  if (!media_pipeline_start (pipeline, error))
    {
      media_call_free (self);
      return NULL;
    }
  self->media_thread = g_thread_try_new ("voipd-media", media_thread_run, self, error);
  if (!self->media_thread)
    {
      media_call_free (self);
      return NULL;
    }
  self->adapt_timer = g_timeout_source_new (MEDIA_BRANCH_ADAPT_MS);
  g_source_set_callback (self->adapt_timer, on_adapt_timer, self, NULL);
  g_source_attach (self->adapt_timer, self->main_context);
  if (all_addresses)
    self->servers_ready = TRUE;
  else
    g_main_context_invoke (self->media_context, resolve_servers, self);
  return self;
}

gboolean
media_call_add_peer (VoipdMediaCall *self, const char *name, gboolean controlling,
                     GError **error)
{
  MediaPeer *peer;
  g_autofree char *early_name = NULL;
  GQueue *early = NULL;
  EarlySignal *signal;

  g_return_val_if_fail (name != NULL, FALSE);

  if (g_hash_table_contains (self->peers, name))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS, "%s is already in the call", name);
      return FALSE;
    }
  peer = media_peer_new (self, name, controlling, error);
  if (!peer)
    return FALSE;
  g_hash_table_insert (self->peers, g_strdup (name), peer);
  if (self->servers_ready)
    media_peer_start_ice (peer);

  g_hash_table_steal_extended (self->early_signals, name, (gpointer *) &early_name,
                               (gpointer *) &early);
  while (early && (signal = g_queue_pop_head (early)))
    {
      media_peer_signal_in (peer, signal->kind, signal->data);
      early_signal_free (signal);
    }
  g_clear_pointer (&early, g_queue_free);
  return TRUE;
}

void
media_call_remove_peer (VoipdMediaCall *self, const char *name)
{
  g_autofree char *key = NULL;
  MediaPeer *peer = NULL;

  g_hash_table_remove (self->early_signals, name);
  if (!g_hash_table_steal_extended (self->peers, name, (gpointer *) &key, (gpointer *) &peer))
    return;
  media_peer_close (peer, TRUE);
  media_peer_unref (peer);
}

void
media_call_signal_in (VoipdMediaCall *self, const char *name, guint kind, const char *data)
{
  MediaPeer *peer = g_hash_table_lookup (self->peers, name);
  GQueue *early;
  EarlySignal *signal;

  if (peer)
    {
      media_peer_signal_in (peer, kind, data ? data : "");
      return;
    }
  early = g_hash_table_lookup (self->early_signals, name);
  if (!early)
    {
      early = g_queue_new ();
      g_hash_table_insert (self->early_signals, g_strdup (name), early);
    }
  if (early->length >= MAX_EARLY_SIGNALS)
    {
      g_message ("Too many signals from %s before it joined; dropped", name);
      return;
    }
  signal = g_new0 (EarlySignal, 1);
  signal->kind = kind;
  signal->data = g_strdup (data ? data : "");
  g_queue_push_tail (early, signal);
}

void
media_call_relay_in (VoipdMediaCall *self, const char *name, GBytes *packet)
{
  MediaPeer *peer = g_hash_table_lookup (self->peers, name);

  if (peer)
    media_peer_relay_in (peer, packet);
}

void
media_call_set_muted (VoipdMediaCall *self, gboolean muted)
{
  media_pipeline_set_muted (self->pipeline, muted);
}

GVariant *
media_call_get_stats (VoipdMediaCall *self)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a{sa{sv}}"));
  GHashTableIter iter;
  gpointer name, peer;

  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, &name, &peer))
    g_variant_builder_add (&builder, "{s@a{sv}}", (const char *) name,
                           media_peer_get_stats (peer));
  return g_variant_builder_end (&builder);
}

void
media_call_free (VoipdMediaCall *self)
{
  GHashTableIter iter;
  gpointer peer;
  MediaEvent *event;

  self->closed = TRUE;
  if (self->adapt_timer)
    {
      g_source_destroy (self->adapt_timer);
      g_clear_pointer (&self->adapt_timer, g_source_unref);
    }
  /* The sink first, while everything still runs, so that it gets the end. */
  if (self->pipeline)
    media_pipeline_stop (self->pipeline);
  g_cancellable_cancel (self->cancellable);
  if (self->media_thread)
    {
      /* After the agents that remove_peer handed to the thread. */
      g_main_context_invoke_full (self->media_context, G_PRIORITY_LOW, quit_media_loop,
                                  g_main_loop_ref (self->media_loop),
                                  (GDestroyNotify) g_main_loop_unref);
      g_thread_join (self->media_thread);
    }

  if (self->peers)
    {
      g_hash_table_iter_init (&iter, self->peers);
      while (g_hash_table_iter_next (&iter, NULL, &peer))
        {
          media_peer_close (peer, FALSE);
          media_peer_unref (peer);
        }
      g_hash_table_destroy (self->peers);
    }
  g_clear_pointer (&self->early_signals, g_hash_table_destroy);
  g_clear_pointer (&self->pipeline, media_pipeline_free);

  g_mutex_lock (&self->event_lock);
  if (self->event_source)
    {
      g_source_destroy (self->event_source);
      g_clear_pointer (&self->event_source, g_source_unref);
    }
  while ((event = g_queue_pop_head (&self->events)))
    media_event_free (event);
  g_mutex_unlock (&self->event_lock);

  g_clear_pointer (&self->stun, g_ptr_array_unref);
  g_clear_pointer (&self->turn, g_ptr_array_unref);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->local_addresses, g_strfreev);
  g_clear_pointer (&self->media_loop, g_main_loop_unref);
  g_clear_pointer (&self->media_context, g_main_context_unref);
  call_unref (self);
}
