/* voip-client.h — the app's one connection to voipd (org.voipd.Voip1).
 *
 * Wraps the object manager client that gdbus-codegen makes from
 * data/org.voipd.Voip1.xml: it follows voipd coming and going on the session
 * bus, and turns the objects' signals into a few app-level ones, so that the
 * widgets never talk to GDBus themselves. */
#pragma once

#include <gio/gio.h>
#include "voip-dbus.h"

G_BEGIN_DECLS

#define VOIP_TYPE_CLIENT (voip_client_get_type ())
G_DECLARE_FINAL_TYPE (VoipClient, voip_client, VOIP, CLIENT, GObject)

VoipClient   *voip_client_new               (void);

/* TRUE while voipd owns its name and the objects are known. */
gboolean      voip_client_get_daemon_running (VoipClient *self);
/* voipd's account object, or NULL while voipd is not running. */
VoipDBusAccount  *voip_client_get_account       (VoipClient *self);
/* Every contact and group object (VoipDBusObject), in no order (free the list
 * with g_list_free_full (list, g_object_unref)). */
GList        *voip_client_get_conversations (VoipClient *self);
/* The contact object of `username`, or NULL. */
VoipDBusObject   *voip_client_find_contact      (VoipClient *self, const char *username);
/* The object at `path`, or NULL. */
VoipDBusObject   *voip_client_lookup            (VoipClient *self, const char *path);

/* The name people see for a conversation object: the contact's display name
 * or username, the group's name. */
char         *voip_object_dup_title         (VoipDBusObject *object);

G_END_DECLS
