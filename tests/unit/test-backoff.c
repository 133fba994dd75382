/* test-backoff.c — unit tests of the reconnection backoff (daemon/voipd-backoff.c):
 * the step doubles from the initial delay up to the cap, every delay stays
 * within the jitter around its step and never passes the cap, the jitter
 * really spreads (both ends of its range are reached), and a reset starts
 * over. Seeded GRands make every run the same. */
#include "voipd-backoff.h"

#define SAMPLES 2000

/* The step of attempt `n` (0-based): initial · 2^n, capped. */
static guint
expected_step (guint initial_ms, guint max_ms, guint n)
{
  guint64 step = initial_ms;

  for (guint i = 0; i < n && step < max_ms; i++)
    step *= 2;
  return (guint) MIN (step, max_ms);
}

static void
assert_within_jitter (guint delay, guint step, guint max_ms)
{
  guint spread = step * VOIPD_BACKOFF_JITTER_PERCENT / 100;

  g_assert_cmpuint (delay, >=, step - spread);
  g_assert_cmpuint (delay, <=, MIN (step + spread, max_ms));
}

static void
test_doubling_and_cap (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (1);
  VoipdBackoff backoff = { 0 };

  voipd_backoff_set_limits (&backoff, 500, 30000);
  /* 500, 1000, 2000, 4000, 8000, 16000, then 30000 for ever. */
  for (guint n = 0; n < 12; n++)
    {
      guint step = expected_step (500, 30000, n);
      guint delay = voipd_backoff_next (&backoff, rand);

      assert_within_jitter (delay, step, 30000);
    }
  g_assert_cmpuint (backoff.step_ms, ==, 30000);
}

static void
test_jitter_spreads (void)
{
  /* Many clients on the same step: their delays cover the whole ±25 %
   * range, not one value. */
  g_autoptr(GRand) rand = g_rand_new_with_seed (42);
  guint lowest = G_MAXUINT, highest = 0;

  for (guint i = 0; i < SAMPLES; i++)
    {
      VoipdBackoff backoff = { 0 };
      guint delay;

      voipd_backoff_set_limits (&backoff, 1000, 60000);
      delay = voipd_backoff_next (&backoff, rand);
      assert_within_jitter (delay, 1000, 60000);
      lowest = MIN (lowest, delay);
      highest = MAX (highest, delay);
    }
  /* With 2000 draws over 501 values, each end is reached within 1 %. */
  g_assert_cmpuint (lowest, <=, 760);
  g_assert_cmpuint (highest, >=, 1240);
}

static void
test_cap_holds_with_jitter (void)
{
  /* At the cap the jitter may only shorten the delay. */
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  VoipdBackoff backoff = { 0 };
  guint lowest = G_MAXUINT;

  voipd_backoff_set_limits (&backoff, 1000, 3000);
  for (guint i = 0; i < SAMPLES; i++)
    {
      guint delay = voipd_backoff_next (&backoff, rand);

      g_assert_cmpuint (delay, <=, 3000);
      if (i >= 2)
        {
          assert_within_jitter (delay, 3000, 3000);
          lowest = MIN (lowest, delay);
        }
    }
  g_assert_cmpuint (lowest, <, 2300);
}

static void
test_reset_and_limits (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (3);
  VoipdBackoff backoff = { 0 };

  voipd_backoff_set_limits (&backoff, 200, 1000);
  for (guint n = 0; n < 5; n++)
    voipd_backoff_next (&backoff, rand);
  g_assert_cmpuint (backoff.step_ms, ==, 1000);

  /* A lower cap from the settings applies to the next attempt at once. */
  voipd_backoff_set_limits (&backoff, 200, 400);
  assert_within_jitter (voipd_backoff_next (&backoff, rand), 400, 400);

  voipd_backoff_reset (&backoff);
  assert_within_jitter (voipd_backoff_next (&backoff, rand), 200, 400);
  assert_within_jitter (voipd_backoff_next (&backoff, rand), 400, 400);

  /* Nonsense limits (a cap below the start, a zero start) still give a
   * positive delay that respects the cap. */
  voipd_backoff_reset (&backoff);
  voipd_backoff_set_limits (&backoff, 0, 0);
  g_assert_cmpuint (voipd_backoff_next (&backoff, rand), ==, 1);
  voipd_backoff_reset (&backoff);
  voipd_backoff_set_limits (&backoff, 5000, 1000);
  assert_within_jitter (voipd_backoff_next (&backoff, rand), 5000, 5000);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/backoff/doubling-and-cap", test_doubling_and_cap);
  g_test_add_func ("/backoff/jitter-spreads", test_jitter_spreads);
  g_test_add_func ("/backoff/cap-holds-with-jitter", test_cap_holds_with_jitter);
  g_test_add_func ("/backoff/reset-and-limits", test_reset_and_limits);
  return g_test_run ();
}
