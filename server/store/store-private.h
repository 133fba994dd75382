/* store-private.h — what the files of the SQLite backend share.
 *
 * Nothing outside server/store/ includes this, except the store's own unit
 * test, which reaches behind the API to make the database misbehave.
 */
#pragma once

#include <sqlite3.h>

#include "voip-sqlite.h"

#include "store-backend.h"

G_BEGIN_DECLS

#define STORE_BUSY_TIMEOUT_MS 5000
#define STORE_PAGE_SIZE  1024
#define STORE_CACHE_KIB  32768   /* page cache (32 MiB): the hot index pages stay in memory */

/* ---- store-checkpoint.c ---------------------------------------------------- */

StoreCheckpointer *store_checkpointer_start (Store *store, const char *path, GError **error);
void               store_checkpointer_stop  (StoreCheckpointer *checkpointer);

/* ---- store-sqlite.c: connection helpers ---------------------------------- */

/* Statements are common/sqlite's VoipSqliteStmt: bind and read them with
 * voip_sqlite_bind_* and voip_sqlite_column_*. The wrappers below add the
 * store's thread check and turn errors into STORE_ERROR codes. */

/* Turns a G_IO_ERROR from common/sqlite into its STORE_ERROR: EXISTS for a
 * unique or primary key violation, NOT_FOUND for a foreign key one (a row
 * that refers to a missing user or group), SCHEMA for a schema newer than
 * this program, FAILED for anything else. Other domains are left alone. */
void     store_error_from_sqlite (GError **error);

/* Sets a STORE_ERROR from the connection's last error. */
void     store_set_error_from_db (Store *store, GError **error, const char *what);

/* `sql` must be a string literal: the cache is keyed by its address.
 * `what` names the operation for the error message. */
VoipSqliteStmt *store_stmt (Store *store, const char *sql, const char *what, GError **error);

/* sqlite3_step() expecting no row. */
gboolean store_step_done (Store *store, VoipSqliteStmt *stmt, const char *what, GError **error);
/* sqlite3_step(): 1 for a row, 0 when done, -1 with `error` set. */
int      store_step_row  (Store *store, VoipSqliteStmt *stmt, const char *what, GError **error);

/* Runs SQL without results (sqlite3_exec). */
gboolean store_exec (Store *store, const char *sql, const char *what, GError **error);
/* The same for one statement run often (a static string): prepared once. */
gboolean store_exec_prepared (Store *store, const char *sql, const char *what, GError **error);

/* ---- store-schema.c ------------------------------------------------------ */

/* The migrations of the server's schema, for voip_sqlite_open(). */
const char *const *store_schema_migrations (guint *n_migrations);

/* ---- the operations of store.h (store-users.c, store-messages.c, ...) ----- */

gint64 store_sqlite_user_create (Store *store, const char *username, const char *password_hash,
                                 const char *email, gint64 now_ms, GError **error);
gboolean store_sqlite_user_find (Store *store, const char *username, StoreUser *out,
                                 GError **error);
gboolean store_sqlite_user_find_any (Store *store, const char *username, StoreUser *out,
                                     GError **error);
gboolean store_sqlite_user_get (Store *store, gint64 user_id, StoreUser *out, GError **error);
gboolean store_sqlite_user_set_password (Store *store, gint64 user_id, const char *password_hash,
                                         GError **error);
gboolean store_sqlite_user_delete (Store *store, gint64 user_id, GError **error);
gboolean store_sqlite_profile_get (Store *store, gint64 user_id, StoreProfile *out,
                                   GError **error);
gboolean store_sqlite_profile_set (Store *store, gint64 user_id, GVariant *fields,
                                   GError **error);
gboolean store_sqlite_token_add (Store *store, gint64 user_id, const char *token_hash,
                                 gint64 now_ms, GError **error);
gint64 store_sqlite_token_find (Store *store, const char *token_hash, GError **error);
gboolean store_sqlite_token_delete (Store *store, const char *token_hash, GError **error);
gboolean store_sqlite_token_delete_others (Store *store, gint64 user_id, const char *keep_hash,
                                           GError **error);
int store_sqlite_contact_state (Store *store, gint64 user_id, gint64 other_id, GError **error);
gboolean store_sqlite_contact_request (Store *store, gint64 from_id, gint64 to_id, gint64 now_ms,
                                       GError **error);
gboolean store_sqlite_contact_befriend (Store *store, gint64 a_id, gint64 b_id, gint64 now_ms,
                                        GError **error);
gboolean store_sqlite_contact_unlink (Store *store, gint64 a_id, gint64 b_id, GError **error);
GPtrArray * store_sqlite_contact_friends (Store *store, gint64 user_id, GError **error);
GPtrArray * store_sqlite_contact_pending (Store *store, gint64 user_id, gboolean incoming,
                                          GError **error);
gint64 store_sqlite_group_create (Store *store, const char *name, gint64 owner_id, gint64 now_ms,
                                  GError **error);
gboolean store_sqlite_group_get (Store *store, gint64 group_id, StoreGroup *out, GError **error);
gboolean store_sqlite_group_is_member (Store *store, gint64 group_id, gint64 user_id,
                                       GError **error);
GArray * store_sqlite_group_list_for_user (Store *store, gint64 user_id, GError **error);
gboolean store_sqlite_group_add_member (Store *store, gint64 group_id, gint64 user_id,
                                        gint64 now_ms, GError **error);
gboolean store_sqlite_group_remove_member (Store *store, gint64 group_id, gint64 user_id,
                                           GError **error);
gboolean store_sqlite_group_set_owner (Store *store, gint64 group_id, gint64 owner_id,
                                       GError **error);
gboolean store_sqlite_group_rename (Store *store, gint64 group_id, const char *name,
                                    GError **error);
gboolean store_sqlite_group_delete (Store *store, gint64 group_id, GError **error);
gboolean store_sqlite_message_insert (Store *store, StoreMessage *message, gboolean *duplicate,
                                      GError **error);
StoreMessage * store_sqlite_message_get (Store *store, gint64 message_id, gboolean with_voice,
                                         GError **error);
gboolean store_sqlite_message_edit (Store *store, gint64 message_id, const char *text,
                                    gint64 *seq, GError **error);
gboolean store_sqlite_message_delete (Store *store, gint64 message_id, gint64 *seq,
                                      GError **error);
GPtrArray * store_sqlite_message_history (Store *store, gint64 a_id, gint64 b_id, gint64 group_id,
                                          gint64 before_id, guint limit, gsize max_bytes,
                                          gboolean *more, GError **error);
GPtrArray * store_sqlite_message_sync (Store *store, gint64 user_id, gint64 after_seq,
                                       guint limit, gsize max_bytes, gboolean *more,
                                       GError **error);

/* ---- store-messages.c ---------------------------------------------------- */

/* Reads MAX(seq) so new messages continue the sequence. */
gboolean store_messages_load_seq (Store *store, GError **error);

G_END_DECLS
