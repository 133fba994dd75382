/* voipd-event-check.h — the field rules of the events a server sends.
 *
 * voip_payload_decode() only checks an event's GVariant type. What the
 * handlers build from an event (D-Bus object paths, cache rows) also needs
 * its ids to be ids and its usernames to be usernames; this is the one
 * place that says so, by event code, so that no handler sees group 0 or
 * contact "" coming from a buggy or hostile server.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Ids are the server's PostgreSQL bigserial values: 1..2^63-1. */
#define VOIPD_EVENT_ID_MIN ((guint64) 1)
#define VOIPD_EVENT_ID_MAX ((guint64) G_MAXINT64)

/* value has the catalogue's event type for code (voip_payload_decode said
 * so). TRUE if its fields are acceptable; FALSE with a VOIP_ERROR saying
 * which field is wrong otherwise. An event code without rules is fine. */
gboolean voipd_event_check (guint code, GVariant *value, GError **error);

G_END_DECLS
