/* tone-analyze — what a WAV file contains, for the call tests.
 *
 *   tone-analyze FILE.wav [--skip-ms N] [--freq F ...]
 *
 * prints one line: duration_ms=… analysed_ms=… rms=… dominant_hz=… and, per
 * --freq F, power_F=<fraction of the power within ±10 Hz of F>. PCM S16LE and
 * float F32LE, any rate and channel count (averaged to mono). The header's
 * sizes are not trusted: a file sink stopped short leaves them 0 or wrong, so
 * the data runs to the end of the file.
 */
#include <glib.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define BAND_HZ 10.0          /* --freq F counts F ± BAND_HZ */
#define MIN_HZ 50.0
#define MAX_HZ 4000.0
#define MAX_BLOCKS 8          /* enough for a steady tone; keeps it fast */

typedef struct {
  double *samples;            /* mono, full scale ±1 */
  gsize n;
  guint rate;
} Audio;

static guint16 le16 (const guint8 *p) { return p[0] | p[1] << 8; }
static guint32 le32 (const guint8 *p) { return p[0] | p[1] << 8 | p[2] << 16 | (guint32) p[3] << 24; }

static gboolean
read_wav (const char *path, Audio *audio, GError **error)
{
  g_autofree guint8 *data = NULL;
  gsize size = 0, offset = 12;
  guint format = 0, channels = 0, bits = 0;

  if (!g_file_get_contents (path, (char **) &data, &size, error))
    return FALSE;
  if (size < 12 || memcmp (data, "RIFF", 4) != 0 || memcmp (data + 8, "WAVE", 4) != 0)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s is not a RIFF WAVE file", path);
      return FALSE;
    }

  while (offset + 8 <= size)
    {
      const guint8 *chunk = data + offset;
      gsize chunk_size = le32 (chunk + 4), available = size - offset - 8;

      if (memcmp (chunk, "fmt ", 4) == 0 && available >= 16)
        {
          format = le16 (chunk + 8);
          channels = le16 (chunk + 10);
          audio->rate = le32 (chunk + 12);
          bits = le16 (chunk + 22);
          if (format == 0xFFFE && available >= 26)  /* WAVE_FORMAT_EXTENSIBLE */
            format = le16 (chunk + 32);
        }
      else if (memcmp (chunk, "data", 4) == 0)
        {
          const guint8 *pcm = chunk + 8;
          gsize frame, frames;

          if (chunk_size == 0 || chunk_size > available)
            chunk_size = available;  /* cut short: trust the file length */
          if (channels == 0 || audio->rate == 0
              || !((format == 1 && bits == 16) || (format == 3 && bits == 32)))
            {
              g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                           "%s: only S16LE and F32LE PCM are supported", path);
              return FALSE;
            }
          frame = channels * bits / 8;
          frames = chunk_size / frame;
          audio->samples = g_new0 (double, MAX (frames, 1));
          audio->n = frames;
          for (gsize i = 0; i < frames; i++)
            {
              double sum = 0;

              for (guint c = 0; c < channels; c++)
                {
                  const guint8 *s = pcm + i * frame + c * bits / 8;

                  if (bits == 16)
                    sum += (gint16) le16 (s) / 32768.0;
                  else
                    {
                      guint32 word = le32 (s);
                      float value;

                      memcpy (&value, &word, sizeof value);
                      sum += value;
                    }
                }
              audio->samples[i] = sum / channels;
            }
          return TRUE;
        }
      offset += 8 + chunk_size + (chunk_size & 1);
    }
  g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s has no data chunk", path);
  return FALSE;
}

/* |X(freq)|² of the Hann-windowed block, by Goertzel's recurrence. */
static double
goertzel (const double *x, gsize n, const double *window, double freq, guint rate)
{
  double coeff = 2 * cos (2 * G_PI * freq / rate), s1 = 0, s2 = 0;

  for (gsize i = 0; i < n; i++)
    {
      double s0 = x[i] * window[i] + coeff * s1 - s2;

      s2 = s1;
      s1 = s0;
    }
  return s1 * s1 + s2 * s2 - coeff * s1 * s2;
}

static double *
hann (gsize n)
{
  double *w = g_new (double, n);

  for (gsize i = 0; i < n; i++)
    w[i] = n > 1 ? 0.5 - 0.5 * cos (2 * G_PI * i / (n - 1)) : 1;
  return w;
}

/* Sum of the power at freq over up to MAX_BLOCKS blocks spread over x. */
static double
block_power (const double *x, gsize n, gsize block, const double *window, double freq,
             guint rate)
{
  gsize blocks = MIN (n / block, MAX_BLOCKS), stride;
  double sum = 0;

  if (blocks == 0)
    return 0;
  stride = blocks > 1 ? (n - block) / (blocks - 1) : 0;
  for (gsize b = 0; b < blocks; b++)
    sum += goertzel (x + b * stride, block, window, freq, rate);
  return sum;
}

