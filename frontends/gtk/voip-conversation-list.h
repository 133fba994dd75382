/* voip-conversation-list.h — the sidebar: every contact and group, searchable. */
#pragma once

#include <gtk/gtk.h>
#include "voip-client.h"

G_BEGIN_DECLS

#define VOIP_TYPE_CONVERSATION_LIST (voip_conversation_list_get_type ())
G_DECLARE_FINAL_TYPE (VoipConversationList, voip_conversation_list, VOIP, CONVERSATION_LIST,
                      GtkBox)

GtkWidget *voip_conversation_list_new    (VoipClient *client);
/* Highlights the row of `object` (NULL: none) without emitting "selected". */
void       voip_conversation_list_select (VoipConversationList *self, VoipDBusObject *object);

G_END_DECLS
