/* voipd-account.c — VoipdAccount: the session with the server, and the Account interface.
 *
 * States (the Account.State property):
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
 * success replaces the session (see "logging in" below).
 *
 * After every login the daemon resyncs (voipd-resync.c): own profile and
 * presence, friends, pending requests, groups, every message after the last
 * seq it has, then the outbox. Events from the server keep it current
 * between resyncs. The Account methods that are not the session's own are
 * in voipd-account-dbus.c. */
#define G_LOG_DOMAIN "voipd"

#include <string.h>

#include <glib/gi18n.h>

#include "voipd-account.h"
#include "voipd-account-dbus.h"
#include "voipd-backoff.h"
#include "voipd-calls.h"
#include "voipd-contacts.h"
#include "voipd-conversation.h"
#include "voipd-enums.h"
#include "voipd-errors.h"
#include "voipd-groups.h"
#include "voipd-resync.h"
#include "voipd-secrets.h"
#include "voipd-server-list.h"
#include "voipd-tls-pins.h"
#include "voipd-state-reason.h"

/* A keyring that does not answer within this is treated as absent. */
#define KEYRING_TIMEOUT_S 5

struct _VoipdAccount {
  GObject parent_instance;

  GDBusConnection          *bus;
  GDBusObjectManagerServer *manager;
  VoipDBusAccount              *skeleton;
  GSettings                *settings;
  VoipdCache               *cache;
  VoipdConnection          *connection;
  VoipdCalls               *calls;

  char                     *server;          /* as given: one node, a list or an SRV domain */
  guint                     node;            /* where a resume starts in the server's nodes */
  char                     *username;
  char                     *token;           /* kept in memory even without a keyring */
  VoipPresence              wanted_presence; /* what the user chose; re-applied after login */
  gboolean                  authenticated;   /* the current connection is logged in */

  guint                     reconnect_id;
  VoipdBackoff              backoff;
  GRand                    *rand;            /* the backoff's jitter */
  GCancellable             *login_cancellable;   /* the Login or Register in flight */
  GCancellable             *resume_cancellable;  /* the resume in flight */
  GCancellable             *resync_cancellable;  /* the resync in flight */
  VoipdSessionState         state;
};

enum { PROP_STATE = 1, N_PROPS };
static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (VoipdAccount, voipd_account, G_TYPE_OBJECT)

static void account_reconnect_later (VoipdAccount *self, const char *reason);
static void account_switch (VoipdAccount *self, const char *server, const char *username);
static void account_show_link (VoipdAccount *self);
static void account_resync (VoipdAccount *self, GDBusMethodInvocation *login);

/* ---- small helpers ----------------------------------------------------------- */

VoipdCache *voipd_account_get_cache (VoipdAccount *self) { return self->cache; }
VoipdConnection *voipd_account_get_connection (VoipdAccount *self) { return self->connection; }
GDBusObjectManagerServer *voipd_account_get_manager (VoipdAccount *self) { return self->manager; }
const char *voipd_account_get_username (VoipdAccount *self) { return self->username; }
VoipdSessionState voipd_account_get_state (VoipdAccount *self) { return self->state; }
GSettings *voipd_account_get_settings (VoipdAccount *self) { return self->settings; }
VoipdCalls *voipd_account_get_calls (VoipdAccount *self) { return self->calls; }

/* code is for scripts; reason says it for people (NULL: code's own words). */
static void
set_state (VoipdAccount *self, VoipdSessionState state, VoipdStateReason code,
           const char *reason)
{
  if (reason == NULL)
    reason = voipd_state_reason_describe (code);
  g_debug ("state %s (%s: %s)", voipd_session_state_to_nick (state),
           voipd_state_reason_to_nick (code), reason);
  account_show_link (self);
  if (self->state != state)
    {
      self->state = state;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
    }
  voip_dbus_account_set_state (self->skeleton, voipd_session_state_to_nick (state));
  voip_dbus_account_set_state_reason_code (self->skeleton, voipd_state_reason_to_nick (code));
  voip_dbus_account_set_state_reason (self->skeleton, reason);
  if (state != VOIPD_SESSION_STATE_ONLINE)
    voip_dbus_account_set_presence (self->skeleton, "offline");
  /* Without the session nobody can signal: the calls end here as they do
   * at the server (which saw us go). Authenticating follows a fresh login,
   * when calls may already come in. */
  if (state != VOIPD_SESSION_STATE_ONLINE && state != VOIPD_SESSION_STATE_AUTHENTICATING)
    voipd_calls_end_all (self->calls, VOIP_CALL_REASON_OFFLINE);
  /* Presence needs the session: unknown until the resync says it again. */
  if (state != VOIPD_SESSION_STATE_ONLINE)
    voipd_contacts_forget_presence (self);
}

