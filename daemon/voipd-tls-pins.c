/* voipd-tls-pins.c — the pinned certificate fingerprints in GSettings (see the header). */
#define G_LOG_DOMAIN "voipd"

#include "voipd-tls-pins.h"

#define PINS_KEY "tls-pinned-certificates"

char *
voipd_tls_pins_lookup (GSettings *settings, const char *server)
{
  g_autoptr(GVariant) pins = g_settings_get_value (settings, PINS_KEY);
  char *fingerprint = NULL;

  if (!g_variant_lookup (pins, server, "s", &fingerprint))
    return NULL;
  return fingerprint;
}

gboolean
voipd_tls_pins_store (GSettings *settings, const char *server, const char *fingerprint)
{
  g_autoptr(GVariant) pins = g_settings_get_value (settings, PINS_KEY);
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a{ss}"));
  GVariantIter iter;
  const char *key, *value;

  g_variant_iter_init (&iter, pins);
  while (g_variant_iter_next (&iter, "{&s&s}", &key, &value))
    if (g_strcmp0 (key, server) != 0)
      g_variant_builder_add (&builder, "{ss}", key, value);
  g_variant_builder_add (&builder, "{ss}", server, fingerprint);
  g_message ("pinned the certificate of %s (SHA-256 %s)", server, fingerprint);
  return g_settings_set_value (settings, PINS_KEY, g_variant_builder_end (&builder));
}
