/* store.h — the server's storage interface.
 *
 * Two backends: SQLite (store-sqlite.c), the embedded default, and
 * PostgreSQL (store-pg.c) for a database shared by several nodes. The
 * server never writes SQL itself.
 *
 * Threading model. The store owns one thread. The main loop hands it jobs
 * with store_run(); the thread takes every job that is waiting, runs their
 * work functions inside ONE transaction (each job in its own savepoint, so a
 * failing job rolls back only its own changes), commits durably, and then
 * calls every job's done function on the main context, in submission order.
 * That is group commit: at high load one fsync covers hundreds of messages,
 * and the main loop never waits for the disk.
 *
 * With PostgreSQL the thread holds one connection and the same rules
 * hold; a lost connection fails the jobs of the batch (committed FALSE, or
 * STORE_ERROR_UNAVAILABLE) and is made again for the next batch.
 *
 * Every store_* function below other than open/run/close may only be called
 * from a work function (that is, on the store thread, inside the
 * transaction). They return FALSE/0/NULL with a STORE_ERROR on failure.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _Store Store;

#define STORE_ERROR (store_error_quark ())
GQuark store_error_quark (void);

typedef enum {
  STORE_ERROR_FAILED,      /* the database failed (I/O, corruption, full disk) */
  STORE_ERROR_EXISTS,      /* unique constraint: username taken, ... */
  STORE_ERROR_NOT_FOUND,
  STORE_ERROR_SCHEMA,      /* the database is newer than this program */
  STORE_ERROR_UNAVAILABLE, /* the database server cannot be reached (PostgreSQL) */
} StoreError;

/* Opens the database at `location` and starts the store thread; done
 * functions run on `main_context`. `location` is a libpq URI
 * (postgresql://…, see store_location_is_postgresql()) or the path of an
 * SQLite file, created if needed (mode 0600) and switched to WAL. Either
 * way the schema is migrated to the newest version first. */
Store   *store_open  (const char *location, GMainContext *main_context, GError **error);
/* Runs the jobs still queued (their done functions are called if the main
 * context is iterated), stops the thread and closes the database. */
void     store_close (Store *store);

/* Schema version after migrations. */
int      store_schema_version (Store *store);
/* TRUE for postgresql://… and postgres://… */
gboolean store_location_is_postgresql (const char *location);

/* A job's work runs on the store thread. Return FALSE to roll back this
 * job's changes (the job keeps its own result/error for done to report).
 * `committed` tells done whether the transaction holding the job reached the
 * disk; when FALSE nothing of the job was applied. */
typedef gboolean (*StoreWorkFunc) (Store *store, gpointer job);
typedef void     (*StoreDoneFunc) (gpointer job, gboolean committed);

void     store_run (Store *store, StoreWorkFunc work, StoreDoneFunc done, gpointer job);

/* Jobs waiting or running. (Backpressure comes from the sessions' cap on
 * requests in flight, not from this.) */
guint    store_queue_length (Store *store);

/* ---- users ---------------------------------------------------------- */

typedef struct {
  gint64  id;
  char   *username;
  char   *password_hash;    /* libsodium crypto_pwhash_str() output */
  char   *email;
  gint64  created_ms;
  gboolean deleted;         /* a deleted account keeps its row so the name stays reserved */
} StoreUser;

void     store_user_clear (StoreUser *user);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (StoreUser, store_user_clear)

/* STORE_ERROR_EXISTS when the username is taken (deleted accounts included). */
gint64   store_user_create       (Store *store, const char *username, const char *password_hash,
                                  const char *email, gint64 now_ms, GError **error);
/* Not found (FALSE, no error) when missing or deleted. */
gboolean store_user_find         (Store *store, const char *username, StoreUser *out, GError **error);
/* The account that has or had the name: store_user_find() with deleted
 * accounts too (out->deleted set), whose messages stay readable. */
gboolean store_user_find_any     (Store *store, const char *username, StoreUser *out,
                                  GError **error);
gboolean store_user_get          (Store *store, gint64 user_id, StoreUser *out, GError **error);
gboolean store_user_set_password (Store *store, gint64 user_id, const char *password_hash,
                                  GError **error);
/* Marks the account deleted, clears its password hash, e-mail and profile,
 * and removes its tokens, friendships and friend requests (both ways). Group
 * memberships are left to the caller, which must first leave every group
 * with store_group_* so that ownership passes on and members hear of it. */
gboolean store_user_delete       (Store *store, gint64 user_id, GError **error);

/* ---- profiles --------------------------------------------------------- */

typedef struct {
  char     *display_name;  /* "" when unset */
  char     *motd;
  char     *city;
  char     *phone;
  char     *mail;
  char     *language;
  GBytes   *avatar;        /* never NULL; empty when unset */
  GVariant *plugins;       /* a(ss), never NULL */
} StoreProfile;

void     store_profile_clear (StoreProfile *profile);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (StoreProfile, store_profile_clear)

gboolean store_profile_get (Store *store, gint64 user_id, StoreProfile *out, GError **error);
/* fields: a{sv} already checked by voip_validate_profile_fields(). */
gboolean store_profile_set (Store *store, gint64 user_id, GVariant *fields, GError **error);

/* ---- session tokens (only their SHA-256 is stored) -------------------- */

gboolean store_token_add           (Store *store, gint64 user_id, const char *token_hash,
                                    gint64 now_ms, GError **error);
/* The user owning the token, or 0 when unknown. */
gint64   store_token_find          (Store *store, const char *token_hash, GError **error);
gboolean store_token_delete        (Store *store, const char *token_hash, GError **error);
/* Deletes every token of the user except keep_hash (may be NULL: all). */
gboolean store_token_delete_others (Store *store, gint64 user_id, const char *keep_hash,
                                    GError **error);

