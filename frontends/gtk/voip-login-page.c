/* voip-login-page.c — the page shown while no account is logged in: server
 * (what voipctl accepts: HOST[:PORT], a comma-separated list of nodes or an
 * SRV domain; empty for the default), username, password, and Log in or
 * Register. The daemon checks everything; its error is shown as it says it. */
#define G_LOG_DOMAIN "voip"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "voip-login-page.h"

struct _VoipLoginPage
{
  GtkBox         parent_instance;
  VoipClient    *client;
  GCancellable  *cancellable;
  GtkWidget     *status;
  GtkWidget     *server;
  GtkWidget     *username;
  GtkWidget     *password;
  GtkWidget     *email;
  GtkWidget     *login;
  GtkWidget     *register_button;
  GtkWidget     *error;
};

G_DEFINE_FINAL_TYPE (VoipLoginPage, voip_login_page, GTK_TYPE_BOX)

/* ---- helpers ------------------------------------------------------------ */

static void
set_busy (VoipLoginPage *self, gboolean busy)
{
  gtk_widget_set_sensitive (self->login, !busy);
  gtk_widget_set_sensitive (self->register_button, !busy);
}

static void
show_error (VoipLoginPage *self, GError *error)
{
  g_dbus_error_strip_remote_error (error);
  gtk_label_set_text (GTK_LABEL (self->error), error->message);
  gtk_widget_set_visible (self->error, TRUE);
}

/* ---- callbacks ---------------------------------------------------------- */

