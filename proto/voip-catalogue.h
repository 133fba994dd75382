/* voip-catalogue.h — the one table of protocol messages.
 *
 * A row gives a message code its name, the GVariant types of its request,
 * reply and event payloads (NULL where that kind does not exist), whether a
 * request needs a logged-in session, and the field names used by the spec.
 * The server's dispatch, the payload validation of both sides and the message
 * list in PROTOCOL.md all come from this table.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  VOIP_KIND_REQUEST = 1,
  VOIP_KIND_REPLY   = 2,
  VOIP_KIND_EVENT   = 3,
} VoipKind;

/* Recurring payload parts. */
#define VOIP_T_CONTACT   "(ssus)"          /* username, display_name, presence, motd */
#define VOIP_T_GROUP     "(tssas)"         /* id, name, owner, members */
#define VOIP_T_MESSAGE   "(ttxsstusuaybbs)"
/*  id, seq, timestamp_ms, sender, recipient ("" in a group), group (0 for a
 *  direct message), kind, text, duration_ms, voice (Opus/Ogg; empty in history
 *  and sync pages), edited, deleted, client_id */
#define VOIP_T_CALL      "(tstuuxa(su))"
/*  id, initiator, group (0 for a 1:1 call), state (VoipCallState as this
 *  session sees it), reason (VoipCallReason), started_ms (when a second
 *  participant joined; 0 before), participants [(username, VoipParticipantState)]
 *  in joining order: the initiator first */
#define VOIP_T_PROFILE   "(ssusssssaya(ss))"
/*  username, display_name, presence, motd, city, phone, mail, language,
 *  avatar PNG, plugins (name, description) */

typedef enum {
  /* 0x: account, presence, profile */
  VOIP_MSG_REGISTER          = 0,
  VOIP_MSG_LOGIN             = 1,
  VOIP_MSG_RESUME            = 2,
  VOIP_MSG_LOGOUT            = 3,
  VOIP_MSG_CHANGE_PASSWORD   = 4,
  VOIP_MSG_DELETE_ACCOUNT    = 5,
  VOIP_MSG_SET_PRESENCE      = 6,
  VOIP_MSG_SET_PROFILE       = 7,
  VOIP_MSG_GET_PROFILE       = 8,
  VOIP_MSG_PING              = 9,
  VOIP_MSG_PRESENCE_CHANGED  = 10,
  VOIP_MSG_PROFILE_CHANGED   = 11,
  VOIP_MSG_SESSION_CLOSED    = 12,
  /* 2x: contacts */
  VOIP_MSG_CONTACT_LIST      = 20,
  VOIP_MSG_CONTACT_REQUEST   = 21,
  VOIP_MSG_CONTACT_ACCEPT    = 22,
  VOIP_MSG_CONTACT_DENY      = 23,
  VOIP_MSG_CONTACT_REMOVE    = 24,
  VOIP_MSG_CONTACT_PENDING   = 25,
  VOIP_MSG_CONTACT_CHANGED   = 26,
  /* 4x: groups */
  VOIP_MSG_GROUP_CREATE      = 40,
  VOIP_MSG_GROUP_LIST        = 41,
  VOIP_MSG_GROUP_INFO        = 42,
  VOIP_MSG_GROUP_RENAME      = 43,
  VOIP_MSG_GROUP_ADD_MEMBER  = 44,
  VOIP_MSG_GROUP_REMOVE_MEMBER = 45,
  VOIP_MSG_GROUP_LEAVE       = 46,
  VOIP_MSG_GROUP_DELETE      = 47,
  VOIP_MSG_GROUP_CHANGED     = 48,
  VOIP_MSG_GROUP_REMOVED     = 49,
  /* 6x: messages */
  VOIP_MSG_SEND_TEXT         = 60,
  VOIP_MSG_SEND_VOICE        = 61,
  VOIP_MSG_HISTORY           = 62,
  VOIP_MSG_SYNC              = 63,
  VOIP_MSG_EDIT              = 64,
  VOIP_MSG_DELETE            = 65,
  VOIP_MSG_GET_VOICE         = 66,
  VOIP_MSG_MESSAGE_RECEIVED  = 67,
  VOIP_MSG_MESSAGE_EDITED    = 68,
  VOIP_MSG_MESSAGE_DELETED   = 69,
  /* 8x: calls */
  VOIP_MSG_CALL_INVITE       = 80,
  VOIP_MSG_CALL_ANSWER       = 81,
  VOIP_MSG_CALL_REJECT       = 82,
  VOIP_MSG_CALL_HANGUP       = 83,
  VOIP_MSG_CALL_SIGNAL       = 84,
  VOIP_MSG_CALL_DATA         = 85,
  VOIP_MSG_CALL_SERVERS      = 86,
  VOIP_MSG_CALL_CHANGED      = 87,
  VOIP_MSG_CALL_SIGNAL_RECEIVED = 88,
  VOIP_MSG_CALL_DATA_RECEIVED   = 89,
  /* 100: plugins */
  VOIP_MSG_PLUGIN_SEND       = 100,
  VOIP_MSG_PLUGIN_MESSAGE    = 101,
} VoipMessageCode;

