/* voipd-media-loader.c — finds and opens voipd-media.so.
 *
 * Where the module is, first match wins:
 *   $VOIPD_MEDIA_MODULE                 (tests, and people debugging)
 *   <libdir>/voip/voipd-media.so        (installed; VOIPD_MEDIA_MODULE_DIR)
 *   <dir of the executable>/media/      (an uninstalled build tree)
 */
#define G_LOG_DOMAIN "voipd"

#include <glib/gi18n.h>
#include <gmodule.h>

#include "voipd-errors.h"
#include "voipd-media-loader.h"

#define MODULE_NAME "voipd-media.so"

static char *
module_path (void)
{
  const char *from_env = g_getenv ("VOIPD_MEDIA_MODULE");
  g_autofree char *installed = g_build_filename (VOIPD_MEDIA_MODULE_DIR, MODULE_NAME, NULL);
  g_autofree char *exe = NULL;
  g_autofree char *exe_dir = NULL;

  if (from_env != NULL && *from_env != '\0')
    return g_strdup (from_env);
  if (g_file_test (installed, G_FILE_TEST_EXISTS))
    return g_steal_pointer (&installed);
  exe = g_file_read_link ("/proc/self/exe", NULL);
  if (exe == NULL)
    return g_steal_pointer (&installed);   /* for the message */
  exe_dir = g_path_get_dirname (exe);
  return g_build_filename (exe_dir, "media", MODULE_NAME, NULL);
}

const VoipdMediaApi *
voipd_media_load (GError **error)
{
  static const VoipdMediaApi *api = NULL;
  g_autofree char *path = NULL;
  VoipdMediaGetApi get_api = NULL;
  const VoipdMediaApi *found;
  GModule *module;

  if (api != NULL)
    return api;

  path = module_path ();
  g_debug ("loading the media engine from %s", path);
  module = g_module_open (path, G_MODULE_BIND_LAZY | G_MODULE_BIND_LOCAL);
  if (module == NULL)
    {
      g_set_error (error, VOIPD_ERROR, VOIPD_ERROR_NO_MEDIA,
                   _("cannot load the media engine: %s"), g_module_error ());
      return NULL;
    }
  if (!g_module_symbol (module, VOIPD_MEDIA_MODULE_SYMBOL, (gpointer *) &get_api)
      || get_api == NULL)
    {
      g_set_error (error, VOIPD_ERROR, VOIPD_ERROR_NO_MEDIA,
                   _("%s is not a media engine (no %s)"), path, VOIPD_MEDIA_MODULE_SYMBOL);
      g_module_close (module);
      return NULL;
    }
  found = get_api ();
  if (found == NULL || found->version != VOIPD_MEDIA_API_VERSION)
    {
      g_set_error (error, VOIPD_ERROR, VOIPD_ERROR_NO_MEDIA,
                   _("%s is a media engine of version %u; voipd needs version %u"), path,
                   found ? found->version : 0, VOIPD_MEDIA_API_VERSION);
      g_module_close (module);
      return NULL;
    }
  /* GStreamer and libnice keep threads and types around: never unload. */
  g_module_make_resident (module);
  api = found;
  /* Calls load the module when they start ringing: GStreamer gets ready in
   * the background meanwhile, so that answering does not wait for it. */
  api->prepare ();
  return api;
}
