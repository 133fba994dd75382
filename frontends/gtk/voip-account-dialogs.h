/* voip-account-dialogs.h — changing the password and deleting the account. */
#pragma once

#include <gtk/gtk.h>
#include "voip-client.h"

G_BEGIN_DECLS

/* Asks for the current and the new password (Account.ChangePassword). */
void voip_account_change_password (GtkWindow *parent, VoipClient *client);
/* Asks for the password and a confirmation (Account.DeleteAccount). */
void voip_account_delete          (GtkWindow *parent, VoipClient *client);

G_END_DECLS
