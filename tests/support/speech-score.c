/* speech-score.c — STOI after alignment; see speech-score.h.
 *
 * The steps and constants are those of the paper (section II): both signals
 * at 10 kHz; frames of 256 samples (Hann, 50 % overlap) whose reference
 * energy is more than 40 dB below the loudest frame are dropped from both; a
 * 512-point DFT of each frame; 15 one-third octave bands from 150 Hz; the
 * band envelopes in segments of N = 30 frames (384 ms), every frame
 * starting one; the degraded segment scaled to the reference's energy and
 * clipped at β = −15 dB signal-to-distortion; the correlation of the two
 * envelopes averaged over bands and segments. The paper's MATLAB code and
 * pystoi take every detail below the same way (window hanning(258)[1:-1],
 * band edges at the DFT bins nearest to 150·2^((2k±1)/6) Hz).
 *
 * Alignment (not part of STOI, which assumes aligned signals): the lag of
 * the largest cross-correlation at 10 kHz, computed by FFT, among lags that
 * leave at least one segment of overlap. */
#include "speech-score.h"

#include <float.h>
#include <math.h>
#include <string.h>

#define STOI_RATE        10000
#define STOI_FRAME       256
#define STOI_HOP         (STOI_FRAME / 2)
#define STOI_FFT         512
#define STOI_BANDS       15
#define STOI_MIN_HZ      150.0
#define STOI_SEGMENT     30        /* frames: 384 ms */
#define STOI_BETA_DB     (-15.0)
#define STOI_DYN_RANGE   40.0      /* dB below the loudest frame: silence */
#define RESAMPLE_ZEROS   16        /* zero crossings of the windowed sinc, each side */
#define MIN_OVERLAP      (STOI_SEGMENT * STOI_HOP + STOI_FRAME)

G_DEFINE_QUARK (speech-score-error-quark, speech_score_error)

void
speech_audio_clear (SpeechAudio *audio)
{
  g_clear_pointer (&audio->samples, g_free);
  audio->n = 0;
  audio->rate = 0;
}

static guint16 le16 (const guint8 *p) { return p[0] | p[1] << 8; }
static guint32 le32 (const guint8 *p) { return p[0] | p[1] << 8 | p[2] << 16 | (guint32) p[3] << 24; }

static double
sample_at (const guint8 *s, guint format, guint bits)
{
  guint32 word;
  float value;

  if (bits == 16)
    return (gint16) le16 (s) / 32768.0;
  word = le32 (s);
  if (format == 1)
    return (gint32) word / 2147483648.0;
  memcpy (&value, &word, sizeof value);
  return value;
}

gboolean
speech_audio_read_wav (const char *path, SpeechAudio *audio, GError **error)
{
  g_autofree guint8 *data = NULL;
  gsize size = 0, offset = 12;
  guint format = 0, channels = 0, bits = 0, rate = 0;

  if (!g_file_get_contents (path, (char **) &data, &size, error))
    return FALSE;
  if (size < 12 || memcmp (data, "RIFF", 4) != 0 || memcmp (data + 8, "WAVE", 4) != 0)
    {
      g_set_error (error, SPEECH_SCORE_ERROR, SPEECH_SCORE_ERROR_FORMAT,
                   "%s is not a RIFF WAVE file", path);
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
          rate = le32 (chunk + 12);
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
          if (channels == 0 || rate == 0
              || !((format == 1 && (bits == 16 || bits == 32)) || (format == 3 && bits == 32)))
            {
              g_set_error (error, SPEECH_SCORE_ERROR, SPEECH_SCORE_ERROR_FORMAT,
                           "%s: only S16LE, S32LE and F32LE PCM are supported", path);
              return FALSE;
            }
          frame = (gsize) channels * bits / 8;
          frames = chunk_size / frame;
          audio->samples = g_new0 (double, MAX (frames, 1));
          audio->n = frames;
          audio->rate = rate;
          for (gsize i = 0; i < frames; i++)
            {
              double sum = 0;

              for (guint c = 0; c < channels; c++)
                sum += sample_at (pcm + i * frame + c * bits / 8, format, bits);
              audio->samples[i] = sum / channels;
            }
          return TRUE;
        }
      offset += 8 + chunk_size + (chunk_size & 1);
    }
  g_set_error (error, SPEECH_SCORE_ERROR, SPEECH_SCORE_ERROR_FORMAT,
               "%s has no data chunk", path);
  return FALSE;
}

