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

/* Not secret_password_lookup (): in libsecret before 0.21.2 that path ends in
 * secret_service_get_secret_for_dbus_path_finish (), which never unrefs the
 * GetSecrets reply, so every lookup that finds a token leaks it (the token's
 * bytes and the item's object paths; upstream commit "secret-paths: Make sure
 * to unref GVariant"). A search that loads secrets reads them through
 * secret_item_load_secrets (), which releases its reply, and otherwise does
 * what the lookup did: the unlocked item first, unlocking a locked one. */
void
voipd_secrets_lookup_async (const char *server, const char *username, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr(GHashTable) attributes = secret_attributes_build (token_schema (),
                                                              "server", server,
                                                              "username", username, NULL);

  secret_service_search (NULL, token_schema (), attributes,
                         SECRET_SEARCH_UNLOCK | SECRET_SEARCH_LOAD_SECRETS,
                         cancellable, callback, user_data);
}

char *
voipd_secrets_lookup_finish (GAsyncResult *result, GError **error)
{
  g_autolist(SecretItem) items = secret_service_search_finish (NULL, result, error);
  g_autoptr(SecretValue) value = NULL;
  const char *token;

  if (items == NULL)
    return NULL;    /* none stored, or the error */

  /* The search ignores a failed unlock: the item is then still locked, with
   * no secret, and the keyring (not the login) is what is missing. */
  value = secret_item_get_secret (items->data);
  if (value == NULL)
    {
      g_set_error_literal (error, SECRET_ERROR, SECRET_ERROR_IS_LOCKED,
                           _("The keyring holding the session token is locked"));
      return NULL;
    }
  /* As secret_password_lookup_finish (): a secret that is not text is no token. */
  token = secret_value_get_text (value);
  return g_strdup (token);
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
