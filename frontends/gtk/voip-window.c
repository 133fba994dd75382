/* voip-window.c — the main window: which page the state of voipd calls for
 * (not running; logged out; the conversations), and, for the conversations,
 * an AdwLeaflet of the sidebar and the content (nothing selected, a
 * conversation, or a call). The window's actions (add contact, new group,
 * presence, log out, profiles) live here. */
#define G_LOG_DOMAIN "voip"

#include <glib/gi18n.h>

#include "voip-window.h"
#include "voip-account-dialogs.h"
#include "voip-call-view.h"
#include "voip-conversation-list.h"
#include "voip-conversation-view.h"
#include "voip-login-page.h"
#include "voip-people-dialogs.h"
#include "voip-profile-window.h"

struct _VoipWindow
{
  AdwApplicationWindow  parent_instance;
  VoipClient           *client;
  GtkWidget            *toasts;
  GtkWidget            *pages;          /* offline, login, main */
  GtkWidget            *offline;
  GtkWidget            *login;
  GtkWidget            *leaflet;
  GtkWidget            *sidebar;
  GtkWidget            *content;        /* empty, conversation, call */
  GtkWidget            *banner;         /* GtkRevealer: reconnecting */
  GtkWidget            *banner_label;
  GtkWidget            *conversation;
  GtkWidget            *call;
};

G_DEFINE_FINAL_TYPE (VoipWindow, voip_window, ADW_TYPE_APPLICATION_WINDOW)

/* Reasons for which the daemon waits for someone to log in, rather than
 * trying to reconnect by itself. */
static const char *const logged_out_reasons[] = {
  "not-logged-in", "logged-out", "account-deleted", "token-revoked", "token-refused",
  "login-failed", "no-keyring", NULL
};

/* ---- helpers ------------------------------------------------------------ */

/* Shows one page and hides the others, so that screen readers (AT-SPI
 * lists every visible widget, on screen or not) see only what is shown. */