/* ---- signal processing ------------------------------------------------------ */

static double
sinc (double x)
{
  return fabs (x) < 1e-12 ? 1.0 : sin (G_PI * x) / (G_PI * x);
}

/* Band-limited interpolation (a Hann-windowed sinc, cut off at the lower
 * Nyquist frequency) to STOI_RATE. */
static double *
resample (const SpeechAudio *audio, gsize *n_out)
{
  double ratio = (double) STOI_RATE / audio->rate;
  double cut = MIN (1.0, ratio);
  double half = RESAMPLE_ZEROS / cut;
  gsize n = (gsize) floor (audio->n * ratio);
  double *out = g_new0 (double, MAX (n, 1));

  if (audio->rate == STOI_RATE)
    {
      memcpy (out, audio->samples, audio->n * sizeof (double));
      *n_out = audio->n;
      return out;
    }
  for (gsize j = 0; j < n; j++)
    {
      double t = j / ratio, sum = 0;
      gssize first = (gssize) ceil (t - half), last = (gssize) floor (t + half);

      first = MAX (first, 0);
      last = MIN (last, (gssize) audio->n - 1);
      for (gssize k = first; k <= last; k++)
        {
          double x = t - k;

          sum += audio->samples[k] * cut * sinc (cut * x) * 0.5 * (1 + cos (G_PI * x / half));
        }
      out[j] = sum;
    }
  *n_out = n;
  return out;
}

/* In-place radix-2 FFT of length n (a power of two); inverse without 1/n. */
static void
fft (double *re, double *im, gsize n, gboolean inverse)
{
  for (gsize i = 1, j = 0; i < n; i++)
    {
      gsize bit = n >> 1;

      for (; j & bit; bit >>= 1)
        j ^= bit;
      j ^= bit;
      if (i < j)
        {
          double t = re[i]; re[i] = re[j]; re[j] = t;
          t = im[i]; im[i] = im[j]; im[j] = t;
        }
    }
  for (gsize len = 2; len <= n; len <<= 1)
    {
      double angle = (inverse ? 2 : -2) * G_PI / len;
      double wr = cos (angle), wi = sin (angle);

      for (gsize i = 0; i < n; i += len)
        {
          double cr = 1, ci = 0;

          for (gsize k = 0; k < len / 2; k++)
            {
              gsize a = i + k, b = i + k + len / 2;
              double tr = re[b] * cr - im[b] * ci, ti = re[b] * ci + im[b] * cr;
              double next = cr * wr - ci * wi;

              re[b] = re[a] - tr;
              im[b] = im[a] - ti;
              re[a] += tr;
              im[a] += ti;
              ci = cr * wi + ci * wr;
              cr = next;
            }
        }
    }
}

/* The lag of `y` behind `x` (y[n + lag] ~ x[n]) with the largest
 * cross-correlation, among those leaving at least MIN_OVERLAP samples. */
static gssize
best_lag (const double *x, gsize nx, const double *y, gsize ny)
{
  gsize n = 1;
  g_autofree double *xr = NULL, *xi = NULL, *yr = NULL, *yi = NULL;
  gssize best = 0;
  double best_value = -G_MAXDOUBLE;

  while (n < nx + ny)
    n <<= 1;
  xr = g_new0 (double, n);
  xi = g_new0 (double, n);
  yr = g_new0 (double, n);
  yi = g_new0 (double, n);
  memcpy (xr, x, nx * sizeof (double));
  memcpy (yr, y, ny * sizeof (double));
  fft (xr, xi, n, FALSE);
  fft (yr, yi, n, FALSE);
  for (gsize k = 0; k < n; k++)
    {
      /* Y · conj(X) */
      double re = yr[k] * xr[k] + yi[k] * xi[k], im = yi[k] * xr[k] - yr[k] * xi[k];

      yr[k] = re;
      yi[k] = im;
    }
  fft (yr, yi, n, TRUE);
  for (gssize lag = -(gssize) nx + MIN_OVERLAP; lag <= (gssize) ny - MIN_OVERLAP; lag++)
    {
      gsize overlap = MIN (nx - (gsize) MAX (0, -lag), ny - (gsize) MAX (0, lag));
      double value = yr[lag >= 0 ? (gsize) lag : n - (gsize) -lag];

      if (overlap >= MIN_OVERLAP && value > best_value)
        {
          best_value = value;
          best = lag;
        }
    }
  return best;
}