gboolean
voipd_account_check_online (VoipdAccount *self, GError **error)
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
                   voip_dbus_account_get_state_reason (self->skeleton));
      return FALSE;
    }
  return TRUE;
}

void
voipd_account_return_error (GDBusMethodInvocation *invocation, GError *error)
{
  /* The protocol's and the daemon's own errors have names on the bus; the
   * rest (sockets, name resolution, TLS) all mean the server is out of reach. */
  if (error->domain == VOIP_ERROR || error->domain == VOIPD_ERROR)
    g_dbus_method_invocation_return_gerror (invocation, error);
  else
    g_dbus_method_invocation_return_error (invocation, VOIPD_ERROR, VOIPD_ERROR_DISCONNECTED,
                                           "%s", error->message);
}

typedef struct {
  VoipdAccount          *account;
  GDBusMethodInvocation *invocation;
  VoipdReplyFunc         then;
  gpointer               data;
  GDestroyNotify         free_data;
} Call;

static void
on_call_reply (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Call *call = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = voipd_connection_request_finish (VOIPD_CONNECTION (source),
                                                               result, &error);

  if (reply == NULL)
    voipd_account_return_error (call->invocation, error);
  else
    g_dbus_method_invocation_return_value (
        call->invocation, call->then ? call->then (call->account, reply, call->data) : NULL);
  if (call->free_data)
    call->free_data (call->data);
  g_object_unref (call->account);
  g_object_unref (call->invocation);
  g_free (call);
}

void
voipd_account_call (VoipdAccount *self, GDBusMethodInvocation *invocation, guint16 code,
                    GVariant *payload, VoipdReplyFunc then, gpointer data,
                    GDestroyNotify free_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) owned = g_variant_ref_sink (payload);
  Call *call;

  if (!voipd_account_check_online (self, &error))
    {
      g_dbus_method_invocation_return_gerror (invocation, error);
      if (free_data)
        free_data (data);
      return;
    }
  call = g_new0 (Call, 1);
  call->account = g_object_ref (self);
  call->invocation = g_object_ref (invocation);
  call->then = then;
  call->data = data;
  call->free_data = free_data;
  voipd_connection_request_async (self->connection, code, owned, NULL, on_call_reply, call);
}

/* ---- events from the server ----------------------------------------------------- */

static void
on_session_closed (VoipdAccount *self, guint reason, const char *detail)
{
  g_message ("the server closes the session: %s", detail);
  if (reason == VOIP_CLOSE_TOKEN_REVOKED || reason == VOIP_CLOSE_ACCOUNT_DELETED)
    {
      /* Nothing to resume with: forget the token. */
      if (self->server && self->username)
        voipd_secrets_clear_async (self->server, self->username, NULL, NULL, NULL);
      g_clear_pointer (&self->token, g_free);
      voip_dbus_account_set_remember_login (self->skeleton, FALSE);
      self->authenticated = FALSE;
      voipd_connection_close (self->connection);
      set_state (self, VOIPD_SESSION_STATE_OFFLINE, reason == VOIP_CLOSE_TOKEN_REVOKED
                                  ? VOIPD_STATE_REASON_TOKEN_REVOKED
                                  : VOIPD_STATE_REASON_ACCOUNT_DELETED, detail);
    }
  /* Otherwise (shutdown, idle) the connection drops and we reconnect. */
}

