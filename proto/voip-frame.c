/* voip-frame.c — encoding and strict decoding of frames. */
#include <string.h>

#include "voip-frame.h"
#include "voip-limits.h"
#include "voip-status.h"

struct _VoipFrameReader {
  GByteArray *buffer;
  gsize       start;   /* bytes before start are consumed */
  gsize       peak;    /* largest length since the buffer was last replaced */
};

/* Small frames are the common case; the buffer comes back to this size
 * after a large one so that idle sessions stay small. */
#define READER_KEEP_CAPACITY 4096

void
voip_header_write (const VoipHeader *header, guint8 out[VOIP_HEADER_SIZE])
{
  guint16 magic = GUINT16_TO_BE (header->magic);
  guint16 code = GUINT16_TO_BE (header->code);
  guint16 status = GUINT16_TO_BE (header->status);
  guint32 request_id = GUINT32_TO_BE (header->request_id);
  guint32 length = GUINT32_TO_BE (header->length);

  memcpy (out + 0, &magic, 2);
  out[2] = header->version;
  out[3] = header->kind;
  memcpy (out + 4, &code, 2);
  memcpy (out + 6, &status, 2);
  memcpy (out + 8, &request_id, 4);
  memcpy (out + 12, &length, 4);
}

gboolean
voip_header_read (const guint8 data[VOIP_HEADER_SIZE], VoipHeader *header, GError **error)
{
  guint16 u16;
  guint32 u32;

  memcpy (&u16, data + 0, 2);  header->magic = GUINT16_FROM_BE (u16);
  header->version = data[2];
  header->kind = data[3];
  memcpy (&u16, data + 4, 2);  header->code = GUINT16_FROM_BE (u16);
  memcpy (&u16, data + 6, 2);  header->status = GUINT16_FROM_BE (u16);
  memcpy (&u32, data + 8, 4);  header->request_id = GUINT32_FROM_BE (u32);
  memcpy (&u32, data + 12, 4); header->length = GUINT32_FROM_BE (u32);

  if (header->magic != VOIP_PROTOCOL_MAGIC)
    {
      g_set_error (error, VOIP_ERROR, VOIP_STATUS_MALFORMED,
                   "bad magic 0x%04x", header->magic);
      return FALSE;
    }
  if (header->version != VOIP_PROTOCOL_VERSION)
    {
      g_set_error (error, VOIP_ERROR, VOIP_STATUS_UNSUPPORTED_VERSION,
                   "unsupported protocol version %u", header->version);
      return FALSE;
    }
  if (header->kind < VOIP_KIND_REQUEST || header->kind > VOIP_KIND_EVENT)
    {
      g_set_error (error, VOIP_ERROR, VOIP_STATUS_MALFORMED,
                   "bad frame kind %u", header->kind);
      return FALSE;
    }
  if (header->length > VOIP_MAX_FRAME_PAYLOAD)
    {
      g_set_error (error, VOIP_ERROR, VOIP_STATUS_TOO_LARGE,
                   "frame payload of %u bytes exceeds %u", header->length,
                   (guint) VOIP_MAX_FRAME_PAYLOAD);
      return FALSE;
    }
  return TRUE;
}

GBytes *
voip_frame_encode (VoipKind kind, guint16 code, guint16 status,
                   guint32 request_id, GVariant *payload)
{
  g_autoptr(GVariant) owned = g_variant_ref_sink (payload);
  g_autoptr(GVariant) normal = g_variant_get_normal_form (owned);
  g_autoptr(GVariant) wire = NULL;
  VoipHeader header;
  gsize size;
  guint8 *frame;

  if (G_BYTE_ORDER == G_BIG_ENDIAN)
    wire = g_variant_byteswap (normal);
  else
    wire = g_variant_ref (normal);

  size = g_variant_get_size (wire);
  g_return_val_if_fail (size <= VOIP_MAX_FRAME_PAYLOAD, NULL);

  header = (VoipHeader) {
    .magic = VOIP_PROTOCOL_MAGIC, .version = VOIP_PROTOCOL_VERSION,
    .kind = kind, .code = code, .status = status,
    .request_id = request_id, .length = size,
  };
  frame = g_malloc (VOIP_HEADER_SIZE + size);
  voip_header_write (&header, frame);
  g_variant_store (wire, frame + VOIP_HEADER_SIZE);
  return g_bytes_new_take (frame, VOIP_HEADER_SIZE + size);
}

