/* voipd-session.c — VoipdSession: the connection to the server and its lifecycle.
 *
 * States (the "state" property; Account.State is its nick):
 *   offline         no session (never logged in, logged out, or the token was refused)
 *   connecting      the session's resume is opening its connection
 *   authenticating  the server accepted a login and the resync runs, or a
 *                   resume is in flight
 *   online          logged in; contacts, groups and messages in sync
 *   reconnecting    the connection was lost; retrying with backoff and jitter
 *                   (voipd-backoff.h)
 *
 * A Login or Register is a candidate until the server accepts it: the
 * state and everything else stay as they were while it runs, and only its
 * success replaces the session (see "logging in" below). */
#define G_LOG_DOMAIN "voipd"

#include <string.h>

#include <glib/gi18n.h>

#include "voipd-session.h"
#include "voipd-backoff.h"
#include "voipd-enums.h"
#include "voipd-errors.h"
#include "voipd-secrets.h"
#include "voipd-server-list.h"
#include "voipd-tls-pins.h"

/* A keyring that does not answer within this is treated as absent. */
#define KEYRING_TIMEOUT_S 5

struct _VoipdSession {
  GObject parent_instance;

  GSettings        *settings;
  VoipdConnection  *connection;

  char             *server;          /* as given: one node, a list or an SRV domain */
  guint             node;            /* where a resume starts in the server's nodes */
  char             *username;
  char             *token;           /* kept in memory even without a keyring */
  gboolean          remember_login;  /* the token is in a keyring */
  gboolean          authenticated;   /* the current connection is logged in */

  guint             reconnect_id;
  VoipdBackoff      backoff;
  GRand            *rand;            /* the backoff's jitter */
  GCancellable     *login_cancellable;   /* the Login or Register in flight */
  GCancellable     *resume_cancellable;  /* the resume in flight */
  VoipdSessionState state;
  VoipdStateReason  reason_code;
  char             *reason;
};

enum { PROP_STATE = 1, PROP_STATE_REASON_CODE, PROP_REMEMBER_LOGIN, N_PROPS };
static GParamSpec *properties[N_PROPS];

enum { SIGNAL_EVENT, SIGNAL_STATE_CHANGED, SIGNAL_ENDED, SIGNAL_SWITCHING, SIGNAL_LOGGED_IN,
       N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (VoipdSession, voipd_session, G_TYPE_OBJECT)

static void session_reconnect_later (VoipdSession *self, const char *reason);
static void session_switch (VoipdSession *self, const char *server, const char *username);
static void session_resume (VoipdSession *self);

/* ---- small helpers ----------------------------------------------------------- */

VoipdSessionState voipd_session_get_state (VoipdSession *self) { return self->state; }
VoipdStateReason voipd_session_get_state_reason_code (VoipdSession *self)
{
  return self->reason_code;
}
const char *voipd_session_get_state_reason (VoipdSession *self) { return self->reason; }
VoipdConnection *voipd_session_get_connection (VoipdSession *self) { return self->connection; }
const char *voipd_session_get_server (VoipdSession *self) { return self->server; }
const char *voipd_session_get_username (VoipdSession *self) { return self->username; }
gboolean voipd_session_get_remember_login (VoipdSession *self) { return self->remember_login; }

static void
set_remember_login (VoipdSession *self, gboolean remember)
{
  if (self->remember_login == remember)
    return;
  self->remember_login = remember;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REMEMBER_LOGIN]);
}

/* code is for scripts; reason says it for people (NULL: code's own words). */
static void
set_state (VoipdSession *self, VoipdSessionState state, VoipdStateReason code,
           const char *reason)
{
  gboolean changed = self->state != state;
  gboolean code_changed = self->reason_code != code;

  if (reason == NULL)
    reason = voipd_state_reason_describe (code);
  g_debug ("state %s (%s: %s)", voipd_session_state_to_nick (state),
           voipd_state_reason_to_nick (code), reason);
  self->state = state;
  self->reason_code = code;
  if (reason != self->reason)
    {
      char *old = self->reason;
      self->reason = g_strdup (reason);
      g_free (old);
    }
  if (changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
  if (code_changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE_REASON_CODE]);
  g_signal_emit (self, signals[SIGNAL_STATE_CHANGED], 0);
}

