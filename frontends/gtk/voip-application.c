/* voip-application.c — the GApplication: single instance on the session bus
 * (a second `voip` hands its request to the first and exits), D-Bus
 * activatable, and the home of the actions others may activate over
 * org.gtk.Actions (the .desktop file, notifications, the shell applet):
 *
 *   app.open-contact (s username)     show that contact's conversation
 *   app.open-conversation (s path)    the same by object path (contact or group)
 *   app.open-call (s path)            show a call
 *   app.answer-call (s path), app.decline-call (s path)
 *   app.about, app.quit
 *
 * It also tells of new messages and incoming calls with GNotification,
 * unless the GNOME Shell applet is enabled (it tells of them itself). */
#define G_LOG_DOMAIN "voip"

#include <glib/gi18n.h>
#include <glib-unix.h>

#include "voip-application.h"
#include "voip-client.h"
#include "voip-window.h"

struct _VoipApplication
{
  AdwApplication  parent_instance;
  VoipClient     *client;
  char           *pending_contact;   /* --contact before the objects are known */
  gboolean        applet_enabled;    /* the shell applet notifies; the app does not */
  guint           extension_signal;
  char           *pending_path;
};

G_DEFINE_FINAL_TYPE (VoipApplication, voip_application, ADW_TYPE_APPLICATION)

/* ---- helpers ------------------------------------------------------------ */

static VoipWindow *
get_window (VoipApplication *self, gboolean create)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (window == NULL)
    {
      GList *windows = gtk_application_get_windows (GTK_APPLICATION (self));

      for (GList *l = windows; l != NULL && window == NULL; l = l->next)
        if (VOIP_IS_WINDOW (l->data))
          window = l->data;
    }
  if (window == NULL && create)
    window = GTK_WINDOW (voip_window_new (ADW_APPLICATION (self), self->client));
  return window != NULL ? VOIP_WINDOW (window) : NULL;
}

/* Opens what was asked for, now or once voipd has told of it. */
static void
open_pending (VoipApplication *self)
{
  VoipWindow *window;

  if (self->pending_contact == NULL && self->pending_path == NULL)
    return;
  window = get_window (self, TRUE);
  if (self->pending_contact != NULL && voip_window_open_contact (window, self->pending_contact))
    g_clear_pointer (&self->pending_contact, g_free);
  if (self->pending_path != NULL && voip_window_open_conversation (window, self->pending_path))
    g_clear_pointer (&self->pending_path, g_free);
}

static VoipDBusCall *
lookup_call (VoipApplication *self, const char *path)
{
  g_autoptr(VoipDBusObject) object = voip_client_lookup (self->client, path);
  VoipDBusCall *call = object != NULL ? voip_dbus_object_peek_call (object) : NULL;

  return call != NULL ? g_object_ref (call) : NULL;
}

/* The GNOME Shell applet's state, from GetExtensionInfo or
 * ExtensionStateChanged: 1 is ENABLED (and 7, ACTIVE, on GNOME 45+). */
#define APPLET_UUID "voip@voipd.org"

static void
set_applet_state (VoipApplication *self, GVariant *info)
{
  double state = 0;

  g_variant_lookup (info, "state", "d", &state);
  self->applet_enabled = state == 1 || state == 7;
  g_debug ("The shell applet is %s", self->applet_enabled ? "enabled" : "not enabled");
}

/* ---- callbacks ---------------------------------------------------------- */

static void
on_extension_info (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(VoipApplication) self = user_data;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, NULL);
  g_autoptr(GVariant) info = NULL;

  /* No GNOME Shell, or an old one: the app notifies. */
  if (reply == NULL)
    return;
  info = g_variant_get_child_value (reply, 0);
  set_applet_state (self, info);
}

