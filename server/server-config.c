/* server-config.c — the config file is a GKeyFile:
 *
 *   [server]    listen, database, login-timeout, idle-timeout, max-output-queue, health
 *   [store]     url
 *   [security]  password-hash, hash-threads, login-attempts-per-ip,
 *               login-refill-per-second, login-failures-per-account,
 *               login-failure-refill-seconds
 *   [tls]       certificate, key, priority
 *   [calls]     ring-timeout, relay
 *   [stun]      enabled, port, servers
 *   [turn]      servers, secret, ttl
 *   [cluster]   nats, node (both or neither; PostgreSQL store required)
 *
 * data/voip-server.conf.example documents every key. A typo in a key is an
 * error, not a silently ignored setting. */
#define G_LOG_DOMAIN "voip-server"

#include "server-config.h"
#include "cluster/server-cluster.h"
#include "store.h"
#include "voip-limits.h"

typedef enum {
  KEY_STRING, KEY_UINT, KEY_SIZE, KEY_DOUBLE, KEY_HASH, KEY_BOOL,
  KEY_SERVERS,   /* a list of host:port, at most VOIP_CALL_SERVERS_MAX */
  KEY_LIST,      /* words separated by ',' (or ';'), checked by server_config_validate() */
} KeyType;

typedef struct {
  const char *group;
  const char *key;
  KeyType     type;
  gsize       offset;
  double      min, max;
} ConfigKey;

#define FIELD(f) G_STRUCT_OFFSET (ServerConfig, f)

static const ConfigKey config_keys[] = {
  { "server",   "listen",                       KEY_STRING, FIELD (listen),                     0, 0 },
  { "server",   "health",                       KEY_STRING, FIELD (health),                     0, 0 },
  { "server",   "database",                     KEY_STRING, FIELD (database),                   0, 0 },
  { "server",   "login-timeout",                KEY_UINT,   FIELD (login_timeout_s),            1, 3600 },
  { "server",   "idle-timeout",                 KEY_UINT,   FIELD (idle_timeout_s),             1, 86400 },
  { "server",   "max-output-queue",             KEY_SIZE,   FIELD (max_output_queue),           65536, 1 << 30 },
  { "store",    "url",                          KEY_STRING, FIELD (store_url),                  0, 0 },
  { "security", "password-hash",                KEY_HASH,   FIELD (hash_cost),                  0, 0 },
  { "security", "hash-threads",                 KEY_UINT,   FIELD (hash_threads),               1, 64 },
  { "security", "login-attempts-per-ip",        KEY_DOUBLE, FIELD (login_attempts_per_ip),      1, 1e9 },
  { "security", "login-refill-per-second",      KEY_DOUBLE, FIELD (login_refill_per_second),    0.001, 1e9 },
  { "security", "login-failures-per-account",   KEY_DOUBLE, FIELD (login_failures_per_account), 1, 1e9 },
  { "security", "login-failure-refill-seconds", KEY_DOUBLE, FIELD (login_failure_refill_s),     0.001, 1e9 },
  { "tls",      "certificate",                  KEY_STRING, FIELD (tls_certificate),            0, 0 },
  { "tls",      "key",                          KEY_STRING, FIELD (tls_key),                    0, 0 },
  { "tls",      "priority",                     KEY_STRING, FIELD (tls_priority),               0, 0 },
  { "calls",    "ring-timeout",                 KEY_UINT,   FIELD (ring_timeout_s),             1, 3600 },
  { "calls",    "relay",                        KEY_BOOL,   FIELD (call_relay),                 0, 0 },
  { "stun",     "enabled",                      KEY_BOOL,   FIELD (stun_enabled),               0, 0 },
  { "stun",     "port",                         KEY_UINT,   FIELD (stun_port),                  0, 65535 },
  { "stun",     "servers",                      KEY_SERVERS, FIELD (stun_servers),              0, 0 },
  { "turn",     "servers",                      KEY_SERVERS, FIELD (turn_servers),              0, 0 },
  { "turn",     "secret",                       KEY_STRING, FIELD (turn_secret),                0, 0 },
  { "turn",     "ttl",                          KEY_UINT,   FIELD (turn_ttl_s),                 60, 30 * 86400 },
  { "cluster",  "nats",                         KEY_LIST,   FIELD (cluster_nats),               0, 0 },
  { "cluster",  "node",                         KEY_STRING, FIELD (cluster_node),               0, 0 },
  { "cluster",  "reconnect-buffer",             KEY_SIZE,   FIELD (cluster_reconnect_buffer),   1, 1 << 30 },
};

