/* voipd-conversation.h — what a contact and a group share: a conversation.
 *
 * A conversation is a peer (group 0) or a group (peer NULL). Messages go
 * out through the server when online, or into the durable outbox when not;
 * history comes from the server when online and from the cache when not. */
#pragma once

#include "voipd-account.h"

G_BEGIN_DECLS

typedef struct {
  const char *peer;    /* NULL for a group */
  gint64      group;   /* 0 for a peer */
} VoipdConversation;

/* The D-Bus form of a message: (txsssbbu). */
GVariant *voipd_message_to_dbus (const VoipdCachedMessage *message);
/* From the protocol's message tuple. */
VoipdCachedMessage *voipd_message_from_wire (GVariant *message);

void voipd_conversation_send_text  (VoipdAccount *account, VoipdConversation conversation,
                                    GDBusMethodInvocation *invocation, const char *text);
void voipd_conversation_send_voice (VoipdAccount *account, VoipdConversation conversation,
                                    GDBusMethodInvocation *invocation, GVariant *ogg,
                                    guint duration_ms);
void voipd_conversation_history    (VoipdAccount *account, VoipdConversation conversation,
                                    GDBusMethodInvocation *invocation, guint64 before_id,
                                    guint limit);
void voipd_conversation_get_voice  (VoipdAccount *account, GDBusMethodInvocation *invocation,
                                    guint64 id);
void voipd_conversation_edit       (VoipdAccount *account, GDBusMethodInvocation *invocation,
                                    guint64 id, const char *text);
void voipd_conversation_delete     (VoipdAccount *account, GDBusMethodInvocation *invocation,
                                    guint64 id);

/* Sends what waits in the outbox, in order, once; calls done when empty or
 * when the connection fails (the rest stays queued). */
void voipd_outbox_flush (VoipdAccount *account, GCallback done, gpointer user_data);

G_END_DECLS
