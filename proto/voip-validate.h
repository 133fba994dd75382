/* voip-validate.h — field rules beyond the GVariant type.
 *
 * Each returns TRUE when the value is acceptable, or FALSE with a VOIP_ERROR
 * whose code is the status to reply with and whose message says what is wrong.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean voip_validate_username  (const char *username, GError **error);
gboolean voip_validate_password  (const char *password, GError **error);
gboolean voip_validate_token     (const char *token, GError **error);
gboolean voip_validate_email     (const char *email, GError **error);
gboolean voip_validate_text      (const char *text, GError **error);
gboolean voip_validate_client_id (const char *client_id, GError **error);
gboolean voip_validate_group_name (const char *name, GError **error);
gboolean voip_validate_voice     (GVariant *ogg_bytes, guint32 duration_ms, GError **error);
gboolean voip_validate_presence  (guint32 presence, GError **error);

/* A string field with a byte limit: non-empty unless allow_empty, no control
 * characters (except in multi-line text). */
gboolean voip_validate_string    (const char *what, const char *value, gsize max,
                                  gboolean allow_empty, GError **error);

/* SetProfile: known keys, right value types and limits. */
gboolean voip_validate_profile_fields (GVariant *fields /* a{sv} */, GError **error);

G_END_DECLS
