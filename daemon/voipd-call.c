/* voipd-call.c — VoipdCall: one call's D-Bus object and its media.
 *
 * States (the Call.State property), from the server's view of this session:
 *   ringing     the server says RINGING: nobody answered yet
 *   connecting  the server says ACTIVE; ICE and audio are being set up
 *   active      the media engine reports a first peer CONNECTED
 *   ended       the server says ENDED (with its reason), or the call failed
 *               here (no media engine, no path to anyone), or our session
 *               went away; an ended call never comes back
 *
 * Media starts when this session is in the call with at least one other
 * joined participant (the server's ACTIVE): one CallServers request, then the
 * engine's call with the audio settings of that moment, and one peer per
 * other joined participant. Peers come and go as CallChanged shows them
 * joining and leaving (group calls). Signals that arrive before the engine
 * runs wait in a queue. */
#define G_LOG_DOMAIN "voipd"

#include <glib/gi18n.h>

#include "voipd-call.h"
#include "voipd-errors.h"
#include "voipd-groups.h"
#include "voipd-media-loader.h"

/* Signals waiting for the engine; a peer sends a few dozen at most. */
#define PENDING_SIGNALS_MAX 512

typedef struct {
  char  *peer;
  guint  kind;
  char  *data;
} PendingSignal;

struct _VoipdCall {
  GObject parent_instance;

  VoipdAccount       *account;       /* not owned: it owns the registry that owns us */
  guint64             id;
  char               *path;
  VoipDBusObjectSkeleton *object;
  VoipDBusCall           *skeleton;

  guint               server_state;  /* VoipCallState; 0 before the first CallChanged */
  GVariant           *participants;  /* the last a(su), with us in it */
  gboolean            ended;

  const VoipdMediaApi *api;
  VoipdMediaCall     *media;
  gboolean            media_starting; /* CallServers in flight */
  GHashTable         *peers;         /* username → VoipdMediaPeerState, the engine's peers */
  GQueue              pending;       /* PendingSignal, before the engine runs */
  GCancellable       *cancellable;   /* requests of this call; cancelled at the end */

  guint               stats_id;
  guint               linger_id;
};

enum { SIGNAL_FINISHED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (VoipdCall, voipd_call, G_TYPE_OBJECT)

static void call_set_ended (VoipdCall *self, VoipCallReason reason);

/* ---- helpers ----------------------------------------------------------------- */

char *
voipd_call_path (guint64 id)
{
  return g_strdup_printf (VOIPD_OBJECT_ROOT "/call/%" G_GUINT64_FORMAT, id);
}

static void
pending_signal_free (PendingSignal *signal)
{
  g_free (signal->peer);
  g_free (signal->data);
  g_free (signal);
}

static const char *
me (VoipdCall *self)
{
  return voipd_account_get_username (self->account);
}

/* Replies to what the media engine sends (CallSignal, CallData) and to our
 * own hang-up after a failure carry nothing we act on. */
static void
on_ignored_reply (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = voipd_connection_request_finish (VOIPD_CONNECTION (source),
                                                               result, &error);

  if (reply == NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
      && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CLOSED))
    g_debug ("call request refused: %s", error->message);
}

static void
call_send (VoipdCall *self, guint16 code, GVariant *payload)
{
  g_autoptr(GVariant) owned = g_variant_ref_sink (payload);

  if (!voipd_account_check_online (self->account, NULL))
    return;
  voipd_connection_request_async (voipd_account_get_connection (self->account), code, owned,
                                  NULL, on_ignored_reply, NULL);
}

/* Leaves the call at the server and ends it here with reason failed. */
static void
call_fail (VoipdCall *self, const char *why)
{
  g_warning ("call %" G_GUINT64_FORMAT " failed: %s", self->id, why);
  call_send (self, VOIP_MSG_CALL_HANGUP, g_variant_new ("(t)", self->id));
  call_set_ended (self, VOIP_CALL_REASON_FAILED);
}

