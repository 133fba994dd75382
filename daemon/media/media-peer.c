/* media-peer.c — one peer of a call.
 *
 * ICE: one NiceAgent per peer (RFC 5245, full, trickle), one component (RTCP
 * is multiplexed), running on the call's media thread. Its signals may fire on
 * that thread or on whichever thread calls into the agent, so the handlers only
 * note what happened and post it to the main context.
 *
 * Paths: nothing is sent until the first selected pair (not READY: lower
 * pairs take seconds to time out). When ICE fails, or has not connected within
 * MEDIA_ICE_TIMEOUT_S, the peer is told USE_RELAY and packets go through the
 * server (relay_out); a USE_RELAY from the peer switches us as well, so that
 * both sides use the same path. Relay is final for the peer.
 *
 * Threads touching a peer: main (API, state), media (ICE receive), GStreamer
 * streaming threads (packets out, SRTP key lookup). What they share is under
 * the lock; the agent and the branch live until media_peer_close. Received
 * packets run through srtpdec (which asks for the key, taking the lock) on
 * the receiving thread itself, so pushes hold push_lock instead: it keeps
 * the branch alive and one push at a time (ICE and relay may both push).
 */
#define G_LOG_DOMAIN "voipd-media"

#include "media-peer.h"
#include "media-srtp.h"
#include "voip-catalogue.h"

#include <nice/agent.h>

/* After this long without a selected pair, fall back to the server relay. */
#define MEDIA_ICE_TIMEOUT_S 10
/* The component carrying RTP and RTCP. */
#define COMPONENT 1
/* libnice paces connectivity checks 20 ms apart by default; one check per
 * 10 ms (RFC 8445 allows 5 ms for real-time media) finds the pair sooner. */
#define STUN_PACING_MS 10

typedef enum {
  SEND_NOWHERE,  /* ICE still running: packets are dropped */
  SEND_ICE,
  SEND_RELAY,
} SendPath;

struct _MediaPeer {
  gatomicrefcount ref_count;
  VoipdMediaCall *call;        /* outlives the peer's agent and branch */
  char *name;
  gboolean controlling;
  GBytes *local_key;
  gint64 created;

  NiceAgent *agent;            /* NULL when ICE is skipped (forced relay) */
  guint stream_id;

  GMutex push_lock;
  GMutex lock;
  MediaBranch *branch;         /* set at creation; close takes it under both locks */
  GBytes *remote_key;
  SendPath send_path;
  guint64 bytes_sent;
  guint64 bytes_received;
  guint64 packets_received;    /* RTP only */

  /* Main thread only. */
  gboolean removed;
  VoipdMediaPeerState state;   /* 0 until CONNECTING is reported */
  char *path;
  gboolean gathering;
  gboolean have_credentials;
  gboolean remote_gathering_done;
  GSList *early_candidates;    /* NiceCandidate, until credentials and gathering */
  gboolean told_use_relay;
  GSource *ice_timeout;
  gint64 rate_time;
  guint64 rate_sent;
  guint64 rate_received;
  double send_kbps;
  double receive_kbps;
};

/* The path of a selected pair, as the Stats property names it: "relay" when
 * either end is a TURN relay (the side whose packets go to the other's relay
 * sees only a reflexive candidate of its own), "srflx" when either end is
 * reflexive (a peer-reflexive candidate is a NAT mapping learned during the
 * checks), "host" when both are host addresses. */
static const char *
pair_path_name (const NiceCandidate *local, const NiceCandidate *remote)
{
  if (local->type == NICE_CANDIDATE_TYPE_RELAYED || remote->type == NICE_CANDIDATE_TYPE_RELAYED)
    return "relay";
  if (local->type != NICE_CANDIDATE_TYPE_HOST || remote->type != NICE_CANDIDATE_TYPE_HOST)
    return "srflx";
  return "host";
}

static void
clear_source (GSource **source)
{
  if (*source)
    {
      g_source_destroy (*source);
      g_clear_pointer (source, g_source_unref);
    }
}

static SendPath
get_send_path (MediaPeer *self)
{
  SendPath path;

  g_mutex_lock (&self->lock);
  path = self->send_path;
  g_mutex_unlock (&self->lock);
  return path;
}

/* --- callbacks to voipd (main context) ------------------------------------ */

typedef struct {
  guint kind;
  char *text;
} SignalOut;

static void
signal_out_free (gpointer data)
{
  SignalOut *signal = data;

  g_free (signal->text);
  g_free (signal);
}