gboolean
voipd_session_check_online (VoipdSession *self, GError **error)
{
  if (self->username == NULL)
    {
      g_set_error_literal (error, VOIPD_ERROR, VOIPD_ERROR_NOT_LOGGED_IN, _("not logged in"));
      return FALSE;
    }
  if (!self->authenticated || !voipd_connection_is_open (self->connection))
    {
      g_set_error (error, VOIPD_ERROR, VOIPD_ERROR_DISCONNECTED,
                   _("not connected to %s (%s)"), self->server,
                   self->reason ? self->reason : "");
      return FALSE;
    }
  return TRUE;
}

void
voipd_session_return_error (GDBusMethodInvocation *invocation, GError *error)
{
  /* The protocol's and the daemon's own errors have names on the bus; the
   * rest (sockets, name resolution, TLS) all mean the server is out of reach. */
  if (error->domain == VOIP_ERROR || error->domain == VOIPD_ERROR)
    g_dbus_method_invocation_return_gerror (invocation, error);
  else
    g_dbus_method_invocation_return_error (invocation, VOIPD_ERROR, VOIPD_ERROR_DISCONNECTED,
                                           "%s", error->message);
}

/* ---- events from the server ----------------------------------------------------- */

static void
on_session_closed (VoipdSession *self, guint reason, const char *detail)
{
  g_message ("the server closes the session: %s", detail);
  if (reason == VOIP_CLOSE_TOKEN_REVOKED || reason == VOIP_CLOSE_ACCOUNT_DELETED)
    {
      /* Nothing to resume with: forget the token. */
      if (self->server && self->username)
        voipd_secrets_clear_async (self->server, self->username, NULL, NULL, NULL);
      g_clear_pointer (&self->token, g_free);
      set_remember_login (self, FALSE);
      self->authenticated = FALSE;
      voipd_connection_close (self->connection);
      set_state (self, VOIPD_SESSION_STATE_OFFLINE, reason == VOIP_CLOSE_TOKEN_REVOKED
                                  ? VOIPD_STATE_REASON_TOKEN_REVOKED
                                  : VOIPD_STATE_REASON_ACCOUNT_DELETED, detail);
    }
  /* Otherwise (shutdown, idle) the connection drops and we reconnect. */
}

static void
on_event (VoipdConnection *connection, guint code, GVariant *payload, VoipdSession *self)
{
  /* Only the session's connection speaks for it. */
  if (connection != self->connection)
    return;
  if (code == VOIP_MSG_SESSION_CLOSED)
    {
      const char *detail;
      guint32 reason;

      g_variant_get (payload, "(u&s)", &reason, &detail);
      on_session_closed (self, reason, detail);
      return;
    }
  g_signal_emit (self, signals[SIGNAL_EVENT], 0, code, payload);
}

/* ---- connection loss and reconnection ----------------------------------------- */

static gboolean
on_reconnect_timer (gpointer user_data)
{
  VoipdSession *self = user_data;

  self->reconnect_id = 0;
  session_resume (self);
  return G_SOURCE_REMOVE;
}

static void
session_reconnect_later (VoipdSession *self, const char *reason)
{
  guint delay;

  self->authenticated = FALSE;
  if (self->token == NULL)
    {
      set_state (self, VOIPD_SESSION_STATE_OFFLINE, VOIPD_STATE_REASON_CONNECTION_FAILED, reason);
      return;
    }
  /* A failure is often reported twice (the lost connection, and the request
   * that was on it): one retry, one doubling. */
  if (self->reconnect_id != 0)
    return;
  voipd_backoff_set_limits (&self->backoff,
                            g_settings_get_uint (self->settings, "reconnect-initial-delay-ms"),
                            g_settings_get_uint (self->settings, "reconnect-max-delay-ms"));
  delay = voipd_backoff_next (&self->backoff, self->rand);
  set_state (self, VOIPD_SESSION_STATE_RECONNECTING, VOIPD_STATE_REASON_CONNECTION_FAILED, reason);
  g_debug ("reconnecting in %u ms", delay);
  self->reconnect_id = g_timeout_add (delay, on_reconnect_timer, self);
}

static void
on_lost (VoipdConnection *connection, GError *error, VoipdSession *self)
{
  if (connection != self->connection)
    return;
  /* Its node may be gone for good: the resume tries the next one first. */
  self->node++;
  session_reconnect_later (self, error->message);
}