/* The protocol's reason, for people. */
static const char *
call_reason_describe (VoipCallReason reason)
{
  switch (reason)
    {
    case VOIP_CALL_REASON_NONE:               return "";
    case VOIP_CALL_REASON_ANSWERED:           return _("answered");
    case VOIP_CALL_REASON_REJECTED:           return _("declined");
    case VOIP_CALL_REASON_BUSY:               return _("busy in another call");
    case VOIP_CALL_REASON_OFFLINE:            return _("a participant went offline");
    case VOIP_CALL_REASON_TIMEOUT:            return _("nobody answered");
    case VOIP_CALL_REASON_HANGUP:             return _("hung up");
    case VOIP_CALL_REASON_FAILED:             return _("no audio path to anyone");
    case VOIP_CALL_REASON_ANSWERED_ELSEWHERE: return _("answered on another device");
    default:                                  return _("unknown reason");
    }
}

/* StateReasonCode (the protocol's word) and StateReason (said for people). */
static void
call_set_reason (VoipdCall *self, VoipCallReason reason)
{
  voip_dbus_call_set_state_reason_code (self->skeleton, reason == VOIP_CALL_REASON_NONE
                                                   ? "" : voip_call_reason_to_string (reason));
  voip_dbus_call_set_state_reason (self->skeleton, call_reason_describe (reason));
}

/* Call.Stats with the bus's spelling of keys (rtt_ms), whatever the
 * engine's; takes the engine's value (floating or not). */
static GVariant *
stats_for_bus (GVariant *engine_stats)
{
  g_autoptr(GVariant) stats = g_variant_ref_sink (engine_stats);
  GVariantBuilder builder;
  GVariantIter peers;
  const char *peer;
  GVariant *values;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{sa{sv}}"));
  g_variant_iter_init (&peers, stats);
  while (g_variant_iter_next (&peers, "{&s@a{sv}}", &peer, &values))
    {
      GVariantIter iter;
      const char *key;
      GVariant *value;

      g_variant_builder_open (&builder, G_VARIANT_TYPE ("{sa{sv}}"));
      g_variant_builder_add (&builder, "s", peer);
      g_variant_builder_open (&builder, G_VARIANT_TYPE_VARDICT);
      g_variant_iter_init (&iter, values);
      while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
        {
          g_autofree char *snake = g_strdelimit (g_strdup (key), "-", '_');

          g_variant_builder_add (&builder, "{sv}", snake, value);
          g_variant_unref (value);
        }
      g_variant_builder_close (&builder);
      g_variant_builder_close (&builder);
      g_variant_unref (values);
    }
  return g_variant_builder_end (&builder);
}

/* Participants for the bus: everyone but us, with state names. */
static GVariant *
participants_for_bus (VoipdCall *self, GVariant *participants)
{
  GVariantBuilder builder;
  GVariantIter iter;
  const char *username;
  guint32 state;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(ss)"));
  g_variant_iter_init (&iter, participants);
  while (g_variant_iter_next (&iter, "(&su)", &username, &state))
    if (g_strcmp0 (username, me (self)) != 0)
      g_variant_builder_add (&builder, "(ss)", username, voip_participant_state_to_string (state));
  return g_variant_builder_end (&builder);
}

/* ---- stats -------------------------------------------------------------------- */

static void
call_refresh_stats (VoipdCall *self)
{
  g_autoptr(GVariant) stats = NULL;
  GVariant *current;

  if (self->media == NULL)
    return;
  stats = g_variant_ref_sink (stats_for_bus (self->api->get_stats (self->media)));
  current = voip_dbus_call_get_stats (self->skeleton);
  if (current == NULL || !g_variant_equal (current, stats))
    voip_dbus_call_set_stats (self->skeleton, stats);
}

static gboolean
on_stats_timer (gpointer user_data)
{
  call_refresh_stats (user_data);
  return G_SOURCE_CONTINUE;
}

/* ---- media -------------------------------------------------------------------- */

