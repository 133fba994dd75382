/* voip-client.c — the app's connection to voipd: the object manager client,
 * voipd's presence on the bus, and the signals the widgets listen to.
 *
 * Signals (all on the main context):
 *   daemon-changed ()                          voipd came or went
 *   conversations-changed ()                   a contact or group came or went
 *   object-changed (VoipDBusObject)                a property of one changed
 *   message (VoipDBusObject, kind, GVariant msg)   MessageReceived/Edited/Deleted;
 *                                              kind "received", "edited", "deleted"
 *   call-added (VoipDBusCall)                      a call object appeared
 *   call-changed (VoipDBusCall)                    a property of a call changed
 */
#define G_LOG_DOMAIN "voip"

#include "voip-client.h"

#define VOIP_BUS_NAME "org.voipd.Voip1"
#define VOIP_ROOT_PATH "/org/voipd/Voip1"

enum {
  SIGNAL_DAEMON_CHANGED,
  SIGNAL_CONVERSATIONS_CHANGED,
  SIGNAL_OBJECT_CHANGED,
  SIGNAL_MESSAGE,
  SIGNAL_CALL_ADDED,
  SIGNAL_CALL_CHANGED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

struct _VoipClient
{
  GObject              parent_instance;
  GDBusObjectManager  *manager;
  VoipDBusAccount         *account;      /* the root object: not one of the managed ones */
  GCancellable        *cancellable;
};

G_DEFINE_FINAL_TYPE (VoipClient, voip_client, G_TYPE_OBJECT)

/* ---- helpers ------------------------------------------------------------ */

static gboolean
is_conversation (GDBusObject *object)
{
  return voip_dbus_object_peek_conversation (VOIP_DBUS_OBJECT (object)) != NULL;
}

static void
on_conversation_signal (GDBusProxy  *proxy,
                        const char  *sender_name,
                        const char  *signal_name,
                        GVariant    *parameters,
                        gpointer     user_data);
static void on_proxy_properties_changed (GDBusProxy *proxy, GVariant *changed,
                                         GStrv invalidated, gpointer user_data);

static void
watch_interface (VoipClient *self, GDBusInterface *interface)
{
  if (VOIP_DBUS_IS_CONVERSATION (interface))
    g_signal_connect_object (interface, "g-signal",
                             G_CALLBACK (on_conversation_signal), self, 0);
  if (G_IS_DBUS_PROXY (interface))
    g_signal_connect_object (interface, "g-properties-changed",
                             G_CALLBACK (on_proxy_properties_changed), self, 0);
  if (VOIP_DBUS_IS_CALL (interface))
    g_signal_emit (self, signals[SIGNAL_CALL_ADDED], 0, interface);
}

/* ---- callbacks ---------------------------------------------------------- */

static void
on_conversation_signal (GDBusProxy  *proxy,
                        const char  *sender_name,
                        const char  *signal_name,
                        GVariant    *parameters,
                        gpointer     user_data)
{
  VoipClient *self = user_data;
  g_autoptr(GDBusObject) object = NULL;
  g_autoptr(GVariant) message = NULL;
  const char *kind;

  if (g_strcmp0 (signal_name, "MessageReceived") == 0)
    kind = "received";
  else if (g_strcmp0 (signal_name, "MessageEdited") == 0)
    kind = "edited";
  else if (g_strcmp0 (signal_name, "MessageDeleted") == 0)
    kind = "deleted";
  else
    return;
  if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("((txssssbbu))")))
    return;
  object = g_dbus_interface_dup_object (G_DBUS_INTERFACE (proxy));
  if (object == NULL)
    return;
  message = g_variant_get_child_value (parameters, 0);
  g_signal_emit (self, signals[SIGNAL_MESSAGE], 0, object, kind, message);
}

static void
on_proxy_properties_changed (GDBusProxy *proxy,
                             GVariant   *changed,
                             GStrv       invalidated,
                             gpointer    user_data)
{
  VoipClient *self = user_data;
  g_autoptr(GDBusObject) object = g_dbus_interface_dup_object (G_DBUS_INTERFACE (proxy));

  if (VOIP_DBUS_IS_CALL (proxy))
    g_signal_emit (self, signals[SIGNAL_CALL_CHANGED], 0, proxy);
  else if (object != NULL)
    g_signal_emit (self, signals[SIGNAL_OBJECT_CHANGED], 0, object);
}

