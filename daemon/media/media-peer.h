/* media-peer.h — one peer of a call: its ICE agent, its SRTP keys, its branch
 * of the pipeline, and which path its packets take. */
#pragma once

#include "media-call.h"

G_BEGIN_DECLS

/* All on the main context. */
MediaPeer  *media_peer_new       (VoipdMediaCall *call, const char *name, gboolean controlling,
                                  GError **error);
MediaPeer  *media_peer_ref       (MediaPeer *peer);
void        media_peer_unref     (MediaPeer *peer);
gboolean    media_peer_is_removed (MediaPeer *peer);
/* The STUN and TURN addresses are known: gather. */
void        media_peer_start_ice (MediaPeer *peer);
void        media_peer_signal_in (MediaPeer *peer, guint kind, const char *data);
void        media_peer_relay_in  (MediaPeer *peer, GBytes *packet);
GVariant   *media_peer_get_stats (MediaPeer *peer);
/* media_branch_adapt: sizes the jitter buffer; returns the loss the peer
 * reports on our packets (percent), or -1 before its first report. */
double      media_peer_adapt     (MediaPeer *peer);
/* Takes the peer out of the call: branch gone, agent closed (on the media
 * thread when it runs, else right here). Pending events are dropped. */
void        media_peer_close     (MediaPeer *peer, gboolean media_thread_running);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MediaPeer, media_peer_unref)

G_END_DECLS
