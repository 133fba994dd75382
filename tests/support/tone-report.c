/* tone-report.c — runs tone-analyze and reads its report. */
#include "tone-report.h"

#include <string.h>

#include "test-process.h"

gboolean
tone_analyzer_available (void)
{
  const char *analyzer = g_getenv ("TONE_ANALYZE");

  return analyzer != NULL && g_file_test (analyzer, G_FILE_TEST_IS_EXECUTABLE);
}

GHashTable *
tone_analyze (const char *wav, guint skip_ms, const guint *freqs, guint n_freqs)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_auto(GStrv) pairs = NULL;
  g_autoptr(GError) error = NULL;
  GHashTable *report = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  gint status = 0;

  if (!tone_analyzer_available ())
    g_error ("TONE_ANALYZE does not name the tone-analyze program; run the test with meson test");
  g_ptr_array_add (argv, g_strdup (g_getenv ("TONE_ANALYZE")));
  g_ptr_array_add (argv, g_strdup (wav));
  g_ptr_array_add (argv, g_strdup_printf ("--skip-ms=%u", skip_ms));
  for (guint i = 0; i < n_freqs; i++)
    g_ptr_array_add (argv, g_strdup_printf ("--freq=%u", freqs[i]));
  g_ptr_array_add (argv, NULL);
  if (!g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                     &status, &error))
    g_error ("cannot run tone-analyze: %s", error->message);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("tone-analyze %s failed: %s", wav, err);
  /* It is ours, built with the sanitizers like the rest. */
  if (test_process_line_is_report (err))
    g_error ("tone-analyze %s printed a sanitizer report or critical:\n%s", wav, err);
  g_test_message ("%s from %u ms: %s", wav, skip_ms, g_strstrip (out));

  pairs = g_strsplit_set (out, " ", -1);
  for (char **pair = pairs; *pair; pair++)
    {
      char *eq = strchr (*pair, '=');
      double *value;

      if (eq == NULL)
        continue;
      value = g_new (double, 1);
      *value = g_ascii_strtod (eq + 1, NULL);
      g_hash_table_insert (report, g_strndup (*pair, eq - *pair), value);
    }
  return report;
}

double
tone_value (GHashTable *report, const char *key)
{
  double *value = g_hash_table_lookup (report, key);

  if (value == NULL)
    g_error ("tone-analyze reported no %s", key);
  return *value;
}

double
tone_power (GHashTable *report, guint freq)
{
  g_autofree char *key = g_strdup_printf ("power_%u", freq);

  return tone_value (report, key);
}
