/* media-prepare.c — loads GStreamer and the plugins of a call while it rings.
 *
 * gst_init reads (or, on a first run, rebuilds) the plugin registry, and each
 * plugin is dlopen'ed at its first use: together from tens of milliseconds to
 * a second, which would otherwise sit between "answer" and the first audio.
 * A thread of its own does it; gst_init_check serialises a concurrent
 * call_new behind it, so nothing waits longer than it would have anyway. */
#define G_LOG_DOMAIN "voipd-media"

#include "media-prepare.h"

#include <gst/gst.h>

/* Every element a call may build, whatever the source and sink settings. */
static const char *const call_elements[] = {
  "audioconvert", "audioresample", "volume", "webrtcdsp", "webrtcechoprobe", "opusenc",
  "rtpopuspay", "tee", "queue", "capsfilter", "rtpbin", "srtpenc", "srtpdec", "appsrc",
  "appsink", "rtpopusdepay", "opusdec", "audiomixer", "autoaudiosrc", "autoaudiosink",
};

static gpointer
load_plugins (gpointer data)
{
  gint64 start = g_get_monotonic_time ();

  if (!gst_init_check (NULL, NULL, NULL))
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS (call_elements); i++)
    {
      GstElementFactory *factory = gst_element_factory_find (call_elements[i]);
      GstPluginFeature *loaded;

      if (factory == NULL)
        continue;  /* call_new reports a missing element with its name */
      loaded = gst_plugin_feature_load (GST_PLUGIN_FEATURE (factory));
      g_clear_object (&loaded);
      gst_object_unref (factory);
    }
  g_debug ("GStreamer and the call plugins loaded in %" G_GINT64_FORMAT " ms",
           (g_get_monotonic_time () - start) / 1000);
  return NULL;
}

void
media_prepare (void)
{
  static gsize started = 0;

  if (g_once_init_enter (&started))
    {
      g_thread_unref (g_thread_new ("media-prepare", load_plugins, NULL));
      g_once_init_leave (&started, 1);
    }
}
