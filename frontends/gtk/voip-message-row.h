/* voip-message-row.h — one message in a conversation view. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define VOIP_TYPE_MESSAGE_ROW (voip_message_row_get_type ())
G_DECLARE_FINAL_TYPE (VoipMessageRow, voip_message_row, VOIP, MESSAGE_ROW, GtkListBoxRow)

/* message: the API's (txssssbbu). */
GtkWidget *voip_message_row_new     (GVariant *message);
void       voip_message_row_set     (VoipMessageRow *self, GVariant *message);
guint64    voip_message_row_get_id  (VoipMessageRow *self);
const char *voip_message_row_get_text (VoipMessageRow *self);

G_END_DECLS