static void
on_media_signal_out (gpointer user_data, const char *peer, guint kind, const char *data)
{
  VoipdCall *self = user_data;

  call_send (self, VOIP_MSG_CALL_SIGNAL, g_variant_new ("(tsus)", self->id, peer, kind, data));
}

static void
on_media_relay_out (gpointer user_data, const char *peer, GBytes *packet)
{
  VoipdCall *self = user_data;
  GVariant *bytes = g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, packet, TRUE);

  call_send (self, VOIP_MSG_CALL_DATA, g_variant_new ("(ts@ay)", self->id, peer, bytes));
}

static void
call_check_failed_peers (VoipdCall *self)
{
  GHashTableIter iter;
  gpointer state;

  if (self->ended || g_hash_table_size (self->peers) == 0)
    return;
  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, NULL, &state))
    if (GPOINTER_TO_UINT (state) != VOIPD_MEDIA_PEER_FAILED)
      return;
  call_fail (self, "no media path to any peer");
}

static gboolean
on_check_failed_peers (gpointer user_data)
{
  call_check_failed_peers (user_data);
  return G_SOURCE_REMOVE;
}

static void
on_media_peer_state (gpointer user_data, const char *peer, VoipdMediaPeerState state,
                     const char *path)
{
  VoipdCall *self = user_data;

  g_debug ("call %" G_GUINT64_FORMAT ": %s is %s%s%s", self->id, peer,
           state == VOIPD_MEDIA_PEER_CONNECTED ? "connected"
           : state == VOIPD_MEDIA_PEER_FAILED ? "unreachable" : "connecting",
           path ? " via " : "", path ? path : "");
  if (self->ended || !g_hash_table_contains (self->peers, peer))
    return;
  g_hash_table_insert (self->peers, g_strdup (peer), GUINT_TO_POINTER (state));
  if (state == VOIPD_MEDIA_PEER_CONNECTED)
    {
      if (g_strcmp0 (voip_dbus_call_get_state (self->skeleton), "connecting") == 0)
        voip_dbus_call_set_state (self->skeleton, "active");
      call_refresh_stats (self);
    }
  else if (state == VOIPD_MEDIA_PEER_FAILED)
    /* Not from inside the engine's callback: ending frees the engine's call. */
    g_idle_add_full (G_PRIORITY_DEFAULT, on_check_failed_peers, g_object_ref (self),
                     g_object_unref);
}

static const VoipdMediaCallbacks media_callbacks = {
  .signal_out = on_media_signal_out,
  .relay_out  = on_media_relay_out,
  .peer_state = on_media_peer_state,
};

/* Makes the engine's peers the other joined participants. Controlling is
 * whoever comes first in the joining order (the caller, in a 1:1 call). */
static void
call_sync_peers (VoipdCall *self)
{
  g_autoptr(GHashTable) joined = g_hash_table_new (g_str_hash, g_str_equal);
  GHashTableIter iter;
  const char *username;
  guint32 state;
  gboolean seen_me = FALSE;
  GVariantIter participants;

  if (self->media == NULL || self->participants == NULL)
    return;
  g_variant_iter_init (&participants, self->participants);
  while (g_variant_iter_next (&participants, "(&su)", &username, &state))
    {
      g_autoptr(GError) error = NULL;

      if (g_strcmp0 (username, me (self)) == 0)
        {
          seen_me = TRUE;
          continue;
        }
      if (state != VOIP_PARTICIPANT_JOINED)
        continue;
      g_hash_table_add (joined, (gpointer) username);
      if (g_hash_table_contains (self->peers, username))
        continue;
      g_debug ("call %" G_GUINT64_FORMAT ": adding %s (%s)", self->id, username,
               seen_me ? "controlling" : "controlled");
      if (self->api->add_peer (self->media, username, seen_me, &error))
        g_hash_table_insert (self->peers, g_strdup (username),
                             GUINT_TO_POINTER (VOIPD_MEDIA_PEER_CONNECTING));
      else
        {
          g_warning ("call %" G_GUINT64_FORMAT ": cannot reach %s: %s", self->id, username,
                     error->message);
          g_hash_table_insert (self->peers, g_strdup (username),
                               GUINT_TO_POINTER (VOIPD_MEDIA_PEER_FAILED));
        }
    }

  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, (gpointer *) &username, NULL))
    if (!g_hash_table_contains (joined, username))
      {
        g_debug ("call %" G_GUINT64_FORMAT ": %s left", self->id, username);
        self->api->remove_peer (self->media, username);
        g_hash_table_iter_remove (&iter);
      }
  call_check_failed_peers (self);
}

