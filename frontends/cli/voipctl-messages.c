/* voipctl-messages.c — conversations: send, voice-message, history, read,
 * message edit/delete/save.
 *
 * A conversation is a contact or a group: both objects carry the
 * org.voipd.Voip1.Conversation interface, whose typed proxy serves both
 * (see voipctl_get_conversation).
 */
#define G_LOG_DOMAIN "voipctl"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gio/gunixinputstream.h>
#include <glib/gi18n.h>

#include "voipctl.h"

/* "USER ARG…" or "--group ID ARG…": n_rest arguments after the conversation.
 * Returns the conversation, or NULL with *out_status set. */
static VoipDBusConversation *
conversation_from_args (const VoipctlCommand  *cmd,
                        int                    argc,
                        char                 **argv,
                        const char            *group_id,
                        int                    n_rest,
                        char                ***out_rest,
                        int                   *out_status)
{
  int expected = n_rest + (group_id != NULL ? 0 : 1);

  if (argc - 1 != expected)
    {
      if (argc - 1 < expected)
        *out_status = voipctl_usage_error (cmd, _("missing argument; expected %s"), voipctl_params (cmd));
      else
        *out_status = voipctl_usage_error (cmd, _("unexpected argument '%s'"), argv[1 + expected]);
      return NULL;
    }

  *out_rest = argv + 1 + (group_id != NULL ? 0 : 1);
  return voipctl_get_conversation (cmd, group_id != NULL ? NULL : argv[1], group_id, out_status);
}

static char *
read_stdin_text (GError **error)
{
  g_autoptr(GInputStream) in = g_unix_input_stream_new (STDIN_FILENO, FALSE);
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();
  gsize length;
  char *text;

  if (g_output_stream_splice (out, in, G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET, NULL, error) < 0)
    return NULL;

  /* The terminal's or echo's final newline is not part of the message. */
  length = g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (out));
  text = g_malloc (length + 1);
  memcpy (text, g_memory_output_stream_get_data (G_MEMORY_OUTPUT_STREAM (out)), length);
  text[length] = '\0';
  if (length > 0 && text[length - 1] == '\n')
    text[length - 1] = '\0';
  return text;
}

/* What send and voice-message say: the message's id, labelled for people,
 * or {"id": N, "queued": false} with --json for scripts. Id 0 means the
 * daemon is offline and keeps the message in its outbox. */
static void
print_sent (guint64     id,
            const char *username,
            const char *group_id)
{
  unsigned long long printed_id = id;

  if (voipctl_json_wanted ())
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "id");
      json_builder_add_int_value (builder, (gint64) id);
      json_builder_set_member_name (builder, "queued");
      json_builder_add_boolean_value (builder, id == 0);
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      voipctl_print_json (root);
    }
  else if (id == 0 && group_id != NULL)
    g_print (_("Message to group %s queued: voipd sends it once it is back online.\n"), group_id);
  else if (id == 0)
    g_print (_("Message to %s queued: voipd sends it once it is back online.\n"), username);
  else if (group_id != NULL)
    g_print (_("Message %llu sent to group %s.\n"), printed_id, group_id);
  else
    g_print (_("Message %llu sent to %s.\n"), printed_id, username);
}

