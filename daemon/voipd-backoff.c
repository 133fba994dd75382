/* voipd-backoff.c — exponential reconnection backoff with jitter (see the header). */
#include "voipd-backoff.h"

void
voipd_backoff_set_limits (VoipdBackoff *self, guint initial_ms, guint max_ms)
{
  self->initial_ms = MAX (1, initial_ms);
  self->max_ms = MAX (self->initial_ms, max_ms);
  if (self->step_ms != 0)
    self->step_ms = CLAMP (self->step_ms, self->initial_ms, self->max_ms);
}

guint
voipd_backoff_next (VoipdBackoff *self, GRand *rand)
{
  guint step, spread, delay;

  if (self->step_ms == 0)
    self->step_ms = self->initial_ms;
  step = self->step_ms;
  /* 64-bit: a step near G_MAXUINT must not wrap when scaled. */
  spread = (guint) ((guint64) step * VOIPD_BACKOFF_JITTER_PERCENT / 100);
  delay = step - spread + (guint) g_rand_int_range (rand, 0, (gint32) MIN (2 * (guint64) spread + 1,
                                                                           G_MAXINT32));
  self->step_ms = (guint) MIN ((guint64) step * 2, self->max_ms);
  /* The jitter never takes a delay past the cap the user set. */
  return MIN (delay, self->max_ms);
}

void
voipd_backoff_reset (VoipdBackoff *self)
{
  self->step_ms = 0;
}
