/* voip-status.c — the table of reply statuses. */
#include <glib/gi18n.h>

#include "voip-status.h"

/* The texts stay English here: the server sends and logs them as they are.
 * N_() only marks them for po/voip.pot, so that a client translates one
 * after the status code it received (voipd_error_server_message()). */
#define ROW(code, name, text) { VOIP_STATUS_##code, name, text }

const VoipStatusInfo voip_status_table[] = {
  ROW (OK,                  "Ok",                 N_ ("Success")),
  ROW (BAD_FORMAT,          "BadFormat",          N_ ("Incorrect username or password format")),
  ROW (BAD_LOGIN,           "BadLogin",           N_ ("Wrong username or password")),
  ROW (NOT_LOGGED_IN,       "NotLoggedIn",        N_ ("This request needs a logged-in session")),
  ROW (MALFORMED,           "Malformed",          N_ ("Malformed request")),
  ROW (TOO_LARGE,           "TooLarge",           N_ ("Too large")),
  ROW (RATE_LIMITED,        "RateLimited",        N_ ("Too many attempts; try again later")),
  ROW (UNKNOWN_MESSAGE,     "UnknownMessage",     N_ ("Unknown message code")),
  ROW (ALREADY_LOGGED_IN,   "AlreadyLoggedIn",    N_ ("This session is already logged in")),
  ROW (BAD_TOKEN,           "BadToken",           N_ ("The session token is invalid or was revoked")),
  ROW (UNSUPPORTED_VERSION, "UnsupportedVersion", N_ ("Unsupported protocol version")),
  ROW (NOT_ALLOWED,         "NotAllowed",         N_ ("Not allowed")),
  ROW (USER_EXISTS,         "UserExists",         N_ ("This username is already taken")),
  ROW (NO_SUCH_USER,        "NoSuchUser",         N_ ("No such user, or not a friend")),
  ROW (OFFLINE,             "Offline",            N_ ("The user is offline")),
  ROW (ALREADY_IN_GROUP,    "AlreadyInGroup",     N_ ("The user is already in the group")),
  ROW (ALREADY_FRIEND,      "AlreadyFriend",      N_ ("The user is already your friend")),
  ROW (NOT_A_FRIEND,        "NotAFriend",         N_ ("The user is not your friend")),
  ROW (REQUEST_PENDING,     "RequestPending",     N_ ("A friend request is already pending")),
  ROW (NO_SUCH_REQUEST,     "NoSuchRequest",      N_ ("There is no pending friend request from this user")),
  ROW (SELF,                "Self",               N_ ("You cannot do this with yourself")),
  ROW (NO_SUCH_GROUP,       "NoSuchGroup",        N_ ("No such group")),
  ROW (NOT_GROUP_MEMBER,    "NotGroupMember",     N_ ("The user is not a member of the group")),
  ROW (GROUP_FULL,          "GroupFull",          N_ ("The group is full")),
  ROW (NO_SUCH_MESSAGE,     "NoSuchMessage",      N_ ("No such message")),
  ROW (MESSAGE_SELF,        "MessageSelf",        N_ ("You cannot message yourself")),
  ROW (NOT_AUTHOR,          "NotAuthor",          N_ ("You cannot change another user's message")),
  ROW (CALL_SELF,           "CallSelf",           N_ ("You cannot call yourself")),
  ROW (BUSY,                "Busy",               N_ ("The user is already in a call")),
  ROW (NO_SUCH_CALL,        "NoSuchCall",         N_ ("No such call")),
  ROW (CALL_FULL,           "CallFull",           N_ ("The call has the most participants it can have")),
  ROW (CALL_ANSWERED,       "CallAnswered",       N_ ("The call was already answered on another device")),
  ROW (UNKNOWN,             "Unknown",            N_ ("Unknown error")),
  ROW (STORAGE,             "Storage",            N_ ("The server could not store the change")),
  ROW (SHUTTING_DOWN,       "ShuttingDown",       N_ ("The server is shutting down")),
  { 0, NULL, NULL }
};

const VoipStatusInfo *
voip_status_lookup (guint status)
{
  for (const VoipStatusInfo *row = voip_status_table; row->name != NULL; row++)
    if ((guint) row->status == status)
      return row;
  return NULL;
}

const char *
voip_status_name (guint status)
{
  const VoipStatusInfo *row = voip_status_lookup (status);
  return row ? row->name : "Unknown";
}

const char *
voip_status_message (guint status)
{
  const VoipStatusInfo *row = voip_status_lookup (status);
  return row ? row->message : N_("Unknown error");
}

G_DEFINE_QUARK (voip-error-quark, voip_error)
