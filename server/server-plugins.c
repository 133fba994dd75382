/* server-plugins.c — seed 000's PluginSendMsg: opaque bytes, tagged with a
 * plugin name, relayed to an online friend and never stored. */
#define G_LOG_DOMAIN "voip-server"

#include "server-handlers.h"
#include "server-job.h"

typedef struct {
  ServerJob base;
  char     *recipient;
  gint64    recipient_id;
  char     *plugin;
  GVariant *data;
} PluginJob;

static void
plugin_job_clear (PluginJob *job)
{
  g_free (job->recipient);
  g_free (job->plugin);
  g_clear_pointer (&job->data, g_variant_unref);
}

static gboolean
plugin_work (Store *store, PluginJob *job)
{
  return server_job_require_friend (store, &job->base, job->recipient, VOIP_STATUS_NO_SUCH_USER,
                                    &job->recipient_id);
}

static void
plugin_after (PluginJob *job)
{
  Server *server = job->base.server;

  /* Invisible friends count as offline, so invisibility does not leak. */
  if (server_registry_visible_presence (server_get_registry (server), job->recipient_id)
      == VOIP_PRESENCE_OFFLINE)
    {
      server_job_fail (&job->base, VOIP_STATUS_OFFLINE, NULL);
      return;
    }
  server_send_event_to_user (server, job->recipient_id, VOIP_MSG_PLUGIN_MESSAGE,
                             g_variant_new ("(ss@ay)", server_session_get_username (job->base.session),
                                            job->plugin, job->data),
                             NULL);
}

void
server_handle_plugin_send (Server *server, ServerSession *session, const ServerRequest *request)
{
  const char *recipient, *plugin;
  g_autoptr(GVariant) data = NULL;
  g_autoptr(GError) error = NULL;
  VoipStatus status = VOIP_STATUS_OK;
  PluginJob *job;

  g_variant_get (request->payload, "(&s&s@ay)", &recipient, &plugin, &data);
  if (g_variant_n_children (data) > VOIP_PLUGIN_PAYLOAD_MAX)
    status = VOIP_STATUS_TOO_LARGE;
  else if (!voip_validate_username (recipient, NULL))
    status = VOIP_STATUS_NO_SUCH_USER;
  else if (g_str_equal (recipient, server_session_get_username (session)))
    status = VOIP_STATUS_MESSAGE_SELF;
  else if (!voip_validate_string ("plugin name", plugin, VOIP_PLUGIN_NAME_MAX, FALSE, &error))
    status = error->code;
  if (status != VOIP_STATUS_OK)
    {
      server_session_reply_error (session, request->code, request->request_id, status,
                                  error ? error->message : NULL);
      return;
    }
  job = server_job_new (PluginJob, server, session, request, plugin_work, plugin_after,
                        plugin_job_clear);
  job->recipient = g_strdup (recipient);
  job->plugin = g_strdup (plugin);
  job->data = g_steal_pointer (&data);
  server_job_submit (&job->base);
}
