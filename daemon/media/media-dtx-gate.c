/* media-dtx-gate.c — Opus DTX only while the input is really quiet.
 *
 * With DTX on, Opus's voice activity detector decides what is silence, and
 * it takes any stationary sound for background noise: a steady tone, a hum,
 * music held on one chord stop reaching the far end after a second or two
 * (the demo's 440 Hz tone arrived as nothing at all). So DTX stays off while
 * there is sound, and a probe on the encoder's input switches it on only
 * after DTX_GATE_HOLD of input below DTX_GATE_LEVEL (a muted microphone, a
 * quiet room after noise suppression), and off again with the first louder
 * buffer, before the encoder sees it. opusenc applies "dtx" while playing
 * (GST_PARAM_MUTABLE_PLAYING); the probe runs on the encoder's streaming
 * thread before its chain function, outside the encoder's property lock.
 */
#include "media-dtx-gate.h"

#include <math.h>
#include <string.h>

/* RMS of a buffer, in dBFS, below which it counts as quiet: far under
 * speech (-35 to -15 dBFS), near a good microphone's noise floor. */
#define DTX_GATE_LEVEL_DB (-55.0)
/* How long the input must stay quiet before DTX: a pause between words is
 * not silence, and switching on and off costs the receiver's comfort-noise
 * estimate nothing but gains nothing either. */
#define DTX_GATE_HOLD (300 * GST_MSECOND)

typedef struct {
  GstElement *encoder;     /* not a reference: the probe lives on its pad */
  GstClockTime quiet;      /* how long the input has been quiet so far */
  gboolean dtx;
} DtxGate;

/* S16LE (RAW_CAPS of media-pipeline.c). */
static double
buffer_level_db (GstBuffer *buffer)
{
  GstMapInfo map;
  double sum = 0;
  gsize samples;

  if (!gst_buffer_map (buffer, &map, GST_MAP_READ))
    return 0;
  samples = map.size / sizeof (gint16);
  for (gsize i = 0; i < samples; i++)
    {
      gint16 sample;

      memcpy (&sample, map.data + i * sizeof sample, sizeof sample);
      sum += (double) sample * sample;
    }
  gst_buffer_unmap (buffer, &map);
  if (samples == 0 || sum == 0)
    return -INFINITY;
  return 10 * log10 (sum / samples / (32768.0 * 32768.0));
}

static GstPadProbeReturn
on_encoder_input (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  DtxGate *gate = data;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  gboolean quiet = buffer_level_db (buffer) < DTX_GATE_LEVEL_DB;
  GstClockTime duration = GST_BUFFER_DURATION (buffer);

  if (!quiet)
    gate->quiet = 0;
  else if (GST_CLOCK_TIME_IS_VALID (duration))
    gate->quiet += duration;

  if (gate->dtx != (quiet && gate->quiet >= DTX_GATE_HOLD))
    {
      gate->dtx = !gate->dtx;
      g_object_set (gate->encoder, "dtx", gate->dtx, NULL);
    }
  return GST_PAD_PROBE_OK;
}

void
media_dtx_gate_attach (GstElement *encoder)
{
  g_autoptr(GstPad) sink = gst_element_get_static_pad (encoder, "sink");
  DtxGate *gate = g_new0 (DtxGate, 1);

  gate->encoder = encoder;
  g_object_set (encoder, "dtx", FALSE, NULL);
  gst_pad_add_probe (sink, GST_PAD_PROBE_TYPE_BUFFER, on_encoder_input, gate, g_free);
}
