/* voip-conversation-view.c — one conversation: header with call and
 * profile buttons, the history (a page at a time, older pages loaded when
 * scrolled to the top), live new, edited and deleted messages, and the
 * entry to write. Marks the conversation read while it is shown.
 *
 * Property: show-back (the leaflet is folded: a back button in the header).
 * Signal: back () when that button is pressed. */
#define G_LOG_DOMAIN "voip"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "voip-conversation-view.h"
#include "voip-message-row.h"
#include "voip-presence.h"
#include "voip-voice-recorder.h"

/* Messages asked for at a time: a screenful and some, well under the API's
 * limit of 500. */
#define HISTORY_PAGE 50

enum {
  PROP_0,
  PROP_SHOW_BACK,
  N_PROPS
};
static GParamSpec *properties[N_PROPS];

enum {
  SIGNAL_BACK,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

struct _VoipConversationView
{
  GtkBox         parent_instance;
  VoipClient    *client;
  VoipDBusObject    *object;
  GCancellable  *cancellable;    /* the current object's requests */
  GHashTable    *rows;           /* message id → VoipMessageRow (borrowed) */
  guint64        oldest_id;
  gboolean       loading;
  gboolean       complete;       /* the first message is loaded */
  /* While an older page goes in above: the distance from the bottom to
   * keep, so that what was on screen stays there (and the top edge is not
   * reached again at once, loading page after page). */
  double         keep_from_bottom;
  guint          keep_idle;

  GtkWidget     *back;
  GtkWidget     *title;
  GtkWidget     *scrolled;
  GtkWidget     *list_box;
  GtkWidget     *entry;
  GtkWidget     *send;
  GtkWidget     *record;
  GtkMediaStream *player;
  VoipVoiceRecorder *recorder;
  VoipDBusObject *recording_for;  /* where the recording goes, if the view moves on */
};

G_DEFINE_FINAL_TYPE (VoipConversationView, voip_conversation_view, GTK_TYPE_BOX)

/* ---- helpers ------------------------------------------------------------ */

static void
toast (VoipConversationView *self, const char *text)
{
  GtkWidget *overlay = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_TOAST_OVERLAY);

  if (overlay != NULL)
    adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), adw_toast_new (text));
  else
    g_warning ("%s", text);
}

static void
toast_error (VoipConversationView *self, const char *what, GError *error)
{
  g_autofree char *text = NULL;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  g_dbus_error_strip_remote_error (error);
  /* e.g. "Cannot send: not a friend" */
  text = g_strdup_printf (_("%s: %s"), what, error->message);
  toast (self, text);
}

static VoipDBusConversation *
conversation (VoipConversationView *self)
{
  return self->object != NULL ? voip_dbus_object_peek_conversation (self->object) : NULL;
}

static void
update_title (VoipConversationView *self)
{
  g_autofree char *title = NULL;
  VoipDBusContact *contact;
  VoipDBusGroup *group;
  g_autofree char *subtitle = NULL;

  if (self->object == NULL)
    return;
  title = voip_object_dup_title (self->object);
  contact = voip_dbus_object_peek_contact (self->object);
  group = voip_dbus_object_peek_group (self->object);
  if (contact != NULL)
    subtitle = g_strdup (voip_presence_to_label (voip_dbus_contact_get_presence (contact)));
  else if (group != NULL)
    {
      const char *const *members = voip_dbus_group_get_members (group);
      guint n = members != NULL ? g_strv_length ((char **) members) : 0;

      subtitle = g_strdup_printf (ngettext ("%u member", "%u members", n), n);
    }
  adw_window_title_set_title (ADW_WINDOW_TITLE (self->title), title);
  adw_window_title_set_subtitle (ADW_WINDOW_TITLE (self->title), subtitle);
}

static gboolean
scroll_to_bottom_idle (gpointer user_data)
{
  VoipConversationView *self = user_data;
  GtkAdjustment *adjustment = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (self->scrolled));

  gtk_adjustment_set_value (adjustment, gtk_adjustment_get_upper (adjustment));
  return G_SOURCE_REMOVE;
}

