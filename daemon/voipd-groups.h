/* voipd-groups.h — one D-Bus object per group, /org/voipd/Voip1/group/<id>. */
#pragma once

#include "voipd-account.h"

G_BEGIN_DECLS

char      *voipd_group_path     (gint64 id);
VoipDBusGroup *voipd_groups_lookup  (VoipdAccount *account, gint64 id);
/* Creates or updates the object, and the cache. */
VoipDBusGroup *voipd_groups_put     (VoipdAccount *account, gint64 id, const char *name,
                                 const char *owner, const char *const *members);
/* From the protocol's (tssas). */
VoipDBusGroup *voipd_groups_put_wire (VoipdAccount *account, GVariant *group);
void       voipd_groups_remove  (VoipdAccount *account, gint64 id);
void       voipd_groups_load_cache (VoipdAccount *account);

G_END_DECLS
