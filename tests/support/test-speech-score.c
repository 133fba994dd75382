/* test-speech-score.c — the speech score (STOI after alignment) on speech
 * that espeak-ng says: the speech itself scores ~1, noise low, speech in
 * noise in between and lower as the noise grows, a delayed and resampled
 * copy is aligned and scores ~1, and bad input is an error. */
#include <float.h>
#include <math.h>
#include <string.h>
#include <glib/gstdio.h>

#include "speech-score.h"

#define SPEECH_TEXT "The quick brown fox jumps over the lazy dog. " \
                    "A call should sound like the person at the other end, " \
                    "even when the network loses a packet now and then."

typedef struct {
  char        *dir;
  SpeechAudio  speech;   /* espeak-ng's, at its own rate (22050 Hz) */
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *espeak = g_find_program_in_path ("espeak-ng");
  g_autofree char *wav = NULL;
  int status = 0;

  if (espeak == NULL)
    {
      g_test_skip ("espeak-ng is not installed (.ci/packages)");
      return;
    }
  f->dir = g_dir_make_tmp ("speech-score-XXXXXX", &error);
  g_assert_no_error (error);
  wav = g_build_filename (f->dir, "speech.wav", NULL);
  {
    const char *argv[] = { espeak, "-w", wav, SPEECH_TEXT, NULL };

    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL,
                  &status, &error);
    g_assert_no_error (error);
    g_spawn_check_wait_status (status, &error);
    g_assert_no_error (error);
  }
  speech_audio_read_wav (wav, &f->speech, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (f->speech.n, >, f->speech.rate * 3);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  speech_audio_clear (&f->speech);
  if (f->dir != NULL)
    {
      g_autofree char *wav = g_build_filename (f->dir, "speech.wav", NULL);

      g_unlink (wav);
      g_rmdir (f->dir);
      g_free (f->dir);
    }
}

static double
rms (const SpeechAudio *audio)
{
  double sum = 0;

  for (gsize i = 0; i < audio->n; i++)
    sum += audio->samples[i] * audio->samples[i];
  return sqrt (sum / MAX (audio->n, 1));
}

/* Gaussian noise at `level` RMS (Box–Muller; a fixed seed per call site). */
static double
gaussian (GRand *rand)
{
  double u = g_rand_double_range (rand, DBL_MIN, 1), v = g_rand_double (rand);

  return sqrt (-2 * log (u)) * cos (2 * G_PI * v);
}

/* speech + noise at `snr_db` (speech_gain 0: the noise alone). */
static void
noisy_copy (const SpeechAudio *speech, double speech_gain, double snr_db, SpeechAudio *out)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (12);
  double level = rms (speech) * pow (10, -snr_db / 20);

  out->rate = speech->rate;
  out->n = speech->n;
  out->samples = g_new (double, speech->n);
  for (gsize i = 0; i < speech->n; i++)
    out->samples[i] = speech_gain * speech->samples[i] + level * gaussian (rand);
}

static double
score_of (const SpeechAudio *reference, const SpeechAudio *degraded, SpeechScore *score)
{
  g_autoptr(GError) error = NULL;

  speech_score (reference, degraded, score, &error);
  g_assert_no_error (error);
  return score->stoi;
}

static void
test_identical (Fixture *f, gconstpointer data)
{
  SpeechScore score;

  if (f->dir == NULL)
    return;
  g_assert_cmpfloat (score_of (&f->speech, &f->speech, &score), >, 0.999);
  g_assert_cmpfloat (score.delay_ms, ==, 0);
}

static void
test_noise (Fixture *f, gconstpointer data)
{
  g_auto(SpeechAudio) noise = { 0 };
  SpeechScore score;

  if (f->dir == NULL)
    return;
  /* Not 0: where the speech envelope dips, the clipping (β) makes even
   * uncorrelated noise follow it a little. */
  noisy_copy (&f->speech, 0, 0, &noise);
  g_assert_cmpfloat (score_of (&f->speech, &noise, &score), <, 0.5);
}