static void
on_event (VoipdConnection *connection, guint code, GVariant *payload, VoipdAccount *self)
{
  const char *username, *display_name, *motd;
  guint32 presence, subscription, change, reason;
  guint64 id;

  /* Only the session's connection speaks for the account. */
  if (connection != self->connection)
    return;

  switch (code)
    {
    case VOIP_MSG_PRESENCE_CHANGED:
      g_variant_get (payload, "(&su)", &username, &presence);
      if (g_strcmp0 (username, self->username) == 0)
        {
          self->wanted_presence = presence;
          voip_dbus_account_set_presence (self->skeleton, voip_presence_to_string (presence));
        }
      else
        voipd_contacts_set_presence (self, username, presence);
      break;
    case VOIP_MSG_PROFILE_CHANGED:
      g_variant_get (payload, "(&s&su&s)", &username, &display_name, &presence, &motd);
      if (g_strcmp0 (username, self->username) == 0)
        {
          voip_dbus_account_set_display_name (self->skeleton, display_name);
          voip_dbus_account_set_motd (self->skeleton, motd);
        }
      else if (voipd_contacts_lookup (self, username) != NULL)
        {
          VoipDBusContact *contact = voipd_contacts_lookup (self, username);
          voipd_contacts_put (self, username, display_name, motd, VOIP_SUBSCRIPTION_FRIEND);
          voip_dbus_contact_set_presence (contact, voip_presence_to_string (presence));
        }
      break;
    case VOIP_MSG_SESSION_CLOSED:
      g_variant_get (payload, "(u&s)", &reason, &motd);
      on_session_closed (self, reason, motd);
      break;
    case VOIP_MSG_CONTACT_CHANGED:
      g_variant_get (payload, "(&s&suu)", &username, &display_name, &subscription, &change);
      if (subscription == VOIP_SUBSCRIPTION_NONE)
        voipd_contacts_remove (self, username);
      else
        {
          VoipDBusContact *existing = voipd_contacts_lookup (self, username);
          voipd_contacts_put (self, username, display_name,
                              existing ? voip_dbus_contact_get_motd (existing) : "", subscription);
          if (subscription == VOIP_SUBSCRIPTION_FRIEND)
            voipd_account_refresh_contact (self, username);
        }
      break;
    case VOIP_MSG_GROUP_CHANGED:
      voipd_groups_put_wire (self, payload);
      break;
    case VOIP_MSG_GROUP_REMOVED:
      g_variant_get (payload, "(tu)", &id, &reason);
      voipd_groups_remove (self, id);
      break;
    case VOIP_MSG_MESSAGE_RECEIVED:
    case VOIP_MSG_MESSAGE_EDITED:
    case VOIP_MSG_MESSAGE_DELETED:
      voipd_conversation_handle_event (self, code, payload);
      break;
    case VOIP_MSG_CALL_CHANGED:
    case VOIP_MSG_CALL_SIGNAL_RECEIVED:
    case VOIP_MSG_CALL_DATA_RECEIVED:
      voipd_calls_handle_event (self->calls, code, payload);
      break;
    case VOIP_MSG_PLUGIN_MESSAGE:
      {
        const char *plugin;
        g_autoptr(GVariant) data = NULL;
        VoipDBusContact *contact;

        g_variant_get (payload, "(&s&s@ay)", &username, &plugin, &data);
        contact = voipd_contacts_lookup (self, username);
        if (contact != NULL)
          voip_dbus_contact_emit_plugin_message (contact, plugin, data);
      }
      break;
    default:
      g_debug ("ignoring event %u", code);
    }
}

/* ---- connection loss and reconnection ----------------------------------------- */

static void account_resume (VoipdAccount *self);

static gboolean
on_reconnect_timer (gpointer user_data)
{
  VoipdAccount *self = user_data;

  self->reconnect_id = 0;
  account_resume (self);
  return G_SOURCE_REMOVE;
}

