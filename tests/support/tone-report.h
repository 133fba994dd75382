/* tone-report.h — what tests/support/tone-analyze heard in a WAV file.
 *
 * The analyzer is the program in $TONE_ANALYZE (meson sets it). Its report is
 * one line of key=value pairs: duration_ms, analysed_ms, rms, dominant_hz,
 * and power_F for each frequency asked for. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* TRUE when $TONE_ANALYZE names an executable. */
gboolean    tone_analyzer_available (void);
/* Runs the analyzer on wav from skip_ms on, asking for the power at each of
 * freqs; returns key → double. The analyzer failing fails the test. */
GHashTable *tone_analyze (const char *wav, guint skip_ms, const guint *freqs, guint n_freqs);
/* A value of the report; a missing key fails the test. */
double      tone_value   (GHashTable *report, const char *key);
/* power_F: the fraction of the power within ±10 Hz of freq. */
double      tone_power   (GHashTable *report, guint freq);

G_END_DECLS
