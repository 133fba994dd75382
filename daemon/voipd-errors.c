/* voipd-errors.c — error names and messages on the bus. */
#include <string.h>

#include <gio/gio.h>
#include <glib/gi18n.h>

#include "voipd-errors.h"
#include "voip-proto.h"

#define ERROR_PREFIX "org.voipd.Voip1.Error."

static const GDBusErrorEntry daemon_errors[] = {
  { VOIPD_ERROR_DISCONNECTED,     ERROR_PREFIX "Disconnected" },
  { VOIPD_ERROR_NOT_LOGGED_IN,    ERROR_PREFIX "NotLoggedIn" },
  { VOIPD_ERROR_NO_KEYRING,       ERROR_PREFIX "NoKeyring" },
  { VOIPD_ERROR_NO_MEDIA,         ERROR_PREFIX "NoMedia" },
  { VOIPD_ERROR_CANCELLED,        ERROR_PREFIX "Cancelled" },
};

GQuark
voipd_error_quark (void)
{
  static gsize quark = 0;

  g_dbus_error_register_error_domain ("voipd-error-quark", &quark, daemon_errors,
                                      G_N_ELEMENTS (daemon_errors));
  return (GQuark) quark;
}

void
voipd_errors_register (void)
{
  (void) VOIPD_ERROR;
  /* The protocol's statuses, by their stable names (proto/voip-status.c). */
  for (const VoipStatusInfo *row = voip_status_table; row->name != NULL; row++)
    if (row->status != VOIP_STATUS_OK)
      {
        g_autofree char *name = g_strconcat (ERROR_PREFIX, row->name, NULL);
        g_dbus_error_register_error (VOIP_ERROR, row->status, name);
      }
}

char *
voipd_error_server_message (guint status, const char *detail)
{
  const char *english = voip_status_message (status);

  /* The wire carries the code and English (proto/PROTOCOL.md); the words
   * people read are made here, in the daemon's language, from the code. A
   * detail of the server's own beyond the status's generic text is kept, as
   * the server wrote it. */
  if (detail == NULL || *detail == '\0' || strcmp (detail, english) == 0)
    return g_strdup (_(english));
  /* TRANSLATORS: a server error: its meaning, then the server's own detail
   * (in English). */
  return g_strdup_printf (_("%s: %s"), _(english), detail);
}
