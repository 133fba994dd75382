/* voipd-account-dbus.h — the Account interface's methods that are not the
 * session's own (see voipd-account-dbus.c). */
#pragma once

#include "voipd-account.h"

G_BEGIN_DECLS

/* Connects the handlers of those methods to the account's skeleton; they
 * live as long as the skeleton, which the account owns. */
void voipd_account_dbus_attach (VoipDBusAccount *skeleton, VoipdAccount *account);

G_END_DECLS
