/* voipd-errors.h — the org.voipd.Voip1.Error.* names.
 *
 * Every protocol status (VOIP_ERROR domain) maps to
 * org.voipd.Voip1.Error.<its stable name>; what the daemon refuses by itself
 * is VOIPD_ERROR. Both are registered with GDBus, so returning such a GError
 * from a method handler sends the right D-Bus error.
 *
 * Bad input has one name, whoever refuses it: VOIP_ERROR with
 * VOIP_STATUS_MALFORMED (org.voipd.Voip1.Error.Malformed), or
 * VOIP_STATUS_TOO_LARGE for a value over its limit; the daemon has no name
 * of its own for it. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define VOIPD_ERROR (voipd_error_quark ())
GQuark voipd_error_quark (void);

typedef enum {
  VOIPD_ERROR_DISCONNECTED,      /* needs the server, which is unreachable */
  VOIPD_ERROR_NOT_LOGGED_IN,
  VOIPD_ERROR_NO_KEYRING,
  VOIPD_ERROR_NO_MEDIA,          /* the media engine (voipd-media.so) cannot run */
  VOIPD_ERROR_CANCELLED,         /* a newer request took its place (a Login by a later Login) */
} VoipdError;

/* Registers both domains with GDBus; call once at start. */
void voipd_errors_register (void);

/* The message people read for a server's error reply: the status's meaning
 * in the daemon's language, then the server's detail (English) when it says
 * more than that. */
char *voipd_error_server_message (guint status, const char *detail);

G_END_DECLS
