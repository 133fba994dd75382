/* voip-presence.c — presence words (the D-Bus API's, never translated) and
 * what the app shows for them. */
#include <glib/gi18n.h>

#include "voip-presence.h"

static const struct {
  const char *word;
  const char *label;
  const char *css;
} presences[] = {
  { "online",    N_("Online"),         "presence-online" },
  { "away",      N_("Away"),           "presence-away" },
  { "busy",      N_("Busy"),           "presence-busy" },
  { "dnd",       N_("Do not disturb"), "presence-busy" },
  { "invisible", N_("Invisible"),      "presence-offline" },
  { "offline",   N_("Offline"),        "presence-offline" },
};

const char *
voip_presence_to_label (const char *presence)
{
  for (gsize i = 0; i < G_N_ELEMENTS (presences); i++)
    if (g_strcmp0 (presence, presences[i].word) == 0)
      return _(presences[i].label);
  return presence != NULL && *presence != '\0' ? presence : _("Unknown");
}

const char *
voip_presence_to_css (const char *presence)
{
  for (gsize i = 0; i < G_N_ELEMENTS (presences); i++)
    if (g_strcmp0 (presence, presences[i].word) == 0)
      return presences[i].css;
  return "presence-offline";
}

int
voip_presence_rank (const char *presence)
{
  for (gsize i = 0; i < G_N_ELEMENTS (presences); i++)
    if (g_strcmp0 (presence, presences[i].word) == 0)
      return (int) i;
  return (int) G_N_ELEMENTS (presences);
}
