/* voip-profile.c — the table of profile fields. */
#include <string.h>

#include "voip-profile.h"
#include "voip-limits.h"

const VoipProfileField voip_profile_fields[VOIP_PROFILE_N_FIELDS] = {
  { VOIP_PROFILE_DISPLAY_NAME, "display_name", "s",     VOIP_DISPLAY_NAME_MAX,  FALSE },
  { VOIP_PROFILE_MOTD,         "motd",         "s",     VOIP_MOTD_MAX,          FALSE },
  { VOIP_PROFILE_CITY,         "city",         "s",     VOIP_PROFILE_FIELD_MAX, FALSE },
  { VOIP_PROFILE_PHONE,        "phone",        "s",     VOIP_PROFILE_FIELD_MAX, TRUE  },
  { VOIP_PROFILE_MAIL,         "mail",         "s",     VOIP_EMAIL_MAX,         TRUE  },
  { VOIP_PROFILE_LANGUAGE,     "language",     "s",     VOIP_PROFILE_FIELD_MAX, FALSE },
  { VOIP_PROFILE_AVATAR,       "avatar",       "ay",    VOIP_AVATAR_MAX,        FALSE },
  { VOIP_PROFILE_PLUGINS,      "plugins",      "a(ss)", VOIP_PLUGINS_MAX,       FALSE },
};

const VoipProfileField *
voip_profile_field_lookup (const char *key)
{
  for (guint i = 0; i < VOIP_PROFILE_N_FIELDS; i++)
    if (strcmp (voip_profile_fields[i].key, key) == 0)
      return &voip_profile_fields[i];
  return NULL;
}