static void
scroll_to_bottom (VoipConversationView *self)
{
  g_idle_add_full (G_PRIORITY_LOW, scroll_to_bottom_idle, g_object_ref (self), g_object_unref);
}

/* Adds a message at the end (append) or the start; an id already shown is
 * updated in place. */
static void
add_message (VoipConversationView *self, GVariant *message, gboolean append)
{
  guint64 id;
  GtkWidget *row;

  g_variant_get_child (message, 0, "t", &id);
  if (id != 0 && (row = g_hash_table_lookup (self->rows, &id)) != NULL)
    {
      voip_message_row_set (VOIP_MESSAGE_ROW (row), message);
      return;
    }
  row = voip_message_row_new (message);
  if (append)
    gtk_list_box_append (GTK_LIST_BOX (self->list_box), row);
  else
    gtk_list_box_prepend (GTK_LIST_BOX (self->list_box), row);
  if (id != 0)
    {
      guint64 *key = g_new (guint64, 1);

      *key = id;
      g_hash_table_insert (self->rows, key, row);
      if (self->oldest_id == 0 || id < self->oldest_id)
        self->oldest_id = id;
    }
}

static void
clear_messages (VoipConversationView *self)
{
  GtkWidget *child;

  g_hash_table_remove_all (self->rows);
  while ((child = gtk_widget_get_first_child (self->list_box)) != NULL)
    gtk_list_box_remove (GTK_LIST_BOX (self->list_box), child);
  self->oldest_id = 0;
  self->complete = FALSE;
  self->loading = FALSE;
}

static void load_page (VoipConversationView *self);

static gboolean
on_keep_done (gpointer user_data)
{
  VoipConversationView *self = user_data;

  self->keep_idle = 0;
  return G_SOURCE_REMOVE;
}

static void
on_upper_changed (GtkAdjustment *adjustment, GParamSpec *pspec, gpointer user_data)
{
  VoipConversationView *self = user_data;

  if (self->keep_idle != 0)
    gtk_adjustment_set_value (adjustment, gtk_adjustment_get_upper (adjustment) - self->keep_from_bottom);
}

/* ---- callbacks ---------------------------------------------------------- */

static void
on_history_ready (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(VoipConversationView) self = user_data;
  g_autoptr(GVariant) messages = NULL;
  g_autoptr(GError) error = NULL;
  gboolean first_page;
  gsize n;

  if (!voip_dbus_conversation_call_get_history_finish (VOIP_DBUS_CONVERSATION (source), &messages,
                                                  result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          self->loading = FALSE;
          toast_error (self, _("Cannot load the history"), error);
        }
      return;
    }
  self->loading = FALSE;
  first_page = self->oldest_id == 0;
  n = g_variant_n_children (messages);
  if (n < HISTORY_PAGE)
    self->complete = TRUE;
  if (!first_page)
    {
      GtkAdjustment *adjustment = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (self->scrolled));

      self->keep_from_bottom = gtk_adjustment_get_upper (adjustment) - gtk_adjustment_get_value (adjustment);
      g_clear_handle_id (&self->keep_idle, g_source_remove);
      /* Until the new rows have their size: after the next layouts. */
      self->keep_idle = g_timeout_add (500, on_keep_done, self);
    }
  /* The page is oldest first: prepend from its end to keep the order. */
  for (gsize i = n; i > 0; i--)
    {
      g_autoptr(GVariant) message = g_variant_get_child_value (messages, i - 1);

      if (first_page)
        continue;
      add_message (self, message, FALSE);
    }
  if (first_page)
    {
      for (gsize i = 0; i < n; i++)
        {
          g_autoptr(GVariant) message = g_variant_get_child_value (messages, i);

          add_message (self, message, TRUE);
        }
      scroll_to_bottom (self);
    }
}

static void
load_page (VoipConversationView *self)
{
  if (conversation (self) == NULL || self->loading || self->complete)
    return;
  self->loading = TRUE;
  voip_dbus_conversation_call_get_history (conversation (self), self->oldest_id, HISTORY_PAGE,
                                      self->cancellable, on_history_ready, g_object_ref (self));
}

