/* fuzz-frame.c — proto/'s frame reader and payload decoder on untrusted bytes.
 *
 * The input is what a peer sends on one connection. voip-server and voipd
 * both feed it to a VoipFrameReader as reads complete and decode each whole
 * frame's payload against the catalogue (voip_payload_decode); the server
 * then applies the field rules of voip-validate.c to requests. This target
 * does the same, and checks what must hold whatever the bytes:
 *
 *  - the stream gives the same frames and the same error whether it arrives
 *    in one read or in small uneven ones (the reader keeps partial frames);
 *  - a payload that decodes re-encodes to exactly the bytes received
 *    (normal form is canonical, so nothing ambiguous got through).
 */
#include <string.h>

#include "fuzz.h"
#include "voip-proto.h"

/* The most frames looked at per input: enough for any interesting stream,
 * and it keeps a run over a long input of tiny frames fast. */
#define MAX_FRAMES 256

typedef struct {
  VoipHeader header;
  GBytes    *payload;
} Frame;

static void
frame_clear (Frame *frame)
{
  g_clear_pointer (&frame->payload, g_bytes_unref);
}

/* Reads the whole stream, fed in chunks of the sizes chunk_size() gives.
 * Returns the frames; *error is the reader's error, if it stopped on one. */
static GArray *
read_frames (const guint8 *data, gsize size, gsize (*chunk_size) (guint n), GError **error)
{
  g_autoptr(VoipFrameReader) reader = voip_frame_reader_new ();
  GArray *frames = g_array_new (FALSE, TRUE, sizeof (Frame));
  gsize offset = 0;

  g_array_set_clear_func (frames, (GDestroyNotify) frame_clear);
  for (guint n = 0; offset < size && frames->len < MAX_FRAMES; n++)
    {
      gsize len = MIN (chunk_size (n), size - offset);
      Frame frame = { 0 };

      voip_frame_reader_feed (reader, data + offset, len);
      offset += len;
      while (frames->len < MAX_FRAMES
             && voip_frame_reader_next (reader, &frame.header, &frame.payload, error))
        {
          g_assert (frame.header.length == g_bytes_get_size (frame.payload));
          g_array_append_val (frames, frame);
          frame.payload = NULL;
        }
      if (*error != NULL)
        break;
      g_assert (voip_frame_reader_buffered (reader) <= offset);
    }
  return frames;
}

static gsize
whole (guint n)
{
  return G_MAXSIZE;
}

/* 1 to 37 bytes, irregularly: every split of header and payload shows up. */
static gsize
uneven (guint n)
{
  return 1 + (n * 7919u) % 37;
}

static void
validate_username (const char *username)
{
  /* Empty means "no recipient" (a group message, a group call). */
  if (*username != '\0')
    voip_validate_username (username, NULL);
}

/* The field rules the server's handlers apply before they act. Their
 * verdict does not matter here; that they cope with any decoded value does. */
