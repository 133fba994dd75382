/* voip-catalogue.c — the message table. Adding a message is one row here
 * and one handler in the server. */
#include "voip-catalogue.h"

#define LOGIN VOIP_SPEC_NEEDS_LOGIN
#define ANON  VOIP_SPEC_ANONYMOUS

/* REQ: a request with its reply; EVT: an event only. */
#define REQ(code, name, flags, rq, rqf, rp, rpf, summary) \
  { code, name, flags, rq, rqf, rp, rpf, NULL, NULL, summary }
#define EVT(code, name, ev, evf, summary) \
  { code, name, 0, NULL, NULL, NULL, NULL, ev, evf, summary }

const VoipMessageSpec voip_catalogue[] = {
  REQ (VOIP_MSG_REGISTER, "Register", ANON,
       "(sss)", "username, password, email",
       "(ss)", "username, token",
       "Create an account and log this session in; email may be empty."),
  REQ (VOIP_MSG_LOGIN, "Login", ANON,
       "(ss)", "username, password",
       "(ss)", "username, token",
       "Log in with a password; the reply carries a new session token."),
  REQ (VOIP_MSG_RESUME, "Resume", ANON,
       "(ss)", "username, token",
       "(s)", "username",
       "Log in with a session token from an earlier Register or Login."),
  REQ (VOIP_MSG_LOGOUT, "Logout", LOGIN,
       "()", "",
       "()", "",
       "Revoke this session's token; the connection stays open, logged out."),
  REQ (VOIP_MSG_CHANGE_PASSWORD, "ChangePassword", LOGIN,
       "(ss)", "old_password, new_password",
       "()", "",
       "Change the password; every other token of the account is revoked and its sessions closed."),
  REQ (VOIP_MSG_DELETE_ACCOUNT, "DeleteAccount", LOGIN,
       "(s)", "password",
       "()", "",
       "Delete the account, its friendships, requests, tokens and group memberships."),
  REQ (VOIP_MSG_SET_PRESENCE, "SetPresence", LOGIN,
       "(u)", "presence",
       "()", "",
       "Set own presence (online, away, busy, dnd, invisible)."),
  REQ (VOIP_MSG_SET_PROFILE, "SetProfile", LOGIN,
       "(a{sv})", "fields",
       "()", "",
       "Change some profile fields; see \"Profile fields\"."),
  REQ (VOIP_MSG_GET_PROFILE, "GetProfile", LOGIN,
       "(s)", "username",
       VOIP_T_PROFILE, "username, display_name, presence, motd, city, phone, mail, language, avatar, plugins",
       "Read a user's profile; phone and mail are empty unless you are friends (or it is you)."),
  REQ (VOIP_MSG_PING, "Ping", 0,
       "()", "",
       "()", "",
       "Keepalive; allowed before login."),
  EVT (VOIP_MSG_PRESENCE_CHANGED, "PresenceChanged",
       "(su)", "username, presence",
       "A friend's presence as you may see it (invisible shows as offline)."),
  EVT (VOIP_MSG_PROFILE_CHANGED, "ProfileChanged",
       VOIP_T_CONTACT, "username, display_name, presence, motd",
       "A friend (or you, on another session) changed the profile."),
  EVT (VOIP_MSG_SESSION_CLOSED, "SessionClosed",
       "(us)", "reason, detail",
       "The server is about to close this connection, and why."),

  REQ (VOIP_MSG_CONTACT_LIST, "ContactList", LOGIN,
       "()", "",
       "(a" VOIP_T_CONTACT ")", "friends: [(username, display_name, presence, motd)]",
       "List friends with their presence."),
  REQ (VOIP_MSG_CONTACT_REQUEST, "ContactRequest", LOGIN,
       "(s)", "username",
       "(u)", "subscription",
       "Ask to be friends; if they already asked you, this accepts (reply says friend)."),
  REQ (VOIP_MSG_CONTACT_ACCEPT, "ContactAccept", LOGIN,
       "(s)", "username",
       "()", "",
       "Accept a pending incoming request."),
  REQ (VOIP_MSG_CONTACT_DENY, "ContactDeny", LOGIN,
       "(s)", "username",
       "()", "",
       "Deny a pending incoming request (or withdraw your own outgoing one)."),
  REQ (VOIP_MSG_CONTACT_REMOVE, "ContactRemove", LOGIN,
       "(s)", "username",
       "()", "",
       "End a friendship; both sides are notified."),
  REQ (VOIP_MSG_CONTACT_PENDING, "ContactPending", LOGIN,
       "()", "",
       "(asas)", "incoming, outgoing",
       "List pending friend requests, both ways."),
  EVT (VOIP_MSG_CONTACT_CHANGED, "ContactChanged",
       "(ssuu)", "username, display_name, subscription, change",
       "Your relationship with username changed: requested, accepted, denied or removed."),

  REQ (VOIP_MSG_GROUP_CREATE, "GroupCreate", LOGIN,
       "(sas)", "name, members",
       "(t)", "id",
       "Create a group owned by you with some of your friends."),
  REQ (VOIP_MSG_GROUP_LIST, "GroupList", LOGIN,
       "()", "",
       "(a" VOIP_T_GROUP ")", "groups: [(id, name, owner, members)]",
       "List the groups you are a member of."),
  REQ (VOIP_MSG_GROUP_INFO, "GroupInfo", LOGIN,
       "(t)", "id",
       VOIP_T_GROUP, "id, name, owner, members",
       "Describe a group you are a member of."),
  REQ (VOIP_MSG_GROUP_RENAME, "GroupRename", LOGIN,
       "(ts)", "id, name",
       "()", "",
       "Rename a group (any member)."),
  REQ (VOIP_MSG_GROUP_ADD_MEMBER, "GroupAddMember", LOGIN,
       "(ts)", "id, username",
       "()", "",
       "Add one of your friends to a group you are a member of."),
  REQ (VOIP_MSG_GROUP_REMOVE_MEMBER, "GroupRemoveMember", LOGIN,
       "(ts)", "id, username",
       "()", "",
       "Remove a member (owner only)."),
  REQ (VOIP_MSG_GROUP_LEAVE, "GroupLeave", LOGIN,
       "(t)", "id",
       "()", "",
       "Leave a group; ownership passes to the longest-standing member; the last one out deletes it."),
  REQ (VOIP_MSG_GROUP_DELETE, "GroupDelete", LOGIN,
       "(t)", "id",
       "()", "",
       "Delete a group (owner only)."),
  EVT (VOIP_MSG_GROUP_CHANGED, "GroupChanged",
       VOIP_T_GROUP, "id, name, owner, members",
       "A group you are in was created, renamed, or gained or lost a member."),
  EVT (VOIP_MSG_GROUP_REMOVED, "GroupRemoved",
       "(tu)", "id, reason",
       "You are no longer in a group: kicked, left, or deleted."),

  REQ (VOIP_MSG_SEND_TEXT, "SendText", LOGIN,
       "(stss)", "recipient, group, client_id, text",
       "(ttx)", "id, seq, timestamp_ms",
       "Send a text to a friend (group 0) or to a group (recipient \"\"); acknowledged once durable."),
  REQ (VOIP_MSG_SEND_VOICE, "SendVoice", LOGIN,
       "(stsayu)", "recipient, group, client_id, ogg_opus, duration_ms",
       "(ttx)", "id, seq, timestamp_ms",
       "Send a voice message (Opus in Ogg), like SendText."),
  REQ (VOIP_MSG_HISTORY, "History", LOGIN,
       "(sttu)", "peer, group, before_id, limit",
       "(a" VOIP_T_MESSAGE "b)", "messages (oldest first), more",
       "A page of a conversation before an id (0: the newest); more says older ones exist."),
  REQ (VOIP_MSG_SYNC, "Sync", LOGIN,
       "(tu)", "after_seq, limit",
       "(a" VOIP_T_MESSAGE "b)", "messages (by seq), more",
       "Every message sent, edited or deleted after a change sequence number, in all your conversations."),
  REQ (VOIP_MSG_EDIT, "Edit", LOGIN,
       "(ts)", "id, text",
       "()", "",
       "Replace the text of your own message."),
  REQ (VOIP_MSG_DELETE, "Delete", LOGIN,
       "(t)", "id",
       "()", "",
       "Delete your own message; a tombstone stays."),
  REQ (VOIP_MSG_GET_VOICE, "GetVoice", LOGIN,
       "(t)", "id",
       "(ay)", "ogg_opus",
       "Fetch the audio of a voice message you can see."),
  EVT (VOIP_MSG_MESSAGE_RECEIVED, "MessageReceived",
       VOIP_T_MESSAGE, "the message",
       "A new message in one of your conversations (also your own, sent from another session)."),
  EVT (VOIP_MSG_MESSAGE_EDITED, "MessageEdited",
       VOIP_T_MESSAGE, "the message",
       "A message was edited."),
  EVT (VOIP_MSG_MESSAGE_DELETED, "MessageDeleted",
       VOIP_T_MESSAGE, "the tombstone",
       "A message was deleted."),

  REQ (VOIP_MSG_CALL_INVITE, "CallInvite", LOGIN,
       "(st)", "callee, group",
       "(t)", "call_id",
       "Call a friend (group 0) or a group (callee \"\"); every session of each callee rings. Calling a group whose call runs joins it."),
  REQ (VOIP_MSG_CALL_ANSWER, "CallAnswer", LOGIN,
       "(t)", "call_id",
       "()", "",
       "Answer a ringing call (the first of your sessions wins), or join your group's running call."),
  REQ (VOIP_MSG_CALL_REJECT, "CallReject", LOGIN,
       "(t)", "call_id",
       "()", "",
       "Decline a ringing call on all your sessions."),
  REQ (VOIP_MSG_CALL_HANGUP, "CallHangup", LOGIN,
       "(t)", "call_id",
       "()", "",
       "Leave a call (or cancel it while it rings); a 1:1 call ends, a group call goes on while two remain."),
  REQ (VOIP_MSG_CALL_SIGNAL, "CallSignal", LOGIN,
       "(tsus)", "call_id, peer, kind, data",
       "()", "",
       "Relay ICE and SRTP set-up (see \"Call signals\") to another joined participant."),
  REQ (VOIP_MSG_CALL_DATA, "CallData", LOGIN,
       "(tsay)", "call_id, peer, packet",
       "()", "",
       "Relay one SRTP/SRTCP packet to a joined participant through the server, when ICE failed."),
  REQ (VOIP_MSG_CALL_SERVERS, "CallServers", LOGIN,
       "()", "",
       "(a(sq)a(sqss)b)", "stun: [(host, port)], turn: [(host, port, username, password)], relay",
       "STUN and TURN servers for ICE; host \"\" means the address this connection reached. TURN credentials are time-limited. relay: CallData is allowed."),
  EVT (VOIP_MSG_CALL_CHANGED, "CallChanged",
       VOIP_T_CALL, "id, initiator, group, state, reason, started_ms, participants: [(username, state)]",
       "A call that concerns this session was created or changed (a new call in state ringing is an incoming call)."),
  EVT (VOIP_MSG_CALL_SIGNAL_RECEIVED, "CallSignalReceived",
       "(tsus)", "call_id, peer, kind, data",
       "ICE or SRTP set-up from another participant."),
  EVT (VOIP_MSG_CALL_DATA_RECEIVED, "CallDataReceived",
       "(tsay)", "call_id, peer, packet",
       "A media packet relayed by the server."),

  REQ (VOIP_MSG_PLUGIN_SEND, "PluginSend", LOGIN,
       "(ssay)", "recipient, plugin, data",
       "()", "",
       "Relay opaque plugin data to an online friend."),
  EVT (VOIP_MSG_PLUGIN_MESSAGE, "PluginMessage",
       "(ssay)", "sender, plugin, data",
       "Plugin data from a friend."),
  { 0, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL }
};

