/* voip-call-view.c — one call: who is in it and how far each is (invited,
 * joined, left), the state, a timer from the answer on, and the buttons:
 * Answer and Decline while an incoming call rings, Mute and Hang up after.
 * Video tiles wait for Call.VideoStreams in the D-Bus API. */
#define G_LOG_DOMAIN "voip"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "voip-call-view.h"

struct _VoipCallView
{
  GtkBox      parent_instance;
  VoipDBusCall   *call;
  guint       timer;
  GtkWidget  *status;        /* AdwStatusPage: who, and the state */
  GtkWidget  *participants;  /* GtkListBox */
  GtkWidget  *timer_label;
  GtkWidget  *answer;
  GtkWidget  *decline;
  GtkWidget  *mute;
  GtkWidget  *hangup;
  GtkWidget  *stats_button;  /* toggles the live statistics */
  GtkWidget  *stats_label;
};

G_DEFINE_FINAL_TYPE (VoipCallView, voip_call_view, GTK_TYPE_BOX)

/* ---- helpers ------------------------------------------------------------ */

static const char *
state_label (const char *state, const char *direction)
{
  if (g_strcmp0 (state, "ringing") == 0)
    return g_strcmp0 (direction, "incoming") == 0 ? _("Incoming call") : _("Ringing…");
  if (g_strcmp0 (state, "connecting") == 0)
    return _("Connecting…");
  if (g_strcmp0 (state, "active") == 0)
    return _("In call");
  if (g_strcmp0 (state, "ended") == 0)
    return _("Call ended");
  return state;
}

static const char *
participant_label (const char *status)
{
  if (g_strcmp0 (status, "invited") == 0)
    return _("invited");
  if (g_strcmp0 (status, "joined") == 0)
    return _("in the call");
  if (g_strcmp0 (status, "left") == 0)
    return _("left");
  return status;
}

static void
update_timer (VoipCallView *self)
{
  gint64 start = self->call != NULL ? voip_dbus_call_get_start_time (self->call) : 0;
  gint64 seconds;
  g_autofree char *text = NULL;

  if (start <= 0)
    {
      gtk_label_set_text (GTK_LABEL (self->timer_label), "");
      return;
    }
  seconds = MAX (0, (g_get_real_time () / 1000 - start) / 1000);
  text = g_strdup_printf ("%02d:%02d", (int) (seconds / 60), (int) (seconds % 60));
  gtk_label_set_text (GTK_LABEL (self->timer_label), text);
}

static gboolean
on_timer_tick (gpointer user_data)
{
  update_timer (user_data);
  return G_SOURCE_CONTINUE;
}

/* Call.Stats as a line per peer: "bob: host, 12 ms, 0.0% lost, 40/38 kb/s". */
static void
update_stats (VoipCallView *self)
{
  GVariant *stats = self->call != NULL ? voip_dbus_call_get_stats (self->call) : NULL;
  g_autoptr(GString) text = g_string_new (NULL);
  gboolean shown = gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (self->stats_button));
  GVariantIter iter;
  const char *peer;
  GVariant *figures;

  gtk_widget_set_visible (self->stats_label, shown);
  if (!shown)
    return;
  if (stats != NULL)
    {
      g_variant_iter_init (&iter, stats);
      while (g_variant_iter_next (&iter, "{&s@a{sv}}", &peer, &figures))
        {
          const char *path = "";
          double rtt = 0, loss = 0, send = 0, receive = 0;

          g_variant_lookup (figures, "path", "&s", &path);
          g_variant_lookup (figures, "rtt_ms", "d", &rtt);
          g_variant_lookup (figures, "loss_percent", "d", &loss);
          g_variant_lookup (figures, "send_kbps", "d", &send);
          g_variant_lookup (figures, "receive_kbps", "d", &receive);
          if (text->len > 0)
            g_string_append_c (text, '\n');
          /* One peer's live call statistics: name, network path, round trip,
           * loss, send and receive rates */
          g_string_append_printf (text, _("%s: %s, %.0f ms, %.1f%% lost, %.0f/%.0f kb/s"),
                                  peer, *path != '\0' ? path : _("connecting"), rtt, loss, send,
                                  receive);
          g_variant_unref (figures);
        }
    }
  gtk_label_set_text (GTK_LABEL (self->stats_label),
                      text->len > 0 ? text->str : _("No statistics yet"));
}

static void
on_stats_toggled (GtkToggleButton *button, gpointer user_data)
{
  update_stats (user_data);
}