ServerConfig *
server_config_new_default (void)
{
  ServerConfig *config = g_new0 (ServerConfig, 1);

  config->listen = g_strdup ("127.0.0.1:7000");
  config->database = g_build_filename (g_get_user_data_dir (), "voip", "server.db", NULL);
  config->login_timeout_s = 10;
  config->idle_timeout_s = 90;
  config->max_output_queue = 8 * 1024 * 1024;
  config->hash_cost = SERVER_HASH_INTERACTIVE;
  config->hash_threads = MAX (1, g_get_num_processors ());
  config->login_attempts_per_ip = 30;
  config->login_refill_per_second = 1;
  config->login_failures_per_account = 10;
  config->login_failure_refill_s = 60;
  config->ring_timeout_s = 45;
  config->tls_priority = g_strdup (SERVER_TLS_PRIORITY_DEFAULT);
  config->call_relay = TRUE;
  config->stun_enabled = TRUE;
  config->stun_port = 3478;
  config->turn_ttl_s = 86400;
  config->cluster_reconnect_buffer = SERVER_CLUSTER_RECONNECT_BUFFER;
  return config;
}

void
server_config_free (ServerConfig *config)
{
  if (config == NULL)
    return;
  g_free (config->listen);
  g_free (config->health);
  g_free (config->database);
  g_free (config->store_url);
  g_free (config->tls_certificate);
  g_free (config->tls_key);
  g_free (config->tls_priority);
  g_strfreev (config->stun_servers);
  g_strfreev (config->turn_servers);
  g_free (config->turn_secret);
  g_strfreev (config->cluster_nats);
  g_free (config->cluster_node);
  g_free (config);
}

const char *
server_config_store_location (const ServerConfig *config)
{
  return config->store_url != NULL ? config->store_url : config->database;
}

static const ConfigKey *
find_key (const char *group, const char *key)
{
  for (guint i = 0; i < G_N_ELEMENTS (config_keys); i++)
    if (g_str_equal (config_keys[i].group, group) && g_str_equal (config_keys[i].key, key))
      return &config_keys[i];
  return NULL;
}

/* host:port entries (IPv6 hosts in brackets); the port is required. */
static gboolean
load_servers (GKeyFile *file, const ConfigKey *spec, const char *path, char ***field,
              GError **error)
{
  gsize n = 0;
  g_auto(GStrv) list = g_key_file_get_string_list (file, spec->group, spec->key, &n, error);

  if (list == NULL)
    return FALSE;
  if (n > VOIP_CALL_SERVERS_MAX)
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "%s: [%s] %s lists more than %d servers", path, spec->group, spec->key,
                   VOIP_CALL_SERVERS_MAX);
      return FALSE;
    }
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GSocketConnectable) parsed = NULL;

      g_strstrip (list[i]);
      parsed = g_network_address_parse (list[i], 0, NULL);
      if (parsed == NULL || g_network_address_get_port (G_NETWORK_ADDRESS (parsed)) == 0)
        {
          g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                       "%s: [%s] %s: '%s' is not host:port", path, spec->group, spec->key,
                       list[i]);
          return FALSE;
        }
    }
  g_strfreev (*field);
  *field = g_steal_pointer (&list);
  return TRUE;
}

