/* speech-score — how intelligible the speech in DEG.wav is, against REF.wav.
 *
 *   speech-score REF.wav DEG.wav
 *
 * prints one line: stoi=… delay_ms=… overlap_ms=… (see speech-score.h).
 * DEG.wav may start earlier or later than REF.wav (a call's recording starts
 * when the call does); the two are aligned by cross-correlation first. */
#include <locale.h>
#include <stdio.h>

#include "speech-score.h"

int
main (int argc, char **argv)
{
  g_auto(SpeechAudio) reference = { 0 };
  g_auto(SpeechAudio) degraded = { 0 };
  g_autoptr(GError) error = NULL;
  SpeechScore score;

  setlocale (LC_ALL, "C");   /* a decimal point for the tests that parse this */
  if (argc != 3)
    {
      fprintf (stderr, "usage: %s REF.wav DEG.wav\n", argv[0]);
      return 2;
    }
  if (!speech_audio_read_wav (argv[1], &reference, &error)
      || !speech_audio_read_wav (argv[2], &degraded, &error)
      || !speech_score (&reference, &degraded, &score, &error))
    {
      fprintf (stderr, "speech-score: %s\n", error->message);
      return 1;
    }
  printf ("stoi=%.4f delay_ms=%.1f overlap_ms=%.0f\n", score.stoi, score.delay_ms,
          score.overlap_ms);
  return 0;
}
