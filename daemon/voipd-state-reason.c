/* voipd-state-reason.c — the account's state reasons: nicks and words. */
#include <glib/gi18n.h>

#include "voipd-enums.h"
#include "voipd-state-reason.h"

const char *
voipd_state_reason_to_nick (VoipdStateReason reason)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (VOIPD_TYPE_STATE_REASON);
  GEnumValue *value = g_enum_get_value (klass, reason);

  /* The nicks are static strings of the generated type. */
  return value != NULL ? value->value_nick : "none";
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