static void
on_object_added (GDBusObjectManager *manager,
                 GDBusObject        *object,
                 gpointer            user_data)
{
  VoipClient *self = user_data;
  g_autolist(GDBusInterface) interfaces = g_dbus_object_get_interfaces (object);

  for (GList *l = interfaces; l != NULL; l = l->next)
    watch_interface (self, l->data);
  if (is_conversation (object))
    g_signal_emit (self, signals[SIGNAL_CONVERSATIONS_CHANGED], 0);
}

static void
on_object_removed (GDBusObjectManager *manager,
                   GDBusObject        *object,
                   gpointer            user_data)
{
  VoipClient *self = user_data;

  if (is_conversation (object))
    g_signal_emit (self, signals[SIGNAL_CONVERSATIONS_CHANGED], 0);
}

static void
on_interface_added (GDBusObjectManager *manager,
                    GDBusObject        *object,
                    GDBusInterface     *interface,
                    gpointer            user_data)
{
  VoipClient *self = user_data;

  watch_interface (self, interface);
  g_signal_emit (self, signals[SIGNAL_CONVERSATIONS_CHANGED], 0);
}

static void
on_name_owner_changed (GObject    *manager,
                       GParamSpec *pspec,
                       gpointer    user_data)
{
  VoipClient *self = user_data;

  g_signal_emit (self, signals[SIGNAL_DAEMON_CHANGED], 0);
  g_signal_emit (self, signals[SIGNAL_CONVERSATIONS_CHANGED], 0);
}

static void
on_manager_ready (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(VoipClient) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autolist(GDBusObject) objects = NULL;

  self->manager = voip_dbus_object_manager_client_new_for_bus_finish (result, &error);
  if (self->manager == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_warning ("Cannot follow voipd on the session bus: %s", error->message);
      return;
    }
  g_signal_connect_object (self->manager, "object-added", G_CALLBACK (on_object_added), self, 0);
  g_signal_connect_object (self->manager, "object-removed", G_CALLBACK (on_object_removed), self, 0);
  g_signal_connect_object (self->manager, "interface-added", G_CALLBACK (on_interface_added), self, 0);
  g_signal_connect_object (self->manager, "notify::name-owner",
                           G_CALLBACK (on_name_owner_changed), self, 0);
  objects = g_dbus_object_manager_get_objects (self->manager);
  for (GList *l = objects; l != NULL; l = l->next)
    {
      g_autolist(GDBusInterface) interfaces = g_dbus_object_get_interfaces (l->data);

      for (GList *i = interfaces; i != NULL; i = i->next)
        watch_interface (self, i->data);
    }
  g_signal_emit (self, signals[SIGNAL_DAEMON_CHANGED], 0);
  g_signal_emit (self, signals[SIGNAL_CONVERSATIONS_CHANGED], 0);
}

static void
on_account_owner_changed (GObject    *account,
                          GParamSpec *pspec,
                          gpointer    user_data)
{
  g_signal_emit (user_data, signals[SIGNAL_DAEMON_CHANGED], 0);
}

static void
on_account_ready (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(VoipClient) self = user_data;
  g_autoptr(GError) error = NULL;

  self->account = voip_dbus_account_proxy_new_for_bus_finish (result, &error);
  if (self->account == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_warning ("Cannot follow voipd's account: %s", error->message);
      return;
    }
  /* GDBusProxy reloads the properties when voipd comes back, then says
   * that the owner changed. */
  g_signal_connect_object (self->account, "notify::g-name-owner",
                           G_CALLBACK (on_account_owner_changed), self, 0);
  g_signal_emit (self, signals[SIGNAL_DAEMON_CHANGED], 0);
}

/* ---- GObject ------------------------------------------------------------ */

static void
voip_client_dispose (GObject *object)
{
  VoipClient *self = VOIP_CLIENT (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->manager);
  g_clear_object (&self->account);
  G_OBJECT_CLASS (voip_client_parent_class)->dispose (object);
}

