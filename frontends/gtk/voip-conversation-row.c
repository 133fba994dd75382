/* voip-conversation-row.c — one contact or group in the sidebar: avatar,
 * presence dot, name, the last message, the unread badge; for a friend
 * request, Accept and Deny. Its accessible name says all of that, for screen
 * readers (and the tests, which read it over AT-SPI). */
#define G_LOG_DOMAIN "voip"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "voip-conversation-row.h"
#include "voip-presence.h"

struct _VoipConversationRow
{
  GtkListBoxRow  parent_instance;
  VoipDBusObject    *object;
  char          *title;
  char          *last_text;
  gint64         last_time;
  GtkWidget     *avatar;
  GtkWidget     *dot;
  GtkWidget     *name_label;
  GtkWidget     *last_label;
  GtkWidget     *badge;
  GtkWidget     *request_box;
};

G_DEFINE_FINAL_TYPE (VoipConversationRow, voip_conversation_row, GTK_TYPE_LIST_BOX_ROW)

/* ---- helpers ------------------------------------------------------------ */

static void
update_accessible_label (VoipConversationRow *self, const char *presence, guint unread,
                         const char *subscription)
{
  g_autoptr(GString) label = g_string_new (self->title);

  if (presence != NULL)
    g_string_append_printf (label, ", %s", voip_presence_to_label (presence));
  if (g_strcmp0 (subscription, "incoming") == 0)
    g_string_append_printf (label, ", %s", _("asks to be your contact"));
  else if (g_strcmp0 (subscription, "outgoing") == 0)
    g_string_append_printf (label, ", %s", _("request sent"));
  if (unread > 0)
    {
      g_string_append (label, ", ");
      /* In the sidebar row's accessible name: "bob, Online, 3 unread" */
      g_string_append_printf (label, ngettext ("%u unread", "%u unread", unread), unread);
    }
  if (self->last_text != NULL)
    g_string_append_printf (label, ", %s", self->last_text);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, label->str, -1);
}

static void
on_accept_clicked (GtkButton *button, gpointer user_data)
{
  VoipConversationRow *self = user_data;
  VoipDBusContact *contact = voip_dbus_object_peek_contact (self->object);

  if (contact != NULL)
    voip_dbus_contact_call_accept (contact, NULL, NULL, NULL);
}

static void
on_deny_clicked (GtkButton *button, gpointer user_data)
{
  VoipConversationRow *self = user_data;
  VoipDBusContact *contact = voip_dbus_object_peek_contact (self->object);

  if (contact != NULL)
    voip_dbus_contact_call_deny (contact, NULL, NULL, NULL);
}

/* ---- GObject ------------------------------------------------------------ */

static void
voip_conversation_row_dispose (GObject *object)
{
  VoipConversationRow *self = VOIP_CONVERSATION_ROW (object);

  g_clear_object (&self->object);
  G_OBJECT_CLASS (voip_conversation_row_parent_class)->dispose (object);
}

static void
voip_conversation_row_finalize (GObject *object)
{
  VoipConversationRow *self = VOIP_CONVERSATION_ROW (object);

  g_free (self->title);
  g_free (self->last_text);
  G_OBJECT_CLASS (voip_conversation_row_parent_class)->finalize (object);
}

static void
voip_conversation_row_class_init (VoipConversationRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = voip_conversation_row_dispose;
  object_class->finalize = voip_conversation_row_finalize;
}

