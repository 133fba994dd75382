/* gen-corpus.c — writes the seed corpora of tests/fuzz/corpus/.
 *
 *   gen-corpus DIR    writes DIR/frame, DIR/voipd-events and DIR/stun
 *
 * Seeds are real, well-formed inputs: libFuzzer mutates from them, so a
 * seed that already passes the magic, the header checks and the catalogue's
 * type reaches the interesting code at once. Every message of the catalogue
 * gets a frame of each kind it has (built from its type: one element per
 * array, plausible strings), a few messages get realistic payloads, and a
 * couple of streams chain frames the way a session sends them. The files
 * are committed; run this again after a change of the catalogue (see
 * README.md). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "voip-proto.h"

/* A plausible value of any GVariant type; arrays get one element, or none
 * when empty_arrays. */
static GVariant *
sample_value (const GVariantType *type, gboolean empty_arrays)
{
  if (g_variant_type_is_tuple (type) || g_variant_type_is_dict_entry (type))
    {
      GVariantBuilder builder;

      g_variant_builder_init (&builder, type);
      for (const GVariantType *item = g_variant_type_first (type); item != NULL;
           item = g_variant_type_next (item))
        g_variant_builder_add_value (&builder, sample_value (item, empty_arrays));
      return g_variant_builder_end (&builder);
    }
  if (g_variant_type_is_array (type))
    {
      const GVariantType *element = g_variant_type_element (type);
      GVariantBuilder builder;

      if (g_variant_type_equal (element, G_VARIANT_TYPE_BYTE) && !empty_arrays)
        return g_variant_new_fixed_array (element, "hello", 5, 1);
      g_variant_builder_init (&builder, type);
      if (!empty_arrays)
        g_variant_builder_add_value (&builder, sample_value (element, empty_arrays));
      return g_variant_builder_end (&builder);
    }
  if (g_variant_type_is_variant (type))
    return g_variant_new_variant (g_variant_new_string ("Alice"));

  switch (g_variant_type_peek_string (type)[0])
    {
    case 'b': return g_variant_new_boolean (TRUE);
    case 'y': return g_variant_new_byte (7);
    case 'n': return g_variant_new_int16 (1);
    case 'q': return g_variant_new_uint16 (3478);
    case 'i': return g_variant_new_int32 (1);
    case 'u': return g_variant_new_uint32 (1);
    case 'x': return g_variant_new_int64 (G_GINT64_CONSTANT (1767225600000));
    case 't': return g_variant_new_uint64 (42);
    case 'd': return g_variant_new_double (1.0);
    case 'o': return g_variant_new_object_path ("/");
    case 'g': return g_variant_new_signature ("s");
    default:  return g_variant_new_string ("alice");
    }
}

static void
write_file (const char *dir, const char *name, const guint8 *data, gsize size)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;

  if (!g_file_set_contents (path, (const char *) data, size, &error))
    g_error ("%s", error->message);
}

static void
write_bytes (const char *dir, const char *name, GBytes *bytes)
{
  write_file (dir, name, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}

static void
write_frame (const char *dir, const char *name, VoipKind kind, guint16 code, guint16 status,
             guint32 request_id, GVariant *payload)
{
  g_autoptr(GBytes) frame = voip_frame_encode (kind, code, status, request_id, payload);

  write_bytes (dir, name, frame);
}

/* One frame per (message, kind) from the catalogue's types. */
static void
write_catalogue (const char *dir, gboolean server_side_only)
{
  static const char *const kind_names[] = { NULL, "request", "reply", "event" };

  for (const VoipMessageSpec *row = voip_catalogue; row->name != NULL; row++)
    for (VoipKind kind = VOIP_KIND_REQUEST; kind <= VOIP_KIND_EVENT; kind++)
      {
        const GVariantType *type = voip_catalogue_payload_type (row->code, kind, 0);

        if (type == NULL || (server_side_only && kind == VOIP_KIND_REQUEST))
          continue;
        for (int empty = 0; empty <= 1; empty++)
          {
            g_autofree char *name = g_strdup_printf ("%s-%s%s", row->name, kind_names[kind],
                                                     empty ? "-empty" : "");
            guint32 request_id = kind == VOIP_KIND_EVENT ? 0 : 1;

            if (empty && strchr (g_variant_type_peek_string (type), 'a') == NULL)
              continue;
            write_frame (dir, name, kind, row->code, 0, request_id,
                         sample_value (type, empty));
          }
      }
}

static GVariant *
sample_message (guint64 id, guint64 group, guint kind, const char *text, gboolean edited,
                gboolean deleted)
{
  static const guint8 no_voice[1] = { 0 };

  return g_variant_new ("(ttxsstusu@aybbs)", id, id + 100, G_GINT64_CONSTANT (1767225600000),
                        "alice", group ? "" : "bob", group, kind, text,
                        kind == VOIP_MESSAGE_KIND_VOICE ? 2500u : 0u,
                        g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, no_voice, 0, 1),
                        edited, deleted, "5b0c2a52-6c1e-4f0e-9d7e-3c1d2e9f0a11");
}

