/* voip-conversation-list.c — the sidebar of the main window: a header with
 * the add and account menus, a search entry, and a row per contact and
 * group, online ones first, then by the time of their last message.
 *
 * Signal: selected (VoipDBusObject) when the user picks a conversation. */
#define G_LOG_DOMAIN "voip"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "voip-conversation-list.h"
#include "voip-conversation-row.h"
#include "voip-presence.h"

enum {
  SIGNAL_SELECTED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

struct _VoipConversationList
{
  GtkBox        parent_instance;
  VoipClient   *client;
  GHashTable   *rows;          /* object path → VoipConversationRow (borrowed) */
  GtkWidget    *search;
  GtkWidget    *list_box;
  GtkWidget    *stack;         /* the list, or "no contacts yet" */
  gboolean      selecting;     /* select() is moving the highlight */
};

G_DEFINE_FINAL_TYPE (VoipConversationList, voip_conversation_list, GTK_TYPE_BOX)

/* ---- helpers ------------------------------------------------------------ */

static int
row_presence_rank (VoipConversationRow *row)
{
  VoipDBusContact *contact = voip_dbus_object_peek_contact (voip_conversation_row_get_object (row));

  /* Groups sort with the online contacts: someone may be there. */
  return contact != NULL ? voip_presence_rank (voip_dbus_contact_get_presence (contact)) : 0;
}

static int
sort_rows (GtkListBoxRow *a, GtkListBoxRow *b, gpointer user_data)
{
  VoipConversationRow *ra = VOIP_CONVERSATION_ROW (a), *rb = VOIP_CONVERSATION_ROW (b);
  gboolean online_a = row_presence_rank (ra) < voip_presence_rank ("offline");
  gboolean online_b = row_presence_rank (rb) < voip_presence_rank ("offline");
  gint64 time_a = voip_conversation_row_get_last_time (ra);
  gint64 time_b = voip_conversation_row_get_last_time (rb);

  if (online_a != online_b)
    return online_a ? -1 : 1;
  if (time_a != time_b)
    return time_a > time_b ? -1 : 1;
  return g_utf8_collate (voip_conversation_row_get_title (ra), voip_conversation_row_get_title (rb));
}

static gboolean
filter_rows (GtkListBoxRow *row, gpointer user_data)
{
  VoipConversationList *self = user_data;
  const char *query = gtk_editable_get_text (GTK_EDITABLE (self->search));
  g_autofree char *folded_query = NULL;
  g_autofree char *folded_title = NULL;

  if (query == NULL || *query == '\0')
    return TRUE;
  folded_query = g_utf8_casefold (query, -1);
  folded_title = g_utf8_casefold (voip_conversation_row_get_title (VOIP_CONVERSATION_ROW (row)), -1);
  return strstr (folded_title, folded_query) != NULL;
}

static void
on_last_message_ready (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GtkWidget) row = user_data;
  g_autoptr(GVariant) messages = NULL;
  g_autoptr(GError) error = NULL;
  GtkWidget *list_box;

  if (!voip_dbus_conversation_call_get_history_finish (VOIP_DBUS_CONVERSATION (source), &messages,
                                                  result, &error))
    {
      g_debug ("No last message: %s", error->message);
      return;
    }
  list_box = gtk_widget_get_parent (row);
  if (list_box == NULL || g_variant_n_children (messages) == 0)
    return;
  {
    g_autoptr(GVariant) last = g_variant_get_child_value (messages, g_variant_n_children (messages) - 1);

    voip_conversation_row_set_last (VOIP_CONVERSATION_ROW (row), last);
  }
  gtk_list_box_invalidate_sort (GTK_LIST_BOX (list_box));
}

static void
reconcile (VoipConversationList *self)
{
  g_autolist(VoipDBusObject) objects = voip_client_get_conversations (self->client);
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  GHashTableIter iter;
  gpointer path, row;

  for (GList *l = objects; l != NULL; l = l->next)
    {
      const char *object_path = g_dbus_object_get_object_path (l->data);

      g_hash_table_add (seen, (gpointer) object_path);
      if (g_hash_table_contains (self->rows, object_path))
        continue;
      row = voip_conversation_row_new (l->data);
      g_hash_table_insert (self->rows, g_strdup (object_path), row);
      gtk_list_box_append (GTK_LIST_BOX (self->list_box), row);
      voip_dbus_conversation_call_get_history (voip_dbus_object_peek_conversation (l->data), 0, 1, NULL,
                                          on_last_message_ready, g_object_ref (row));
    }
  g_hash_table_iter_init (&iter, self->rows);
  while (g_hash_table_iter_next (&iter, &path, &row))
    if (!g_hash_table_contains (seen, path))
      {
        gtk_list_box_remove (GTK_LIST_BOX (self->list_box), row);
        g_hash_table_iter_remove (&iter);
      }
  gtk_stack_set_visible_child_name (GTK_STACK (self->stack),
                                    g_hash_table_size (self->rows) > 0 ? "list" : "empty");
  gtk_list_box_invalidate_sort (GTK_LIST_BOX (self->list_box));
}

