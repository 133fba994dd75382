/* voip-main.c — `voip`, the desktop app: gettext, then the application. */
#define G_LOG_DOMAIN "voip"

#include <locale.h>
#include <glib/gi18n.h>

#include "voip-application.h"

/* The catalogue of the build tree when run from it (the tests), else the
 * installed one. */
static char *
locale_dir (void)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *exe_dir = exe != NULL ? g_path_get_dirname (exe) : NULL;

  if (exe_dir != NULL && g_str_has_suffix (exe_dir, G_DIR_SEPARATOR_S "frontends"
                                                    G_DIR_SEPARATOR_S "gtk"))
    {
      g_autofree char *build_po = g_build_filename (exe_dir, "..", "..", "po", NULL);

      if (g_file_test (build_po, G_FILE_TEST_IS_DIR))
        return g_steal_pointer (&build_po);
    }
  return g_strdup (LOCALEDIR);
}

int
main (int argc, char **argv)
{
  g_autofree char *locale = locale_dir ();
  g_autoptr(VoipApplication) application = NULL;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, locale);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  application = voip_application_new ();
  return g_application_run (G_APPLICATION (application), argc, argv);
}