static void
show_page (VoipWindow *self, const char *name)
{
  GtkWidget *page = gtk_stack_get_child_by_name (GTK_STACK (self->pages), name);

  gtk_widget_set_visible (page, TRUE);
  gtk_stack_set_visible_child (GTK_STACK (self->pages), page);
  for (GtkWidget *child = gtk_widget_get_first_child (self->pages); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (child != page)
      gtk_widget_set_visible (child, FALSE);
}

static void
update_page (VoipWindow *self)
{
  VoipDBusAccount *account = voip_client_get_account (self->client);
  const char *state, *reason_code;
  GAction *presence;

  if (account == NULL)
    {
      show_page (self, "offline");
      return;
    }
  state = voip_dbus_account_get_state (account);
  reason_code = voip_dbus_account_get_state_reason_code (account);
  if (g_strcmp0 (state, "offline") == 0 && reason_code != NULL &&
      g_strv_contains (logged_out_reasons, reason_code))
    {
      voip_login_page_update (VOIP_LOGIN_PAGE (self->login));
      show_page (self, "login");
      return;
    }
  show_page (self, "main");
  if (g_strcmp0 (state, "online") == 0)
    gtk_revealer_set_reveal_child (GTK_REVEALER (self->banner), FALSE);
  else
    {
      const char *reason = voip_dbus_account_get_state_reason (account);

      gtk_label_set_text (GTK_LABEL (self->banner_label),
                          reason != NULL && *reason != '\0' ? reason : _("Connecting…"));
      gtk_revealer_set_reveal_child (GTK_REVEALER (self->banner), TRUE);
    }
  presence = g_action_map_lookup_action (G_ACTION_MAP (self), "presence");
  if (voip_dbus_account_get_presence (account) != NULL)
    g_simple_action_set_state (G_SIMPLE_ACTION (presence),
                               g_variant_new_string (voip_dbus_account_get_presence (account)));
}

static void
show_conversation (VoipWindow *self, VoipDBusObject *object)
{
  /* On screen first, so that the view marks it read as it loads. */
  gtk_stack_set_visible_child_name (GTK_STACK (self->content), "conversation");
  adw_leaflet_navigate (ADW_LEAFLET (self->leaflet), ADW_NAVIGATION_DIRECTION_FORWARD);
  voip_conversation_view_set_object (VOIP_CONVERSATION_VIEW (self->conversation), object);
  voip_conversation_list_select (VOIP_CONVERSATION_LIST (self->sidebar), object);
}

/* ---- callbacks ---------------------------------------------------------- */

static void
on_daemon_changed (VoipClient *client, gpointer user_data)
{
  VoipWindow *self = user_data;
  VoipDBusAccount *account = voip_client_get_account (client);

  if (account != NULL)
    g_signal_handlers_disconnect_by_func (account, update_page, self);
  if (account != NULL)
    g_signal_connect_object (account, "g-properties-changed", G_CALLBACK (update_page), self,
                             G_CONNECT_SWAPPED);
  update_page (self);
}

static void
on_conversations_changed (VoipClient *client, gpointer user_data)
{
  VoipWindow *self = user_data;
  VoipDBusObject *shown = voip_conversation_view_get_object (VOIP_CONVERSATION_VIEW (self->conversation));
  g_autoptr(VoipDBusObject) still = NULL;

  if (shown == NULL)
    return;
  still = voip_client_lookup (client, g_dbus_object_get_object_path (G_DBUS_OBJECT (shown)));
  if (still == NULL || voip_dbus_object_peek_conversation (still) == NULL)
    {
      voip_conversation_view_set_object (VOIP_CONVERSATION_VIEW (self->conversation), NULL);
      gtk_stack_set_visible_child_name (GTK_STACK (self->content), "empty");
    }
}

static void
on_call_changed (VoipClient *client, VoipDBusCall *call, gpointer user_data)
{
  VoipWindow *self = user_data;

  /* Back to the conversation once the call on screen has ended. */
  if (call == voip_call_view_get_call (VOIP_CALL_VIEW (self->call)) &&
      g_strcmp0 (voip_dbus_call_get_state (call), "ended") == 0 &&
      g_strcmp0 (gtk_stack_get_visible_child_name (GTK_STACK (self->content)), "call") == 0)
    gtk_stack_set_visible_child_name (GTK_STACK (self->content),
                                      voip_conversation_view_get_object (VOIP_CONVERSATION_VIEW (self->conversation)) != NULL
                                      ? "conversation" : "empty");
}

static void
on_call_added (VoipClient *client, VoipDBusCall *call, gpointer user_data)
{
  voip_window_show_call (user_data, call);
}

static void
on_sidebar_selected (VoipConversationList *list, VoipDBusObject *object, gpointer user_data)
{
  show_conversation (user_data, object);
}

static void
on_back (VoipConversationView *view, gpointer user_data)
{
  VoipWindow *self = user_data;

  adw_leaflet_navigate (ADW_LEAFLET (self->leaflet), ADW_NAVIGATION_DIRECTION_BACK);
}

static void
on_presence_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(VoipWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!voip_dbus_account_call_set_presence_finish (VOIP_DBUS_ACCOUNT (source), result, &error))
    {
      g_dbus_error_strip_remote_error (error);
      adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (self->toasts), adw_toast_new (error->message));
    }
}

static void
presence_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  VoipWindow *self = user_data;
  VoipDBusAccount *account = voip_client_get_account (self->client);

  if (account == NULL)
    return;
  voip_dbus_account_call_set_presence (account, g_variant_get_string (parameter, NULL), NULL,
                                  on_presence_done, g_object_ref (self));
}

static void
logout_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  VoipWindow *self = user_data;
  VoipDBusAccount *account = voip_client_get_account (self->client);

  if (account != NULL)
    voip_dbus_account_call_logout (account, NULL, NULL, NULL);
  voip_conversation_view_set_object (VOIP_CONVERSATION_VIEW (self->conversation), NULL);
  gtk_stack_set_visible_child_name (GTK_STACK (self->content), "empty");
}

static void
add_contact_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  VoipWindow *self = user_data;

  voip_people_add_contact (GTK_WINDOW (self), self->client);
}

static void
new_group_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  VoipWindow *self = user_data;

  voip_people_new_group (GTK_WINDOW (self), self->client);
}