int
voipctl_cmd_send (const VoipctlCommand *cmd,
                  int                   argc,
                  char                **argv)
{
  g_autofree char *group_id = NULL;
  const GOptionEntry entries[] = {
    { "group", 'g', 0, G_OPTION_ARG_STRING, &group_id, N_("Send to a group"), N_("ID") },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(VoipDBusConversation) conversation = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *stdin_text = NULL;
  const char *text;
  char **rest;
  guint64 id;
  int status;

  if (!voipctl_parse_args (cmd, entries, &argc, &argv, 1, 2))
    return VOIPCTL_EXIT_USAGE;
  conversation = conversation_from_args (cmd, argc, argv, group_id, 1, &rest, &status);
  if (conversation == NULL)
    return status;

  text = rest[0];
  if (strcmp (text, "-") == 0)
    {
      stdin_text = read_stdin_text (&error);
      if (stdin_text == NULL)
        return voipctl_fail (error);
      text = stdin_text;
    }
  if (!g_utf8_validate (text, -1, NULL))
    return voipctl_usage_error (cmd, _("the text is not valid UTF-8"));

  if (!voip_dbus_conversation_call_send_message_sync (conversation, text, &id, NULL, &error))
    return voipctl_fail (error);
  print_sent (id, group_id != NULL ? NULL : argv[1], group_id);
  return VOIPCTL_EXIT_OK;
}

/* ---- Ogg Opus ------------------------------------------------------------- */

static guint64
read_le (const guint8 *p,
         guint         n_bytes)
{
  guint64 value = 0;

  for (guint i = n_bytes; i > 0; i--)
    value = (value << 8) | p[i - 1];
  return value;
}

/* The length of an Ogg Opus stream, from its pages (RFC 3533, RFC 7845):
 * the first page carries OpusHead with the pre-skip; the last page of the
 * stream with a granule position says how many 48 kHz samples were decoded,
 * pre-skip included. So duration = (last granule - pre-skip) / 48000. */
gboolean
voipctl_ogg_opus_duration (const guint8  *data,
                           gsize          length,
                           guint         *out_duration_ms,
                           GError       **error)
{
  guint64 last_granule = 0;
  guint32 serial = 0;
  guint pre_skip = 0;
  gboolean have_granule = FALSE;
  gsize pos = 0;

  while (pos < length)
    {
      const guint8 *page = data + pos;
      gsize n_segments, body_length = 0;
      guint64 granule;
      const guint8 *body;

      if (length - pos < 27 || memcmp (page, "OggS", 4) != 0 || page[4] != 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       pos == 0 ? _("not an Ogg file") : _("corrupt Ogg page at byte %zu"),
                       pos);
          return FALSE;
        }
      n_segments = page[26];
      if (length - pos < 27 + n_segments)
        goto truncated;
      for (gsize i = 0; i < n_segments; i++)
        body_length += page[27 + i];
      if (length - pos < 27 + n_segments + body_length)
        goto truncated;

      granule = read_le (page + 6, 8);
      body = page + 27 + n_segments;

      if (pos == 0)
        {
          /* Beginning of stream, and the first packet is OpusHead. */
          if ((page[5] & 0x02) == 0 || body_length < 19 || memcmp (body, "OpusHead", 8) != 0)
            {
              g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                   _("not an Ogg Opus file (no OpusHead)"));
              return FALSE;
            }
          serial = (guint32) read_le (page + 14, 4);
          pre_skip = (guint) read_le (body + 10, 2);
        }
      else if ((guint32) read_le (page + 14, 4) == serial && granule != G_MAXUINT64)
        {
          last_granule = granule;
          have_granule = TRUE;
        }
      pos += 27 + n_segments + body_length;
    }

  if (!have_granule)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _("the Ogg Opus file has no audio"));
      return FALSE;
    }
  *out_duration_ms = last_granule > pre_skip
                     ? (guint) MIN ((last_granule - pre_skip + 24) / 48, G_MAXUINT)
                     : 0;
  return TRUE;

truncated:
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               _("truncated Ogg page at byte %zu"), pos);
  return FALSE;
}

int
voipctl_cmd_voice_message (const VoipctlCommand *cmd,
                           int                   argc,
                           char                **argv)
{
  g_autofree char *group_id = NULL;
  const GOptionEntry entries[] = {
    { "group", 'g', 0, G_OPTION_ARG_STRING, &group_id, N_("Send to a group"), N_("ID") },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(VoipDBusConversation) conversation = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) file = NULL;
  g_autoptr(GBytes) bytes = NULL;
  const guint8 *data;
  gsize size;
  guint duration_ms;
  char **rest;
  guint64 id;
  int status;

  if (!voipctl_parse_args (cmd, entries, &argc, &argv, 1, 2))
    return VOIPCTL_EXIT_USAGE;
  conversation = conversation_from_args (cmd, argc, argv, group_id, 1, &rest, &status);
  if (conversation == NULL)
    return status;

  file = g_file_new_for_commandline_arg (rest[0]);
  bytes = g_file_load_bytes (file, NULL, NULL, &error);
  if (bytes == NULL)
    return voipctl_fail (error);
  data = g_bytes_get_data (bytes, &size);
  if (!voipctl_ogg_opus_duration (data, size, &duration_ms, &error))
    return voipctl_failf ("%s: %s", rest[0], error->message);

  if (!voip_dbus_conversation_call_send_voice_message_sync (
          conversation, g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, bytes, TRUE),
          duration_ms, &id, NULL, &error))
    return voipctl_fail (error);
  print_sent (id, group_id != NULL ? NULL : argv[1], group_id);
  return VOIPCTL_EXIT_OK;
}

