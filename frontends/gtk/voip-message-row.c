/* voip-message-row.c — one message: the bubble (theirs on the left, yours on
 * the right), who and when, the edited and deleted marks; your own messages
 * get Edit and Delete, voice messages a Play button. The buttons activate
 * the conversation view's actions (conversation.edit, .delete, .play) with
 * the message id. */
#define G_LOG_DOMAIN "voip"

#include <glib/gi18n.h>

#include "voip-message-row.h"

struct _VoipMessageRow
{
  GtkListBoxRow  parent_instance;
  guint64        id;
  char          *text;
  GtkWidget     *bubble;
  GtkWidget     *text_label;
  GtkWidget     *meta_label;
  GtkWidget     *play;
  GtkWidget     *edit;
  GtkWidget     *delete;
};

G_DEFINE_FINAL_TYPE (VoipMessageRow, voip_message_row, GTK_TYPE_LIST_BOX_ROW)

static GtkWidget *
icon_button (const char *icon, const char *label, const char *action)
{
  GtkWidget *button = gtk_button_new_from_icon_name (icon);

  gtk_widget_add_css_class (button, "flat");
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (button, label);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), action);
  return button;
}

static void
voip_message_row_finalize (GObject *object)
{
  VoipMessageRow *self = VOIP_MESSAGE_ROW (object);

  g_free (self->text);
  G_OBJECT_CLASS (voip_message_row_parent_class)->finalize (object);
}

static void
voip_message_row_class_init (VoipMessageRowClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = voip_message_row_finalize;
}

static void
voip_message_row_init (VoipMessageRow *self)
{
  GtkWidget *content = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);

  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (self), FALSE);
  self->bubble = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_widget_set_margin_start (self->bubble, 12);
  gtk_widget_set_margin_end (self->bubble, 12);
  gtk_widget_set_margin_top (self->bubble, 3);
  gtk_widget_set_margin_bottom (self->bubble, 3);

  self->text_label = gtk_label_new (NULL);
  gtk_label_set_wrap (GTK_LABEL (self->text_label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (self->text_label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_selectable (GTK_LABEL (self->text_label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (self->text_label), 0);
  gtk_widget_add_css_class (self->text_label, "message-bubble");
  self->meta_label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->meta_label), 0);
  gtk_widget_add_css_class (self->meta_label, "dim-label");
  gtk_widget_add_css_class (self->meta_label, "caption");
  gtk_box_append (GTK_BOX (content), self->text_label);
  gtk_box_append (GTK_BOX (content), self->meta_label);

  self->play = icon_button ("media-playback-start-symbolic", _("Play voice message"),
                            "conversation.play");
  self->edit = icon_button ("document-edit-symbolic", _("Edit message"), "conversation.edit");
  self->delete = icon_button ("user-trash-symbolic", _("Delete message"), "conversation.delete");
  gtk_box_append (GTK_BOX (self->bubble), self->play);
  gtk_box_append (GTK_BOX (self->bubble), content);
  gtk_box_append (GTK_BOX (self->bubble), self->edit);
  gtk_box_append (GTK_BOX (self->bubble), self->delete);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (self), self->bubble);
}

GtkWidget *
voip_message_row_new (GVariant *message)
{
  VoipMessageRow *self = g_object_new (VOIP_TYPE_MESSAGE_ROW, NULL);

  voip_message_row_set (self, message);
  return GTK_WIDGET (self);
}

void
voip_message_row_set (VoipMessageRow *self, GVariant *message)
{
  const char *sender, *direction, *kind, *text;
  gboolean edited, deleted, outgoing, voice;
  guint32 duration_ms;
  gint64 time_ms;
  g_autoptr(GDateTime) time = NULL;
  g_autofree char *when = NULL;
  g_autofree char *meta = NULL;
  g_autofree char *shown = NULL;
  g_autofree char *accessible = NULL;

  g_variant_get (message, "(tx&s&s&s&sbbu)", &self->id, &time_ms, &sender, &direction, &kind,
                 &text, &edited, &deleted, &duration_ms);
  outgoing = g_strcmp0 (direction, "outgoing") == 0;
  voice = g_strcmp0 (kind, "voice") == 0;
  g_free (self->text);
  self->text = g_strdup (text);

  if (deleted)
    shown = g_strdup (_("This message was deleted"));
  else if (voice)
    /* A voice message in the history, e.g. "Voice message, 4 s" */
    shown = g_strdup_printf (_("Voice message, %u s"), (duration_ms + 999) / 1000);
  else
    shown = g_strdup (text);
  gtk_label_set_text (GTK_LABEL (self->text_label), shown);
  if (deleted)
    gtk_widget_add_css_class (self->text_label, "dim-label");

  time = g_date_time_new_from_unix_local (time_ms / 1000);
  when = time != NULL ? g_date_time_format (time, "%x %H:%M") : g_strdup ("");
  if (self->id == 0)
    meta = g_strdup_printf ("%s · %s", outgoing ? _("You") : sender, _("waiting to be sent"));
  else if (edited && !deleted)
    meta = g_strdup_printf ("%s · %s · %s", outgoing ? _("You") : sender, when, _("edited"));
  else
    meta = g_strdup_printf ("%s · %s", outgoing ? _("You") : sender, when);
  gtk_label_set_text (GTK_LABEL (self->meta_label), meta);

  gtk_widget_set_halign (self->bubble, outgoing ? GTK_ALIGN_END : GTK_ALIGN_START);
  if (outgoing)
    gtk_widget_add_css_class (self->text_label, "outgoing");
  gtk_widget_set_visible (self->play, voice && !deleted);
  gtk_widget_set_visible (self->edit, outgoing && !voice && !deleted && self->id != 0);
  gtk_widget_set_visible (self->delete, outgoing && !deleted && self->id != 0);
  gtk_actionable_set_action_target (GTK_ACTIONABLE (self->play), "t", self->id);
  gtk_actionable_set_action_target (GTK_ACTIONABLE (self->edit), "t", self->id);
  gtk_actionable_set_action_target (GTK_ACTIONABLE (self->delete), "t", self->id);

  /* "bob: see you", as a screen reader says a message */
  accessible = g_strdup_printf (_("%s: %s"), outgoing ? _("You") : sender, shown);
  if (edited && !deleted)
    {
      g_autofree char *plain = g_steal_pointer (&accessible);

      /* A message's accessible name with its mark: "bob: see you (edited)" */
      accessible = g_strdup_printf (_("%s (edited)"), plain);
    }
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  accessible, -1);
}

guint64
voip_message_row_get_id (VoipMessageRow *self)
{
  return self->id;
}

const char *
voip_message_row_get_text (VoipMessageRow *self)
{
  return self->text;
}