/* Coarse on short blocks (wide peaks, 1 Hz steps), then fine on 1 s blocks. */
static double
dominant_frequency (const double *x, gsize n, guint rate)
{
  gsize coarse_block = MIN (n, rate / 4), fine_block = MIN (n, rate);
  g_autofree double *coarse_window = hann (coarse_block);
  g_autofree double *fine_window = hann (fine_block);
  double best = 0, best_power = 0, fine = 0, fine_power = 0;

  for (double f = MIN_HZ; f <= MIN (MAX_HZ, rate / 2.0); f += 1)
    {
      double p = block_power (x, n, coarse_block, coarse_window, f, rate);

      if (p > best_power)
        best_power = p, best = f;
    }
  if (best == 0)
    return 0;
  for (double f = best - 4; f <= best + 4; f += 0.05)
    {
      double p = block_power (x, n, fine_block, fine_window, f, rate);

      if (p > fine_power)
        fine_power = p, fine = f;
    }
  return fine;
}

/* Fraction of the power within ±BAND_HZ of freq, over 1 s blocks: with
 * N = rate the DFT bins are 1 Hz apart, and by Parseval the bins of a real
 * signal sum (both halves) to N · Σ(w·x)². */
static double
band_fraction (const double *x, gsize n, guint rate, double freq)
{
  gsize block = MIN (n, rate), blocks = MIN (n / MAX (block, 1), MAX_BLOCKS), stride;
  g_autofree double *window = hann (block);
  double band = 0, total = 0, bin = (double) rate / block;

  if (blocks == 0)
    return 0;
  stride = blocks > 1 ? (n - block) / (blocks - 1) : 0;
  for (gsize b = 0; b < blocks; b++)
    {
      const double *y = x + b * stride;

      for (gsize i = 0; i < block; i++)
        total += (y[i] * window[i]) * (y[i] * window[i]) * block;
      for (double k = ceil ((freq - BAND_HZ) / bin); k * bin <= freq + BAND_HZ; k++)
        if (k > 0 && k * bin < rate / 2.0)
          band += 2 * goertzel (y, block, window, k * bin, rate);
    }
  return total > 0 ? MIN (band / total, 1.0) : 0;
}

int
main (int argc, char **argv)
{
  gint skip_ms = 500;
  g_auto(GStrv) freqs = NULL;
  GOptionEntry entries[] = {
    { "skip-ms", 0, 0, G_OPTION_ARG_INT, &skip_ms, "Ignore the first N ms (500)", "N" },
    { "freq", 0, 0, G_OPTION_ARG_STRING_ARRAY, &freqs, "Report the power near F Hz", "F" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("FILE.wav");
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) line = g_string_new (NULL);
  Audio audio = { 0 };
  const double *x;
  gsize skip, n;
  double sum = 0, rms;

  /* Messages in the user's charset; numbers stay in the C format. */
  setlocale (LC_CTYPE, "");
  setlocale (LC_MESSAGES, "");
  g_option_context_set_summary (context, "Measures the level and the frequencies of a WAV file.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc != 2 || skip_ms < 0)
    {
      g_printerr ("tone-analyze: %s\n", error ? error->message : "usage: tone-analyze FILE.wav [--skip-ms N] [--freq F ...]");
      return 2;
    }
  if (!read_wav (argv[1], &audio, &error))
    {
      g_printerr ("tone-analyze: %s\n", error->message);
      return 1;
    }

  skip = MIN (audio.n, (gsize) audio.rate * skip_ms / 1000);
  x = audio.samples + skip;
  n = audio.n - skip;
  for (gsize i = 0; i < n; i++)
    sum += x[i] * x[i];
  rms = n ? sqrt (sum / n) : 0;

  g_string_append_printf (line, "duration_ms=%.0f analysed_ms=%.0f rms=%.4f dominant_hz=%.1f",
                          audio.n * 1000.0 / audio.rate, n * 1000.0 / audio.rate, rms,
                          rms > 1e-5 ? dominant_frequency (x, n, audio.rate) : 0.0);
  for (char **f = freqs; f && *f; f++)
    {
      char *end = NULL;
      double freq = g_ascii_strtod (*f, &end);

      if (!end || *end || freq <= 0)
        {
          g_printerr ("tone-analyze: --freq %s is not a frequency\n", *f);
          g_free (audio.samples);
          return 2;
        }
      g_string_append_printf (line, " power_%s=%.4f", *f, band_fraction (x, n, audio.rate, freq));
    }
  printf ("%s\n", line->str);
  g_free (audio.samples);
  return 0;
}
