/* server-tls.c — TLS on client connections.
 *
 * GTlsConnection has no say in protocol versions or ciphers. GIO's GnuTLS
 * backend (glib-networking) takes them from the environment variable
 * G_TLS_GNUTLS_PRIORITY, read once, when its first connection is made, and
 * it silently falls back to no usable priority when the string does not
 * parse. So the configured priority is checked here with GnuTLS itself (it
 * must parse, and allow only TLS 1.2 and later), then put in the
 * environment before the first connection. A handshake that still lands on
 * an older protocol (another TLS backend, which ignores that variable) is
 * refused after the fact. */
#define G_LOG_DOMAIN "voip-server"

#include <gnutls/gnutls.h>

#include "server-tls.h"

#define PRIORITY_VARIABLE "G_TLS_GNUTLS_PRIORITY"

struct _ServerTls {
  GTlsCertificate *certificate;
  char            *description;
};

/* The priority handed to the backend, for the life of the process. */
G_LOCK_DEFINE_STATIC (applied);
static char *applied_priority;

/* ---- helpers ------------------------------------------------------------ */

/* Parses the priority the way glib-networking will, and checks which
 * protocol versions it leaves. */
static gboolean
check_priority (const char *priority, GError **error)
{
  gnutls_priority_t cache = NULL;
  const char *error_at = NULL;
  const unsigned int *protocols = NULL;
  gboolean modern = FALSE;
  int n, ret;

  if (priority == NULL || *priority == '\0')
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "[tls] priority is empty");
      return FALSE;
    }
  ret = gnutls_priority_init2 (&cache, priority, &error_at, 0);
  if (ret != GNUTLS_E_SUCCESS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "[tls] priority '%s': %s at '%s'", priority, gnutls_strerror (ret),
                   error_at ? error_at : "");
      return FALSE;
    }
  n = gnutls_priority_protocol_list (cache, &protocols);
  for (int i = 0; i < n; i++)
    switch (protocols[i])
      {
      case GNUTLS_SSL3:
      case GNUTLS_TLS1_0:
      case GNUTLS_TLS1_1:
        /* protocols points into the cache: name the version before freeing it. */
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                     "[tls] priority '%s' allows %s; only TLS 1.2 and later are allowed "
                     "(RFC 8996)", priority, gnutls_protocol_get_name (protocols[i]));
        gnutls_priority_deinit (cache);
        return FALSE;
      case GNUTLS_TLS1_2:
      case GNUTLS_TLS1_3:
        modern = TRUE;
        break;
      default:   /* DTLS: not used over TCP */
        break;
      }
  gnutls_priority_deinit (cache);
  if (!modern)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "[tls] priority '%s' allows neither TLS 1.2 nor TLS 1.3", priority);
      return FALSE;
    }
  return TRUE;
}

/* Hands the priority to the backend, once per process. */
static gboolean
apply_priority (const char *priority, GError **error)
{
  GTlsBackend *backend = g_tls_backend_get_default ();
  const char *inherited;
  gboolean ok = TRUE;

  if (!g_tls_backend_supports_tls (backend))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "[tls] is set but GIO has no TLS backend (install glib-networking)");
      return FALSE;
    }

  G_LOCK (applied);
  if (applied_priority == NULL)
    {
      inherited = g_getenv (PRIORITY_VARIABLE);
      if (inherited != NULL && g_strcmp0 (inherited, priority) != 0)
        g_message ("TLS: [tls] priority replaces %s=%s from the environment",
                   PRIORITY_VARIABLE, inherited);
      /* At start-up, before the store and hashing threads that could read
       * the environment at the same time exist. */
      g_setenv (PRIORITY_VARIABLE, priority, TRUE);
      applied_priority = g_strdup (priority);
    }
  else if (!g_str_equal (applied_priority, priority))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "[tls] priority '%s': this process already uses '%s' (GnuTLS reads it "
                   "once)", priority, applied_priority);
      ok = FALSE;
    }
  G_UNLOCK (applied);

  if (ok && !g_str_equal (G_OBJECT_TYPE_NAME (backend), "GTlsBackendGnutls"))
    g_warning ("TLS: the GIO TLS backend is %s, not GnuTLS: [tls] priority does not apply "
               "(protocols older than TLS 1.2 are still refused)", G_OBJECT_TYPE_NAME (backend));
  return ok;
}

static char *
describe (GTlsCertificate *certificate, const char *priority)
{
  g_autoptr(GByteArray) der = NULL;
  g_autoptr(GDateTime) until = g_tls_certificate_get_not_valid_after (certificate);
  g_autofree char *subject = g_tls_certificate_get_subject_name (certificate);
  g_autofree char *until_text = until ? g_date_time_format_iso8601 (until) : NULL;
  g_autoptr(GString) fingerprint = g_string_new (NULL);
  g_autofree char *hex = NULL;

  g_object_get (certificate, "certificate", &der, NULL);
  if (der != NULL)
    hex = g_compute_checksum_for_data (G_CHECKSUM_SHA256, der->data, der->len);
  for (const char *c = hex; c != NULL && *c != '\0'; c += 2)
    g_string_append_printf (fingerprint, "%s%c%c", c == hex ? "" : ":",
                            g_ascii_toupper (c[0]), g_ascii_toupper (c[1]));
  return g_strdup_printf ("subject %s, SHA-256 %s, valid until %s; priority %s",
                          subject ? subject : "(none)", fingerprint->len ? fingerprint->str : "?",
                          until_text ? until_text : "?", priority);
}

/* ---- public ------------------------------------------------------------- */

ServerTls *
server_tls_new (const char *certificate, const char *key, const char *priority, GError **error)
{
  g_autoptr(ServerTls) self = g_new0 (ServerTls, 1);

  g_return_val_if_fail (certificate != NULL && key != NULL, NULL);

  if (!check_priority (priority, error))
    return NULL;
  self->certificate = g_tls_certificate_new_from_files (certificate, key, error);
  if (self->certificate == NULL)
    {
      g_prefix_error (error, "[tls] %s, %s: ", certificate, key);
      return NULL;
    }
  if (!apply_priority (priority, error))
    return NULL;
  self->description = describe (self->certificate, priority);
  return g_steal_pointer (&self);
}

void
server_tls_free (ServerTls *self)
{
  if (self == NULL)
    return;
  g_clear_object (&self->certificate);
  g_free (self->description);
  g_free (self);
}

GIOStream *
server_tls_wrap (ServerTls *self, GIOStream *base, GError **error)
{
  return g_tls_server_connection_new (base, self->certificate, error);
}

gboolean
server_tls_check_handshake (GTlsConnection *connection, GError **error)
{
  GTlsProtocolVersion version = g_tls_connection_get_protocol_version (connection);

  if (version == G_TLS_PROTOCOL_VERSION_SSL_3_0 || version == G_TLS_PROTOCOL_VERSION_TLS_1_0
      || version == G_TLS_PROTOCOL_VERSION_TLS_1_1)
    {
      g_set_error (error, G_TLS_ERROR, G_TLS_ERROR_HANDSHAKE,
                   "the client negotiated a protocol older than TLS 1.2");
      return FALSE;
    }
  return TRUE;
}

const char *
server_tls_get_description (ServerTls *self)
{
  return self->description;
}