/* ---- callbacks ---------------------------------------------------------- */

static void
on_conversations_changed (VoipClient *client, gpointer user_data)
{
  reconcile (user_data);
}

static void
on_object_changed (VoipClient *client, VoipDBusObject *object, gpointer user_data)
{
  VoipConversationList *self = user_data;
  GtkWidget *row = g_hash_table_lookup (self->rows, g_dbus_object_get_object_path (G_DBUS_OBJECT (object)));

  if (row == NULL)
    return;
  voip_conversation_row_update (VOIP_CONVERSATION_ROW (row));
  gtk_list_box_invalidate_sort (GTK_LIST_BOX (self->list_box));
  gtk_list_box_invalidate_filter (GTK_LIST_BOX (self->list_box));
}

static void
on_message (VoipClient *client, VoipDBusObject *object, const char *kind, GVariant *message,
            gpointer user_data)
{
  VoipConversationList *self = user_data;
  GtkWidget *row = g_hash_table_lookup (self->rows, g_dbus_object_get_object_path (G_DBUS_OBJECT (object)));

  if (row == NULL || g_strcmp0 (kind, "received") != 0)
    return;
  voip_conversation_row_set_last (VOIP_CONVERSATION_ROW (row), message);
  gtk_list_box_invalidate_sort (GTK_LIST_BOX (self->list_box));
}

static void
on_search_changed (GtkSearchEntry *entry, gpointer user_data)
{
  VoipConversationList *self = user_data;

  gtk_list_box_invalidate_filter (GTK_LIST_BOX (self->list_box));
}

static void
on_row_activated (GtkListBox *list_box, GtkListBoxRow *row, gpointer user_data)
{
  VoipConversationList *self = user_data;

  if (self->selecting)
    return;
  g_signal_emit (self, signals[SIGNAL_SELECTED], 0,
                 voip_conversation_row_get_object (VOIP_CONVERSATION_ROW (row)));
}

/* ---- GObject ------------------------------------------------------------ */

static void
voip_conversation_list_dispose (GObject *object)
{
  VoipConversationList *self = VOIP_CONVERSATION_LIST (object);

  if (self->client != NULL)
    g_signal_handlers_disconnect_by_data (self->client, self);
  g_clear_object (&self->client);
  g_clear_pointer (&self->rows, g_hash_table_unref);
  G_OBJECT_CLASS (voip_conversation_list_parent_class)->dispose (object);
}

static void
voip_conversation_list_class_init (VoipConversationListClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = voip_conversation_list_dispose;
  signals[SIGNAL_SELECTED] =
    g_signal_new ("selected", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, VOIP_DBUS_TYPE_OBJECT);
}

