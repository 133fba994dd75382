/* voip-validate.c — field rules shared by the server (which enforces them)
 * and clients (which check early). */
#include <string.h>

#include "voip-validate.h"
#include "voip-catalogue.h"
#include "voip-limits.h"
#include "voip-profile.h"
#include "voip-status.h"

static gboolean
fail (GError **error, VoipStatus status, const char *format, ...) G_GNUC_PRINTF (3, 4);

static gboolean
fail (GError **error, VoipStatus status, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  if (error)
    *error = g_error_new_valist (VOIP_ERROR, status, format, args);
  va_end (args);
  return FALSE;
}

gboolean
voip_validate_username (const char *username, GError **error)
{
  gsize len = strlen (username);

  if (len < VOIP_USERNAME_MIN || len > VOIP_USERNAME_MAX)
    return fail (error, VOIP_STATUS_BAD_FORMAT, "a username has %d to %d characters",
                 VOIP_USERNAME_MIN, VOIP_USERNAME_MAX);
  for (const char *c = username; *c; c++)
    if (!(g_ascii_islower (*c) || g_ascii_isdigit (*c) || *c == '.' || *c == '_' || *c == '-'))
      return fail (error, VOIP_STATUS_BAD_FORMAT,
                   "a username uses only a-z, 0-9, '.', '_' and '-'");
  return TRUE;
}

gboolean
voip_validate_password (const char *password, GError **error)
{
  gsize len = strlen (password);

  if (len < VOIP_PASSWORD_MIN || len > VOIP_PASSWORD_MAX)
    return fail (error, VOIP_STATUS_BAD_FORMAT, "a password has %d to %d bytes",
                 VOIP_PASSWORD_MIN, VOIP_PASSWORD_MAX);
  return TRUE;
}

gboolean
voip_validate_token (const char *token, GError **error)
{
  if (strlen (token) != VOIP_TOKEN_LENGTH)
    return fail (error, VOIP_STATUS_BAD_TOKEN, "a session token has %d hex digits",
                 VOIP_TOKEN_LENGTH);
  for (const char *c = token; *c; c++)
    if (!g_ascii_isxdigit (*c) || g_ascii_isupper (*c))
      return fail (error, VOIP_STATUS_BAD_TOKEN, "a session token is lower-case hex");
  return TRUE;
}

gboolean
voip_validate_string (const char *what, const char *value, gsize max,
                      gboolean allow_empty, GError **error)
{
  gsize len = strlen (value);

  if (len == 0 && !allow_empty)
    return fail (error, VOIP_STATUS_MALFORMED, "%s is empty", what);
  if (len > max)
    return fail (error, VOIP_STATUS_TOO_LARGE, "%s is longer than %" G_GSIZE_FORMAT " bytes",
                 what, max);
  /* GVariant already guarantees UTF-8; this also serves callers with raw input. */
  if (!g_utf8_validate (value, len, NULL))
    return fail (error, VOIP_STATUS_MALFORMED, "%s is not valid UTF-8", what);
  for (const char *c = value; *c; c++)
    if ((guchar) *c < 0x20)
      return fail (error, VOIP_STATUS_MALFORMED, "%s contains control characters", what);
  return TRUE;
}

gboolean
voip_validate_email (const char *email, GError **error)
{
  if (*email == '\0')
    return TRUE;
  if (!voip_validate_string ("email", email, VOIP_EMAIL_MAX, FALSE, error))
    return FALSE;
  if (strchr (email, '@') == NULL || strchr (email, ' ') != NULL)
    return fail (error, VOIP_STATUS_MALFORMED, "'%s' is not an e-mail address", email);
  return TRUE;
}

gboolean
voip_validate_text (const char *text, GError **error)
{
  gsize len = strlen (text);

  if (len == 0)
    return fail (error, VOIP_STATUS_MALFORMED, "message text is empty");
  if (len > VOIP_TEXT_MAX)
    return fail (error, VOIP_STATUS_TOO_LARGE, "message text is longer than %d bytes",
                 VOIP_TEXT_MAX);
  if (!g_utf8_validate (text, len, NULL))
    return fail (error, VOIP_STATUS_MALFORMED, "message text is not valid UTF-8");
  return TRUE;
}

gboolean
voip_validate_client_id (const char *client_id, GError **error)
{
  return voip_validate_string ("client_id", client_id, VOIP_CLIENT_ID_MAX, FALSE, error);
}

