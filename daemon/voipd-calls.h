/* voipd-calls.h — the calls of the account: which VoipdCall has which id,
 * the routing of the server's call events, and starting a call. */
#pragma once

#include "voipd-account.h"

G_BEGIN_DECLS

#define VOIPD_TYPE_CALLS (voipd_calls_get_type ())
G_DECLARE_FINAL_TYPE (VoipdCalls, voipd_calls, VOIPD, CALLS, GObject)

/* account is not owned: it owns the registry. */
VoipdCalls *voipd_calls_new   (VoipdAccount *account);

/* CallChanged, CallSignalReceived or CallDataReceived from the server. */
void        voipd_calls_handle_event (VoipdCalls *self, guint code, GVariant *payload);
/* Contact.Call (callee, group 0) and Group.Call (callee "", group id):
 * answers the invocation with the call's object path. */
void        voipd_calls_invite (VoipdCalls *self, GDBusMethodInvocation *invocation,
                                const char *callee, guint64 group);
/* Ends every call that still runs, without the server (our session went away). */
void        voipd_calls_end_all (VoipdCalls *self, VoipCallReason reason);

G_END_DECLS
