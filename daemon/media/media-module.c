/* media-module.c — the one symbol voipd-media.so exports: the API table. */
#define G_LOG_DOMAIN "voipd-media"

#include "media-call.h"
#include "media-prepare.h"

#include <gmodule.h>

static const VoipdMediaApi api = {
  .version = VOIPD_MEDIA_API_VERSION,
  .call_new = media_call_new,
  .add_peer = media_call_add_peer,
  .remove_peer = media_call_remove_peer,
  .signal_in = media_call_signal_in,
  .relay_in = media_call_relay_in,
  .set_muted = media_call_set_muted,
  .get_stats = media_call_get_stats,
  .call_free = media_call_free,
  .prepare = media_prepare,
};

G_MODULE_EXPORT const VoipdMediaApi *voipd_media_get_api (void);

const VoipdMediaApi *
voipd_media_get_api (void)
{
  return &api;
}
