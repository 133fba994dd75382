/* server-call-relay.c — CallSignal and CallData: from one joined participant
 * to another, through the server.
 *
 * CallData is the media path of last resort (ICE failed): some 50 packets a
 * second each way per peer. It touches no store, logs nothing, and costs two
 * hash lookups and a scan of at most VOIP_CALL_PARTICIPANTS_MAX entries. */
#define G_LOG_DOMAIN "voip-server"

#include "server-calls.h"
#include "server-handlers.h"
#include "cluster/server-cluster-calls.h"

/* Passes the event (floating) on to `peer`, if the sender's session is
 * joined in the same call (here, or in a call another node of the cluster
 * owns: that node passes it on); else the refusal. */
static VoipStatus
relay (Server *server, ServerSession *session, guint16 request_code, guint64 call_id,
       const char *peer, guint16 code, GVariant *event)
{
  ServerCalls *calls = server_get_calls (server);
  ServerCall *call = server_calls_lookup (calls, call_id);
  g_autoptr(GVariant) sunk = g_variant_ref_sink (event);
  VoipStatus status = VOIP_STATUS_NO_SUCH_CALL;

  if (call == NULL)
    {
      if (server_calls_get_cluster (calls) != NULL)
        server_cluster_calls_request (server_calls_get_cluster (calls), session, request_code,
                                      call_id, peer, sunk, &status);
      return status;
    }
  if (server_call_get_joined_session (call, server_session_get_username (session)) != session)
    return VOIP_STATUS_NO_SUCH_CALL;
  if (!server_call_deliver (call, server_session_get_username (session), peer, code, sunk))
    return VOIP_STATUS_NOT_ALLOWED;
  return VOIP_STATUS_OK;
}

void
server_handle_call_signal (Server *server, ServerSession *session, const ServerRequest *request)
{
  guint64 call_id;
  const char *peer, *data;
  guint32 kind;
  VoipStatus status = VOIP_STATUS_OK;

  g_variant_get (request->payload, "(t&su&s)", &call_id, &peer, &kind, &data);
  if (kind < 1 || kind > VOIP_CALL_SIGNAL_LAST)
    status = VOIP_STATUS_MALFORMED;
  else if (strlen (data) > VOIP_CALL_SIGNAL_MAX)
    status = VOIP_STATUS_TOO_LARGE;
  else if (!g_utf8_validate (data, -1, NULL))
    status = VOIP_STATUS_MALFORMED;
  else
    status = relay (server, session, request->code, call_id, peer, VOIP_MSG_CALL_SIGNAL_RECEIVED,
                    g_variant_new ("(tsus)", call_id, server_session_get_username (session),
                                   kind, data));
  if (status != VOIP_STATUS_OK)
    {
      server_session_reply_error (session, request->code, request->request_id, status, NULL);
      return;
    }
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

  g_variant_get (request->payload, "(t&s@ay)", &call_id, &peer, &packet);
  size = g_variant_n_children (packet);
  if (!server_get_config (server)->call_relay)
    status = VOIP_STATUS_NOT_ALLOWED;
  else if (size == 0)
    status = VOIP_STATUS_MALFORMED;
  else if (size > VOIP_CALL_PACKET_MAX)
    status = VOIP_STATUS_TOO_LARGE;
  else
    status = relay (server, session, request->code, call_id, peer, VOIP_MSG_CALL_DATA_RECEIVED,
                    g_variant_new ("(ts@ay)", call_id, server_session_get_username (session),
                                   packet));
  if (status != VOIP_STATUS_OK)
    {
      server_session_reply_error (session, request->code, request->request_id, status, NULL);
      return;
    }
  server_session_reply (session, request->code, request->request_id, g_variant_new ("()"));
}
