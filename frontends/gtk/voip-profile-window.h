/* voip-profile-window.h — a contact's, a group's or your own profile. */
#pragma once

#include <gtk/gtk.h>
#include "voip-client.h"

G_BEGIN_DECLS

/* object: a contact or group object; NULL: your own profile, editable. */
void voip_profile_window_present (GtkWindow *parent, VoipClient *client, VoipDBusObject *object);

G_END_DECLS
