/* voip-call-view.h — the content pane during a call. */
#pragma once

#include <gtk/gtk.h>
#include "voip-client.h"

G_BEGIN_DECLS

#define VOIP_TYPE_CALL_VIEW (voip_call_view_get_type ())
G_DECLARE_FINAL_TYPE (VoipCallView, voip_call_view, VOIP, CALL_VIEW, GtkBox)

GtkWidget *voip_call_view_new      (void);
/* The call shown (NULL: none). */
void       voip_call_view_set_call (VoipCallView *self, VoipDBusCall *call);
VoipDBusCall  *voip_call_view_get_call (VoipCallView *self);

G_END_DECLS