/* ---- logging in ------------------------------------------------------------------ */

/* One login attempt: Login, Register or Resume, each a candidate on a
 * connection of its own. Until the server accepts it, the current session
 * (its connection, token and cache, and State, Server and Username) stays
 * exactly as it was, and a failed attempt goes away with its connection. A
 * newer Login or Register cancels an older one still in flight (that call
 * fails with Cancelled); one that succeeds also cancels a resume in flight.
 * Every callback of a cancelled attempt touches nothing of the account. */
typedef enum { ATTEMPT_LOGIN, ATTEMPT_REGISTER, ATTEMPT_RESUME } AttemptKind;

typedef struct {
  VoipdSession          *session;
  AttemptKind            kind;
  GDBusMethodInvocation *invocation;   /* NULL for a resume of our own */
  char                  *server;
  char                  *username;
  char                  *password;
  char                  *email;
  char                  *token;        /* a resume's */
  GStrv                  nodes;        /* the server's, HOST:PORT each, once resolved */
  guint                  node;         /* the one being tried: a count from the start */
  guint                  start;        /* where this round started */
  VoipdConnection       *connection;   /* the candidate; the session's once adopted */
  GCancellable          *cancellable;
} Attempt;

static Attempt *
attempt_new (VoipdSession *self, AttemptKind kind, const char *server, const char *username)
{
  Attempt *attempt = g_new0 (Attempt, 1);
  GCancellable **current = kind == ATTEMPT_RESUME ? &self->resume_cancellable
                                                  : &self->login_cancellable;

  attempt->session = g_object_ref (self);
  attempt->kind = kind;
  attempt->server = g_strdup (server);
  attempt->username = g_strdup (username);
  attempt->connection = voipd_connection_new (
      g_settings_get_uint (self->settings, "keepalive-interval-s"));
  attempt->cancellable = g_cancellable_new ();
  /* The older attempt of the same kind gives way to this one. */
  if (*current != NULL)
    g_cancellable_cancel (*current);
  g_set_object (current, attempt->cancellable);
  return attempt;
}

static void
attempt_free (Attempt *attempt)
{
  VoipdSession *self = attempt->session;

  if (self->login_cancellable == attempt->cancellable)
    g_clear_object (&self->login_cancellable);
  if (self->resume_cancellable == attempt->cancellable)
    g_clear_object (&self->resume_cancellable);
  if (attempt->connection != NULL)
    voipd_connection_close (attempt->connection);
  g_clear_object (&attempt->connection);
  g_clear_object (&attempt->cancellable);
  /* Every path answers the call; this is only a safety net. The reply
   * takes the handler's reference, the clear drops ours. */
  if (attempt->invocation != NULL)
    g_dbus_method_invocation_return_error_literal (
        attempt->invocation, VOIPD_ERROR, VOIPD_ERROR_CANCELLED,
        _("a newer login took the place of this one"));
  g_clear_object (&attempt->invocation);
  if (attempt->password)
    memset (attempt->password, 0, strlen (attempt->password));
  g_free (attempt->password);
  g_free (attempt->email);
  g_free (attempt->server);
  g_free (attempt->username);
  g_free (attempt->token);
  g_strfreev (attempt->nodes);
  g_object_unref (self);
  g_free (attempt);
}

static void
attempt_fail (Attempt *attempt, GError *error)
{
  VoipdSession *self = attempt->session;

  if (g_cancellable_is_cancelled (attempt->cancellable))
    {
      /* Superseded (or logged out meanwhile): nothing here is ours to change. */
      if (attempt->invocation)
        {
          /* As in sync_free(): the reply takes the handler's reference. */
          g_dbus_method_invocation_return_error_literal (
              attempt->invocation, VOIPD_ERROR, VOIPD_ERROR_CANCELLED,
              _("a newer login took the place of this one"));
          g_clear_object (&attempt->invocation);
        }
      return;
    }
  if (attempt->kind != ATTEMPT_RESUME)
    {
      /* A candidate that lost: the current session is left as it was. */
      g_message ("%s as %s failed: %s", attempt->kind == ATTEMPT_LOGIN ? "login" : "register",
                 attempt->username, error->message);
      voipd_session_return_error (attempt->invocation, error);
      g_clear_object (&attempt->invocation);
      return;
    }
  self->authenticated = FALSE;
  if (error->domain == VOIP_ERROR && error->code == VOIP_STATUS_BAD_TOKEN)
    {
      if (self->server && self->username)
        voipd_secrets_clear_async (self->server, self->username, NULL, NULL, NULL);
      g_clear_pointer (&self->token, g_free);
      set_remember_login (self, FALSE);
      set_state (self, VOIPD_SESSION_STATE_OFFLINE, VOIPD_STATE_REASON_TOKEN_REFUSED, NULL);
    }
  else if (g_error_matches (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE))
    /* A refused certificate stays refused: retrying would only repeat it.
     * The token is kept, so a restart or a Login resumes once fixed. */
    set_state (self, VOIPD_SESSION_STATE_OFFLINE, VOIPD_STATE_REASON_CONNECTION_FAILED,
               error->message);
  else if (error->domain != VOIP_ERROR)
    session_reconnect_later (self, error->message);
  else
    set_state (self, VOIPD_SESSION_STATE_OFFLINE, VOIPD_STATE_REASON_LOGIN_FAILED, error->message);
}

