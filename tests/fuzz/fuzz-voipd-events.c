/* fuzz-voipd-events.c — voipd's handling of whatever a server sends.
 *
 * The input is the byte stream of a server on voipd's connection. It goes
 * through the frame reader and voip_payload_decode() as voipd-connection.c
 * does (read by read; a broken stream ends the connection, a bad frame is
 * dropped), and every event that decodes is delivered to a real
 * VoipdAccount through its connection's "event" signal, as handle_frame()
 * emits it: the handlers of voipd-account.c, -contacts.c, -groups.c,
 * -conversation.c and -calls.c run with their cache writes and their D-Bus
 * objects. An error reply gets the detail and the bus error name voipd
 * would answer a D-Bus caller with.
 *
 * No bus is involved. The account's GDBusConnection runs over an in-memory
 * stream and is closed from the start: objects are exported, and properties
 * and signals change as they would on a bus, but nothing goes anywhere.
 * Each input gets a new account over an emptied cache, so that an input
 * means the same whatever ran before it, and the media engine is not
 * found (calls then fail as on a system without it), so that no GStreamer
 * thread makes runs differ.
 */
#define G_SETTINGS_ENABLE_BACKEND
#include <gio/gio.h>
#include <gio/gsettingsbackend.h>
#include <glib/gstdio.h>

#include "fuzz.h"
#include "voip-proto.h"
#include "voipd-account.h"
#include "voipd-cache.h"
#include "voipd-connection.h"
#include "voipd-errors.h"
#include "voipd-event-check.h"

/* What voipd-connection.c reads at a time. */
#define READ_CHUNK 16384

static GDBusConnection *bus;
static VoipdCache *cache;
static GSettings *settings;

static void
drain_main_context (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static GDBusConnection *
closed_bus_new (void)
{
  g_autoptr(GInputStream) input = g_memory_input_stream_new ();
  g_autoptr(GOutputStream) output = g_memory_output_stream_new_resizable ();
  g_autoptr(GIOStream) stream = g_simple_io_stream_new (input, output);
  g_autoptr(GError) error = NULL;
  GDBusConnection *connection;

  connection = g_dbus_connection_new_sync (stream, NULL, G_DBUS_CONNECTION_FLAGS_NONE, NULL,
                                           NULL, &error);
  g_assert_no_error (error);
  g_dbus_connection_close_sync (connection, NULL, NULL);
  return connection;
}

static GSettings *
memory_settings_new (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSettingsSchemaSource) source = NULL;
  g_autoptr(GSettingsSchema) schema = NULL;
  g_autoptr(GSettingsBackend) backend = g_memory_settings_backend_new ();

  source = g_settings_schema_source_new_from_directory (FUZZ_SCHEMA_DIR, NULL, TRUE, &error);
  g_assert_no_error (error);
  schema = g_settings_schema_source_lookup (source, "org.voipd.Voip1", FALSE);
  g_assert (schema != NULL);
  return g_settings_new_full (schema, backend, NULL);
}

static char *cache_dir;

static void
remove_cache (void)
{
  static const char *const names[] = { "cache.db", "cache.db-wal", "cache.db-shm" };

  g_clear_object (&cache);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (cache_dir, names[i], NULL);

      g_unlink (path);
    }
  g_rmdir (cache_dir);
}

static void
fuzz_setup (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  if (bus != NULL)
    return;
  fuzz_init ();
  g_setenv ("VOIPD_MEDIA_MODULE", "/nonexistent/voipd-media.so", TRUE);
  voipd_errors_register ();

  /* The cache syncs every write (synchronous=FULL): on tmpfs that costs
   * nothing, on a disk it would set the pace of the whole run. */
  if (g_file_test ("/dev/shm", G_FILE_TEST_IS_DIR))
    cache_dir = g_mkdtemp (g_strdup ("/dev/shm/voip-fuzz-voipd-XXXXXX"));
  if (cache_dir == NULL)
    cache_dir = g_dir_make_tmp ("voip-fuzz-voipd-XXXXXX", &error);
  g_assert_no_error (error);
  g_assert (cache_dir != NULL);
  path = g_build_filename (cache_dir, "cache.db", NULL);
  cache = voipd_cache_open (path, &error);
  g_assert_no_error (error);
  atexit (remove_cache);

  bus = closed_bus_new ();
  settings = memory_settings_new ();
}

/* An error reply as voipd answers the D-Bus call that caused it. */
static void
handle_error_reply (const VoipHeader *header, GVariant *value)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *name = NULL;
  const char *detail;

  g_variant_get (value, "(&s)", &detail);
  error = g_error_new (VOIP_ERROR, header->status, "%s",
                       *detail ? detail : voip_status_message (header->status));
  name = g_dbus_error_encode_gerror (error);
  g_assert (g_dbus_is_error_name (name));
}

static void
handle_frame (VoipdConnection *connection, const VoipHeader *header, GBytes *payload)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) value = voip_payload_decode (header, payload, &error);

  if (value == NULL)
    return;
  /* As the connection does: an event whose fields break the rules is
   * dropped before any handler sees it. */
  if (header->kind == VOIP_KIND_EVENT)
    {
      if (voipd_event_check (header->code, value, NULL))
        g_signal_emit_by_name (connection, "event", (guint) header->code, value);
    }
  else if (header->kind == VOIP_KIND_REPLY && header->status != VOIP_STATUS_OK)
    handle_error_reply (header, value);
  drain_main_context ();
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(VoipdAccount) account = NULL;
  g_autoptr(VoipFrameReader) reader = voip_frame_reader_new ();
  VoipdConnection *connection;

  fuzz_setup ();
  if (!voipd_cache_reset (cache, &error))
    g_error ("%s", error->message);
  account = voipd_account_new (bus, cache, settings, &error);
  g_assert_no_error (error);
  connection = voipd_account_get_connection (account);

  for (gsize offset = 0; offset < size && error == NULL; offset += READ_CHUNK)
    {
      VoipHeader header;
      GBytes *payload;

      voip_frame_reader_feed (reader, data + offset, MIN (size - offset, READ_CHUNK));
      while (voip_frame_reader_next (reader, &header, &payload, &error))
        {
          handle_frame (connection, &header, payload);
          g_bytes_unref (payload);
        }
    }

  /* As voipd does at exit: the cache's pending results hold the account,
   * so deliver them before dropping it (else the next input's account finds
   * the object path still exported). */
  voipd_cache_flush (cache);
  g_clear_object (&account);
  drain_main_context ();
  return 0;
}