static void
emit_signal (VoipdMediaCall *call, MediaPeer *self, gpointer data)
{
  SignalOut *signal = data;

  if (call->callbacks.signal_out)
    call->callbacks.signal_out (call->user_data, self->name, signal->kind, signal->text);
}

/* Every outgoing signal goes through the event queue, even from the main
 * thread: voipd never sees a callback inside one of its own calls, and the
 * order CREDENTIALS, SRTP_KEY, CANDIDATE…, END_OF_CANDIDATES holds. */
static void
post_signal (MediaPeer *self, guint kind, const char *text)
{
  SignalOut *signal = g_new0 (SignalOut, 1);

  signal->kind = kind;
  signal->text = g_strdup (text);
  media_call_post (self->call, self, emit_signal, signal, signal_out_free);
}

static void
set_state (MediaPeer *self, VoipdMediaPeerState state, const char *path)
{
  VoipdMediaCall *call = self->call;

  if (self->state == state && g_strcmp0 (self->path, path) == 0)
    return;
  self->state = state;
  g_free (self->path);
  self->path = g_strdup (path);
  if (state != VOIPD_MEDIA_PEER_CONNECTING)
    clear_source (&self->ice_timeout);
  if (state == VOIPD_MEDIA_PEER_CONNECTED && self->rate_time == 0)
    {
      /* Rates count from here: before, nothing could flow. */
      g_mutex_lock (&self->lock);
      self->rate_sent = self->bytes_sent;
      self->rate_received = self->bytes_received;
      g_mutex_unlock (&self->lock);
      self->rate_time = g_get_monotonic_time ();
    }
  if (state == VOIPD_MEDIA_PEER_CONNECTED)
    g_debug ("Peer %s: connected via %s %.0f ms after add_peer", self->name, path,
             (g_get_monotonic_time () - self->created) / 1000.0);
  /* Last: the callback may remove this peer or free the call. */
  if (call->callbacks.peer_state)
    call->callbacks.peer_state (call->user_data, self->name, state, path);
}

/* --- relay ---------------------------------------------------------------- */

static void
switch_to_relay (MediaPeer *self, gboolean tell_peer)
{
  g_mutex_lock (&self->lock);
  self->send_path = SEND_RELAY;
  g_mutex_unlock (&self->lock);
  if (tell_peer && !self->told_use_relay)
    {
      self->told_use_relay = TRUE;
      post_signal (self, VOIP_CALL_SIGNAL_USE_RELAY, "");
    }
  set_state (self, VOIPD_MEDIA_PEER_CONNECTED, "server-relay");
}

static void
relay_or_fail (MediaPeer *self, const char *why)
{
  if (get_send_path (self) == SEND_RELAY)
    return;
  if (self->call->allow_server_relay)
    {
      g_message ("Peer %s: %s, using the server relay", self->name, why);
      switch_to_relay (self, TRUE);
    }
  else
    {
      g_message ("Peer %s: %s and the server relay is not allowed", self->name, why);
      set_state (self, VOIPD_MEDIA_PEER_FAILED, NULL);
    }
}

static void
send_relay_packet (VoipdMediaCall *call, MediaPeer *self, gpointer data)
{
  if (call->callbacks.relay_out)
    call->callbacks.relay_out (call->user_data, self->name, data);
}

static void
on_forced_relay (VoipdMediaCall *call, MediaPeer *self, gpointer data)
{
  g_message ("Peer %s: VOIPD_MEDIA_FORCE_RELAY is set, skipping ICE", self->name);
  switch_to_relay (self, TRUE);
}

static void
on_connecting (VoipdMediaCall *call, MediaPeer *self, gpointer data)
{
  if (self->state == 0)
    set_state (self, VOIPD_MEDIA_PEER_CONNECTING, NULL);
}

static gboolean
on_ice_timeout (gpointer data)
{
  MediaPeer *self = data;

  g_clear_pointer (&self->ice_timeout, g_source_unref);
  if ((self->state == 0 || self->state == VOIPD_MEDIA_PEER_CONNECTING) && !self->removed)
    relay_or_fail (self, "ICE did not connect in " G_STRINGIFY (MEDIA_ICE_TIMEOUT_S) " s");
  return G_SOURCE_REMOVE;
}

/* --- ICE (any thread) ----------------------------------------------------- */

static void
on_agent_new_candidate (NiceAgent *agent, NiceCandidate *candidate, gpointer data)
{
  MediaPeer *self = data;
  g_autofree char *sdp = NULL;

  if (candidate->component_id != COMPONENT)
    return;
  sdp = nice_agent_generate_local_candidate_sdp (agent, candidate);
  post_signal (self, VOIP_CALL_SIGNAL_CANDIDATE, sdp);
}

