/* voip-status.c — the table of reply statuses. */
#include "voip-status.h"

#define ROW(code, name, text) { VOIP_STATUS_##code, name, text }

const VoipStatusInfo voip_status_table[] = {
  ROW (OK,                  "Ok",                 "Success"),
  ROW (BAD_FORMAT,          "BadFormat",          "Incorrect username or password format"),
  ROW (BAD_LOGIN,           "BadLogin",           "Wrong username or password"),
  ROW (NOT_LOGGED_IN,       "NotLoggedIn",        "This request needs a logged-in session"),
  ROW (MALFORMED,           "Malformed",          "Malformed request"),
  ROW (TOO_LARGE,           "TooLarge",           "Too large"),
  ROW (RATE_LIMITED,        "RateLimited",        "Too many attempts; try again later"),
  ROW (UNKNOWN_MESSAGE,     "UnknownMessage",     "Unknown message code"),
  ROW (ALREADY_LOGGED_IN,   "AlreadyLoggedIn",    "This session is already logged in"),
  ROW (BAD_TOKEN,           "BadToken",           "The session token is invalid or was revoked"),
  ROW (UNSUPPORTED_VERSION, "UnsupportedVersion", "Unsupported protocol version"),
  ROW (NOT_ALLOWED,         "NotAllowed",         "Not allowed"),
  ROW (USER_EXISTS,         "UserExists",         "This username is already taken"),
  ROW (NO_SUCH_USER,        "NoSuchUser",         "No such user, or not a friend"),
  ROW (OFFLINE,             "Offline",            "The user is offline"),
  ROW (ALREADY_IN_GROUP,    "AlreadyInGroup",     "The user is already in the group"),
  ROW (ALREADY_FRIEND,      "AlreadyFriend",      "The user is already your friend"),
  ROW (NOT_A_FRIEND,        "NotAFriend",         "The user is not your friend"),
  ROW (REQUEST_PENDING,     "RequestPending",     "A friend request is already pending"),
  ROW (NO_SUCH_REQUEST,     "NoSuchRequest",      "There is no pending friend request from this user"),
  ROW (SELF,                "Self",               "You cannot do this with yourself"),
  ROW (NO_SUCH_GROUP,       "NoSuchGroup",        "No such group"),
  ROW (NOT_GROUP_MEMBER,    "NotGroupMember",     "The user is not a member of the group"),
  ROW (GROUP_FULL,          "GroupFull",          "The group is full"),
  ROW (NO_SUCH_MESSAGE,     "NoSuchMessage",      "No such message"),
  ROW (MESSAGE_SELF,        "MessageSelf",        "You cannot message yourself"),
  ROW (NOT_AUTHOR,          "NotAuthor",          "You cannot change another user's message"),
  ROW (CALL_SELF,           "CallSelf",           "You cannot call yourself"),
  ROW (BUSY,                "Busy",               "The user is already in a call"),
  ROW (NO_SUCH_CALL,        "NoSuchCall",         "No such call"),
  ROW (CALL_FULL,           "CallFull",           "The call has the most participants it can have"),
  ROW (CALL_ANSWERED,       "CallAnswered",       "The call was already answered on another device"),
  ROW (UNKNOWN,             "Unknown",            "Unknown error"),
  ROW (STORAGE,             "Storage",            "The server could not store the change"),
  ROW (SHUTTING_DOWN,       "ShuttingDown",       "The server is shutting down"),
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
  return row ? row->message : "Unknown error";
}

G_DEFINE_QUARK (voip-error-quark, voip_error)