static void
on_edge_reached (GtkScrolledWindow *scrolled, GtkPositionType position, gpointer user_data)
{
  if (position == GTK_POS_TOP)
    load_page (user_data);
}

static void
on_message (VoipClient *client, VoipDBusObject *object, const char *kind, GVariant *message,
            gpointer user_data)
{
  VoipConversationView *self = user_data;

  if (object != self->object)
    return;
  add_message (self, message, TRUE);
  if (g_strcmp0 (kind, "received") == 0)
    {
      scroll_to_bottom (self);
      voip_conversation_view_mark_read (self);
    }
}

static void
on_object_changed (VoipClient *client, VoipDBusObject *object, gpointer user_data)
{
  VoipConversationView *self = user_data;

  if (object != self->object)
    return;
  update_title (self);
  /* Unread rises after MessageReceived has arrived: read it again. */
  voip_conversation_view_mark_read (self);
}

static void
on_map (GtkWidget *widget, gpointer user_data)
{
  voip_conversation_view_mark_read (VOIP_CONVERSATION_VIEW (widget));
}

static void
on_sent (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(VoipConversationView) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!voip_dbus_conversation_call_send_message_finish (VOIP_DBUS_CONVERSATION (source), NULL, result, &error))
    toast_error (self, _("Cannot send"), error);
}

static void
on_send (GtkWidget *widget, gpointer user_data)
{
  VoipConversationView *self = user_data;
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->entry));
  g_autofree char *stripped = g_strstrip (g_strdup (text));

  if (conversation (self) == NULL || *stripped == '\0')
    return;
  voip_dbus_conversation_call_send_message (conversation (self), stripped, self->cancellable,
                                       on_sent, g_object_ref (self));
  gtk_editable_set_text (GTK_EDITABLE (self->entry), "");
}

static void
update_record_button (VoipConversationView *self)
{
  gboolean recording = voip_voice_recorder_is_recording (self->recorder);
  const char *label = recording ? _("Stop recording and send") : _("Record a voice message");

  gtk_button_set_icon_name (GTK_BUTTON (self->record), recording ? "media-playback-stop-symbolic"
                                                                 : "audio-input-microphone-symbolic");
  gtk_widget_set_tooltip_text (self->record, label);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->record), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  label, -1);
}

static void
on_voice_sent (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(VoipConversationView) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!voip_dbus_conversation_call_send_voice_message_finish (VOIP_DBUS_CONVERSATION (source), NULL,
                                                              result, &error))
    toast_error (self, _("Cannot send"), error);
}

static void
on_recording_finished (VoipVoiceRecorder *recorder, GBytes *ogg_opus, guint duration_ms,
                       gpointer user_data)
{
  VoipConversationView *self = user_data;
  g_autoptr(VoipDBusObject) target = g_steal_pointer (&self->recording_for);
  VoipDBusConversation *conversation = target != NULL ? voip_dbus_object_peek_conversation (target) : NULL;

  update_record_button (self);
  if (conversation == NULL)
    return;
  voip_dbus_conversation_call_send_voice_message (conversation,
                                                  g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING,
                                                                            ogg_opus, TRUE),
                                                  MAX (duration_ms, 1), NULL, on_voice_sent,
                                                  g_object_ref (self));
}

static void
on_recording_failed (VoipVoiceRecorder *recorder, GError *error, gpointer user_data)
{
  VoipConversationView *self = user_data;

  g_clear_object (&self->recording_for);
  update_record_button (self);
  toast (self, error->message);
}

static void
on_record_clicked (GtkButton *button, gpointer user_data)
{
  VoipConversationView *self = user_data;
  g_autoptr(GError) error = NULL;

  if (voip_voice_recorder_is_recording (self->recorder))
    {
      voip_voice_recorder_stop (self->recorder);
      return;
    }
  if (self->object == NULL)
    return;
  if (!voip_voice_recorder_start (self->recorder, &error))
    {
      toast (self, error->message);
      return;
    }
  g_set_object (&self->recording_for, self->object);
  update_record_button (self);
}

