/* voipd-account.h — the account: the server session shown on the bus, and the objects there.
 *
 * VoipdAccount owns the session with the server (a VoipdSession,
 * voipd-session.h: connect, login, resume, reconnection, the keyring
 * token), runs the resync of voipd-resync.c after each login, and owns the
 * local cache and the D-Bus objects: the Account interface at
 * /org/voipd/Voip1 (the session's methods here, the others in
 * voipd-account-dbus.c), the object manager there, and one object per
 * contact, per group and per call below it (voipd-contacts.c,
 * voipd-groups.c, voipd-calls.c); their conversations get what they need
 * from a VoipdConversations (voipd-conversation.h). */
#pragma once

#include <gio/gio.h>

#include "voip-dbus.h"
#include "voip-proto.h"
#include "voipd-cache.h"
#include "voipd-connection.h"
#include "voipd-state-reason.h"

G_BEGIN_DECLS

#define VOIPD_OBJECT_ROOT "/org/voipd/Voip1"

#define VOIPD_TYPE_ACCOUNT (voipd_account_get_type ())
G_DECLARE_FINAL_TYPE (VoipdAccount, voipd_account, VOIPD, ACCOUNT, GObject)

VoipdAccount *voipd_account_new (GDBusConnection *bus, VoipdCache *cache, GSettings *settings,
                                 GError **error);
/* Resumes the stored session, if there is one. */
void          voipd_account_start (VoipdAccount *self);

/* The session's state (its "state" property, voipd-session.h). */
VoipdSessionState         voipd_account_get_state    (VoipdAccount *self);
/* For the contact, group and conversation handlers. */
VoipdCache               *voipd_account_get_cache    (VoipdAccount *self);
VoipdConnection          *voipd_account_get_connection (VoipdAccount *self);
GDBusObjectManagerServer *voipd_account_get_manager  (VoipdAccount *self);
const char               *voipd_account_get_username (VoipdAccount *self);
GSettings                *voipd_account_get_settings (VoipdAccount *self);
/* What the conversations of contacts and groups need (voipd-conversation.h). */
typedef struct _VoipdConversations VoipdConversations;
VoipdConversations       *voipd_account_get_conversations (VoipdAccount *self);
/* The registry of calls (voipd-calls.h). */
typedef struct _VoipdCalls VoipdCalls;
VoipdCalls               *voipd_account_get_calls    (VoipdAccount *self);
/* TRUE when logged in on a live connection. Otherwise sets VOIPD_ERROR
 * Disconnected (or NotLoggedIn) and returns FALSE. */
gboolean                  voipd_account_check_online (VoipdAccount *self, GError **error);
/* A D-Bus call answered by one request to the server: checks that we are
 * online, sends the request, and on success calls `then` (may be NULL),
 * whose return value (floating, or NULL for none) answers the call. */
typedef GVariant *(*VoipdReplyFunc) (VoipdAccount *self, GVariant *reply, gpointer data);
void                      voipd_account_call (VoipdAccount *self, GDBusMethodInvocation *invocation,
                                              guint16 code, GVariant *payload,
                                              VoipdReplyFunc then, gpointer data,
                                              GDestroyNotify free_data);
/* Reads a friend's profile (name, MOTD, presence) into its contact object. */
void                      voipd_account_refresh_contact (VoipdAccount *self, const char *username);
/* Reads a group from the server and updates its object (after our own change). */
void                      voipd_account_refresh_group (VoipdAccount *self, gint64 id);
/* Returns the error to the caller; transport errors become Disconnected. */
void                      voipd_account_return_error (GDBusMethodInvocation *invocation,
                                                      GError *error);

G_END_DECLS
