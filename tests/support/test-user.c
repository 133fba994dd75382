/* test-user.c — a simulated desktop user for the daemon tests. */
#define G_LOG_DOMAIN "test-user"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <glib/gstdio.h>

#include "test-user.h"
#include "test-process.h"

#define START_TIMEOUT_MS 30000
#define STOP_TIMEOUT_MS  TEST_PROCESS_STOP_MS
#define POLL_MS          100

struct _TestUser {
  char            *name;
  char            *password;
  TestUserFlags    flags;
  char            *server;

  char            *root;         /* everything below is inside */
  char            *home;
  char            *config_home;
  char            *runtime_dir;
  GStrv            env;

  GSubprocess     *bus_process;
  char            *bus_address;
  GDBusConnection *bus;
  GSubprocess     *keyring_process;

  GSubprocess     *daemon;
  GThread         *daemon_output_thread;
  TestReports      daemon_reports;  /* its output thread's; read once joined */
  char            *daemon_netns;  /* voipd runs under `ip netns exec` this, or NULL */
};

struct _TestSignals {
  GDBusConnection *bus;
  guint            subscription;
  GPtrArray       *records;      /* of SignalRecord*, main context only */
};

typedef struct {
  char *member;
  char *path;
  char *parameters;   /* printed */
} SignalRecord;

struct _TestMonitor {
  TestUser    *user;
  GSubprocess *process;
  GThread     *thread;
  GThread     *stderr_thread;
  TestReports  reports;   /* its stderr's; read once stderr_thread is joined */
  GMutex       lock;
  GCond        cond;
  GPtrArray   *lines;   /* under lock */
  gboolean     closed;  /* under lock */
};

/* ---- helpers ------------------------------------------------------------ */

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    while ((name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *child = g_build_filename (path, name, NULL);

        if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
          remove_tree (child);
        else
          g_unlink (child);
      }
  g_rmdir (path);
}

/* In every child before exec: die with the test. */
static void
child_setup (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static GSubprocessLauncher *
launcher_new (TestUser *user, GSubprocessFlags flags)
{
  GSubprocessLauncher *launcher = g_subprocess_launcher_new (flags);

  g_subprocess_launcher_set_environ (launcher, user->env);
  g_subprocess_launcher_set_cwd (launcher, user->home);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  return launcher;
}

static gboolean
set_flag (gpointer user_data)
{
  gboolean *flag = user_data;

  *flag = TRUE;
  return G_SOURCE_REMOVE;
}

static void
kill_and_reap (GSubprocess **process)
{
  if (*process == NULL)
    return;
  g_subprocess_force_exit (*process);
  g_subprocess_wait (*process, NULL, NULL);
  g_clear_object (process);
}

static gboolean
bus_name_has_owner (TestUser *user, const char *name)
{
  g_autoptr(GVariant) reply = NULL;
  gboolean has_owner = FALSE;

  reply = g_dbus_connection_call_sync (user->bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "NameHasOwner",
                                       g_variant_new ("(s)", name), G_VARIANT_TYPE ("(b)"),
                                       G_DBUS_CALL_FLAGS_NONE, 5000, NULL, NULL);
  if (reply != NULL)
    g_variant_get (reply, "(b)", &has_owner);
  return has_owner;
}

/* Polls until `name` is owned (or not), the process (if any) exits, or the
 * timeout; TRUE if the name reached the wanted state. */
static gboolean
wait_for_name (TestUser *user, const char *name, gboolean owned, GSubprocess *process,
               guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  for (;;)
    {
      if (bus_name_has_owner (user, name) == owned)
        return TRUE;
      if (process != NULL && g_subprocess_get_identifier (process) == NULL)
        return FALSE;
      if (g_get_monotonic_time () > deadline)
        return FALSE;
      g_usleep (20 * 1000);
    }
}

static char *
join_argv (const char *const *argv)
{
  g_autoptr(GString) line = g_string_new (NULL);

  for (gsize i = 0; argv[i] != NULL; i++)
    {
      if (i > 0)
        g_string_append_c (line, ' ');
      if (argv[i][0] == '\0' || strpbrk (argv[i], " \t\n'\"") != NULL)
        {
          g_autofree char *quoted = g_shell_quote (argv[i]);
          g_string_append (line, strlen (quoted) > 80 ? "'...'" : quoted);
        }
      else
        g_string_append (line, argv[i]);
    }
  return g_string_free (g_steal_pointer (&line), FALSE);
}

static GPtrArray *
collect_args (const char *program, const char *first_arg, va_list args)
{
  GPtrArray *argv = g_ptr_array_new ();
  const char *arg;

  g_ptr_array_add (argv, (gpointer) program);
  for (arg = first_arg; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (gpointer) arg);
  g_ptr_array_add (argv, NULL);
  return argv;
}

static const char *
voipctl_path (void)
{
  const char *path = g_getenv ("VOIPCTL");

  if (path == NULL)
    g_error ("VOIPCTL is not set; run the daemon tests with meson test");
  return path;
}

/* Forgets a daemon that has exited. What it printed must have been clean,
 * and, if it was asked to stop (not killed), so must its exit. */
static void
reap_daemon (TestUser *user, gboolean stopped)
{
  g_autofree char *what = g_strdup_printf ("voipd of %s", user->name);

  if (user->daemon_output_thread != NULL)
    g_thread_join (g_steal_pointer (&user->daemon_output_thread));
  if (stopped)
    test_process_check_exit (user->daemon, what, &user->daemon_reports);
  else
    test_process_check_reports (what, &user->daemon_reports);
  test_reports_clear (&user->daemon_reports);
  g_clear_object (&user->daemon);
  /* The bus notices the closed socket by itself; wait for it so that the
   * next start does not race the old owner. */
  if (!wait_for_name (user, TEST_VOIPD_BUS_NAME, FALSE, NULL, START_TIMEOUT_MS))
    g_error ("%s's bus still lists %s after the daemon exited", user->name, TEST_VOIPD_BUS_NAME);
}

/* ---- the desktop -------------------------------------------------------- */

static void
start_bus (TestUser *user)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autofree char *config_path = g_build_filename (user->root, "session.conf", NULL);
  g_autofree char *config = NULL;

  /* A session bus like the desktop's, but with no service directories: a
   * name nobody owns is an error at once, never an activation. */
  config = g_markup_printf_escaped (
    "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
    " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
    "<busconfig>\n"
    "  <type>session</type>\n"
    "  <keep_umask/>\n"
    "  <listen>unix:path=%s/bus</listen>\n"
    "  <auth>EXTERNAL</auth>\n"
    "  <policy context=\"default\">\n"
    "    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
    "    <allow eavesdrop=\"true\"/>\n"
    "    <allow own=\"*\"/>\n"
    "  </policy>\n"
    "</busconfig>\n", user->runtime_dir);
  g_file_set_contents (config_path, config, -1, &error);
  g_assert_no_error (error);

  launcher = launcher_new (user, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  user->bus_process = g_subprocess_launcher_spawn (launcher, &error, "dbus-daemon",
                                                   "--config-file", config_path,
                                                   "--nofork", "--print-address=1", NULL);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (user->bus_process));
  user->bus_address = g_data_input_stream_read_line_utf8 (out, NULL, NULL, &error);
  g_assert_no_error (error);
  if (user->bus_address == NULL || user->bus_address[0] == '\0')
    g_error ("dbus-daemon for %s printed no address", user->name);

  user->env = g_environ_setenv (user->env, "DBUS_SESSION_BUS_ADDRESS", user->bus_address, TRUE);
  user->bus = g_dbus_connection_new_for_address_sync (user->bus_address,
                                                      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
                                                      | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                      NULL, NULL, &error);
  g_assert_no_error (error);
}