static void
on_call_ready (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(VoipConversationView) self = user_data;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  if (VOIP_DBUS_IS_CONTACT (source))
    ok = voip_dbus_contact_call_call_finish (VOIP_DBUS_CONTACT (source), NULL, result, &error);
  else
    ok = voip_dbus_group_call_call_finish (VOIP_DBUS_GROUP (source), NULL, result, &error);
  if (!ok)
    toast_error (self, _("Cannot call"), error);
}

static void
on_call_clicked (GtkButton *button, gpointer user_data)
{
  VoipConversationView *self = user_data;

  if (self->object == NULL)
    return;
  if (voip_dbus_object_peek_contact (self->object) != NULL)
    voip_dbus_contact_call_call (voip_dbus_object_peek_contact (self->object), self->cancellable,
                            on_call_ready, g_object_ref (self));
  else if (voip_dbus_object_peek_group (self->object) != NULL)
    voip_dbus_group_call_call (voip_dbus_object_peek_group (self->object), self->cancellable,
                          on_call_ready, g_object_ref (self));
}

static void
on_back_clicked (GtkButton *button, gpointer user_data)
{
  g_signal_emit (user_data, signals[SIGNAL_BACK], 0);
}

static void
on_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(VoipConversationView) self = user_data;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = g_dbus_proxy_call_finish (G_DBUS_PROXY (source), result, &error);
  if (reply == NULL)
    toast_error (self, _("Cannot change the message"), error);
}

static void
on_edit_response (AdwMessageDialog *dialog, const char *response, gpointer user_data)
{
  g_autoptr(VoipConversationView) self = user_data;
  GtkWidget *entry = adw_message_dialog_get_extra_child (dialog);
  guint64 id = GPOINTER_TO_SIZE (g_object_get_data (G_OBJECT (dialog), "message-id"));
  const char *text = gtk_editable_get_text (GTK_EDITABLE (entry));

  if (g_strcmp0 (response, "save") != 0 || conversation (self) == NULL || *text == '\0')
    return;
  voip_dbus_conversation_call_edit_message (conversation (self), id, text, self->cancellable,
                                       (GAsyncReadyCallback) on_done, g_object_ref (self));
}

static void
edit_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  VoipConversationView *self = VOIP_CONVERSATION_VIEW (widget);
  guint64 id = g_variant_get_uint64 (parameter);
  GtkWidget *row = g_hash_table_lookup (self->rows, &id);
  GtkWidget *entry = gtk_entry_new ();
  GtkWidget *dialog;

  if (row == NULL)
    return;
  dialog = adw_message_dialog_new (GTK_WINDOW (gtk_widget_get_root (widget)),
                                   _("Edit message"), NULL);
  gtk_editable_set_text (GTK_EDITABLE (entry), voip_message_row_get_text (VOIP_MESSAGE_ROW (row)));
  gtk_accessible_update_property (GTK_ACCESSIBLE (entry), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("New text"), -1);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), entry);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _("Cancel"),
                                    "save", _("Save"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "save",
                                              ADW_RESPONSE_SUGGESTED);
  g_object_set_data (G_OBJECT (dialog), "message-id", GSIZE_TO_POINTER ((gsize) id));
  g_signal_connect (dialog, "response", G_CALLBACK (on_edit_response), g_object_ref (self));
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
delete_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  VoipConversationView *self = VOIP_CONVERSATION_VIEW (widget);

  if (conversation (self) == NULL)
    return;
  voip_dbus_conversation_call_delete_message (conversation (self), g_variant_get_uint64 (parameter),
                                         self->cancellable, (GAsyncReadyCallback) on_done,
                                         g_object_ref (self));
}

