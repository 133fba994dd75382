/* voip-voice-recorder.c — a voice message from the microphone: GStreamer
 * records SOURCE ! Opus ! Ogg into memory (an appsink) until stopped, or
 * until the API's limits (VOICE_MAX_BYTES, VOICE_MAX_MS) end it. The source
 * is the one voipd's calls use (GSettings org.voipd.Voip1 audio-source), so
 * that the app and calls hear the same microphone. The streaming threads
 * only append to a buffer under a lock; everything else happens on the main
 * context, from the bus watch.
 *
 * Signals: finished (GBytes *ogg_opus, guint duration_ms), failed (GError *). */
#define G_LOG_DOMAIN "voip"

#include <gst/gst.h>
#include <gst/app/gstappsink.h>
#include <glib/gi18n.h>

#include "voip-voice-recorder.h"

/* The D-Bus API's limits on a voice message (SendVoiceMessage). */
#define VOICE_MAX_BYTES (512 * 1024)
#define VOICE_MAX_MS    (10 * 60 * 1000)
#define SETTINGS_SCHEMA "org.voipd.Voip1"

enum {
  SIGNAL_FINISHED,
  SIGNAL_FAILED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

struct _VoipVoiceRecorder
{
  GObject      parent_instance;
  GstElement  *pipeline;
  guint        bus_watch;
  GMutex       lock;
  GByteArray  *data;        /* under lock: the Ogg pages so far */
  gboolean     too_large;   /* under lock */
  gint64       started_us;
  guint        limit_timer;
};

G_DEFINE_FINAL_TYPE (VoipVoiceRecorder, voip_voice_recorder, G_TYPE_OBJECT)

/* ---- helpers ------------------------------------------------------------ */

static char *
audio_source (void)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = source != NULL
    ? g_settings_schema_source_lookup (source, SETTINGS_SCHEMA, TRUE) : NULL;
  g_autoptr(GSettings) settings = NULL;
  g_autofree char *value = NULL;

  if (schema == NULL)
    return g_strdup ("autoaudiosrc");
  settings = g_settings_new (SETTINGS_SCHEMA);
  value = g_settings_get_string (settings, "audio-source");
  return value != NULL && *value != '\0' ? g_steal_pointer (&value) : g_strdup ("autoaudiosrc");
}

static void
teardown (VoipVoiceRecorder *self)
{
  g_clear_handle_id (&self->bus_watch, g_source_remove);
  g_clear_handle_id (&self->limit_timer, g_source_remove);
  if (self->pipeline != NULL)
    gst_element_set_state (self->pipeline, GST_STATE_NULL);
  g_clear_pointer (&self->pipeline, gst_object_unref);
}

/* ---- callbacks ---------------------------------------------------------- */

static gboolean
stop_idle (gpointer user_data)
{
  voip_voice_recorder_stop (user_data);
  return G_SOURCE_REMOVE;
}

/* A streaming thread: keeps the pages, or, past the API's limit, stops the
 * recording (from the main context) and keeps nothing more. */
static GstFlowReturn
on_new_sample (GstAppSink *sink, gpointer user_data)
{
  VoipVoiceRecorder *self = user_data;
  g_autoptr(GstSample) sample = gst_app_sink_pull_sample (sink);
  GstBuffer *buffer = sample != NULL ? gst_sample_get_buffer (sample) : NULL;
  GstMapInfo map;
  gboolean first_overflow = FALSE;

  if (buffer == NULL || !gst_buffer_map (buffer, &map, GST_MAP_READ))
    return GST_FLOW_OK;
  g_mutex_lock (&self->lock);
  if (!self->too_large && self->data->len + map.size > VOICE_MAX_BYTES)
    self->too_large = first_overflow = TRUE;
  if (!self->too_large)
    g_byte_array_append (self->data, map.data, map.size);
  g_mutex_unlock (&self->lock);
  gst_buffer_unmap (buffer, &map);
  if (first_overflow)
    g_idle_add_full (G_PRIORITY_DEFAULT, stop_idle, g_object_ref (self), g_object_unref);
  return GST_FLOW_OK;
}

static gboolean
on_limit_reached (gpointer user_data)
{
  VoipVoiceRecorder *self = user_data;

  self->limit_timer = 0;
  voip_voice_recorder_stop (self);
  return G_SOURCE_REMOVE;
}