static void
on_agent_gathering_done (NiceAgent *agent, guint stream_id, gpointer data)
{
  post_signal (data, VOIP_CALL_SIGNAL_END_OF_CANDIDATES, "");
}

static void
on_selected_main (VoipdMediaCall *call, MediaPeer *self, gpointer data)
{
  if (get_send_path (self) != SEND_ICE)
    return;  /* the relay took over meanwhile */
  set_state (self, VOIPD_MEDIA_PEER_CONNECTED, data);
}

static void
on_agent_selected_pair (NiceAgent *agent, guint stream_id, guint component,
                        NiceCandidate *local, NiceCandidate *remote, gpointer data)
{
  MediaPeer *self = data;
  gboolean use_ice;

  /* Start sending at once, from this thread: the main context may be busy. */
  g_mutex_lock (&self->lock);
  use_ice = self->send_path != SEND_RELAY;
  if (use_ice)
    self->send_path = SEND_ICE;
  g_mutex_unlock (&self->lock);
  if (use_ice)
    media_call_post (self->call, self, on_selected_main,
                     g_strdup (pair_path_name (local, remote)), g_free);
}

static void
on_failed_main (VoipdMediaCall *call, MediaPeer *self, gpointer data)
{
  relay_or_fail (self, "ICE failed");
}

static void
on_agent_state_changed (NiceAgent *agent, guint stream_id, guint component, guint state,
                        gpointer data)
{
  MediaPeer *self = data;

  if (state == NICE_COMPONENT_STATE_FAILED)
    media_call_post (self->call, self, on_failed_main, NULL, NULL);
}

/* Media thread. */
static void
on_agent_receive (NiceAgent *agent, guint stream_id, guint component, guint size,
                  gchar *buffer, gpointer data)
{
  MediaPeer *self = data;
  const guint8 *packet = (const guint8 *) buffer;
  gboolean push;

  g_mutex_lock (&self->push_lock);
  g_mutex_lock (&self->lock);
  /* Without the peer's key there is nothing to decrypt with yet. */
  push = self->branch && self->remote_key && size >= 12;
  if (push)
    {
      self->bytes_received += size;
      if (packet[1] < 200 || packet[1] > 204)
        self->packets_received++;
    }
  g_mutex_unlock (&self->lock);
  if (push)
    media_branch_push (self->branch, packet, size);
  g_mutex_unlock (&self->push_lock);
}

/* --- the branch's hooks (streaming threads) ------------------------------- */

static GstCaps *
branch_remote_key (gpointer data)
{
  MediaPeer *self = data;
  GstCaps *caps = NULL;

  g_mutex_lock (&self->lock);
  if (self->remote_key)
    caps = media_srtp_key_to_caps (self->remote_key);
  g_mutex_unlock (&self->lock);
  return caps;
}

static void
branch_packet_out (gpointer data, const guint8 *packet, gsize size)
{
  MediaPeer *self = data;
  SendPath path;

  g_mutex_lock (&self->lock);
  path = self->send_path;
  if (path != SEND_NOWHERE)
    self->bytes_sent += size;
  g_mutex_unlock (&self->lock);

  /* nice_agent_send is thread-safe. */
  if (path == SEND_ICE)
    nice_agent_send (self->agent, self->stream_id, COMPONENT, size, (const gchar *) packet);
  else if (path == SEND_RELAY)
    media_call_post (self->call, self, send_relay_packet, g_bytes_new (packet, size),
                     (GDestroyNotify) g_bytes_unref);
}

/* --- setting up ----------------------------------------------------------- */