/* ---- history -------------------------------------------------------------- */

int
voipctl_cmd_history (const VoipctlCommand *cmd,
                     int                   argc,
                     char                **argv)
{
  g_autofree char *group_id = NULL;
  g_autofree char *limit_text = NULL;
  g_autofree char *before_text = NULL;
  const GOptionEntry entries[] = {
    { "group", 'g', 0, G_OPTION_ARG_STRING, &group_id, N_("Show a group's conversation"), N_("ID") },
    { "limit", 'n', 0, G_OPTION_ARG_STRING, &limit_text,
      N_("At most N messages, 1 to 500 (default 50)"), N_("N") },
    { "before", 'b', 0, G_OPTION_ARG_STRING, &before_text,
      N_("Only messages older than message ID"), N_("ID") },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(VoipDBusConversation) conversation = NULL;
  g_autoptr(GVariant) messages = NULL;
  g_autoptr(GError) error = NULL;
  guint64 limit = VOIPCTL_HISTORY_LIMIT_DEFAULT;
  guint64 before = 0;
  char **rest;
  int status;

  if (!voipctl_parse_args (cmd, entries, &argc, &argv, 0, 1))
    return VOIPCTL_EXIT_USAGE;
  if (limit_text != NULL &&
      !g_ascii_string_to_unsigned (limit_text, 10, 1, VOIPCTL_HISTORY_LIMIT_MAX, &limit, NULL))
    return voipctl_usage_error (cmd, _("invalid --limit '%s': expected a number from 1 to %d"),
                                limit_text, VOIPCTL_HISTORY_LIMIT_MAX);
  if (before_text != NULL && !voipctl_parse_id (before_text, &before))
    return voipctl_usage_error (cmd, _("invalid --before '%s': expected a message id"), before_text);

  conversation = conversation_from_args (cmd, argc, argv, group_id, 0, &rest, &status);
  if (conversation == NULL)
    return status;

  if (!voip_dbus_conversation_call_get_history_sync (conversation, before, (guint32) limit,
                                                &messages, NULL, &error))
    return voipctl_fail (error);

  if (voipctl_json_wanted ())
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;
      GVariantIter iter;
      GVariant *message;

      json_builder_begin_array (builder);
      g_variant_iter_init (&iter, messages);
      while ((message = g_variant_iter_next_value (&iter)) != NULL)
        {
          voipctl_json_add_message (builder, message);
          g_variant_unref (message);
        }
      json_builder_end_array (builder);
      root = json_builder_get_root (builder);
      voipctl_print_json (root);
    }
  else
    {
      g_autoptr(VoipctlTable) table = voipctl_table_new (_("ID"), _("TIME"), _("SENDER"), _("TEXT"), NULL);
      GVariantIter iter;
      GVariant *message;

      g_variant_iter_init (&iter, messages);
      while ((message = g_variant_iter_next_value (&iter)) != NULL)
        {
          guint64 id;
          gint64 timestamp_ms;
          const char *sender;
          g_autofree char *id_text = NULL;
          g_autofree char *time_text = NULL;
          g_autofree char *body = voipctl_format_message (message);

          g_variant_get (message, "(tx&s&s&s&sbbu)", &id, &timestamp_ms, &sender,
                         NULL, NULL, NULL, NULL, NULL, NULL);
          id_text = id != 0 ? g_strdup_printf ("%" G_GUINT64_FORMAT, id) : g_strdup (_("queued"));
          time_text = voipctl_format_time (timestamp_ms);
          voipctl_table_add_row (table, id_text, time_text, sender, body, NULL);
          g_variant_unref (message);
        }
      voipctl_table_print (table);
    }
  return VOIPCTL_EXIT_OK;
}

