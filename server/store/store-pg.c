/* store-pg.c — the PostgreSQL backend: the connection, its transaction
 * steps, and the helpers the other store-pg-*.c files query with.
 *
 * Why a thread and not libpq's asynchronous API on the main loop: a job's
 * work is sequential code whose next statement depends on the last result
 * (find the user, then check the friendship, then insert), and every server
 * handler is written that way for SQLite. The store thread runs those jobs
 * unchanged, one connection, one transaction per batch with a savepoint
 * per job, so group commit works as it does for SQLite: one COMMIT (one
 * WAL flush on the server) covers the whole batch, and the main loop never
 * waits for the network or the disk. On the thread libpq is still used
 * non-blocking, with poll() and a deadline on every exchange, so that a
 * server that stops answering costs a bounded STORE_PG_TIMEOUT_MS, never a
 * hang. Statements are prepared once per connection and most operations
 * are one round trip (data-modifying CTEs, ON CONFLICT, RETURNING).
 *
 * When the connection breaks, the batch running fails (its jobs report
 * not committed, which the server answers with Storage), and the next batch
 * connects again; while that fails, batches fail at once for
 * STORE_PG_RETRY_MS between attempts. Nothing is retried behind the
 * caller's back: an unacknowledged message is resent by its client with the
 * same client_id, which the store deduplicates.
 */
#define G_LOG_DOMAIN "voip-store"

#include <errno.h>
#include <poll.h>
#include <string.h>

#include "store-pg.h"

/* ---- parameters and results ------------------------------------------------ */

static int
next_param (StorePgParams *params)
{
  g_assert (params->n < STORE_PG_MAX_PARAMS);
  return params->n++;
}

void
store_pg_param_int (StorePgParams *params, gint64 value)
{
  int i = next_param (params);

  g_snprintf (params->numbers[i], sizeof params->numbers[i], "%" G_GINT64_FORMAT, value);
  params->values[i] = params->numbers[i];
  params->lengths[i] = 0;
  params->formats[i] = 0;
}

void
store_pg_param_text (StorePgParams *params, const char *text)
{
  int i = next_param (params);

  params->values[i] = text;
  params->lengths[i] = 0;
  params->formats[i] = 0;
}

void
store_pg_param_null (StorePgParams *params)
{
  store_pg_param_text (params, NULL);
}

void
store_pg_param_bytes (StorePgParams *params, GBytes *bytes)
{
  int i = next_param (params);
  gsize size = 0;

  /* Binary, so that voice data and avatars need no escaping. A non-NULL
   * pointer even when empty: NULL would be SQL NULL. */
  params->values[i] = bytes != NULL ? g_bytes_get_data (bytes, &size) : NULL;
  if (bytes != NULL && params->values[i] == NULL)
    params->values[i] = "";
  params->lengths[i] = (int) size;
  params->formats[i] = 1;
}

gint64
store_pg_int (const PGresult *result, int row, int column)
{
  if (PQgetisnull (result, row, column))
    return 0;
  return g_ascii_strtoll (PQgetvalue (result, row, column), NULL, 10);
}

gboolean
store_pg_bool (const PGresult *result, int row, int column)
{
  return !PQgetisnull (result, row, column) && PQgetvalue (result, row, column)[0] == 't';
}

char *
store_pg_dup (const PGresult *result, int row, int column)
{
  if (PQgetisnull (result, row, column))
    return g_strdup ("");
  return g_strdup (PQgetvalue (result, row, column));
}

GBytes *
store_pg_bytes (const PGresult *result, int row, int column)
{
  unsigned char *data;
  size_t size = 0;

  if (PQgetisnull (result, row, column))
    return g_bytes_new (NULL, 0);
  data = PQunescapeBytea ((const unsigned char *) PQgetvalue (result, row, column), &size);
  if (data == NULL)
    return g_bytes_new (NULL, 0);
  return g_bytes_new_with_free_func (data, size, PQfreemem, data);
}

gint64
store_pg_changes (const PGresult *result)
{
  return g_ascii_strtoll (PQcmdTuples ((PGresult *) result), NULL, 10);
}

/* ---- the connection -------------------------------------------------------- */

/* libpq's messages span lines ("FATAL: …\nserver closed the connection
 * unexpectedly\n\tThis probably means…"): one line per log entry. */
