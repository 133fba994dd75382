/* voip-people-dialogs.h — asking for a new contact or a new group. */
#pragma once

#include <gtk/gtk.h>
#include "voip-client.h"

G_BEGIN_DECLS

/* Asks for a username and sends them a contact request. */
void voip_people_add_contact (GtkWindow *parent, VoipClient *client);
/* Asks for a name and members (comma-separated usernames) and creates the group. */
void voip_people_new_group   (GtkWindow *parent, VoipClient *client);

G_END_DECLS
