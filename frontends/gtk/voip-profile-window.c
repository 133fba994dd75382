/* voip-profile-window.c — the profile page: a contact's fields (and Remove),
 * a group's name, owner and members (rename, add and remove members, leave,
 * delete), or your own fields, editable (Account.SetProfile). */
#define G_LOG_DOMAIN "voip"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "voip-profile-window.h"
#include "voip-presence.h"

/* The profile fields as the API names them, and their labels. */
static const struct {
  const char *key;
  const char *label;
} profile_fields[] = {
  { "display_name", N_("Display name") },
  { "motd",         N_("Message of the day") },
  { "city",         N_("City") },
  { "phone",        N_("Phone") },
  { "mail",         N_("E-mail") },
  { "language",     N_("Language") },
};

static void
on_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GtkWindow) window = user_data;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = g_dbus_proxy_call_finish (G_DBUS_PROXY (source), result, &error);
  if (reply == NULL)
    {
      GtkWidget *dialog;

      g_dbus_error_strip_remote_error (error);
      dialog = adw_message_dialog_new (window, _("The change was refused"), error->message);
      adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("Close"));
      gtk_window_present (GTK_WINDOW (dialog));
    }
}

static GtkWidget *
info_row (const char *title, const char *value)
{
  GtkWidget *row = adw_action_row_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), value != NULL && *value != '\0' ? value : "—");
  gtk_widget_add_css_class (row, "property");
  return row;
}

static GtkWidget *
button_row (const char *title, GCallback callback, gpointer data, gboolean destructive)
{
  GtkWidget *button = gtk_button_new_with_label (title);

  gtk_widget_set_halign (button, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (button, "pill");
  if (destructive)
    gtk_widget_add_css_class (button, "destructive-action");
  g_signal_connect (button, "clicked", callback, data);
  return button;
}

/* ---- your own ----------------------------------------------------------- */

static void
on_save_own (GtkButton *button, gpointer user_data)
{
  GtkWindow *window = user_data;
  VoipDBusAccount *account = g_object_get_data (G_OBJECT (window), "account");
  g_auto(GVariantBuilder) fields = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);

  for (gsize i = 0; i < G_N_ELEMENTS (profile_fields); i++)
    {
      GtkWidget *row = g_object_get_data (G_OBJECT (window), profile_fields[i].key);

      g_variant_builder_add (&fields, "{sv}", profile_fields[i].key,
                             g_variant_new_string (gtk_editable_get_text (GTK_EDITABLE (row))));
    }
  voip_dbus_account_call_set_profile (account, g_variant_builder_end (&fields), NULL,
                                 (GAsyncReadyCallback) on_done, g_object_ref (window));
}

static void
fill_own (GtkWindow *window, AdwPreferencesGroup *group, VoipDBusAccount *account)
{
  const char *values[G_N_ELEMENTS (profile_fields)] = {
    voip_dbus_account_get_display_name (account), voip_dbus_account_get_motd (account),
    voip_dbus_account_get_city (account), voip_dbus_account_get_phone (account),
    voip_dbus_account_get_mail (account), voip_dbus_account_get_language (account),
  };

  g_object_set_data_full (G_OBJECT (window), "account", g_object_ref (account), g_object_unref);
  adw_preferences_group_add (group, info_row (_("Username"), voip_dbus_account_get_username (account)));
  for (gsize i = 0; i < G_N_ELEMENTS (profile_fields); i++)
    {
      GtkWidget *row = adw_entry_row_new ();

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _(profile_fields[i].label));
      gtk_editable_set_text (GTK_EDITABLE (row), values[i] != NULL ? values[i] : "");
      g_object_set_data (G_OBJECT (window), profile_fields[i].key, row);
      adw_preferences_group_add (group, row);
    }
}

/* ---- a contact ---------------------------------------------------------- */

static void
on_remove_response (AdwMessageDialog *dialog, const char *response, gpointer user_data)
{
  GtkWindow *window = user_data;
  VoipDBusContact *contact = g_object_get_data (G_OBJECT (window), "contact");

  if (g_strcmp0 (response, "remove") != 0)
    return;
  voip_dbus_contact_call_remove (contact, NULL, (GAsyncReadyCallback) on_done, g_object_ref (window));
  gtk_window_close (window);
}

