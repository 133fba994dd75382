/* voip-limits.h — every limit of the wire protocol, in one place.
 *
 * Both sides enforce these: the server refuses a request that breaks one with
 * VOIP_STATUS_TOO_LARGE or VOIP_STATUS_MALFORMED and changes nothing; clients
 * check them first so that the user gets an early, clear error.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define VOIP_PROTOCOL_MAGIC        0x1337
#define VOIP_PROTOCOL_VERSION      1
#define VOIP_HEADER_SIZE           16

#define VOIP_MAX_FRAME_PAYLOAD     (1024 * 1024)  /* 1 MiB, after the header */

#define VOIP_USERNAME_MIN          3
#define VOIP_USERNAME_MAX          32             /* of a-z 0-9 . _ - */
#define VOIP_PASSWORD_MIN          8              /* bytes */
#define VOIP_PASSWORD_MAX          1024
#define VOIP_TOKEN_LENGTH          64             /* 256-bit token, lower-case hex */
#define VOIP_EMAIL_MAX             254

#define VOIP_TEXT_MAX              4096           /* bytes of valid UTF-8 */
#define VOIP_CLIENT_ID_MAX         64             /* sender's own message id */
#define VOIP_DISPLAY_NAME_MAX      128
#define VOIP_MOTD_MAX              128
#define VOIP_GROUP_NAME_MAX        128
#define VOIP_PROFILE_FIELD_MAX     128            /* city, phone, language */
#define VOIP_AVATAR_MAX            (256 * 1024)   /* PNG */
#define VOIP_PLUGINS_MAX           32             /* entries in a profile */
#define VOIP_PLUGIN_NAME_MAX       64
#define VOIP_PLUGIN_DESC_MAX       256
#define VOIP_PLUGIN_PAYLOAD_MAX    (64 * 1024)

#define VOIP_VOICE_MAX             (512 * 1024)   /* Opus in Ogg */
#define VOIP_VOICE_DURATION_MAX_MS (10 * 60 * 1000)

#define VOIP_HISTORY_PAGE_MAX      500            /* messages per history/sync page */
#define VOIP_HISTORY_PAGE_BYTES    (768 * 1024)   /* a page also stops here, so it fits a frame */
#define VOIP_GROUP_MEMBERS_MAX     256            /* owner included */

#define VOIP_CALL_PARTICIPANTS_MAX 8              /* full mesh, initiator included */
#define VOIP_CALL_SIGNAL_MAX       1024           /* bytes of one CallSignal's data */
#define VOIP_CALL_PACKET_MAX       1500           /* one relayed SRTP/SRTCP packet */
#define VOIP_CALL_SERVERS_MAX      8              /* STUN or TURN entries in CallServers */

G_END_DECLS