/* gnome-keyring-daemon, unlocked with the password on stdin: it creates the
 * "login" collection with that password and never prompts
 * (../shared/recipes/keyring-headless). */
static void
start_keyring (TestUser *user)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autofree char *password = g_strdup_printf ("keyring-%s", user->name);
  GOutputStream *in;

  launcher = launcher_new (user, G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  user->keyring_process = g_subprocess_launcher_spawn (launcher, &error, "gnome-keyring-daemon",
                                                       "--foreground", "--unlock",
                                                       "--components=secrets", NULL);
  g_assert_no_error (error);
  in = g_subprocess_get_stdin_pipe (user->keyring_process);
  g_output_stream_write_all (in, password, strlen (password), NULL, NULL, &error);
  g_assert_no_error (error);
  g_output_stream_close (in, NULL, &error);
  g_assert_no_error (error);

  if (!wait_for_name (user, "org.freedesktop.secrets", TRUE, user->keyring_process,
                      START_TIMEOUT_MS))
    g_error ("gnome-keyring-daemon did not take org.freedesktop.secrets on %s's bus", user->name);
}

TestUser *
test_user_new (const char *name, TestUserFlags flags)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *template = g_strdup_printf ("voipd-test-%s-XXXXXX", name);
  g_autofree char *data_home = NULL, *cache_home = NULL, *state_home = NULL;
  TestUser *user = g_new0 (TestUser, 1);

  user->name = g_strdup (name);
  user->password = g_strdup_printf ("password-%s", name);
  user->flags = flags;
  user->root = g_dir_make_tmp (template, &error);
  g_assert_no_error (error);
  user->home = g_build_filename (user->root, "home", NULL);
  data_home = g_build_filename (user->home, ".local", "share", NULL);
  state_home = g_build_filename (user->home, ".local", "state", NULL);
  user->config_home = g_build_filename (user->home, ".config", NULL);
  cache_home = g_build_filename (user->home, ".cache", NULL);
  user->runtime_dir = g_build_filename (user->root, "run", NULL);
  g_assert_cmpint (g_mkdir_with_parents (data_home, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (state_home, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (user->config_home, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (cache_home, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (user->runtime_dir, 0700), ==, 0);
  g_assert_cmpint (g_chmod (user->runtime_dir, 0700), ==, 0);

  /* A critical in any child of ours is a bug: make it crash. */
  user->env = test_process_environ_fatal (g_get_environ ());
  user->env = g_environ_setenv (user->env, "HOME", user->home, TRUE);
  user->env = g_environ_setenv (user->env, "XDG_DATA_HOME", data_home, TRUE);
  user->env = g_environ_setenv (user->env, "XDG_STATE_HOME", state_home, TRUE);
  user->env = g_environ_setenv (user->env, "XDG_CONFIG_HOME", user->config_home, TRUE);
  user->env = g_environ_setenv (user->env, "XDG_CACHE_HOME", cache_home, TRUE);
  user->env = g_environ_setenv (user->env, "XDG_RUNTIME_DIR", user->runtime_dir, TRUE);
  user->env = g_environ_setenv (user->env, "GSETTINGS_BACKEND", "keyfile", TRUE);
  user->env = g_environ_setenv (user->env, "GIO_USE_VFS", "local", TRUE);
  user->env = g_environ_setenv (user->env, "LC_ALL", "C.UTF-8", TRUE);
  user->env = g_environ_setenv (user->env, "NO_COLOR", "1", TRUE);
  /* Nothing of the real desktop leaks in. */
  for (const char *const *var = (const char *const[]) { "DISPLAY", "WAYLAND_DISPLAY",
         "DBUS_STARTER_ADDRESS", "DBUS_STARTER_BUS_TYPE", "GNOME_KEYRING_CONTROL",
         "SSH_AUTH_SOCK", "XDG_SESSION_TYPE", "XDG_CURRENT_DESKTOP", NULL }; *var; var++)
    user->env = g_environ_unsetenv (user->env, *var);

  start_bus (user);
  if (!(flags & TEST_USER_NO_KEYRING))
    start_keyring (user);
  return user;
}

void
test_user_free (TestUser *user)
{
  if (user == NULL)
    return;
  /* SIGTERM, so that LeakSanitizer runs in the daemon; its exit is checked.
   * Before the bus goes, so that it ends as on a logout, not a lost bus. */
  if (user->daemon != NULL)
    {
      g_autofree char *what = g_strdup_printf ("voipd of %s", user->name);

      test_process_terminate (user->daemon, what);
      if (user->daemon_output_thread != NULL)
        g_thread_join (g_steal_pointer (&user->daemon_output_thread));
      test_process_check_exit (user->daemon, what, &user->daemon_reports);
      test_reports_clear (&user->daemon_reports);
      g_clear_object (&user->daemon);
    }
  if (user->bus != NULL)
    g_dbus_connection_close_sync (user->bus, NULL, NULL);
  g_clear_object (&user->bus);
  kill_and_reap (&user->keyring_process);
  kill_and_reap (&user->bus_process);
  if (g_getenv ("VOIP_TEST_KEEP") == NULL)
    remove_tree (user->root);
  else
    g_printerr ("keeping %s\n", user->root);
  g_free (user->name);
  g_free (user->password);
  g_free (user->server);
  g_free (user->root);
  g_free (user->home);
  g_free (user->config_home);
  g_free (user->runtime_dir);
  g_free (user->daemon_netns);
  g_free (user->bus_address);
  g_strfreev (user->env);
  g_free (user);
}

const char *
test_user_get_name (TestUser *user)
{
  return user->name;
}

const char *
test_user_get_password (TestUser *user)
{
  return user->password;
}

void
test_user_set_password (TestUser *user, const char *password)
{
  g_free (user->password);
  user->password = g_strdup (password);
}

const char *
test_user_get_home (TestUser *user)
{
  return user->home;
}

const char *const *
test_user_get_environ (TestUser *user)
{
  return (const char *const *) user->env;
}

void
test_user_setenv (TestUser *user, const char *variable, const char *value)
{
  user->env = g_environ_setenv (user->env, variable, value, TRUE);
}

GDBusConnection *
test_user_get_bus (TestUser *user)
{
  return user->bus;
}

void
test_user_set_server (TestUser *user, const char *server)
{
  g_free (user->server);
  user->server = g_strdup (server);
}

const char *
test_user_get_server (TestUser *user)
{
  return user->server;
}

void
test_user_set_setting (TestUser *user, const char *key, const char *value)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autofree char *dir = g_build_filename (user->config_home, "glib-2.0", "settings", NULL);
  g_autofree char *path = g_build_filename (dir, "keyfile", NULL);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_key_file_load_from_file (keyfile, path, G_KEY_FILE_KEEP_COMMENTS, NULL);
  /* The keyfile backend's group is the schema path without its slashes at
   * the ends. */
  g_key_file_set_value (keyfile, "org/voipd/Voip1", key, value);
  g_key_file_save_to_file (keyfile, path, &error);
  g_assert_no_error (error);
}

/* ---- the daemon --------------------------------------------------------- */

void
test_user_set_daemon_netns (TestUser *user, const char *netns)
{
  g_free (user->daemon_netns);
  user->daemon_netns = g_strdup (netns);
}

void
test_user_start_daemon (TestUser *user)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autofree char *prefix = NULL;
  const char *binary = g_getenv ("VOIPD");

  g_assert_null (user->daemon);
  if (binary == NULL)
    g_error ("VOIPD is not set; run the daemon tests with meson test");

  /* stderr too: the output thread looks for sanitizer reports in it. The
   * environment has fatal-criticals (test_user_new). */
  launcher = launcher_new (user, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);
  /* `ip netns exec` execs voipd in place: same pid, same death signal. */
  if (user->daemon_netns != NULL)
    user->daemon = g_subprocess_launcher_spawn (launcher, &error, "ip", "netns", "exec",
                                                user->daemon_netns, binary, NULL);
  else
    user->daemon = g_subprocess_launcher_spawn (launcher, &error, binary, NULL);
  g_assert_no_error (error);
  prefix = g_strdup_printf ("[voipd %s] ", user->name);
  user->daemon_output_thread = test_process_watch_output (g_subprocess_get_stdout_pipe (user->daemon),
                                                          prefix, &user->daemon_reports);

  if (!wait_for_name (user, TEST_VOIPD_BUS_NAME, TRUE, user->daemon, START_TIMEOUT_MS))
    {
      if (g_subprocess_get_identifier (user->daemon) == NULL)
        g_error ("voipd of %s exited (wait status %d) before owning %s", user->name,
                 g_subprocess_get_status (user->daemon), TEST_VOIPD_BUS_NAME);
      g_error ("voipd of %s did not own %s within %d ms", user->name, TEST_VOIPD_BUS_NAME,
               START_TIMEOUT_MS);
    }
}

void
test_user_stop_daemon (TestUser *user)
{
  g_autofree char *what = g_strdup_printf ("voipd of %s", user->name);

  g_assert_nonnull (user->daemon);
  if (!test_process_terminate (user->daemon, what))
    g_error ("%s did not exit within %d ms of SIGTERM", what, STOP_TIMEOUT_MS);
  reap_daemon (user, TRUE);
}

void
test_user_kill_daemon (TestUser *user)
{
  g_assert_nonnull (user->daemon);
  g_subprocess_force_exit (user->daemon);
  g_subprocess_wait (user->daemon, NULL, NULL);
  reap_daemon (user, FALSE);
}

void
test_user_restart_daemon (TestUser *user)
{
  test_user_stop_daemon (user);
  test_user_start_daemon (user);
}

gboolean
test_user_daemon_running (TestUser *user)
{
  return user->daemon != NULL && g_subprocess_get_identifier (user->daemon) != NULL;
}

GPid
test_user_get_daemon_pid (TestUser *user)
{
  const char *id = user->daemon ? g_subprocess_get_identifier (user->daemon) : NULL;

  return id ? (GPid) g_ascii_strtoll (id, NULL, 10) : 0;
}

/* ---- commands ----------------------------------------------------------- */

void
test_run_free (TestRun *run)
{
  if (run == NULL)
    return;
  g_free (run->command);
  g_free (run->out);
  g_free (run->err);
  g_free (run);
}

typedef struct {
  gboolean  done;
  GBytes   *out;
  GBytes   *err;
  GError   *error;
} Communication;

static void
on_communicate_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Communication *c = user_data;

  g_subprocess_communicate_finish (G_SUBPROCESS (source), result, &c->out, &c->err, &c->error);
  c->done = TRUE;
}

