/* voipd-groups.c — group objects and their methods. */
#define G_LOG_DOMAIN "voipd"

#include "voipd-calls.h"
#include "voipd-groups.h"
#include "voipd-conversation.h"

char *
voipd_group_path (gint64 id)
{
  /* Group ids are the protocol's unsigned 64-bit ids: one above 2^63 from a
   * server must still make a valid object path ('-' is not allowed). */
  return g_strdup_printf (VOIPD_OBJECT_ROOT "/group/%" G_GUINT64_FORMAT, (guint64) id);
}

VoipDBusGroup *
voipd_groups_lookup (VoipdAccount *account, gint64 id)
{
  g_autofree char *path = voipd_group_path (id);
  g_autoptr(GDBusObject) object = g_dbus_object_manager_get_object (
      G_DBUS_OBJECT_MANAGER (voipd_account_get_manager (account)), path);

  return object ? voip_dbus_object_peek_group (VOIP_DBUS_OBJECT (object)) : NULL;
}

/* ---- methods ------------------------------------------------------------------ */

/* The server answers the acting session with a bare OK and tells the others
 * with GroupChanged; reading the group back keeps this side current too. */
static GVariant *
after_change (VoipdAccount *account, GVariant *reply, gpointer data)
{
  voipd_account_refresh_group (account, GPOINTER_TO_SIZE (data));
  return NULL;
}

static GVariant *
after_gone (VoipdAccount *account, GVariant *reply, gpointer data)
{
  voipd_groups_remove (account, GPOINTER_TO_SIZE (data));
  return NULL;
}

