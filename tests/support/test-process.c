/* test-process.c — starting, watching and ending the programs a test starts. */
#define G_LOG_DOMAIN "test-process"

#include <signal.h>
#include <string.h>

#include "test-process.h"

/* What a child prints when it found a bug in itself; stderr is merged into
 * the output the harness reads. */
static const char *const report_markers[] = {
  "ERROR: AddressSanitizer",
  "ERROR: LeakSanitizer",
  "runtime error:",            /* UndefinedBehaviorSanitizer */
  "GLib-CRITICAL",
  "CRITICAL **",               /* g_critical of any domain */
};

static void
on_wait_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  gboolean *done = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  *done = TRUE;
}

static gboolean
on_timeout (gpointer user_data)
{
  gboolean *timed_out = user_data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

gboolean
test_process_wait_exit (GSubprocess *process, guint timeout_ms)
{
  /* A context of its own, so that nothing else of the test runs meanwhile. */
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GSource) timeout = g_timeout_source_new (timeout_ms);
  gboolean done = FALSE, timed_out = FALSE;

  g_main_context_push_thread_default (context);
  g_subprocess_wait_async (process, cancellable, on_wait_done, &done);
  g_source_set_callback (timeout, on_timeout, &timed_out, NULL);
  g_source_attach (timeout, context);
  while (!done && !timed_out)
    g_main_context_iteration (context, TRUE);
  g_source_destroy (timeout);
  if (!done)
    {
      g_cancellable_cancel (cancellable);
      while (!done)
        g_main_context_iteration (context, TRUE);
    }
  g_main_context_pop_thread_default (context);
  return g_subprocess_get_identifier (process) == NULL;
}

/* G_DEBUG's value with fatal-criticals in it; NULL if it is there already. */
static char *
g_debug_with_fatal (const char *current)
{
  g_auto(GStrv) flags = NULL;

  if (current == NULL || current[0] == '\0')
    return g_strdup ("fatal-criticals");
  flags = g_strsplit_set (current, ",:; ", -1);
  for (char **flag = flags; *flag != NULL; flag++)
    if (g_ascii_strcasecmp (*flag, "fatal-criticals") == 0
        || g_ascii_strcasecmp (*flag, "fatal-warnings") == 0
        || g_ascii_strcasecmp (*flag, "all") == 0)
      return NULL;
  return g_strconcat (current, ",fatal-criticals", NULL);
}

char **
test_process_environ_fatal (char **env)
{
  g_autofree char *value = g_debug_with_fatal (g_environ_getenv (env, "G_DEBUG"));

  if (value == NULL)
    return env;
  return g_environ_setenv (env, "G_DEBUG", value, TRUE);
}

void
test_process_launcher_fatal (GSubprocessLauncher *launcher)
{
  g_autofree char *value = g_debug_with_fatal (g_getenv ("G_DEBUG"));

  if (value != NULL)
    g_subprocess_launcher_setenv (launcher, "G_DEBUG", value, TRUE);
}

gboolean
test_process_line_is_report (const char *line)
{
  for (gsize i = 0; i < G_N_ELEMENTS (report_markers); i++)
    if (strstr (line, report_markers[i]) != NULL)
      return TRUE;
  return FALSE;
}

gboolean
test_reports_scan (TestReports *reports, const char *line)
{
  if (!test_process_line_is_report (line))
    return FALSE;
  if (reports->count++ == 0)
    reports->first = g_strdup (line);
  return TRUE;
}

void
test_reports_clear (TestReports *reports)
{
  g_clear_pointer (&reports->first, g_free);
  reports->count = 0;
}

typedef struct {
  GInputStream *stream;
  char         *prefix;
  TestReports  *reports;
} OutputWatch;

static gpointer
output_watch_main (gpointer data)
{
  OutputWatch *watch = data;
  g_autoptr(GDataInputStream) lines = g_data_input_stream_new (watch->stream);
  char *line;

  /* Not _utf8: a line that is not UTF-8 must not stop the draining. */
  while ((line = g_data_input_stream_read_line (lines, NULL, NULL, NULL)) != NULL)
    {
      g_printerr ("%s%s\n", watch->prefix, line);
      test_reports_scan (watch->reports, line);
      g_free (line);
    }
  g_object_unref (watch->stream);
  g_free (watch->prefix);
  g_free (watch);
  return NULL;
}

GThread *
test_process_watch_output (GInputStream *stream, const char *prefix, TestReports *reports)
{
  OutputWatch *watch = g_new0 (OutputWatch, 1);

  watch->stream = g_object_ref (stream);
  watch->prefix = g_strdup (prefix);
  watch->reports = reports;
  return g_thread_new ("output-watch", output_watch_main, watch);
}

void
test_process_fail (const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  if (!g_test_initialized ())
    g_error ("%s", message);
  /* In the log where the child's output is, and in the test's result. */
  g_printerr ("FAIL: %s\n", message);
  g_test_fail_printf ("%s", message);
}

void
test_process_check_reports (const char *what, const TestReports *reports)
{
  if (reports->count > 0)
    test_process_fail ("%s printed %u sanitizer report(s) or critical(s), the first: %s",
                       what, reports->count, reports->first);
}

void
test_process_check_exit (GSubprocess *process, const char *what, const TestReports *reports)
{
  g_autoptr(GError) error = NULL;

  if (!g_spawn_check_wait_status (g_subprocess_get_status (process), &error))
    test_process_fail ("%s did not exit cleanly when told to stop: %s", what, error->message);
  test_process_check_reports (what, reports);
}

gboolean
test_process_terminate (GSubprocess *process, const char *what)
{
  g_subprocess_send_signal (process, SIGTERM);
  if (test_process_wait_exit (process, TEST_PROCESS_STOP_MS))
    return TRUE;
  g_subprocess_force_exit (process);
  g_subprocess_wait (process, NULL, NULL);
  test_process_fail ("%s did not exit within %d ms of SIGTERM", what, TEST_PROCESS_STOP_MS);
  return FALSE;
}
