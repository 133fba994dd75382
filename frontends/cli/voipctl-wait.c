/* voipctl-wait.c — wait-online: wait until the account is online, as
 * nm-online does for NetworkManager, so that a script or a unit can start
 * once voipd has its session (exit 0), or give up after a timeout (exit 1).
 *
 * It never polls: it watches the account's PropertiesChanged and voipd's
 * name on the bus, and a timeout ends the wait.
 */
#define G_LOG_DOMAIN "voipctl"

#include <string.h>

#include <glib/gi18n.h>

#include "voipctl.h"

/* nm-online's default, and the most a --timeout may ask (a day). */
#define WAIT_ONLINE_DEFAULT_S 30
#define WAIT_ONLINE_MAX_S     86400

typedef struct
{
  GMainLoop   *loop;
  VoipDBusAccount *account;
  gboolean     online;
} WaitOnline;

static gboolean
account_online (VoipDBusAccount *account)
{
  g_autofree char *owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (account));

  return owner != NULL && g_strcmp0 (voip_dbus_account_get_state (account), "online") == 0;
}

static void
wait_check (WaitOnline *wait)
{
  if (!account_online (wait->account))
    return;
  wait->online = TRUE;
  g_main_loop_quit (wait->loop);
}

static void
on_account_properties_changed (GDBusProxy        *proxy,
                               GVariant          *changed,
                               const char *const *invalidated,
                               WaitOnline        *wait)
{
  wait_check (wait);
}

/* voipd came (its properties follow in a PropertiesChanged of their own) or
 * went: either way the state is what the proxy says now. */
static void
on_account_owner_changed (GDBusProxy *proxy,
                          GParamSpec *pspec,
                          WaitOnline *wait)
{
  wait_check (wait);
}

static gboolean
on_timeout (gpointer user_data)
{
  WaitOnline *wait = user_data;

  g_main_loop_quit (wait->loop);
  return G_SOURCE_CONTINUE;
}

/* Why it is not online, for the timeout's message. */
static char *
describe_state (VoipDBusAccount *account)
{
  g_autofree char *owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (account));
  const char *state = voip_dbus_account_get_state (account);
  const char *reason = voip_dbus_account_get_state_reason (account);

  if (owner == NULL || state == NULL)
    return g_strdup (_("voipd is not running"));
  if (reason != NULL && *reason != '\0')
    /* Translators: the state (offline, connecting, reconnecting…), then why. */
    return g_strdup_printf (_("state %s: %s"), state, reason);
  return g_strdup_printf (_("state %s"), state);
}

int
voipctl_cmd_wait_online (const VoipctlCommand *cmd,
                         int                   argc,
                         char                **argv)
{
  int timeout_s = WAIT_ONLINE_DEFAULT_S;
  const GOptionEntry entries[] = {
    { "timeout", 't', 0, G_OPTION_ARG_INT, &timeout_s,
      N_("Give up after SECONDS (default 30; 0: do not wait)"), N_("SECONDS") },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(VoipDBusAccount) account = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *why = NULL;
  WaitOnline wait = { 0 };
  guint timeout_id;

  if (!voipctl_parse_args (cmd, entries, &argc, &argv, 0, 0))
    return VOIPCTL_EXIT_USAGE;
  if (timeout_s < 0 || timeout_s > WAIT_ONLINE_MAX_S)
    return voipctl_usage_error (cmd, _("invalid timeout %d: expected 0 to %d seconds"),
                                timeout_s, WAIT_ONLINE_MAX_S);

  /* Signals connected, unlike the other commands' proxies: the changes are
   * what this command waits for. The proxy follows voipd's name, so a voipd
   * that is not running yet may still come within the timeout. */
  account = voip_dbus_account_proxy_new_for_bus_sync (G_BUS_TYPE_SESSION, G_DBUS_PROXY_FLAGS_NONE,
                                                 VOIPCTL_BUS_NAME, VOIPCTL_ROOT_PATH,
                                                 NULL, &error);
  if (account == NULL)
    return voipctl_fail (error);
  if (account_online (account))
    return VOIPCTL_EXIT_OK;

  if (timeout_s > 0)
    {
      loop = g_main_loop_new (NULL, FALSE);
      wait.loop = loop;
      wait.account = account;
      g_signal_connect (account, "g-properties-changed",
                        G_CALLBACK (on_account_properties_changed), &wait);
      g_signal_connect (account, "notify::g-name-owner",
                        G_CALLBACK (on_account_owner_changed), &wait);
      timeout_id = g_timeout_add_seconds (timeout_s, on_timeout, &wait);

      g_main_loop_run (loop);

      g_source_remove (timeout_id);
      g_signal_handlers_disconnect_by_data (account, &wait);
      if (wait.online)
        return VOIPCTL_EXIT_OK;
    }

  why = describe_state (account);
  return voipctl_failf (ngettext ("not online after %d second (%s)",
                                  "not online after %d seconds (%s)", timeout_s),
                        timeout_s, why);
}
