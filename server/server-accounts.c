/* server-accounts.c — register, login, resume, logout, password change and
 * account deletion.
 *
 * Password work is argon2id on worker threads, so Login is a chain on one
 * AccountJob: store (find the hash) → password pool (verify) → store (add a
 * token) → reply. While it runs the session is "authenticating": a second
 * login on the same connection is refused and the login timeout waits. */
#define G_LOG_DOMAIN "voip-server"

#include <string.h>

#include "server-handlers.h"
#include "server-groups.h"
#include "server-job.h"
#include "server-presence.h"

typedef struct _AccountJob AccountJob;

struct _AccountJob {
  ServerJob  base;
  char      *username;
  char      *password;       /* to verify (or, for Register, to hash) */
  char      *new_password;   /* ChangePassword */
  char      *hash;           /* the stored hash, then the new one */
  char      *email;
  char      *token;          /* a new session token, handed to the client once */
  char      *token_hash;
  gint64     account_id;     /* found by the lookup */
  void     (*on_verified) (AccountJob *job);
  /* DeleteAccount: who must hear of it */
  GArray    *former_contacts;  /* gint64 */
  GPtrArray *changed_groups;   /* StoreGroup* */
};

static void
wipe (char **secret)
{
  if (*secret)
    memset (*secret, 0, strlen (*secret));
  g_clear_pointer (secret, g_free);
}

static void
account_job_clear (AccountJob *job)
{
  if (job->base.session)
    server_session_set_authenticating (job->base.session, FALSE);
  g_free (job->username);
  wipe (&job->password);
  wipe (&job->new_password);
  g_free (job->hash);
  g_free (job->email);
  wipe (&job->token);
  g_free (job->token_hash);
  g_clear_pointer (&job->former_contacts, g_array_unref);
  g_clear_pointer (&job->changed_groups, g_ptr_array_unref);
}

static AccountJob *
account_job_new (Server *server, ServerSession *session, const ServerRequest *request,
                 gpointer work, gpointer after)
{
  AccountJob *job = server_job_new (AccountJob, server, session, request, work, after,
                                    account_job_clear);

  server_session_set_authenticating (session, TRUE);
  return job;
}

static gboolean
check_rate (Server *server, ServerSession *session, const ServerRequest *request,
            const char *username)
{
  if (server_login_attempt_allowed (server, session, username))
    return TRUE;
  server_session_reply_error (session, request->code, request->request_id,
                              VOIP_STATUS_RATE_LIMITED, NULL);
  return FALSE;
}

static void
account_job_new_token (AccountJob *job)
{
  job->token = server_token_new ();
  job->token_hash = server_token_hash (job->token);
}

/* The account is known and the token stored: the session is logged in
 * (unless the client went away meanwhile). */
static gboolean
log_in_session (AccountJob *job)
{
  ServerSession *session = job->base.session;

  if (server_session_is_closed (session))
    return FALSE;
  server_session_set_login (session, job->account_id, job->username, job->token_hash);
  server_presence_session_started (job->base.server, session);
  return TRUE;
}

/* After Register or Login: the reply hands the new token to the client. */
static void
token_after (AccountJob *job)
{
  if (log_in_session (job))
    job->base.reply = g_variant_new ("(ss)", job->username, job->token);
}

static gboolean
token_work (Store *store, AccountJob *job)
{
  g_autoptr(GError) error = NULL;

  return store_token_add (store, job->account_id, job->token_hash, job->base.now_ms, &error)
         || server_job_fail_store (&job->base, error);
}

/* ---- verifying a password: lookup job, then the password pool ----------- */

static gboolean
lookup_work (Store *store, AccountJob *job)
{
  g_auto(StoreUser) user = { 0 };
  g_autoptr(GError) error = NULL;
  gboolean found = job->base.user_id != 0
                   ? store_user_get (store, job->base.user_id, &user, &error)
                   : store_user_find (store, job->username, &user, &error);

  if (error != NULL)
    return server_job_fail_store (&job->base, error);
  if (found && !user.deleted)
    {
      job->account_id = user.id;
      job->hash = g_steal_pointer (&user.password_hash);
    }
  return TRUE;
}

