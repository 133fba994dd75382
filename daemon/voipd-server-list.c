/* voipd-server-list.c — parsing a server list and resolving it into nodes
 * (see the header). */
#define G_LOG_DOMAIN "voipd"

#include <string.h>

#include <glib/gi18n.h>

#include "voip-status.h"
#include "voipd-server-list.h"

/* ---- parsing ---------------------------------------------------------------- */

static gboolean
host_name_is_valid (const char *host)
{
  if (*host == '\0' || *host == '.' || *host == '-')
    return FALSE;
  for (const char *c = host; *c; c++)
    if (!g_ascii_isalnum (*c) && *c != '.' && *c != '-')
      return FALSE;
  return TRUE;
}

/* One entry, already trimmed and non-empty: HOST:PORT or DOMAIN. */
static GSocketConnectable *
parse_entry (const char *entry, GError **error)
{
  const char *colon = strrchr (entry, ':');
  g_autofree char *host = NULL;
  guint64 port;

  if (entry[0] == '[')
    {
      /* [IPv6]:PORT; a bracketed address always needs its port. */
      const char *close = strchr (entry, ']');

      if (close == NULL || close[1] != ':'
          || !g_ascii_string_to_unsigned (close + 2, 10, 1, 65535, &port, NULL))
        goto bad;
      host = g_strndup (entry + 1, close - entry - 1);
      if (!g_hostname_is_ip_address (host) || strchr (host, ':') == NULL)
        goto bad;
      return g_network_address_new (host, port);
    }
  if (colon == NULL)
    {
      if (!host_name_is_valid (entry) || g_hostname_is_ip_address (entry))
        goto bad;
      return g_network_service_new (VOIPD_SERVER_LIST_SRV_SERVICE,
                                    VOIPD_SERVER_LIST_SRV_PROTOCOL, entry);
    }
  host = g_strndup (entry, colon - entry);
  if (!host_name_is_valid (host)
      || !g_ascii_string_to_unsigned (colon + 1, 10, 1, 65535, &port, NULL))
    goto bad;
  return g_network_address_new (host, port);

bad:
  g_set_error (error, VOIP_ERROR, VOIP_STATUS_MALFORMED,
               _("'%s' is not a server address (HOST:PORT, or a domain with SRV records)"),
               entry);
  return NULL;
}

/* The entry's canonical form, to find duplicates. */
static char *
entry_key (GSocketConnectable *connectable)
{
  if (G_IS_NETWORK_SERVICE (connectable))
    return g_ascii_strdown (g_network_service_get_domain (G_NETWORK_SERVICE (connectable)), -1);
  else
    {
      GNetworkAddress *address = G_NETWORK_ADDRESS (connectable);
      g_autofree char *host = g_ascii_strdown (g_network_address_get_hostname (address), -1);

      return voipd_server_list_format_node (host, g_network_address_get_port (address));
    }
}

GPtrArray *
voipd_server_list_parse (const char *text, GError **error)
{
  g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_auto(GStrv) parts = NULL;

  g_return_val_if_fail (text != NULL, NULL);

  if (strlen (text) > VOIPD_SERVER_LIST_MAX_LENGTH)
    {
      g_set_error (error, VOIP_ERROR, VOIP_STATUS_MALFORMED,
                   _("the server list is longer than %d characters"),
                   VOIPD_SERVER_LIST_MAX_LENGTH);
      return NULL;
    }
  parts = g_strsplit (text, ",", -1);
  if (parts[0] == NULL)
    {
      g_set_error_literal (error, VOIP_ERROR, VOIP_STATUS_MALFORMED, _("no server given"));
      return NULL;
    }
  if (g_strv_length (parts) > VOIPD_SERVER_LIST_MAX_ENTRIES)
    {
      g_set_error (error, VOIP_ERROR, VOIP_STATUS_MALFORMED,
                   _("the server list has more than %d servers"),
                   VOIPD_SERVER_LIST_MAX_ENTRIES);
      return NULL;
    }
  for (guint i = 0; parts[i] != NULL; i++)
    {
      const char *entry = g_strstrip (parts[i]);
      g_autoptr(GSocketConnectable) connectable = NULL;
      char *key;

      if (*entry == '\0')
        {
          g_set_error (error, VOIP_ERROR, VOIP_STATUS_MALFORMED,
                       _("the server list '%s' has an empty entry"), text);
          return NULL;
        }
      connectable = parse_entry (entry, error);
      if (connectable == NULL)
        return NULL;
      key = entry_key (connectable);
      if (!g_hash_table_add (seen, key))
        {
          g_set_error (error, VOIP_ERROR, VOIP_STATUS_MALFORMED,
                       _("'%s' is twice in the server list"), entry);
          return NULL;
        }
      g_ptr_array_add (entries, g_steal_pointer (&connectable));
    }
  return g_steal_pointer (&entries);
}