static GVariant *
sample_call (guint state, guint reason, gint64 started_ms)
{
  GVariantBuilder participants;

  g_variant_builder_init (&participants, G_VARIANT_TYPE ("a(su)"));
  g_variant_builder_add (&participants, "(su)", "alice", (guint32) VOIP_PARTICIPANT_JOINED);
  g_variant_builder_add (&participants, "(su)", "bob",
                         (guint32) (state == VOIP_CALL_STATE_RINGING ? VOIP_PARTICIPANT_INVITED
                                                                     : VOIP_PARTICIPANT_JOINED));
  return g_variant_new ("(tstuuxa(su))", (guint64) 7, "alice", (guint64) 0, (guint32) state,
                        (guint32) reason, started_ms, &participants);
}

/* Streams a client sends: each is a session's first frames, back to back. */
static void
write_request_streams (const char *dir)
{
  static const guint8 png[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13 };
  static const guint8 ogg[64] = "OggS\0\2\0\0\0\0\0\0\0\0\1\0\0\0\0\0\0\0\0\0\0\0\1\23OpusHead\1\1";
  g_autoptr(GByteArray) stream = g_byte_array_new ();
  GVariantBuilder fields, plugins;
  GBytes *frames[6];

  g_variant_builder_init (&plugins, G_VARIANT_TYPE ("a(ss)"));
  g_variant_builder_add (&plugins, "(ss)", "whiteboard", "Draw together");
  g_variant_builder_init (&fields, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&fields, "{sv}", "display_name", g_variant_new_string ("Alice A."));
  g_variant_builder_add (&fields, "{sv}", "motd", g_variant_new_string ("back at 3"));
  g_variant_builder_add (&fields, "{sv}", "mail", g_variant_new_string ("alice@example.org"));
  g_variant_builder_add (&fields, "{sv}", "avatar",
                         g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, png, sizeof png, 1));
  g_variant_builder_add (&fields, "{sv}", "plugins", g_variant_builder_end (&plugins));

  frames[0] = voip_frame_encode (VOIP_KIND_REQUEST, VOIP_MSG_REGISTER, 0, 1,
                                 g_variant_new ("(sss)", "alice", "correct horse battery",
                                                "alice@example.org"));
  frames[1] = voip_frame_encode (VOIP_KIND_REQUEST, VOIP_MSG_SET_PROFILE, 0, 2,
                                 g_variant_new ("(a{sv})", &fields));
  frames[2] = voip_frame_encode (VOIP_KIND_REQUEST, VOIP_MSG_SEND_TEXT, 0, 3,
                                 g_variant_new ("(stss)", "bob", (guint64) 0,
                                                "5b0c2a52-6c1e-4f0e-9d7e-3c1d2e9f0a11",
                                                "Hello, Bob! Ça va ?"));
  frames[3] = voip_frame_encode (VOIP_KIND_REQUEST, VOIP_MSG_SEND_VOICE, 0, 4,
                                 g_variant_new ("(sts@ayu)", "bob", (guint64) 0, "v-1",
                                                g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE,
                                                                           ogg, sizeof ogg, 1),
                                                2500u));
  frames[4] = voip_frame_encode (VOIP_KIND_REQUEST, VOIP_MSG_RESUME, 0, 5,
                                 g_variant_new ("(ss)", "alice",
                                                "0123456789abcdef0123456789abcdef"
                                                "0123456789abcdef0123456789abcdef"));
  frames[5] = voip_frame_encode (VOIP_KIND_REQUEST, VOIP_MSG_GROUP_CREATE, 0, 6,
                                 g_variant_new ("(s^as)", "Team",
                                                (const char *const[]) { "bob", "carol", NULL }));
  for (guint i = 0; i < G_N_ELEMENTS (frames); i++)
    {
      g_byte_array_append (stream, g_bytes_get_data (frames[i], NULL),
                           g_bytes_get_size (frames[i]));
      g_bytes_unref (frames[i]);
    }
  write_file (dir, "stream-session", stream->data, stream->len);
}