const VoipMessageSpec *
voip_catalogue_lookup (guint code)
{
  for (const VoipMessageSpec *row = voip_catalogue; row->name != NULL; row++)
    if (row->code == code)
      return row;
  return NULL;
}

const GVariantType *
voip_catalogue_payload_type (guint code, VoipKind kind, guint status)
{
  const VoipMessageSpec *spec = voip_catalogue_lookup (code);
  const char *type = NULL;

  if (kind == VOIP_KIND_REPLY && status != 0)
    return G_VARIANT_TYPE ("(s)");
  if (spec == NULL)
    return NULL;
  switch (kind)
    {
    case VOIP_KIND_REQUEST: type = spec->request_type; break;
    case VOIP_KIND_REPLY:   type = spec->reply_type;   break;
    case VOIP_KIND_EVENT:   type = spec->event_type;   break;
    default: break;
    }
  return type ? G_VARIANT_TYPE (type) : NULL;
}

static const char *const presence_names[] = {
  "offline", "online", "busy", "dnd", "invisible", "away",
};

const char *
voip_presence_to_string (guint presence)
{
  return presence <= VOIP_PRESENCE_LAST ? presence_names[presence] : "unknown";
}

gboolean
voip_presence_from_string (const char *text, VoipPresence *out)
{
  for (guint i = 0; i < G_N_ELEMENTS (presence_names); i++)
    if (g_strcmp0 (text, presence_names[i]) == 0)
      {
        *out = i;
        return TRUE;
      }
  return FALSE;
}