static void
on_extension_state_changed (GDBusConnection *connection, const char *sender, const char *path,
                            const char *interface, const char *signal, GVariant *parameters,
                            gpointer user_data)
{
  VoipApplication *self = user_data;
  const char *uuid;
  g_autoptr(GVariant) info = NULL;

  if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(sa{sv})")))
    return;
  g_variant_get (parameters, "(&s@a{sv})", &uuid, &info);
  if (g_strcmp0 (uuid, APPLET_UUID) == 0)
    set_applet_state (self, info);
}

static void
on_conversations_changed (VoipClient *client, gpointer user_data)
{
  open_pending (user_data);
}

static void
on_message (VoipClient *client, VoipDBusObject *object, const char *kind, GVariant *message,
            gpointer user_data)
{
  VoipApplication *self = user_data;
  VoipWindow *window = get_window (self, FALSE);
  const char *path = g_dbus_object_get_object_path (G_DBUS_OBJECT (object));
  const char *sender, *direction, *message_kind, *text;
  g_autofree char *title = NULL;
  g_autofree char *id = NULL;
  g_autoptr(GNotification) notification = NULL;
  VoipDBusContact *contact = voip_dbus_object_peek_contact (object);

  if (g_strcmp0 (kind, "received") != 0)
    return;
  g_variant_get (message, "(tx&s&s&s&sbbu)", NULL, NULL, &sender, &direction, &message_kind,
                 &text, NULL, NULL, NULL);
  if (g_strcmp0 (direction, "incoming") != 0 || (contact != NULL && voip_dbus_contact_get_muted (contact)))
    return;
  /* The applet tells of it already (its quick reply too). */
  if (self->applet_enabled)
    return;
  /* Nothing to tell of what is on screen in the window in front. */
  if (window != NULL && gtk_window_is_active (GTK_WINDOW (window)) &&
      voip_window_get_shown_conversation (window) == object)
    return;
  title = voip_object_dup_title (object);
  notification = g_notification_new (title);
  g_notification_set_body (notification, g_strcmp0 (message_kind, "voice") == 0
                                         ? _("Voice message") : text);
  g_notification_set_default_action_and_target (notification, "app.open-conversation", "s", path);
  id = g_strconcat ("message-", path, NULL);
  g_application_send_notification (G_APPLICATION (self), id, notification);
}

static void
on_call_added (VoipClient *client, VoipDBusCall *call, gpointer user_data)
{
  VoipApplication *self = user_data;
  const char *path = g_dbus_proxy_get_object_path (G_DBUS_PROXY (call));
  g_autoptr(GNotification) notification = NULL;
  g_autofree char *title = NULL;
  g_autofree char *id = NULL;

  if (g_strcmp0 (voip_dbus_call_get_direction (call), "incoming") != 0 ||
      g_strcmp0 (voip_dbus_call_get_state (call), "ringing") != 0 || self->applet_enabled)
    return;
  /* e.g. "bob is calling" */
  title = g_strdup_printf (_("%s is calling"), voip_dbus_call_get_initiator (call));
  notification = g_notification_new (title);
  g_notification_set_priority (notification, G_NOTIFICATION_PRIORITY_URGENT);
  g_notification_set_default_action_and_target (notification, "app.open-call", "s", path);
  g_notification_add_button_with_target (notification, _("Decline"), "app.decline-call", "s", path);
  g_notification_add_button_with_target (notification, _("Answer"), "app.answer-call", "s", path);
  id = g_strconcat ("call-", path, NULL);
  g_application_send_notification (G_APPLICATION (self), id, notification);
}

static void
on_call_changed (VoipClient *client, VoipDBusCall *call, gpointer user_data)
{
  VoipApplication *self = user_data;
  g_autofree char *id = NULL;

  if (g_strcmp0 (voip_dbus_call_get_state (call), "ringing") == 0)
    return;
  id = g_strconcat ("call-", g_dbus_proxy_get_object_path (G_DBUS_PROXY (call)), NULL);
  g_application_withdraw_notification (G_APPLICATION (self), id);
}