static char *
bytes_to_string (GBytes *bytes)
{
  gsize len = 0;
  const char *data = bytes ? g_bytes_get_data (bytes, &len) : NULL;

  return g_strndup (data ? data : "", len);
}

/* A command that crashed or printed a sanitizer report fails the test, even
 * where the test expects the command to fail (voipctl_fails). */
static void
check_run (TestUser *user, TestRun *run, GSubprocess *process)
{
  g_auto(GStrv) lines = g_strsplit (run->err, "\n", -1);
  g_autofree char *what = g_strdup_printf ("%s: `%s`", user->name, run->command);
  TestReports reports = { 0, };

  for (char **line = lines; *line != NULL; line++)
    test_reports_scan (&reports, *line);
  if (g_subprocess_get_if_signaled (process))
    test_process_fail ("%s was killed by signal %d; its stderr:\n%s", what,
                       g_subprocess_get_term_sig (process), run->err);
  test_process_check_reports (what, &reports);
  test_reports_clear (&reports);
}

TestRun *
test_user_run (TestUser *user, const char *input, const char *const *argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GSource) timeout = g_timeout_source_new (TEST_USER_COMMAND_MS);
  g_autoptr(GBytes) stdin_bytes = g_bytes_new (input ? input : "", input ? strlen (input) : 0);
  Communication c = { 0, };
  gboolean timed_out = FALSE;
  TestRun *run = g_new0 (TestRun, 1);

  run->command = join_argv (argv);
  launcher = launcher_new (user, G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                 | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  if (process == NULL)
    g_error ("%s: cannot run %s: %s", user->name, run->command, error->message);

  g_main_context_push_thread_default (context);
  g_subprocess_communicate_async (process, stdin_bytes, NULL, on_communicate_done, &c);
  g_source_set_callback (timeout, set_flag, &timed_out, NULL);
  g_source_attach (timeout, context);
  while (!c.done && !timed_out)
    g_main_context_iteration (context, TRUE);
  g_source_destroy (timeout);
  if (!c.done)
    {
      g_subprocess_force_exit (process);
      while (!c.done)
        g_main_context_iteration (context, TRUE);
      g_main_context_pop_thread_default (context);
      g_error ("%s: `%s` did not finish within %d ms (it hangs)", user->name, run->command,
               TEST_USER_COMMAND_MS);
    }
  g_subprocess_wait (process, NULL, NULL);
  g_main_context_pop_thread_default (context);
  if (c.error != NULL)
    g_error ("%s: `%s`: %s", user->name, run->command, c.error->message);

  run->out = bytes_to_string (c.out);
  run->err = bytes_to_string (c.err);
  run->exit_status = g_subprocess_get_if_exited (process) ? g_subprocess_get_exit_status (process) : -1;
  g_clear_pointer (&c.out, g_bytes_unref);
  g_clear_pointer (&c.err, g_bytes_unref);
  check_run (user, run, process);

  if (g_getenv ("VOIP_TEST_VERBOSE") != NULL)
    g_printerr ("%s$ %s  -> %d\n%s%s", user->name, run->command, run->exit_status,
                run->out, run->err);
  return run;
}