gboolean
voipd_server_list_is_valid (const char *text, GError **error)
{
  g_autoptr(GPtrArray) entries = voipd_server_list_parse (text, error);

  return entries != NULL;
}

char *
voipd_server_list_format_node (const char *host, guint16 port)
{
  if (strchr (host, ':') != NULL)
    return g_strdup_printf ("[%s]:%u", host, port);
  return g_strdup_printf ("%s:%u", host, port);
}

/* ---- resolving -------------------------------------------------------------- */

/* The entries are resolved one after the other, in order. */
typedef struct {
  GPtrArray *entries;
  GResolver *resolver;
  GPtrArray *nodes;     /* char *, NULL-terminated at the end */
  guint      next;
} Resolve;

static void
resolve_free (gpointer data)
{
  Resolve *resolve = data;

  g_ptr_array_unref (resolve->entries);
  g_object_unref (resolve->resolver);
  g_ptr_array_unref (resolve->nodes);
  g_free (resolve);
}

static void resolve_next (GTask *task);

static void
on_service_resolved (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Resolve *resolve = g_task_get_task_data (task);
  GNetworkService *service = resolve->entries->pdata[resolve->next - 1];
  g_autoptr(GError) error = NULL;
  GList *targets = g_resolver_lookup_service_finish (G_RESOLVER (source), result, &error);

  if (g_task_return_error_if_cancelled (task))
    {
      g_resolver_free_targets (targets);
      return;
    }
  if (targets == NULL)
    {
      /* No SRV records: the domain itself, as GNetworkService falls back. */
      g_debug ("no SRV records for %s (%s): trying the host itself",
               g_network_service_get_domain (service), error->message);
      g_ptr_array_add (resolve->nodes, voipd_server_list_format_node (
          g_network_service_get_domain (service), VOIPD_SERVER_LIST_DEFAULT_PORT));
    }
  for (GList *l = targets; l != NULL; l = l->next)
    if (resolve->nodes->len < VOIPD_SERVER_LIST_MAX_NODES)
      g_ptr_array_add (resolve->nodes, voipd_server_list_format_node (
          g_srv_target_get_hostname (l->data), g_srv_target_get_port (l->data)));
  g_resolver_free_targets (targets);
  resolve_next (g_steal_pointer (&task));
}

static void
resolve_next (GTask *task)
{
  Resolve *resolve = g_task_get_task_data (task);

  while (resolve->next < resolve->entries->len
         && resolve->nodes->len < VOIPD_SERVER_LIST_MAX_NODES)
    {
      GSocketConnectable *entry = resolve->entries->pdata[resolve->next++];

      if (G_IS_NETWORK_SERVICE (entry))
        {
          GNetworkService *service = G_NETWORK_SERVICE (entry);

          g_resolver_lookup_service_async (resolve->resolver,
                                           g_network_service_get_service (service),
                                           g_network_service_get_protocol (service),
                                           g_network_service_get_domain (service),
                                           g_task_get_cancellable (task),
                                           on_service_resolved, task);
          return;
        }
      g_ptr_array_add (resolve->nodes, voipd_server_list_format_node (
          g_network_address_get_hostname (G_NETWORK_ADDRESS (entry)),
          g_network_address_get_port (G_NETWORK_ADDRESS (entry))));
    }
  g_ptr_array_add (resolve->nodes, NULL);
  g_task_return_pointer (task, g_ptr_array_steal (resolve->nodes, NULL),
                         (GDestroyNotify) g_strfreev);
  g_object_unref (task);
}

void
voipd_server_list_resolve_async (GPtrArray *entries, GResolver *resolver,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  Resolve *resolve = g_new0 (Resolve, 1);

  g_task_set_source_tag (task, voipd_server_list_resolve_async);
  resolve->entries = g_ptr_array_ref (entries);
  resolve->resolver = g_object_ref (resolver);
  resolve->nodes = g_ptr_array_new_with_free_func (g_free);
  g_task_set_task_data (task, resolve, resolve_free);
  resolve_next (task);
}

GStrv
voipd_server_list_resolve_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
