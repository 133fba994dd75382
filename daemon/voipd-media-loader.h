/* voipd-media-loader.h — opens the media engine module (voipd-media.so) at
 * the first call, so that voipd runs without GStreamer and libnice in memory
 * until then. The module stays loaded once opened. */
#pragma once

#include <glib.h>

#include "media/voipd-media.h"

G_BEGIN_DECLS

/* The engine's table, or NULL with VOIPD_ERROR_NO_MEDIA and a message saying which file was tried
 * and why it does not do. Loads the module at the first success and keeps
 * it; a failure is tried again next time (the file may have been fixed). */
const VoipdMediaApi *voipd_media_load (GError **error);

G_END_DECLS