gboolean
voip_validate_group_name (const char *name, GError **error)
{
  return voip_validate_string ("group name", name, VOIP_GROUP_NAME_MAX, FALSE, error);
}

gboolean
voip_validate_voice (GVariant *ogg_bytes, guint32 duration_ms, GError **error)
{
  gsize len = g_variant_n_children (ogg_bytes);
  const guint8 *data = g_variant_get_fixed_array (ogg_bytes, &len, 1);
  gsize head = MIN (len, (gsize) 512);

  if (len > VOIP_VOICE_MAX)
    return fail (error, VOIP_STATUS_TOO_LARGE, "a voice message is at most %d bytes",
                 VOIP_VOICE_MAX);
  /* An Ogg stream whose first page carries an Opus identification header. */
  if (len < 47 || memcmp (data, "OggS", 4) != 0
      || memmem (data, head, "OpusHead", 8) == NULL)
    return fail (error, VOIP_STATUS_MALFORMED, "a voice message is Opus audio in Ogg");
  if (duration_ms == 0 || duration_ms > VOIP_VOICE_DURATION_MAX_MS)
    return fail (error, VOIP_STATUS_MALFORMED, "a voice message lasts 1 ms to %d s",
                 VOIP_VOICE_DURATION_MAX_MS / 1000);
  return TRUE;
}

gboolean
voip_validate_presence (guint32 presence, GError **error)
{
  if (presence == VOIP_PRESENCE_OFFLINE || presence > VOIP_PRESENCE_LAST)
    return fail (error, VOIP_STATUS_MALFORMED,
                 "presence is online, away, busy, dnd or invisible");
  return TRUE;
}

static gboolean
validate_plugins (GVariant *plugins, GError **error)
{
  GVariantIter iter;
  const char *name, *description;

  if (g_variant_n_children (plugins) > VOIP_PLUGINS_MAX)
    return fail (error, VOIP_STATUS_TOO_LARGE, "at most %d plugins", VOIP_PLUGINS_MAX);
  g_variant_iter_init (&iter, plugins);
  while (g_variant_iter_next (&iter, "(&s&s)", &name, &description))
    if (!voip_validate_string ("plugin name", name, VOIP_PLUGIN_NAME_MAX, FALSE, error)
        || !voip_validate_string ("plugin description", description,
                                  VOIP_PLUGIN_DESC_MAX, TRUE, error))
      return FALSE;
  return TRUE;
}

static gboolean
validate_avatar (GVariant *avatar, GError **error)
{
  static const guint8 png_signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  gsize len;
  const guint8 *data = g_variant_get_fixed_array (avatar, &len, 1);

  if (len == 0)
    return TRUE;  /* removes the avatar */
  if (len > VOIP_AVATAR_MAX)
    return fail (error, VOIP_STATUS_TOO_LARGE, "an avatar is at most %d bytes", VOIP_AVATAR_MAX);
  if (len < sizeof png_signature || memcmp (data, png_signature, sizeof png_signature) != 0)
    return fail (error, VOIP_STATUS_MALFORMED, "an avatar is a PNG image");
  return TRUE;
}

gboolean
voip_validate_profile_fields (GVariant *fields, GError **error)
{
  GVariantIter iter;
  const char *key;
  GVariant *next;

  if (g_variant_n_children (fields) == 0)
    return fail (error, VOIP_STATUS_MALFORMED, "no profile field to set");

  g_variant_iter_init (&iter, fields);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &next))
    {
      g_autoptr(GVariant) value = next;
      const VoipProfileField *field = voip_profile_field_lookup (key);
      gboolean ok;

      if (field == NULL)
        return fail (error, VOIP_STATUS_MALFORMED, "unknown profile field '%s'", key);
      if (!g_variant_is_of_type (value, G_VARIANT_TYPE (field->type)))
        return fail (error, VOIP_STATUS_MALFORMED, "profile field '%s' has type %s",
                     key, field->type);
      if (field->id == VOIP_PROFILE_AVATAR)
        ok = validate_avatar (value, error);
      else if (field->id == VOIP_PROFILE_PLUGINS)
        ok = validate_plugins (value, error);
      else if (field->id == VOIP_PROFILE_MAIL)
        ok = voip_validate_email (g_variant_get_string (value, NULL), error);
      else
        ok = voip_validate_string (key, g_variant_get_string (value, NULL),
                                   field->max, TRUE, error);
      if (!ok)
        return FALSE;
    }
  return TRUE;
}