static TestRun *
run_voipctl_va (TestUser *user, const char *input, const char *first_arg, va_list args)
{
  g_autoptr(GPtrArray) argv = collect_args (voipctl_path (), first_arg, args);

  return test_user_run (user, input, (const char *const *) argv->pdata);
}

TestRun *
test_user_voipctlv (TestUser *user, const char *input, const char *first_arg, ...)
{
  va_list args;
  TestRun *run;

  va_start (args, first_arg);
  run = run_voipctl_va (user, input, first_arg, args);
  va_end (args);
  return run;
}

static void
fail_run (const char *file, int line, TestUser *user, TestRun *run, const char *why)
{
  g_autofree char *message = g_strdup_printf ("%s: `%s` %s (exit status %d)\n"
                                              "--- stdout:\n%s\n--- stderr:\n%s",
                                              user->name, run->command, why,
                                              run->exit_status, run->out, run->err);

  g_assertion_message (G_LOG_DOMAIN, file, line, "voipctl", message);
}

char *
test_user_voipctl_ok_at (const char *file, int line, TestUser *user, const char *input,
                         const char *first_arg, ...)
{
  g_autoptr(TestRun) run = NULL;
  va_list args;

  va_start (args, first_arg);
  run = run_voipctl_va (user, input, first_arg, args);
  va_end (args);
  if (run->exit_status != 0)
    fail_run (file, line, user, run, "failed");
  return g_steal_pointer (&run->out);
}

JsonNode *
test_user_voipctl_json_at (const char *file, int line, TestUser *user, const char *first_arg, ...)
{
  g_autoptr(TestRun) run = NULL;
  g_autoptr(GError) error = NULL;
  JsonNode *root;
  va_list args;

  va_start (args, first_arg);
  run = run_voipctl_va (user, NULL, first_arg, args);
  va_end (args);
  if (run->exit_status != 0)
    fail_run (file, line, user, run, "failed");
  root = json_from_string (run->out, &error);
  if (root == NULL)
    {
      g_autofree char *why = g_strdup_printf ("printed no JSON document (%s)",
                                              error ? error->message : "empty output");
      fail_run (file, line, user, run, why);
    }
  return root;
}

char *
test_user_voipctl_fails_at (const char *file, int line, TestUser *user, const char *input,
                            const char *first_arg, ...)
{
  g_autoptr(TestRun) run = NULL;
  va_list args;

  va_start (args, first_arg);
  run = run_voipctl_va (user, input, first_arg, args);
  va_end (args);
  if (run->exit_status == 0)
    fail_run (file, line, user, run, "succeeded but should have failed");
  if (strspn (run->err, " \t\r\n") == strlen (run->err))
    fail_run (file, line, user, run, "failed without a message on stderr");
  return g_steal_pointer (&run->err);
}

/* ---- JSON --------------------------------------------------------------- */

char *
test_json_to_string (JsonNode *node)
{
  return node ? json_to_string (node, FALSE) : g_strdup ("(null)");
}

static char *
object_to_string (JsonObject *object)
{
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), object);

  return test_json_to_string (node);
}

JsonArray *
test_json_list (JsonNode *root)
{
  g_autofree char *text = NULL;

  if (JSON_NODE_HOLDS_ARRAY (root))
    return json_node_get_array (root);
  if (JSON_NODE_HOLDS_OBJECT (root))
    {
      JsonObject *object = json_node_get_object (root);
      g_autoptr(GList) members = json_object_get_values (object);

      if (g_list_length (members) == 1 && JSON_NODE_HOLDS_ARRAY (members->data))
        return json_node_get_array (members->data);
    }
  text = test_json_to_string (root);
  g_error ("expected a JSON list (an array, or an object holding one), got %s", text);
}

JsonObject *
test_json_object (JsonNode *root)
{
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      g_autofree char *text = test_json_to_string (root);
      g_error ("expected a JSON object, got %s", text);
    }
  return json_node_get_object (root);
}

static JsonNode *
get_member (JsonObject *object, const char *key, GType value_type)
{
  JsonNode *node = json_object_get_member (object, key);

  if (node == NULL || json_node_get_node_type (node) != JSON_NODE_VALUE
      || (value_type == G_TYPE_INT64 && json_node_get_value_type (node) != G_TYPE_INT64)
      || (value_type == G_TYPE_STRING && json_node_get_value_type (node) != G_TYPE_STRING)
      || (value_type == G_TYPE_BOOLEAN && json_node_get_value_type (node) != G_TYPE_BOOLEAN))
    {
      g_autofree char *text = object_to_string (object);
      g_error ("expected a %s member \"%s\" in %s", g_type_name (value_type), key, text);
    }
  return node;
}

const char *
test_json_get_string (JsonObject *object, const char *key)
{
  return json_node_get_string (get_member (object, key, G_TYPE_STRING));
}

gint64
test_json_get_int (JsonObject *object, const char *key)
{
  return json_node_get_int (get_member (object, key, G_TYPE_INT64));
}

gboolean
test_json_get_bool (JsonObject *object, const char *key)
{
  return json_node_get_boolean (get_member (object, key, G_TYPE_BOOLEAN));
}

JsonArray *
test_json_get_array (JsonObject *object, const char *key)
{
  JsonNode *node = json_object_get_member (object, key);

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    {
      g_autofree char *text = object_to_string (object);
      g_error ("expected an array member \"%s\" in %s", key, text);
    }
  return json_node_get_array (node);
}

JsonObject *
test_json_find (JsonArray *list, const char *key, const char *value)
{
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *object = json_array_get_object_element (list, i);
      JsonNode *node = object ? json_object_get_member (object, key) : NULL;

      if (node != NULL && JSON_NODE_HOLDS_VALUE (node)
          && json_node_get_value_type (node) == G_TYPE_STRING
          && g_strcmp0 (json_node_get_string (node), value) == 0)
        return object;
    }
  return NULL;
}

JsonObject *
test_json_find_int (JsonArray *list, const char *key, gint64 value)
{
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *object = json_array_get_object_element (list, i);
      JsonNode *node = object ? json_object_get_member (object, key) : NULL;

      if (node != NULL && JSON_NODE_HOLDS_VALUE (node)
          && json_node_get_value_type (node) == G_TYPE_INT64
          && json_node_get_int (node) == value)
        return object;
    }
  return NULL;
}

GStrv
test_json_strv (JsonArray *array)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  for (guint i = 0; i < json_array_get_length (array); i++)
    g_strv_builder_add (builder, json_array_get_string_element (array, i));
  return g_strv_builder_end (builder);
}

/* ---- waiting ------------------------------------------------------------ */