static void
account_reconnect_later (VoipdAccount *self, const char *reason)
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
on_lost (VoipdConnection *connection, GError *error, VoipdAccount *self)
{
  if (connection != self->connection)
    return;
  /* Its node may be gone for good: the resume tries the next one first. */
  self->node++;
  account_reconnect_later (self, error->message);
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
  VoipdAccount          *account;
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
attempt_new (VoipdAccount *self, AttemptKind kind, const char *server, const char *username)
{
  Attempt *attempt = g_new0 (Attempt, 1);
  GCancellable **current = kind == ATTEMPT_RESUME ? &self->resume_cancellable
                                                  : &self->login_cancellable;

  attempt->account = g_object_ref (self);
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
  VoipdAccount *self = attempt->account;

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
  VoipdAccount *self = attempt->account;

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
      voipd_account_return_error (attempt->invocation, error);
      g_clear_object (&attempt->invocation);
      return;
    }
  self->authenticated = FALSE;
  if (error->domain == VOIP_ERROR && error->code == VOIP_STATUS_BAD_TOKEN)
    {
      if (self->server && self->username)
        voipd_secrets_clear_async (self->server, self->username, NULL, NULL, NULL);
      g_clear_pointer (&self->token, g_free);
      voip_dbus_account_set_remember_login (self->skeleton, FALSE);
      set_state (self, VOIPD_SESSION_STATE_OFFLINE, VOIPD_STATE_REASON_TOKEN_REFUSED, NULL);
    }
  else if (g_error_matches (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE))
    /* A refused certificate stays refused: retrying would only repeat it.
     * The token is kept, so a restart or a Login resumes once fixed. */
    set_state (self, VOIPD_SESSION_STATE_OFFLINE, VOIPD_STATE_REASON_CONNECTION_FAILED, error->message);
  else if (error->domain != VOIP_ERROR)
    account_reconnect_later (self, error->message);
  else
    set_state (self, VOIPD_SESSION_STATE_OFFLINE, VOIPD_STATE_REASON_LOGIN_FAILED, error->message);
}

static void
on_token_stored (GObject *source, GAsyncResult *result, gpointer user_data)
{
  VoipdAccount *self = user_data;
  g_autoptr(GError) error = NULL;

  if (voipd_secrets_store_finish (result, &error))
    voip_dbus_account_set_remember_login (self->skeleton, TRUE);
  else
    {
      g_message ("cannot remember the login (no usable keyring): %s", error->message);
      voip_dbus_account_set_remember_login (self->skeleton, FALSE);
    }
  g_object_unref (self);
}

/* Logged in: the resync runs while the state still says authenticating,
 * and the state turns online (and a Login call returns) once contacts,
 * groups, messages and the outbox are in step with the server. */
static void
account_now_online (VoipdAccount *self, GDBusMethodInvocation *login)
{
  self->authenticated = TRUE;
  voipd_backoff_reset (&self->backoff);
  account_resync (self, login);
}

/* The Tls and TlsFingerprint properties say what the session's link is. */
static void
account_show_link (VoipdAccount *self)
{
  const char *fingerprint = voipd_connection_get_tls_fingerprint (self->connection);

  voip_dbus_account_set_tls (self->skeleton, fingerprint != NULL);
  voip_dbus_account_set_tls_fingerprint (self->skeleton, fingerprint ? fingerprint : "");
}

static const char *
attempt_get_node (Attempt *attempt)
{
  return attempt->nodes[attempt->node % g_strv_length (attempt->nodes)];
}

/* The attempt won: its connection becomes the session's, the old session
 * ends, and another account starts from an empty cache. */
static void
account_adopt (VoipdAccount *self, Attempt *attempt, const char *token)
{
  g_autoptr(VoipdConnection) connection = g_steal_pointer (&attempt->connection);

  if (attempt->kind != ATTEMPT_RESUME)
    {
      if (self->resume_cancellable != NULL)
        g_cancellable_cancel (self->resume_cancellable);
      g_clear_handle_id (&self->reconnect_id, g_source_remove);
    }
  g_signal_handlers_disconnect_by_data (self->connection, self);
  voipd_connection_close (self->connection);
  if (self->authenticated)
    voipd_calls_end_all (self->calls, VOIP_CALL_REASON_OFFLINE);
  self->authenticated = FALSE;
  account_switch (self, attempt->server, attempt->username);
  g_free (self->token);
  self->token = g_strdup (token);
  g_set_object (&self->connection, connection);
  g_signal_connect (self->connection, "event", G_CALLBACK (on_event), self);
  g_signal_connect (self->connection, "lost", G_CALLBACK (on_lost), self);
  voip_dbus_account_set_server (self->skeleton, self->server);
  voip_dbus_account_set_username (self->skeleton, self->username);
  if (attempt->kind != ATTEMPT_RESUME)
    {
      voipd_cache_set_meta (self->cache, "server", self->server, NULL);
      voipd_cache_set_meta (self->cache, "username", self->username, NULL);
      voipd_secrets_store_async (self->server, self->username, self->token, NULL,
                                 on_token_stored, g_object_ref (self));
    }
  self->node = attempt->node;
  if (voipd_connection_get_tls_trust (self->connection) == VOIPD_TLS_TRUST_FIRST_USE)
    voipd_tls_pins_store (self->settings, attempt_get_node (attempt),
                          voipd_connection_get_tls_fingerprint (self->connection));
  set_state (self, VOIPD_SESSION_STATE_AUTHENTICATING, VOIPD_STATE_REASON_NONE, NULL);
  account_now_online (self, g_steal_pointer (&attempt->invocation));
}