static void
open_contact_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  VoipApplication *self = user_data;

  g_free (self->pending_contact);
  self->pending_contact = g_variant_dup_string (parameter, NULL);
  open_pending (self);
  gtk_window_present (GTK_WINDOW (get_window (self, TRUE)));
}

static void
open_conversation_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  VoipApplication *self = user_data;

  g_free (self->pending_path);
  self->pending_path = g_variant_dup_string (parameter, NULL);
  open_pending (self);
  gtk_window_present (GTK_WINDOW (get_window (self, TRUE)));
}

static void
open_call_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  VoipApplication *self = user_data;
  g_autoptr(VoipDBusCall) call = lookup_call (self, g_variant_get_string (parameter, NULL));
  VoipWindow *window = get_window (self, TRUE);

  if (call != NULL)
    voip_window_show_call (window, call);
  gtk_window_present (GTK_WINDOW (window));
}

static void
answer_call_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  VoipApplication *self = user_data;
  g_autoptr(VoipDBusCall) call = lookup_call (self, g_variant_get_string (parameter, NULL));
  VoipWindow *window = get_window (self, TRUE);

  if (call == NULL)
    return;
  voip_dbus_call_call_answer (call, NULL, NULL, NULL);
  voip_window_show_call (window, call);
  gtk_window_present (GTK_WINDOW (window));
}

static void
decline_call_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  VoipApplication *self = user_data;
  g_autoptr(VoipDBusCall) call = lookup_call (self, g_variant_get_string (parameter, NULL));

  if (call != NULL)
    voip_dbus_call_call_reject (call, NULL, NULL, NULL);
}

static void
about_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  VoipApplication *self = user_data;
  GtkWidget *about = adw_about_window_new ();

  gtk_window_set_transient_for (GTK_WINDOW (about), GTK_WINDOW (get_window (self, TRUE)));
  adw_about_window_set_application_name (ADW_ABOUT_WINDOW (about), _("Voip"));
  adw_about_window_set_application_icon (ADW_ABOUT_WINDOW (about), VOIP_APPLICATION_ID);
  adw_about_window_set_version (ADW_ABOUT_WINDOW (about), VOIP_VERSION);
  adw_about_window_set_comments (ADW_ABOUT_WINDOW (about), _("Chat and call your contacts"));
  adw_about_window_set_license_type (ADW_ABOUT_WINDOW (about), GTK_LICENSE_GPL_3_0);
  adw_about_window_set_translator_credits (ADW_ABOUT_WINDOW (about), _("translator-credits"));
  gtk_window_present (GTK_WINDOW (about));
}

/* SIGTERM and SIGINT end the app as Quit does: windows closed, the bus
 * name released, exit status 0. */
static gboolean
on_quit_signal (gpointer user_data)
{
  g_application_quit (G_APPLICATION (user_data));
  return G_SOURCE_CONTINUE;
}

static void
quit_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  g_application_quit (G_APPLICATION (user_data));
}

/* ---- GApplication ------------------------------------------------------- */