static gboolean
create_agent (MediaPeer *self, GError **error)
{
  VoipdMediaCall *call = self->call;
  g_autofree char *ufrag = NULL;
  g_autofree char *password = NULL;
  g_autofree char *credentials = NULL;

  self->agent = nice_agent_new_full (call->media_context, NICE_COMPATIBILITY_RFC5245,
                                     NICE_AGENT_OPTION_ICE_TRICKLE);
  /* No UPnP: it multicasts SSDP and waits for routers that rarely answer. */
  g_object_set (self->agent, "controlling-mode", self->controlling, "upnp", FALSE,
                "ice-tcp", FALSE, "stun-pacing-timer", STUN_PACING_MS, NULL);
  for (char **address = call->local_addresses; address && *address; address++)
    {
      NiceAddress local;

      nice_address_init (&local);
      if (nice_address_set_from_string (&local, *address))
        nice_agent_add_local_address (self->agent, &local);
      else
        g_warning ("VOIPD_MEDIA_LOCAL_ADDRESSES: “%s” is not an address", *address);
    }

  self->stream_id = nice_agent_add_stream (self->agent, 1);
  if (self->stream_id == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Cannot create an ICE stream");
      return FALSE;
    }
  nice_agent_set_stream_name (self->agent, self->stream_id, "audio");
  g_signal_connect (self->agent, "new-candidate-full", G_CALLBACK (on_agent_new_candidate), self);
  g_signal_connect (self->agent, "candidate-gathering-done",
                    G_CALLBACK (on_agent_gathering_done), self);
  g_signal_connect (self->agent, "new-selected-pair-full",
                    G_CALLBACK (on_agent_selected_pair), self);
  g_signal_connect (self->agent, "component-state-changed",
                    G_CALLBACK (on_agent_state_changed), self);
  nice_agent_attach_recv (self->agent, self->stream_id, COMPONENT, call->media_context,
                          on_agent_receive, self);

  nice_agent_get_local_credentials (self->agent, self->stream_id, &ufrag, &password);
  credentials = g_strdup_printf ("%s %s", ufrag, password);
  post_signal (self, VOIP_CALL_SIGNAL_CREDENTIALS, credentials);
  return TRUE;
}

MediaPeer *
media_peer_new (VoipdMediaCall *call, const char *name, gboolean controlling, GError **error)
{
  g_autoptr(MediaPeer) self = g_new0 (MediaPeer, 1);
  MediaBranchHooks hooks = { branch_remote_key, branch_packet_out, self };
  g_autofree char *key = NULL;

  g_atomic_ref_count_init (&self->ref_count);
  g_mutex_init (&self->lock);
  g_mutex_init (&self->push_lock);
  self->call = call;
  self->name = g_strdup (name);
  self->controlling = controlling;
  self->created = g_get_monotonic_time ();
  self->local_key = media_srtp_key_new ();

  self->branch = media_branch_new (call->pipeline, name, self->local_key, &hooks, error);
  if (!self->branch)
    return NULL;
  media_call_post (call, self, on_connecting, NULL, NULL);

  if (call->force_relay && call->allow_server_relay)
    {
      key = media_srtp_key_to_base64 (self->local_key);
      post_signal (self, VOIP_CALL_SIGNAL_SRTP_KEY, key);
      media_call_post (call, self, on_forced_relay, NULL, NULL);
      return g_steal_pointer (&self);
    }

  if (!create_agent (self, error))
    {
      media_peer_close (self, FALSE);
      return NULL;
    }
  key = media_srtp_key_to_base64 (self->local_key);
  post_signal (self, VOIP_CALL_SIGNAL_SRTP_KEY, key);

  self->ice_timeout = g_timeout_source_new_seconds (MEDIA_ICE_TIMEOUT_S);
  g_source_set_callback (self->ice_timeout, on_ice_timeout, media_peer_ref (self),
                         (GDestroyNotify) media_peer_unref);
  g_source_attach (self->ice_timeout, call->main_context);
  return g_steal_pointer (&self);
}

