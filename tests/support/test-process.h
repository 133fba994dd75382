/* test-process.h — starting, watching and ending the programs a test starts.
 *
 * Whatever a test starts of ours (voip-server, voipd, voipctl) is part of
 * what it tests: a child that crashes, exits non-zero after SIGTERM, or
 * prints a sanitizer report or a GLib critical fails the test, even when
 * everything the test asserted held. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* How long a daemon or server may take to exit after SIGTERM: generous,
 * since LeakSanitizer walks the heap at exit. */
#define TEST_PROCESS_STOP_MS 60000

/* Waits at most timeout_ms for the process to exit, without running the
 * caller's main context; TRUE if it did. */
gboolean test_process_wait_exit (GSubprocess *process, guint timeout_ms);

/* `env` (consumed) with G_DEBUG holding fatal-criticals: set if G_DEBUG is
 * absent, appended if it lacks it (run-all.sh exports gc-friendly). */
char   **test_process_environ_fatal (char **env);
/* The same for a launcher that inherits the test's environment. */
void     test_process_launcher_fatal (GSubprocessLauncher *launcher);

/* TRUE if a line of a child's output is a report that fails the test: an
 * AddressSanitizer, LeakSanitizer or UndefinedBehaviorSanitizer error, or a
 * GLib critical. */
gboolean test_process_line_is_report (const char *line);

/* What a child printed that fails the test, collected by the thread that
 * reads its output (read it once that thread has been joined). */
typedef struct {
  guint  count;
  char  *first;   /* the first report line */
} TestReports;

/* Looks at one line; TRUE if it was a report. */
gboolean test_reports_scan  (TestReports *reports, const char *line);
void     test_reports_clear (TestReports *reports);

/* A thread that copies each line of `stream` (a child's output pipe) to our
 * stderr behind `prefix` ("[voipd alice] ") and scans it into `reports`,
 * until the stream closes; join it before reading `reports`. */
GThread *test_process_watch_output (GInputStream *stream, const char *prefix,
                                    TestReports *reports);

/* Fails the running test with this message (or, outside a GTest program,
 * e.g. a benchmark, aborts with it); the test goes on to clean up. */
void     test_process_fail  (const char *format, ...) G_GNUC_PRINTF (1, 2);

/* Checks a child that has exited after SIGTERM: it must have exited with
 * status 0 (not by a signal) and printed no report; `what` names it in the
 * failure ("voip-server", "voipd of alice"). */
void     test_process_check_exit (GSubprocess *process, const char *what,
                                  const TestReports *reports);
/* Checks only the reports (for a child killed with SIGKILL on purpose). */
void     test_process_check_reports (const char *what, const TestReports *reports);

/* SIGTERM, then waits TEST_PROCESS_STOP_MS; a child still running then is
 * killed and fails the test. TRUE if it exited by itself. */
gboolean test_process_terminate (GSubprocess *process, const char *what);

G_END_DECLS