static void
on_remove_contact (GtkButton *button, gpointer user_data)
{
  GtkWindow *window = user_data;
  GtkWidget *dialog = adw_message_dialog_new (window, _("Remove this contact?"),
                                              _("The conversation goes away with them."));

  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _("Cancel"),
                                    "remove", _("Remove"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "remove",
                                              ADW_RESPONSE_DESTRUCTIVE);
  g_signal_connect (dialog, "response", G_CALLBACK (on_remove_response), window);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
fill_contact (GtkWindow *window, AdwPreferencesGroup *group, GtkWidget *actions,
              VoipDBusContact *contact)
{
  const char *values[G_N_ELEMENTS (profile_fields)] = {
    voip_dbus_contact_get_display_name (contact), voip_dbus_contact_get_motd (contact),
    voip_dbus_contact_get_city (contact), voip_dbus_contact_get_phone (contact),
    voip_dbus_contact_get_mail (contact), voip_dbus_contact_get_language (contact),
  };

  g_object_set_data_full (G_OBJECT (window), "contact", g_object_ref (contact), g_object_unref);
  adw_preferences_group_add (group, info_row (_("Username"), voip_dbus_contact_get_username (contact)));
  adw_preferences_group_add (group, info_row (_("Presence"),
                                              voip_presence_to_label (voip_dbus_contact_get_presence (contact))));
  for (gsize i = 0; i < G_N_ELEMENTS (profile_fields); i++)
    adw_preferences_group_add (group, info_row (_(profile_fields[i].label), values[i]));
  gtk_box_append (GTK_BOX (actions), button_row (_("Remove contact"), G_CALLBACK (on_remove_contact),
                                                 window, TRUE));
}

/* ---- a group ------------------------------------------------------------ */

static void
on_rename (GtkButton *button, gpointer user_data)
{
  GtkWindow *window = user_data;
  VoipDBusGroup *group = g_object_get_data (G_OBJECT (window), "group");
  GtkWidget *entry = g_object_get_data (G_OBJECT (window), "name-entry");

  voip_dbus_group_call_rename (group, gtk_editable_get_text (GTK_EDITABLE (entry)), NULL,
                          (GAsyncReadyCallback) on_done, g_object_ref (window));
}

static void
on_add_member (GtkButton *button, gpointer user_data)
{
  GtkWindow *window = user_data;
  VoipDBusGroup *group = g_object_get_data (G_OBJECT (window), "group");
  GtkWidget *entry = g_object_get_data (G_OBJECT (window), "member-entry");

  voip_dbus_group_call_add_member (group, gtk_editable_get_text (GTK_EDITABLE (entry)), NULL,
                              (GAsyncReadyCallback) on_done, g_object_ref (window));
  gtk_editable_set_text (GTK_EDITABLE (entry), "");
}

static void
on_remove_member (GtkButton *button, gpointer user_data)
{
  GtkWindow *window = GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (button)));
  VoipDBusGroup *group = g_object_get_data (G_OBJECT (window), "group");

  voip_dbus_group_call_remove_member (group, user_data, NULL, (GAsyncReadyCallback) on_done,
                                 g_object_ref (window));
}

static void
on_leave (GtkButton *button, gpointer user_data)
{
  GtkWindow *window = user_data;
  VoipDBusGroup *group = g_object_get_data (G_OBJECT (window), "group");

  voip_dbus_group_call_leave (group, NULL, (GAsyncReadyCallback) on_done, g_object_ref (window));
  gtk_window_close (window);
}

static void
on_delete (GtkButton *button, gpointer user_data)
{
  GtkWindow *window = user_data;
  VoipDBusGroup *group = g_object_get_data (G_OBJECT (window), "group");

  voip_dbus_group_call_delete (group, NULL, (GAsyncReadyCallback) on_done, g_object_ref (window));
  gtk_window_close (window);
}

