/* server-dispatch.c — the handler table. Login rules come from the catalogue
 * (voip-catalogue.c), so a handler only ever sees requests it may serve. */
#define G_LOG_DOMAIN "voip-server"

#include "server-dispatch.h"
#include "server-handlers.h"

static const struct {
  guint16       code;
  ServerHandler handler;
} handlers[] = {
  { VOIP_MSG_REGISTER,            server_handle_register },
  { VOIP_MSG_LOGIN,               server_handle_login },
  { VOIP_MSG_RESUME,              server_handle_resume },
  { VOIP_MSG_LOGOUT,              server_handle_logout },
  { VOIP_MSG_CHANGE_PASSWORD,     server_handle_change_password },
  { VOIP_MSG_DELETE_ACCOUNT,      server_handle_delete_account },
  { VOIP_MSG_SET_PRESENCE,        server_handle_set_presence },
  { VOIP_MSG_SET_PROFILE,         server_handle_set_profile },
  { VOIP_MSG_GET_PROFILE,         server_handle_get_profile },
  { VOIP_MSG_PING,                server_handle_ping },
  { VOIP_MSG_CONTACT_LIST,        server_handle_contact_list },
  { VOIP_MSG_CONTACT_REQUEST,     server_handle_contact_request },
  { VOIP_MSG_CONTACT_ACCEPT,      server_handle_contact_accept },
  { VOIP_MSG_CONTACT_DENY,        server_handle_contact_deny },
  { VOIP_MSG_CONTACT_REMOVE,      server_handle_contact_remove },
  { VOIP_MSG_CONTACT_PENDING,     server_handle_contact_pending },
  { VOIP_MSG_GROUP_CREATE,        server_handle_group_create },
  { VOIP_MSG_GROUP_LIST,          server_handle_group_list },
  { VOIP_MSG_GROUP_INFO,          server_handle_group_info },
  { VOIP_MSG_GROUP_RENAME,        server_handle_group_rename },
  { VOIP_MSG_GROUP_ADD_MEMBER,    server_handle_group_add_member },
  { VOIP_MSG_GROUP_REMOVE_MEMBER, server_handle_group_remove_member },
  { VOIP_MSG_GROUP_LEAVE,         server_handle_group_leave },
  { VOIP_MSG_GROUP_DELETE,        server_handle_group_delete },
  { VOIP_MSG_SEND_TEXT,           server_handle_send_text },
  { VOIP_MSG_SEND_VOICE,          server_handle_send_voice },
  { VOIP_MSG_HISTORY,             server_handle_history },
  { VOIP_MSG_SYNC,                server_handle_sync },
  { VOIP_MSG_EDIT,                server_handle_edit },
  { VOIP_MSG_DELETE,              server_handle_delete },
  { VOIP_MSG_GET_VOICE,           server_handle_get_voice },
  { VOIP_MSG_CALL_INVITE,         server_handle_call_invite },
  { VOIP_MSG_CALL_ANSWER,         server_handle_call_answer },
  { VOIP_MSG_CALL_REJECT,         server_handle_call_reject },
  { VOIP_MSG_CALL_HANGUP,         server_handle_call_hangup },
  { VOIP_MSG_CALL_SIGNAL,         server_handle_call_signal },
  { VOIP_MSG_CALL_DATA,           server_handle_call_data },
  { VOIP_MSG_CALL_SERVERS,        server_handle_call_servers },
  { VOIP_MSG_PLUGIN_SEND,         server_handle_plugin_send },
};

/* Requests whose outcome decides how the next ones are served: a client may
 * pipeline GetProfile right behind Login, or anything behind Logout. */
static gboolean
changes_login_state (guint16 code)
{
  switch (code)
    {
    case VOIP_MSG_REGISTER:
    case VOIP_MSG_LOGIN:
    case VOIP_MSG_RESUME:
    case VOIP_MSG_LOGOUT:
    case VOIP_MSG_DELETE_ACCOUNT:
      return TRUE;
    default:
      return FALSE;
    }
}

static ServerHandler
handler_for (guint16 code)
{
  for (guint i = 0; i < G_N_ELEMENTS (handlers); i++)
    if (handlers[i].code == code)
      return handlers[i].handler;
  return NULL;
}

void
server_dispatch (Server *server, ServerSession *session, const ServerRequest *request)
{
  const VoipMessageSpec *spec = voip_catalogue_lookup (request->code);
  gboolean logged_in = server_session_get_user_id (session) != 0;
  ServerHandler handler = handler_for (request->code);
  VoipStatus refusal = VOIP_STATUS_OK;

  if (handler == NULL)
    refusal = VOIP_STATUS_UNKNOWN_MESSAGE;
  else if ((spec->flags & VOIP_SPEC_NEEDS_LOGIN) && !logged_in)
    refusal = VOIP_STATUS_NOT_LOGGED_IN;
  else if ((spec->flags & VOIP_SPEC_ANONYMOUS)
           && (logged_in || server_session_get_authenticating (session)))
    refusal = VOIP_STATUS_ALREADY_LOGGED_IN;

  if (refusal != VOIP_STATUS_OK)
    {
      server_session_reply_error (session, request->code, request->request_id, refusal, NULL);
      return;
    }
  if (changes_login_state (request->code))
    server_session_hold_requests (session, request->request_id);
  handler (server, session, request);
}

gboolean
server_dispatch_is_complete (GError **error)
{
  for (const VoipMessageSpec *row = voip_catalogue; row->name != NULL; row++)
    if (row->request_type != NULL && handler_for (row->code) == NULL)
      {
        g_set_error (error, VOIP_ERROR, VOIP_STATUS_UNKNOWN_MESSAGE,
                     "request %s (%u) has no handler", row->name, row->code);
        return FALSE;
      }
  return TRUE;
}

void
server_reply_gerror (ServerSession *session, const ServerRequest *request, GError *error)
{
  VoipStatus status = error->domain == VOIP_ERROR ? (VoipStatus) error->code : VOIP_STATUS_UNKNOWN;

  server_session_reply_error (session, request->code, request->request_id, status, error->message);
}