/* Intelligibility falls as the noise rises, as the paper's Figure 3. */
static void
test_speech_in_noise (Fixture *f, gconstpointer data)
{
  const double snrs[] = { 20, 5, -5 };
  double previous = 1.0, noise_only;
  g_auto(SpeechAudio) noise = { 0 };
  SpeechScore score;

  if (f->dir == NULL)
    return;
  noisy_copy (&f->speech, 0, 0, &noise);
  noise_only = score_of (&f->speech, &noise, &score);
  for (guint i = 0; i < G_N_ELEMENTS (snrs); i++)
    {
      g_auto(SpeechAudio) noisy = { 0 };
      double stoi;

      noisy_copy (&f->speech, 1, snrs[i], &noisy);
      stoi = score_of (&f->speech, &noisy, &score);
      g_test_message ("SNR %.0f dB: stoi %.3f", snrs[i], stoi);
      g_assert_cmpfloat (stoi, <, previous);
      g_assert_cmpfloat (stoi, >, noise_only);
      previous = stoi;
    }
}

/* What a call records: silence first, then the speech at 48 kHz and half
 * the level, and more silence; and the other way round, a recording that
 * starts in the middle of the speech. */
static void
test_delayed (Fixture *f, gconstpointer data)
{
  const double delay_s = 0.8765;
  g_auto(SpeechAudio) late = { 0 };
  g_auto(SpeechAudio) cut = { 0 };
  double ratio = 48000.0 / f->speech.rate;
  gsize lead = (gsize) (delay_s * 48000);
  SpeechScore score;

  if (f->dir == NULL)
    return;
  late.rate = 48000;
  late.n = lead + (gsize) (f->speech.n * ratio) + 48000;
  late.samples = g_new0 (double, late.n);
  for (gsize i = 0; i + 1 < (gsize) (f->speech.n * ratio); i++)
    {
      /* linear interpolation: the scorer's own resampler is what is tested */
      double t = i / ratio, frac = t - floor (t);
      gsize k = (gsize) t;

      late.samples[lead + i] = 0.5 * (f->speech.samples[k] * (1 - frac)
                                      + f->speech.samples[MIN (k + 1, f->speech.n - 1)] * frac);
    }
  g_assert_cmpfloat (score_of (&f->speech, &late, &score), >, 0.95);
  g_assert_cmpfloat_with_epsilon (score.delay_ms, delay_s * 1000, 1.0);

  cut.rate = f->speech.rate;
  cut.n = f->speech.n / 2;
  cut.samples = g_memdup2 (f->speech.samples + f->speech.n / 2, cut.n * sizeof (double));
  g_assert_cmpfloat (score_of (&f->speech, &cut, &score), >, 0.99);
  g_assert_cmpfloat_with_epsilon (score.delay_ms,
                                  -(double) (f->speech.n / 2) * 1000 / f->speech.rate, 1.0);
}

static void
test_bad_input (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("speech-score-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "bad.wav", NULL);
  g_auto(SpeechAudio) audio = { 0 };
  double short_samples[100] = { 0 };
  SpeechAudio tiny = { short_samples, G_N_ELEMENTS (short_samples), 16000 };
  SpeechScore score = { -1, 0, 0 };

  g_file_set_contents (path, "RIFF\0\0\0\0WAVEjunk", 16, &error);
  g_assert_no_error (error);
  g_assert_false (speech_audio_read_wav (path, &audio, &error));
  g_assert_error (error, SPEECH_SCORE_ERROR, SPEECH_SCORE_ERROR_FORMAT);
  g_clear_error (&error);
  g_file_set_contents (path, "not a wave file at all", -1, &error);
  g_assert_no_error (error);
  g_assert_false (speech_audio_read_wav (path, &audio, &error));
  g_assert_error (error, SPEECH_SCORE_ERROR, SPEECH_SCORE_ERROR_FORMAT);
  g_clear_error (&error);
  g_assert_null (audio.samples);

  g_assert_false (speech_score (&tiny, &tiny, &score, &error));
  g_assert_error (error, SPEECH_SCORE_ERROR, SPEECH_SCORE_ERROR_TOO_SHORT);
  g_assert_cmpfloat (score.stoi, ==, -1);
  g_unlink (path);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/speech-score/identical", Fixture, NULL, fixture_setup, test_identical,
              fixture_teardown);
  g_test_add ("/speech-score/noise", Fixture, NULL, fixture_setup, test_noise, fixture_teardown);
  g_test_add ("/speech-score/speech-in-noise", Fixture, NULL, fixture_setup,
              test_speech_in_noise, fixture_teardown);
  g_test_add ("/speech-score/delayed", Fixture, NULL, fixture_setup, test_delayed,
              fixture_teardown);
  g_test_add_func ("/speech-score/bad-input", test_bad_input);
  return g_test_run ();
}
