/* voipd-secrets.c — libsecret with the "org.voipd.Voip1.Token" schema. */
#define G_LOG_DOMAIN "voipd"

#include <glib/gi18n.h>
#include <libsecret/secret.h>

#include "voipd-secrets.h"

static const SecretSchema *
token_schema (void)
{
  static const SecretSchema schema = {
    "org.voipd.Voip1.Token", SECRET_SCHEMA_NONE,
    {
      { "server", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "username", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 },
    }
  };
  return &schema;
}

void
voipd_secrets_store_async (const char *server, const char *username, const char *token,
                           GCancellable *cancellable, GAsyncReadyCallback callback,
                           gpointer user_data)
{
  g_autofree char *label = g_strdup_printf (_("voip session of %s on %s"), username, server);

  secret_password_store (token_schema (), SECRET_COLLECTION_DEFAULT, label, token,
                         cancellable, callback, user_data,
                         "server", server, "username", username, NULL);
}

gboolean
voipd_secrets_store_finish (GAsyncResult *result, GError **error)
{
  return secret_password_store_finish (result, error);
}

void
voipd_secrets_lookup_async (const char *server, const char *username, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data)
{
  secret_password_lookup (token_schema (), cancellable, callback, user_data,
                          "server", server, "username", username, NULL);
}

char *
voipd_secrets_lookup_finish (GAsyncResult *result, GError **error)
{
  return secret_password_lookup_finish (result, error);
}

void
voipd_secrets_clear_async (const char *server, const char *username, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data)
{
  secret_password_clear (token_schema (), cancellable, callback, user_data,
                         "server", server, "username", username, NULL);
}

gboolean
voipd_secrets_clear_finish (GAsyncResult *result, GError **error)
{
  return secret_password_clear_finish (result, error);
}