static char *
one_line (const char *message)
{
  g_auto(GStrv) words = g_strsplit_set (message != NULL ? message : "", " \t\r\n", -1);
  GString *line = g_string_new (NULL);

  for (guint i = 0; words[i] != NULL; i++)
    if (*words[i] != '\0')
      {
        if (line->len > 0)
          g_string_append_c (line, ' ');
        g_string_append (line, words[i]);
      }
  return g_string_free (line, FALSE);
}

static void
drop_connection (Store *store, const char *why)
{
  StorePg *pg = store->pg;
  g_autofree char *message = NULL;

  if (pg->conn == NULL)
    return;
  message = one_line (why);
  g_warning ("lost the connection to PostgreSQL: %s", message);
  g_clear_pointer (&pg->conn, PQfinish);
  g_hash_table_remove_all (pg->prepared);
  pg->was_lost = TRUE;
}

static void
set_unavailable (GError **error, const char *what, const char *why)
{
  g_autofree char *message = one_line (why);

  g_set_error (error, STORE_ERROR, STORE_ERROR_UNAVAILABLE,
               "%s: the database is unavailable: %s", what, message);
}

/* Waits until the socket is ready for `events` or the deadline passes. */
static gboolean
wait_socket (PGconn *conn, short events, gint64 deadline_us, const char **why)
{
  struct pollfd pfd = { PQsocket (conn), events, 0 };

  for (;;)
    {
      gint64 left_ms = (deadline_us - g_get_monotonic_time () + 999) / 1000;
      int rc;

      if (pfd.fd < 0)
        {
          *why = "no socket";
          return FALSE;
        }
      if (left_ms <= 0)
        {
          *why = "no answer in " G_STRINGIFY (STORE_PG_TIMEOUT_MS) " ms";
          return FALSE;
        }
      rc = poll (&pfd, 1, (int) left_ms);
      if (rc > 0)
        return TRUE;
      if (rc < 0 && errno != EINTR)
        {
          *why = g_strerror (errno);
          return FALSE;
        }
    }
}

/* Connects without blocking past the deadline (libpq's connect_timeout
 * counts per address, and not the authentication exchange). */
static PGconn *
connect_bounded (const char *conninfo, char **why)
{
  const char *const keywords[] = { "dbname", "application_name", "client_encoding", NULL };
  const char *const values[] = { conninfo, "voip-server", "UTF8", NULL };
  gint64 deadline = g_get_monotonic_time () + STORE_PG_TIMEOUT_MS * G_TIME_SPAN_MILLISECOND;
  g_autoptr(PGconn) conn = NULL;

  /* expand_dbname: `dbname` is the whole URI, and the other keywords apply
   * only where it says nothing. */
  conn = PQconnectStartParams (keywords, values, 1);
  if (conn == NULL)
    {
      *why = g_strdup ("out of memory");
      return NULL;
    }

  for (;;)
    {
      PostgresPollingStatusType status = PQconnectPoll (conn);
      const char *wait_why = NULL;

      if (status == PGRES_POLLING_OK)
        break;
      if (status == PGRES_POLLING_FAILED)
        {
          *why = g_strchomp (g_strdup (PQerrorMessage (conn)));
          return NULL;
        }
      if (!wait_socket (conn, status == PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline,
                        &wait_why))
        {
          *why = g_strdup (wait_why);
          return NULL;
        }
    }

  if (PQsetnonblocking (conn, 1) != 0)
    {
      *why = g_strchomp (g_strdup (PQerrorMessage (conn)));
      return NULL;
    }
  return g_steal_pointer (&conn);
}

/* Connects if disconnected, unless the last attempt was too recent. */
static gboolean
ensure_connection (Store *store, const char *what, GError **error)
{
  StorePg *pg = store->pg;
  g_autofree char *why = NULL;

  if (pg->conn != NULL)
    return TRUE;
  if (g_get_monotonic_time () < pg->retry_at_us)
    {
      set_unavailable (error, what, "reconnecting");
      return FALSE;
    }

  pg->conn = connect_bounded (pg->conninfo, &why);
  if (pg->conn == NULL)
    {
      pg->retry_at_us = g_get_monotonic_time () + STORE_PG_RETRY_MS * G_TIME_SPAN_MILLISECOND;
      set_unavailable (error, what, why);
      return FALSE;
    }
  if (pg->was_lost)
    g_message ("connected to PostgreSQL again");
  pg->was_lost = FALSE;
  pg->timed_out = FALSE;
  return TRUE;
}