void
test_iterate_for (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, set_flag, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

gboolean
test_user_wait (TestUser *user, guint timeout_ms, TestUserCheck check, gpointer data)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  for (;;)
    {
      if (check (user, data))
        return TRUE;
      /* A daemon that died will not make anything come true: say so now. */
      if (user->daemon != NULL && g_subprocess_get_identifier (user->daemon) == NULL)
        g_error ("voipd of %s died (wait status %d; see its output above)", user->name,
                 g_subprocess_get_status (user->daemon));
      if (g_get_monotonic_time () > deadline)
        return FALSE;
      test_iterate_for (POLL_MS);
    }
}

typedef struct {
  const char *username, *key, *value;  /* contacts */
  const char *conversation, *text;     /* messages */
  gboolean    present;
  guint64     id;
  char       *last;                    /* the last output seen, for the failure message */
} WaitData;

static void
remember_output (WaitData *wait, TestRun *run)
{
  g_free (wait->last);
  wait->last = g_strdup_printf ("`%s` -> exit %d\n%s%s", run->command, run->exit_status,
                                run->out, run->err);
}

static gboolean
check_state (TestUser *user, gpointer data)
{
  WaitData *wait = data;
  g_autoptr(TestRun) run = test_user_voipctlv (user, NULL, "status", "--json", NULL);
  g_autoptr(JsonNode) root = NULL;
  JsonNode *state;

  remember_output (wait, run);
  if (run->exit_status != 0 || (root = json_from_string (run->out, NULL)) == NULL
      || !JSON_NODE_HOLDS_OBJECT (root))
    return FALSE;
  state = json_object_get_member (json_node_get_object (root), "state");
  return state != NULL && JSON_NODE_HOLDS_VALUE (state)
         && g_strcmp0 (json_node_get_string (state), wait->value) == 0;
}

void
test_user_wait_state_at (const char *file, int line, TestUser *user, const char *state)
{
  WaitData wait = { .value = state };

  if (!test_user_wait (user, TEST_USER_WAIT_MS, check_state, &wait))
    {
      g_autofree char *message = g_strdup_printf ("%s: state never became %s; last: %s",
                                                  user->name, state, wait.last);
      g_assertion_message (G_LOG_DOMAIN, file, line, "wait_state", message);
    }
  g_free (wait.last);
}

static gboolean
check_contact (TestUser *user, gpointer data)
{
  WaitData *wait = data;
  g_autoptr(TestRun) run = test_user_voipctlv (user, NULL, "contacts", "--json", NULL);
  g_autoptr(JsonNode) root = NULL;
  JsonObject *contact;
  JsonNode *node;

  remember_output (wait, run);
  if (run->exit_status != 0 || (root = json_from_string (run->out, NULL)) == NULL)
    return FALSE;
  contact = test_json_find (test_json_list (root), "username", wait->username);
  if (wait->value == NULL)
    return contact == NULL;
  if (contact == NULL)
    return FALSE;
  node = json_object_get_member (contact, wait->key);
  return node != NULL && JSON_NODE_HOLDS_VALUE (node)
         && json_node_get_value_type (node) == G_TYPE_STRING
         && g_strcmp0 (json_node_get_string (node), wait->value) == 0;
}

void
test_user_wait_contact_at (const char *file, int line, TestUser *user, const char *username,
                           const char *key, const char *value)
{
  WaitData wait = { .username = username, .key = key, .value = value };

  if (!test_user_wait (user, TEST_USER_WAIT_MS, check_contact, &wait))
    {
      g_autofree char *message = NULL;

      if (value != NULL)
        message = g_strdup_printf ("%s: contact %s never had %s = \"%s\"; last: %s",
                                   user->name, username, key, value, wait.last);
      else
        message = g_strdup_printf ("%s: contact %s never went away; last: %s",
                                   user->name, username, wait.last);
      g_assertion_message (G_LOG_DOMAIN, file, line, "wait_contact", message);
    }
  g_free (wait.last);
}

static GPtrArray *
history_argv (const char *conversation, guint limit, gboolean json)
{
  GPtrArray *argv = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (argv, g_strdup (voipctl_path ()));
  g_ptr_array_add (argv, g_strdup ("history"));
  if (g_str_has_prefix (conversation, "--group "))
    {
      g_ptr_array_add (argv, g_strdup ("--group"));
      g_ptr_array_add (argv, g_strdup (conversation + strlen ("--group ")));
    }
  else
    g_ptr_array_add (argv, g_strdup (conversation));
  if (limit > 0)
    {
      g_ptr_array_add (argv, g_strdup ("--limit"));
      g_ptr_array_add (argv, g_strdup_printf ("%u", limit));
    }
  if (json)
    g_ptr_array_add (argv, g_strdup ("--json"));
  g_ptr_array_add (argv, NULL);
  return argv;
}

static TestRun *
run_history (TestUser *user, const char *conversation, guint limit)
{
  g_autoptr(GPtrArray) argv = history_argv (conversation, limit, TRUE);

  return test_user_run (user, NULL, (const char *const *) argv->pdata);
}

JsonArray *
test_user_history (TestUser *user, const char *conversation, guint limit)
{
  g_autoptr(TestRun) run = run_history (user, conversation, limit);
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;

  if (run->exit_status != 0)
    fail_run (__FILE__, __LINE__, user, run, "failed");
  root = json_from_string (run->out, &error);
  if (root == NULL)
    fail_run (__FILE__, __LINE__, user, run, "printed no JSON document");
  return json_array_ref (test_json_list (root));
}

static gboolean
check_message (TestUser *user, gpointer data)
{
  WaitData *wait = data;
  g_autoptr(TestRun) run = run_history (user, wait->conversation, 500);
  g_autoptr(JsonNode) root = NULL;
  JsonObject *message;

  remember_output (wait, run);
  if (run->exit_status != 0 || (root = json_from_string (run->out, NULL)) == NULL)
    return FALSE;
  message = test_json_find (test_json_list (root), "text", wait->text);
  if (message != NULL && json_object_has_member (message, "id"))
    wait->id = json_object_get_int_member (message, "id");
  return (message != NULL) == wait->present;
}

guint64
test_user_wait_message_at (const char *file, int line, TestUser *user, const char *conversation,
                           const char *text, gboolean present)
{
  WaitData wait = { .conversation = conversation, .text = text, .present = present };

  if (!test_user_wait (user, TEST_USER_WAIT_MS, check_message, &wait))
    {
      g_autofree char *message = g_strdup_printf ("%s: history of %s never %s \"%s\"; last: %s",
                                                  user->name, conversation,
                                                  present ? "held" : "lost", text, wait.last);
      g_assertion_message (G_LOG_DOMAIN, file, line, "wait_message", message);
    }
  g_free (wait.last);
  return wait.id;
}

/* ---- accounts ----------------------------------------------------------- */