typedef enum {
  VOIP_PRESENCE_OFFLINE   = 0,
  VOIP_PRESENCE_ONLINE    = 1,
  VOIP_PRESENCE_BUSY      = 2,
  VOIP_PRESENCE_DND       = 3,
  VOIP_PRESENCE_INVISIBLE = 4,  /* others see OFFLINE */
  VOIP_PRESENCE_AWAY      = 5,
} VoipPresence;
#define VOIP_PRESENCE_LAST VOIP_PRESENCE_AWAY

typedef enum {
  VOIP_SUBSCRIPTION_NONE     = 0,
  VOIP_SUBSCRIPTION_FRIEND   = 1,
  VOIP_SUBSCRIPTION_INCOMING = 2,  /* they asked you */
  VOIP_SUBSCRIPTION_OUTGOING = 3,  /* you asked them */
} VoipSubscription;

typedef enum {
  VOIP_CONTACT_CHANGE_REQUESTED = 1,
  VOIP_CONTACT_CHANGE_ACCEPTED  = 2,
  VOIP_CONTACT_CHANGE_DENIED    = 3,
  VOIP_CONTACT_CHANGE_REMOVED   = 4,
} VoipContactChange;

typedef enum {
  VOIP_GROUP_REMOVED_KICKED  = 1,  /* the owner removed you */
  VOIP_GROUP_REMOVED_LEFT    = 2,  /* you left (sent to your other sessions) */
  VOIP_GROUP_REMOVED_DELETED = 3,  /* the owner deleted the group */
} VoipGroupRemovedReason;

typedef enum {
  VOIP_MESSAGE_KIND_TEXT  = 1,
  VOIP_MESSAGE_KIND_VOICE = 2,
} VoipMessageKind;

typedef enum {
  VOIP_CLOSE_LOGGED_OUT       = 1,
  VOIP_CLOSE_TOKEN_REVOKED    = 2,
  VOIP_CLOSE_ACCOUNT_DELETED  = 3,
  VOIP_CLOSE_IDLE             = 4,
  VOIP_CLOSE_LOGIN_TIMEOUT    = 5,
  VOIP_CLOSE_SHUTDOWN         = 6,
  VOIP_CLOSE_PROTOCOL_ERROR   = 7,
  VOIP_CLOSE_TOO_SLOW         = 8,
} VoipCloseReason;

/* A call as one session sees it. RINGING: invited, nobody answered yet (for
 * the initiator: waiting for someone to answer). ACTIVE: this session takes
 * part and at least two participants joined. ENDED: over for this session;
 * the reason says why. */
