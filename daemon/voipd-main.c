/* voipd — the per-user voip daemon, org.voipd.Voip1 on the session bus.
 *
 * Started by D-Bus activation or the systemd user unit (voipd.service). It
 * keeps the session with the server, caches contacts, groups and history in
 * $XDG_DATA_HOME/voipd/cache.db, keeps the session token in the keyring,
 * and exports the API of data/org.voipd.Voip1.xml. */
#define G_LOG_DOMAIN "voipd"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <locale.h>

#include "voipd-account.h"
#include "voipd-errors.h"

typedef struct {
  GMainLoop    *loop;
  VoipdCache   *cache;
  GSettings    *settings;
  VoipdAccount *account;
  gboolean      owned;     /* we had the name: losing it now means the bus went away */
  int           status;
} Daemon;

/* Where the translations are: LOCALEDIR once installed; for an uninstalled
 * voipd (build/daemon/voipd) the catalogues meson builds in the same tree,
 * build/po/LANG/LC_MESSAGES/voip.mo, as voipctl does. */
static char *
locale_dir (void)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *exe_dir = exe != NULL ? g_path_get_dirname (exe) : NULL;

  if (exe_dir != NULL && g_str_has_suffix (exe_dir, G_DIR_SEPARATOR_S "daemon"))
    {
      g_autofree char *build_po = g_build_filename (exe_dir, "..", "po", NULL);

      if (g_file_test (build_po, G_FILE_TEST_IS_DIR))
        return g_steal_pointer (&build_po);
    }
  return g_strdup (LOCALEDIR);
}

static void
on_bus_acquired (GDBusConnection *bus, const char *name, gpointer user_data)
{
  Daemon *daemon = user_data;
  g_autoptr(GError) error = NULL;

  daemon->account = voipd_account_new (bus, daemon->cache, daemon->settings, &error);
  if (daemon->account == NULL)
    {
      g_printerr ("voipd: %s\n", error->message);
      daemon->status = 1;
      g_main_loop_quit (daemon->loop);
    }
}

static void
on_name_acquired (GDBusConnection *bus, const char *name, gpointer user_data)
{
  Daemon *daemon = user_data;

  g_debug ("owning %s", name);
  daemon->owned = TRUE;
  if (daemon->account)
    voipd_account_start (daemon->account);
}

static void
on_name_lost (GDBusConnection *bus, const char *name, gpointer user_data)
{
  Daemon *daemon = user_data;

  if (daemon->owned)
    g_message ("the session bus went away; exiting");
  else
    {
      g_printerr (_("voipd: cannot own %s on the session bus (is another voipd running?)\n"),
                  name);
      daemon->status = 1;
    }
  g_main_loop_quit (daemon->loop);
}

static gboolean
on_terminate (gpointer user_data)
{
  Daemon *daemon = user_data;

  g_main_loop_quit (daemon->loop);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GOptionContext) options = NULL;
  g_autofree char *cache_path = NULL;
  g_autofree char *locale = locale_dir ();
  gboolean version = FALSE;
  const GOptionEntry entries[] = {
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, N_("Show the version and exit"), NULL },
    G_OPTION_ENTRY_NULL
  };
  Daemon daemon = { 0 };
  guint owner_id;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, locale);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  options = g_option_context_new (_("— the voip daemon (org.voipd.Voip1)"));
  g_option_context_add_main_entries (options, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (options, &argc, &argv, &error))
    {
      g_printerr ("voipd: %s\n", error->message);
      return 2;
    }
  if (version)
    {
      g_print ("voipd %s\n", VOIP_VERSION);
      return 0;
    }

  voipd_errors_register ();
  cache_path = g_build_filename (g_get_user_data_dir (), "voipd", "cache.db", NULL);
  daemon.cache = voipd_cache_open (cache_path, &error);
  if (daemon.cache == NULL)
    {
      g_printerr ("voipd: %s\n", error->message);
      return 1;
    }
  daemon.settings = g_settings_new ("org.voipd.Voip1");
  daemon.loop = g_main_loop_new (NULL, FALSE);

  owner_id = g_bus_own_name (G_BUS_TYPE_SESSION, "org.voipd.Voip1",
                             G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE,
                             on_bus_acquired, on_name_acquired, on_name_lost, &daemon, NULL);
  g_unix_signal_add (SIGTERM, on_terminate, &daemon);
  g_unix_signal_add (SIGINT, on_terminate, &daemon);
  g_main_loop_run (daemon.loop);

  g_bus_unown_name (owner_id);
  /* The cache's pending results hold the account: deliver them first. */
  voipd_cache_flush (daemon.cache);
  g_clear_object (&daemon.account);
  g_clear_object (&daemon.settings);
  g_clear_object (&daemon.cache);
  g_main_loop_unref (daemon.loop);
  return daemon.status;
}