static void attempt_connect_node (VoipdAccount *self, Attempt *attempt);

/* A node out of reach (sockets, name resolution, a connection lost before
 * the answer) gives way to the next node at once; only when every node of
 * the round failed does the attempt fail, and a resume back off. What the
 * server answered, a refused certificate and a cancellation end it here. */
static void
attempt_fail_over (Attempt *attempt, GError *error)
{
  VoipdAccount *self = attempt->account;

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
  account_adopt (attempt->account, attempt, token);
  attempt_free (attempt);
}

static void
on_attempt_connected (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Attempt *attempt = user_data;
  VoipdAccount *self = attempt->account;
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
attempt_connect_node (VoipdAccount *self, Attempt *attempt)
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
  attempt_connect_node (attempt->account, attempt);
}

/* The server's nodes (an SRV domain is looked up at every attempt, as its
 * records may change), then the first of the round. */
static void
attempt_connect (VoipdAccount *self, Attempt *attempt)
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
account_resume (VoipdAccount *self)
{
  Attempt *attempt = attempt_new (self, ATTEMPT_RESUME, self->server, self->username);

  attempt->token = g_strdup (self->token);
  attempt->node = self->node;
  g_clear_handle_id (&self->reconnect_id, g_source_remove);
  self->authenticated = FALSE;
  set_state (self, VOIPD_SESSION_STATE_CONNECTING, VOIPD_STATE_REASON_NONE, NULL);
  attempt_connect (self, attempt);
}

/* Switching to another account (or server) starts from an empty cache. */
static void
account_switch (VoipdAccount *self, const char *server, const char *username)
{
  g_autoptr(GError) error = NULL;

  if (g_strcmp0 (server, self->server) == 0 && g_strcmp0 (username, self->username) == 0)
    return;
  if (self->username != NULL || voipd_cache_get_last_seq (self->cache) != 0)
    {
      g_autoptr(GList) objects = g_dbus_object_manager_get_objects (
          G_DBUS_OBJECT_MANAGER (self->manager));

      for (GList *l = objects; l != NULL; l = l->next)
        {
          g_dbus_object_manager_server_unexport (
              self->manager, g_dbus_object_get_object_path (l->data));
          g_object_unref (l->data);
        }
      if (!voipd_cache_reset (self->cache, &error))
        g_warning ("%s", error->message);
    }
  g_free (self->server);
  self->server = g_strdup (server);
  self->node = 0;
  g_free (self->username);
  self->username = g_strdup (username);
  g_clear_pointer (&self->token, g_free);
  self->wanted_presence = VOIP_PRESENCE_ONLINE;
}