const char *
voip_subscription_to_string (guint subscription)
{
  switch (subscription)
    {
    case VOIP_SUBSCRIPTION_FRIEND:   return "friend";
    case VOIP_SUBSCRIPTION_INCOMING: return "incoming";
    case VOIP_SUBSCRIPTION_OUTGOING: return "outgoing";
    default:                         return "none";
    }
}

const char *
voip_contact_change_to_string (guint change)
{
  switch (change)
    {
    case VOIP_CONTACT_CHANGE_REQUESTED: return "requested";
    case VOIP_CONTACT_CHANGE_ACCEPTED:  return "accepted";
    case VOIP_CONTACT_CHANGE_DENIED:    return "denied";
    case VOIP_CONTACT_CHANGE_REMOVED:   return "removed";
    default:                            return "unknown";
    }
}

const char *
voip_call_state_to_string (guint state)
{
  switch (state)
    {
    case VOIP_CALL_STATE_RINGING: return "ringing";
    case VOIP_CALL_STATE_ACTIVE:  return "active";
    case VOIP_CALL_STATE_ENDED:   return "ended";
    default:                      return "unknown";
    }
}

static const char *const call_reason_names[] = {
  "", "answered", "rejected", "busy", "offline", "timeout", "hangup", "failed",
  "answered-elsewhere",
};

const char *
voip_call_reason_to_string (guint reason)
{
  return reason <= VOIP_CALL_REASON_LAST ? call_reason_names[reason] : "unknown";
}

const char *
voip_participant_state_to_string (guint state)
{
  switch (state)
    {
    case VOIP_PARTICIPANT_INVITED: return "invited";
    case VOIP_PARTICIPANT_JOINED:  return "joined";
    case VOIP_PARTICIPANT_LEFT:    return "left";
    default:                       return "unknown";
    }
}