int
voipctl_cmd_read (const VoipctlCommand *cmd,
                  int                   argc,
                  char                **argv)
{
  g_autofree char *group_id = NULL;
  const GOptionEntry entries[] = {
    { "group", 'g', 0, G_OPTION_ARG_STRING, &group_id, N_("Mark a group's conversation read"), N_("ID") },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(VoipDBusConversation) conversation = NULL;
  g_autoptr(GError) error = NULL;
  char **rest;
  int status;

  if (!voipctl_parse_args (cmd, entries, &argc, &argv, 0, 1))
    return VOIPCTL_EXIT_USAGE;
  conversation = conversation_from_args (cmd, argc, argv, group_id, 0, &rest, &status);
  if (conversation == NULL)
    return status;

  if (!voip_dbus_conversation_call_mark_read_sync (conversation, NULL, &error))
    return voipctl_fail (error);
  return VOIPCTL_EXIT_OK;
}

/* ---- one message, by id ------------------------------------------------------ */

/* Account.FindMessage names the conversation's object, a contact's or a
 * group's: either way its Conversation interface. */
static VoipDBusConversation *
find_message (const VoipctlCommand *cmd,
              const char           *id_text,
              guint64              *out_id,
              int                  *out_status)
{
  g_autoptr(VoipDBusAccount) account = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  VoipDBusConversation *conversation;

  if (!voipctl_parse_id (id_text, out_id))
    {
      *out_status = voipctl_usage_error (cmd, _("invalid message id '%s': expected a positive integer"),
                                         id_text);
      return NULL;
    }

  account = voipctl_get_account (&error);
  if (account == NULL ||
      !voip_dbus_account_call_find_message_sync (account, *out_id, &path, NULL, &error))
    {
      *out_status = voipctl_fail (error);
      return NULL;
    }

  conversation = voipctl_get_conversation_at (path, &error);
  if (conversation == NULL)
    *out_status = voipctl_fail (error);
  return conversation;
}

int
voipctl_cmd_message_edit (const VoipctlCommand *cmd,
                          int                   argc,
                          char                **argv)
{
  g_autoptr(VoipDBusConversation) conversation = NULL;
  g_autoptr(GError) error = NULL;
  guint64 id;
  int status;

  if (!voipctl_parse_args (cmd, NULL, &argc, &argv, 2, 2))
    return VOIPCTL_EXIT_USAGE;
  if (!g_utf8_validate (argv[2], -1, NULL))
    return voipctl_usage_error (cmd, _("the text is not valid UTF-8"));

  conversation = find_message (cmd, argv[1], &id, &status);
  if (conversation == NULL)
    return status;

  if (!voip_dbus_conversation_call_edit_message_sync (conversation, id, argv[2], NULL, &error))
    return voipctl_fail (error);
  return VOIPCTL_EXIT_OK;
}

int
voipctl_cmd_message_delete (const VoipctlCommand *cmd,
                            int                   argc,
                            char                **argv)
{
  g_autoptr(VoipDBusConversation) conversation = NULL;
  g_autoptr(GError) error = NULL;
  guint64 id;
  int status;

  if (!voipctl_parse_args (cmd, NULL, &argc, &argv, 1, 1))
    return VOIPCTL_EXIT_USAGE;

  conversation = find_message (cmd, argv[1], &id, &status);
  if (conversation == NULL)
    return status;

  if (!voip_dbus_conversation_call_delete_message_sync (conversation, id, NULL, &error))
    return voipctl_fail (error);
  return VOIPCTL_EXIT_OK;
}

/* The audio of a voice message, into FILE or to stdout ("-"). */
int
voipctl_cmd_message_save (const VoipctlCommand *cmd,
                          int                   argc,
                          char                **argv)
{
  g_autoptr(VoipDBusConversation) conversation = NULL;
  g_autoptr(GVariant) audio = NULL;
  g_autoptr(GError) error = NULL;
  guint64 id;
  int status;

  if (!voipctl_parse_args (cmd, NULL, &argc, &argv, 2, 2))
    return VOIPCTL_EXIT_USAGE;

  conversation = find_message (cmd, argv[1], &id, &status);
  if (conversation == NULL)
    return status;

  if (!voip_dbus_conversation_call_get_voice_message_sync (conversation, id, &audio, NULL, &error))
    return voipctl_fail (error);

  if (strcmp (argv[2], "-") == 0)
    {
      if (fwrite (g_variant_get_data (audio), 1, g_variant_get_size (audio), stdout)
          != g_variant_get_size (audio) || fflush (stdout) != 0)
        return voipctl_failf (_("cannot write to standard output: %s"), g_strerror (errno));
    }
  else if (!g_file_set_contents (argv[2], g_variant_get_data (audio),
                                 (gssize) g_variant_get_size (audio), &error))
    return voipctl_fail (error);
  return VOIPCTL_EXIT_OK;
}