static gboolean
on_bus_message (GstBus *bus, GstMessage *message, gpointer user_data)
{
  VoipVoiceRecorder *self = user_data;

  if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_ERROR)
    {
      g_autoptr(GError) gst_error = NULL;
      g_autoptr(GError) error = NULL;

      gst_message_parse_error (message, &gst_error, NULL);
      error = g_error_new (G_IO_ERROR, G_IO_ERROR_FAILED, _("Cannot record: %s"), gst_error->message);
      self->bus_watch = 0;
      teardown (self);
      g_signal_emit (self, signals[SIGNAL_FAILED], 0, error);
      return G_SOURCE_REMOVE;
    }
  if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_EOS)
    {
      g_autoptr(GBytes) bytes = NULL;
      gboolean too_large;
      guint duration_ms = (guint) MIN ((g_get_monotonic_time () - self->started_us) / 1000,
                                       VOICE_MAX_MS);

      self->bus_watch = 0;
      teardown (self);
      g_mutex_lock (&self->lock);
      bytes = g_byte_array_free_to_bytes (g_steal_pointer (&self->data));
      self->data = g_byte_array_new ();
      too_large = self->too_large;
      g_mutex_unlock (&self->lock);
      if (too_large)
        {
          g_autoptr(GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                                                         _("The voice message is too long"));

          g_signal_emit (self, signals[SIGNAL_FAILED], 0, error);
        }
      else
        g_signal_emit (self, signals[SIGNAL_FINISHED], 0, bytes, duration_ms);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

/* ---- GObject ------------------------------------------------------------ */

static void
voip_voice_recorder_dispose (GObject *object)
{
  teardown (VOIP_VOICE_RECORDER (object));
  G_OBJECT_CLASS (voip_voice_recorder_parent_class)->dispose (object);
}

static void
voip_voice_recorder_finalize (GObject *object)
{
  VoipVoiceRecorder *self = VOIP_VOICE_RECORDER (object);

  g_byte_array_unref (self->data);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (voip_voice_recorder_parent_class)->finalize (object);
}

static void
voip_voice_recorder_class_init (VoipVoiceRecorderClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = voip_voice_recorder_dispose;
  object_class->finalize = voip_voice_recorder_finalize;
  signals[SIGNAL_FINISHED] =
    g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_BYTES, G_TYPE_UINT);
  signals[SIGNAL_FAILED] =
    g_signal_new ("failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_ERROR);
}

static void
voip_voice_recorder_init (VoipVoiceRecorder *self)
{
  g_mutex_init (&self->lock);
  self->data = g_byte_array_new ();
}

VoipVoiceRecorder *
voip_voice_recorder_new (void)
{
  return g_object_new (VOIP_TYPE_VOICE_RECORDER, NULL);
}

/* ---- public ------------------------------------------------------------- */

gboolean
voip_voice_recorder_start (VoipVoiceRecorder *self, GError **error)
{
  g_autofree char *source = audio_source ();
  g_autofree char *description = NULL;
  g_autoptr(GError) parse_error = NULL;
  g_autoptr(GstElement) sink = NULL;
  g_autoptr(GstBus) bus = NULL;

  g_return_val_if_fail (VOIP_IS_VOICE_RECORDER (self), FALSE);
  g_return_val_if_fail (self->pipeline == NULL, FALSE);
  if (!gst_is_initialized ())
    gst_init (NULL, NULL);
  description = g_strdup_printf ("%s ! audioconvert ! audioresample ! audio/x-raw,rate=48000,channels=1 "
                                 "! opusenc ! oggmux ! appsink name=sink sync=false emit-signals=true",
                                 source);
  self->pipeline = gst_parse_launch (description, &parse_error);
  if (self->pipeline == NULL || parse_error != NULL)
    {
      g_clear_pointer (&self->pipeline, gst_object_unref);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Cannot record: %s"),
                   parse_error != NULL ? parse_error->message : source);
      return FALSE;
    }
  g_mutex_lock (&self->lock);
  g_byte_array_set_size (self->data, 0);
  self->too_large = FALSE;
  g_mutex_unlock (&self->lock);
  sink = gst_bin_get_by_name (GST_BIN (self->pipeline), "sink");
  g_signal_connect (sink, "new-sample", G_CALLBACK (on_new_sample), self);
  bus = gst_element_get_bus (self->pipeline);
  self->bus_watch = gst_bus_add_watch (bus, on_bus_message, self);
  self->started_us = g_get_monotonic_time ();
  self->limit_timer = g_timeout_add (VOICE_MAX_MS, on_limit_reached, self);
  if (gst_element_set_state (self->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    {
      teardown (self);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Cannot record: %s"), source);
      return FALSE;
    }
  return TRUE;
}

gboolean
voip_voice_recorder_is_recording (VoipVoiceRecorder *self)
{
  return self->pipeline != NULL;
}

void
voip_voice_recorder_stop (VoipVoiceRecorder *self)
{
  g_return_if_fail (VOIP_IS_VOICE_RECORDER (self));
  /* The end of stream flows through the encoder and the muxer, which
   * finish the Ogg file; the bus then says EOS. */
  if (self->pipeline != NULL)
    gst_element_send_event (self->pipeline, gst_event_new_eos ());
}
