/* server-cluster-presence.c — the presence the other nodes announced. */
#define G_LOG_DOMAIN "voip-server"

#include "server-cluster-presence.h"

typedef struct {
  char       *username;
  VoipPresence presence;
} Entry;

typedef struct {
  gint64      last_seen;
  GHashTable *users;   /* gint64* → Entry* */
} Node;

struct _ServerClusterPresence {
  GHashTable *nodes;   /* name → Node* */
};

static void
entry_free (gpointer data)
{
  Entry *entry = data;

  g_free (entry->username);
  g_free (entry);
}

static void
node_free (gpointer data)
{
  Node *node = data;

  g_hash_table_unref (node->users);
  g_free (node);
}

static void
gone_free (gpointer data)
{
  ServerClusterGone *gone = data;

  g_free (gone->username);
  g_free (gone);
}

ServerClusterPresence *
server_cluster_presence_new (void)
{
  ServerClusterPresence *self = g_new0 (ServerClusterPresence, 1);

  self->nodes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, node_free);
  return self;
}

void
server_cluster_presence_free (ServerClusterPresence *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->nodes);
  g_free (self);
}

static Node *
node_get (ServerClusterPresence *self, const char *name, gint64 now)
{
  Node *node = g_hash_table_lookup (self->nodes, name);

  if (node == NULL)
    {
      node = g_new0 (Node, 1);
      node->users = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, entry_free);
      g_hash_table_insert (self->nodes, g_strdup (name), node);
      g_message ("cluster: node %s joined", name);
    }
  node->last_seen = now;
  return node;
}

void
server_cluster_presence_seen (ServerClusterPresence *self, const char *node, gint64 now)
{
  node_get (self, node, now);
}

void
server_cluster_presence_set (ServerClusterPresence *self, const char *name, gint64 user_id,
                             const char *username, VoipPresence presence, gint64 now)
{
  Node *node = node_get (self, name, now);
  Entry *entry;

  if (presence == VOIP_PRESENCE_OFFLINE)
    {
      g_hash_table_remove (node->users, &user_id);
      return;
    }
  entry = g_new0 (Entry, 1);
  entry->username = g_strdup (username);
  entry->presence = presence;
  g_hash_table_replace (node->users, g_memdup2 (&user_id, sizeof user_id), entry);
}

VoipPresence
server_cluster_presence_get (ServerClusterPresence *self, gint64 user_id)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->nodes);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Entry *entry = g_hash_table_lookup (((Node *) value)->users, &user_id);

      if (entry != NULL)
        return entry->presence;
    }
  return VOIP_PRESENCE_OFFLINE;
}

const char *
server_cluster_presence_username (ServerClusterPresence *self, gint64 user_id)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->nodes);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Entry *entry = g_hash_table_lookup (((Node *) value)->users, &user_id);

      if (entry != NULL)
        return entry->username;
    }
  return NULL;
}

gboolean
server_cluster_presence_knows (ServerClusterPresence *self, const char *node)
{
  return g_hash_table_contains (self->nodes, node);
}

GPtrArray *
server_cluster_presence_list_nodes (ServerClusterPresence *self)
{
  GPtrArray *nodes = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, self->nodes);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (nodes, g_strdup (key));
  return nodes;
}

GPtrArray *
server_cluster_presence_nodes (ServerClusterPresence *self, gint64 user_id)
{
  GPtrArray *nodes = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, self->nodes);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (g_hash_table_contains (((Node *) value)->users, &user_id))
      g_ptr_array_add (nodes, g_strdup (key));
  return nodes;
}

GPtrArray *
server_cluster_presence_sweep (ServerClusterPresence *self, gint64 now, GPtrArray *dead_nodes)
{
  GPtrArray *gone = g_ptr_array_new_with_free_func (gone_free);
  g_autoptr(GPtrArray) dead = g_ptr_array_new_with_free_func (node_free);
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, self->nodes);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (now - ((Node *) value)->last_seen > SERVER_CLUSTER_NODE_TIMEOUT_S * G_TIME_SPAN_SECOND)
      {
        g_warning ("cluster: node %s silent for %d s: its users are offline", (char *) key,
                   SERVER_CLUSTER_NODE_TIMEOUT_S);
        g_hash_table_iter_steal (&iter);
        if (dead_nodes != NULL)
          g_ptr_array_add (dead_nodes, g_strdup (key));
        g_free (key);
        g_ptr_array_add (dead, value);
      }
  for (guint i = 0; i < dead->len; i++)
    {
      Node *node = dead->pdata[i];

      g_hash_table_iter_init (&iter, node->users);
      while (g_hash_table_iter_next (&iter, &key, &value))
        if (server_cluster_presence_get (self, *(gint64 *) key) == VOIP_PRESENCE_OFFLINE)
          {
            ServerClusterGone *user = g_new0 (ServerClusterGone, 1);

            user->user_id = *(gint64 *) key;
            user->username = g_strdup (((Entry *) value)->username);
            user->presence = ((Entry *) value)->presence;
            g_ptr_array_add (gone, user);
          }
    }
  return gone;
}
