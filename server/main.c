/* voip-server — accounts, contacts, presence, groups and messages over the
 * voip protocol (proto/PROTOCOL.md), stored in SQLite.
 *
 *   voip-server --listen ADDR:PORT --database PATH [--config FILE]
 *   voip-server --check-config [--config FILE]   (0: valid; 1 with the reason)
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

/* In a cluster every log line names its node: "node=NAME " before GLib's
 * usual line, so that the logs of several nodes can be merged. */
static GLogWriterOutput
write_with_node (GLogLevelFlags level, const GLogField *fields, gsize n_fields,
                 gpointer user_data)
{
  const char *domain = NULL;
  g_autofree char *line = NULL;

  for (gsize i = 0; i < n_fields; i++)
    if (g_str_equal (fields[i].key, "GLIB_DOMAIN"))
      domain = fields[i].value;
  if (g_log_writer_default_would_drop (level, domain))
    return G_LOG_WRITER_HANDLED;
  line = g_log_writer_format_fields (level, fields, n_fields, FALSE);
  fprintf (stderr, "node=%s %s\n", (const char *) user_data, line);
  fflush (stderr);
  return G_LOG_WRITER_HANDLED;
}

static int
check_config (ServerConfig *config)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketConnectable) listen = g_network_address_parse (config->listen, 7000, &error);

  if (listen == NULL || !server_config_validate (config, &error))
    {
      g_printerr ("voip-server: configuration not valid: %s\n", error->message);
      return 1;
    }
  if (config->cluster_node != NULL)
    printf ("configuration valid: node %s of a cluster, store %s\n", config->cluster_node,
            server_config_store_location (config));
  else
    printf ("configuration valid: one node, store %s\n", server_config_store_location (config));
  return 0;
}

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
  gboolean check = FALSE;
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
    { "check-config", 0, 0, G_OPTION_ARG_NONE, &check,
      "Check the configuration, then exit: 0 if valid, 1 if not", NULL },
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
      if (check)
        {
          g_printerr ("voip-server: configuration not valid: %s\n", error->message);
          return 1;
        }
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

  if (check)
    return check_config (config);
  if (config->cluster_node != NULL)
    g_log_set_writer_func (write_with_node, g_strdup (config->cluster_node), g_free);

  server = server_new (g_steal_pointer (&config), &error);
  if (server == NULL || !server_listen (server, &error))
    {
      g_printerr ("voip-server: %s\n", error->message);
      return 1;
    }
  printf ("listening on %s\n", server_get_listen_address (server));
  if (server_get_stun_address (server) != NULL)
    printf ("stun on %s\n", server_get_stun_address (server));
  if (server_get_health_address (server) != NULL)
    printf ("health on %s\n", server_get_health_address (server));
  fflush (stdout);

  loop = g_main_loop_new (NULL, FALSE);
  running = (Running) { .server = server, .loop = loop };
  g_unix_signal_add (SIGTERM, on_terminate, &running);
  g_unix_signal_add (SIGINT, on_terminate, &running);
  g_main_loop_run (loop);
  return 0;
}