static void
show_profile_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  VoipWindow *self = user_data;
  VoipDBusObject *shown = voip_conversation_view_get_object (VOIP_CONVERSATION_VIEW (self->conversation));

  if (shown != NULL)
    voip_profile_window_present (GTK_WINDOW (self), self->client, shown);
}

static void
change_password_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  VoipWindow *self = user_data;

  voip_account_change_password (GTK_WINDOW (self), self->client);
}

static void
delete_account_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  VoipWindow *self = user_data;

  voip_account_delete (GTK_WINDOW (self), self->client);
}

static void
my_profile_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  VoipWindow *self = user_data;

  voip_profile_window_present (GTK_WINDOW (self), self->client, NULL);
}

/* ---- GObject ------------------------------------------------------------ */

static void
voip_window_dispose (GObject *object)
{
  VoipWindow *self = VOIP_WINDOW (object);

  if (self->client != NULL)
    g_signal_handlers_disconnect_by_data (self->client, self);
  g_clear_object (&self->client);
  G_OBJECT_CLASS (voip_window_parent_class)->dispose (object);
}

static void
voip_window_class_init (VoipWindowClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = voip_window_dispose;
}

static void
voip_window_init (VoipWindow *self)
{
  static const GActionEntry actions[] = {
    { "presence", presence_activated, "s", "'offline'", NULL },
    { "logout", logout_activated },
    { "add-contact", add_contact_activated },
    { "new-group", new_group_activated },
    { "show-profile", show_profile_activated },
    { "my-profile", my_profile_activated },
    { "change-password", change_password_activated },
    { "delete-account", delete_account_activated },
  };

  g_action_map_add_action_entries (G_ACTION_MAP (self), actions, G_N_ELEMENTS (actions), self);
  gtk_window_set_title (GTK_WINDOW (self), _("Voip"));
  gtk_window_set_default_size (GTK_WINDOW (self), 900, 640);
}

static GtkWidget *
build_offline_page (void)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *status = adw_status_page_new ();

  gtk_box_append (GTK_BOX (box), adw_header_bar_new ());
  adw_status_page_set_icon_name (ADW_STATUS_PAGE (status), "network-offline-symbolic");
  adw_status_page_set_title (ADW_STATUS_PAGE (status), _("The voip service is not running"));
  adw_status_page_set_description (ADW_STATUS_PAGE (status),
                                   _("Voip waits for voipd, the service that keeps your account "
                                     "connected. It starts with your session; this page goes "
                                     "away as soon as it runs."));
  gtk_widget_set_vexpand (status, TRUE);
  gtk_box_append (GTK_BOX (box), status);
  return box;
}

