/* voip-login-page.h — log in or register. */
#pragma once

#include <gtk/gtk.h>
#include "voip-client.h"

G_BEGIN_DECLS

#define VOIP_TYPE_LOGIN_PAGE (voip_login_page_get_type ())
G_DECLARE_FINAL_TYPE (VoipLoginPage, voip_login_page, VOIP, LOGIN_PAGE, GtkBox)

GtkWidget *voip_login_page_new        (VoipClient *client);
/* Fills the fields from the account (the last server and username) and
 * shows why the user is logged out. */
void       voip_login_page_update     (VoipLoginPage *self);

G_END_DECLS