static void
update (VoipCallView *self)
{
  const char *state, *direction;
  GVariant *participants;
  GtkWidget *child;
  gboolean ringing_in, ended;
  g_autoptr(GString) who = g_string_new (NULL);

  if (self->call == NULL)
    return;
  state = voip_dbus_call_get_state (self->call);
  direction = voip_dbus_call_get_direction (self->call);
  ringing_in = g_strcmp0 (state, "ringing") == 0 && g_strcmp0 (direction, "incoming") == 0;
  ended = g_strcmp0 (state, "ended") == 0;

  while ((child = gtk_widget_get_first_child (self->participants)) != NULL)
    gtk_list_box_remove (GTK_LIST_BOX (self->participants), child);
  participants = voip_dbus_call_get_participants (self->call);
  if (participants != NULL)
    {
      GVariantIter iter;
      const char *name, *status;

      g_variant_iter_init (&iter, participants);
      while (g_variant_iter_next (&iter, "(&s&s)", &name, &status))
        {
          GtkWidget *row = adw_action_row_new ();
          GtkWidget *avatar = adw_avatar_new (32, name, TRUE);

          adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), name);
          adw_action_row_set_subtitle (ADW_ACTION_ROW (row), participant_label (status));
          adw_action_row_add_prefix (ADW_ACTION_ROW (row), avatar);
          gtk_list_box_append (GTK_LIST_BOX (self->participants), row);
          if (who->len > 0)
            g_string_append (who, ", ");
          g_string_append (who, name);
        }
    }
  if (who->len == 0)
    g_string_append (who, voip_dbus_call_get_initiator (self->call));
  adw_status_page_set_title (ADW_STATUS_PAGE (self->status), who->str);
  adw_status_page_set_description (ADW_STATUS_PAGE (self->status), state_label (state, direction));

  gtk_widget_set_visible (self->answer, ringing_in);
  gtk_widget_set_visible (self->decline, ringing_in);
  gtk_widget_set_visible (self->mute, !ringing_in && !ended);
  gtk_widget_set_visible (self->hangup, !ringing_in && !ended);
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->mute), voip_dbus_call_get_muted (self->call));
  update_timer (self);
  update_stats (self);
  if (ended)
    g_clear_handle_id (&self->timer, g_source_remove);
  else if (self->timer == 0)
    self->timer = g_timeout_add_seconds (1, on_timer_tick, self);
}

/* ---- callbacks ---------------------------------------------------------- */

static void
on_call_properties_changed (GDBusProxy *proxy, GVariant *changed, GStrv invalidated,
                            gpointer user_data)
{
  update (user_data);
}

static void
on_call_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = g_dbus_proxy_call_finish (G_DBUS_PROXY (source), result, &error);
  if (reply == NULL)
    g_message ("Call request refused: %s", error->message);
}

static void
on_answer_clicked (GtkButton *button, gpointer user_data)
{
  VoipCallView *self = user_data;

  if (self->call != NULL)
    voip_dbus_call_call_answer (self->call, NULL, on_call_done, NULL);
}

static void
on_decline_clicked (GtkButton *button, gpointer user_data)
{
  VoipCallView *self = user_data;

  if (self->call != NULL)
    voip_dbus_call_call_reject (self->call, NULL, on_call_done, NULL);
}

static void
on_hangup_clicked (GtkButton *button, gpointer user_data)
{
  VoipCallView *self = user_data;

  if (self->call != NULL)
    voip_dbus_call_call_hangup (self->call, NULL, on_call_done, NULL);
}

static void
on_mute_toggled (GtkToggleButton *button, gpointer user_data)
{
  VoipCallView *self = user_data;
  gboolean active = gtk_toggle_button_get_active (button);

  if (self->call != NULL && voip_dbus_call_get_muted (self->call) != active)
    voip_dbus_call_set_muted (self->call, active);
}

/* ---- GObject ------------------------------------------------------------ */

static void
voip_call_view_dispose (GObject *object)
{
  VoipCallView *self = VOIP_CALL_VIEW (object);

  voip_call_view_set_call (self, NULL);
  G_OBJECT_CLASS (voip_call_view_parent_class)->dispose (object);
}

static void
voip_call_view_class_init (VoipCallViewClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = voip_call_view_dispose;
}

static GtkWidget *
round_button (const char *icon, const char *label, const char *css)
{
  GtkWidget *button = gtk_button_new_from_icon_name (icon);

  gtk_widget_add_css_class (button, "circular");
  gtk_widget_add_css_class (button, css);
  gtk_widget_set_tooltip_text (button, label);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
  return button;
}