static void
servers_from_wire (GVariant *list, gboolean turn, const char *server_host, GArray *out)
{
  GVariantIter iter;
  const char *host, *username = NULL, *password = NULL;
  guint16 port;

  g_variant_iter_init (&iter, list);
  while (turn ? g_variant_iter_next (&iter, "(&sq&s&s)", &host, &port, &username, &password)
              : g_variant_iter_next (&iter, "(&sq)", &host, &port))
    {
      VoipdMediaServer server = {
        .host = g_strdup (*host != '\0' ? host : server_host),
        .port = port,
        .username = g_strdup (username),
        .password = g_strdup (password),
      };

      if (server.host == NULL)   /* "the server's host" of a connection now gone */
        continue;
      g_array_append_val (out, server);
    }
}

static void
media_server_clear (VoipdMediaServer *server)
{
  g_free (server->host);
  g_free (server->username);
  g_free (server->password);
}

static void
call_start_media (VoipdCall *self, GVariant *servers)
{
  GSettings *settings = voipd_account_get_settings (self->account);
  g_autofree char *source = g_settings_get_string (settings, "audio-source");
  g_autofree char *sink = g_settings_get_string (settings, "audio-sink");
  g_autofree char *server_host = voipd_connection_dup_remote_host (
      voipd_account_get_connection (self->account));
  g_autoptr(GArray) stun = g_array_new (FALSE, TRUE, sizeof (VoipdMediaServer));
  g_autoptr(GArray) turn = g_array_new (FALSE, TRUE, sizeof (VoipdMediaServer));
  g_autoptr(GError) error = NULL;
  VoipdMediaConfig config = { 0 };

  g_array_set_clear_func (stun, (GDestroyNotify) media_server_clear);
  g_array_set_clear_func (turn, (GDestroyNotify) media_server_clear);
  if (servers != NULL)
    {
      g_autoptr(GVariant) stun_list = g_variant_get_child_value (servers, 0);
      g_autoptr(GVariant) turn_list = g_variant_get_child_value (servers, 1);

      servers_from_wire (stun_list, FALSE, server_host, stun);
      servers_from_wire (turn_list, TRUE, server_host, turn);
    }

  self->api = voipd_media_load (&error);
  if (self->api == NULL)
    {
      call_fail (self, error->message);
      return;
    }
  config.audio_source = source;
  config.audio_sink = sink;
  config.echo_cancellation = g_settings_get_boolean (settings, "echo-cancellation");
  /* The server says whether it relays media; without its answer, assume not. */
  config.allow_server_relay = FALSE;
  if (servers != NULL)
    g_variant_get_child (servers, 2, "b", &config.allow_server_relay);
  config.stun = (const VoipdMediaServer *) stun->data;
  config.n_stun = stun->len;
  config.turn = (const VoipdMediaServer *) turn->data;
  config.n_turn = turn->len;
  g_debug ("call %" G_GUINT64_FORMAT ": media from '%s' to '%s', %u STUN, %u TURN", self->id,
           source, sink, stun->len, turn->len);
  self->media = self->api->call_new (&config, &media_callbacks, self, &error);
  if (self->media == NULL)
    {
      call_fail (self, error->message);
      return;
    }
  if (voip_dbus_call_get_muted (self->skeleton))
    self->api->set_muted (self->media, TRUE);

  call_sync_peers (self);
  while (!g_queue_is_empty (&self->pending) && self->media != NULL)
    {
      PendingSignal *signal = g_queue_pop_head (&self->pending);

      self->api->signal_in (self->media, signal->peer, signal->kind, signal->data);
      pending_signal_free (signal);
    }
  if (self->media != NULL)
    self->stats_id = g_timeout_add_seconds (1, on_stats_timer, self);
}

