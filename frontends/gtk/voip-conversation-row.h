/* voip-conversation-row.h — one contact or group in the sidebar. */
#pragma once

#include <gtk/gtk.h>
#include "voip-client.h"

G_BEGIN_DECLS

#define VOIP_TYPE_CONVERSATION_ROW (voip_conversation_row_get_type ())
G_DECLARE_FINAL_TYPE (VoipConversationRow, voip_conversation_row, VOIP, CONVERSATION_ROW,
                      GtkListBoxRow)

GtkWidget  *voip_conversation_row_new          (VoipDBusObject *object);
VoipDBusObject *voip_conversation_row_get_object   (VoipConversationRow *self);
/* Re-reads the object's properties (presence, name, unread). */
void        voip_conversation_row_update       (VoipConversationRow *self);
/* The last message (txssssbbu) of the conversation, shown under the name. */
void        voip_conversation_row_set_last     (VoipConversationRow *self, GVariant *message);
gint64      voip_conversation_row_get_last_time (VoipConversationRow *self);
/* Its title, for the search filter. */
const char *voip_conversation_row_get_title    (VoipConversationRow *self);

G_END_DECLS