static void
voip_call_view_init (VoipCallView *self)
{
  GtkWidget *header = adw_header_bar_new ();
  GtkWidget *buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 24);
  GtkWidget *clamp = adw_clamp_new ();

  gtk_orientable_set_orientation (GTK_ORIENTABLE (self), GTK_ORIENTATION_VERTICAL);
  adw_header_bar_set_title_widget (ADW_HEADER_BAR (header), adw_window_title_new (_("Call"), NULL));
  self->stats_button = gtk_toggle_button_new ();
  gtk_button_set_icon_name (GTK_BUTTON (self->stats_button), "network-transmit-receive-symbolic");
  gtk_widget_set_tooltip_text (self->stats_button, _("Call statistics"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->stats_button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Call statistics"), -1);
  g_signal_connect (self->stats_button, "toggled", G_CALLBACK (on_stats_toggled), self);
  adw_header_bar_pack_end (ADW_HEADER_BAR (header), self->stats_button);
  gtk_box_append (GTK_BOX (self), header);

  self->status = adw_status_page_new ();
  adw_status_page_set_icon_name (ADW_STATUS_PAGE (self->status), "call-start-symbolic");
  gtk_widget_set_vexpand (self->status, TRUE);
  gtk_box_append (GTK_BOX (self), self->status);

  self->timer_label = gtk_label_new (NULL);
  gtk_widget_add_css_class (self->timer_label, "title-2");
  gtk_widget_add_css_class (self->timer_label, "numeric");
  gtk_box_append (GTK_BOX (self), self->timer_label);

  self->participants = gtk_list_box_new ();
  gtk_widget_add_css_class (self->participants, "boxed-list");
  gtk_list_box_set_selection_mode (GTK_LIST_BOX (self->participants), GTK_SELECTION_NONE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->participants), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Participants"), -1);
  adw_clamp_set_child (ADW_CLAMP (clamp), self->participants);
  gtk_widget_set_margin_start (clamp, 12);
  gtk_widget_set_margin_end (clamp, 12);
  gtk_box_append (GTK_BOX (self), clamp);

  self->stats_label = gtk_label_new (NULL);
  gtk_widget_add_css_class (self->stats_label, "caption");
  gtk_widget_add_css_class (self->stats_label, "numeric");
  gtk_widget_set_visible (self->stats_label, FALSE);
  gtk_box_append (GTK_BOX (self), self->stats_label);

  self->answer = round_button ("call-start-symbolic", _("Answer"), "success");
  self->decline = round_button ("call-stop-symbolic", _("Decline"), "destructive-action");
  self->hangup = round_button ("call-stop-symbolic", _("Hang up"), "destructive-action");
  self->mute = gtk_toggle_button_new ();
  gtk_button_set_icon_name (GTK_BUTTON (self->mute), "microphone-disabled-symbolic");
  gtk_widget_add_css_class (self->mute, "circular");
  gtk_widget_set_tooltip_text (self->mute, _("Mute"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->mute), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Mute"), -1);
  g_signal_connect (self->answer, "clicked", G_CALLBACK (on_answer_clicked), self);
  g_signal_connect (self->decline, "clicked", G_CALLBACK (on_decline_clicked), self);
  g_signal_connect (self->hangup, "clicked", G_CALLBACK (on_hangup_clicked), self);
  g_signal_connect (self->mute, "toggled", G_CALLBACK (on_mute_toggled), self);
  gtk_widget_set_halign (buttons, GTK_ALIGN_CENTER);
  gtk_widget_set_margin_top (buttons, 24);
  gtk_widget_set_margin_bottom (buttons, 24);
  /* Until a call is shown, no button (nor, for screen readers, their names). */
  gtk_widget_set_visible (self->answer, FALSE);
  gtk_widget_set_visible (self->decline, FALSE);
  gtk_widget_set_visible (self->mute, FALSE);
  gtk_widget_set_visible (self->hangup, FALSE);
  gtk_box_append (GTK_BOX (buttons), self->decline);
  gtk_box_append (GTK_BOX (buttons), self->answer);
  gtk_box_append (GTK_BOX (buttons), self->mute);
  gtk_box_append (GTK_BOX (buttons), self->hangup);
  gtk_box_append (GTK_BOX (self), buttons);
}

GtkWidget *
voip_call_view_new (void)
{
  return g_object_new (VOIP_TYPE_CALL_VIEW, NULL);
}

/* ---- public ------------------------------------------------------------- */

void
voip_call_view_set_call (VoipCallView *self, VoipDBusCall *call)
{
  if (self->call == call)
    return;
  g_clear_handle_id (&self->timer, g_source_remove);
  if (self->call != NULL)
    g_signal_handlers_disconnect_by_data (self->call, self);
  g_set_object (&self->call, call);
  if (call == NULL)
    return;
  g_signal_connect (call, "g-properties-changed", G_CALLBACK (on_call_properties_changed), self);
  update (self);
}

VoipDBusCall *
voip_call_view_get_call (VoipCallView *self)
{
  return self->call;
}
