/* speech-score.h — an objective measure of speech through a call: STOI,
 * short-time objective intelligibility (C. H. Taal, R. C. Hendriks,
 * R. Heusdens, J. Jensen, "An Algorithm for Intelligibility Prediction of
 * Time-Frequency Weighted Noisy Speech", IEEE TASLP 19(7), 2011), after the
 * degraded signal is aligned to the reference by cross-correlation. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SPEECH_SCORE_ERROR (speech_score_error_quark ())
GQuark speech_score_error_quark (void);

typedef enum {
  SPEECH_SCORE_ERROR_FORMAT,     /* not a WAV file this reads */
  SPEECH_SCORE_ERROR_TOO_SHORT,  /* less than one 384 ms segment of speech overlaps */
} SpeechScoreError;

typedef struct {
  double *samples;   /* mono (channels averaged), full scale ±1 */
  gsize   n;
  guint   rate;
} SpeechAudio;

void     speech_audio_clear (SpeechAudio *audio);

/* PCM S16LE, S32LE and float F32LE WAV files, any rate and channel count.
 * The header's sizes are not trusted: a file sink stopped short leaves them
 * 0 or wrong, so the data runs to the end of the file. */
gboolean speech_audio_read_wav (const char   *path,
                                SpeechAudio  *audio,
                                GError      **error);

typedef struct {
  double stoi;         /* 0 (unintelligible) to 1 (the reference itself) */
  double delay_ms;     /* how much later the degraded signal starts (negative: earlier) */
  double overlap_ms;   /* how much of the two overlaps once aligned */
} SpeechScore;

/* Aligns `degraded` to `reference` and computes STOI over their overlap. */
gboolean speech_score (const SpeechAudio  *reference,
                       const SpeechAudio  *degraded,
                       SpeechScore        *score,
                       GError            **error);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SpeechAudio, speech_audio_clear)

G_END_DECLS
