/* voip-window.h — the main window. */
#pragma once

#include <adwaita.h>
#include "voip-client.h"

G_BEGIN_DECLS

#define VOIP_TYPE_WINDOW (voip_window_get_type ())
G_DECLARE_FINAL_TYPE (VoipWindow, voip_window, VOIP, WINDOW, AdwApplicationWindow)

VoipWindow *voip_window_new               (AdwApplication *application, VoipClient *client);
/* Shows the conversation at `path` (a contact or group object); FALSE if
 * there is none. */
gboolean    voip_window_open_conversation (VoipWindow *self, const char *path);
/* The same for a contact by username. */
gboolean    voip_window_open_contact      (VoipWindow *self, const char *username);
/* Shows the call view for `call`. */
void        voip_window_show_call         (VoipWindow *self, VoipDBusCall *call);
/* The conversation on screen, or NULL. */
VoipDBusObject *voip_window_get_shown_conversation (VoipWindow *self);

G_END_DECLS
