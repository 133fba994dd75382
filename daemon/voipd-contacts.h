/* voipd-contacts.h — one D-Bus object per contact, /org/voipd/Voip1/contact/<name>,
 * with the Contact and Conversation interfaces. */
#pragma once

#include "voipd-account.h"

G_BEGIN_DECLS

/* The object path of a contact (the username escaped for D-Bus). */
char        *voipd_contact_path (const char *username);
/* The contact's interface, or NULL. */
VoipDBusContact *voipd_contacts_lookup (VoipdAccount *account, const char *username);
/* Creates or updates the object, and the cache. */
VoipDBusContact *voipd_contacts_put    (VoipdAccount *account, const char *username,
                                    const char *display_name, const char *motd,
                                    guint subscription);
void         voipd_contacts_remove (VoipdAccount *account, const char *username);
void         voipd_contacts_set_presence (VoipdAccount *account, const char *username,
                                          guint presence);
/* Not connected: friends' presence becomes unknown until the resync. */
void         voipd_contacts_forget_presence (VoipdAccount *account);
/* A friend's profile from the server (GetProfile's reply): every property. */
void         voipd_contacts_set_profile (VoipdAccount *account, GVariant *profile);
/* Every contact as (username, display_name, presence, subscription, motd,
 * unread, muted), sorted by username: Account.ListContacts' reply. */
GVariant    *voipd_contacts_list (GDBusObjectManagerServer *manager);
/* Objects for every contact the cache knows (at start, before any server). */
void         voipd_contacts_load_cache (VoipdAccount *account);

G_END_DECLS
