/* voipd-conversation.h — org.voipd.Voip1.Conversation: what a contact and a
 * group share.
 *
 * A conversation is a peer (group 0) or a group (peer NULL). Both kinds of
 * object carry the same Conversation interface, made and answered here, so
 * that sending, history, edits, unread counts and the Message* signals have
 * one implementation. Messages go out through the server when online, or
 * into the durable outbox when not; history comes from the server when
 * online and from the cache when not. */
#pragma once

#include <gio/gio.h>

#include "voip-dbus.h"
#include "voipd-cache.h"
#include "voipd-session.h"

G_BEGIN_DECLS

/* What the conversations need, given to them rather than asked of the
 * account: the session (who we are, its connection), the cache, and the
 * object manager where the contacts and groups are. */
#define VOIPD_TYPE_CONVERSATIONS (voipd_conversations_get_type ())
G_DECLARE_FINAL_TYPE (VoipdConversations, voipd_conversations, VOIPD, CONVERSATIONS, GObject)

VoipdConversations *voipd_conversations_new (VoipdSession *session, VoipdCache *cache,
                                             GDBusObjectManagerServer *manager);

/* The D-Bus form of a message, (txssssbbu); `me` (the account's username)
 * decides its direction. */
GVariant *voipd_message_to_dbus (const VoipdCachedMessage *message, const char *me);
/* From the protocol's message tuple. */
VoipdCachedMessage *voipd_message_from_wire (GVariant *message);

/* A new Conversation interface for the object of a peer (group 0) or of a
 * group (peer NULL), its handlers connected; the caller adds it to the
 * object before exporting it. convs is not owned (it outlives its objects). */
VoipDBusConversation *voipd_conversation_new (VoipdConversations *convs, const char *peer,
                                              gint64 group, guint unread);
/* The exported conversation of a peer or a group, or NULL. */
VoipDBusConversation *voipd_conversation_lookup (VoipdConversations *convs, const char *peer,
                                                 gint64 group);

/* MessageReceived, MessageEdited or MessageDeleted from the server (a live
 * event or a page of the resync): into the cache, the unread count and,
 * once per message, the conversation's signal. */
void voipd_conversation_handle_event (VoipdConversations *convs, guint code, GVariant *payload);

/* Sends what waits in the outbox, in order, once; calls done when empty or
 * when the connection fails (the rest stays queued). */
void voipd_outbox_flush (VoipdConversations *convs, GCallback done, gpointer user_data);

G_END_DECLS