static void
fill_group (GtkWindow *window, AdwPreferencesGroup *prefs, GtkWidget *actions, VoipDBusGroup *group)
{
  GtkWidget *name = adw_entry_row_new ();
  GtkWidget *member = adw_entry_row_new ();
  const char *const *members = voip_dbus_group_get_members (group);

  g_object_set_data_full (G_OBJECT (window), "group", g_object_ref (group), g_object_unref);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (name), _("Group name"));
  gtk_editable_set_text (GTK_EDITABLE (name), voip_dbus_group_get_name (group));
  adw_entry_row_set_show_apply_button (ADW_ENTRY_ROW (name), TRUE);
  g_signal_connect (name, "apply", G_CALLBACK (on_rename), window);
  g_object_set_data (G_OBJECT (window), "name-entry", name);
  adw_preferences_group_add (prefs, name);
  adw_preferences_group_add (prefs, info_row (_("Owner"), voip_dbus_group_get_owner (group)));
  for (; members != NULL && *members != NULL; members++)
    {
      GtkWidget *row = info_row (_("Member"), *members);
      GtkWidget *remove = gtk_button_new_from_icon_name ("list-remove-symbolic");
      g_autofree char *label = g_strdup_printf (_("Remove %s from the group"), *members);

      gtk_widget_add_css_class (remove, "flat");
      gtk_widget_set_valign (remove, GTK_ALIGN_CENTER);
      gtk_accessible_update_property (GTK_ACCESSIBLE (remove), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
      g_signal_connect_data (remove, "clicked", G_CALLBACK (on_remove_member), g_strdup (*members),
                             (GClosureNotify) G_CALLBACK (g_free), 0);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), remove);
      adw_preferences_group_add (prefs, row);
    }
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (member), _("Add a member"));
  adw_entry_row_set_show_apply_button (ADW_ENTRY_ROW (member), TRUE);
  g_signal_connect (member, "apply", G_CALLBACK (on_add_member), window);
  g_object_set_data (G_OBJECT (window), "member-entry", member);
  adw_preferences_group_add (prefs, member);
  gtk_box_append (GTK_BOX (actions), button_row (_("Leave the group"), G_CALLBACK (on_leave), window, FALSE));
  gtk_box_append (GTK_BOX (actions), button_row (_("Delete the group"), G_CALLBACK (on_delete), window, TRUE));
}

void
voip_profile_window_present (GtkWindow *parent, VoipClient *client, VoipDBusObject *object)
{
  GtkWidget *window = adw_window_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *page = adw_preferences_page_new ();
  GtkWidget *group = adw_preferences_group_new ();
  GtkWidget *actions = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  VoipDBusAccount *account = voip_client_get_account (client);
  g_autofree char *title = object != NULL ? voip_object_dup_title (object) : NULL;

  gtk_window_set_transient_for (GTK_WINDOW (window), parent);
  gtk_window_set_modal (GTK_WINDOW (window), TRUE);
  gtk_window_set_default_size (GTK_WINDOW (window), 420, 560);
  gtk_window_set_title (GTK_WINDOW (window), title != NULL ? title : _("My profile"));
  gtk_box_append (GTK_BOX (box), adw_header_bar_new ());
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (group));
  gtk_widget_set_halign (actions, GTK_ALIGN_CENTER);
  gtk_widget_set_margin_top (actions, 12);

  if (object == NULL && account != NULL)
    {
      fill_own (GTK_WINDOW (window), ADW_PREFERENCES_GROUP (group), account);
      gtk_box_append (GTK_BOX (actions), button_row (_("Save"), G_CALLBACK (on_save_own), window, FALSE));
    }
  else if (object != NULL && voip_dbus_object_peek_contact (object) != NULL)
    fill_contact (GTK_WINDOW (window), ADW_PREFERENCES_GROUP (group), actions,
                  voip_dbus_object_peek_contact (object));
  else if (object != NULL && voip_dbus_object_peek_group (object) != NULL)
    fill_group (GTK_WINDOW (window), ADW_PREFERENCES_GROUP (group), actions,
                voip_dbus_object_peek_group (object));
  adw_preferences_group_set_header_suffix (ADW_PREFERENCES_GROUP (group), NULL);
  {
    GtkWidget *action_group = adw_preferences_group_new ();

    adw_preferences_group_add (ADW_PREFERENCES_GROUP (action_group), actions);
    adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (action_group));
  }
  gtk_widget_set_vexpand (page, TRUE);
  gtk_box_append (GTK_BOX (box), page);
  adw_window_set_content (ADW_WINDOW (window), box);
  gtk_window_present (GTK_WINDOW (window));
}