static void
on_voice_ready (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(VoipConversationView) self = user_data;
  g_autoptr(GVariant) audio = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_build_filename (g_get_user_cache_dir (), "voip", NULL);
  g_autofree char *path = g_build_filename (dir, "voice-message.ogg", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  gconstpointer data;
  gsize size;

  if (!voip_dbus_conversation_call_get_voice_message_finish (VOIP_DBUS_CONVERSATION (source), &audio,
                                                        result, &error))
    {
      toast_error (self, _("Cannot play the voice message"), error);
      return;
    }
  data = g_variant_get_fixed_array (audio, &size, 1);
  if (g_mkdir_with_parents (dir, 0700) != 0 ||
      !g_file_set_contents (path, data, (gssize) size, &error))
    {
      toast (self, _("Cannot play the voice message"));
      return;
    }
  g_clear_object (&self->player);
  self->player = gtk_media_file_new_for_file (file);
  gtk_media_stream_play (self->player);
}

static void
play_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  VoipConversationView *self = VOIP_CONVERSATION_VIEW (widget);

  if (conversation (self) == NULL)
    return;
  voip_dbus_conversation_call_get_voice_message (conversation (self), g_variant_get_uint64 (parameter),
                                            self->cancellable, on_voice_ready, g_object_ref (self));
}

/* ---- GObject ------------------------------------------------------------ */