/* What voipd hears from a server: replies, errors and events, realistic. */
static void
write_server_streams (const char *dir)
{
  g_autoptr(GByteArray) stream = g_byte_array_new ();
  GVariantBuilder messages;
  GBytes *frames[13];
  guint n = 0;

  g_variant_builder_init (&messages, G_VARIANT_TYPE ("a" VOIP_T_MESSAGE));
  g_variant_builder_add_value (&messages, sample_message (1, 0, VOIP_MESSAGE_KIND_TEXT, "hi",
                                                          FALSE, FALSE));
  g_variant_builder_add_value (&messages, sample_message (2, 9, VOIP_MESSAGE_KIND_VOICE, "",
                                                          FALSE, FALSE));
  g_variant_builder_add_value (&messages, sample_message (3, 0, VOIP_MESSAGE_KIND_TEXT, "",
                                                          FALSE, TRUE));

  /* A friend first, so that the messages after it have a conversation. */
  frames[n++] = voip_frame_encode (VOIP_KIND_EVENT, VOIP_MSG_CONTACT_CHANGED, 0, 0,
                                   g_variant_new ("(ssuu)", "alice", "Alice",
                                                  (guint32) VOIP_SUBSCRIPTION_FRIEND,
                                                  (guint32) VOIP_CONTACT_CHANGE_ACCEPTED));
  frames[n++] = voip_frame_encode (VOIP_KIND_REPLY, VOIP_MSG_LOGIN, 0, 1,
                                   g_variant_new ("(ss)", "alice",
                                                  "0123456789abcdef0123456789abcdef"
                                                  "0123456789abcdef0123456789abcdef"));
  frames[n++] = voip_frame_encode (VOIP_KIND_REPLY, VOIP_MSG_SYNC, 0, 2,
                                   g_variant_new ("(@a" VOIP_T_MESSAGE "b)",
                                                  g_variant_builder_end (&messages), FALSE));
  frames[n++] = voip_frame_encode_error (VOIP_MSG_GET_PROFILE, VOIP_STATUS_NO_SUCH_USER, 3,
                                         "no user 'mallory'");
  frames[n++] = voip_frame_encode (VOIP_KIND_EVENT, VOIP_MSG_PRESENCE_CHANGED, 0, 0,
                                   g_variant_new ("(su)", "bob", (guint32) VOIP_PRESENCE_AWAY));
  frames[n++] = voip_frame_encode (VOIP_KIND_EVENT, VOIP_MSG_GROUP_CHANGED, 0, 0,
                                   g_variant_new ("(tss^as)", (guint64) 9, "Team", "alice",
                                                  (const char *const[]) { "alice", "bob", NULL }));
  frames[n++] = voip_frame_encode (VOIP_KIND_EVENT, VOIP_MSG_MESSAGE_EDITED, 0, 0,
                                   sample_message (1, 0, VOIP_MESSAGE_KIND_TEXT, "hi!", TRUE,
                                                   FALSE));
  frames[n++] = voip_frame_encode (VOIP_KIND_EVENT, VOIP_MSG_CALL_CHANGED, 0, 0,
                                   sample_call (VOIP_CALL_STATE_ACTIVE, VOIP_CALL_REASON_ANSWERED,
                                                G_GINT64_CONSTANT (1767225601000)));
  frames[n++] = voip_frame_encode (VOIP_KIND_EVENT, VOIP_MSG_CALL_SIGNAL_RECEIVED, 0, 0,
                                   g_variant_new ("(tsus)", (guint64) 7, "bob",
                                                  (guint32) VOIP_CALL_SIGNAL_CREDENTIALS,
                                                  "Xk3f vUq0Ojq9M1vMsZ0aJ8x2Bf"));
  frames[n++] = voip_frame_encode (VOIP_KIND_EVENT, VOIP_MSG_CALL_SIGNAL_RECEIVED, 0, 0,
                                   g_variant_new ("(tsus)", (guint64) 7, "bob",
                                                  (guint32) VOIP_CALL_SIGNAL_CANDIDATE,
                                                  "a=candidate:1 1 UDP 2013266431 192.0.2.10 "
                                                  "40000 typ host"));
  frames[n++] = voip_frame_encode (VOIP_KIND_EVENT, VOIP_MSG_CALL_SIGNAL_RECEIVED, 0, 0,
                                   g_variant_new ("(tsus)", (guint64) 7, "bob",
                                                  (guint32) VOIP_CALL_SIGNAL_SRTP_KEY,
                                                  "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd"));
  frames[n++] = voip_frame_encode (VOIP_KIND_EVENT, VOIP_MSG_CALL_CHANGED, 0, 0,
                                   sample_call (VOIP_CALL_STATE_ENDED, VOIP_CALL_REASON_HANGUP,
                                                G_GINT64_CONSTANT (1767225601000)));
  frames[n++] = voip_frame_encode (VOIP_KIND_EVENT, VOIP_MSG_SESSION_CLOSED, 0, 0,
                                   g_variant_new ("(us)", (guint32) VOIP_CLOSE_SHUTDOWN,
                                                  "the server is shutting down"));
  g_assert (n == G_N_ELEMENTS (frames));
  for (guint i = 0; i < n; i++)
    {
      g_byte_array_append (stream, g_bytes_get_data (frames[i], NULL),
                           g_bytes_get_size (frames[i]));
      g_bytes_unref (frames[i]);
    }
  write_file (dir, "stream-server", stream->data, stream->len);
}

