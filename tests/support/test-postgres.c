/* test-postgres.c — a private PostgreSQL server for a test (test-postgres.h). */
#include <errno.h>
#include <glib/gstdio.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "test-postgres.h"

/* The account a cluster made by root belongs to: initdb refuses root. */
#define TEST_PG_USER "nobody"
/* pg_ctl -w waits this long (seconds) for a start or a stop. */
#define TEST_PG_WAIT_S "120"

/* How long the watchdog's pg_ctl stop may take (seconds). */
#define TEST_PG_WATCHDOG_STOP_S "60"
/* What the test says to the watchdog when it cleaned up itself. */
#define TEST_PG_WATCHDOG_DONE "done\n"

struct _TestPostgres {
  char        *dir;        /* the cluster's data in dir/data, the socket in dir */
  char        *bindir;
  gboolean     running;
  guint        n_databases;
  GSubprocess *watchdog;   /* reads our end of a pipe; see watchdog_start() */
};

/* pg_ctl starts the server in a session of its own, so a test that dies
 * (an assertion, a timeout's SIGKILL) would leave it running. The watchdog
 * is a shell, also in a session of its own (so that a signal to the test's
 * process group spares it), blocked reading a pipe whose only writer is
 * the test: at end of file without "done" the test died, and the watchdog
 * stops the server (immediate: its data is thrown away) and removes the
 * directory. */
static const char watchdog_script[] =
  "read -r line\n"
  "[ \"$line\" = done ] && exit 0\n"
  "if [ -f \"$2/data/postmaster.pid\" ]; then\n"
  "  if [ \"$(id -u)\" = 0 ]; then as_owner=\"runuser -u $3 --\"; else as_owner=; fi\n"
  "  $as_owner \"$1/pg_ctl\" stop -D \"$2/data\" -m immediate -w -t $4 >/dev/null 2>&1\n"
  "fi\n"
  "[ -n \"$VOIP_TEST_KEEP\" ] || rm -rf \"$2\"\n";

static void
watchdog_child_setup (gpointer user_data)
{
  (void) user_data;
  setsid ();
}

static gboolean
watchdog_start (TestPostgres *pg, GError **error)
{
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE);

  g_subprocess_launcher_set_child_setup (launcher, watchdog_child_setup, NULL, NULL);
  pg->watchdog = g_subprocess_launcher_spawn (launcher, error, "/bin/sh", "-c", watchdog_script,
                                              "test-postgres-watchdog", pg->bindir, pg->dir,
                                              TEST_PG_USER, TEST_PG_WATCHDOG_STOP_S, NULL);
  return pg->watchdog != NULL;
}

/* The test cleaned up: the watchdog ends, its exit status checked. */
static void
watchdog_stop (TestPostgres *pg)
{
  g_autoptr(GError) error = NULL;
  GOutputStream *input = g_subprocess_get_stdin_pipe (pg->watchdog);

  if (!g_output_stream_write_all (input, TEST_PG_WATCHDOG_DONE, strlen (TEST_PG_WATCHDOG_DONE),
                                  NULL, NULL, &error)
      || !g_output_stream_close (input, NULL, &error)
      || !g_subprocess_wait_check (pg->watchdog, NULL, &error))
    g_printerr ("the test PostgreSQL's watchdog: %s\n", error->message);
  g_clear_object (&pg->watchdog);
}

static char *
find_bindir (void)
{
  const char *env = g_getenv ("VOIP_TEST_PG_BINDIR");

  if (env != NULL)
    return g_strdup (env);
  /* Debian installs each major version side by side; take the newest. */
  for (int version = 30; version >= 14; version--)
    {
      g_autofree char *dir = g_strdup_printf ("/usr/lib/postgresql/%d/bin", version);
      g_autofree char *initdb = g_build_filename (dir, "initdb", NULL);

      if (g_file_test (initdb, G_FILE_TEST_IS_EXECUTABLE))
        return g_steal_pointer (&dir);
    }
  return NULL;
}

/* Runs one of the cluster's programs, as its owner; its output becomes the
 * error message when it fails. */
static gboolean
run_program (TestPostgres *pg, gboolean as_owner, const char *const *args, GError **error)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GSubprocess) process = NULL;
  g_autofree char *output = NULL;

  if (as_owner && geteuid () == 0)
    {
      g_ptr_array_add (argv, g_strdup ("runuser"));
      g_ptr_array_add (argv, g_strdup ("-u"));
      g_ptr_array_add (argv, g_strdup (TEST_PG_USER));
      g_ptr_array_add (argv, g_strdup ("--"));
    }
  g_ptr_array_add (argv, g_build_filename (pg->bindir, args[0], NULL));
  for (guint i = 1; args[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (args[i]));
  g_ptr_array_add (argv, NULL);

  process = g_subprocess_newv ((const char *const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE,
                               error);
  if (process == NULL || !g_subprocess_communicate_utf8 (process, NULL, NULL, &output, NULL,
                                                         error))
    return FALSE;
  if (!g_subprocess_get_if_exited (process) || g_subprocess_get_exit_status (process) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s failed: %s", args[0],
                   output != NULL ? g_strstrip (output) : "");
      return FALSE;
    }
  return TRUE;
}