/* hanning(STOI_FRAME + 2)[1:-1], as the reference code */
static void
stoi_window (double *w)
{
  for (guint i = 0; i < STOI_FRAME; i++)
    w[i] = 0.5 - 0.5 * cos (2 * G_PI * (i + 1) / (STOI_FRAME + 1));
}

/* Drops the frames where the reference is silent (both signals), and
 * overlap-adds the rest back; returns the new length. */
static gsize
remove_silent_frames (const double *x, const double *y, gsize n, double *x_out, double *y_out)
{
  double w[STOI_FRAME];
  gsize frames = n >= STOI_FRAME ? (n - STOI_FRAME) / STOI_HOP + 1 : 0, kept = 0;
  g_autofree double *energy = g_new0 (double, MAX (frames, 1));
  double loudest = -G_MAXDOUBLE;

  stoi_window (w);
  for (gsize f = 0; f < frames; f++)
    {
      double sum = 0;

      for (guint i = 0; i < STOI_FRAME; i++)
        {
          double v = w[i] * x[f * STOI_HOP + i];

          sum += v * v;
        }
      energy[f] = 20 * log10 (sqrt (sum) + DBL_EPSILON);
      loudest = MAX (loudest, energy[f]);
    }
  memset (x_out, 0, n * sizeof (double));
  memset (y_out, 0, n * sizeof (double));
  for (gsize f = 0; f < frames; f++)
    {
      if (energy[f] <= loudest - STOI_DYN_RANGE)
        continue;
      for (guint i = 0; i < STOI_FRAME; i++)
        {
          x_out[kept * STOI_HOP + i] += w[i] * x[f * STOI_HOP + i];
          y_out[kept * STOI_HOP + i] += w[i] * y[f * STOI_HOP + i];
        }
      kept++;
    }
  return kept > 0 ? (kept - 1) * STOI_HOP + STOI_FRAME : 0;
}

/* The one-third octave band envelopes: bands[b * frames + f]. */
static double *
band_envelopes (const double *x, gsize n, gsize *n_frames)
{
  double w[STOI_FRAME], re[STOI_FFT], im[STOI_FFT];
  guint low[STOI_BANDS], high[STOI_BANDS];
  /* the reference's frames start at 0, hop, … while a whole frame fits before the end */
  gsize frames = n > STOI_FRAME ? (n - STOI_FRAME - 1) / STOI_HOP + 1 : 0;
  double *bands = g_new0 (double, STOI_BANDS * MAX (frames, 1));

  stoi_window (w);
  for (guint b = 0; b < STOI_BANDS; b++)
    {
      double edges[2] = { STOI_MIN_HZ * pow (2, (2.0 * b - 1) / 6),
                          STOI_MIN_HZ * pow (2, (2.0 * b + 1) / 6) };
      guint *ends[2] = { &low[b], &high[b] };

      for (guint e = 0; e < 2; e++)
        {
          double nearest = G_MAXDOUBLE;

          for (guint k = 0; k <= STOI_FFT / 2; k++)
            {
              double d = fabs ((double) k * STOI_RATE / STOI_FFT - edges[e]);

              if (d < nearest)
                {
                  nearest = d;
                  *ends[e] = k;
                }
            }
        }
    }
  for (gsize f = 0; f < frames; f++)
    {
      memset (re, 0, sizeof re);
      memset (im, 0, sizeof im);
      for (guint i = 0; i < STOI_FRAME; i++)
        re[i] = w[i] * x[f * STOI_HOP + i];
      fft (re, im, STOI_FFT, FALSE);
      for (guint b = 0; b < STOI_BANDS; b++)
        {
          double sum = 0;

          for (guint k = low[b]; k < high[b]; k++)
            sum += re[k] * re[k] + im[k] * im[k];
          bands[b * frames + f] = sqrt (sum);
        }
    }
  *n_frames = frames;
  return bands;
}

