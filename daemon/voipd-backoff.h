/* voipd-backoff.h — the delay before each reconnection attempt.
 *
 * Exponential backoff with jitter, as a plain value: the step starts at
 * `initial_ms` and doubles after every attempt up to `max_ms`; each delay is
 * the step ±VOIPD_BACKOFF_JITTER_PERCENT (so that the many clients of a
 * restarted server do not all come back in the same instant), never more
 * than `max_ms`. A successful login resets it. No clock and no main loop
 * here: the caller arms its own timer with the delay. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define VOIPD_BACKOFF_JITTER_PERCENT 25

typedef struct {
  guint initial_ms;
  guint max_ms;
  guint step_ms;      /* the next delay before jitter; 0 until the first attempt */
} VoipdBackoff;

/* Sets the limits (from the settings, which may have changed since the last
 * attempt) and keeps the current step, clamped to them. */
void  voipd_backoff_set_limits (VoipdBackoff *self, guint initial_ms, guint max_ms);
/* The delay before the next attempt, drawn from `rand`; then doubles the step. */
guint voipd_backoff_next       (VoipdBackoff *self, GRand *rand);
/* Back to the initial step (after a successful login). */
void  voipd_backoff_reset      (VoipdBackoff *self);

G_END_DECLS