static gboolean
on_rename (VoipDBusGroup *group, GDBusMethodInvocation *invocation, const char *name,
           gpointer account)
{
  guint64 id = voip_dbus_group_get_id (group);

  voipd_account_call (account, invocation, VOIP_MSG_GROUP_RENAME,
                      g_variant_new ("(ts)", id, name), after_change, GSIZE_TO_POINTER (id), NULL);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_add_member (VoipDBusGroup *group, GDBusMethodInvocation *invocation, const char *username,
               gpointer account)
{
  guint64 id = voip_dbus_group_get_id (group);

  voipd_account_call (account, invocation, VOIP_MSG_GROUP_ADD_MEMBER,
                      g_variant_new ("(ts)", id, username), after_change,
                      GSIZE_TO_POINTER (id), NULL);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_remove_member (VoipDBusGroup *group, GDBusMethodInvocation *invocation, const char *username,
                  gpointer account)
{
  guint64 id = voip_dbus_group_get_id (group);

  voipd_account_call (account, invocation, VOIP_MSG_GROUP_REMOVE_MEMBER,
                      g_variant_new ("(ts)", id, username), after_change,
                      GSIZE_TO_POINTER (id), NULL);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_leave (VoipDBusGroup *group, GDBusMethodInvocation *invocation, gpointer account)
{
  guint64 id = voip_dbus_group_get_id (group);

  voipd_account_call (account, invocation, VOIP_MSG_GROUP_LEAVE, g_variant_new ("(t)", id),
                      after_gone, GSIZE_TO_POINTER (id), NULL);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_delete (VoipDBusGroup *group, GDBusMethodInvocation *invocation, gpointer account)
{
  guint64 id = voip_dbus_group_get_id (group);

  voipd_account_call (account, invocation, VOIP_MSG_GROUP_DELETE, g_variant_new ("(t)", id),
                      after_gone, GSIZE_TO_POINTER (id), NULL);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_call (VoipDBusGroup *group, GDBusMethodInvocation *invocation, gpointer account)
{
  voipd_calls_invite (voipd_account_get_calls (account), invocation, "",
                      voip_dbus_group_get_id (group));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ---- objects --------------------------------------------------------------------- */

static void group_set (VoipDBusGroup *group, const char *name, const char *owner,
                       const char *const *members);

/* Exported only once its properties are set, so that InterfacesAdded
 * already carries them. */
static VoipDBusGroup *
group_create (VoipdAccount *account, gint64 id, const char *name, const char *owner,
              const char *const *members, guint unread)
{
  g_autofree char *path = voipd_group_path (id);
  g_autoptr(VoipDBusObjectSkeleton) object = voip_dbus_object_skeleton_new (path);
  g_autoptr(VoipDBusGroup) group = voip_dbus_group_skeleton_new ();
  g_autoptr(VoipDBusConversation) conversation = voipd_conversation_new (
      voipd_account_get_conversations (account), NULL, id, unread);

  voip_dbus_group_set_id (group, id);
  group_set (group, name, owner, members);
  g_signal_connect (group, "handle-rename", G_CALLBACK (on_rename), account);
  g_signal_connect (group, "handle-add-member", G_CALLBACK (on_add_member), account);
  g_signal_connect (group, "handle-remove-member", G_CALLBACK (on_remove_member), account);
  g_signal_connect (group, "handle-leave", G_CALLBACK (on_leave), account);
  g_signal_connect (group, "handle-delete", G_CALLBACK (on_delete), account);
  g_signal_connect (group, "handle-call", G_CALLBACK (on_call), account);
  voip_dbus_object_skeleton_set_group (object, group);
  voip_dbus_object_skeleton_set_conversation (object, conversation);
  g_dbus_object_manager_server_export (voipd_account_get_manager (account),
                                       G_DBUS_OBJECT_SKELETON (object));
  return group;
}

static void
group_set (VoipDBusGroup *group, const char *name, const char *owner, const char *const *members)
{
  voip_dbus_group_set_name (group, name);
  voip_dbus_group_set_owner (group, owner);
  voip_dbus_group_set_members (group, members);
}

VoipDBusGroup *
voipd_groups_put (VoipdAccount *account, gint64 id, const char *name, const char *owner,
                  const char *const *members)
{
  VoipDBusGroup *group = voipd_groups_lookup (account, id);
  g_autoptr(GError) error = NULL;

  if (!voipd_cache_put_group (voipd_account_get_cache (account), id, name, owner, members,
                              &error))
    g_warning ("%s", error->message);
  if (group == NULL)
    return group_create (account, id, name, owner, members, 0);
  group_set (group, name, owner, members);
  return group;
}

VoipDBusGroup *
voipd_groups_put_wire (VoipdAccount *account, GVariant *wire)
{
  guint64 id;
  const char *name, *owner;
  g_autofree const char **members = NULL;

  g_variant_get (wire, "(t&s&s^a&s)", &id, &name, &owner, &members);
  return voipd_groups_put (account, id, name, owner, members);
}

void
voipd_groups_remove (VoipdAccount *account, gint64 id)
{
  g_autofree char *path = voipd_group_path (id);
  g_autoptr(GError) error = NULL;

  if (!voipd_cache_remove_group (voipd_account_get_cache (account), id, &error))
    g_warning ("%s", error->message);
  g_dbus_object_manager_server_unexport (voipd_account_get_manager (account), path);
}

void
voipd_groups_load_cache (VoipdAccount *account)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) groups = voipd_cache_list_groups (voipd_account_get_cache (account),
                                                         &error);

  if (groups == NULL)
    {
      g_warning ("%s", error->message);
      return;
    }
  for (guint i = 0; i < groups->len; i++)
    {
      VoipdCachedGroup *g = groups->pdata[i];
      VoipDBusGroup *group = voipd_groups_lookup (account, g->id);

      if (group == NULL)
        group_create (account, g->id, g->name, g->owner, (const char *const *) g->members,
                      g->unread);
      else
        {
          group_set (group, g->name, g->owner, (const char *const *) g->members);
          voip_dbus_conversation_set_unread (
              voipd_conversation_lookup (voipd_account_get_conversations (account), NULL, g->id),
              g->unread);
        }
    }
}