MediaPeer *
media_peer_ref (MediaPeer *self)
{
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
media_peer_unref (MediaPeer *self)
{
  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;
  g_assert (self->agent == NULL && self->branch == NULL);
  g_slist_free_full (self->early_candidates, (GDestroyNotify) nice_candidate_free);
  g_clear_pointer (&self->local_key, g_bytes_unref);
  g_clear_pointer (&self->remote_key, g_bytes_unref);
  g_mutex_clear (&self->lock);
  g_mutex_clear (&self->push_lock);
  g_free (self->path);
  g_free (self->name);
  g_free (self);
}

gboolean
media_peer_is_removed (MediaPeer *self)
{
  return self->removed;
}

/* Remote candidates wait for the credentials (they are useless without) and
 * for our own gathering to have started. */
static void
flush_remote_candidates (MediaPeer *self)
{
  if (!self->agent || !self->have_credentials || !self->gathering)
    return;
  if (self->early_candidates)
    {
      GSList *candidates = g_slist_reverse (g_steal_pointer (&self->early_candidates));

      nice_agent_set_remote_candidates (self->agent, self->stream_id, COMPONENT, candidates);
      g_slist_free_full (candidates, (GDestroyNotify) nice_candidate_free);
    }
  if (self->remote_gathering_done)
    nice_agent_peer_candidate_gathering_done (self->agent, self->stream_id);
}

static gboolean
same_server (const MediaServer *a, const MediaServer *b)
{
  return a->address && b->address && g_str_equal (a->address, b->address) && a->port == b->port;
}

void
media_peer_start_ice (MediaPeer *self)
{
  VoipdMediaCall *call = self->call;
  const MediaServer *stun = NULL;

  if (!self->agent || self->gathering || self->removed)
    return;

  for (guint i = 0; i < call->turn->len; i++)
    {
      const MediaServer *turn = g_ptr_array_index (call->turn, i);

      if (turn->address)
        nice_agent_set_relay_info (self->agent, self->stream_id, COMPONENT, turn->address,
                                   turn->port, turn->username ? turn->username : "",
                                   turn->password ? turn->password : "",
                                   NICE_RELAY_TYPE_TURN_UDP);
    }
  /* libnice takes one STUN server. Not the TURN server again: coturn rejects
   * libnice's first binding request and gathering takes 2 s longer. */
  for (guint i = 0; i < call->stun->len && !stun; i++)
    {
      const MediaServer *candidate = g_ptr_array_index (call->stun, i);
      gboolean is_turn = FALSE;

      for (guint j = 0; j < call->turn->len; j++)
        is_turn |= same_server (candidate, g_ptr_array_index (call->turn, j));
      if (candidate->address && !is_turn)
        stun = candidate;
    }
  if (stun)
    g_object_set (self->agent, "stun-server", stun->address, "stun-server-port",
                  (guint) stun->port, NULL);

  if (!nice_agent_gather_candidates (self->agent, self->stream_id))
    {
      g_warning ("Peer %s: cannot gather ICE candidates", self->name);
      media_call_post (call, self, on_failed_main, NULL, NULL);
      return;
    }
  self->gathering = TRUE;
  flush_remote_candidates (self);
}

static void
set_remote_credentials (MediaPeer *self, const char *data)
{
  g_auto(GStrv) parts = g_strsplit (data, " ", -1);

  if (g_strv_length (parts) != 2 || !*parts[0] || !*parts[1])
    {
      g_warning ("Peer %s: bad ICE credentials ignored", self->name);
      return;
    }
  if (!nice_agent_set_remote_credentials (self->agent, self->stream_id, parts[0], parts[1]))
    {
      g_warning ("Peer %s: ICE credentials refused", self->name);
      return;
    }
  self->have_credentials = TRUE;
  flush_remote_candidates (self);
}

static void
add_remote_candidate (MediaPeer *self, const char *data)
{
  NiceCandidate *candidate;

  candidate = nice_agent_parse_remote_candidate_sdp (self->agent, self->stream_id, data);
  if (!candidate || candidate->component_id != COMPONENT)
    {
      g_warning ("Peer %s: bad ICE candidate ignored", self->name);
      g_clear_pointer (&candidate, nice_candidate_free);
      return;
    }
  self->early_candidates = g_slist_prepend (self->early_candidates, candidate);
  flush_remote_candidates (self);
}

static void
set_remote_key (MediaPeer *self, const char *data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) key = media_srtp_key_from_base64 (data, &error);

  if (!key)
    {
      g_warning ("Peer %s: %s", self->name, error->message);
      return;
    }
  g_mutex_lock (&self->lock);
  /* One key per peer and call: the first one stays. */
  if (!self->remote_key)
    self->remote_key = g_steal_pointer (&key);
  g_mutex_unlock (&self->lock);
  if (key)
    g_message ("Peer %s: a second SRTP key ignored", self->name);
}

static void
on_use_relay_main (VoipdMediaCall *call, MediaPeer *self, gpointer data)
{
  if (get_send_path (self) == SEND_RELAY)
    return;
  if (call->allow_server_relay)
    {
      g_debug ("Peer %s asks for the server relay", self->name);
      switch_to_relay (self, FALSE);
    }
  else
    {
      g_message ("Peer %s asks for the server relay, which is not allowed", self->name);
      set_state (self, VOIPD_MEDIA_PEER_FAILED, NULL);
    }
}

