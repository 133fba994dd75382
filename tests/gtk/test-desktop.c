/* test-desktop.c — Xvfb, the accessibility bus and the app, for one user. */
#include "test-desktop.h"
#include "test-process.h"

#include <gio/gunixinputstream.h>
#include <signal.h>
#include <sys/prctl.h>
#include <string.h>
#include <unistd.h>

#define START_MS 30000
#define A11Y_CONFIG "/usr/share/defaults/at-spi2/accessibility.conf"
#define APP_ID "org.voipd.Voip"

typedef struct {
  GSubprocess *process;
  GThread     *thread;
  TestReports  reports;
  char        *what;
} Child;

struct _TestDesktop
{
  TestUser        *user;
  GSubprocess     *xvfb;
  GSubprocess     *a11y_bus;
  GDBusConnection *a11y;
  char            *display;
  GPtrArray       *apps;     /* Child */
};

/* Children die with the test, even when it aborts. */
static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static GSubprocessLauncher *
launcher_new (TestDesktop *desktop, GSubprocessFlags flags)
{
  GSubprocessLauncher *launcher = g_subprocess_launcher_new (flags);

  g_subprocess_launcher_set_environ (launcher, (char **) test_user_get_environ (desktop->user));
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  return launcher;
}

/* Reads one line (the display number, the bus address) that a child writes
 * to a pipe at start, within START_MS. */
static char *
read_line (GInputStream *stream, const char *what)
{
  g_autoptr(GDataInputStream) data = g_data_input_stream_new (stream);
  g_autoptr(GError) error = NULL;
  char *line;

  /* Blocking, but the child writes it as soon as it is ready, and a child
   * that dies closes the pipe. */
  line = g_data_input_stream_read_line (data, NULL, NULL, &error);
  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (data), FALSE);
  if (line == NULL)
    g_error ("%s did not start: %s", what, error != NULL ? error->message : "it exited");
  return line;
}

static void
start_xvfb (TestDesktop *desktop)
{
  g_autoptr(GSubprocessLauncher) launcher = launcher_new (desktop, G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_autoptr(GError) error = NULL;
  g_autofree char *number = NULL;
  int fds[2];

  g_assert_cmpint (pipe (fds), ==, 0);
  g_subprocess_launcher_take_fd (launcher, fds[1], 3);
  /* -displayfd: Xvfb picks a free display and says which on fd 3. */
  desktop->xvfb = g_subprocess_launcher_spawn (launcher, &error, "Xvfb", "-displayfd", "3",
                                               "-screen", "0", "1024x720x24", "-nolisten", "tcp",
                                               "-noreset", NULL);
  g_assert_no_error (error);
  {
    g_autoptr(GInputStream) stream = g_unix_input_stream_new (fds[0], TRUE);

    number = read_line (stream, "Xvfb");
  }
  desktop->display = g_strconcat (":", g_strstrip (number), NULL);
}

static void
start_a11y_bus (TestDesktop *desktop)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *socket = g_build_filename (test_user_get_home (desktop->user), "at-spi-bus", NULL);
  g_autofree char *address = g_strconcat ("unix:path=", socket, NULL);
  g_autofree char *listen = g_strconcat ("--address=", address, NULL);
  g_autofree char *printed = NULL;

  /* The address is set before the bus starts: the AT-SPI registry that it
   * activates inherits its environment and finds its bus there (with no
   * org.a11y.Bus on the session bus to ask). */
  test_user_setenv (desktop->user, "AT_SPI_BUS_ADDRESS", address);
  launcher = launcher_new (desktop, G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  desktop->a11y_bus = g_subprocess_launcher_spawn (launcher, &error, "dbus-daemon",
                                                   "--config-file=" A11Y_CONFIG, "--nofork",
                                                   listen, "--print-address", NULL);
  g_assert_no_error (error);
  /* Printed once it listens. */
  printed = read_line (g_subprocess_get_stdout_pipe (desktop->a11y_bus), "the accessibility bus");
  desktop->a11y = g_dbus_connection_new_for_address_sync (address,
                                                          G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                          G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                          NULL, NULL, &error);
  g_assert_no_error (error);
}

TestDesktop *
test_desktop_new (TestUser *user)
{
  TestDesktop *desktop = g_new0 (TestDesktop, 1);

  desktop->user = user;
  desktop->apps = g_ptr_array_new ();
  start_xvfb (desktop);
  start_a11y_bus (desktop);
  test_user_setenv (user, "DISPLAY", desktop->display);
  test_user_setenv (user, "GDK_BACKEND", "x11");
  /* Software rendering without GL: what a CI machine has. */
  test_user_setenv (user, "GSK_RENDERER", "cairo");
  test_user_setenv (user, "LIBGL_ALWAYS_SOFTWARE", "1");
  test_user_setenv (user, "GTK_A11Y", "atspi");
  return desktop;
}

static void
stop_child (Child *child)
{
  test_process_terminate (child->process, child->what);
  g_thread_join (child->thread);
  test_process_check_exit (child->process, child->what, &child->reports);
  test_reports_clear (&child->reports);
  g_clear_object (&child->process);
  g_free (child->what);
  g_free (child);
}

static void
stop_plain (GSubprocess *process, const char *what)
{
  if (process == NULL)
    return;
  test_process_terminate (process, what);
  if (!g_subprocess_get_if_exited (process) || g_subprocess_get_exit_status (process) != 0)
    test_process_fail ("%s did not exit with status 0 after SIGTERM (wait status %d)", what,
                       g_subprocess_get_status (process));
}

void
test_desktop_free (TestDesktop *desktop)
{
  if (desktop == NULL)
    return;
  /* The apps first: they hold the display and the buses. */
  for (guint i = desktop->apps->len; i > 0; i--)
    stop_child (desktop->apps->pdata[i - 1]);
  g_ptr_array_unref (desktop->apps);
  g_clear_object (&desktop->a11y);
  stop_plain (desktop->a11y_bus, "the accessibility bus");
  stop_plain (desktop->xvfb, "Xvfb");
  g_clear_object (&desktop->a11y_bus);
  g_clear_object (&desktop->xvfb);
  g_free (desktop->display);
  g_free (desktop);
}

GDBusConnection *
test_desktop_get_a11y (TestDesktop *desktop)
{
  return desktop->a11y;
}

static const char *
app_path (void)
{
  const char *path = g_getenv ("VOIP_APP");

  if (path == NULL)
    g_error ("VOIP_APP is not set (run the test with meson test)");
  return path;
}

static GStrv
app_argv (const char *first_arg, va_list args)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  g_strv_builder_add (builder, app_path ());
  for (const char *arg = first_arg; arg != NULL; arg = va_arg (args, const char *))
    g_strv_builder_add (builder, arg);
  return g_strv_builder_end (builder);
}