static void
on_servers (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(VoipdCall) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) servers = voipd_connection_request_finish (VOIPD_CONNECTION (source),
                                                                 result, &error);

  self->media_starting = FALSE;
  if (self->ended)
    return;
  /* Without STUN and TURN, ICE still finds host candidates, and the server
   * relay remains: worth a try. */
  if (servers == NULL)
    g_message ("call %" G_GUINT64_FORMAT ": no STUN/TURN servers: %s", self->id, error->message);
  call_start_media (self, servers);
}

static void
call_maybe_start_media (VoipdCall *self)
{
  if (self->ended || self->media != NULL || self->media_starting
      || self->server_state != VOIP_CALL_STATE_ACTIVE)
    return;
  if (!voipd_account_check_online (self->account, NULL))
    return;
  self->media_starting = TRUE;
  voipd_connection_request_async (voipd_account_get_connection (self->account),
                                  VOIP_MSG_CALL_SERVERS, g_variant_new ("()"), self->cancellable,
                                  on_servers, g_object_ref (self));
}

static void
call_stop_media (VoipdCall *self)
{
  g_clear_handle_id (&self->stats_id, g_source_remove);
  g_cancellable_cancel (self->cancellable);
  if (self->media != NULL)
    {
      call_refresh_stats (self);   /* the last figures stay readable */
      self->api->call_free (g_steal_pointer (&self->media));
    }
  g_hash_table_remove_all (self->peers);
  g_queue_clear_full (&self->pending, (GDestroyNotify) pending_signal_free);
}

/* ---- ending -------------------------------------------------------------------- */

static gboolean
on_linger_timeout (gpointer user_data)
{
  VoipdCall *self = user_data;

  self->linger_id = 0;
  g_dbus_object_manager_server_unexport (voipd_account_get_manager (self->account), self->path);
  g_signal_emit (self, signals[SIGNAL_FINISHED], 0);
  return G_SOURCE_REMOVE;
}

static void
call_set_ended (VoipdCall *self, VoipCallReason reason)
{
  if (self->ended)
    return;
  g_debug ("call %" G_GUINT64_FORMAT " ended: %s", self->id, voip_call_reason_to_string (reason));
  self->ended = TRUE;
  call_stop_media (self);
  voip_dbus_call_set_state (self->skeleton, "ended");
  call_set_reason (self, reason);
  self->linger_id = g_timeout_add_seconds (VOIPD_CALL_LINGER_S, on_linger_timeout, self);
}

/* ---- methods ------------------------------------------------------------------- */