static void
on_verified (gboolean matches, gpointer user_data)
{
  AccountJob *job = user_data;

  if (!matches)
    {
      server_login_failed (job->base.server, job->username);
      server_job_fail (&job->base, VOIP_STATUS_BAD_LOGIN, NULL);
    }
  if (!matches || server_session_is_closed (job->base.session))
    {
      server_job_finish (&job->base);
      return;
    }
  job->on_verified (job);
}

/* `after` of the lookup: verify, even for an unknown user (against a dummy
 * hash), so that the answer takes as long either way. */
static void
lookup_after (AccountJob *job)
{
  server_job_suspend (&job->base);
  server_password_verify (server_get_password (job->base.server), job->password, job->hash,
                          on_verified, job);
}

static void
account_verify_then (AccountJob *job, void (*on_verified_cb) (AccountJob *))
{
  job->base.work = (ServerJobWork) lookup_work;
  job->base.after = (ServerJobAfter) lookup_after;
  job->on_verified = on_verified_cb;
  server_job_submit (&job->base);
}

static void
account_continue (AccountJob *job, gpointer work, gpointer after)
{
  job->base.work = work;
  job->base.after = after;
  server_job_submit (&job->base);
}

/* ---- Register ------------------------------------------------------------ */

static gboolean
register_work (Store *store, AccountJob *job)
{
  g_autoptr(GError) error = NULL;

  job->account_id = store_user_create (store, job->username, job->hash, job->email,
                                       job->base.now_ms, &error);
  if (job->account_id == 0)
    return g_error_matches (error, STORE_ERROR, STORE_ERROR_EXISTS)
           ? server_job_fail (&job->base, VOIP_STATUS_USER_EXISTS, NULL)
           : server_job_fail_store (&job->base, error);
  return token_work (store, job);
}

static void
on_register_hashed (char *hash, gpointer user_data)
{
  AccountJob *job = user_data;

  job->hash = hash;
  if (hash == NULL)
    {
      server_job_fail (&job->base, VOIP_STATUS_UNKNOWN, "cannot hash the password now");
      server_job_finish (&job->base);
      return;
    }
  server_job_submit (&job->base);
}

void
server_handle_register (Server *server, ServerSession *session, const ServerRequest *request)
{
  const char *username, *password, *email;
  g_autoptr(GError) error = NULL;
  AccountJob *job;

  g_variant_get (request->payload, "(&s&s&s)", &username, &password, &email);
  if (!voip_validate_username (username, &error) || !voip_validate_password (password, &error)
      || !voip_validate_email (email, &error))
    {
      server_reply_gerror (session, request, error);
      return;
    }
  if (!check_rate (server, session, request, username))
    return;

  job = account_job_new (server, session, request, register_work, token_after);
  job->username = g_strdup (username);
  job->email = g_strdup (email);
  account_job_new_token (job);
  server_password_hash (server_get_password (server), password, on_register_hashed, job);
}

/* ---- Login --------------------------------------------------------------- */

static void
login_verified (AccountJob *job)
{
  account_job_new_token (job);
  account_continue (job, token_work, token_after);
}

void
server_handle_login (Server *server, ServerSession *session, const ServerRequest *request)
{
  const char *username, *password;
  g_autoptr(GError) error = NULL;
  AccountJob *job;

  g_variant_get (request->payload, "(&s&s)", &username, &password);
  if (!voip_validate_username (username, &error) || !voip_validate_password (password, &error))
    {
      server_reply_gerror (session, request, error);
      return;
    }
  if (!check_rate (server, session, request, username))
    return;

  job = account_job_new (server, session, request, NULL, NULL);
  job->username = g_strdup (username);
  job->password = g_strdup (password);
  account_verify_then (job, login_verified);
}

/* ---- Resume -------------------------------------------------------------- */