static gboolean
check_remember_login (TestUser *user, gpointer data)
{
  WaitData *wait = data;
  g_autoptr(TestRun) run = test_user_voipctlv (user, NULL, "status", "--json", NULL);
  g_autoptr(JsonNode) root = NULL;
  JsonNode *remember;

  remember_output (wait, run);
  if (run->exit_status != 0 || (root = json_from_string (run->out, NULL)) == NULL
      || !JSON_NODE_HOLDS_OBJECT (root))
    return FALSE;
  remember = json_object_get_member (json_node_get_object (root), "remember_login");
  return remember != NULL && JSON_NODE_HOLDS_VALUE (remember)
         && json_node_get_value_type (remember) == G_TYPE_BOOLEAN
         && json_node_get_boolean (remember);
}

static void
sign_in (TestUser *user, const char *verb)
{
  g_autofree char *input = g_strdup_printf ("%s\n", user->password);
  g_autofree char *out = NULL;

  g_assert_nonnull (user->server);
  out = test_user_voipctl_ok_at (__FILE__, __LINE__, user, input, verb, "--server", user->server,
                                 user->name, "--password-stdin", NULL);
  test_user_wait_state (user, "online");
  /* With a keyring, the token is stored just after; signed in means both. */
  if (!(user->flags & TEST_USER_NO_KEYRING))
    {
      WaitData wait = { .key = "remember_login" };

      if (!test_user_wait (user, TEST_USER_WAIT_MS, check_remember_login, &wait))
        g_error ("%s: online, but status never said remember_login true (the token should be "
                 "in the keyring); last: %s", user->name, wait.last);
      g_free (wait.last);
    }
}

void
test_user_register (TestUser *user)
{
  sign_in (user, "register");
}

void
test_user_login (TestUser *user)
{
  sign_in (user, "login");
}

void
test_user_befriend (TestUser *a, TestUser *b)
{
  g_free (voipctl_ok (a, "contact", "add", b->name));
  test_user_wait_contact (b, a->name, "subscription", "incoming");
  g_free (voipctl_ok (b, "contact", "accept", a->name));
  test_user_wait_contact (a, b->name, "subscription", "friend");
  test_user_wait_contact (b, a->name, "subscription", "friend");
}

/* ---- D-Bus -------------------------------------------------------------- */

char *
test_contact_path (const char *username)
{
  g_autofree char *escaped = g_dbus_escape_object_path (username);

  return g_strdup_printf (TEST_VOIPD_PATH "/contact/%s", escaped);
}

static char *
full_interface (const char *interface)
{
  if (strchr (interface, '.') != NULL)
    return g_strdup (interface);
  return g_strdup_printf ("org.voipd.Voip1.%s", interface);
}

GVariant *
test_user_call (TestUser *user, const char *path, const char *interface, const char *method,
                GVariant *parameters, GError **error)
{
  g_autofree char *iface = full_interface (interface);

  return g_dbus_connection_call_sync (user->bus, TEST_VOIPD_BUS_NAME, path, iface, method,
                                      parameters, NULL, G_DBUS_CALL_FLAGS_NONE, 30000, NULL,
                                      error);
}

GVariant *
test_user_get_property (TestUser *user, const char *path, const char *interface,
                        const char *property)
{
  g_autofree char *iface = full_interface (interface);
  g_autoptr(GVariant) reply = NULL;
  GVariant *value = NULL;

  reply = g_dbus_connection_call_sync (user->bus, TEST_VOIPD_BUS_NAME, path,
                                       "org.freedesktop.DBus.Properties", "Get",
                                       g_variant_new ("(ss)", iface, property),
                                       G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NONE, 30000,
                                       NULL, NULL);
  if (reply != NULL)
    g_variant_get (reply, "(v)", &value);
  return value;
}

char *
test_user_call_fails_at (const char *file, int line, TestUser *user, const char *path,
                         const char *interface, const char *method, GVariant *parameters,
                         const char *error_name)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autofree char *remote = NULL;
  gsize len = strlen (error_name);
  gboolean prefix = len > 0 && error_name[len - 1] == '*';
  gboolean matches;

  g_variant_ref_sink (parameters);
  reply = test_user_call (user, path, interface, method, parameters, &error);
  g_variant_unref (parameters);
  if (reply != NULL)
    {
      g_autofree char *message = g_strdup_printf ("%s: %s.%s on %s succeeded; expected %s",
                                                  user->name, interface, method, path, error_name);
      g_assertion_message (G_LOG_DOMAIN, file, line, "call_fails", message);
    }
  remote = g_dbus_error_get_remote_error (error);
  matches = remote != NULL && (prefix ? strncmp (remote, error_name, len - 1) == 0
                                      : strcmp (remote, error_name) == 0);
  if (!matches)
    {
      g_autofree char *message = g_strdup_printf ("%s: %s.%s on %s failed with %s (%s); expected %s",
                                                  user->name, interface, method, path,
                                                  remote ? remote : "(no D-Bus error name)",
                                                  error->message, error_name);
      g_assertion_message (G_LOG_DOMAIN, file, line, "call_fails", message);
    }
  g_dbus_error_strip_remote_error (error);
  return g_strdup (error->message);
}

static void
signal_record_free (gpointer data)
{
  SignalRecord *record = data;

  g_free (record->member);
  g_free (record->path);
  g_free (record->parameters);
  g_free (record);
}

static void
on_signal (GDBusConnection *connection, const char *sender, const char *path,
           const char *interface, const char *member, GVariant *parameters, gpointer user_data)
{
  TestSignals *signals = user_data;
  SignalRecord *record;

  if (!g_str_has_prefix (path, TEST_VOIPD_PATH))
    return;
  record = g_new0 (SignalRecord, 1);
  record->member = g_strdup (member);
  record->path = g_strdup (path);
  record->parameters = g_variant_print (parameters, FALSE);
  if (g_getenv ("VOIP_TEST_VERBOSE") != NULL)
    g_printerr ("[signal] %s %s.%s %s\n", path, interface, member, record->parameters);
  g_ptr_array_add (signals->records, record);
}

TestSignals *
test_user_watch_signals (TestUser *user)
{
  TestSignals *signals = g_new0 (TestSignals, 1);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;

  signals->bus = g_object_ref (user->bus);
  signals->records = g_ptr_array_new_with_free_func (signal_record_free);
  signals->subscription = g_dbus_connection_signal_subscribe (user->bus, NULL, NULL, NULL, NULL,
                                                              NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                                              on_signal, signals, NULL);
  /* The match rule is in place once the bus has answered a later call. */
  reply = g_dbus_connection_call_sync (user->bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus.Peer", "Ping", NULL, NULL,
                                       G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &error);
  g_assert_no_error (error);
  return signals;
}

void
test_signals_free (TestSignals *signals)
{
  if (signals == NULL)
    return;
  g_dbus_connection_signal_unsubscribe (signals->bus, signals->subscription);
  g_object_unref (signals->bus);
  g_ptr_array_unref (signals->records);
  g_free (signals);
}