/* Sends what libpq holds and reads results until the command is complete.
 * Keeps the last result (the first error if there is one). */
static PGresult *
finish_exchange (Store *store, const char *what, GError **error)
{
  PGconn *conn = store->pg->conn;
  gint64 deadline = g_get_monotonic_time () + STORE_PG_TIMEOUT_MS * G_TIME_SPAN_MILLISECOND;
  g_autoptr(PGresult) kept = NULL;
  const char *why = NULL;
  gboolean silent = TRUE;   /* until libpq reports the connection lost */
  int flushed;

  /* PQflush() 1: more to send; wait for either direction, since the
   * server may be waiting for us to read before it reads on. */
  while ((flushed = PQflush (conn)) == 1)
    {
      if (!wait_socket (conn, POLLIN | POLLOUT, deadline, &why))
        goto broken;
      if (!PQconsumeInput (conn))
        goto lost;
    }
  if (flushed < 0)
    goto lost;

  for (;;)
    {
      PGresult *result;

      while (PQisBusy (conn))
        {
          if (!wait_socket (conn, POLLIN, deadline, &why))
            goto broken;
          if (!PQconsumeInput (conn))
            goto lost;
        }
      result = PQgetResult (conn);
      if (result == NULL)
        break;
      if (kept == NULL || PQresultStatus (kept) != PGRES_FATAL_ERROR)
        {
          g_clear_pointer (&kept, PQclear);
          kept = result;
        }
      else
        PQclear (result);
    }

  if (kept == NULL)
    goto lost;
  return g_steal_pointer (&kept);

lost:
  why = PQerrorMessage (conn);
  silent = FALSE;
broken:
  {
    g_autofree char *message = g_strchomp (g_strdup (why));

    set_unavailable (error, what, message);
    drop_connection (store, message);
    store->pg->timed_out = silent;
  }
  return NULL;
}

/* Turns a finished result into success or a STORE_ERROR. */
static gboolean
check_result (Store *store, const PGresult *result, const char *what, GError **error)
{
  const char *state;
  g_autofree char *message = NULL;
  StoreError code = STORE_ERROR_FAILED;

  switch (PQresultStatus (result))
    {
    case PGRES_COMMAND_OK:
    case PGRES_TUPLES_OK:
      return TRUE;
    default:
      break;
    }

  state = PQresultErrorField (result, PG_DIAG_SQLSTATE);
  message = one_line (PQresultErrorMessage (result));
  if (state != NULL && strcmp (state, "23505") == 0)
    code = STORE_ERROR_EXISTS;
  else if (state != NULL && strcmp (state, "23503") == 0)
    code = STORE_ERROR_NOT_FOUND;
  /* Class 08 (connection), 57P0x (the server shutting down or restarting). */
  else if (PQstatus (store->pg->conn) != CONNECTION_OK ||
           (state != NULL && (g_str_has_prefix (state, "08") || g_str_has_prefix (state, "57P"))))
    {
      code = STORE_ERROR_UNAVAILABLE;
      drop_connection (store, message);
    }
  g_set_error (error, STORE_ERROR, code, "%s: %s", what, message);
  return FALSE;
}

/* The statement's name on this connection, preparing it the first time. */
static const char *
prepare (Store *store, const char *sql, int n_params, const char *what, GError **error)
{
  StorePg *pg = store->pg;
  g_autoptr(PGresult) result = NULL;
  char *name = g_hash_table_lookup (pg->prepared, sql);

  if (name != NULL)
    return name;

  name = g_strdup_printf ("s%u", ++pg->n_prepared);
  if (!PQsendPrepare (pg->conn, name, sql, n_params, NULL))
    {
      g_free (name);
      set_unavailable (error, what, PQerrorMessage (pg->conn));
      drop_connection (store, "sending a statement failed");
      return NULL;
    }
  result = finish_exchange (store, what, error);
  if (result == NULL || !check_result (store, result, what, error))
    {
      g_free (name);
      return NULL;
    }
  g_hash_table_insert (pg->prepared, (gpointer) sql, name);
  return name;
}

