/* voip-account-dialogs.c — the account's two grave actions, each in a
 * dialog that asks for the password: the daemon checks it with the server,
 * and its refusal is shown as it says it. Deleting is a destructive
 * response, never the default one. */
#define G_LOG_DOMAIN "voip"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "voip-account-dialogs.h"

static GtkWidget *
password_entry (const char *label)
{
  GtkWidget *entry = gtk_password_entry_new ();

  gtk_password_entry_set_show_peek_icon (GTK_PASSWORD_ENTRY (entry), TRUE);
  g_object_set (entry, "placeholder-text", label, NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (entry), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
  return entry;
}

static void
on_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GtkWindow) parent = user_data;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  GtkWidget *dialog;

  reply = g_dbus_proxy_call_finish (G_DBUS_PROXY (source), result, &error);
  if (reply != NULL)
    return;
  g_dbus_error_strip_remote_error (error);
  dialog = adw_message_dialog_new (parent, _("The change was refused"), error->message);
  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("Close"));
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
on_change_response (AdwMessageDialog *dialog, const char *response, gpointer user_data)
{
  VoipClient *client = user_data;
  VoipDBusAccount *account = voip_client_get_account (client);
  GtkWidget *box = adw_message_dialog_get_extra_child (dialog);
  GtkWidget *old_entry = gtk_widget_get_first_child (box);
  GtkWidget *new_entry = gtk_widget_get_next_sibling (old_entry);
  GtkWindow *parent = gtk_window_get_transient_for (GTK_WINDOW (dialog));

  if (g_strcmp0 (response, "change") != 0 || account == NULL)
    return;
  voip_dbus_account_call_change_password (account, gtk_editable_get_text (GTK_EDITABLE (old_entry)),
                                          gtk_editable_get_text (GTK_EDITABLE (new_entry)), NULL,
                                          on_done, g_object_ref (parent));
}

void
voip_account_change_password (GtkWindow *parent, VoipClient *client)
{
  GtkWidget *dialog = adw_message_dialog_new (parent, _("Change the password"), NULL);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);

  gtk_box_append (GTK_BOX (box), password_entry (_("Current password")));
  gtk_box_append (GTK_BOX (box), password_entry (_("New password")));
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), box);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _("Cancel"),
                                    "change", _("Change"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "change",
                                              ADW_RESPONSE_SUGGESTED);
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_change_response), client, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
on_delete_response (AdwMessageDialog *dialog, const char *response, gpointer user_data)
{
  VoipClient *client = user_data;
  VoipDBusAccount *account = voip_client_get_account (client);
  GtkWidget *entry = adw_message_dialog_get_extra_child (dialog);
  GtkWindow *parent = gtk_window_get_transient_for (GTK_WINDOW (dialog));

  if (g_strcmp0 (response, "delete") != 0 || account == NULL)
    return;
  voip_dbus_account_call_delete_account (account, gtk_editable_get_text (GTK_EDITABLE (entry)),
                                         NULL, on_done, g_object_ref (parent));
}

void
voip_account_delete (GtkWindow *parent, VoipClient *client)
{
  GtkWidget *dialog = adw_message_dialog_new (parent, _("Delete your account?"),
                                              _("Your contacts, groups and messages on the server "
                                                "are deleted with it. This cannot be undone."));

  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), password_entry (_("Password")));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _("Cancel"),
                                    "delete", _("Delete the account"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "delete",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_delete_response), client, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}