static void
on_token_stored (GObject *source, GAsyncResult *result, gpointer user_data)
{
  VoipdSession *self = user_data;
  g_autoptr(GError) error = NULL;

  if (voipd_secrets_store_finish (result, &error))
    set_remember_login (self, TRUE);
  else
    {
      g_message ("cannot remember the login (no usable keyring): %s", error->message);
      set_remember_login (self, FALSE);
    }
  g_object_unref (self);
}

static const char *
attempt_get_node (Attempt *attempt)
{
  return attempt->nodes[attempt->node % g_strv_length (attempt->nodes)];
}

/* The attempt won: its connection becomes the session's, the old session
 * ends, and another account starts from an empty cache. */
static void
session_adopt (VoipdSession *self, Attempt *attempt, const char *token)
{
  g_autoptr(VoipdConnection) connection = g_steal_pointer (&attempt->connection);
  GDBusMethodInvocation *login;

  if (attempt->kind != ATTEMPT_RESUME)
    {
      if (self->resume_cancellable != NULL)
        g_cancellable_cancel (self->resume_cancellable);
      g_clear_handle_id (&self->reconnect_id, g_source_remove);
    }
  g_signal_handlers_disconnect_by_data (self->connection, self);
  voipd_connection_close (self->connection);
  if (self->authenticated)
    g_signal_emit (self, signals[SIGNAL_ENDED], 0);
  self->authenticated = FALSE;
  session_switch (self, attempt->server, attempt->username);
  g_free (self->token);
  self->token = g_strdup (token);
  g_set_object (&self->connection, connection);
  g_signal_connect (self->connection, "event", G_CALLBACK (on_event), self);
  g_signal_connect (self->connection, "lost", G_CALLBACK (on_lost), self);
  if (attempt->kind != ATTEMPT_RESUME)
    {
      voipd_secrets_store_async (self->server, self->username, self->token, NULL,
                                 on_token_stored, g_object_ref (self));
    }
  self->node = attempt->node;
  if (voipd_connection_get_tls_trust (self->connection) == VOIPD_TLS_TRUST_FIRST_USE)
    voipd_tls_pins_store (self->settings, attempt_get_node (attempt),
                          voipd_connection_get_tls_fingerprint (self->connection));
  set_state (self, VOIPD_SESSION_STATE_AUTHENTICATING, VOIPD_STATE_REASON_NONE, NULL);
  /* Logged in: the listener resyncs while the state still says
   * authenticating, and turns it online (and answers a Login) once
   * contacts, groups, messages and the outbox are in step with the server. */
  self->authenticated = TRUE;
  voipd_backoff_reset (&self->backoff);
  login = g_steal_pointer (&attempt->invocation);
  g_signal_emit (self, signals[SIGNAL_LOGGED_IN], 0, login, attempt->kind != ATTEMPT_RESUME);
  g_clear_object (&login);
}

static void attempt_connect_node (VoipdSession *self, Attempt *attempt);

/* A node out of reach (sockets, name resolution, a connection lost before
 * the answer) gives way to the next node at once; only when every node of
 * the round failed does the attempt fail, and a resume back off. What the
 * server answered, a refused certificate and a cancellation end it here. */