static gboolean
app_owns_name (TestUser *user)
{
  g_autoptr(GVariant) reply = NULL;
  gboolean has_owner = FALSE;

  reply = g_dbus_connection_call_sync (test_user_get_bus (user), "org.freedesktop.DBus",
                                       "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                       "NameHasOwner", g_variant_new ("(s)", APP_ID),
                                       G_VARIANT_TYPE ("(b)"), G_DBUS_CALL_FLAGS_NONE, 5000,
                                       NULL, NULL);
  if (reply != NULL)
    g_variant_get (reply, "(b)", &has_owner);
  return has_owner;
}

void
test_desktop_start_app (TestDesktop *desktop, const char *first_arg, ...)
{
  g_autoptr(GSubprocessLauncher) launcher =
    launcher_new (desktop, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) argv = NULL;
  g_autofree char *prefix = NULL;
  Child *child = g_new0 (Child, 1);
  gint64 deadline = g_get_monotonic_time () + (gint64) START_MS * 1000;
  va_list args;

  va_start (args, first_arg);
  argv = app_argv (first_arg, args);
  va_end (args);
  child->process = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv, &error);
  g_assert_no_error (error);
  child->what = g_strdup_printf ("voip of %s", test_user_get_name (desktop->user));
  prefix = g_strdup_printf ("[voip %s] ", test_user_get_name (desktop->user));
  child->thread = test_process_watch_output (g_subprocess_get_stdout_pipe (child->process),
                                             prefix, &child->reports);
  g_ptr_array_add (desktop->apps, child);
  while (!app_owns_name (desktop->user))
    {
      if (g_subprocess_get_identifier (child->process) == NULL)
        g_error ("voip exited at once (wait status %d)", g_subprocess_get_status (child->process));
      if (g_get_monotonic_time () > deadline)
        g_error ("voip never owned %s", APP_ID);
      g_usleep (50 * 1000);
    }
}

int
test_desktop_run_app (TestDesktop *desktop, const char *first_arg, ...)
{
  g_auto(GStrv) argv = NULL;
  g_autoptr(TestRun) run = NULL;
  va_list args;

  va_start (args, first_arg);
  argv = app_argv (first_arg, args);
  va_end (args);
  run = test_user_run (desktop->user, NULL, (const char *const *) argv);
  if (run->err != NULL && *run->err != '\0')
    g_printerr ("[%s] %s", run->command, run->err);
  {
    TestReports reports = { 0 };
    g_auto(GStrv) lines = g_strsplit (run->err != NULL ? run->err : "", "\n", -1);

    for (char **l = lines; *l != NULL; l++)
      test_reports_scan (&reports, *l);
    test_process_check_reports (run->command, &reports);
    test_reports_clear (&reports);
  }
  return run->exit_status;
}

void
test_desktop_screenshot (TestDesktop *desktop, const char *name)
{
  const char *dir = g_getenv ("VOIP_TEST_SCREENSHOTS");
  g_autofree char *import = g_find_program_in_path ("import");
  g_autofree char *file = NULL;
  g_autoptr(GError) error = NULL;
  int status;

  if (dir == NULL || import == NULL)
    return;
  file = g_strdup_printf ("%s/%s.png", dir, name);
  if (!g_spawn_sync (NULL, (char *[]) { import, "-display", desktop->display, "-window", "root",
                                        file, NULL },
                     NULL, G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                     NULL, NULL, &status, &error) || !g_spawn_check_wait_status (status, NULL))
    g_test_message ("no screenshot %s: %s", file, error != NULL ? error->message : "import failed");
  else
    g_test_message ("screenshot: %s", file);
}