static gboolean
give_to_owner (const char *dir, GError **error)
{
  struct passwd *owner;

  if (geteuid () != 0)
    return TRUE;
  owner = getpwnam (TEST_PG_USER);
  if (owner == NULL || chown (dir, owner->pw_uid, owner->pw_gid) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot give %s to %s", dir,
                   TEST_PG_USER);
      return FALSE;
    }
  return TRUE;
}

gboolean
test_postgres_start (TestPostgres *pg, GError **error)
{
  g_autofree char *data = g_build_filename (pg->dir, "data", NULL);
  g_autofree char *log = g_build_filename (pg->dir, "server.log", NULL);
  /* Only the socket; fsync off because no test here pulls the power, and
   * the machine's disk is shared by every test running. */
  g_autofree char *options = g_strdup_printf ("-c listen_addresses='' "
                                              "-c unix_socket_directories='%s' "
                                              "-c fsync=off", pg->dir);
  const char *const args[] = { "pg_ctl", "start", "-D", data, "-l", log, "-w",
                               "-t", TEST_PG_WAIT_S, "-o", options, NULL };

  if (!run_program (pg, TRUE, args, error))
    {
      g_autofree char *text = NULL;

      /* The server's own reason is in its log. */
      if (g_file_get_contents (log, &text, NULL, NULL))
        g_prefix_error (error, "%s\n", text);
      return FALSE;
    }
  pg->running = TRUE;
  return TRUE;
}

gboolean
test_postgres_stop (TestPostgres *pg, GError **error)
{
  g_autofree char *data = g_build_filename (pg->dir, "data", NULL);
  const char *const args[] = { "pg_ctl", "stop", "-D", data, "-m", "fast", "-w",
                               "-t", TEST_PG_WAIT_S, NULL };

  if (!run_program (pg, TRUE, args, error))
    return FALSE;
  pg->running = FALSE;
  return TRUE;
}

/* The parent pid of a process, from /proc/PID/stat; 0 if unknown. */
static pid_t
parent_of (const char *pid)
{
  g_autofree char *path = g_build_filename ("/proc", pid, "stat", NULL);
  g_autofree char *stat = NULL;
  const char *end;
  int ppid = 0;

  if (!g_file_get_contents (path, &stat, NULL, NULL))
    return 0;
  /* "PID (COMM) STATE PPID …": COMM may hold spaces and parentheses. */
  end = strrchr (stat, ')');
  if (end == NULL || sscanf (end + 1, " %*c %d", &ppid) != 1)
    return 0;
  return ppid;
}

gboolean
test_postgres_freeze (TestPostgres *pg, gboolean frozen, GError **error)
{
  g_autofree char *pid_file = g_build_filename (pg->dir, "data", "postmaster.pid", NULL);
  g_autofree char *text = NULL;
  g_autoptr(GDir) proc = NULL;
  const char *name;
  int signal_number = frozen ? SIGSTOP : SIGCONT;
  pid_t postmaster;

  if (!g_file_get_contents (pid_file, &text, NULL, error))
    return FALSE;
  postmaster = (pid_t) g_ascii_strtoll (text, NULL, 10);
  if (postmaster <= 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "no pid in %s", pid_file);
      return FALSE;
    }

  /* The backends first when freezing, so none is left running alone. */
  proc = g_dir_open ("/proc", 0, error);
  if (proc == NULL)
    return FALSE;
  while ((name = g_dir_read_name (proc)) != NULL)
    if (g_ascii_isdigit (name[0]) && parent_of (name) == postmaster)
      kill ((pid_t) g_ascii_strtoll (name, NULL, 10), signal_number);
  if (kill (postmaster, signal_number) != 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "signalling %d: %s",
                   (int) postmaster, g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

TestPostgres *
test_postgres_new (GError **error)
{
  g_autoptr(TestPostgres) pg = g_new0 (TestPostgres, 1);
  g_autofree char *data = NULL;

  pg->bindir = find_bindir ();
  if (pg->bindir == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "no PostgreSQL server programs (Debian package postgresql)");
      return NULL;
    }
  pg->dir = g_dir_make_tmp ("test-pg-XXXXXX", error);
  if (pg->dir == NULL || !watchdog_start (pg, error) || !give_to_owner (pg->dir, error))
    return NULL;

  data = g_build_filename (pg->dir, "data", NULL);
  {
    /* -N: no fsync of the new cluster, a test's data is thrown away. */
    const char *const args[] = { "initdb", "-D", data, "-U", "voip", "--auth=trust",
                                 "-E", "UTF8", "--locale=C.UTF-8", "-N", NULL };

    if (!run_program (pg, TRUE, args, error) || !test_postgres_start (pg, error))
      return NULL;
  }
  return g_steal_pointer (&pg);
}