GBytes *
voip_frame_encode_error (guint16 code, guint16 status, guint32 request_id, const char *detail)
{
  g_autofree char *valid = g_utf8_make_valid (detail ? detail : "", -1);

  return voip_frame_encode (VOIP_KIND_REPLY, code, status, request_id,
                            g_variant_new ("(s)", valid));
}

GVariant *
voip_payload_decode (const VoipHeader *header, GBytes *payload, GError **error)
{
  const GVariantType *type;
  g_autoptr(GVariant) value = NULL;

  /* An error reply is "(s)" whatever the code, even one this side does not know. */
  if (!(header->kind == VOIP_KIND_REPLY && header->status != 0)
      && voip_catalogue_lookup (header->code) == NULL)
    {
      g_set_error (error, VOIP_ERROR, VOIP_STATUS_UNKNOWN_MESSAGE,
                   "unknown message code %u", header->code);
      return NULL;
    }
  type = voip_catalogue_payload_type (header->code, header->kind, header->status);
  if (type == NULL)
    {
      g_set_error (error, VOIP_ERROR, VOIP_STATUS_UNKNOWN_MESSAGE,
                   "message %u has no %s form", header->code,
                   header->kind == VOIP_KIND_REQUEST ? "request"
                   : header->kind == VOIP_KIND_REPLY ? "reply" : "event");
      return NULL;
    }

  /* A full reference, never floating: callers keep it, and a floating one
   * would be taken over by the first GValue or container it passes through. */
  value = g_variant_ref_sink (g_variant_new_from_bytes (type, payload, FALSE));
  /* Normal form rejects every ambiguous or corrupt serialisation, including
   * a size that does not fit the type and strings that are not UTF-8. */
  if (!g_variant_is_normal_form (value))
    {
      g_set_error (error, VOIP_ERROR, VOIP_STATUS_MALFORMED,
                   "payload is not a valid %s in normal form",
                   g_variant_type_peek_string (type));
      return NULL;
    }
  if (G_BYTE_ORDER == G_BIG_ENDIAN)
    return g_variant_byteswap (value);
  return g_steal_pointer (&value);
}

VoipFrameReader *
voip_frame_reader_new (void)
{
  VoipFrameReader *reader = g_new0 (VoipFrameReader, 1);

  reader->buffer = g_byte_array_new ();
  return reader;
}

void
voip_frame_reader_free (VoipFrameReader *reader)
{
  if (reader == NULL)
    return;
  g_byte_array_unref (reader->buffer);
  g_free (reader);
}

void
voip_frame_reader_feed (VoipFrameReader *reader, const guint8 *data, gsize len)
{
  g_byte_array_append (reader->buffer, data, len);
  reader->peak = MAX (reader->peak, reader->buffer->len);
}

gsize
voip_frame_reader_buffered (VoipFrameReader *reader)
{
  return reader->buffer->len - reader->start;
}

static void
reader_compact (VoipFrameReader *reader)
{
  if (reader->start == 0)
    return;
  g_byte_array_remove_range (reader->buffer, 0, reader->start);
  reader->start = 0;
  if (reader->buffer->len == 0 && reader->peak > READER_KEEP_CAPACITY)
    {
      /* Give back the memory of a large frame. */
      g_byte_array_unref (reader->buffer);
      reader->buffer = g_byte_array_new ();
      reader->peak = 0;
    }
}

gboolean
voip_frame_reader_next (VoipFrameReader *reader, VoipHeader *header,
                        GBytes **payload, GError **error)
{
  gsize available = voip_frame_reader_buffered (reader);
  const guint8 *data = reader->buffer->data + reader->start;

  if (available < VOIP_HEADER_SIZE)
    {
      reader_compact (reader);
      return FALSE;
    }
  if (!voip_header_read (data, header, error))
    return FALSE;
  if (available < VOIP_HEADER_SIZE + (gsize) header->length)
    {
      reader_compact (reader);
      return FALSE;
    }

  *payload = g_bytes_new (data + VOIP_HEADER_SIZE, header->length);
  reader->start += VOIP_HEADER_SIZE + header->length;
  if (reader->start == reader->buffer->len)
    reader_compact (reader);
  return TRUE;
}