static gboolean
load_value (ServerConfig *config, GKeyFile *file, const ConfigKey *spec, const char *path,
            GError **error)
{
  gpointer field = G_STRUCT_MEMBER_P (config, spec->offset);
  g_autofree char *raw = NULL;
  char *end = NULL;
  double number;

  if (spec->type == KEY_SERVERS)
    return load_servers (file, spec, path, (char ***) field, error);
  if (spec->type == KEY_LIST)
    {
      g_autofree char *value = g_key_file_get_string (file, spec->group, spec->key, error);
      g_auto(GStrv) parts = NULL;
      GPtrArray *list;

      if (value == NULL)
        return FALSE;
      parts = g_strsplit_set (value, ",;", -1);
      list = g_ptr_array_new ();
      for (guint i = 0; parts[i] != NULL; i++)
        if (*g_strstrip (parts[i]) != '\0')
          g_ptr_array_add (list, g_strdup (parts[i]));
      g_ptr_array_add (list, NULL);
      g_strfreev (*(char ***) field);
      *(char ***) field = (char **) g_ptr_array_free (list, FALSE);
      return TRUE;
    }
  raw = g_key_file_get_string (file, spec->group, spec->key, error);
  if (raw == NULL)
    return FALSE;
  g_strstrip (raw);

  switch (spec->type)
    {
    case KEY_STRING:
      g_free (*(char **) field);
      *(char **) field = g_steal_pointer (&raw);
      return TRUE;
    case KEY_HASH:
      if (g_str_equal (raw, "interactive"))
        *(ServerHashCost *) field = SERVER_HASH_INTERACTIVE;
      else if (g_str_equal (raw, "moderate"))
        *(ServerHashCost *) field = SERVER_HASH_MODERATE;
      else if (g_str_equal (raw, "minimum"))
        *(ServerHashCost *) field = SERVER_HASH_MINIMUM;
      else
        goto bad;
      return TRUE;
    case KEY_BOOL:
      if (g_str_equal (raw, "true"))
        *(gboolean *) field = TRUE;
      else if (g_str_equal (raw, "false"))
        *(gboolean *) field = FALSE;
      else
        goto bad;
      return TRUE;
    case KEY_SERVERS:
    case KEY_LIST:
      g_assert_not_reached ();
    case KEY_UINT:
    case KEY_SIZE:
    case KEY_DOUBLE:
      number = g_ascii_strtod (raw, &end);
      if (end == raw || *end != '\0' || number < spec->min || number > spec->max
          || (spec->type != KEY_DOUBLE && number != (guint64) number))
        goto bad;
      if (spec->type == KEY_UINT)
        *(guint *) field = number;
      else if (spec->type == KEY_SIZE)
        *(gsize *) field = number;
      else
        *(double *) field = number;
      return TRUE;
    }
bad:
  g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
               "%s: [%s] %s = '%s' is not a valid value", path, spec->group, spec->key, raw);
  return FALSE;
}

gboolean
server_config_load (ServerConfig *config, const char *path, GError **error)
{
  g_autoptr(GKeyFile) file = g_key_file_new ();
  g_auto(GStrv) groups = NULL;

  if (!g_key_file_load_from_file (file, path, G_KEY_FILE_NONE, error))
    {
      g_prefix_error (error, "%s: ", path);
      return FALSE;
    }
  groups = g_key_file_get_groups (file, NULL);
  for (guint g = 0; groups[g] != NULL; g++)
    {
      g_auto(GStrv) keys = g_key_file_get_keys (file, groups[g], NULL, NULL);

      for (guint k = 0; keys != NULL && keys[k] != NULL; k++)
        {
          const ConfigKey *spec = find_key (groups[g], keys[k]);

          if (spec == NULL)
            {
              g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND,
                           "%s: unknown setting [%s] %s", path, groups[g], keys[k]);
              return FALSE;
            }
          if (!load_value (config, file, spec, path, error))
            return FALSE;
        }
    }
  return TRUE;
}

gboolean
server_config_validate (ServerConfig *config, GError **error)
{
  if ((config->tls_certificate == NULL) != (config->tls_key == NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "[tls] needs both certificate and key");
      return FALSE;
    }
  if (config->database == NULL || *config->database == '\0')
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "no database path");
      return FALSE;
    }
  if (config->store_url != NULL && !store_location_is_postgresql (config->store_url))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "[store] url must be a PostgreSQL URI (postgresql://…)");
      return FALSE;
    }
  if ((config->cluster_nats == NULL) != (config->cluster_node == NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "[cluster] needs both nats and node");
      return FALSE;
    }
  if (config->cluster_nats != NULL)
    {
      if (!server_cluster_validate_urls ((const char *const *) config->cluster_nats, error)
          || !server_cluster_validate_node (config->cluster_node, error))
        return FALSE;
      /* Nodes share their truth: one SQLite file per node would not. */
      if (config->store_url == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "[cluster] needs a shared store: set [store] url=postgresql://…");
          return FALSE;
        }
    }
  return TRUE;
}
