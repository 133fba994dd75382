/* test-postgres-cleanup.c — a test that dies leaves no PostgreSQL behind.
 *
 * A child of this test makes a TestPostgres, writes where it lives, and is
 * killed with SIGKILL, so that nothing of its own runs at exit; the server
 * that pg_ctl started in its own session must stop all the same, and its
 * directory go (test-postgres.c's watchdog).
 */
#include "test-postgres.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

/* How long the watchdog may take to stop the server and remove it. */
#define CLEANUP_TIMEOUT_S 60

/* Where the child writes its cluster's directory: named after the parent. */
static char *
report_path (pid_t parent)
{
  g_autofree char *name = g_strdup_printf ("test-postgres-cleanup-%d", (int) parent);

  return g_build_filename (g_get_tmp_dir (), name, NULL);
}

/* The postmaster of the cluster in dir, from its pid file; 0 if none. */
static pid_t
postmaster_of (const char *dir)
{
  g_autofree char *pid_file = g_build_filename (dir, "data", "postmaster.pid", NULL);
  g_autofree char *text = NULL;

  if (!g_file_get_contents (pid_file, &text, NULL, NULL))
    return 0;
  return (pid_t) g_ascii_strtoll (text, NULL, 10);
}

static void
child_dies (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = report_path (getppid ());
  TestPostgres *pg = test_postgres_new (&error);
  g_autofree char *report = NULL;

  if (pg == NULL)
    {
      g_printerr ("no PostgreSQL: %s\n", error->message);
      exit (77);
    }
  report = g_strdup_printf ("%s\n%d", test_postgres_get_dir (pg),
                            (int) postmaster_of (test_postgres_get_dir (pg)));
  g_assert_true (g_file_set_contents (path, report, -1, &error));
  g_assert_no_error (error);
  raise (SIGKILL);
}

static void
test_killed_test (void)
{
  g_autofree char *path = report_path (getpid ());
  g_autofree char *report = NULL;
  g_auto(GStrv) fields = NULL;
  const char *dir;
  gint64 deadline;
  pid_t postmaster;

  if (g_test_subprocess ())
    {
      child_dies ();
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  if (!g_file_get_contents (path, &report, NULL, NULL))
    {
      if (g_strcmp0 (g_getenv ("CI"), "true") == 0)
        g_test_fail_printf ("the child could not start PostgreSQL (CI has it)");
      else
        g_test_skip ("the child could not start PostgreSQL");
      return;
    }
  g_unlink (path);
  g_assert_false (g_test_trap_has_passed ());
  fields = g_strsplit (report, "\n", 2);
  g_assert_cmpuint (g_strv_length (fields), ==, 2);
  dir = fields[0];
  postmaster = (pid_t) g_ascii_strtoll (fields[1], NULL, 10);
  g_test_message ("the child's cluster: %s, postmaster %d", dir, (int) postmaster);
  g_assert_cmpint (postmaster, >, 0);

  /* Polled: the watchdog stops the server, then removes the directory. */
  deadline = g_get_monotonic_time () + CLEANUP_TIMEOUT_S * G_TIME_SPAN_SECOND;
  while (kill (postmaster, 0) == 0 || g_file_test (dir, G_FILE_TEST_EXISTS))
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("%s (postmaster %d) still there %d s after its test died", dir,
                 (int) postmaster, CLEANUP_TIMEOUT_S);
      g_usleep (50 * 1000);
    }
}

/* A test that frees its TestPostgres: the watchdog ends without a word. */
static void
test_freed (void)
{
  TestPostgres *pg = test_postgres_new_or_skip ();
  g_autofree char *dir = NULL;

  if (pg == NULL)
    return;
  dir = g_strdup (test_postgres_get_dir (pg));
  test_postgres_free (pg);
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/test-postgres/killed-test", test_killed_test);
  g_test_add_func ("/test-postgres/freed", test_freed);
  return g_test_run ();
}