static void
on_login_ready (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(VoipLoginPage) self = user_data;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  if (g_object_get_data (G_OBJECT (self), "registering") != NULL)
    ok = voip_dbus_account_call_register_finish (VOIP_DBUS_ACCOUNT (source), result, &error);
  else
    ok = voip_dbus_account_call_login_finish (VOIP_DBUS_ACCOUNT (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  set_busy (self, FALSE);
  if (!ok)
    show_error (self, error);
  else
    gtk_editable_set_text (GTK_EDITABLE (self->password), "");
}

static void
submit (VoipLoginPage *self, gboolean registering)
{
  VoipDBusAccount *account = voip_client_get_account (self->client);
  const char *server = gtk_editable_get_text (GTK_EDITABLE (self->server));
  const char *username = gtk_editable_get_text (GTK_EDITABLE (self->username));
  const char *password = gtk_editable_get_text (GTK_EDITABLE (self->password));
  const char *email = gtk_editable_get_text (GTK_EDITABLE (self->email));

  if (account == NULL)
    return;
  gtk_widget_set_visible (self->error, FALSE);
  set_busy (self, TRUE);
  g_object_set_data (G_OBJECT (self), "registering", registering ? self : NULL);
  if (registering)
    voip_dbus_account_call_register (account, server, username, password, email, self->cancellable,
                                on_login_ready, g_object_ref (self));
  else
    voip_dbus_account_call_login (account, server, username, password, self->cancellable,
                             on_login_ready, g_object_ref (self));
}

static void
on_login_clicked (GtkWidget *widget, gpointer user_data)
{
  submit (user_data, FALSE);
}

static void
on_register_clicked (GtkWidget *widget, gpointer user_data)
{
  submit (user_data, TRUE);
}

/* ---- GObject ------------------------------------------------------------ */

static void
voip_login_page_dispose (GObject *object)
{
  VoipLoginPage *self = VOIP_LOGIN_PAGE (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->client);
  G_OBJECT_CLASS (voip_login_page_parent_class)->dispose (object);
}

static void
voip_login_page_class_init (VoipLoginPageClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = voip_login_page_dispose;
}

static GtkWidget *
entry_row (const char *title, GType type)
{
  GtkWidget *row = g_object_new (type, "title", title, NULL);

  gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_LABEL, title, -1);
  return row;
}

static void
voip_login_page_init (VoipLoginPage *self)
{
  GtkWidget *header = adw_header_bar_new ();
  GtkWidget *scrolled = gtk_scrolled_window_new ();
  GtkWidget *clamp = adw_clamp_new ();
  GtkWidget *content = gtk_box_new (GTK_ORIENTATION_VERTICAL, 18);
  GtkWidget *fields = gtk_list_box_new ();
  GtkWidget *buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);

  gtk_orientable_set_orientation (GTK_ORIENTABLE (self), GTK_ORIENTATION_VERTICAL);
  self->cancellable = g_cancellable_new ();
  adw_header_bar_set_title_widget (ADW_HEADER_BAR (header), adw_window_title_new (_("Voip"), NULL));
  gtk_box_append (GTK_BOX (self), header);

  self->status = adw_status_page_new ();
  adw_status_page_set_icon_name (ADW_STATUS_PAGE (self->status), "org.voipd.Voip");
  adw_status_page_set_title (ADW_STATUS_PAGE (self->status), _("Welcome to Voip"));
  adw_status_page_set_description (ADW_STATUS_PAGE (self->status),
                                   _("Log in to your account, or create one."));
  gtk_box_append (GTK_BOX (content), self->status);

  gtk_widget_add_css_class (fields, "boxed-list");
  gtk_list_box_set_selection_mode (GTK_LIST_BOX (fields), GTK_SELECTION_NONE);
  self->server = entry_row (_("Server"), ADW_TYPE_ENTRY_ROW);
  self->username = entry_row (_("Username"), ADW_TYPE_ENTRY_ROW);
  self->password = entry_row (_("Password"), ADW_TYPE_PASSWORD_ENTRY_ROW);
  self->email = entry_row (_("E-mail (to register, optional)"), ADW_TYPE_ENTRY_ROW);
  g_signal_connect (self->password, "entry-activated", G_CALLBACK (on_login_clicked), self);
  adw_entry_row_set_show_apply_button (ADW_ENTRY_ROW (self->password), FALSE);
  gtk_list_box_append (GTK_LIST_BOX (fields), self->server);
  gtk_list_box_append (GTK_LIST_BOX (fields), self->username);
  gtk_list_box_append (GTK_LIST_BOX (fields), self->password);
  gtk_list_box_append (GTK_LIST_BOX (fields), self->email);
  gtk_box_append (GTK_BOX (content), fields);

  self->error = gtk_label_new (NULL);
  gtk_label_set_wrap (GTK_LABEL (self->error), TRUE);
  gtk_widget_add_css_class (self->error, "error");
  gtk_widget_set_visible (self->error, FALSE);
  gtk_box_append (GTK_BOX (content), self->error);

  self->login = gtk_button_new_with_mnemonic (_("_Log in"));
  gtk_widget_add_css_class (self->login, "suggested-action");
  gtk_widget_add_css_class (self->login, "pill");
  self->register_button = gtk_button_new_with_mnemonic (_("_Register"));
  gtk_widget_add_css_class (self->register_button, "pill");
  g_signal_connect (self->login, "clicked", G_CALLBACK (on_login_clicked), self);
  g_signal_connect (self->register_button, "clicked", G_CALLBACK (on_register_clicked), self);
  gtk_widget_set_halign (buttons, GTK_ALIGN_CENTER);
  gtk_box_append (GTK_BOX (buttons), self->register_button);
  gtk_box_append (GTK_BOX (buttons), self->login);
  gtk_box_append (GTK_BOX (content), buttons);

  gtk_widget_set_margin_start (content, 12);
  gtk_widget_set_margin_end (content, 12);
  gtk_widget_set_margin_bottom (content, 24);
  adw_clamp_set_child (ADW_CLAMP (clamp), content);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), clamp);
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_widget_set_vexpand (scrolled, TRUE);
  gtk_box_append (GTK_BOX (self), scrolled);
}

GtkWidget *
voip_login_page_new (VoipClient *client)
{
  VoipLoginPage *self = g_object_new (VOIP_TYPE_LOGIN_PAGE, NULL);

  self->client = g_object_ref (client);
  return GTK_WIDGET (self);
}

/* ---- public ------------------------------------------------------------- */

void
voip_login_page_update (VoipLoginPage *self)
{
  VoipDBusAccount *account = voip_client_get_account (self->client);
  const char *reason;

  if (account == NULL)
    return;
  if (*gtk_editable_get_text (GTK_EDITABLE (self->server)) == '\0' &&
      voip_dbus_account_get_server (account) != NULL)
    gtk_editable_set_text (GTK_EDITABLE (self->server), voip_dbus_account_get_server (account));
  if (*gtk_editable_get_text (GTK_EDITABLE (self->username)) == '\0' &&
      voip_dbus_account_get_username (account) != NULL)
    gtk_editable_set_text (GTK_EDITABLE (self->username), voip_dbus_account_get_username (account));
  reason = voip_dbus_account_get_state_reason (account);
  adw_status_page_set_description (ADW_STATUS_PAGE (self->status),
                                   reason != NULL && *reason != '\0'
                                   ? reason : _("Log in to your account, or create one."));
}
