/* voipd-state-reason.c — the session's states and reasons: nicks and words. */
#include <glib/gi18n.h>

#include "voipd-enums.h"
#include "voipd-state-reason.h"

/* The nicks are static strings of the generated types. */
static const char *
enum_to_nick (GType type, int value, const char *fallback)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (type);
  GEnumValue *entry = g_enum_get_value (klass, value);

  return entry != NULL ? entry->value_nick : fallback;
}

const char *
voipd_session_state_to_nick (VoipdSessionState state)
{
  return enum_to_nick (VOIPD_TYPE_SESSION_STATE, state, "offline");
}

const char *
voipd_state_reason_to_nick (VoipdStateReason reason)
{
  return enum_to_nick (VOIPD_TYPE_STATE_REASON, reason, "none");
}

const char *
voipd_state_reason_describe (VoipdStateReason reason)
{
  switch (reason)
    {
    case VOIPD_STATE_REASON_NONE:              return "";
    case VOIPD_STATE_REASON_NOT_LOGGED_IN:     return _("not logged in");
    case VOIPD_STATE_REASON_LOOKING_UP_LOGIN:  return _("looking up the stored login");
    case VOIPD_STATE_REASON_NO_KEYRING:
      return _("no keyring: the daemon cannot remember the login");
    case VOIPD_STATE_REASON_LOGGED_OUT:        return _("logged out");
    case VOIPD_STATE_REASON_ACCOUNT_DELETED:   return _("the account was deleted");
    case VOIPD_STATE_REASON_TOKEN_REVOKED:     return _("the session token was revoked");
    case VOIPD_STATE_REASON_TOKEN_REFUSED:
      return _("the session token was refused; log in again");
    case VOIPD_STATE_REASON_LOGIN_FAILED:      return _("the server refused the login");
    case VOIPD_STATE_REASON_CONNECTION_FAILED: return _("the server cannot be reached");
    default:                                   return "";
    }
}