char *
test_signals_wait_at (const char *file, int line, TestSignals *signals, const char *member,
                      const char *path_prefix, ...)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) TEST_USER_WAIT_MS * 1000;
  g_autoptr(GPtrArray) needles = g_ptr_array_new ();
  g_autoptr(GString) seen = NULL;
  g_autofree char *wanted = NULL;
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, path_prefix);
  for (const char *needle = va_arg (args, const char *); needle != NULL;
       needle = va_arg (args, const char *))
    g_ptr_array_add (needles, (gpointer) needle);
  va_end (args);

  for (;;)
    {
      for (guint i = 0; i < signals->records->len; i++)
        {
          SignalRecord *record = signals->records->pdata[i];
          gboolean all = strcmp (record->member, member) == 0
                         && (path_prefix == NULL || g_str_has_prefix (record->path, path_prefix));

          for (guint n = 0; n < needles->len && all; n++)
            all = strstr (record->parameters, needles->pdata[n]) != NULL;
          if (all)
            {
              char *parameters = g_steal_pointer (&record->parameters);

              g_ptr_array_remove_index (signals->records, i);
              return parameters;
            }
        }
      if (g_get_monotonic_time () > deadline)
        break;
      test_iterate_for (POLL_MS);
    }

  seen = g_string_new (NULL);
  for (guint i = 0; i < signals->records->len; i++)
    {
      SignalRecord *record = signals->records->pdata[i];
      g_string_append_printf (seen, "\n  %s %s %s", record->path, record->member, record->parameters);
    }
  g_ptr_array_add (needles, NULL);
  wanted = g_strjoinv ("\", \"", (char **) needles->pdata);
  message = g_strdup_printf ("no signal %s on %s with \"%s\"; unmatched signals:%s", member,
                             path_prefix ? path_prefix : "any path", wanted, seen->str);
  g_assertion_message (G_LOG_DOMAIN, file, line, "signals_wait", message);
  return NULL;
}

void
test_signals_assert_none (TestSignals *signals, const char *member, const char *path_prefix,
                          const char *needle)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
  for (guint i = 0; i < signals->records->len; i++)
    {
      SignalRecord *record = signals->records->pdata[i];

      if (strcmp (record->member, member) == 0
          && (path_prefix == NULL || g_str_has_prefix (record->path, path_prefix))
          && (needle == NULL || strstr (record->parameters, needle) != NULL))
        g_error ("unexpected signal %s on %s: %s", member, record->path, record->parameters);
    }
}

/* ---- voipctl monitor ---------------------------------------------------- */

static gpointer
monitor_main (gpointer data)
{
  TestMonitor *monitor = data;
  g_autoptr(GDataInputStream) lines = NULL;
  char *line;

  lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (monitor->process));
  while ((line = g_data_input_stream_read_line_utf8 (lines, NULL, NULL, NULL)) != NULL)
    {
      if (g_getenv ("VOIP_TEST_VERBOSE") != NULL)
        g_printerr ("[monitor %s] %s\n", monitor->user->name, line);
      g_mutex_lock (&monitor->lock);
      g_ptr_array_add (monitor->lines, line);
      g_cond_broadcast (&monitor->cond);
      g_mutex_unlock (&monitor->lock);
    }
  g_mutex_lock (&monitor->lock);
  monitor->closed = TRUE;
  g_cond_broadcast (&monitor->cond);
  g_mutex_unlock (&monitor->lock);
  return NULL;
}

/* The unique name on the bus of the connection of process `pid`, or NULL. */
static char *
find_connection_of (TestUser *user, GPid pid)
{
  g_autoptr(GVariant) names = NULL;
  g_autoptr(GVariantIter) iter = NULL;
  const char *name;

  names = g_dbus_connection_call_sync (user->bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "ListNames", NULL,
                                       G_VARIANT_TYPE ("(as)"), G_DBUS_CALL_FLAGS_NONE, 5000,
                                       NULL, NULL);
  if (names == NULL)
    return NULL;
  g_variant_get (names, "(as)", &iter);
  while (g_variant_iter_loop (iter, "&s", &name))
    {
      g_autoptr(GVariant) reply = NULL;
      guint32 owner_pid = 0;

      if (name[0] != ':')
        continue;
      reply = g_dbus_connection_call_sync (user->bus, "org.freedesktop.DBus",
                                           "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                           "GetConnectionUnixProcessID", g_variant_new ("(s)", name),
                                           G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, 5000,
                                           NULL, NULL);
      if (reply != NULL)
        g_variant_get (reply, "(u)", &owner_pid);
      if ((GPid) owner_pid == pid)
        return g_strdup (name);
    }
  return NULL;
}

static guint
match_rules_of (TestUser *user, const char *unique_name)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) stats = NULL;
  guint32 rules = 0;

  reply = g_dbus_connection_call_sync (user->bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus.Debug.Stats", "GetConnectionStats",
                                       g_variant_new ("(s)", unique_name),
                                       G_VARIANT_TYPE ("(a{sv})"), G_DBUS_CALL_FLAGS_NONE, 5000,
                                       NULL, NULL);
  if (reply == NULL)
    return G_MAXUINT;   /* no statistics in this dbus-daemon: cannot tell */
  stats = g_variant_get_child_value (reply, 0);
  g_variant_lookup (stats, "MatchRules", "u", &rules);
  return rules;
}

TestMonitor *
test_user_monitor (TestUser *user)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  TestMonitor *monitor = g_new0 (TestMonitor, 1);
  g_autofree char *prefix = NULL;
  gint64 deadline = g_get_monotonic_time () + (gint64) START_TIMEOUT_MS * 1000;
  GPid pid;

  monitor->user = user;
  monitor->lines = g_ptr_array_new_with_free_func (g_free);
  g_mutex_init (&monitor->lock);
  g_cond_init (&monitor->cond);
  launcher = launcher_new (user, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  monitor->process = g_subprocess_launcher_spawn (launcher, &error, voipctl_path (),
                                                  "monitor", "--json", NULL);
  g_assert_no_error (error);
  monitor->thread = g_thread_new ("monitor", monitor_main, monitor);
  prefix = g_strdup_printf ("[voipctl monitor %s] ", user->name);
  monitor->stderr_thread = test_process_watch_output (g_subprocess_get_stderr_pipe (monitor->process),
                                                      prefix, &monitor->reports);

  /* Events before the monitor subscribed would be lost: wait until its
   * connection has asked the bus for signals. */
  pid = (GPid) g_ascii_strtoll (g_subprocess_get_identifier (monitor->process), NULL, 10);
  for (;;)
    {
      g_autofree char *name = find_connection_of (user, pid);

      if (name != NULL && match_rules_of (user, name) > 0)
        break;
      if (g_subprocess_get_identifier (monitor->process) == NULL)
        g_error ("%s: voipctl monitor --json exited at once (wait status %d)", user->name,
                 g_subprocess_get_status (monitor->process));
      if (g_get_monotonic_time () > deadline)
        g_error ("%s: voipctl monitor --json never subscribed to signals", user->name);
      g_usleep (20 * 1000);
    }
  /* Its object manager client subscribes and then reads the objects; a
   * moment for the rest of its set-up (not an assertion). */
  test_iterate_for (300);
  return monitor;
}