static gboolean
check_thread (Store *store, const char *what, GError **error)
{
  /* Every query runs inside a job's savepoint; a call from elsewhere is a
   * bug in the caller, not a database failure. */
  g_return_val_if_fail (store->owner == NULL || store->owner == g_thread_self (), FALSE);

  if (store->pg->conn == NULL)
    {
      set_unavailable (error, what, "the connection was lost");
      return FALSE;
    }
  return TRUE;
}

PGresult *
store_pg_query (Store *store, const char *sql, const StorePgParams *params, const char *what,
                GError **error)
{
  static const StorePgParams none = { 0, };
  g_autoptr(PGresult) result = NULL;
  const char *name;

  if (params == NULL)
    params = &none;
  if (!check_thread (store, what, error))
    return NULL;
  name = prepare (store, sql, params->n, what, error);
  if (name == NULL)
    return NULL;

  if (!PQsendQueryPrepared (store->pg->conn, name, params->n, params->values, params->lengths,
                            params->formats, 0))
    {
      set_unavailable (error, what, PQerrorMessage (store->pg->conn));
      drop_connection (store, "sending a query failed");
      return NULL;
    }
  result = finish_exchange (store, what, error);
  if (result == NULL || !check_result (store, result, what, error))
    return NULL;
  return g_steal_pointer (&result);
}

gboolean
store_pg_exec (Store *store, const char *sql, const char *what, GError **error)
{
  g_autoptr(PGresult) result = NULL;

  if (!check_thread (store, what, error))
    return FALSE;
  if (!PQsendQuery (store->pg->conn, sql))
    {
      set_unavailable (error, what, PQerrorMessage (store->pg->conn));
      drop_connection (store, "sending a query failed");
      return FALSE;
    }
  result = finish_exchange (store, what, error);
  return result != NULL && check_result (store, result, what, error);
}

/* ---- the backend ----------------------------------------------------------- */

static void
pg_close (Store *store)
{
  StorePg *pg = g_steal_pointer (&store->pg);

  if (pg == NULL)
    return;
  g_clear_pointer (&pg->conn, PQfinish);
  g_clear_pointer (&pg->prepared, g_hash_table_unref);
  g_free (pg->conninfo);
  g_free (pg);
}

static gboolean
pg_open (Store *store, const char *location, GError **error)
{
  StorePg *pg = g_new0 (StorePg, 1);

  store->pg = pg;
  pg->conninfo = g_strdup (location);
  pg->prepared = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);

  if (!ensure_connection (store, "opening the database", error) ||
      !store_pg_schema_migrate (store, error))
    return FALSE;

  /* The URI may hold a password: log only where it went. */
  g_message ("storing in PostgreSQL %s, database %s (schema version %d)",
             PQhost (pg->conn), PQdb (pg->conn), store->schema_version);
  return TRUE;
}

/* The one place a connection is made again: between transactions. A
 * connection that died while idle (PostgreSQL restarted between two
 * batches) is only found out by using it; BEGIN is the first thing of the
 * transaction, so trying once more on a new connection loses nothing and
 * spares the batch a needless Storage error. */
static gboolean
pg_begin (Store *store, GError **error)
{
  const char *what = "starting a transaction";
  g_autoptr(GError) first = NULL;
  gboolean was_connected = store->pg->conn != NULL;

  if (!ensure_connection (store, what, error))
    return FALSE;
  if (store_pg_exec (store, "BEGIN", what, &first))
    return TRUE;
  /* Not after a timeout: a server that does not answer would cost a second
   * STORE_PG_TIMEOUT_MS connecting. */
  if (!was_connected || store->pg->timed_out ||
      !g_error_matches (first, STORE_ERROR, STORE_ERROR_UNAVAILABLE))
    {
      g_propagate_error (error, g_steal_pointer (&first));
      return FALSE;
    }
  return ensure_connection (store, what, error) &&
         store_pg_exec (store, "BEGIN", what, error);
}