void
media_peer_signal_in (MediaPeer *self, guint kind, const char *data)
{
  gboolean ice = self->agent != NULL && get_send_path (self) != SEND_RELAY;

  switch (kind)
    {
    case VOIP_CALL_SIGNAL_CREDENTIALS:
      if (ice)
        set_remote_credentials (self, data);
      break;
    case VOIP_CALL_SIGNAL_CANDIDATE:
      if (ice)
        add_remote_candidate (self, data);
      break;
    case VOIP_CALL_SIGNAL_END_OF_CANDIDATES:
      self->remote_gathering_done = TRUE;
      if (ice)
        flush_remote_candidates (self);
      break;
    case VOIP_CALL_SIGNAL_SRTP_KEY:
      set_remote_key (self, data);
      break;
    case VOIP_CALL_SIGNAL_USE_RELAY:
      /* Through the queue: no callback from inside voipd's own call. */
      media_call_post (self->call, self, on_use_relay_main, NULL, NULL);
      break;
    default:
      g_warning ("Peer %s: unknown call signal %u ignored", self->name, kind);
      break;
    }
}

void
media_peer_relay_in (MediaPeer *self, GBytes *packet)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (packet, &size);

  /* Same as from ICE: the relay only changes the path. */
  on_agent_receive (NULL, 0, COMPONENT, size, (gchar *) data, self);
}

double
media_peer_adapt (MediaPeer *self)
{
  return self->branch ? media_branch_adapt (self->branch) : -1;
}

GVariant *
media_peer_get_stats (MediaPeer *self)
{
  g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);
  MediaBranchStats branch = { 0 };
  guint64 sent, received, packets;
  gint64 now = g_get_monotonic_time ();

  if (self->branch)
    media_branch_get_stats (self->branch, &branch);
  g_mutex_lock (&self->lock);
  sent = self->bytes_sent;
  received = self->bytes_received;
  packets = self->packets_received;
  g_mutex_unlock (&self->lock);

  /* Rates over the time since the previous call (voipd asks every second);
   * too short an interval keeps the last figures. */
  if (self->rate_time != 0 && now - self->rate_time >= G_TIME_SPAN_SECOND / 4)
    {
      double ms = (now - self->rate_time) / 1000.0;

      self->send_kbps = (sent - self->rate_sent) * 8 / ms;
      self->receive_kbps = (received - self->rate_received) * 8 / ms;
      self->rate_time = now;
      self->rate_sent = sent;
      self->rate_received = received;
    }

  g_variant_dict_insert (&dict, "path", "s",
                         self->state == VOIPD_MEDIA_PEER_CONNECTED && self->path ? self->path : "");
  g_variant_dict_insert (&dict, "rtt-ms", "d", branch.rtt_ms);
  g_variant_dict_insert (&dict, "loss-percent", "d", branch.loss_percent);
  g_variant_dict_insert (&dict, "jitter-ms", "d", branch.jitter_ms);
  g_variant_dict_insert (&dict, "jitter-buffer-ms", "d", (double) branch.jitter_buffer_ms);
  g_variant_dict_insert (&dict, "send-kbps", "d", self->send_kbps);
  g_variant_dict_insert (&dict, "receive-kbps", "d", self->receive_kbps);
  g_variant_dict_insert (&dict, "packets-received", "t", packets);
  return g_variant_dict_end (&dict);
}

static void
close_agent (MediaPeer *self)
{
  if (!self->agent)
    return;
  nice_agent_attach_recv (self->agent, self->stream_id, COMPONENT, self->call->media_context,
                          NULL, NULL);
  g_signal_handlers_disconnect_by_data (self->agent, self);
  nice_agent_remove_stream (self->agent, self->stream_id);
  g_clear_object (&self->agent);
}

static gboolean
close_agent_on_media_thread (gpointer data)
{
  close_agent (data);
  return G_SOURCE_REMOVE;
}

void
media_peer_close (MediaPeer *self, gboolean media_thread_running)
{
  MediaBranch *branch;

  self->removed = TRUE;
  clear_source (&self->ice_timeout);

  /* The branch first: once it is down no streaming thread sends with the
   * agent. Pushes hold push_lock, so none is in the branch as it goes. */
  g_mutex_lock (&self->push_lock);
  g_mutex_lock (&self->lock);
  branch = g_steal_pointer (&self->branch);
  self->send_path = SEND_NOWHERE;
  g_mutex_unlock (&self->lock);
  g_mutex_unlock (&self->push_lock);
  if (branch)
    media_branch_free (branch);

  /* The agent where its receive callback runs, so that none is midway. */
  if (self->agent && media_thread_running)
    g_main_context_invoke_full (self->call->media_context, G_PRIORITY_DEFAULT,
                                close_agent_on_media_thread, media_peer_ref (self),
                                (GDestroyNotify) media_peer_unref);
  else
    close_agent (self);
}
