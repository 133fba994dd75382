/* voipd-state-reason.h — why the account is in its state, for scripts.
 *
 * Account.StateReasonCode is the nick of one of these (registered with
 * gnome.mkenums, voipd-enums.h), stable and never translated; StateReason
 * next to it says the same for people, in the daemon's language. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

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
