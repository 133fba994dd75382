/* server-call-relay.c — CallSignal and CallData: from one joined participant
 * to another, through the server.
 *
 * CallData is the media path of last resort (ICE failed): some 50 packets a
 * second each way per peer. It touches no store, logs nothing, and costs two
 * hash lookups and a scan of at most VOIP_CALL_PARTICIPANTS_MAX entries. */
#define G_LOG_DOMAIN "voip-server"

#include "server-calls.h"
#include "server-handlers.h"

/* The joined session of `peer`, if the sender's session is joined in the
 * same call; else the refusal. */
static ServerSession *
find_peer (Server *server, ServerSession *session, guint64 call_id, const char *peer,
           VoipStatus *refusal)
{
  ServerCall *call = server_calls_lookup (server_get_calls (server), call_id);
  ServerSession *target;

  if (call == NULL
      || server_call_get_joined_session (call, server_session_get_username (session)) != session)
    {
      *refusal = VOIP_STATUS_NO_SUCH_CALL;
      return NULL;
    }
  target = server_call_get_joined_session (call, peer);
  if (target == NULL || target == session)
    {
      *refusal = VOIP_STATUS_NOT_ALLOWED;
      return NULL;
    }
  return target;
}

static void
relay (ServerSession *target, guint16 code, GVariant *payload)
{
  g_autoptr(GBytes) frame = voip_frame_encode (VOIP_KIND_EVENT, code, 0, 0, payload);

  server_session_send_frame (target, frame);
}

void
server_handle_call_signal (Server *server, ServerSession *session, const ServerRequest *request)
{
  guint64 call_id;
  const char *peer, *data;
  guint32 kind;
  VoipStatus status = VOIP_STATUS_OK;
  ServerSession *target = NULL;

  g_variant_get (request->payload, "(t&su&s)", &call_id, &peer, &kind, &data);
  if (kind < 1 || kind > VOIP_CALL_SIGNAL_LAST)
    status = VOIP_STATUS_MALFORMED;
  else if (strlen (data) > VOIP_CALL_SIGNAL_MAX)
    status = VOIP_STATUS_TOO_LARGE;
  else if (!g_utf8_validate (data, -1, NULL))
    status = VOIP_STATUS_MALFORMED;
  else
    target = find_peer (server, session, call_id, peer, &status);
  if (target == NULL)
    {
      server_session_reply_error (session, request->code, request->request_id, status, NULL);
      return;
    }
  relay (target, VOIP_MSG_CALL_SIGNAL_RECEIVED,
         g_variant_new ("(tsus)", call_id, server_session_get_username (session), kind, data));
  server_session_reply (session, request->code, request->request_id, g_variant_new ("()"));
}

void
server_handle_call_data (Server *server, ServerSession *session, const ServerRequest *request)
{
  guint64 call_id;
  const char *peer;
  g_autoptr(GVariant) packet = NULL;
  gsize size;
  VoipStatus status = VOIP_STATUS_OK;
  ServerSession *target = NULL;

  g_variant_get (request->payload, "(t&s@ay)", &call_id, &peer, &packet);
  size = g_variant_n_children (packet);
  if (!server_get_config (server)->call_relay)
    status = VOIP_STATUS_NOT_ALLOWED;
  else if (size == 0)
    status = VOIP_STATUS_MALFORMED;
  else if (size > VOIP_CALL_PACKET_MAX)
    status = VOIP_STATUS_TOO_LARGE;
  else
    target = find_peer (server, session, call_id, peer, &status);
  if (target == NULL)
    {
      server_session_reply_error (session, request->code, request->request_id, status, NULL);
      return;
    }
  relay (target, VOIP_MSG_CALL_DATA_RECEIVED,
         g_variant_new ("(ts@ay)", call_id, server_session_get_username (session), packet));
  server_session_reply (session, request->code, request->request_id, g_variant_new ("()"));
}
