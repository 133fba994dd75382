/* voip-status.h — the status codes of a reply, and the GError domain that carries them.
 *
 * The numbers of seed 000 keep their meaning; the rest fill the gaps. A code's
 * name (VoipStatusInfo.name) is stable: the daemon maps it to the D-Bus error
 * org.voipd.Voip1.Error.<Name>.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  VOIP_STATUS_OK                  = 0,
  VOIP_STATUS_BAD_FORMAT          = 1,   /* username or password breaks the format rules */
  VOIP_STATUS_BAD_LOGIN           = 2,   /* wrong username or password */
  VOIP_STATUS_NOT_LOGGED_IN       = 3,
  VOIP_STATUS_MALFORMED           = 4,   /* payload has the wrong type, is not normal, or a field is out of range */
  VOIP_STATUS_TOO_LARGE           = 5,
  VOIP_STATUS_RATE_LIMITED        = 6,
  VOIP_STATUS_UNKNOWN_MESSAGE     = 7,
  VOIP_STATUS_ALREADY_LOGGED_IN   = 8,
  VOIP_STATUS_BAD_TOKEN           = 9,   /* session token unknown or revoked */
  VOIP_STATUS_UNSUPPORTED_VERSION = 10,
  VOIP_STATUS_NOT_ALLOWED         = 11,  /* you may not do this (e.g. not the group owner) */
  VOIP_STATUS_USER_EXISTS         = 20,
  VOIP_STATUS_NO_SUCH_USER        = 21,  /* also: not a friend, where existence must not leak */
  VOIP_STATUS_OFFLINE             = 22,
  VOIP_STATUS_ALREADY_IN_GROUP    = 23,
  VOIP_STATUS_ALREADY_FRIEND      = 24,
  VOIP_STATUS_NOT_A_FRIEND        = 25,
  VOIP_STATUS_REQUEST_PENDING     = 26,
  VOIP_STATUS_NO_SUCH_REQUEST     = 27,
  VOIP_STATUS_SELF                = 28,  /* befriending yourself */
  VOIP_STATUS_NO_SUCH_GROUP       = 40,  /* also: not a member, where existence must not leak */
  VOIP_STATUS_NOT_GROUP_MEMBER    = 41,
  VOIP_STATUS_GROUP_FULL          = 42,
  VOIP_STATUS_NO_SUCH_MESSAGE     = 60,
  VOIP_STATUS_MESSAGE_SELF        = 61,
  VOIP_STATUS_NOT_AUTHOR          = 62,
  VOIP_STATUS_CALL_SELF           = 80,
  VOIP_STATUS_BUSY                = 81,
  VOIP_STATUS_NO_SUCH_CALL        = 82,  /* also: not a participant, where existence must not leak */
  VOIP_STATUS_CALL_FULL           = 83,
  VOIP_STATUS_CALL_ANSWERED       = 84,  /* another session of yours already answered */
  VOIP_STATUS_UNKNOWN             = 100,
  VOIP_STATUS_STORAGE             = 101, /* the server could not store the change; nothing was applied */
  VOIP_STATUS_SHUTTING_DOWN       = 102,
} VoipStatus;

typedef struct {
  VoipStatus   status;
  const char  *name;     /* stable CamelCase name, e.g. "NotAFriend" */
  const char  *message;  /* English meaning; marked N_() for clients to translate (domain voip) */
} VoipStatusInfo;

/* Every status, in numeric order; terminated by an entry with name == NULL. */
extern const VoipStatusInfo voip_status_table[];

const VoipStatusInfo *voip_status_lookup (guint status);
const char           *voip_status_name   (guint status);
const char           *voip_status_message (guint status);

#define VOIP_ERROR (voip_error_quark ())
GQuark voip_error_quark (void);

G_END_DECLS
