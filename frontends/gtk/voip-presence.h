/* voip-presence.h — voipd's presence and subscription words, for people. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* "online" → "Online", in the user's language; unknown words as they are. */
const char *voip_presence_to_label (const char *presence);
/* The CSS class of the presence dot: "presence-online", "presence-away"... */
const char *voip_presence_to_css   (const char *presence);
/* 0 for online, then away, busy, dnd, then offline and unknown: the
 * sidebar's order. */
int         voip_presence_rank     (const char *presence);

G_END_DECLS