static gboolean
resume_work (Store *store, AccountJob *job)
{
  g_auto(StoreUser) user = { 0 };
  g_autoptr(GError) error = NULL;

  job->account_id = store_token_find (store, job->token_hash, &error);
  if (error != NULL)
    return server_job_fail_store (&job->base, error);
  if (job->account_id != 0 && !store_user_get (store, job->account_id, &user, &error)
      && error != NULL)
    return server_job_fail_store (&job->base, error);
  if (job->account_id == 0 || user.deleted || g_strcmp0 (user.username, job->username) != 0)
    return server_job_fail (&job->base, VOIP_STATUS_BAD_TOKEN, NULL);
  return TRUE;
}

static void
resume_after (AccountJob *job)
{
  /* The client has the token already; the reply carries only the name. */
  if (log_in_session (job))
    job->base.reply = g_variant_new ("(s)", job->username);
}

void
server_handle_resume (Server *server, ServerSession *session, const ServerRequest *request)
{
  const char *username, *token;
  g_autoptr(GError) error = NULL;
  AccountJob *job;

  g_variant_get (request->payload, "(&s&s)", &username, &token);
  if (!voip_validate_username (username, &error) || !voip_validate_token (token, &error))
    {
      server_reply_gerror (session, request, error);
      return;
    }
  if (!check_rate (server, session, request, username))
    return;

  job = account_job_new (server, session, request, resume_work, resume_after);
  job->username = g_strdup (username);
  job->token_hash = server_token_hash (token);
  server_job_submit (&job->base);
}

/* ---- Logout -------------------------------------------------------------- */

static gboolean
logout_work (Store *store, AccountJob *job)
{
  g_autoptr(GError) error = NULL;

  return store_token_delete (store, job->token_hash, &error)
         || server_job_fail_store (&job->base, error);
}

static void
logout_after (AccountJob *job)
{
  ServerSession *session = job->base.session;

  /* The session may have been closed or logged out meanwhile. */
  if (g_strcmp0 (server_session_get_token_hash (session), job->token_hash) != 0)
    return;
  server_session_ended (job->base.server, session);
  server_session_clear_login (session);
}

void
server_handle_logout (Server *server, ServerSession *session, const ServerRequest *request)
{
  AccountJob *job = server_job_new (AccountJob, server, session, request, logout_work,
                                    logout_after, account_job_clear);

  job->token_hash = g_strdup (server_session_get_token_hash (session));
  server_job_submit (&job->base);
}

/* ---- ChangePassword -------------------------------------------------------- */

static gboolean
change_password_work (Store *store, AccountJob *job)
{
  g_autoptr(GError) error = NULL;

  if (!store_user_set_password (store, job->account_id, job->hash, &error)
      || !store_token_delete_others (store, job->account_id, job->token_hash, &error))
    return server_job_fail_store (&job->base, error);
  return TRUE;
}

static void
change_password_after (AccountJob *job)
{
  server_revoke_user_sessions (job->base.server, job->account_id, job->base.session,
                               job->token_hash, VOIP_CLOSE_TOKEN_REVOKED,
                               "the password was changed");
}

static void
on_new_password_hashed (char *hash, gpointer user_data)
{
  AccountJob *job = user_data;

  g_free (job->hash);
  job->hash = hash;
  if (hash == NULL)
    {
      server_job_fail (&job->base, VOIP_STATUS_UNKNOWN, "cannot hash the password now");
      server_job_finish (&job->base);
      return;
    }
  account_continue (job, change_password_work, change_password_after);
}

static void
change_password_verified (AccountJob *job)
{
  server_password_hash (server_get_password (job->base.server), job->new_password,
                        on_new_password_hashed, job);
}

void
server_handle_change_password (Server *server, ServerSession *session,
                               const ServerRequest *request)
{
  const char *old_password, *new_password;
  g_autoptr(GError) error = NULL;
  AccountJob *job;

  g_variant_get (request->payload, "(&s&s)", &old_password, &new_password);
  if (!voip_validate_password (new_password, &error))
    {
      server_reply_gerror (session, request, error);
      return;
    }
  if (!check_rate (server, session, request, server_session_get_username (session)))
    return;

  job = account_job_new (server, session, request, NULL, NULL);
  job->username = g_strdup (server_session_get_username (session));
  job->password = g_strdup (old_password);
  job->new_password = g_strdup (new_password);
  job->token_hash = g_strdup (server_session_get_token_hash (session));
  account_verify_then (job, change_password_verified);
}

