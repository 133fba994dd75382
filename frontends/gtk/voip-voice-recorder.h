/* voip-voice-recorder.h — recording a voice message from the microphone. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define VOIP_TYPE_VOICE_RECORDER (voip_voice_recorder_get_type ())
G_DECLARE_FINAL_TYPE (VoipVoiceRecorder, voip_voice_recorder, VOIP, VOICE_RECORDER, GObject)

VoipVoiceRecorder *voip_voice_recorder_new    (void);
/* Starts recording from the microphone voipd's calls use (its GSettings key
 * audio-source). */
gboolean           voip_voice_recorder_start  (VoipVoiceRecorder *self, GError **error);
gboolean           voip_voice_recorder_is_recording (VoipVoiceRecorder *self);
/* Stops; "finished" (GBytes *ogg_opus, guint duration_ms) or "failed"
 * (GError *) follows on the main context. */
void               voip_voice_recorder_stop   (VoipVoiceRecorder *self);

G_END_DECLS
