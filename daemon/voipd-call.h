/* voipd-call.h — one call: its D-Bus object /org/voipd/Voip1/call/<id> and
 * its media.
 *
 * The server's CallChanged events drive the state (voipd_call_update); the
 * media engine (voipd-media.so, opened at the first call) runs from the
 * moment this session takes part in a call with someone else until the end.
 * An ended call keeps its object for VOIPD_CALL_LINGER_S, then unexports it
 * and emits "finished" (the registry, voipd-calls.c, then drops it). */
#pragma once

#include "voipd-account.h"

G_BEGIN_DECLS

/* How long an ended call stays on the bus (the API documents 60 s). */
#define VOIPD_CALL_LINGER_S 60

#define VOIPD_TYPE_CALL (voipd_call_get_type ())
G_DECLARE_FINAL_TYPE (VoipdCall, voipd_call, VOIPD, CALL, GObject)

char      *voipd_call_path (guint64 id);

/* Creates the object, in state ringing, and exports it. callee: whom we
 * called in a 1:1 call we started (NULL otherwise), listed as invited until
 * the server says more. The account must outlive the call. */
VoipdCall *voipd_call_new (VoipdAccount *account, guint64 id, const char *initiator,
                           guint64 group, const char *callee);
const char *voipd_call_get_object_path (VoipdCall *self);
gboolean   voipd_call_is_ended (VoipdCall *self);

/* A CallChanged payload (VOIP_T_CALL) for this call. */
void       voipd_call_update    (VoipdCall *self, GVariant *call);
/* CallSignalReceived and CallDataReceived for this call. */
void       voipd_call_signal_in (VoipdCall *self, const char *peer, guint kind,
                                 const char *data);
void       voipd_call_relay_in  (VoipdCall *self, const char *peer, GBytes *packet);
/* Ends the call here without the server (our session is gone). */
void       voipd_call_end       (VoipdCall *self, VoipCallReason reason);

G_END_DECLS
