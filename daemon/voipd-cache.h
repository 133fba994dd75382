/* voipd-cache.h — the daemon's local SQLite cache ($XDG_DATA_HOME/voipd/cache.db).
 *
 * It keeps what the D-Bus API must answer while the server is unreachable
 * (contacts, groups, history), the durable outbox of messages sent while
 * offline, unread counts, and the sync position (the largest message seq
 * seen). One cache file holds one account: voipd_cache_reset() empties it
 * when another account logs in.
 *
 * The daemon is one user's process with a modest load, so the cache is
 * synchronous and used from the main thread only. Every function that can
 * fail returns FALSE/NULL with a G_IO_ERROR-domain error naming what failed.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define VOIPD_TYPE_CACHE (voipd_cache_get_type ())
G_DECLARE_FINAL_TYPE (VoipdCache, voipd_cache, VOIPD, CACHE, GObject)

/* Opens or creates the file (and its folder), WAL mode, synchronous=FULL
 * (the outbox must survive a crash), schema migrations by user_version. */
VoipdCache *voipd_cache_open  (const char *path, GError **error);

/* Forgets everything: contacts, groups, messages, outbox, meta. */
gboolean    voipd_cache_reset (VoipdCache *self, GError **error);

/* ---- meta: small named values ("server", "username", "last_seq") ------- */

char       *voipd_cache_get_meta (VoipdCache *self, const char *key);   /* NULL if unset */
gboolean    voipd_cache_set_meta (VoipdCache *self, const char *key, const char *value,
                                  GError **error);
gint64      voipd_cache_get_last_seq (VoipdCache *self);                /* 0 if unset */
/* Only ever raises it. */
gboolean    voipd_cache_raise_last_seq (VoipdCache *self, gint64 seq, GError **error);

/* ---- contacts ------------------------------------------------------------ */

typedef struct {
  char   *username;
  char   *display_name;
  char   *motd;
  guint   subscription;   /* VoipSubscription: FRIEND, INCOMING, OUTGOING */
  guint   unread;
} VoipdCachedContact;

void       voipd_cached_contact_free (VoipdCachedContact *contact);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VoipdCachedContact, voipd_cached_contact_free)

/* Inserts or updates (keeps unread). */
gboolean   voipd_cache_put_contact    (VoipdCache *self, const char *username,
                                       const char *display_name, const char *motd,
                                       guint subscription, GError **error);
gboolean   voipd_cache_remove_contact (VoipdCache *self, const char *username, GError **error);
/* Every contact, by username; elements VoipdCachedContact*, freed by the array. */
GPtrArray *voipd_cache_list_contacts  (VoipdCache *self, GError **error);

/* ---- groups ---------------------------------------------------------------- */

typedef struct {
  gint64  id;
  char   *name;
  char   *owner;
  GStrv   members;
  guint   unread;
} VoipdCachedGroup;

void       voipd_cached_group_free (VoipdCachedGroup *group);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VoipdCachedGroup, voipd_cached_group_free)

gboolean   voipd_cache_put_group    (VoipdCache *self, gint64 id, const char *name,
                                     const char *owner, const char *const *members,
                                     GError **error);
gboolean   voipd_cache_remove_group (VoipdCache *self, gint64 id, GError **error);
GPtrArray *voipd_cache_list_groups  (VoipdCache *self, GError **error);

/* ---- unread counts: per conversation (peer username, or group id) --------- */

/* A conversation is a peer (group 0) or a group (peer NULL). */
gboolean   voipd_cache_add_unread   (VoipdCache *self, const char *peer, gint64 group,
                                     guint count, GError **error);
gboolean   voipd_cache_clear_unread (VoipdCache *self, const char *peer, gint64 group,
                                     GError **error);

/* ---- messages -------------------------------------------------------------- */

typedef struct {
  gint64   id;
  gint64   seq;
  gint64   timestamp_ms;
  char    *sender;
  char    *recipient;    /* "" in a group */
  gint64   group;        /* 0 for a direct message */
  guint    kind;         /* VoipMessageKind */
  char    *text;
  guint    duration_ms;
  gboolean edited;
  gboolean deleted;
} VoipdCachedMessage;

void       voipd_cached_message_free (VoipdCachedMessage *message);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VoipdCachedMessage, voipd_cached_message_free)

/* Inserts or replaces by id (an edit or a tombstone replaces the old row).
 * *is_new tells whether the id was unknown. */
gboolean   voipd_cache_put_message (VoipdCache *self, const VoipdCachedMessage *message,
                                    gboolean *is_new, GError **error);
/* The conversation between `me` and `peer` (group 0), or a group's: the
 * newest `limit` messages with id < before_id (0: no bound), oldest first. */
GPtrArray *voipd_cache_history     (VoipdCache *self, const char *me, const char *peer,
                                    gint64 group, gint64 before_id, guint limit, GError **error);
/* NULL (no error) when unknown. */
VoipdCachedMessage *voipd_cache_get_message (VoipdCache *self, gint64 id, GError **error);

/* ---- outbox: messages sent while offline, delivered once after reconnect --- */

typedef struct {
  gint64   local_id;      /* the cache's own row id, ascending = order sent */
  char    *client_id;     /* the protocol's idempotency key (a UUID) */
  char    *recipient;     /* "" for a group */
  gint64   group;
  guint    kind;
  char    *text;
  GBytes  *voice;         /* empty for text */
  guint    duration_ms;
  gint64   queued_ms;
} VoipdOutboxEntry;

void       voipd_outbox_entry_free (VoipdOutboxEntry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VoipdOutboxEntry, voipd_outbox_entry_free)

/* Durable before it returns. Fills entry->local_id. */
gboolean   voipd_cache_outbox_add    (VoipdCache *self, VoipdOutboxEntry *entry, GError **error);
/* In the order they were queued. */
GPtrArray *voipd_cache_outbox_list   (VoipdCache *self, GError **error);
gboolean   voipd_cache_outbox_remove (VoipdCache *self, gint64 local_id, GError **error);

G_END_DECLS
