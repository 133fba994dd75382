/* voip-conversation-view.h — the content pane for one contact or group. */
#pragma once

#include <gtk/gtk.h>
#include "voip-client.h"

G_BEGIN_DECLS

#define VOIP_TYPE_CONVERSATION_VIEW (voip_conversation_view_get_type ())
G_DECLARE_FINAL_TYPE (VoipConversationView, voip_conversation_view, VOIP, CONVERSATION_VIEW,
                      GtkBox)

GtkWidget  *voip_conversation_view_new        (VoipClient *client);
/* Shows `object`'s conversation (NULL: none), loading its newest page. */
void        voip_conversation_view_set_object (VoipConversationView *self, VoipDBusObject *object);
VoipDBusObject *voip_conversation_view_get_object (VoipConversationView *self);
/* Marks the conversation read if it is on screen. */
void        voip_conversation_view_mark_read  (VoipConversationView *self);

G_END_DECLS