static void
attempt_fail_over (Attempt *attempt, GError *error)
{
  VoipdSession *self = attempt->session;

  if (error->domain != VOIP_ERROR
      && !g_error_matches (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE)
      && !g_cancellable_is_cancelled (attempt->cancellable)
      && attempt->node + 1 - attempt->start < g_strv_length (attempt->nodes))
    {
      g_message ("server %s: %s; trying the next one", attempt_get_node (attempt),
                 error->message);
      voipd_connection_close (attempt->connection);
      g_object_unref (attempt->connection);
      attempt->connection = voipd_connection_new (
          g_settings_get_uint (self->settings, "keepalive-interval-s"));
      attempt->node++;
      attempt_connect_node (self, attempt);
      return;
    }
  attempt_fail (attempt, error);
  attempt_free (attempt);
}

static void
on_authenticated (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Attempt *attempt = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = voipd_connection_request_finish (VOIPD_CONNECTION (source),
                                                               result, &error);
  g_autofree char *token = NULL;

  if (reply == NULL)
    {
      attempt_fail_over (attempt, error);
      return;
    }
  if (attempt->kind == ATTEMPT_RESUME)
    token = g_strdup (attempt->token);
  else
    g_variant_get (reply, "(ss)", NULL, &token);
  session_adopt (attempt->session, attempt, token);
  attempt_free (attempt);
}

static void
on_attempt_connected (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Attempt *attempt = user_data;
  VoipdSession *self = attempt->session;
  g_autoptr(GError) error = NULL;
  GVariant *payload;
  guint16 code;

  if (!voipd_connection_connect_finish (VOIPD_CONNECTION (source), result, &error))
    {
      attempt_fail_over (attempt, error);
      return;
    }
  switch (attempt->kind)
    {
    case ATTEMPT_LOGIN:
      code = VOIP_MSG_LOGIN;
      payload = g_variant_new ("(ss)", attempt->username, attempt->password);
      break;
    case ATTEMPT_REGISTER:
      code = VOIP_MSG_REGISTER;
      payload = g_variant_new ("(sss)", attempt->username, attempt->password, attempt->email);
      break;
    default:
      set_state (self, VOIPD_SESSION_STATE_AUTHENTICATING, VOIPD_STATE_REASON_NONE, NULL);
      code = VOIP_MSG_RESUME;
      payload = g_variant_new ("(ss)", attempt->username, attempt->token);
      break;
    }
  voipd_connection_request_async (attempt->connection, code, payload, attempt->cancellable,
                                  on_authenticated, attempt);
}

static void
attempt_connect_node (VoipdSession *self, Attempt *attempt)
{
  const char *node = attempt_get_node (attempt);
  g_autofree char *ca_file = g_settings_get_string (self->settings, "tls-ca-file");
  g_autofree char *pin = voipd_tls_pins_lookup (self->settings, node);
  VoipdConnectOptions options = {
    .tls = g_settings_get_boolean (self->settings, "use-tls"),
    .ca_file = ca_file,
    .pinned_fingerprint = pin,
  };

  g_debug ("connecting to %s", node);
  voipd_connection_connect_async (attempt->connection, node, &options,
                                  attempt->cancellable, on_attempt_connected, attempt);
}

static void
on_nodes_resolved (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Attempt *attempt = user_data;
  g_autoptr(GError) error = NULL;

  attempt->nodes = voipd_server_list_resolve_finish (result, &error);
  if (attempt->nodes == NULL)
    {
      attempt_fail (attempt, error);
      attempt_free (attempt);
      return;
    }
  attempt->start = attempt->node;
  attempt_connect_node (attempt->session, attempt);
}

/* The server's nodes (an SRV domain is looked up at every attempt, as its
 * records may change), then the first of the round. */
static void
attempt_connect (VoipdSession *self, Attempt *attempt)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) entries = voipd_server_list_parse (attempt->server, &error);
  g_autoptr(GResolver) resolver = g_resolver_get_default ();

  if (entries == NULL)
    {
      attempt_fail (attempt, error);
      attempt_free (attempt);
      return;
    }
  voipd_server_list_resolve_async (entries, resolver, attempt->cancellable,
                                   on_nodes_resolved, attempt);
}