static void
validate_request (guint16 code, GVariant *value)
{
  const char *s1, *s2, *s3;
  g_autoptr(GVariant) child = NULL;
  guint32 u;
  guint64 t;

  switch (code)
    {
    case VOIP_MSG_REGISTER:
      g_variant_get (value, "(&s&s&s)", &s1, &s2, &s3);
      voip_validate_username (s1, NULL);
      voip_validate_password (s2, NULL);
      voip_validate_email (s3, NULL);
      break;
    case VOIP_MSG_LOGIN:
      g_variant_get (value, "(&s&s)", &s1, &s2);
      voip_validate_username (s1, NULL);
      voip_validate_password (s2, NULL);
      break;
    case VOIP_MSG_RESUME:
      g_variant_get (value, "(&s&s)", &s1, &s2);
      voip_validate_username (s1, NULL);
      voip_validate_token (s2, NULL);
      break;
    case VOIP_MSG_CHANGE_PASSWORD:
      g_variant_get (value, "(&s&s)", &s1, &s2);
      voip_validate_password (s2, NULL);
      break;
    case VOIP_MSG_SET_PRESENCE:
      g_variant_get (value, "(u)", &u);
      voip_validate_presence (u, NULL);
      break;
    case VOIP_MSG_SET_PROFILE:
      g_variant_get (value, "(@a{sv})", &child);
      voip_validate_profile_fields (child, NULL);
      break;
    case VOIP_MSG_GET_PROFILE:
    case VOIP_MSG_CONTACT_REQUEST:
    case VOIP_MSG_CONTACT_ACCEPT:
    case VOIP_MSG_CONTACT_DENY:
    case VOIP_MSG_CONTACT_REMOVE:
      g_variant_get (value, "(&s)", &s1);
      voip_validate_username (s1, NULL);
      break;
    case VOIP_MSG_GROUP_CREATE:
      {
        g_autofree const char **members = NULL;

        g_variant_get (value, "(&s^a&s)", &s1, &members);
        voip_validate_group_name (s1, NULL);
        for (guint i = 0; members[i] != NULL; i++)
          voip_validate_username (members[i], NULL);
      }
      break;
    case VOIP_MSG_GROUP_RENAME:
      g_variant_get (value, "(t&s)", &t, &s1);
      voip_validate_group_name (s1, NULL);
      break;
    case VOIP_MSG_GROUP_ADD_MEMBER:
    case VOIP_MSG_GROUP_REMOVE_MEMBER:
      g_variant_get (value, "(t&s)", &t, &s1);
      voip_validate_username (s1, NULL);
      break;
    case VOIP_MSG_SEND_TEXT:
      g_variant_get (value, "(&st&s&s)", &s1, &t, &s2, &s3);
      validate_username (s1);
      voip_validate_client_id (s2, NULL);
      voip_validate_text (s3, NULL);
      break;
    case VOIP_MSG_SEND_VOICE:
      g_variant_get (value, "(&st&s@ayu)", &s1, &t, &s2, &child, &u);
      validate_username (s1);
      voip_validate_client_id (s2, NULL);
      voip_validate_voice (child, u, NULL);
      break;
    case VOIP_MSG_EDIT:
      g_variant_get (value, "(t&s)", &t, &s1);
      voip_validate_text (s1, NULL);
      break;
    case VOIP_MSG_CALL_INVITE:
      g_variant_get (value, "(&st)", &s1, &t);
      validate_username (s1);
      break;
    case VOIP_MSG_CALL_SIGNAL:
      g_variant_get (value, "(t&su&s)", &t, &s1, &u, &s2);
      voip_validate_username (s1, NULL);
      break;
    case VOIP_MSG_PLUGIN_SEND:
      g_variant_get (value, "(&s&s@ay)", &s1, &s2, &child);
      voip_validate_username (s1, NULL);
      voip_validate_string ("plugin name", s2, VOIP_PLUGIN_NAME_MAX, FALSE, NULL);
      break;
    default:
      break;
    }
}

static void
decode_frame (const Frame *frame)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) value = voip_payload_decode (&frame->header, frame->payload, &error);
  g_autoptr(GBytes) encoded = NULL;
  g_autoptr(GBytes) payload = NULL;

  if (value == NULL)
    {
      g_assert (error != NULL && error->domain == VOIP_ERROR);
      g_assert (error->code == VOIP_STATUS_MALFORMED
                || error->code == VOIP_STATUS_UNKNOWN_MESSAGE);
      return;
    }
  g_assert (error == NULL);
  g_assert (!g_variant_is_floating (value));

  /* value is not floating: voip_frame_encode() takes a reference of its own. */
  encoded = voip_frame_encode (frame->header.kind, frame->header.code, frame->header.status,
                               frame->header.request_id, value);
  payload = g_bytes_new_from_bytes (encoded, VOIP_HEADER_SIZE,
                                    g_bytes_get_size (encoded) - VOIP_HEADER_SIZE);
  g_assert (g_bytes_equal (payload, frame->payload));

  if (frame->header.kind == VOIP_KIND_REQUEST)
    validate_request (frame->header.code, value);
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autoptr(GError) error_whole = NULL;
  g_autoptr(GError) error_uneven = NULL;
  g_autoptr(GArray) frames = NULL;
  g_autoptr(GArray) frames_uneven = NULL;

  fuzz_init ();

  frames = read_frames (data, size, whole, &error_whole);
  frames_uneven = read_frames (data, size, uneven, &error_uneven);

  g_assert_cmpuint (frames->len, ==, frames_uneven->len);
  g_assert ((error_whole == NULL) == (error_uneven == NULL));
  if (error_whole != NULL)
    {
      g_assert (error_whole->domain == VOIP_ERROR);
      g_assert_cmpint (error_whole->code, ==, error_uneven->code);
    }
  for (guint i = 0; i < frames->len; i++)
    {
      const Frame *a = &g_array_index (frames, Frame, i);
      const Frame *b = &g_array_index (frames_uneven, Frame, i);

      g_assert (memcmp (&a->header, &b->header, sizeof a->header) == 0);
      g_assert (g_bytes_equal (a->payload, b->payload));
      decode_frame (a);
    }
  return 0;
}
