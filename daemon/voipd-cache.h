/* voipd-cache.h — the daemon's local SQLite cache ($XDG_DATA_HOME/voipd/cache.db).
 *
 * It keeps what the D-Bus API must answer while the server is unreachable
 * (contacts, groups, history), the durable outbox of messages sent while
 * offline, unread counts, and the sync position (the largest message seq
 * seen). One cache file holds one account: voipd_cache_reset() empties it
 * when another account logs in.
 *
 * Nothing here waits for the disk on the caller's main loop. The SQLite
 * connection belongs to a cache thread (voipd-cache-thread.c); what the
 * D-Bus API reads synchronously (meta, the sync position, contacts, groups,
 * unread counts, the outbox) is kept in memory, loaded once at open.
 * Writes update that memory at once and are queued: a write nobody waits
 * for returns TRUE when queued (FALSE only for bad input) and a failure on
 * disk is logged. Reads of history and writes whose result matters are
 * _async/_finish, completed on the caller's thread-default main context
 * after the transaction holding them has committed. Jobs queued together
 * (a burst of events, or everything between voipd_cache_hold() and
 * voipd_cache_release()) share one transaction.
 *
 * Durability: synchronous=NORMAL in WAL mode (a commit survives a crash of
 * voipd, perhaps not a power loss: everything but the outbox is the
 * server's to send again), and FULL for the outbox, which holds messages
 * the user believes sent.
 *
 * The object is used from one thread (the main one). Errors are in the
 * G_IO_ERROR domain and name what failed.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define VOIPD_TYPE_CACHE (voipd_cache_get_type ())
G_DECLARE_FINAL_TYPE (VoipdCache, voipd_cache, VOIPD, CACHE, GObject)

/* Opens or creates the file (and its folder), migrates it and loads what
 * is kept in memory; then starts the cache thread. Reads the disk on the
 * caller's thread: for start-up. */
VoipdCache *voipd_cache_open  (const char *path, GError **error);

/* Everything queued before it is committed (and, with `durable`, on disk
 * whatever happens to the machine). */
void        voipd_cache_sync_async  (VoipdCache *self, gboolean durable,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback, gpointer user_data);
gboolean    voipd_cache_sync_finish (VoipdCache *self, GAsyncResult *result, GError **error);

/* For shutdown: iterates the thread-default main context until everything
 * queued is committed and every result delivered (their callbacks hold
 * references that would otherwise outlive the daemon). */
void        voipd_cache_flush   (VoipdCache *self);

/* Between them, what is queued goes to disk as one transaction: a sync
 * page of 500 messages is one commit, not 1,500. They nest. */
void        voipd_cache_hold    (VoipdCache *self);
void        voipd_cache_release (VoipdCache *self);
/* Transactions committed so far (for tests and statistics). */
guint       voipd_cache_get_commits (VoipdCache *self);

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

VoipdCachedMessage *voipd_cached_message_copy (const VoipdCachedMessage *message);

/* Inserts or replaces by id (an edit or a tombstone replaces the old row).
 * Queued; the message is copied. */
gboolean   voipd_cache_put_message        (VoipdCache *self, const VoipdCachedMessage *message,
                                           GError **error);
/* The same, and tells whether the id was unknown (*is_new). Bad input
 * fails in _finish. */
void       voipd_cache_put_message_async  (VoipdCache *self, const VoipdCachedMessage *message,
                                           GCancellable *cancellable,
                                           GAsyncReadyCallback callback, gpointer user_data);
gboolean   voipd_cache_put_message_finish (VoipdCache *self, GAsyncResult *result,
                                           gboolean *is_new, GError **error);
/* The conversation between `me` and `peer` (group 0), or a group's: the
 * newest `limit` messages with id < before_id (0: no bound), oldest first;
 * elements VoipdCachedMessage*. */
void       voipd_cache_history_async      (VoipdCache *self, const char *me, const char *peer,
                                           gint64 group, gint64 before_id, guint limit,
                                           GCancellable *cancellable,
                                           GAsyncReadyCallback callback, gpointer user_data);
GPtrArray *voipd_cache_history_finish     (VoipdCache *self, GAsyncResult *result,
                                           GError **error);
void       voipd_cache_get_message_async  (VoipdCache *self, gint64 id,
                                           GCancellable *cancellable,
                                           GAsyncReadyCallback callback, gpointer user_data);
/* NULL (no error) when unknown. */
VoipdCachedMessage *voipd_cache_get_message_finish (VoipdCache *self, GAsyncResult *result,
                                                    GError **error);

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
VoipdOutboxEntry *voipd_outbox_entry_copy (const VoipdOutboxEntry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VoipdOutboxEntry, voipd_outbox_entry_free)

/* Completes once the entry is on disk with synchronous=FULL (a crash or a
 * power loss after it keeps it). The entry is copied; _finish gives its
 * local_id (0 with `error` set on failure). */
void       voipd_cache_outbox_add_async  (VoipdCache *self, const VoipdOutboxEntry *entry,
                                          GCancellable *cancellable,
                                          GAsyncReadyCallback callback, gpointer user_data);
gint64     voipd_cache_outbox_add_finish (VoipdCache *self, GAsyncResult *result,
                                          GError **error);
/* In the order they were queued (a copy, from memory). */
GPtrArray *voipd_cache_outbox_list   (VoipdCache *self, GError **error);
gboolean   voipd_cache_outbox_remove (VoipdCache *self, gint64 local_id, GError **error);

G_END_DECLS