/* ---- DeleteAccount ------------------------------------------------------------ */

static gboolean
collect_contacts (Store *store, AccountJob *job, GError **error)
{
  g_autoptr(GPtrArray) friends = store_contact_friends (store, job->account_id, error);

  if (friends == NULL)
    return FALSE;
  for (guint i = 0; i < friends->len; i++)
    g_array_append_val (job->former_contacts, ((StoreContact *) friends->pdata[i])->id);

  for (int incoming = 0; incoming <= 1; incoming++)
    {
      g_autoptr(GPtrArray) names = store_contact_pending (store, job->account_id, incoming, error);

      if (names == NULL)
        return FALSE;
      for (guint i = 0; i < names->len; i++)
        {
          g_auto(StoreUser) other = { 0 };

          if (store_user_find (store, names->pdata[i], &other, error))
            g_array_append_val (job->former_contacts, other.id);
          else if (*error != NULL)
            return FALSE;
        }
    }
  return TRUE;
}

static gboolean
delete_account_work (Store *store, AccountJob *job)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) groups = NULL;

  job->former_contacts = g_array_new (FALSE, FALSE, sizeof (gint64));
  job->changed_groups = g_ptr_array_new_with_free_func ((GDestroyNotify) server_group_free);
  if (!collect_contacts (store, job, &error))
    return server_job_fail_store (&job->base, error);

  groups = store_group_list_for_user (store, job->account_id, &error);
  if (groups == NULL)
    return server_job_fail_store (&job->base, error);
  for (guint i = 0; i < groups->len; i++)
    {
      StoreGroup *after = g_new0 (StoreGroup, 1);
      gboolean deleted = FALSE;

      if (!server_groups_leave (store, g_array_index (groups, gint64, i), job->account_id,
                                after, &deleted, &error))
        {
          server_group_free (after);
          return server_job_fail_store (&job->base, error);
        }
      if (deleted)
        server_group_free (after);
      else
        g_ptr_array_add (job->changed_groups, after);
    }

  if (!store_user_delete (store, job->account_id, &error))
    return server_job_fail_store (&job->base, error);
  return TRUE;
}

static void
delete_account_after (AccountJob *job)
{
  Server *server = job->base.server;
  g_autoptr(GBytes) removed = voip_frame_encode (
      VOIP_KIND_EVENT, VOIP_MSG_CONTACT_CHANGED, 0, 0,
      g_variant_new ("(ssuu)", job->username, "", VOIP_SUBSCRIPTION_NONE,
                     VOIP_CONTACT_CHANGE_REMOVED));

  for (guint i = 0; i < job->former_contacts->len; i++)
    server_registry_send (server_get_registry (server),
                          g_array_index (job->former_contacts, gint64, i), removed, NULL);
  for (guint i = 0; i < job->changed_groups->len; i++)
    server_groups_broadcast_changed (server, job->changed_groups->pdata[i], NULL);

  /* Answer first: closing the session lets nothing but the goodbye through. */
  server_session_reply (job->base.session, job->base.code, job->base.request_id,
                        g_variant_new ("()"));
  server_revoke_user_sessions (server, job->account_id, NULL, NULL,
                               VOIP_CLOSE_ACCOUNT_DELETED, "the account was deleted");
  g_clear_object (&job->base.session);
}

static void
delete_account_verified (AccountJob *job)
{
  account_continue (job, delete_account_work, delete_account_after);
}

void
server_handle_delete_account (Server *server, ServerSession *session,
                              const ServerRequest *request)
{
  const char *password;
  AccountJob *job;

  g_variant_get (request->payload, "(&s)", &password);
  if (!check_rate (server, session, request, server_session_get_username (session)))
    return;

  job = account_job_new (server, session, request, NULL, NULL);
  job->username = g_strdup (server_session_get_username (session));
  job->password = g_strdup (password);
  account_verify_then (job, delete_account_verified);
}

/* ---- Ping ---------------------------------------------------------------------- */

void
server_handle_ping (Server *server, ServerSession *session, const ServerRequest *request)
{
  server_session_reply (session, request->code, request->request_id, g_variant_new ("()"));
}
