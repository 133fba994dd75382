/* voipd-media.h — the call media engine: ICE (libnice) and audio (GStreamer).
 *
 * The engine lives in its own loadable module (voipd-media.so) so that voipd
 * starts without GStreamer and libnice in memory: voipd opens the module with
 * GModule at the first call (voipd-media-loader.c) and reaches the engine only
 * through the table below. Nothing else of the module is visible to voipd.
 *
 * One VoipdMediaCall is one call: one capture (source → optional webrtcdsp →
 * Opus 48 kHz mono, 20 ms, DTX while the input is quiet, in-band FEC sized
 * for the loss the peers report → RTP), encoded once and sent to every peer,
 * and per peer an ICE agent stream, SRTP both ways, RTCP multiplexed on the
 * RTP component, an adaptive jitter buffer (one frame and up with the
 * measured jitter), an Opus decoder; the decoded peers are mixed into the
 * one sink.
 *
 * Threads: every function of the table is called from voipd's main context,
 * and every callback is delivered on that same main context (the engine
 * marshals from its own threads). The engine never blocks the main context for
 * long: pipeline start and stop are asynchronous.
 *
 * Signalling: the engine produces and consumes the CallSignal kinds of
 * proto/voip-catalogue.h (VOIP_CALL_SIGNAL_*); voipd relays them through the
 * server without looking inside. When ICE fails for a peer the engine sends
 * VOIP_CALL_SIGNAL_USE_RELAY to it and from then on hands every outgoing
 * packet for that peer to relay_out (the server's CallData); a peer that
 * receives USE_RELAY switches as well. Packets from CallDataReceived come in
 * through relay_in. Relayed packets are SRTP-protected like the ICE ones.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define VOIPD_MEDIA_API_VERSION 1
#define VOIPD_MEDIA_MODULE_SYMBOL "voipd_media_get_api"

typedef struct _VoipdMediaCall VoipdMediaCall;

typedef enum {
  VOIPD_MEDIA_PEER_CONNECTING = 1,  /* ICE running */
  VOIPD_MEDIA_PEER_CONNECTED  = 2,  /* a pair is selected (or relay chosen): media flows */
  VOIPD_MEDIA_PEER_FAILED     = 3,  /* ICE failed and the server relay is not allowed */
} VoipdMediaPeerState;

typedef struct {
  /* Send a CallSignal to peer (kind: VOIP_CALL_SIGNAL_*). */
  void (*signal_out) (gpointer user_data, const char *peer, guint kind, const char *data);
  /* Send one SRTP/SRTCP packet to peer through the server (CallData). */
  void (*relay_out)  (gpointer user_data, const char *peer, GBytes *packet);
  /* A peer's media state changed; path is "host", "srflx", "relay" or
   * "server-relay" once CONNECTED, NULL otherwise. */
  void (*peer_state) (gpointer user_data, const char *peer, VoipdMediaPeerState state,
                      const char *path);
} VoipdMediaCallbacks;

typedef struct {
  char    *host;      /* a name or address; resolved by the engine */
  guint16  port;
  char    *username;  /* TURN only */
  char    *password;  /* TURN only */
} VoipdMediaServer;

typedef struct {
  const char *audio_source;        /* GStreamer bin description, e.g. "autoaudiosrc" */
  const char *audio_sink;          /* GStreamer bin description, e.g. "autoaudiosink" */
  gboolean    echo_cancellation;   /* webrtcdsp echo cancellation + noise suppression */
  gboolean    allow_server_relay;  /* fall back to relay_out when ICE fails */
  const VoipdMediaServer *stun;    /* n_stun entries */
  guint       n_stun;
  const VoipdMediaServer *turn;    /* n_turn entries */
  guint       n_turn;
} VoipdMediaConfig;

typedef struct {
  guint version;  /* VOIPD_MEDIA_API_VERSION */

  /* Builds the capture side and starts it (muted peers-less until add_peer).
   * Fails with a clear message when the source or sink description does not
   * parse or an element is missing. */
  VoipdMediaCall *(*call_new) (const VoipdMediaConfig *config,
                               const VoipdMediaCallbacks *callbacks, gpointer user_data,
                               GError **error);
  /* Starts ICE with a peer: gathers, trickles CREDENTIALS, SRTP_KEY, each
   * CANDIDATE and END_OF_CANDIDATES through signal_out. controlling: the
   * caller of a 1:1 call; in a group, whoever joined first. */
  gboolean (*add_peer)    (VoipdMediaCall *call, const char *peer, gboolean controlling,
                           GError **error);
  /* Stops sending to and mixing a peer; the others go on undisturbed. */
  void     (*remove_peer) (VoipdMediaCall *call, const char *peer);
  /* A CallSignal from peer. Signals for an unknown peer are kept until
   * add_peer (they may arrive first); bad data is ignored with a warning. */
  void     (*signal_in)   (VoipdMediaCall *call, const char *peer, guint kind, const char *data);
  /* A relayed packet from peer. */
  void     (*relay_in)    (VoipdMediaCall *call, const char *peer, GBytes *packet);
  void     (*set_muted)   (VoipdMediaCall *call, gboolean muted);
  /* a{sa{sv}}: per peer the figures of org.voipd.Voip1.Call.Stats, with '-'
   * where the bus has '_' (voipd-call.c renames them). Floating. */
  GVariant *(*get_stats)  (VoipdMediaCall *call);
  /* Stops everything: the sink gets EOS first (so a file sink is complete),
   * waiting at most a second. No callback runs after this returns. */
  void     (*call_free)   (VoipdMediaCall *call);
  /* Loads GStreamer, its registry and the plugins a call needs on a thread
   * of its own, and returns at once. A first run scans every plugin (up to a
   * second); voipd calls this when a call starts ringing so that answering
   * does not wait for it. Idempotent; call_new works without it. */
  void     (*prepare)     (void);
} VoipdMediaApi;

/* The one symbol the module exports (VOIPD_MEDIA_MODULE_SYMBOL). */
typedef const VoipdMediaApi *(*VoipdMediaGetApi) (void);

G_END_DECLS
