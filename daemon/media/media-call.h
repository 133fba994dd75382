/* media-call.h — one call inside the media module: its threads, its pipeline,
 * its peers, and the queue that carries events to voipd's main context. */
#pragma once

#include "voipd-media.h"
#include "media-pipeline.h"

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _MediaPeer MediaPeer;

typedef struct {
  char    *host;
  guint16  port;
  char    *username;
  char    *password;
  char    *address;   /* IPv4 of host (libnice wants an address); NULL if unresolved */
  VoipdMediaCall *call;
} MediaServer;

struct _VoipdMediaCall {
  guint ref_count;                  /* main thread: dispatch may outlive call_free */
  gboolean closed;                  /* main thread: call_free ran; no more callbacks */

  GMainContext *main_context;       /* voipd's: API calls and callbacks */
  GMainContext *media_context;      /* the ICE agents' */
  GMainLoop *media_loop;
  GThread *media_thread;

  VoipdMediaCallbacks callbacks;
  gpointer user_data;
  gboolean allow_server_relay;
  gboolean force_relay;             /* VOIPD_MEDIA_FORCE_RELAY=1 */
  char **local_addresses;           /* VOIPD_MEDIA_LOCAL_ADDRESSES */

  GPtrArray *stun;                  /* MediaServer */
  GPtrArray *turn;
  guint servers_resolving;          /* media thread */
  gboolean servers_ready;           /* main thread */
  GCancellable *cancellable;

  MediaPipeline *pipeline;
  GSource *adapt_timer;             /* main thread: on_adapt_timer */
  GHashTable *peers;                /* name → MediaPeer */
  GHashTable *early_signals;        /* name → GQueue of signals before add_peer */

  GMutex event_lock;
  GQueue events;                    /* under event_lock */
  GSource *event_source;            /* under event_lock */
};

/* Runs func on the main context, in order with every other event of the
 * call; dropped if the call is freed or the peer removed before. Any thread. */
typedef void (*MediaEventFunc) (VoipdMediaCall *call, MediaPeer *peer, gpointer data);
void media_call_post (VoipdMediaCall *call, MediaPeer *peer, MediaEventFunc func,
                      gpointer data, GDestroyNotify destroy);

VoipdMediaCall *media_call_new         (const VoipdMediaConfig *config,
                                        const VoipdMediaCallbacks *callbacks,
                                        gpointer user_data, GError **error);
gboolean        media_call_add_peer    (VoipdMediaCall *call, const char *peer,
                                        gboolean controlling, GError **error);
void            media_call_remove_peer (VoipdMediaCall *call, const char *peer);
void            media_call_signal_in   (VoipdMediaCall *call, const char *peer, guint kind,
                                        const char *data);
void            media_call_relay_in    (VoipdMediaCall *call, const char *peer, GBytes *packet);
void            media_call_set_muted   (VoipdMediaCall *call, gboolean muted);
GVariant       *media_call_get_stats   (VoipdMediaCall *call);
void            media_call_free        (VoipdMediaCall *call);

G_END_DECLS