/* A job's RELEASE is sent with the next job's SAVEPOINT, in one round
 * trip: a RELEASE can only fail if a statement of the job failed, which
 * libpq already knows (the transaction is in error), or if the connection
 * breaks, which the next step finds and which fails the whole transaction
 * anyway. COMMIT releases every savepoint by itself. That leaves one round
 * trip of bookkeeping per job instead of two, and the job's own statements. */
static gboolean
pg_release (Store *store, GError **error)
{
  PGconn *conn = store->pg->conn;

  if (conn == NULL)
    {
      set_unavailable (error, "finishing a job", "the connection was lost");
      return FALSE;
    }
  if (PQtransactionStatus (conn) == PQTRANS_INERROR)
    {
      g_set_error (error, STORE_ERROR, STORE_ERROR_FAILED,
                   "finishing a job: a statement of the job failed");
      return FALSE;
    }
  store->pg->release_due = TRUE;
  return TRUE;
}

static gboolean
pg_txn (Store *store, StoreTxn step, GError **error)
{
  StorePg *pg = store->pg;
  gboolean release_due = pg->release_due;

  pg->release_due = FALSE;
  switch (step)
    {
    case STORE_TXN_BEGIN:
      return pg_begin (store, error);
    case STORE_TXN_SAVEPOINT:
      if (release_due)
        return store_pg_exec (store, "RELEASE SAVEPOINT job; SAVEPOINT job", "starting a job",
                              error);
      return store_pg_exec (store, "SAVEPOINT job", "starting a job", error);
    case STORE_TXN_RELEASE:
      return pg_release (store, error);
    case STORE_TXN_ROLLBACK_TO:
      return store_pg_exec (store, "ROLLBACK TO SAVEPOINT job", "rolling back a job", error);
    case STORE_TXN_COMMIT:
      /* synchronous_commit is on by default: COMMIT returns once the WAL
       * is flushed, so a job hears committed only when it is durable. */
      return store_pg_exec (store, "COMMIT", "committing", error);
    case STORE_TXN_ROLLBACK:
      if (pg->conn != NULL && PQtransactionStatus (pg->conn) != PQTRANS_IDLE)
        store_pg_exec (store, "ROLLBACK", "rolling back", NULL);
      return TRUE;
    }
  g_assert_not_reached ();
}

static gboolean
pg_in_transaction (Store *store)
{
  PGconn *conn = store->pg->conn;

  if (conn == NULL)
    return FALSE;
  switch (PQtransactionStatus (conn))
    {
    case PQTRANS_INTRANS:
    case PQTRANS_INERROR:   /* a failed statement: ROLLBACK TO recovers it */
      return TRUE;
    default:
      return FALSE;
    }
}

const StoreBackend store_pg_backend = {
  .name = "postgresql",
  .open = pg_open,
  .close = pg_close,
  .txn = pg_txn,
  .in_transaction = pg_in_transaction,
  .user_create = store_pg_user_create,
  .user_find = store_pg_user_find,
  .user_find_any = store_pg_user_find_any,
  .user_get = store_pg_user_get,
  .user_set_password = store_pg_user_set_password,
  .user_delete = store_pg_user_delete,
  .profile_get = store_pg_profile_get,
  .profile_set = store_pg_profile_set,
  .token_add = store_pg_token_add,
  .token_find = store_pg_token_find,
  .token_delete = store_pg_token_delete,
  .token_delete_others = store_pg_token_delete_others,
  .contact_state = store_pg_contact_state,
  .contact_request = store_pg_contact_request,
  .contact_befriend = store_pg_contact_befriend,
  .contact_unlink = store_pg_contact_unlink,
  .contact_friends = store_pg_contact_friends,
  .contact_pending = store_pg_contact_pending,
  .group_create = store_pg_group_create,
  .group_get = store_pg_group_get,
  .group_is_member = store_pg_group_is_member,
  .group_list_for_user = store_pg_group_list_for_user,
  .group_add_member = store_pg_group_add_member,
  .group_remove_member = store_pg_group_remove_member,
  .group_set_owner = store_pg_group_set_owner,
  .group_rename = store_pg_group_rename,
  .group_delete = store_pg_group_delete,
  .message_insert = store_pg_message_insert,
  .message_get = store_pg_message_get,
  .message_edit = store_pg_message_edit,
  .message_delete = store_pg_message_delete,
  .message_history = store_pg_message_history,
  .message_sync = store_pg_message_sync,
};