/* ---- STUN (RFC 5389) ---------------------------------------------------------- */

#define STUN_MAGIC_COOKIE 0x2112A442u

static guint32
crc32 (const guint8 *data, gsize size)
{
  guint32 crc = 0xffffffffu;

  for (gsize i = 0; i < size; i++)
    {
      crc ^= data[i];
      for (int bit = 0; bit < 8; bit++)
        crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
    }
  return ~crc;
}

static void
put16 (GByteArray *out, guint16 value)
{
  guint8 b[2] = { value >> 8, value & 0xff };

  g_byte_array_append (out, b, 2);
}

static void
put32 (GByteArray *out, guint32 value)
{
  put16 (out, value >> 16);
  put16 (out, value & 0xffff);
}

static void
put_attribute (GByteArray *out, guint16 type, const void *value, guint16 len)
{
  static const guint8 zeros[3] = { 0 };

  put16 (out, type);
  put16 (out, len);
  g_byte_array_append (out, value, len);
  g_byte_array_append (out, zeros, (4 - len % 4) % 4);
}

static void
set_length (GByteArray *out)
{
  guint16 len = out->len - 20;

  out->data[2] = len >> 8;
  out->data[3] = len & 0xff;
}

/* A Binding request: 20-byte header, the attributes given, and FINGERPRINT
 * (its CRC covers the message with the length already counting it). */
static void
write_stun (const char *dir, const char *name, const guint16 *types,
            const char *const *values, guint n_attributes, gboolean fingerprint)
{
  static const guint8 transaction[12] = "voip-fuzz-01";
  g_autoptr(GByteArray) out = g_byte_array_new ();

  put16 (out, 0x0001);
  put16 (out, 0);
  put32 (out, STUN_MAGIC_COOKIE);
  g_byte_array_append (out, transaction, sizeof transaction);
  for (guint i = 0; i < n_attributes; i++)
    put_attribute (out, types[i], values[i], strlen (values[i]));
  if (fingerprint)
    {
      guint16 len = out->len - 20 + 8;
      guint32 crc;

      out->data[2] = len >> 8;
      out->data[3] = len & 0xff;
      crc = crc32 (out->data, out->len) ^ 0x5354554eu;
      put16 (out, 0x8028);
      put16 (out, 4);
      put32 (out, crc);
    }
  set_length (out);
  write_file (dir, name, out->data, out->len);
}

static void
write_stun_corpus (const char *dir)
{
  write_stun (dir, "binding", NULL, NULL, 0, FALSE);
  write_stun (dir, "binding-fingerprint", NULL, NULL, 0, TRUE);
  write_stun (dir, "binding-software", (const guint16[]) { 0x8022 },
              (const char *const[]) { "libnice" }, 1, TRUE);
  /* 0x7f01: in the comprehension-required range, and unknown to the server. */
  write_stun (dir, "binding-unknown-attribute", (const guint16[]) { 0x7f01 },
              (const char *const[]) { "abcd" }, 1, FALSE);
  write_stun (dir, "binding-username", (const guint16[]) { 0x0006, 0x8022 },
              (const char *const[]) { "alice:bob", "voipd" }, 2, TRUE);
}

static void
make_dir (const char *path)
{
  if (g_mkdir_with_parents (path, 0755) != 0)
    g_error ("cannot create %s: %s", path, g_strerror (errno));
}

int
main (int argc, char **argv)
{
  g_autofree char *frame_dir = NULL;
  g_autofree char *events_dir = NULL;
  g_autofree char *stun_dir = NULL;

  if (argc != 2)
    {
      g_printerr ("usage: %s CORPUS-DIR\n", argv[0]);
      return 2;
    }
  frame_dir = g_build_filename (argv[1], "frame", NULL);
  events_dir = g_build_filename (argv[1], "voipd-events", NULL);
  stun_dir = g_build_filename (argv[1], "stun", NULL);
  make_dir (frame_dir);
  make_dir (events_dir);
  make_dir (stun_dir);

  write_catalogue (frame_dir, FALSE);
  write_request_streams (frame_dir);
  write_server_streams (frame_dir);

  write_catalogue (events_dir, TRUE);
  write_server_streams (events_dir);

  write_stun_corpus (stun_dir);
  return 0;
}