VoipWindow *
voip_window_new (AdwApplication *application, VoipClient *client)
{
  VoipWindow *self = g_object_new (VOIP_TYPE_WINDOW, "application", application, NULL);
  GtkWidget *main_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *empty = adw_status_page_new ();
  GtkWidget *content_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  AdwLeafletPage *page;

  self->client = g_object_ref (client);

  self->offline = build_offline_page ();
  self->login = voip_login_page_new (client);

  self->sidebar = voip_conversation_list_new (client);
  gtk_widget_set_size_request (self->sidebar, 280, -1);
  g_signal_connect (self->sidebar, "selected", G_CALLBACK (on_sidebar_selected), self);

  adw_status_page_set_icon_name (ADW_STATUS_PAGE (empty), "org.voipd.Voip");
  adw_status_page_set_title (ADW_STATUS_PAGE (empty), _("No conversation selected"));
  adw_status_page_set_description (ADW_STATUS_PAGE (empty), _("Pick a contact or a group."));
  gtk_widget_set_vexpand (empty, TRUE);
  gtk_box_append (GTK_BOX (content_box), adw_header_bar_new ());
  gtk_box_append (GTK_BOX (content_box), empty);
  self->conversation = voip_conversation_view_new (client);
  g_signal_connect (self->conversation, "back", G_CALLBACK (on_back), self);
  self->call = voip_call_view_new ();
  self->content = gtk_stack_new ();
  gtk_widget_set_hexpand (self->content, TRUE);
  gtk_stack_add_named (GTK_STACK (self->content), content_box, "empty");
  gtk_stack_add_named (GTK_STACK (self->content), self->conversation, "conversation");
  gtk_stack_add_named (GTK_STACK (self->content), self->call, "call");

  self->leaflet = adw_leaflet_new ();
  adw_leaflet_set_can_navigate_back (ADW_LEAFLET (self->leaflet), TRUE);
  adw_leaflet_append (ADW_LEAFLET (self->leaflet), self->sidebar);
  page = adw_leaflet_append (ADW_LEAFLET (self->leaflet), gtk_separator_new (GTK_ORIENTATION_VERTICAL));
  adw_leaflet_page_set_navigatable (page, FALSE);
  adw_leaflet_append (ADW_LEAFLET (self->leaflet), self->content);
  g_object_bind_property (self->leaflet, "folded", self->conversation, "show-back",
                          G_BINDING_SYNC_CREATE);
  gtk_widget_set_vexpand (self->leaflet, TRUE);

  self->banner_label = gtk_label_new (NULL);
  gtk_widget_set_margin_top (self->banner_label, 6);
  gtk_widget_set_margin_bottom (self->banner_label, 6);
  gtk_widget_add_css_class (self->banner_label, "heading");
  self->banner = gtk_revealer_new ();
  gtk_revealer_set_child (GTK_REVEALER (self->banner), self->banner_label);
  gtk_box_append (GTK_BOX (main_box), self->banner);
  gtk_box_append (GTK_BOX (main_box), self->leaflet);

  self->pages = gtk_stack_new ();
  gtk_stack_add_named (GTK_STACK (self->pages), self->offline, "offline");
  gtk_stack_add_named (GTK_STACK (self->pages), self->login, "login");
  gtk_stack_add_named (GTK_STACK (self->pages), main_box, "main");
  self->toasts = adw_toast_overlay_new ();
  adw_toast_overlay_set_child (ADW_TOAST_OVERLAY (self->toasts), self->pages);
  adw_application_window_set_content (ADW_APPLICATION_WINDOW (self), self->toasts);

  g_signal_connect (client, "daemon-changed", G_CALLBACK (on_daemon_changed), self);
  g_signal_connect (client, "conversations-changed", G_CALLBACK (on_conversations_changed), self);
  g_signal_connect (client, "call-added", G_CALLBACK (on_call_added), self);
  g_signal_connect (client, "call-changed", G_CALLBACK (on_call_changed), self);
  on_daemon_changed (client, self);
  return self;
}

/* ---- public ------------------------------------------------------------- */

gboolean
voip_window_open_conversation (VoipWindow *self, const char *path)
{
  g_autoptr(VoipDBusObject) object = voip_client_lookup (self->client, path);

  if (object == NULL || voip_dbus_object_peek_conversation (object) == NULL)
    return FALSE;
  show_conversation (self, object);
  return TRUE;
}

gboolean
voip_window_open_contact (VoipWindow *self, const char *username)
{
  g_autoptr(VoipDBusObject) object = voip_client_find_contact (self->client, username);

  if (object == NULL)
    return FALSE;
  show_conversation (self, object);
  return TRUE;
}

void
voip_window_show_call (VoipWindow *self, VoipDBusCall *call)
{
  if (g_strcmp0 (voip_dbus_call_get_state (call), "ended") == 0)
    return;
  voip_call_view_set_call (VOIP_CALL_VIEW (self->call), call);
  gtk_stack_set_visible_child_name (GTK_STACK (self->content), "call");
  adw_leaflet_navigate (ADW_LEAFLET (self->leaflet), ADW_NAVIGATION_DIRECTION_FORWARD);
}

VoipDBusObject *
voip_window_get_shown_conversation (VoipWindow *self)
{
  if (g_strcmp0 (gtk_stack_get_visible_child_name (GTK_STACK (self->content)), "conversation") != 0)
    return NULL;
  return voip_conversation_view_get_object (VOIP_CONVERSATION_VIEW (self->conversation));
}