static gboolean
start_login (VoipdAccount *self, GDBusMethodInvocation *invocation, AttemptKind kind,
             const char *server, const char *username, const char *password, const char *email)
{
  g_autoptr(GError) error = NULL;
  Attempt *attempt;

  if (!voipd_server_list_is_valid (server, &error)
      || !voip_validate_username (username, &error) || !voip_validate_password (password, &error)
      || (email && !voip_validate_email (email, &error)))
    {
      g_dbus_method_invocation_return_gerror (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  attempt = attempt_new (self, kind, server, username);
  attempt->invocation = g_object_ref (invocation);
  attempt->password = g_strdup (password);
  attempt->email = g_strdup (email ? email : "");
  attempt_connect (self, attempt);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_handle_login (VoipDBusAccount *skeleton, GDBusMethodInvocation *invocation, const char *server,
                 const char *username, const char *password, VoipdAccount *self)
{
  g_autofree char *fallback = *server ? NULL : g_settings_get_string (self->settings,
                                                                      "default-server");

  return start_login (self, invocation, ATTEMPT_LOGIN, fallback ? fallback : server, username,
                      password, NULL);
}

static gboolean
on_handle_register (VoipDBusAccount *skeleton, GDBusMethodInvocation *invocation,
                    const char *server, const char *username, const char *password,
                    const char *email, VoipdAccount *self)
{
  g_autofree char *fallback = *server ? NULL : g_settings_get_string (self->settings,
                                                                      "default-server");

  return start_login (self, invocation, ATTEMPT_REGISTER, fallback ? fallback : server,
                      username, password, email);
}

/* ---- Logout, ChangePassword, DeleteAccount --------------------------------------- */

static void
account_forget_session (VoipdAccount *self, VoipdStateReason code)
{
  if (self->server && self->username)
    voipd_secrets_clear_async (self->server, self->username, NULL, NULL, NULL);
  g_clear_pointer (&self->token, g_free);
  g_clear_handle_id (&self->reconnect_id, g_source_remove);
  /* A resume in flight would bring the session back. */
  if (self->resume_cancellable != NULL)
    g_cancellable_cancel (self->resume_cancellable);
  voip_dbus_account_set_remember_login (self->skeleton, FALSE);
  self->authenticated = FALSE;
  voipd_connection_close (self->connection);
  set_state (self, VOIPD_SESSION_STATE_OFFLINE, code, NULL);
}

static GVariant *
after_logout (VoipdAccount *self, GVariant *reply, gpointer data)
{
  account_forget_session (self, VOIPD_STATE_REASON_LOGGED_OUT);
  return NULL;
}

static gboolean
on_handle_logout (VoipDBusAccount *skeleton, GDBusMethodInvocation *invocation, VoipdAccount *self)
{
  if (self->username == NULL)
    {
      g_dbus_method_invocation_return_error_literal (invocation, VOIPD_ERROR,
                                                     VOIPD_ERROR_NOT_LOGGED_IN, _("not logged in"));
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  if (!voipd_account_check_online (self, NULL))
    {
      /* The server cannot be told; the token is forgotten here, and the
       * server lets it expire with the account's other changes. */
      account_forget_session (self, VOIPD_STATE_REASON_LOGGED_OUT);
      voip_dbus_account_complete_logout (skeleton, invocation);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  voipd_account_call (self, invocation, VOIP_MSG_LOGOUT, g_variant_new ("()"), after_logout,
                      NULL, NULL);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static GVariant *
after_delete_account (VoipdAccount *self, GVariant *reply, gpointer data)
{
  account_forget_session (self, VOIPD_STATE_REASON_ACCOUNT_DELETED);
  account_switch (self, NULL, NULL);
  voipd_cache_reset (self->cache, NULL);
  voipd_cache_set_meta (self->cache, "server", "", NULL);
  voipd_cache_set_meta (self->cache, "username", "", NULL);
  voip_dbus_account_set_username (self->skeleton, "");
  return NULL;
}

static gboolean
on_handle_delete_account (VoipDBusAccount *skeleton, GDBusMethodInvocation *invocation,
                          const char *password, VoipdAccount *self)
{
  voipd_account_call (self, invocation, VOIP_MSG_DELETE_ACCOUNT,
                      g_variant_new ("(s)", password), after_delete_account, NULL, NULL);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ---- presence and profile ----------------------------------------------------------- */

static GVariant *
after_set_presence (VoipdAccount *self, GVariant *reply, gpointer data)
{
  self->wanted_presence = GPOINTER_TO_UINT (data);
  voip_dbus_account_set_presence (self->skeleton, voip_presence_to_string (self->wanted_presence));
  return NULL;
}

static gboolean
on_handle_set_presence (VoipDBusAccount *skeleton, GDBusMethodInvocation *invocation,
                        const char *presence, VoipdAccount *self)
{
  VoipPresence value;

  if (!voip_presence_from_string (presence, &value) || value == VOIP_PRESENCE_OFFLINE)
    {
      g_dbus_method_invocation_return_error (invocation, VOIP_ERROR, VOIP_STATUS_MALFORMED,
                                             _("'%s' is not online, away, busy, dnd or invisible"),
                                             presence);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  voipd_account_call (self, invocation, VOIP_MSG_SET_PRESENCE, g_variant_new ("(u)", value),
                      after_set_presence, GUINT_TO_POINTER (value), NULL);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
on_friend_profile (GObject *source, GAsyncResult *result, gpointer user_data)
{
  VoipdAccount *self = user_data;
  g_autoptr(GVariant) reply = voipd_connection_request_finish (VOIPD_CONNECTION (source),
                                                               result, NULL);

  if (reply != NULL)
    voipd_contacts_set_profile (self, reply);
  g_object_unref (self);
}

void
voipd_account_refresh_contact (VoipdAccount *self, const char *username)
{
  if (voipd_account_check_online (self, NULL))
    voipd_connection_request_async (self->connection, VOIP_MSG_GET_PROFILE,
                                    g_variant_new ("(s)", username), NULL, on_friend_profile,
                                    g_object_ref (self));
}

static void
on_group_info (GObject *source, GAsyncResult *result, gpointer user_data)
{
  VoipdAccount *self = user_data;
  g_autoptr(GVariant) reply = voipd_connection_request_finish (VOIPD_CONNECTION (source),
                                                               result, NULL);

  if (reply != NULL)
    voipd_groups_put_wire (self, reply);
  g_object_unref (self);
}

void
voipd_account_refresh_group (VoipdAccount *self, gint64 id)
{
  if (voipd_account_check_online (self, NULL))
    voipd_connection_request_async (self->connection, VOIP_MSG_GROUP_INFO,
                                    g_variant_new ("(t)", (guint64) id), NULL, on_group_info,
                                    g_object_ref (self));
}

/* ---- resync after each login ----------------------------------------------------------- */

typedef struct {
  VoipdAccount          *account;
  GDBusMethodInvocation *login;           /* a Login or Register waiting for "online" */
} Resync;

static void
on_resynced (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Resync *resync = user_data;
  VoipdAccount *self = resync->account;
  g_autoptr(GError) error = NULL;

  if (voipd_resync_finish (self, result, &error))
    {
      set_state (self, VOIPD_SESSION_STATE_ONLINE, VOIPD_STATE_REASON_NONE, NULL);
      voip_dbus_account_set_presence (self->skeleton,
                                      voip_presence_to_string (self->wanted_presence));
    }
  else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_message ("resync stopped: %s", error->message);
  /* The login itself succeeded even if the resync was cut short: the
   * reconnection finishes it, and the state tells how far it got. */
  if (resync->login != NULL)
    {
      /* The reply takes the handler's reference; the attempt's goes with us. */
      g_dbus_method_invocation_return_value (resync->login, NULL);
      g_object_unref (resync->login);
    }
  g_object_unref (self);
  g_free (resync);
}

static void
account_resync (VoipdAccount *self, GDBusMethodInvocation *login)
{
  Resync *resync = g_new0 (Resync, 1);

  /* One resync at a time: an older one would interleave its pages with
   * this one's on the new connection. */
  if (self->resync_cancellable != NULL)
    g_cancellable_cancel (self->resync_cancellable);
  g_clear_object (&self->resync_cancellable);
  self->resync_cancellable = g_cancellable_new ();
  resync->account = g_object_ref (self);
  resync->login = login;   /* the attempt's reference */
  voipd_resync_async (self, self->connection, self->cache, self->username, self->skeleton,
                      self->wanted_presence, self->resync_cancellable, on_resynced, resync);
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
  VoipdAccount *self = user_data;
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
      voip_dbus_account_set_remember_login (self->skeleton, TRUE);
      account_resume (self);
    }
  g_object_unref (self);
}

void
voipd_account_start (VoipdAccount *self)
{
  g_autofree char *server = voipd_cache_get_meta (self->cache, "server");
  g_autofree char *username = voipd_cache_get_meta (self->cache, "username");
  g_autoptr(GCancellable) timeout = NULL;

  voipd_contacts_load_cache (self);
  voipd_groups_load_cache (self);
  if (server == NULL || username == NULL || *server == '\0' || *username == '\0')
    {
      set_state (self, VOIPD_SESSION_STATE_OFFLINE, VOIPD_STATE_REASON_NOT_LOGGED_IN, NULL);
      return;
    }
  self->server = g_steal_pointer (&server);
  self->username = g_steal_pointer (&username);
  voip_dbus_account_set_server (self->skeleton, self->server);
  voip_dbus_account_set_username (self->skeleton, self->username);
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
voipd_account_dispose (GObject *object)
{
  VoipdAccount *self = VOIPD_ACCOUNT (object);

  g_clear_handle_id (&self->reconnect_id, g_source_remove);
  if (self->login_cancellable != NULL)
    g_cancellable_cancel (self->login_cancellable);
  if (self->resume_cancellable != NULL)
    g_cancellable_cancel (self->resume_cancellable);
  g_clear_object (&self->login_cancellable);
  g_clear_object (&self->resume_cancellable);
  if (self->resync_cancellable != NULL)
    g_cancellable_cancel (self->resync_cancellable);
  g_clear_object (&self->resync_cancellable);
  g_clear_object (&self->calls);   /* frees the media, unexports the calls */
  if (self->connection)
    {
      g_signal_handlers_disconnect_by_data (self->connection, self);
      voipd_connection_close (self->connection);
    }
  g_clear_object (&self->connection);
  if (self->skeleton)
    g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (self->skeleton));
  g_clear_object (&self->skeleton);
  g_clear_object (&self->manager);
  g_clear_object (&self->cache);
  g_clear_object (&self->settings);
  g_clear_object (&self->bus);
  G_OBJECT_CLASS (voipd_account_parent_class)->dispose (object);
}

static void
voipd_account_finalize (GObject *object)
{
  VoipdAccount *self = VOIPD_ACCOUNT (object);

  g_free (self->server);
  g_free (self->username);
  g_free (self->token);
  g_rand_free (self->rand);
  G_OBJECT_CLASS (voipd_account_parent_class)->finalize (object);
}

static void
voipd_account_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  VoipdAccount *self = VOIPD_ACCOUNT (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
voipd_account_class_init (VoipdAccountClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = voipd_account_dispose;
  object_class->finalize = voipd_account_finalize;
  object_class->get_property = voipd_account_get_property;

  /* The session's state; Account.State is its nick. */
  properties[PROP_STATE] = g_param_spec_enum ("state", NULL, NULL, VOIPD_TYPE_SESSION_STATE,
                                              VOIPD_SESSION_STATE_OFFLINE,
                                              G_PARAM_READABLE | G_PARAM_STATIC_STRINGS
                                              | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
voipd_account_init (VoipdAccount *self)
{
  self->wanted_presence = VOIP_PRESENCE_ONLINE;
  self->rand = g_rand_new ();
}

VoipdAccount *
voipd_account_new (GDBusConnection *bus, VoipdCache *cache, GSettings *settings, GError **error)
{
  g_autoptr(VoipdAccount) self = g_object_new (VOIPD_TYPE_ACCOUNT, NULL);

  self->bus = g_object_ref (bus);
  self->cache = g_object_ref (cache);
  self->settings = g_object_ref (settings);
  self->connection = voipd_connection_new (g_settings_get_uint (settings, "keepalive-interval-s"));
  self->calls = voipd_calls_new (self);
  g_signal_connect (self->connection, "event", G_CALLBACK (on_event), self);
  g_signal_connect (self->connection, "lost", G_CALLBACK (on_lost), self);

  self->skeleton = voip_dbus_account_skeleton_new ();
  voip_dbus_account_set_state (self->skeleton,
                               voipd_session_state_to_nick (VOIPD_SESSION_STATE_OFFLINE));
  voip_dbus_account_set_state_reason_code (self->skeleton,
                                      voipd_state_reason_to_nick (VOIPD_STATE_REASON_NONE));
  voip_dbus_account_set_presence (self->skeleton, "offline");
  voipd_account_dbus_attach (self->skeleton, self);
  g_signal_connect (self->skeleton, "handle-login", G_CALLBACK (on_handle_login), self);
  g_signal_connect (self->skeleton, "handle-register", G_CALLBACK (on_handle_register), self);
  g_signal_connect (self->skeleton, "handle-logout", G_CALLBACK (on_handle_logout), self);
  g_signal_connect (self->skeleton, "handle-delete-account",
                    G_CALLBACK (on_handle_delete_account), self);
  g_signal_connect (self->skeleton, "handle-set-presence", G_CALLBACK (on_handle_set_presence),
                    self);

  /* The Account lives on the root path itself, next to the object manager
   * (which only manages the objects below it). */
  if (!g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (self->skeleton), bus,
                                         VOIPD_OBJECT_ROOT, error))
    return NULL;
  self->manager = g_dbus_object_manager_server_new (VOIPD_OBJECT_ROOT);
  g_dbus_object_manager_server_set_connection (self->manager, bus);
  return g_steal_pointer (&self);
}