static void
voip_conversation_row_init (VoipConversationRow *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *text = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *top = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *accept = gtk_button_new_from_icon_name ("object-select-symbolic");
  GtkWidget *deny = gtk_button_new_from_icon_name ("window-close-symbolic");

  gtk_widget_set_margin_top (box, 6);
  gtk_widget_set_margin_bottom (box, 6);
  gtk_widget_set_margin_start (box, 6);
  gtk_widget_set_margin_end (box, 6);

  self->avatar = adw_avatar_new (40, NULL, TRUE);
  gtk_box_append (GTK_BOX (box), self->avatar);

  self->dot = gtk_label_new ("●");
  gtk_widget_add_css_class (self->dot, "presence-dot");
  self->name_label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->name_label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (self->name_label), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (self->name_label, "heading");
  gtk_widget_set_hexpand (self->name_label, TRUE);
  self->badge = gtk_label_new (NULL);
  gtk_widget_add_css_class (self->badge, "unread-badge");
  gtk_widget_set_valign (self->badge, GTK_ALIGN_CENTER);
  gtk_box_append (GTK_BOX (top), self->dot);
  gtk_box_append (GTK_BOX (top), self->name_label);
  gtk_box_append (GTK_BOX (top), self->badge);

  self->last_label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->last_label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (self->last_label), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (self->last_label, "dim-label");
  gtk_box_append (GTK_BOX (text), top);
  gtk_box_append (GTK_BOX (text), self->last_label);
  gtk_widget_set_hexpand (text, TRUE);
  gtk_box_append (GTK_BOX (box), text);

  self->request_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_widget_set_valign (self->request_box, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (accept, _("Accept"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (accept),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Accept"), -1);
  gtk_widget_set_tooltip_text (deny, _("Deny"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (deny),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Deny"), -1);
  gtk_widget_add_css_class (accept, "suggested-action");
  g_signal_connect (accept, "clicked", G_CALLBACK (on_accept_clicked), self);
  g_signal_connect (deny, "clicked", G_CALLBACK (on_deny_clicked), self);
  gtk_box_append (GTK_BOX (self->request_box), accept);
  gtk_box_append (GTK_BOX (self->request_box), deny);
  gtk_box_append (GTK_BOX (box), self->request_box);

  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (self), box);
}

GtkWidget *
voip_conversation_row_new (VoipDBusObject *object)
{
  VoipConversationRow *self = g_object_new (VOIP_TYPE_CONVERSATION_ROW, NULL);

  self->object = g_object_ref (object);
  voip_conversation_row_update (self);
  return GTK_WIDGET (self);
}

/* ---- public ------------------------------------------------------------- */

VoipDBusObject *
voip_conversation_row_get_object (VoipConversationRow *self)
{
  return self->object;
}

const char *
voip_conversation_row_get_title (VoipConversationRow *self)
{
  return self->title;
}

gint64
voip_conversation_row_get_last_time (VoipConversationRow *self)
{
  return self->last_time;
}

void
voip_conversation_row_update (VoipConversationRow *self)
{
  VoipDBusContact *contact = voip_dbus_object_peek_contact (self->object);
  VoipDBusConversation *conversation = voip_dbus_object_peek_conversation (self->object);
  const char *presence = contact != NULL ? voip_dbus_contact_get_presence (contact) : NULL;
  const char *subscription = contact != NULL ? voip_dbus_contact_get_subscription (contact) : NULL;
  guint unread = conversation != NULL ? voip_dbus_conversation_get_unread (conversation) : 0;

  g_free (self->title);
  self->title = voip_object_dup_title (self->object);
  gtk_label_set_text (GTK_LABEL (self->name_label), self->title);
  adw_avatar_set_text (ADW_AVATAR (self->avatar), self->title);

  gtk_widget_set_visible (self->dot, contact != NULL);
  for (const char *const *c = (const char *const[]) { "presence-online", "presence-away",
                                                      "presence-busy", "presence-offline",
                                                      NULL }; *c != NULL; c++)
    gtk_widget_remove_css_class (self->dot, *c);
  if (contact != NULL)
    {
      gtk_widget_add_css_class (self->dot, voip_presence_to_css (presence));
      gtk_widget_set_tooltip_text (self->dot, voip_presence_to_label (presence));
    }

  if (unread > 0)
    {
      g_autofree char *count = g_strdup_printf ("%u", unread);

      gtk_label_set_text (GTK_LABEL (self->badge), count);
    }
  gtk_widget_set_visible (self->badge, unread > 0);
  gtk_widget_set_visible (self->request_box, g_strcmp0 (subscription, "incoming") == 0);
  if (g_strcmp0 (subscription, "outgoing") == 0 && self->last_text == NULL)
    gtk_label_set_text (GTK_LABEL (self->last_label), _("Request sent"));
  update_accessible_label (self, presence, unread, subscription);
}

void
voip_conversation_row_set_last (VoipConversationRow *self, GVariant *message)
{
  const char *direction, *kind, *text;
  gboolean deleted;
  gint64 time_ms;

  g_variant_get (message, "(tx&s&s&s&sbbu)", NULL, &time_ms, NULL, &direction, &kind,
                 &text, NULL, &deleted, NULL);
  g_free (self->last_text);
  if (deleted)
    self->last_text = g_strdup (_("Message deleted"));
  else if (g_strcmp0 (kind, "voice") == 0)
    self->last_text = g_strdup (_("Voice message"));
  else if (g_strcmp0 (direction, "outgoing") == 0)
    /* Your own last message in the sidebar, e.g. "You: see you" */
    self->last_text = g_strdup_printf (_("You: %s"), text);
  else
    self->last_text = g_strdup (text);
  self->last_time = time_ms;
  gtk_label_set_text (GTK_LABEL (self->last_label), self->last_text);
  voip_conversation_row_update (self);
}
