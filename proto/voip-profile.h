/* voip-profile.h — the profile fields SetProfile accepts, their types and limits. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  VOIP_PROFILE_DISPLAY_NAME,
  VOIP_PROFILE_MOTD,
  VOIP_PROFILE_CITY,
  VOIP_PROFILE_PHONE,     /* friends only */
  VOIP_PROFILE_MAIL,      /* friends only */
  VOIP_PROFILE_LANGUAGE,
  VOIP_PROFILE_AVATAR,
  VOIP_PROFILE_PLUGINS,
  VOIP_PROFILE_N_FIELDS
} VoipProfileFieldId;

typedef struct {
  VoipProfileFieldId id;
  const char        *key;          /* SetProfile dictionary key, and store column */
  const char        *type;         /* GVariant type of the value */
  gsize              max;          /* byte limit of a string value */
  gboolean           friends_only;
} VoipProfileField;

extern const VoipProfileField voip_profile_fields[VOIP_PROFILE_N_FIELDS];

const VoipProfileField *voip_profile_field_lookup (const char *key);

G_END_DECLS
