/* voip-server — accounts, contacts, presence, groups and messages over the
 * voip protocol (proto/PROTOCOL.md), stored in SQLite.
 *
 *   voip-server --listen ADDR:PORT --database PATH [--config FILE]
 *
 * With port 0 the kernel picks a free port; either way the server prints
 * "listening on ADDR:PORT" on stdout once it accepts connections, then
 * "stun on ADDR:PORT" when the STUN responder runs. */
#define G_LOG_DOMAIN "voip-server"

#include <glib-unix.h>
#include <locale.h>
#include <stdio.h>

#include "server.h"
#include "server-dispatch.h"

typedef struct {
  Server    *server;
  GMainLoop *loop;
} Running;

static void
on_shutdown_done (gpointer user_data)
{
  Running *running = user_data;

  g_main_loop_quit (running->loop);
}

static gboolean
on_terminate (gpointer user_data)
{
  Running *running = user_data;

  server_shutdown (running->server, G_CALLBACK (on_shutdown_done), running);
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  g_autofree char *listen = NULL;
  g_autofree char *database = NULL;
  g_autofree char *config_path = NULL;
  gboolean version = FALSE;
  g_autoptr(GOptionContext) options = NULL;
  g_autoptr(ServerConfig) config = server_config_new_default ();
  g_autoptr(GError) error = NULL;
  g_autoptr(Server) server = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  Running running;
  GOptionEntry entries[] = {
    { "listen", 'l', 0, G_OPTION_ARG_STRING, &listen, "Address and port to listen on", "ADDR:PORT" },
    { "database", 'd', 0, G_OPTION_ARG_FILENAME, &database, "SQLite database file", "PATH" },
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "Configuration file", "FILE" },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, "Show the version and exit", NULL },
    { NULL }
  };

  setlocale (LC_ALL, "");
  options = g_option_context_new ("— the voip server");
  g_option_context_add_main_entries (options, entries, NULL);
  if (!g_option_context_parse (options, &argc, &argv, &error))
    {
      g_printerr ("voip-server: %s\n", error->message);
      return 2;
    }
  if (version)
    {
      printf ("voip-server %s\n", VOIP_VERSION);
      return 0;
    }
  if (!server_dispatch_is_complete (&error))
    g_error ("%s", error->message);   /* a build that forgot a handler */

  /* The file first, then the command line over it. */
  if (config_path != NULL && !server_config_load (config, config_path, &error))
    {
      g_printerr ("voip-server: %s\n", error->message);
      return 2;
    }
  if (listen != NULL)
    {
      g_free (config->listen);
      config->listen = g_steal_pointer (&listen);
    }
  if (database != NULL)
    {
      g_free (config->database);
      config->database = g_steal_pointer (&database);
    }

  server = server_new (g_steal_pointer (&config), &error);
  if (server == NULL || !server_listen (server, &error))
    {
      g_printerr ("voip-server: %s\n", error->message);
      return 1;
    }
  printf ("listening on %s\n", server_get_listen_address (server));
  if (server_get_stun_address (server) != NULL)
    printf ("stun on %s\n", server_get_stun_address (server));
  fflush (stdout);

  loop = g_main_loop_new (NULL, FALSE);
  running = (Running) { .server = server, .loop = loop };
  g_unix_signal_add (SIGTERM, on_terminate, &running);
  g_unix_signal_add (SIGINT, on_terminate, &running);
  g_main_loop_run (loop);
  return 0;
}
