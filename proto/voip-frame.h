/* voip-frame.h — frames on the wire.
 *
 *   offset size  field (network byte order)
 *   0      2     magic 0x1337
 *   2      1     version (1)
 *   3      1     kind: 1 request, 2 reply, 3 event
 *   4      2     message code (see voip-catalogue.h)
 *   6      2     status (0 except in an error reply)
 *   8      4     request id (echoed in the reply; 0 in events)
 *   12     4     payload length (≤ VOIP_MAX_FRAME_PAYLOAD)
 *   16     ...   payload: one GVariant tuple, normal form, little-endian
 */
#pragma once

#include <glib.h>
#include "voip-catalogue.h"
#include "voip-limits.h"

G_BEGIN_DECLS

typedef struct {
  guint16 magic;
  guint8  version;
  guint8  kind;
  guint16 code;
  guint16 status;
  guint32 request_id;
  guint32 length;
} VoipHeader;

/* Encodes a complete frame. payload may be floating and must have the
 * catalogue's type for (code, kind, status); it is normalised and stored
 * little-endian. */
GBytes   *voip_frame_encode (VoipKind kind, guint16 code, guint16 status,
                             guint32 request_id, GVariant *payload);

/* An error reply: status != 0 with a "(s)" detail. */
GBytes   *voip_frame_encode_error (guint16 code, guint16 status,
                                   guint32 request_id, const char *detail);

void      voip_header_write (const VoipHeader *header, guint8 out[VOIP_HEADER_SIZE]);

/* Reads and checks magic, version, kind and length. On error the stream can
 * not be trusted any more: the connection must be closed. */
gboolean  voip_header_read (const guint8 data[VOIP_HEADER_SIZE], VoipHeader *header,
                            GError **error);

/* Checks a payload against the catalogue for the header's (code, kind,
 * status): known code, right type, normal form (which includes valid UTF-8
 * in every string). Returns a new non-floating reference, or NULL with
 * VOIP_STATUS_UNKNOWN_MESSAGE or VOIP_STATUS_MALFORMED. */
GVariant *voip_payload_decode (const VoipHeader *header, GBytes *payload, GError **error);

/* An incremental reader: feed bytes as they arrive, take whole frames out.
 * Its buffer grows to the largest frame seen and shrinks back after it. */
typedef struct _VoipFrameReader VoipFrameReader;

VoipFrameReader *voip_frame_reader_new  (void);
void             voip_frame_reader_free (VoipFrameReader *reader);
void             voip_frame_reader_feed (VoipFrameReader *reader, const guint8 *data, gsize len);
/* TRUE with a frame in header/payload; FALSE with error unset when more bytes
 * are needed; FALSE with error set when the stream is broken. */
gboolean         voip_frame_reader_next (VoipFrameReader *reader, VoipHeader *header,
                                         GBytes **payload, GError **error);
gsize            voip_frame_reader_buffered (VoipFrameReader *reader);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VoipFrameReader, voip_frame_reader_free)

G_END_DECLS
