/* store-sqlite.c — the SQLite backend: opening and closing the database,
 * its transaction steps, and the small helpers every other file of the
 * backend uses to talk to it. The plumbing (a private WAL file, pragmas,
 * migrations, cached statements) is common/sqlite's; what is the server's
 * own here is the thread check, the STORE_ERROR codes and the checkpointer.
 *
 * The connection is opened and migrated on the caller's thread, then handed
 * to the store thread (store-thread.c), which alone uses it from then on.
 */
#define G_LOG_DOMAIN "voip-store"

#include "store-private.h"

/* How the server opens its database; the numbers are in store-private.h. */
static VoipSqliteOptions
store_sqlite_options (void)
{
  guint n_migrations;
  const char *const *migrations = store_schema_migrations (&n_migrations);
  VoipSqliteOptions options = {
    .migrations = migrations,
    .n_migrations = n_migrations,
    .busy_timeout_ms = STORE_BUSY_TIMEOUT_MS,
    /* Small pages: a batch of messages dirties one leaf page per
     * conversation in each index, and every dirty page is written to the
     * WAL whole, so 1 KiB pages write a quarter of what 4 KiB pages do. */
    .page_size = STORE_PAGE_SIZE,
    .cache_kib = STORE_CACHE_KIB,
    /* FULL, not NORMAL: in WAL mode NORMAL survives a crash of the process
     * but may lose the last commits on power loss, and a message we
     * acknowledged must not be lost. Group commit keeps the fsync count
     * low. */
    .synchronous_full = TRUE,
    .what = "the database",
  };

  return options;
}

/* Also after a failed open, with whatever it got to. */
static void
sqlite_close (Store *store)
{
  if (store->db != NULL)
    sqlite3_wal_hook (store->db, NULL, NULL);
  g_clear_pointer (&store->checkpointer, store_checkpointer_stop);
  store->db = NULL;
  g_clear_pointer (&store->sqlite, voip_sqlite_close);
}

static gboolean
sqlite_open (Store *store, const char *path, GError **error)
{
  VoipSqliteOptions options = store_sqlite_options ();

  store->sqlite = voip_sqlite_open (path, &options, error);
  if (store->sqlite == NULL)
    {
      store_error_from_sqlite (error);
      /* An operator reading this in the journal needs the way out. */
      if (error != NULL && g_error_matches (*error, STORE_ERROR, STORE_ERROR_SCHEMA))
        {
          char *message = g_strconcat ((*error)->message, "; use a newer voip-server", NULL);

          g_free ((*error)->message);
          (*error)->message = message;
        }
      return FALSE;
    }
  store->db = voip_sqlite_get_handle (store->sqlite);
  store->schema_version = voip_sqlite_get_schema_version (store->sqlite);

  if (!store_messages_load_seq (store, error) ||
      !(store->checkpointer = store_checkpointer_start (store, path, error)))
    {
      g_prefix_error (error, "%s: ", path);
      return FALSE;
    }
  return TRUE;
}

/* BEGIN IMMEDIATE: the store thread is the only writer, so taking the write
 * lock at once costs nothing and a batch never fails half-way on a lock. */
static gboolean
sqlite_txn (Store *store, StoreTxn step, GError **error)
{
  gboolean ok;

  switch (step)
    {
    case STORE_TXN_BEGIN:
      ok = voip_sqlite_begin (store->sqlite, "starting a transaction", error);
      break;
    case STORE_TXN_SAVEPOINT:
      return store_exec_prepared (store, "SAVEPOINT job", "starting a job", error);
    case STORE_TXN_RELEASE:
      return store_exec_prepared (store, "RELEASE job", "finishing a job", error);
    case STORE_TXN_ROLLBACK_TO:
      return store_exec_prepared (store, "ROLLBACK TO job", "rolling back a job", error);
    case STORE_TXN_COMMIT:
      ok = voip_sqlite_commit (store->sqlite, "committing", error);
      break;
    case STORE_TXN_ROLLBACK:
      voip_sqlite_rollback (store->sqlite);
      return TRUE;
    default:
      g_assert_not_reached ();
    }
  if (!ok)
    store_error_from_sqlite (error);
  return ok;
}

static gboolean
sqlite_in_transaction (Store *store)
{
  return voip_sqlite_in_transaction (store->sqlite);
}