static void
voip_conversation_view_set_property (GObject *object, guint prop_id, const GValue *value,
                                     GParamSpec *pspec)
{
  VoipConversationView *self = VOIP_CONVERSATION_VIEW (object);

  switch (prop_id)
    {
    case PROP_SHOW_BACK:
      gtk_widget_set_visible (self->back, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
voip_conversation_view_get_property (GObject *object, guint prop_id, GValue *value,
                                     GParamSpec *pspec)
{
  VoipConversationView *self = VOIP_CONVERSATION_VIEW (object);

  switch (prop_id)
    {
    case PROP_SHOW_BACK:
      g_value_set_boolean (value, gtk_widget_get_visible (self->back));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
voip_conversation_view_dispose (GObject *object)
{
  VoipConversationView *self = VOIP_CONVERSATION_VIEW (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_handle_id (&self->keep_idle, g_source_remove);
  if (self->client != NULL)
    g_signal_handlers_disconnect_by_data (self->client, self);
  g_clear_object (&self->client);
  g_clear_object (&self->object);
  g_clear_object (&self->player);
  if (self->recorder != NULL)
    g_signal_handlers_disconnect_by_data (self->recorder, self);
  g_clear_object (&self->recorder);
  g_clear_object (&self->recording_for);
  g_clear_pointer (&self->rows, g_hash_table_unref);
  G_OBJECT_CLASS (voip_conversation_view_parent_class)->dispose (object);
}

static void
voip_conversation_view_class_init (VoipConversationViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->set_property = voip_conversation_view_set_property;
  object_class->get_property = voip_conversation_view_get_property;
  object_class->dispose = voip_conversation_view_dispose;

  properties[PROP_SHOW_BACK] =
    g_param_spec_boolean ("show-back", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
  signals[SIGNAL_BACK] =
    g_signal_new ("back", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_install_action (widget_class, "conversation.edit", "t", edit_action);
  gtk_widget_class_install_action (widget_class, "conversation.delete", "t", delete_action);
  gtk_widget_class_install_action (widget_class, "conversation.play", "t", play_action);
}

static void
voip_conversation_view_init (VoipConversationView *self)
{
  GtkWidget *header = adw_header_bar_new ();
  GtkWidget *call = gtk_button_new_from_icon_name ("call-start-symbolic");
  GtkWidget *profile = gtk_button_new_from_icon_name ("avatar-default-symbolic");
  GtkWidget *composer = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);

  gtk_orientable_set_orientation (GTK_ORIENTABLE (self), GTK_ORIENTATION_VERTICAL);
  g_signal_connect (self, "map", G_CALLBACK (on_map), NULL);
  self->cancellable = g_cancellable_new ();
  self->rows = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);

  self->back = gtk_button_new_from_icon_name ("go-previous-symbolic");
  gtk_widget_set_visible (self->back, FALSE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->back), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Back"), -1);
  g_signal_connect (self->back, "clicked", G_CALLBACK (on_back_clicked), self);
  self->title = adw_window_title_new ("", NULL);
  adw_header_bar_set_title_widget (ADW_HEADER_BAR (header), self->title);
  gtk_widget_set_tooltip_text (call, _("Call"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (call), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Call"), -1);
  g_signal_connect (call, "clicked", G_CALLBACK (on_call_clicked), self);
  gtk_widget_set_tooltip_text (profile, _("Profile"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (profile), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Profile"), -1);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (profile), "win.show-profile");
  adw_header_bar_pack_start (ADW_HEADER_BAR (header), self->back);
  adw_header_bar_pack_end (ADW_HEADER_BAR (header), profile);
  adw_header_bar_pack_end (ADW_HEADER_BAR (header), call);
  gtk_box_append (GTK_BOX (self), header);

  self->list_box = gtk_list_box_new ();
  gtk_list_box_set_selection_mode (GTK_LIST_BOX (self->list_box), GTK_SELECTION_NONE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->list_box), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Messages"), -1);
  self->scrolled = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (self->scrolled), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (self->scrolled), self->list_box);
  gtk_widget_set_vexpand (self->scrolled, TRUE);
  g_signal_connect (self->scrolled, "edge-reached", G_CALLBACK (on_edge_reached), self);
  g_signal_connect (gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (self->scrolled)),
                    "notify::upper", G_CALLBACK (on_upper_changed), self);
  gtk_box_append (GTK_BOX (self), self->scrolled);

  self->entry = gtk_entry_new ();
  gtk_entry_set_placeholder_text (GTK_ENTRY (self->entry), _("Write a message"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->entry), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Message"), -1);
  gtk_widget_set_hexpand (self->entry, TRUE);
  g_signal_connect (self->entry, "activate", G_CALLBACK (on_send), self);
  self->send = gtk_button_new_from_icon_name ("mail-send-symbolic");
  gtk_widget_add_css_class (self->send, "suggested-action");
  gtk_widget_set_tooltip_text (self->send, _("Send"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->send), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Send"), -1);
  g_signal_connect (self->send, "clicked", G_CALLBACK (on_send), self);
  gtk_widget_set_margin_start (composer, 6);
  gtk_widget_set_margin_end (composer, 6);
  gtk_widget_set_margin_top (composer, 6);
  gtk_widget_set_margin_bottom (composer, 6);
  self->recorder = voip_voice_recorder_new ();
  g_signal_connect (self->recorder, "finished", G_CALLBACK (on_recording_finished), self);
  g_signal_connect (self->recorder, "failed", G_CALLBACK (on_recording_failed), self);
  self->record = gtk_button_new ();
  g_signal_connect (self->record, "clicked", G_CALLBACK (on_record_clicked), self);
  update_record_button (self);
  gtk_box_append (GTK_BOX (composer), self->record);
  gtk_box_append (GTK_BOX (composer), self->entry);
  gtk_box_append (GTK_BOX (composer), self->send);
  gtk_box_append (GTK_BOX (self), composer);
}

GtkWidget *
voip_conversation_view_new (VoipClient *client)
{
  VoipConversationView *self = g_object_new (VOIP_TYPE_CONVERSATION_VIEW, NULL);

  self->client = g_object_ref (client);
  g_signal_connect (client, "message", G_CALLBACK (on_message), self);
  g_signal_connect (client, "object-changed", G_CALLBACK (on_object_changed), self);
  return GTK_WIDGET (self);
}

/* ---- public ------------------------------------------------------------- */

void
voip_conversation_view_set_object (VoipConversationView *self, VoipDBusObject *object)
{
  if (object == self->object)
    return;
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  clear_messages (self);
  g_set_object (&self->object, object);
  if (object == NULL)
    return;
  update_title (self);
  load_page (self);
  voip_conversation_view_mark_read (self);
  gtk_widget_grab_focus (self->entry);
}

VoipDBusObject *
voip_conversation_view_get_object (VoipConversationView *self)
{
  return self->object;
}

void
voip_conversation_view_mark_read (VoipConversationView *self)
{
  /* Shown is enough: a window in the background still shows it (and a
   * headless display has no window manager to say which one is active). */
  if (conversation (self) == NULL || !gtk_widget_get_mapped (GTK_WIDGET (self)))
    return;
  if (voip_dbus_conversation_get_unread (conversation (self)) > 0)
    voip_dbus_conversation_call_mark_read (conversation (self), NULL, NULL, NULL);
}