/* d = mean over bands and segments of the correlation of the clipped,
 * normalised degraded envelope with the reference's (equations 2 to 5). */
static double
stoi_of_envelopes (const double *x, const double *y, gsize frames)
{
  double clip = pow (10, -STOI_BETA_DB / 20);
  double total = 0;
  gsize segments = frames - STOI_SEGMENT + 1;

  for (gsize m = STOI_SEGMENT; m <= frames; m++)
    for (guint b = 0; b < STOI_BANDS; b++)
      {
        const double *xs = x + b * frames + m - STOI_SEGMENT;
        const double *ys = y + b * frames + m - STOI_SEGMENT;
        double yp[STOI_SEGMENT], xn = 0, yn = 0, xm = 0, ym = 0, dot = 0, xx = 0, yy = 0, scale;

        for (guint i = 0; i < STOI_SEGMENT; i++)
          {
            xn += xs[i] * xs[i];
            yn += ys[i] * ys[i];
          }
        scale = sqrt (xn) / (sqrt (yn) + DBL_EPSILON);
        for (guint i = 0; i < STOI_SEGMENT; i++)
          {
            yp[i] = MIN (ys[i] * scale, xs[i] * (1 + clip));
            xm += xs[i];
            ym += yp[i];
          }
        xm /= STOI_SEGMENT;
        ym /= STOI_SEGMENT;
        for (guint i = 0; i < STOI_SEGMENT; i++)
          {
            double a = xs[i] - xm, c = yp[i] - ym;

            dot += a * c;
            xx += a * a;
            yy += c * c;
          }
        total += dot / ((sqrt (xx) + DBL_EPSILON) * (sqrt (yy) + DBL_EPSILON));
      }
  return total / (STOI_BANDS * segments);
}

gboolean
speech_score (const SpeechAudio *reference, const SpeechAudio *degraded, SpeechScore *score,
              GError **error)
{
  g_autofree double *x = NULL, *y = NULL, *xs = NULL, *ys = NULL;
  g_autofree double *xb = NULL, *yb = NULL;
  gsize nx = 0, ny = 0, n, kept, frames = 0, frames_y = 0, x0, y0;
  gssize lag;

  if (reference->rate == 0 || degraded->rate == 0)
    {
      g_set_error (error, SPEECH_SCORE_ERROR, SPEECH_SCORE_ERROR_FORMAT, "no sample rate");
      return FALSE;
    }
  x = resample (reference, &nx);
  y = resample (degraded, &ny);
  if (nx < MIN_OVERLAP || ny < MIN_OVERLAP)
    {
      g_set_error (error, SPEECH_SCORE_ERROR, SPEECH_SCORE_ERROR_TOO_SHORT,
                   "%s is shorter than one %d ms segment",
                   nx < MIN_OVERLAP ? "the reference" : "the degraded signal",
                   MIN_OVERLAP * 1000 / STOI_RATE);
      return FALSE;
    }
  lag = best_lag (x, nx, y, ny);
  x0 = (gsize) MAX (0, -lag);
  y0 = (gsize) MAX (0, lag);
  n = MIN (nx - x0, ny - y0);

  xs = g_new0 (double, n);
  ys = g_new0 (double, n);
  kept = remove_silent_frames (x + x0, y + y0, n, xs, ys);
  xb = band_envelopes (xs, kept, &frames);
  yb = band_envelopes (ys, kept, &frames_y);
  if (frames < STOI_SEGMENT)
    {
      g_set_error (error, SPEECH_SCORE_ERROR, SPEECH_SCORE_ERROR_TOO_SHORT,
                   "less than one %d ms segment of speech overlaps once aligned",
                   MIN_OVERLAP * 1000 / STOI_RATE);
      return FALSE;
    }
  score->stoi = stoi_of_envelopes (xb, yb, frames);
  score->delay_ms = lag * 1000.0 / STOI_RATE;
  score->overlap_ms = n * 1000.0 / STOI_RATE;
  return TRUE;
}