/* ---- contacts ----------------------------------------------------------- */

/* VoipSubscription of `other` as `user` sees it: NONE, FRIEND, INCOMING
 * (other asked user) or OUTGOING (user asked other). -1 on error. */
int      store_contact_state     (Store *store, gint64 user_id, gint64 other_id, GError **error);
gboolean store_contact_request   (Store *store, gint64 from_id, gint64 to_id, gint64 now_ms,
                                  GError **error);
/* Makes them friends and removes any request between them. */
gboolean store_contact_befriend  (Store *store, gint64 a_id, gint64 b_id, gint64 now_ms,
                                  GError **error);
/* Removes a friendship or a request (either direction) between them. */
gboolean store_contact_unlink    (Store *store, gint64 a_id, gint64 b_id, GError **error);

typedef struct {
  gint64  id;
  char   *username;
  char   *display_name;
  char   *motd;
} StoreContact;

void     store_contact_free (StoreContact *contact);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (StoreContact, store_contact_free)

/* Friends, ordered by username; elements are StoreContact, freed by the array. */
GPtrArray *store_contact_friends (Store *store, gint64 user_id, GError **error);
/* Usernames of pending requests to user (incoming) and from user (outgoing). */
GPtrArray *store_contact_pending (Store *store, gint64 user_id, gboolean incoming, GError **error);

/* ---- groups ------------------------------------------------------------- */

typedef struct {
  gint64     id;
  char      *name;
  gint64     owner_id;
  char      *owner;        /* username */
  GArray    *member_ids;   /* gint64, in joining order (the owner is a member) */
  GPtrArray *members;      /* usernames, same order */
} StoreGroup;

void     store_group_clear (StoreGroup *group);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (StoreGroup, store_group_clear)

gint64   store_group_create        (Store *store, const char *name, gint64 owner_id,
                                    gint64 now_ms, GError **error);
/* Not found: FALSE without error. */
gboolean store_group_get           (Store *store, gint64 group_id, StoreGroup *out, GError **error);
gboolean store_group_is_member     (Store *store, gint64 group_id, gint64 user_id, GError **error);
/* Group ids the user is a member of, ascending; elements gint64. */
GArray  *store_group_list_for_user (Store *store, gint64 user_id, GError **error);
gboolean store_group_add_member    (Store *store, gint64 group_id, gint64 user_id, gint64 now_ms,
                                    GError **error);
gboolean store_group_remove_member (Store *store, gint64 group_id, gint64 user_id, GError **error);
gboolean store_group_set_owner     (Store *store, gint64 group_id, gint64 owner_id, GError **error);
gboolean store_group_rename        (Store *store, gint64 group_id, const char *name, GError **error);
/* Deletes the group and its memberships; its messages stay in the database
 * but are no longer reachable by anyone. */
gboolean store_group_delete        (Store *store, gint64 group_id, GError **error);

/* ---- messages ------------------------------------------------------------ */

typedef struct {
  gint64   id;            /* assigned by the store, ascending */
  gint64   seq;           /* change sequence: assigned at insert, renewed by edit and delete */
  gint64   timestamp_ms;  /* set by the caller (server time) */
  gint64   sender_id;
  char    *sender;        /* username, filled by reads */
  gint64   recipient_id;  /* 0 for a group message */
  char    *recipient;     /* username or "" */
  gint64   group_id;      /* 0 for a direct message */
  guint32  kind;          /* VoipMessageKind */
  char    *text;          /* "" for voice or deleted */
  guint32  duration_ms;   /* voice */
  GBytes  *voice;         /* NULL unless asked for; never stored for deleted */
  gboolean edited;
  gboolean deleted;
  char    *client_id;
} StoreMessage;

void          store_message_free (StoreMessage *message);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (StoreMessage, store_message_free)

/* Inserts a new message, filling message->id and message->seq. If the sender
 * already sent a message with this client_id, nothing is inserted, the stored
 * message's id, seq and timestamp_ms are copied into `message` and
 * *duplicate is set to TRUE. */
gboolean      store_message_insert  (Store *store, StoreMessage *message, gboolean *duplicate,
                                     GError **error);
/* NULL without error when there is no such message. */
StoreMessage *store_message_get     (Store *store, gint64 message_id, gboolean with_voice,
                                     GError **error);
/* Sets the text and the edited flag, and a new seq (returned in *seq). */
gboolean      store_message_edit    (Store *store, gint64 message_id, const char *text,
                                     gint64 *seq, GError **error);
/* Clears text and voice, sets deleted, and a new seq. */
gboolean      store_message_delete  (Store *store, gint64 message_id, gint64 *seq, GError **error);

/* A page of a direct conversation between a and b (group_id 0), or of a
 * group (a_id = b_id = 0): the newest `limit` messages with id < before_id
 * (0: no bound), returned oldest first, without voice bytes, stopping early
 * once the page holds max_bytes of text. *more is TRUE if older ones exist. */
GPtrArray    *store_message_history (Store *store, gint64 a_id, gint64 b_id, gint64 group_id,
                                     gint64 before_id, guint limit, gsize max_bytes,
                                     gboolean *more, GError **error);
/* Every message with seq > after_seq that user can see (sender or recipient,
 * or in a group user is a member of now), by seq ascending, without voice
 * bytes, with the same limits. */
GPtrArray    *store_message_sync    (Store *store, gint64 user_id, gint64 after_seq, guint limit,
                                     gsize max_bytes, gboolean *more, GError **error);

G_END_DECLS
