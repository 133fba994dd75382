/* voipd-state-reason.h — the session's state, and why it is in it.
 *
 * Account.State is the nick of a VoipdSessionState and Account.StateReasonCode
 * the nick of a VoipdStateReason (both registered with gnome.mkenums,
 * voipd-enums.h), stable and never translated; StateReason next to them says
 * the reason for people, in the daemon's language. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  VOIPD_SESSION_STATE_OFFLINE,         /* no session (never logged in, logged out, token refused) */
  VOIPD_SESSION_STATE_CONNECTING,      /* a resume is opening its connection */
  VOIPD_SESSION_STATE_AUTHENTICATING,  /* logged in and resyncing, or a resume in flight */
  VOIPD_SESSION_STATE_ONLINE,          /* logged in; contacts, groups and messages in sync */
  VOIPD_SESSION_STATE_RECONNECTING,    /* the connection was lost; retrying with backoff */
} VoipdSessionState;

/* "offline", "connecting", …: the words of Account.State. */
const char *voipd_session_state_to_nick (VoipdSessionState state);

typedef enum {
  VOIPD_STATE_REASON_NONE,               /* online, or on the way there */
  VOIPD_STATE_REASON_NOT_LOGGED_IN,      /* no stored login */
  VOIPD_STATE_REASON_LOOKING_UP_LOGIN,   /* reading the keyring at start */
  VOIPD_STATE_REASON_NO_KEYRING,         /* a stored login, but no keyring to read its token */
  VOIPD_STATE_REASON_LOGGED_OUT,
  VOIPD_STATE_REASON_ACCOUNT_DELETED,    /* here, or on another session */
  VOIPD_STATE_REASON_TOKEN_REVOKED,      /* the server closed the session for good */
  VOIPD_STATE_REASON_TOKEN_REFUSED,      /* the stored token no longer logs in */
  VOIPD_STATE_REASON_LOGIN_FAILED,       /* the server refused a Login or Register */
  VOIPD_STATE_REASON_CONNECTION_FAILED,  /* the server is out of reach, or the link broke */
} VoipdStateReason;

/* "none", "not-logged-in", …: what scripts match. */
const char *voipd_state_reason_to_nick  (VoipdStateReason reason);
/* The same in words, translated. */
const char *voipd_state_reason_describe (VoipdStateReason reason);

G_END_DECLS
