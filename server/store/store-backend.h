/* store-backend.h — what the store's backends share: the Store itself, the
 * table of operations each backend fills, and the store thread that runs
 * jobs for any of them (store-thread.c).
 *
 * store.c forwards each store_* call of store.h to the backend's table;
 * store-sqlite.c (with store-private.h) and store-pg.c (with store-pg.h)
 * each provide one table. Nothing outside server/store/ includes this,
 * except the store's own unit test.
 */
#pragma once

#include "store.h"

G_BEGIN_DECLS

typedef struct _StoreBackend      StoreBackend;
typedef struct _StoreCheckpointer StoreCheckpointer;
typedef struct _StorePg           StorePg;

/* The transaction steps the store thread asks of a backend. */
typedef enum {
  STORE_TXN_BEGIN,
  STORE_TXN_SAVEPOINT,     /* each job runs in its own savepoint */
  STORE_TXN_RELEASE,
  STORE_TXN_ROLLBACK_TO,   /* undoes the job, keeps the savepoint open */
  STORE_TXN_COMMIT,
  STORE_TXN_ROLLBACK,
} StoreTxn;

struct _Store {
  const StoreBackend *backend;
  int           schema_version;

  /* The thread that owns the connection once store_open() has returned. */
  GThread      *thread;
  GThread      *owner;        /* set by the thread itself; checked by the backends */
  GMainContext *main_context; /* where done functions run */
  GAsyncQueue  *queue;        /* StoreJob*, then the close marker */
  gint          n_jobs;       /* atomic: queued or in the running batch */
  guint         n_commits;    /* atomic: transactions committed, for tests and benchmarks */

  /* SQLite (store-sqlite.c). */
  struct _VoipSqlite *sqlite;      /* common/sqlite: the connection and its statements */
  struct sqlite3    *db;           /* its handle (voip_sqlite_get_handle), borrowed */
  StoreCheckpointer *checkpointer; /* WAL checkpoints on their own thread */
  gint64             last_seq;     /* single writer, so the counter can live in memory */

  /* PostgreSQL (store-pg.c). */
  StorePg           *pg;
};

struct _StoreBackend {
  const char *name;

  /* Connects to `location`, migrates the schema and sets schema_version,
   * on the caller's thread. close() undoes whatever open() did, also after
   * a failed open(); the store thread has stopped by then. */
  gboolean (*open)  (Store *store, const char *location, GError **error);
  void     (*close) (Store *store);

  /* On the store thread. */
  gboolean (*txn)            (Store *store, StoreTxn step, GError **error);
  /* FALSE when the database ended the transaction under a job (SQLite on
   * a full disk or an I/O error, PostgreSQL when the connection broke). */
  gboolean (*in_transaction) (Store *store);

  gint64 (*user_create) (Store *store, const char *username, const char *password_hash,
                         const char *email, gint64 now_ms, GError **error);
  gboolean (*user_find) (Store *store, const char *username, StoreUser *out, GError **error);
  gboolean (*user_find_any) (Store *store, const char *username, StoreUser *out, GError **error);
  gboolean (*user_get) (Store *store, gint64 user_id, StoreUser *out, GError **error);
  gboolean (*user_set_password) (Store *store, gint64 user_id, const char *password_hash,
                                 GError **error);
  gboolean (*user_delete) (Store *store, gint64 user_id, GError **error);
  gboolean (*profile_get) (Store *store, gint64 user_id, StoreProfile *out, GError **error);
  gboolean (*profile_set) (Store *store, gint64 user_id, GVariant *fields, GError **error);
  gboolean (*token_add) (Store *store, gint64 user_id, const char *token_hash, gint64 now_ms,
                         GError **error);
  gint64 (*token_find) (Store *store, const char *token_hash, GError **error);
  gboolean (*token_delete) (Store *store, const char *token_hash, GError **error);
  gboolean (*token_delete_others) (Store *store, gint64 user_id, const char *keep_hash,
                                   GError **error);
  int (*contact_state) (Store *store, gint64 user_id, gint64 other_id, GError **error);
  gboolean (*contact_request) (Store *store, gint64 from_id, gint64 to_id, gint64 now_ms,
                               GError **error);
  gboolean (*contact_befriend) (Store *store, gint64 a_id, gint64 b_id, gint64 now_ms,
                                GError **error);
  gboolean (*contact_unlink) (Store *store, gint64 a_id, gint64 b_id, GError **error);
  GPtrArray *(*contact_friends) (Store *store, gint64 user_id, GError **error);
  GPtrArray *(*contact_pending) (Store *store, gint64 user_id, gboolean incoming, GError **error);
  gint64 (*group_create) (Store *store, const char *name, gint64 owner_id, gint64 now_ms,
                          GError **error);
  gboolean (*group_get) (Store *store, gint64 group_id, StoreGroup *out, GError **error);
  gboolean (*group_is_member) (Store *store, gint64 group_id, gint64 user_id, GError **error);
  GArray *(*group_list_for_user) (Store *store, gint64 user_id, GError **error);
  gboolean (*group_add_member) (Store *store, gint64 group_id, gint64 user_id, gint64 now_ms,
                                GError **error);
  gboolean (*group_remove_member) (Store *store, gint64 group_id, gint64 user_id, GError **error);
  gboolean (*group_set_owner) (Store *store, gint64 group_id, gint64 owner_id, GError **error);
  gboolean (*group_rename) (Store *store, gint64 group_id, const char *name, GError **error);
  gboolean (*group_delete) (Store *store, gint64 group_id, GError **error);
  gboolean (*message_insert) (Store *store, StoreMessage *message, gboolean *duplicate,
                              GError **error);
  StoreMessage *(*message_get) (Store *store, gint64 message_id, gboolean with_voice,
                                GError **error);
  gboolean (*message_edit) (Store *store, gint64 message_id, const char *text, gint64 *seq,
                            GError **error);
  gboolean (*message_delete) (Store *store, gint64 message_id, gint64 *seq, GError **error);
  GPtrArray *(*message_history) (Store *store, gint64 a_id, gint64 b_id, gint64 group_id,
                                 gint64 before_id, guint limit, gsize max_bytes, gboolean *more,
                                 GError **error);
  GPtrArray *(*message_sync) (Store *store, gint64 user_id, gint64 after_seq, guint limit,
                              gsize max_bytes, gboolean *more, GError **error);
};

extern const StoreBackend store_sqlite_backend;
extern const StoreBackend store_pg_backend;

/* ---- store-thread.c ------------------------------------------------------ */

gboolean store_thread_start (Store *store, GError **error);
/* Queues the close marker, lets the jobs before it run, and joins. */
void     store_thread_stop  (Store *store);

/* Transactions committed so far. */
guint    store_commit_count (Store *store);

/* The message reads of both backends select these columns in this order
 * (each backend's message_from_row reads them by position). */
#define STORE_MESSAGE_COLUMNS \
  "m.id, m.seq, m.timestamp_ms, m.sender_id, s.username, m.recipient_id, r.username," \
  " m.group_id, m.kind, m.text, m.duration_ms, m.edited, m.deleted, m.client_id"
/* LEFT JOIN, and no filter on users.deleted: a deleted sender's messages
 * keep their name. */
#define STORE_MESSAGE_FROM \
  " FROM messages m LEFT JOIN users s ON s.id = m.sender_id" \
  " LEFT JOIN users r ON r.id = m.recipient_id"

G_END_DECLS
