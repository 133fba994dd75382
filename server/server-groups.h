/* server-groups.h — group logic shared with account deletion. */
#pragma once

#include "server.h"

G_BEGIN_DECLS

/* On the store thread: takes user out of the group. The owner's leaving
 * passes ownership to the member who joined first; the last member leaving
 * deletes the group (*deleted). `after` receives the group's new state
 * unless it was deleted. */
gboolean server_groups_leave (Store *store, gint64 group_id, gint64 user_id,
                              StoreGroup *after, gboolean *deleted, GError **error);

/* On the main loop: GroupChanged to every member of the group. */
void     server_groups_broadcast_changed (Server *server, const StoreGroup *group,
                                          ServerSession *except);

GVariant *server_group_to_variant (const StoreGroup *group);
/* Frees a heap-allocated StoreGroup. */
void      server_group_free (StoreGroup *group);

G_END_DECLS