const StoreBackend store_sqlite_backend = {
  .name = "sqlite",
  .open = sqlite_open,
  .close = sqlite_close,
  .txn = sqlite_txn,
  .in_transaction = sqlite_in_transaction,
  .user_create = store_sqlite_user_create,
  .user_find = store_sqlite_user_find,
  .user_find_any = store_sqlite_user_find_any,
  .user_get = store_sqlite_user_get,
  .user_set_password = store_sqlite_user_set_password,
  .user_delete = store_sqlite_user_delete,
  .profile_get = store_sqlite_profile_get,
  .profile_set = store_sqlite_profile_set,
  .token_add = store_sqlite_token_add,
  .token_find = store_sqlite_token_find,
  .token_delete = store_sqlite_token_delete,
  .token_delete_others = store_sqlite_token_delete_others,
  .contact_state = store_sqlite_contact_state,
  .contact_request = store_sqlite_contact_request,
  .contact_befriend = store_sqlite_contact_befriend,
  .contact_unlink = store_sqlite_contact_unlink,
  .contact_friends = store_sqlite_contact_friends,
  .contact_pending = store_sqlite_contact_pending,
  .group_create = store_sqlite_group_create,
  .group_get = store_sqlite_group_get,
  .group_is_member = store_sqlite_group_is_member,
  .group_list_for_user = store_sqlite_group_list_for_user,
  .group_add_member = store_sqlite_group_add_member,
  .group_remove_member = store_sqlite_group_remove_member,
  .group_set_owner = store_sqlite_group_set_owner,
  .group_rename = store_sqlite_group_rename,
  .group_delete = store_sqlite_group_delete,
  .message_insert = store_sqlite_message_insert,
  .message_get = store_sqlite_message_get,
  .message_edit = store_sqlite_message_edit,
  .message_delete = store_sqlite_message_delete,
  .message_history = store_sqlite_message_history,
  .message_sync = store_sqlite_message_sync,
};

/* ---- helpers ------------------------------------------------------------- */

void
store_error_from_sqlite (GError **error)
{
  StoreError code;

  if (error == NULL || *error == NULL || (*error)->domain != G_IO_ERROR)
    return;
  switch ((*error)->code)
    {
    case G_IO_ERROR_EXISTS:
      code = STORE_ERROR_EXISTS;
      break;
    case G_IO_ERROR_NOT_FOUND:
      code = STORE_ERROR_NOT_FOUND;
      break;
    case G_IO_ERROR_NOT_SUPPORTED:
      code = STORE_ERROR_SCHEMA;
      break;
    default:
      code = STORE_ERROR_FAILED;
      break;
    }
  (*error)->domain = STORE_ERROR;
  (*error)->code = code;
}

void
store_set_error_from_db (Store *store, GError **error, const char *what)
{
  voip_sqlite_set_error (store->sqlite, error, what);
  store_error_from_sqlite (error);
}

VoipSqliteStmt *
store_stmt (Store *store, const char *sql, const char *what, GError **error)
{
  VoipSqliteStmt *stmt;

  /* Every query runs inside a job's savepoint; a call from elsewhere is a
   * bug in the caller, not a database failure. */
  g_return_val_if_fail (store->owner == NULL || store->owner == g_thread_self (), NULL);

  stmt = voip_sqlite_stmt (store->sqlite, sql, what, error);
  if (stmt == NULL)
    store_error_from_sqlite (error);
  return stmt;
}

gboolean
store_step_done (Store *store, VoipSqliteStmt *stmt, const char *what, GError **error)
{
  if (voip_sqlite_step_done (store->sqlite, stmt, what, error))
    return TRUE;
  store_error_from_sqlite (error);
  return FALSE;
}

int
store_step_row (Store *store, VoipSqliteStmt *stmt, const char *what, GError **error)
{
  int rc = voip_sqlite_step_row (store->sqlite, stmt, what, error);

  if (rc < 0)
    store_error_from_sqlite (error);
  return rc;
}

gboolean
store_exec (Store *store, const char *sql, const char *what, GError **error)
{
  if (voip_sqlite_exec (store->sqlite, sql, what, error))
    return TRUE;
  store_error_from_sqlite (error);
  return FALSE;
}

gboolean
store_exec_prepared (Store *store, const char *sql, const char *what, GError **error)
{
  g_autoptr(VoipSqliteStmt) stmt = store_stmt (store, sql, what, error);

  return stmt != NULL && store_step_done (store, stmt, what, error);
}