TestPostgres *
test_postgres_new_or_skip (void)
{
  g_autoptr(GError) error = NULL;
  TestPostgres *pg = test_postgres_new (&error);

  if (pg != NULL)
    return pg;
  if (g_strcmp0 (g_getenv ("CI"), "true") == 0)
    g_test_fail_printf ("PostgreSQL could not be started (CI has it installed): %s",
                        error->message);
  else
    g_test_skip_printf ("PostgreSQL could not be started: %s", error->message);
  return NULL;
}

static gboolean
remove_tree (const char *path)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileEnumerator) children = NULL;
  GFileInfo *info;

  children = g_file_enumerate_children (file, G_FILE_ATTRIBUTE_STANDARD_NAME ","
                                        G_FILE_ATTRIBUTE_STANDARD_TYPE,
                                        G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);
  while (children != NULL &&
         g_file_enumerator_iterate (children, &info, NULL, NULL, NULL) && info != NULL)
    {
      g_autofree char *child = g_build_filename (path, g_file_info_get_name (info), NULL);

      if (g_file_info_get_file_type (info) == G_FILE_TYPE_DIRECTORY)
        remove_tree (child);
      else
        g_unlink (child);
    }
  return g_rmdir (path) == 0;
}

void
test_postgres_free (TestPostgres *pg)
{
  if (pg == NULL)
    return;
  if (pg->running)
    {
      g_autoptr(GError) error = NULL;

      if (!test_postgres_stop (pg, &error))
        g_printerr ("stopping the test PostgreSQL: %s\n", error->message);
    }
  if (pg->dir != NULL && g_getenv ("VOIP_TEST_KEEP") == NULL)
    remove_tree (pg->dir);
  if (pg->watchdog != NULL)
    watchdog_stop (pg);
  g_free (pg->dir);
  g_free (pg->bindir);
  g_free (pg);
}

gboolean
test_postgres_run_sql (TestPostgres *pg, const char *database, const char *sql, GError **error)
{
  const char *const args[] = { "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", pg->dir,
                               "-U", "voip", "-d", database, "-c", sql, NULL };

  return run_program (pg, FALSE, args, error);
}

char *
test_postgres_create_database (TestPostgres *pg, GError **error)
{
  g_autofree char *name = g_strdup_printf ("test%u", ++pg->n_databases);
  g_autofree char *sql = g_strdup_printf ("CREATE DATABASE %s", name);

  if (!test_postgres_run_sql (pg, "postgres", sql, error))
    return NULL;
  return g_strdup_printf ("postgresql:///%s?host=%s&user=voip", name, pg->dir);
}

char *
test_postgres_database_from_env (void)
{
  static guint n_databases;
  const char *dir = g_getenv ("VOIP_TEST_PG_DIR");
  g_autoptr(GError) error = NULL;
  TestPostgres pg = { 0, };
  g_autofree char *name = NULL;
  g_autofree char *sql = NULL;

  if (dir == NULL || *dir == '\0')
    return NULL;
  pg.dir = (char *) dir;
  pg.bindir = find_bindir ();
  /* Test programs run side by side on the one cluster. */
  name = g_strdup_printf ("server_%d_%u", (int) getpid (), ++n_databases);
  sql = g_strdup_printf ("CREATE DATABASE %s", name);
  if (pg.bindir == NULL || !test_postgres_run_sql (&pg, "postgres", sql, &error))
    {
      g_error ("creating a database in the PostgreSQL at %s: %s", dir,
               error != NULL ? error->message : "no PostgreSQL programs");
    }
  g_free (pg.bindir);
  return g_strdup_printf ("postgresql:///%s?host=%s&user=voip", name, dir);
}

char *
test_postgres_dead_uri (TestPostgres *pg)
{
  g_autofree char *empty = g_build_filename (pg->dir, "nothing-here", NULL);

  g_mkdir (empty, 0700);
  return g_strdup_printf ("postgresql:///postgres?host=%s&user=voip", empty);
}

const char *
test_postgres_get_dir (TestPostgres *pg)
{
  return pg->dir;
}