/* The session's own attempt to come back, with its token. */
static void
session_resume (VoipdSession *self)
{
  Attempt *attempt = attempt_new (self, ATTEMPT_RESUME, self->server, self->username);

  attempt->token = g_strdup (self->token);
  attempt->node = self->node;
  g_clear_handle_id (&self->reconnect_id, g_source_remove);
  self->authenticated = FALSE;
  /* Still offline for the reason we were (the connection lost, say): an
   * attempt under way is no answer to "why", and a status read between
   * two attempts would else find none (test-daemon-resilience did). */
  set_state (self, VOIPD_SESSION_STATE_CONNECTING, self->reason_code, self->reason);
  attempt_connect (self, attempt);
}

/* Switching to another account (or server): the listener of "switching"
 * starts from an empty cache. */
static void
session_switch (VoipdSession *self, const char *server, const char *username)
{
  if (g_strcmp0 (server, self->server) == 0 && g_strcmp0 (username, self->username) == 0)
    return;
  g_signal_emit (self, signals[SIGNAL_SWITCHING], 0, server, username);
  g_free (self->server);
  self->server = g_strdup (server);
  self->node = 0;
  g_free (self->username);
  self->username = g_strdup (username);
  g_clear_pointer (&self->token, g_free);
}

void
voipd_session_login (VoipdSession *self, GDBusMethodInvocation *invocation, VoipdLoginKind kind,
                     const char *server, const char *username, const char *password,
                     const char *email)
{
  g_autoptr(GError) error = NULL;
  Attempt *attempt;

  if (!voipd_server_list_is_valid (server, &error)
      || !voip_validate_username (username, &error) || !voip_validate_password (password, &error)
      || (email && !voip_validate_email (email, &error)))
    {
      g_dbus_method_invocation_return_gerror (invocation, error);
      return;
    }
  attempt = attempt_new (self, kind == VOIPD_LOGIN_REGISTER ? ATTEMPT_REGISTER : ATTEMPT_LOGIN,
                         server, username);
  attempt->invocation = g_object_ref (invocation);
  attempt->password = g_strdup (password);
  attempt->email = g_strdup (email ? email : "");
  attempt_connect (self, attempt);
}

void
voipd_session_set_online (VoipdSession *self)
{
  set_state (self, VOIPD_SESSION_STATE_ONLINE, VOIPD_STATE_REASON_NONE, NULL);
}

/* ---- logout ---------------------------------------------------------------------- */

void
voipd_session_forget (VoipdSession *self, VoipdStateReason code)
{
  if (self->server && self->username)
    voipd_secrets_clear_async (self->server, self->username, NULL, NULL, NULL);
  g_clear_pointer (&self->token, g_free);
  g_clear_handle_id (&self->reconnect_id, g_source_remove);
  /* A resume in flight would bring the session back. */
  if (self->resume_cancellable != NULL)
    g_cancellable_cancel (self->resume_cancellable);
  set_remember_login (self, FALSE);
  self->authenticated = FALSE;
  voipd_connection_close (self->connection);
  set_state (self, VOIPD_SESSION_STATE_OFFLINE, code, NULL);
}

void
voipd_session_clear (VoipdSession *self)
{
  session_switch (self, NULL, NULL);
}

/* ---- start -------------------------------------------------------------------------- */

