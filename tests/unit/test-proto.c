/* test-proto.c — the wire codec: headers, strict payload decoding, the frame
 * reader, field validators, and the catalogue's consistency. */
#include <string.h>

#include "voip-proto.h"

static void
test_header_roundtrip (void)
{
  g_autoptr(GBytes) frame = voip_frame_encode (VOIP_KIND_REQUEST, VOIP_MSG_PING, 0, 7,
                                               g_variant_new ("()"));
  static const guint8 expected[] = {  /* the example in PROTOCOL.md */
    0x13, 0x37, 0x01, 0x01, 0x00, 0x09, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x01, 0x00,
  };
  gsize size;
  const guint8 *data = g_bytes_get_data (frame, &size);
  VoipHeader header;
  g_autoptr(GError) error = NULL;

  g_assert_cmpmem (data, size, expected, sizeof expected);
  g_assert_true (voip_header_read (data, &header, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (header.code, ==, VOIP_MSG_PING);
  g_assert_cmpuint (header.request_id, ==, 7);
  g_assert_cmpuint (header.length, ==, 1);
}

static void
test_header_rejects (void)
{
  guint8 data[VOIP_HEADER_SIZE];
  VoipHeader good = {
    .magic = VOIP_PROTOCOL_MAGIC, .version = 1, .kind = VOIP_KIND_REQUEST, .length = 10,
  };
  VoipHeader header, bad;

  bad = good; bad.magic = 0x1338;
  voip_header_write (&bad, data);
  {
    g_autoptr(GError) error = NULL;
    g_assert_false (voip_header_read (data, &header, &error));
    g_assert_error (error, VOIP_ERROR, VOIP_STATUS_MALFORMED);
  }
  bad = good; bad.version = 2;
  voip_header_write (&bad, data);
  {
    g_autoptr(GError) error = NULL;
    g_assert_false (voip_header_read (data, &header, &error));
    g_assert_error (error, VOIP_ERROR, VOIP_STATUS_UNSUPPORTED_VERSION);
  }
  bad = good; bad.kind = 0;
  voip_header_write (&bad, data);
  {
    g_autoptr(GError) error = NULL;
    g_assert_false (voip_header_read (data, &header, &error));
    g_assert_error (error, VOIP_ERROR, VOIP_STATUS_MALFORMED);
  }
  bad = good; bad.length = VOIP_MAX_FRAME_PAYLOAD + 1;
  voip_header_write (&bad, data);
  {
    g_autoptr(GError) error = NULL;
    g_assert_false (voip_header_read (data, &header, &error));
    g_assert_error (error, VOIP_ERROR, VOIP_STATUS_TOO_LARGE);
  }
  bad = good; bad.length = VOIP_MAX_FRAME_PAYLOAD;
  voip_header_write (&bad, data);
  g_assert_true (voip_header_read (data, &header, NULL));
}

static GVariant *
decode (VoipKind kind, guint16 code, guint16 status, const void *payload, gsize len,
        GError **error)
{
  VoipHeader header = { .magic = VOIP_PROTOCOL_MAGIC, .version = 1, .kind = kind,
                        .code = code, .status = status, .length = len };
  g_autoptr(GBytes) bytes = g_bytes_new (payload, len);

  return voip_payload_decode (&header, bytes, error);
}

static void
test_payload_decode (void)
{
  g_autoptr(GVariant) login = g_variant_ref_sink (g_variant_new ("(ss)", "alice", "password1"));
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;
  const char *name;

  value = decode (VOIP_KIND_REQUEST, VOIP_MSG_LOGIN, 0, g_variant_get_data (login),
                  g_variant_get_size (login), &error);
  g_assert_no_error (error);
  g_variant_get (value, "(&ss)", &name, NULL);
  g_assert_cmpstr (name, ==, "alice");
  g_clear_pointer (&value, g_variant_unref);

  /* The same bytes as a Ping: wrong type (not the one byte of "()"). */
  value = decode (VOIP_KIND_REQUEST, VOIP_MSG_PING, 0, g_variant_get_data (login),
                  g_variant_get_size (login), &error);
  g_assert_null (value);
  g_assert_error (error, VOIP_ERROR, VOIP_STATUS_MALFORMED);
  g_clear_error (&error);

  /* Unknown code, and an event-only code sent as a request. */
  value = decode (VOIP_KIND_REQUEST, 999, 0, "", 0, &error);
  g_assert_error (error, VOIP_ERROR, VOIP_STATUS_UNKNOWN_MESSAGE);
  g_clear_error (&error);
  value = decode (VOIP_KIND_REQUEST, VOIP_MSG_PRESENCE_CHANGED, 0, "\0", 1, &error);
  g_assert_error (error, VOIP_ERROR, VOIP_STATUS_UNKNOWN_MESSAGE);
  g_clear_error (&error);

  /* An error reply is always "(s)". */
  value = decode (VOIP_KIND_REPLY, VOIP_MSG_LOGIN, VOIP_STATUS_BAD_LOGIN, "no\0", 3, &error);
  g_assert_no_error (error);
  g_assert_true (g_variant_is_of_type (value, G_VARIANT_TYPE ("(s)")));
}

static void
test_payload_rejects_invalid_utf8 (void)
{
  /* "(s)" holding 0xff 0xfe: right shape, not UTF-8. */
  static const guint8 payload[] = { 0xff, 0xfe, 0x00 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) value = decode (VOIP_KIND_REQUEST, VOIP_MSG_GET_PROFILE, 0,
                                      payload, sizeof payload, &error);

  g_assert_null (value);
  g_assert_error (error, VOIP_ERROR, VOIP_STATUS_MALFORMED);
}

static void
test_payload_rejects_non_normal (void)
{
  /* "(u)" must be exactly 4 bytes; 5 is not normal form. */
  static const guint8 long_u[] = { 1, 0, 0, 0, 0 };
  /* "(ss)": a framing offset pointing past the data. */
  static const guint8 bad_offset[] = { 'a', 0, 'b', 0, 0x7f };
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) a = decode (VOIP_KIND_REQUEST, VOIP_MSG_SET_PRESENCE, 0, long_u,
                                  sizeof long_u, &error);
  g_assert_null (a);
  g_assert_error (error, VOIP_ERROR, VOIP_STATUS_MALFORMED);
  g_clear_error (&error);

  g_autoptr(GVariant) b = decode (VOIP_KIND_REQUEST, VOIP_MSG_LOGIN, 0, bad_offset,
                                  sizeof bad_offset, &error);
  g_assert_null (b);
  g_assert_error (error, VOIP_ERROR, VOIP_STATUS_MALFORMED);
}

static void
test_reader_partial_and_multiple (void)
{
  g_autoptr(VoipFrameReader) reader = voip_frame_reader_new ();
  g_autoptr(GBytes) one = voip_frame_encode (VOIP_KIND_EVENT, VOIP_MSG_PRESENCE_CHANGED, 0, 0,
                                             g_variant_new ("(su)", "bob", 1));
  g_autoptr(GBytes) two = voip_frame_encode (VOIP_KIND_REPLY, VOIP_MSG_PING, 0, 3,
                                             g_variant_new ("()"));
  gsize one_size, two_size;
  const guint8 *one_data = g_bytes_get_data (one, &one_size);
  const guint8 *two_data = g_bytes_get_data (two, &two_size);
  VoipHeader header;
  GBytes *payload = NULL;
  g_autoptr(GError) error = NULL;

  /* Byte by byte: nothing until the last byte of the first frame. */
  for (gsize i = 0; i + 1 < one_size; i++)
    {
      voip_frame_reader_feed (reader, one_data + i, 1);
      g_assert_false (voip_frame_reader_next (reader, &header, &payload, &error));
      g_assert_no_error (error);
    }
  voip_frame_reader_feed (reader, one_data + one_size - 1, 1);
  voip_frame_reader_feed (reader, two_data, two_size);

  g_assert_true (voip_frame_reader_next (reader, &header, &payload, &error));
  g_assert_cmpuint (header.code, ==, VOIP_MSG_PRESENCE_CHANGED);
  g_bytes_unref (payload);
  g_assert_true (voip_frame_reader_next (reader, &header, &payload, &error));
  g_assert_cmpuint (header.code, ==, VOIP_MSG_PING);
  g_assert_cmpuint (header.request_id, ==, 3);
  g_bytes_unref (payload);
  g_assert_false (voip_frame_reader_next (reader, &header, &payload, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (voip_frame_reader_buffered (reader), ==, 0);
}

static void
test_reader_garbage (void)
{
  g_autoptr(VoipFrameReader) reader = voip_frame_reader_new ();
  VoipHeader header;
  GBytes *payload = NULL;
  g_autoptr(GError) error = NULL;

  voip_frame_reader_feed (reader, (const guint8 *) "GET / HTTP/1.1\r\n\r\n", 18);
  g_assert_false (voip_frame_reader_next (reader, &header, &payload, &error));
  g_assert_error (error, VOIP_ERROR, VOIP_STATUS_MALFORMED);
}

static void
test_validators (void)
{
  g_autofree char *long_text = g_strnfill (VOIP_TEXT_MAX + 1, 'x');
  g_autofree char *max_text = g_strnfill (VOIP_TEXT_MAX, 'x');
  static const guint8 ogg[64] = "OggS\0\2\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1\x13OpusHead";
  g_autoptr(GVariant) voice = g_variant_ref_sink (
      g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, ogg, sizeof ogg, 1));
  g_autoptr(GVariant) not_ogg = g_variant_ref_sink (
      g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, "RIFF0000WAVEfmt ", 16, 1));

  g_assert_true (voip_validate_username ("alice", NULL));
  g_assert_true (voip_validate_username ("a.b_c-9", NULL));
  g_assert_false (voip_validate_username ("Al", NULL));
  g_assert_false (voip_validate_username ("Alice", NULL));
  g_assert_false (voip_validate_username ("al ice", NULL));
  g_assert_false (voip_validate_username ("abcdefghijklmnopqrstuvwxyz0123456", NULL));
  g_assert_true (voip_validate_password ("12345678", NULL));
  g_assert_false (voip_validate_password ("1234567", NULL));
  g_assert_true (voip_validate_text (max_text, NULL));
  g_assert_false (voip_validate_text (long_text, NULL));
  g_assert_false (voip_validate_text ("", NULL));
  g_assert_true (voip_validate_text ("two\nlines", NULL));
  g_assert_false (voip_validate_group_name ("tab\there", NULL));
  g_assert_true (voip_validate_email ("", NULL));
  g_assert_false (voip_validate_email ("nobody", NULL));
  g_assert_true (voip_validate_token ("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", NULL));
  g_assert_false (voip_validate_token ("0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", NULL));
  g_assert_true (voip_validate_presence (VOIP_PRESENCE_INVISIBLE, NULL));
  g_assert_false (voip_validate_presence (VOIP_PRESENCE_OFFLINE, NULL));
  g_assert_false (voip_validate_presence (42, NULL));
  g_assert_true (voip_validate_voice (voice, 1000, NULL));
  g_assert_false (voip_validate_voice (voice, 0, NULL));
  g_assert_false (voip_validate_voice (not_ogg, 1000, NULL));
}

static void
test_profile_fields (void)
{
  GVariantDict dict;
  g_autoptr(GVariant) good = NULL;
  g_autoptr(GVariant) unknown = NULL;
  g_autoptr(GVariant) wrong_type = NULL;
  g_autoptr(GVariant) bad_avatar = NULL;
  g_autoptr(GError) error = NULL;

  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert (&dict, "display_name", "s", "Alice");
  g_variant_dict_insert (&dict, "plugins", "@a(ss)",
                         g_variant_new_parsed ("[('dice', 'rolls dice')]"));
  good = g_variant_ref_sink (g_variant_dict_end (&dict));
  g_assert_true (voip_validate_profile_fields (good, &error));
  g_assert_no_error (error);

  unknown = g_variant_ref_sink (g_variant_new_parsed ("{'shoe_size': <'42'>}"));
  g_assert_false (voip_validate_profile_fields (unknown, NULL));
  wrong_type = g_variant_ref_sink (g_variant_new_parsed ("{'motd': <42>}"));
  g_assert_false (voip_validate_profile_fields (wrong_type, NULL));
  bad_avatar = g_variant_ref_sink (g_variant_new_parsed ("{'avatar': <b'GIF89a'>}"));
  g_assert_false (voip_validate_profile_fields (bad_avatar, &error));
}

static void
test_catalogue_consistent (void)
{
  g_autoptr(GHashTable) codes = g_hash_table_new (g_direct_hash, g_direct_equal);
  g_autoptr(GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);

  for (const VoipMessageSpec *row = voip_catalogue; row->name != NULL; row++)
    {
      g_assert_false (g_hash_table_contains (codes, GUINT_TO_POINTER (row->code)));
      g_assert_false (g_hash_table_contains (names, row->name));
      g_hash_table_add (codes, GUINT_TO_POINTER (row->code));
      g_hash_table_add (names, (gpointer) row->name);
      /* A request always has a reply, and every payload type is a tuple. */
      g_assert_true ((row->request_type == NULL) == (row->reply_type == NULL));
      g_assert_true (row->request_type != NULL || row->event_type != NULL);
      for (guint k = 0; k < 3; k++)
        {
          const char *type = k == 0 ? row->request_type : k == 1 ? row->reply_type
                                                                 : row->event_type;
          if (type == NULL)
            continue;
          g_assert_true (g_variant_type_string_is_valid (type));
          g_assert_true (g_variant_type_is_tuple (G_VARIANT_TYPE (type)));
        }
    }
  for (const VoipStatusInfo *row = voip_status_table; row->name != NULL; row++)
    g_assert_true (voip_status_lookup (row->status) == row);
}

/* PROTOCOL.md must carry exactly the tables voip-proto-doc prints. */
static void
test_spec_matches_catalogue (void)
{
  const char *spec_path = g_getenv ("VOIP_PROTOCOL_MD");
  const char *doc_tool = g_getenv ("VOIP_PROTO_DOC");
  g_autofree char *spec = NULL;
  g_autofree char *generated = NULL;
  const char *begin, *end;
  g_autoptr(GError) error = NULL;
  int status;

  if (spec_path == NULL || doc_tool == NULL)
    {
      g_test_skip ("VOIP_PROTOCOL_MD and VOIP_PROTO_DOC are set by meson");
      return;
    }
  g_assert_true (g_file_get_contents (spec_path, &spec, NULL, &error));
  g_assert_true (g_spawn_command_line_sync (doc_tool, &generated, NULL, &status, &error));
  g_assert_no_error (error);
  begin = strstr (spec, "<!-- catalogue:begin -->\n");
  end = strstr (spec, "<!-- catalogue:end -->");
  g_assert_nonnull (begin);
  g_assert_nonnull (end);
  begin += strlen ("<!-- catalogue:begin -->\n");
  {
    g_autofree char *in_spec = g_strndup (begin, end - begin);
    g_assert_cmpstr (in_spec, ==, generated);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/proto/header/roundtrip", test_header_roundtrip);
  g_test_add_func ("/proto/header/rejects", test_header_rejects);
  g_test_add_func ("/proto/payload/decode", test_payload_decode);
  g_test_add_func ("/proto/payload/invalid-utf8", test_payload_rejects_invalid_utf8);
  g_test_add_func ("/proto/payload/non-normal", test_payload_rejects_non_normal);
  g_test_add_func ("/proto/reader/partial-and-multiple", test_reader_partial_and_multiple);
  g_test_add_func ("/proto/reader/garbage", test_reader_garbage);
  g_test_add_func ("/proto/validate/fields", test_validators);
  g_test_add_func ("/proto/validate/profile", test_profile_fields);
  g_test_add_func ("/proto/catalogue/consistent", test_catalogue_consistent);
  g_test_add_func ("/proto/catalogue/spec", test_spec_matches_catalogue);
  return g_test_run ();
}