static GMenuModel *
build_primary_menu (void)
{
  GMenu *menu = g_menu_new ();
  g_autoptr(GMenu) presence = g_menu_new ();
  g_autoptr(GMenu) account = g_menu_new ();
  static const struct { const char *label, *word; } presences[] = {
    { N_("Online"), "online" }, { N_("Away"), "away" }, { N_("Busy"), "busy" },
    { N_("Do not disturb"), "dnd" }, { N_("Invisible"), "invisible" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (presences); i++)
    {
      g_autofree char *action = g_strdup_printf ("win.presence::%s", presences[i].word);

      g_menu_append (presence, _(presences[i].label), action);
    }
  g_menu_append_section (menu, _("Presence"), G_MENU_MODEL (presence));
  g_menu_append (account, _("My profile"), "win.my-profile");
  g_menu_append (account, _("Change the password"), "win.change-password");
  g_menu_append (account, _("Delete the account"), "win.delete-account");
  g_menu_append (account, _("Log out"), "win.logout");
  g_menu_append (account, _("About Voip"), "app.about");
  g_menu_append_section (menu, NULL, G_MENU_MODEL (account));
  return G_MENU_MODEL (menu);
}

static void
voip_conversation_list_init (VoipConversationList *self)
{
  GtkWidget *header = adw_header_bar_new ();
  GtkWidget *add = gtk_button_new_from_icon_name ("contact-new-symbolic");
  GtkWidget *group = gtk_button_new_from_icon_name ("system-users-symbolic");
  GtkWidget *menu = gtk_menu_button_new ();
  g_autoptr(GMenuModel) model = build_primary_menu ();
  GtkWidget *scrolled = gtk_scrolled_window_new ();
  GtkWidget *empty = adw_status_page_new ();

  gtk_orientable_set_orientation (GTK_ORIENTABLE (self), GTK_ORIENTATION_VERTICAL);
  self->rows = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  adw_header_bar_set_title_widget (ADW_HEADER_BAR (header), adw_window_title_new (_("Conversations"), NULL));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (add), "win.add-contact");
  gtk_widget_set_tooltip_text (add, _("Add a contact"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (add), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Add a contact"), -1);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (group), "win.new-group");
  gtk_widget_set_tooltip_text (group, _("New group"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (group), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("New group"), -1);
  gtk_menu_button_set_icon_name (GTK_MENU_BUTTON (menu), "open-menu-symbolic");
  gtk_menu_button_set_menu_model (GTK_MENU_BUTTON (menu), model);
  gtk_widget_set_tooltip_text (menu, _("Main menu"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (menu), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Main menu"), -1);
  adw_header_bar_pack_start (ADW_HEADER_BAR (header), add);
  adw_header_bar_pack_start (ADW_HEADER_BAR (header), group);
  adw_header_bar_pack_end (ADW_HEADER_BAR (header), menu);
  gtk_box_append (GTK_BOX (self), header);

  self->search = gtk_search_entry_new ();
  g_object_set (self->search, "placeholder-text", _("Search conversations"), NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->search), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Search conversations"), -1);
  gtk_widget_set_margin_start (self->search, 6);
  gtk_widget_set_margin_end (self->search, 6);
  gtk_widget_set_margin_bottom (self->search, 6);
  g_signal_connect (self->search, "search-changed", G_CALLBACK (on_search_changed), self);
  gtk_box_append (GTK_BOX (self), self->search);

  self->list_box = gtk_list_box_new ();
  gtk_widget_add_css_class (self->list_box, "navigation-sidebar");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->list_box), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Conversations"), -1);
  gtk_list_box_set_sort_func (GTK_LIST_BOX (self->list_box), sort_rows, self, NULL);
  gtk_list_box_set_filter_func (GTK_LIST_BOX (self->list_box), filter_rows, self, NULL);
  g_signal_connect (self->list_box, "row-activated", G_CALLBACK (on_row_activated), self);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), self->list_box);
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);

  adw_status_page_set_icon_name (ADW_STATUS_PAGE (empty), "system-users-symbolic");
  adw_status_page_set_title (ADW_STATUS_PAGE (empty), _("No contacts yet"));
  adw_status_page_set_description (ADW_STATUS_PAGE (empty),
                                   _("Add a contact with the button at the top."));
  self->stack = gtk_stack_new ();
  gtk_stack_add_named (GTK_STACK (self->stack), scrolled, "list");
  gtk_stack_add_named (GTK_STACK (self->stack), empty, "empty");
  gtk_widget_set_vexpand (self->stack, TRUE);
  gtk_box_append (GTK_BOX (self), self->stack);
}

GtkWidget *
voip_conversation_list_new (VoipClient *client)
{
  VoipConversationList *self = g_object_new (VOIP_TYPE_CONVERSATION_LIST, NULL);

  self->client = g_object_ref (client);
  g_signal_connect (client, "conversations-changed", G_CALLBACK (on_conversations_changed), self);
  g_signal_connect (client, "object-changed", G_CALLBACK (on_object_changed), self);
  g_signal_connect (client, "message", G_CALLBACK (on_message), self);
  reconcile (self);
  return GTK_WIDGET (self);
}

/* ---- public ------------------------------------------------------------- */

void
voip_conversation_list_select (VoipConversationList *self, VoipDBusObject *object)
{
  GtkWidget *row = NULL;

  if (object != NULL)
    row = g_hash_table_lookup (self->rows, g_dbus_object_get_object_path (G_DBUS_OBJECT (object)));
  self->selecting = TRUE;
  gtk_list_box_select_row (GTK_LIST_BOX (self->list_box), GTK_LIST_BOX_ROW (row));
  self->selecting = FALSE;
}
