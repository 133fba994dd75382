/* store-pg.h — what the files of the PostgreSQL backend share.
 *
 * Nothing outside server/store/ includes this, except the store's own unit
 * test, which reaches behind the API to make the database misbehave.
 */
#pragma once

#include <libpq-fe.h>

#include "store-backend.h"

G_BEGIN_DECLS

/* Longest a statement (or a connection attempt) may take before the
 * connection is given up as broken: a request during an outage gets its
 * Storage error in bounded time instead of hanging. */
#define STORE_PG_TIMEOUT_MS   5000
/* After a failed connection attempt, batches fail at once for this long
 * before the next attempt, so an outage costs no work per request. */
#define STORE_PG_RETRY_MS     500
/* The most parameters one statement of the backend takes. */
#define STORE_PG_MAX_PARAMS   12

struct _StorePg {
  char       *conninfo;      /* the libpq URI */
  PGconn     *conn;          /* NULL while disconnected */
  GHashTable *prepared;      /* SQL text (static, keyed by address) -> statement name */
  guint       n_prepared;
  gint64      retry_at_us;   /* monotonic: no new attempt before this */
  gboolean    was_lost;      /* logged the outage; log the recovery */
  gboolean    release_due;   /* the last job's RELEASE waits for the next step */
  gboolean    timed_out;     /* the last connection was dropped for not answering */
};

/* Parameters of one statement, in the text format but for bytea, which
 * goes binary. Values are not copied: keep them alive until the query. */
typedef struct {
  int         n;
  const char *values[STORE_PG_MAX_PARAMS];
  int         lengths[STORE_PG_MAX_PARAMS];
  int         formats[STORE_PG_MAX_PARAMS];
  char        numbers[STORE_PG_MAX_PARAMS][24];
} StorePgParams;

void store_pg_param_int   (StorePgParams *params, gint64 value);
/* NULL text is SQL NULL. */
void store_pg_param_text  (StorePgParams *params, const char *text);
void store_pg_param_null  (StorePgParams *params);
/* NULL bytes are SQL NULL; empty bytes an empty bytea. */
void store_pg_param_bytes (StorePgParams *params, GBytes *bytes);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PGresult, PQclear)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PGconn, PQfinish)

/* Runs one statement of the backend: `sql` must be a string literal (it is
 * prepared once per connection, keyed by its address). Waits at most
 * STORE_PG_TIMEOUT_MS. Returns the result (rows or a command's) or NULL
 * with `error`: a unique violation is STORE_ERROR_EXISTS, a foreign key one
 * STORE_ERROR_NOT_FOUND, a lost connection STORE_ERROR_UNAVAILABLE. */
PGresult *store_pg_query (Store *store, const char *sql, const StorePgParams *params,
                          const char *what, GError **error);
/* Runs SQL without parameters (several statements allowed), unprepared. */
gboolean  store_pg_exec  (Store *store, const char *sql, const char *what, GError **error);

/* Reading a result: NULL reads as 0, "" or empty. */
gint64    store_pg_int     (const PGresult *result, int row, int column);
gboolean  store_pg_bool    (const PGresult *result, int row, int column);
char     *store_pg_dup     (const PGresult *result, int row, int column);
GBytes   *store_pg_bytes   (const PGresult *result, int row, int column);
/* Rows an INSERT, UPDATE or DELETE changed. */
gint64    store_pg_changes (const PGresult *result);

/* ---- store-pg-schema.c --------------------------------------------------- */

/* Brings the schema to the newest version under an advisory lock, so that
 * nodes starting together migrate once; STORE_ERROR_SCHEMA when the
 * database is newer than this program. Sets store->schema_version. */
gboolean store_pg_schema_migrate (Store *store, GError **error);

/* ---- the operations of store.h (store-pg-users.c, store-pg-messages.c, ...) */

gint64 store_pg_user_create (Store *store, const char *username, const char *password_hash,
                             const char *email, gint64 now_ms, GError **error);
gboolean store_pg_user_find (Store *store, const char *username, StoreUser *out, GError **error);
gboolean store_pg_user_find_any (Store *store, const char *username, StoreUser *out,
                                 GError **error);
gboolean store_pg_user_get (Store *store, gint64 user_id, StoreUser *out, GError **error);
gboolean store_pg_user_set_password (Store *store, gint64 user_id, const char *password_hash,
                                     GError **error);
gboolean store_pg_user_delete (Store *store, gint64 user_id, GError **error);
gboolean store_pg_profile_get (Store *store, gint64 user_id, StoreProfile *out, GError **error);
gboolean store_pg_profile_set (Store *store, gint64 user_id, GVariant *fields, GError **error);
gboolean store_pg_token_add (Store *store, gint64 user_id, const char *token_hash, gint64 now_ms,
                             GError **error);
gint64 store_pg_token_find (Store *store, const char *token_hash, GError **error);
gboolean store_pg_token_delete (Store *store, const char *token_hash, GError **error);
gboolean store_pg_token_delete_others (Store *store, gint64 user_id, const char *keep_hash,
                                       GError **error);
int store_pg_contact_state (Store *store, gint64 user_id, gint64 other_id, GError **error);
gboolean store_pg_contact_request (Store *store, gint64 from_id, gint64 to_id, gint64 now_ms,
                                   GError **error);
gboolean store_pg_contact_befriend (Store *store, gint64 a_id, gint64 b_id, gint64 now_ms,
                                    GError **error);
gboolean store_pg_contact_unlink (Store *store, gint64 a_id, gint64 b_id, GError **error);
GPtrArray * store_pg_contact_friends (Store *store, gint64 user_id, GError **error);
GPtrArray * store_pg_contact_pending (Store *store, gint64 user_id, gboolean incoming,
                                      GError **error);
gint64 store_pg_group_create (Store *store, const char *name, gint64 owner_id, gint64 now_ms,
                              GError **error);
gboolean store_pg_group_get (Store *store, gint64 group_id, StoreGroup *out, GError **error);
gboolean store_pg_group_is_member (Store *store, gint64 group_id, gint64 user_id, GError **error);
GArray * store_pg_group_list_for_user (Store *store, gint64 user_id, GError **error);
gboolean store_pg_group_add_member (Store *store, gint64 group_id, gint64 user_id, gint64 now_ms,
                                    GError **error);
gboolean store_pg_group_remove_member (Store *store, gint64 group_id, gint64 user_id,
                                       GError **error);
gboolean store_pg_group_set_owner (Store *store, gint64 group_id, gint64 owner_id,
                                   GError **error);
gboolean store_pg_group_rename (Store *store, gint64 group_id, const char *name, GError **error);
gboolean store_pg_group_delete (Store *store, gint64 group_id, GError **error);
gboolean store_pg_message_insert (Store *store, StoreMessage *message, gboolean *duplicate,
                                  GError **error);
StoreMessage * store_pg_message_get (Store *store, gint64 message_id, gboolean with_voice,
                                     GError **error);
gboolean store_pg_message_edit (Store *store, gint64 message_id, const char *text, gint64 *seq,
                                GError **error);
gboolean store_pg_message_delete (Store *store, gint64 message_id, gint64 *seq, GError **error);
GPtrArray * store_pg_message_history (Store *store, gint64 a_id, gint64 b_id, gint64 group_id,
                                      gint64 before_id, guint limit, gsize max_bytes,
                                      gboolean *more, GError **error);
GPtrArray * store_pg_message_sync (Store *store, gint64 user_id, gint64 after_seq, guint limit,
                                   gsize max_bytes, gboolean *more, GError **error);

G_END_DECLS