static gboolean
on_keyring_timeout (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

static void
on_token_found (GObject *source, GAsyncResult *result, gpointer user_data)
{
  VoipdSession *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *token = voipd_secrets_lookup_finish (result, &error);

  if (token == NULL)
    {
      if (error)
        g_message ("keyring: %s", error->message);
      set_state (self, VOIPD_SESSION_STATE_OFFLINE, error ? VOIPD_STATE_REASON_NO_KEYRING
                                        : VOIPD_STATE_REASON_NOT_LOGGED_IN, NULL);
    }
  else
    {
      self->token = g_steal_pointer (&token);
      set_remember_login (self, TRUE);
      session_resume (self);
    }
  g_object_unref (self);
}

void
voipd_session_start (VoipdSession *self, const char *server, const char *username)
{
  g_autoptr(GCancellable) timeout = NULL;

  if (server == NULL || username == NULL || *server == '\0' || *username == '\0')
    {
      set_state (self, VOIPD_SESSION_STATE_OFFLINE, VOIPD_STATE_REASON_NOT_LOGGED_IN, NULL);
      return;
    }
  g_free (self->server);
  self->server = g_strdup (server);
  g_free (self->username);
  self->username = g_strdup (username);
  set_state (self, VOIPD_SESSION_STATE_OFFLINE, VOIPD_STATE_REASON_LOOKING_UP_LOGIN, NULL);

  /* libsecret may wait for a keyring that never answers; do not. */
  timeout = g_cancellable_new ();
  g_timeout_add_seconds_full (G_PRIORITY_DEFAULT, KEYRING_TIMEOUT_S, on_keyring_timeout,
                              g_object_ref (timeout), g_object_unref);
  voipd_secrets_lookup_async (self->server, self->username, timeout, on_token_found,
                              g_object_ref (self));
}

/* ---- GObject --------------------------------------------------------------------------- */

static void
voipd_session_dispose (GObject *object)
{
  VoipdSession *self = VOIPD_SESSION (object);

  g_clear_handle_id (&self->reconnect_id, g_source_remove);
  if (self->login_cancellable != NULL)
    g_cancellable_cancel (self->login_cancellable);
  if (self->resume_cancellable != NULL)
    g_cancellable_cancel (self->resume_cancellable);
  g_clear_object (&self->login_cancellable);
  g_clear_object (&self->resume_cancellable);
  if (self->connection)
    {
      g_signal_handlers_disconnect_by_data (self->connection, self);
      voipd_connection_close (self->connection);
    }
  g_clear_object (&self->connection);
  g_clear_object (&self->settings);
  G_OBJECT_CLASS (voipd_session_parent_class)->dispose (object);
}

static void
voipd_session_finalize (GObject *object)
{
  VoipdSession *self = VOIPD_SESSION (object);

  g_free (self->server);
  g_free (self->username);
  g_free (self->token);
  g_free (self->reason);
  g_rand_free (self->rand);
  G_OBJECT_CLASS (voipd_session_parent_class)->finalize (object);
}

static void
voipd_session_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  VoipdSession *self = VOIPD_SESSION (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_STATE_REASON_CODE:
      g_value_set_enum (value, self->reason_code);
      break;
    case PROP_REMEMBER_LOGIN:
      g_value_set_boolean (value, self->remember_login);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
voipd_session_class_init (VoipdSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = voipd_session_dispose;
  object_class->finalize = voipd_session_finalize;
  object_class->get_property = voipd_session_get_property;

  /* Account.State and Account.StateReasonCode are their nicks. */
  properties[PROP_STATE] = g_param_spec_enum ("state", NULL, NULL, VOIPD_TYPE_SESSION_STATE,
                                              VOIPD_SESSION_STATE_OFFLINE,
                                              G_PARAM_READABLE | G_PARAM_STATIC_STRINGS
                                              | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_STATE_REASON_CODE] =
      g_param_spec_enum ("state-reason-code", NULL, NULL, VOIPD_TYPE_STATE_REASON,
                         VOIPD_STATE_REASON_NONE,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_REMEMBER_LOGIN] =
      g_param_spec_boolean ("remember-login", NULL, NULL, FALSE,
                            G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_EVENT] = g_signal_new ("event", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                        0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_UINT,
                                        G_TYPE_VARIANT);
  signals[SIGNAL_STATE_CHANGED] = g_signal_new ("state-changed", G_TYPE_FROM_CLASS (klass),
                                                G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                                G_TYPE_NONE, 0);
  signals[SIGNAL_ENDED] = g_signal_new ("ended", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                        0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_SWITCHING] = g_signal_new ("switching", G_TYPE_FROM_CLASS (klass),
                                            G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                            G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  signals[SIGNAL_LOGGED_IN] = g_signal_new ("logged-in", G_TYPE_FROM_CLASS (klass),
                                            G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                            G_TYPE_NONE, 2, G_TYPE_DBUS_METHOD_INVOCATION,
                                            G_TYPE_BOOLEAN);
}

static void
voipd_session_init (VoipdSession *self)
{
  self->rand = g_rand_new ();
  self->reason = g_strdup ("");
}

VoipdSession *
voipd_session_new (GSettings *settings)
{
  VoipdSession *self = g_object_new (VOIPD_TYPE_SESSION, NULL);

  self->settings = g_object_ref (settings);
  self->connection = voipd_connection_new (g_settings_get_uint (settings, "keepalive-interval-s"));
  g_signal_connect (self->connection, "event", G_CALLBACK (on_event), self);
  g_signal_connect (self->connection, "lost", G_CALLBACK (on_lost), self);
  return self;
}