static gboolean
on_handle_answer (VoipDBusCall *skeleton, GDBusMethodInvocation *invocation, VoipdCall *self)
{
  g_autoptr(GError) error = NULL;

  /* The server would ignore it, and the caller would think it answered. */
  if (g_strcmp0 (voip_dbus_call_get_direction (skeleton), "incoming") != 0)
    {
      g_dbus_method_invocation_return_error_literal (
          invocation, VOIP_ERROR, VOIP_STATUS_NOT_ALLOWED,
          _("this is your own call: only the people you call can answer it"));
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  if (g_strcmp0 (voip_dbus_call_get_state (skeleton), "ringing") != 0)
    {
      g_dbus_method_invocation_return_error (invocation, VOIP_ERROR, VOIP_STATUS_NOT_ALLOWED,
                                             _("the call is no longer ringing (it is %s)"),
                                             voip_dbus_call_get_state (skeleton));
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  /* Answering without audio would leave the caller talking to nobody. */
  if (voipd_media_load (&error) == NULL)
    {
      g_dbus_method_invocation_return_gerror (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  voipd_account_call (self->account, invocation, VOIP_MSG_CALL_ANSWER,
                      g_variant_new ("(t)", self->id), NULL, NULL, NULL);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_handle_reject (VoipDBusCall *skeleton, GDBusMethodInvocation *invocation, VoipdCall *self)
{
  voipd_account_call (self->account, invocation, VOIP_MSG_CALL_REJECT,
                      g_variant_new ("(t)", self->id), NULL, NULL, NULL);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_handle_hangup (VoipDBusCall *skeleton, GDBusMethodInvocation *invocation, VoipdCall *self)
{
  voipd_account_call (self->account, invocation, VOIP_MSG_CALL_HANGUP,
                      g_variant_new ("(t)", self->id), NULL, NULL, NULL);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* Muted is writable on the bus: the skeleton's property changes, and the
 * engine follows (or picks it up when it starts). */
static void
on_muted_changed (VoipDBusCall *skeleton, GParamSpec *pspec, VoipdCall *self)
{
  if (self->media != NULL)
    self->api->set_muted (self->media, voip_dbus_call_get_muted (skeleton));
}

/* ---- public -------------------------------------------------------------------- */

const char *
voipd_call_get_object_path (VoipdCall *self)
{
  return self->path;
}

gboolean
voipd_call_is_ended (VoipdCall *self)
{
  return self->ended;
}

void
voipd_call_update (VoipdCall *self, GVariant *call)
{
  guint32 state, reason;
  gint64 started_ms;
  g_autoptr(GVariant) participants = NULL;

  if (self->ended)
    return;
  g_variant_get (call, "(t&stuux@a(su))", NULL, NULL, NULL, &state, &reason, &started_ms,
                 &participants);
  g_clear_pointer (&self->participants, g_variant_unref);
  self->participants = g_steal_pointer (&participants);
  self->server_state = state;

  voip_dbus_call_set_participants (self->skeleton, participants_for_bus (self, self->participants));
  voip_dbus_call_set_start_time (self->skeleton, started_ms);
  switch (state)
    {
    case VOIP_CALL_STATE_RINGING:
      voip_dbus_call_set_state (self->skeleton, "ringing");
      call_set_reason (self, VOIP_CALL_REASON_NONE);
      break;
    case VOIP_CALL_STATE_ACTIVE:
      if (g_strcmp0 (voip_dbus_call_get_state (self->skeleton), "active") != 0)
        voip_dbus_call_set_state (self->skeleton, "connecting");
      call_set_reason (self, VOIP_CALL_REASON_ANSWERED);
      call_sync_peers (self);
      call_maybe_start_media (self);
      break;
    case VOIP_CALL_STATE_ENDED:
      call_set_ended (self, reason);
      break;
    default:
      g_warning ("call %" G_GUINT64_FORMAT ": unknown state %u", self->id, state);
    }
}

void
voipd_call_signal_in (VoipdCall *self, const char *peer, guint kind, const char *data)
{
  PendingSignal *signal;

  if (self->ended)
    return;
  if (self->media != NULL)
    {
      self->api->signal_in (self->media, peer, kind, data);
      return;
    }
  if (g_queue_get_length (&self->pending) >= PENDING_SIGNALS_MAX)
    {
      g_warning ("call %" G_GUINT64_FORMAT ": too many signals before the media started",
                 self->id);
      return;
    }
  signal = g_new0 (PendingSignal, 1);
  signal->peer = g_strdup (peer);
  signal->kind = kind;
  signal->data = g_strdup (data);
  g_queue_push_tail (&self->pending, signal);
}

void
voipd_call_relay_in (VoipdCall *self, const char *peer, GBytes *packet)
{
  /* Before the engine runs there is nobody to decrypt it: dropped, as a
   * lost packet would be. */
  if (self->media != NULL)
    self->api->relay_in (self->media, peer, packet);
}

void
voipd_call_end (VoipdCall *self, VoipCallReason reason)
{
  call_set_ended (self, reason);
}

/* ---- GObject ------------------------------------------------------------------- */

static void
voipd_call_dispose (GObject *object)
{
  VoipdCall *self = VOIPD_CALL (object);

  if (self->peers != NULL)
    call_stop_media (self);
  g_clear_handle_id (&self->linger_id, g_source_remove);
  if (self->skeleton != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->skeleton, self);
      g_dbus_object_manager_server_unexport (voipd_account_get_manager (self->account),
                                             self->path);
    }
  g_clear_object (&self->skeleton);
  g_clear_object (&self->object);
  g_clear_object (&self->cancellable);
  G_OBJECT_CLASS (voipd_call_parent_class)->dispose (object);
}

static void
voipd_call_finalize (GObject *object)
{
  VoipdCall *self = VOIPD_CALL (object);

  g_clear_pointer (&self->peers, g_hash_table_unref);
  g_clear_pointer (&self->participants, g_variant_unref);
  g_free (self->path);
  G_OBJECT_CLASS (voipd_call_parent_class)->finalize (object);
}

static void
voipd_call_class_init (VoipdCallClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = voipd_call_dispose;
  object_class->finalize = voipd_call_finalize;

  signals[SIGNAL_FINISHED] = g_signal_new ("finished", G_TYPE_FROM_CLASS (klass),
                                           G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                           G_TYPE_NONE, 0);
}

static void
voipd_call_init (VoipdCall *self)
{
  self->peers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->cancellable = g_cancellable_new ();
  g_queue_init (&self->pending);
}

VoipdCall *
voipd_call_new (VoipdAccount *account, guint64 id, const char *initiator, guint64 group,
                const char *callee)
{
  VoipdCall *self = g_object_new (VOIPD_TYPE_CALL, NULL);
  g_autofree char *group_path = group != 0 ? voipd_group_path (group) : g_strdup ("/");
  gboolean outgoing = g_strcmp0 (initiator, voipd_account_get_username (account)) == 0;
  GVariantBuilder participants;

  self->account = account;
  self->id = id;
  self->path = voipd_call_path (id);
  self->object = voip_dbus_object_skeleton_new (self->path);
  self->skeleton = voip_dbus_call_skeleton_new ();

  g_variant_builder_init (&participants, G_VARIANT_TYPE ("a(ss)"));
  if (callee != NULL)
    g_variant_builder_add (&participants, "(ss)", callee,
                           voip_participant_state_to_string (VOIP_PARTICIPANT_INVITED));

  /* Every property set before the export, so that InterfacesAdded carries them. */
  voip_dbus_call_set_id (self->skeleton, id);
  voip_dbus_call_set_direction (self->skeleton, outgoing ? "outgoing" : "incoming");
  voip_dbus_call_set_initiator (self->skeleton, initiator);
  voip_dbus_call_set_state (self->skeleton, "ringing");
  call_set_reason (self, VOIP_CALL_REASON_NONE);
  voip_dbus_call_set_participants (self->skeleton, g_variant_builder_end (&participants));
  voip_dbus_call_set_group (self->skeleton, group_path);
  voip_dbus_call_set_muted (self->skeleton, FALSE);
  voip_dbus_call_set_start_time (self->skeleton, 0);
  voip_dbus_call_set_stats (self->skeleton, g_variant_new ("a{sa{sv}}", NULL));

  g_signal_connect (self->skeleton, "handle-answer", G_CALLBACK (on_handle_answer), self);
  g_signal_connect (self->skeleton, "handle-reject", G_CALLBACK (on_handle_reject), self);
  g_signal_connect (self->skeleton, "handle-hangup", G_CALLBACK (on_handle_hangup), self);
  g_signal_connect (self->skeleton, "notify::muted", G_CALLBACK (on_muted_changed), self);
  voip_dbus_object_skeleton_set_call (self->object, self->skeleton);
  g_dbus_object_manager_server_export (voipd_account_get_manager (account),
                                       G_DBUS_OBJECT_SKELETON (self->object));
  return self;
}