static int
voip_application_handle_local_options (GApplication *application, GVariantDict *options)
{
  const char *contact = NULL;
  g_autoptr(GError) error = NULL;

  if (!g_variant_dict_lookup (options, "contact", "&s", &contact))
    return -1;
  if (!g_application_register (application, NULL, &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  /* Whichever instance is primary opens it: this one (then it runs on) or
   * the one already running (then this one is done). */
  g_action_group_activate_action (G_ACTION_GROUP (application), "open-contact",
                                  g_variant_new_string (contact));
  return g_application_get_is_remote (application) ? 0 : -1;
}

static void
voip_application_startup (GApplication *application)
{
  VoipApplication *self = VOIP_APPLICATION (application);
  static const GActionEntry actions[] = {
    { "open-contact", open_contact_activated, "s" },
    { "open-conversation", open_conversation_activated, "s" },
    { "open-call", open_call_activated, "s" },
    { "answer-call", answer_call_activated, "s" },
    { "decline-call", decline_call_activated, "s" },
    { "about", about_activated },
    { "quit", quit_activated },
  };
  static const char *const quit_accels[] = { "<Control>q", NULL };

  G_APPLICATION_CLASS (voip_application_parent_class)->startup (application);
  g_action_map_add_action_entries (G_ACTION_MAP (self), actions, G_N_ELEMENTS (actions), self);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.quit", quit_accels);

  g_unix_signal_add (SIGTERM, on_quit_signal, self);
  g_unix_signal_add (SIGINT, on_quit_signal, self);

  /* Notifications are the applet's when it runs (GNOME Shell's own
   * extension service says). */
  {
    GDBusConnection *bus = g_application_get_dbus_connection (application);

    if (bus != NULL)
      {
        self->extension_signal =
          g_dbus_connection_signal_subscribe (bus, "org.gnome.Shell.Extensions",
                                              "org.gnome.Shell.Extensions", "ExtensionStateChanged",
                                              "/org/gnome/Shell/Extensions", NULL,
                                              G_DBUS_SIGNAL_FLAGS_NONE, on_extension_state_changed,
                                              self, NULL);
        g_dbus_connection_call (bus, "org.gnome.Shell.Extensions", "/org/gnome/Shell/Extensions",
                                "org.gnome.Shell.Extensions", "GetExtensionInfo",
                                g_variant_new ("(s)", APPLET_UUID), G_VARIANT_TYPE ("(a{sv})"),
                                G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL, on_extension_info,
                                g_object_ref (self));
      }
  }

  self->client = voip_client_new ();
  g_signal_connect (self->client, "conversations-changed", G_CALLBACK (on_conversations_changed), self);
  g_signal_connect (self->client, "message", G_CALLBACK (on_message), self);
  g_signal_connect (self->client, "call-added", G_CALLBACK (on_call_added), self);
  g_signal_connect (self->client, "call-changed", G_CALLBACK (on_call_changed), self);
}

static void
voip_application_activate (GApplication *application)
{
  VoipApplication *self = VOIP_APPLICATION (application);

  gtk_window_present (GTK_WINDOW (get_window (self, TRUE)));
}

static void
voip_application_shutdown (GApplication *application)
{
  VoipApplication *self = VOIP_APPLICATION (application);

  if (self->client != NULL)
    g_signal_handlers_disconnect_by_data (self->client, self);
  if (self->extension_signal != 0 && g_application_get_dbus_connection (application) != NULL)
    g_dbus_connection_signal_unsubscribe (g_application_get_dbus_connection (application),
                                          self->extension_signal);
  self->extension_signal = 0;
  G_APPLICATION_CLASS (voip_application_parent_class)->shutdown (application);
  g_clear_object (&self->client);
}

static void
voip_application_finalize (GObject *object)
{
  VoipApplication *self = VOIP_APPLICATION (object);

  g_free (self->pending_contact);
  g_free (self->pending_path);
  G_OBJECT_CLASS (voip_application_parent_class)->finalize (object);
}

static void
voip_application_class_init (VoipApplicationClass *klass)
{
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = voip_application_finalize;
  app_class->handle_local_options = voip_application_handle_local_options;
  app_class->startup = voip_application_startup;
  app_class->activate = voip_application_activate;
  app_class->shutdown = voip_application_shutdown;
}

static void
voip_application_init (VoipApplication *self)
{
  static const GOptionEntry options[] = {
    { "contact", 'c', 0, G_OPTION_ARG_STRING, NULL,
      N_("Open the conversation with this contact"), N_("USERNAME") },
    { NULL }
  };

  g_application_add_main_option_entries (G_APPLICATION (self), options);
}

VoipApplication *
voip_application_new (void)
{
  return g_object_new (VOIP_TYPE_APPLICATION,
                       "application-id", VOIP_APPLICATION_ID,
                       "flags", G_APPLICATION_DEFAULT_FLAGS,
                       "resource-base-path", "/org/voipd/Voip",
                       NULL);
}