typedef enum {
  VOIP_CALL_STATE_RINGING = 1,
  VOIP_CALL_STATE_ACTIVE  = 2,
  VOIP_CALL_STATE_ENDED   = 3,
} VoipCallState;

typedef enum {
  VOIP_CALL_REASON_NONE               = 0,
  VOIP_CALL_REASON_ANSWERED           = 1,
  VOIP_CALL_REASON_REJECTED           = 2,
  VOIP_CALL_REASON_BUSY               = 3,
  VOIP_CALL_REASON_OFFLINE            = 4,  /* a participant's session went away */
  VOIP_CALL_REASON_TIMEOUT            = 5,  /* nobody answered within the ring timeout */
  VOIP_CALL_REASON_HANGUP             = 6,
  VOIP_CALL_REASON_FAILED             = 7,  /* no media path (set by clients) */
  VOIP_CALL_REASON_ANSWERED_ELSEWHERE = 8,  /* another session of the same user answered */
} VoipCallReason;
#define VOIP_CALL_REASON_LAST VOIP_CALL_REASON_ANSWERED_ELSEWHERE

typedef enum {
  VOIP_PARTICIPANT_INVITED = 1,  /* ringing */
  VOIP_PARTICIPANT_JOINED  = 2,
  VOIP_PARTICIPANT_LEFT    = 3,  /* rejected, hung up, timed out or dropped */
} VoipParticipantState;

/* CallSignal kinds: the ICE and SRTP set-up one participant sends another. */
typedef enum {
  VOIP_CALL_SIGNAL_CREDENTIALS = 1,  /* "ufrag pwd" of the sender's ICE stream */
  VOIP_CALL_SIGNAL_CANDIDATE   = 2,  /* one local candidate, SDP "a=candidate:..." form */
  VOIP_CALL_SIGNAL_END_OF_CANDIDATES = 3,  /* data "" */
  VOIP_CALL_SIGNAL_SRTP_KEY    = 4,  /* base64 of the sender's 30-byte SRTP master key and salt */
  VOIP_CALL_SIGNAL_USE_RELAY   = 5,  /* data "": ICE failed, send me media through the server */
} VoipCallSignalKind;
#define VOIP_CALL_SIGNAL_LAST VOIP_CALL_SIGNAL_USE_RELAY

typedef enum {
  VOIP_SPEC_NEEDS_LOGIN = 1 << 0,  /* refused with NOT_LOGGED_IN before login */
  VOIP_SPEC_ANONYMOUS   = 1 << 1,  /* refused with ALREADY_LOGGED_IN after login */
} VoipSpecFlags;

typedef struct {
  guint16        code;
  const char    *name;           /* stable CamelCase name */
  VoipSpecFlags  flags;
  const char    *request_type;   /* NULL: not a request */
  const char    *request_fields;
  const char    *reply_type;     /* NULL: not a request */
  const char    *reply_fields;
  const char    *event_type;     /* NULL: never an event */
  const char    *event_fields;
  const char    *summary;        /* one sentence for the spec */
} VoipMessageSpec;

/* All rows, in code order, terminated by a row with name == NULL. */
extern const VoipMessageSpec voip_catalogue[];

const VoipMessageSpec *voip_catalogue_lookup (guint code);

/* The payload type of a frame: the row's type for (code, kind), or "(s)"
 * (a human-readable detail) for a reply whose status is not OK. NULL when
 * the code is unknown or has no payload of that kind. */
const GVariantType *voip_catalogue_payload_type (guint code, VoipKind kind, guint status);

const char *voip_presence_to_string      (guint presence);
gboolean    voip_presence_from_string    (const char *text, VoipPresence *out);
const char *voip_subscription_to_string  (guint subscription);
const char *voip_contact_change_to_string (guint change);
const char *voip_call_state_to_string    (guint state);
const char *voip_call_reason_to_string   (guint reason);   /* "answered-elsewhere", ... */
const char *voip_participant_state_to_string (guint state);

G_END_DECLS
