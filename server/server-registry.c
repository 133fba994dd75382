/* server-registry.c — the in-memory map of online users. Presence lives
 * only here: a user with no session is offline by definition. */
#define G_LOG_DOMAIN "voip-server"

#include "server-registry.h"

struct _ServerRegistry {
  GHashTable *users;     /* gint64* id → ServerUser* */
  guint       walking;   /* server_registry_send() calls under way */
  ServerCluster *cluster;   /* NULL: a single node */
};

/* Sessions close from their own I/O or an idle, never inside a send
 * (server-session.c), so no list changes under a fan-out. Should that
 * break, say so loudly rather than skip a session or read freed memory. */
static void
check_not_walking (ServerRegistry *self)
{
  if (self->walking > 0)
    g_critical ("a user's sessions changed during a fan-out");
}

static void
server_user_free (ServerUser *user)
{
  g_free (user->username);
  g_ptr_array_unref (user->sessions);
  g_free (user);
}

ServerRegistry *
server_registry_new (void)
{
  ServerRegistry *self = g_new0 (ServerRegistry, 1);

  self->users = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL,
                                       (GDestroyNotify) server_user_free);
  return self;
}

void
server_registry_free (ServerRegistry *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->users);
  g_free (self);
}

ServerUser *
server_registry_lookup (ServerRegistry *self, gint64 user_id)
{
  return g_hash_table_lookup (self->users, &user_id);
}

ServerUser *
server_registry_attach (ServerRegistry *self, ServerSession *session, gboolean *first)
{
  gint64 user_id = server_session_get_user_id (session);
  ServerUser *user = server_registry_lookup (self, user_id);

  check_not_walking (self);
  *first = (user == NULL);
  if (user == NULL)
    {
      user = g_new0 (ServerUser, 1);
      user->id = user_id;
      user->username = g_strdup (server_session_get_username (session));
      user->sessions = g_ptr_array_new ();
      user->presence = VOIP_PRESENCE_ONLINE;
      /* The key points into the value, which lives as long as the entry. */
      g_hash_table_insert (self->users, &user->id, user);
      if (self->cluster != NULL)
        {
          /* A user already online elsewhere keeps the choice made there. */
          VoipPresence elsewhere = server_cluster_remote_presence (self->cluster, user_id);

          if (elsewhere != VOIP_PRESENCE_OFFLINE)
            user->presence = elsewhere;
          server_cluster_watch_user (self->cluster, user_id);
          server_cluster_announce (self->cluster, user_id, user->username, user->presence);
        }
    }
  g_ptr_array_add (user->sessions, session);
  return user;
}

gboolean
server_registry_detach (ServerRegistry *self, ServerSession *session)
{
  gint64 user_id = server_session_get_user_id (session);
  ServerUser *user = server_registry_lookup (self, user_id);

  check_not_walking (self);
  if (user == NULL || !g_ptr_array_remove (user->sessions, session))
    return FALSE;
  if (user->sessions->len > 0)
    return FALSE;
  if (self->cluster != NULL)
    {
      server_cluster_unwatch_user (self->cluster, user_id);
      server_cluster_announce (self->cluster, user_id, user->username, VOIP_PRESENCE_OFFLINE);
    }
  g_hash_table_remove (self->users, &user_id);
  return TRUE;
}

VoipPresence
server_registry_presence (ServerRegistry *self, gint64 user_id)
{
  ServerUser *user = server_registry_lookup (self, user_id);

  if (user != NULL)
    return user->presence;
  if (self->cluster != NULL)
    return server_cluster_remote_presence (self->cluster, user_id);
  return VOIP_PRESENCE_OFFLINE;
}

VoipPresence
server_registry_visible_presence (ServerRegistry *self, gint64 user_id)
{
  VoipPresence presence = server_registry_presence (self, user_id);

  return presence == VOIP_PRESENCE_INVISIBLE ? VOIP_PRESENCE_OFFLINE : presence;
}

gboolean
server_registry_online_elsewhere (ServerRegistry *self, gint64 user_id)
{
  return self->cluster != NULL
         && server_cluster_remote_presence (self->cluster, user_id) != VOIP_PRESENCE_OFFLINE;
}

void
server_registry_set_presence (ServerRegistry *self, ServerUser *user, VoipPresence presence)
{
  user->presence = presence;
  if (self->cluster != NULL)
    server_cluster_announce (self->cluster, user->id, user->username, presence);
}

static void
send_here (ServerRegistry *self, gint64 user_id, GBytes *frame, ServerSession *except)
{
  ServerUser *user = server_registry_lookup (self, user_id);

  if (user == NULL)
    return;
  self->walking++;
  for (guint i = 0; i < user->sessions->len; i++)
    if (user->sessions->pdata[i] != except)
      server_session_send_frame (user->sessions->pdata[i], frame);
  self->walking--;
}

void
server_registry_send (ServerRegistry *self, gint64 user_id, GBytes *frame, ServerSession *except)
{
  send_here (self, user_id, frame, except);
  /* Whether or not the user is here: they may be on another node. */
  if (self->cluster != NULL)
    server_cluster_publish_user (self->cluster, user_id, frame);
}

void
server_registry_send_local (ServerRegistry *self, gint64 user_id, GBytes *frame)
{
  send_here (self, user_id, frame, NULL);
}

void
server_registry_set_cluster (ServerRegistry *self, ServerCluster *cluster)
{
  self->cluster = cluster;
}

guint
server_registry_count (ServerRegistry *self)
{
  return g_hash_table_size (self->users);
}