void
test_monitor_free (TestMonitor *monitor)
{
  g_autofree char *what = NULL;

  if (monitor == NULL)
    return;
  what = g_strdup_printf ("voipctl monitor of %s", monitor->user->name);
  /* Ctrl-C, as a person ends it; it must exit cleanly. */
  g_subprocess_send_signal (monitor->process, SIGINT);
  if (!test_process_wait_exit (monitor->process, STOP_TIMEOUT_MS))
    {
      test_process_fail ("%s did not exit within %d ms of SIGINT", what, STOP_TIMEOUT_MS);
      g_subprocess_force_exit (monitor->process);
      g_subprocess_wait (monitor->process, NULL, NULL);
    }
  g_thread_join (monitor->thread);
  g_thread_join (monitor->stderr_thread);
  test_process_check_exit (monitor->process, what, &monitor->reports);
  test_reports_clear (&monitor->reports);
  g_clear_object (&monitor->process);
  g_ptr_array_unref (monitor->lines);
  g_mutex_clear (&monitor->lock);
  g_cond_clear (&monitor->cond);
  g_free (monitor);
}

char *
test_monitor_wait_at (const char *file, int line, TestMonitor *monitor,
                      const char *first_needle, ...)
{
  g_autoptr(GPtrArray) needles = g_ptr_array_new ();
  gint64 deadline = g_get_monotonic_time () + (gint64) TEST_USER_WAIT_MS * 1000;
  g_autoptr(GString) seen = g_string_new (NULL);
  g_autofree char *message = NULL;
  char *found = NULL;
  va_list args;

  va_start (args, first_needle);
  for (const char *needle = first_needle; needle != NULL; needle = va_arg (args, const char *))
    g_ptr_array_add (needles, (gpointer) needle);
  va_end (args);

  g_mutex_lock (&monitor->lock);
  for (;;)
    {
      for (guint i = 0; i < monitor->lines->len && found == NULL; i++)
        {
          const char *text = monitor->lines->pdata[i];
          gboolean all = TRUE;

          for (guint n = 0; n < needles->len && all; n++)
            all = strstr (text, needles->pdata[n]) != NULL;
          if (all)
            {
              found = g_strdup (text);
              g_ptr_array_remove_index (monitor->lines, i);
            }
        }
      if (found != NULL || monitor->closed)
        break;
      if (!g_cond_wait_until (&monitor->cond, &monitor->lock, deadline))
        break;
    }
  for (guint i = 0; i < monitor->lines->len; i++)
    g_string_append_printf (seen, "\n  %s", (char *) monitor->lines->pdata[i]);
  g_mutex_unlock (&monitor->lock);

  if (found != NULL)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonNode) node = json_from_string (found, &error);

      if (node == NULL)
        {
          message = g_strdup_printf ("%s: voipctl monitor --json printed a line that is not JSON "
                                     "(%s): %s", monitor->user->name,
                                     error ? error->message : "empty", found);
          g_assertion_message (G_LOG_DOMAIN, file, line, "monitor_wait", message);
        }
      return found;
    }

  message = g_strdup_printf ("%s: voipctl monitor --json printed no line with \"%s\"%s; "
                             "lines not yet matched:%s", monitor->user->name,
                             first_needle, needles->len > 1 ? " (and more)" : "", seen->str);
  g_assertion_message (G_LOG_DOMAIN, file, line, "monitor_wait", message);
  return NULL;
}

/* ---- files -------------------------------------------------------------- */

static guint32
ogg_crc (const guint8 *data, gsize len)
{
  static guint32 table[256];
  guint32 crc = 0;

  if (table[1] == 0)
    for (guint32 i = 0; i < 256; i++)
      {
        guint32 r = i << 24;

        for (int bit = 0; bit < 8; bit++)
          r = (r & 0x80000000u) ? (r << 1) ^ 0x04c11db7u : r << 1;
        table[i] = r;
      }
  for (gsize i = 0; i < len; i++)
    crc = (crc << 8) ^ table[((crc >> 24) & 0xff) ^ data[i]];
  return crc;
}

/* One Ogg page holding the given packets (each under 255 bytes). */
static void
append_ogg_page (GByteArray *file, guint8 header_type, guint64 granule, guint32 sequence,
                 const guint8 *const *packets, const gsize *sizes, guint n_packets)
{
  gsize start = file->len;
  guint8 header[27] = { 'O', 'g', 'g', 'S', 0, header_type, };
  guint32 crc;

  for (int i = 0; i < 8; i++)
    header[6 + i] = (granule >> (8 * i)) & 0xff;
  header[14] = 0x56;                        /* serial number 0x00000056 */
  for (int i = 0; i < 4; i++)
    header[18 + i] = (sequence >> (8 * i)) & 0xff;
  header[26] = n_packets;
  g_byte_array_append (file, header, sizeof header);
  for (guint i = 0; i < n_packets; i++)
    {
      guint8 lacing = sizes[i];
      g_byte_array_append (file, &lacing, 1);
    }
  for (guint i = 0; i < n_packets; i++)
    g_byte_array_append (file, packets[i], sizes[i]);

  crc = ogg_crc (file->data + start, file->len - start);
  for (int i = 0; i < 4; i++)
    file->data[start + 22 + i] = (crc >> (8 * i)) & 0xff;
}

char *
test_user_write_ogg_opus (TestUser *user, const char *basename)
{
  static const guint8 head[] = { 'O', 'p', 'u', 's', 'H', 'e', 'a', 'd', 1, 1,
                                 0x38, 0x01,               /* pre-skip 312 */
                                 0x80, 0xbb, 0, 0,         /* 48000 Hz */
                                 0, 0, 0 };
  static const guint8 tags[] = { 'O', 'p', 'u', 's', 'T', 'a', 'g', 's',
                                 9, 0, 0, 0, 'v', 'o', 'i', 'p', '-', 't', 'e', 's', 't',
                                 0, 0, 0, 0 };
  /* 20 ms of silence (CELT, fullband, mono): TOC 0xf8 and an empty frame. */
  static const guint8 silence[] = { 0xf8, 0xff, 0xfe };
  const guint8 *packets[50];
  gsize sizes[50];
  const guint8 *one[1];
  gsize one_size[1];
  g_autoptr(GByteArray) file = g_byte_array_new ();
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (user->home, basename, NULL);

  one[0] = head;
  one_size[0] = sizeof head;
  append_ogg_page (file, 0x02, 0, 0, one, one_size, 1);
  one[0] = tags;
  one_size[0] = sizeof tags;
  append_ogg_page (file, 0x00, 0, 1, one, one_size, 1);
  for (guint i = 0; i < G_N_ELEMENTS (packets); i++)
    {
      packets[i] = silence;
      sizes[i] = sizeof silence;
    }
  /* 50 × 20 ms = 1 s after the pre-skip. */
  append_ogg_page (file, 0x04, 48000 + 312, 2, packets, sizes, G_N_ELEMENTS (packets));

  g_file_set_contents (path, (const char *) file->data, file->len, &error);
  g_assert_no_error (error);
  return path;
}
