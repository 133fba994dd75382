/* voip-people-dialogs.c — the small dialogs of the sidebar's buttons: add a
 * contact (Account.AddContact) and create a group (Account.CreateGroup).
 * The daemon checks the names; its error is shown in a second dialog. */
#define G_LOG_DOMAIN "voip"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "voip-people-dialogs.h"

static void
show_error (GtkWindow *parent, const char *heading, GError *error)
{
  GtkWidget *dialog;

  g_dbus_error_strip_remote_error (error);
  dialog = adw_message_dialog_new (parent, heading, error->message);
  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("Close"));
  gtk_window_present (GTK_WINDOW (dialog));
}

static GtkWidget *
labelled_entry (const char *label)
{
  GtkWidget *entry = gtk_entry_new ();

  gtk_entry_set_placeholder_text (GTK_ENTRY (entry), label);
  gtk_accessible_update_property (GTK_ACCESSIBLE (entry), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
  gtk_entry_set_activates_default (GTK_ENTRY (entry), TRUE);
  return entry;
}

static void
on_add_contact_ready (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GtkWindow) parent = user_data;
  g_autoptr(GError) error = NULL;

  if (!voip_dbus_account_call_add_contact_finish (VOIP_DBUS_ACCOUNT (source), NULL, result, &error))
    show_error (parent, _("Cannot add the contact"), error);
}

static void
on_add_contact_response (AdwMessageDialog *dialog, const char *response, gpointer user_data)
{
  VoipClient *client = user_data;
  VoipDBusAccount *account = voip_client_get_account (client);
  GtkWidget *entry = adw_message_dialog_get_extra_child (dialog);
  g_autofree char *name = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (entry))));
  GtkWindow *parent = gtk_window_get_transient_for (GTK_WINDOW (dialog));

  if (g_strcmp0 (response, "add") != 0 || account == NULL || *name == '\0')
    return;
  voip_dbus_account_call_add_contact (account, name, NULL, on_add_contact_ready, g_object_ref (parent));
}

void
voip_people_add_contact (GtkWindow *parent, VoipClient *client)
{
  GtkWidget *dialog = adw_message_dialog_new (parent, _("Add a contact"),
                                              _("They will see your request and can accept it."));

  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), labelled_entry (_("Username")));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _("Cancel"),
                                    "add", _("Add"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "add",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "add");
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_add_contact_response), client, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
on_create_group_ready (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GtkWindow) parent = user_data;
  g_autoptr(GError) error = NULL;

  if (!voip_dbus_account_call_create_group_finish (VOIP_DBUS_ACCOUNT (source), NULL, result, &error))
    show_error (parent, _("Cannot create the group"), error);
}

static void
on_new_group_response (AdwMessageDialog *dialog, const char *response, gpointer user_data)
{
  VoipClient *client = user_data;
  VoipDBusAccount *account = voip_client_get_account (client);
  GtkWidget *box = adw_message_dialog_get_extra_child (dialog);
  GtkWidget *name_entry = gtk_widget_get_first_child (box);
  GtkWidget *members_entry = gtk_widget_get_next_sibling (name_entry);
  g_autofree char *name = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (name_entry))));
  g_auto(GStrv) split = g_strsplit (gtk_editable_get_text (GTK_EDITABLE (members_entry)), ",", -1);
  g_autoptr(GPtrArray) members = g_ptr_array_new ();
  GtkWindow *parent = gtk_window_get_transient_for (GTK_WINDOW (dialog));

  if (g_strcmp0 (response, "create") != 0 || account == NULL || *name == '\0')
    return;
  for (char **m = split; *m != NULL; m++)
    if (*g_strstrip (*m) != '\0')
      g_ptr_array_add (members, *m);
  g_ptr_array_add (members, NULL);
  voip_dbus_account_call_create_group (account, name, (const char *const *) members->pdata, NULL,
                                  on_create_group_ready, g_object_ref (parent));
}

void
voip_people_new_group (GtkWindow *parent, VoipClient *client)
{
  GtkWidget *dialog = adw_message_dialog_new (parent, _("New group"), NULL);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);

  gtk_box_append (GTK_BOX (box), labelled_entry (_("Group name")));
  gtk_box_append (GTK_BOX (box), labelled_entry (_("Members (usernames, comma-separated)")));
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), box);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _("Cancel"),
                                    "create", _("Create"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "create",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "create");
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_new_group_response), client, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}