static void
voip_client_class_init (VoipClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = voip_client_dispose;

  signals[SIGNAL_DAEMON_CHANGED] =
    g_signal_new ("daemon-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_CONVERSATIONS_CHANGED] =
    g_signal_new ("conversations-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_OBJECT_CHANGED] =
    g_signal_new ("object-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, VOIP_DBUS_TYPE_OBJECT);
  signals[SIGNAL_MESSAGE] =
    g_signal_new ("message", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 3,
                  VOIP_DBUS_TYPE_OBJECT, G_TYPE_STRING, G_TYPE_VARIANT);
  signals[SIGNAL_CALL_ADDED] =
    g_signal_new ("call-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, VOIP_DBUS_TYPE_CALL);
  signals[SIGNAL_CALL_CHANGED] =
    g_signal_new ("call-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, VOIP_DBUS_TYPE_CALL);
}

static void
voip_client_init (VoipClient *self)
{
  self->cancellable = g_cancellable_new ();
  /* Never auto-start voipd from here: its user unit or D-Bus activation
   * does that, and the offline page says when it is not running. */
  voip_dbus_object_manager_client_new_for_bus (G_BUS_TYPE_SESSION,
                                          G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_DO_NOT_AUTO_START,
                                          VOIP_BUS_NAME, VOIP_ROOT_PATH,
                                          self->cancellable, on_manager_ready,
                                          g_object_ref (self));
  voip_dbus_account_proxy_new_for_bus (G_BUS_TYPE_SESSION, G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START,
                                  VOIP_BUS_NAME, VOIP_ROOT_PATH, self->cancellable,
                                  on_account_ready, g_object_ref (self));
}

VoipClient *
voip_client_new (void)
{
  return g_object_new (VOIP_TYPE_CLIENT, NULL);
}

/* ---- public ------------------------------------------------------------- */

gboolean
voip_client_get_daemon_running (VoipClient *self)
{
  g_autofree char *owner = NULL;

  g_return_val_if_fail (VOIP_IS_CLIENT (self), FALSE);
  if (self->manager == NULL)
    return FALSE;
  owner = g_dbus_object_manager_client_get_name_owner (G_DBUS_OBJECT_MANAGER_CLIENT (self->manager));
  return owner != NULL;
}

VoipDBusAccount *
voip_client_get_account (VoipClient *self)
{
  g_autofree char *owner = NULL;

  g_return_val_if_fail (VOIP_IS_CLIENT (self), NULL);
  if (self->account == NULL || self->manager == NULL)
    return NULL;
  owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (self->account));
  return owner != NULL ? self->account : NULL;
}

GList *
voip_client_get_conversations (VoipClient *self)
{
  g_autolist(GDBusObject) objects = NULL;
  GList *conversations = NULL;

  g_return_val_if_fail (VOIP_IS_CLIENT (self), NULL);
  if (!voip_client_get_daemon_running (self))
    return NULL;
  objects = g_dbus_object_manager_get_objects (self->manager);
  for (GList *l = objects; l != NULL; l = l->next)
    if (is_conversation (l->data))
      conversations = g_list_prepend (conversations, g_object_ref (l->data));
  return conversations;
}

VoipDBusObject *
voip_client_lookup (VoipClient *self, const char *path)
{
  g_return_val_if_fail (VOIP_IS_CLIENT (self), NULL);
  if (self->manager == NULL || !g_variant_is_object_path (path))
    return NULL;
  return (VoipDBusObject *) g_dbus_object_manager_get_object (self->manager, path);
}

VoipDBusObject *
voip_client_find_contact (VoipClient *self, const char *username)
{
  g_autofree char *escaped = g_dbus_escape_object_path (username);
  g_autofree char *path = g_strconcat (VOIP_ROOT_PATH "/contact/", escaped, NULL);
  g_autoptr(VoipDBusObject) object = voip_client_lookup (self, path);

  if (object == NULL || voip_dbus_object_peek_contact (object) == NULL)
    return NULL;
  return g_steal_pointer (&object);
}

char *
voip_object_dup_title (VoipDBusObject *object)
{
  VoipDBusContact *contact = voip_dbus_object_peek_contact (object);
  VoipDBusGroup *group = voip_dbus_object_peek_group (object);

  if (contact != NULL)
    {
      const char *display = voip_dbus_contact_get_display_name (contact);

      if (display != NULL && *display != '\0')
        return g_strdup (display);
      return g_strdup (voip_dbus_contact_get_username (contact));
    }
  if (group != NULL)
    return g_strdup (voip_dbus_group_get_name (group));
  return g_strdup ("");
}
