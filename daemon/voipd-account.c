/* voipd-account.c — VoipdAccount: the Account interface over the session.
 *
 * The session with the server (connect, login, resume, reconnection,
 * failover) is a VoipdSession (voipd-session.c); the account shows it on
 * the bus (State, StateReason, Server, Username, the link) and reacts to
 * it: the server's events go to the contacts, groups, conversations and
 * calls, and after every login it resyncs (voipd-resync.c): own profile and
 * presence, friends, pending requests, groups, every message after the last
 * seq it has, then the outbox. The Account methods that are not the
 * session's own are in voipd-account-dbus.c. */
#define G_LOG_DOMAIN "voipd"

#include <string.h>

#include <glib/gi18n.h>

#include "voipd-account.h"
#include "voipd-account-dbus.h"
#include "voipd-calls.h"
#include "voipd-contacts.h"
#include "voipd-conversation.h"
#include "voipd-enums.h"
#include "voipd-errors.h"
#include "voipd-groups.h"
#include "voipd-resync.h"
#include "voipd-session.h"
#include "voipd-state-reason.h"

struct _VoipdAccount {
  GObject parent_instance;

  GDBusConnection          *bus;
  GDBusObjectManagerServer *manager;
  VoipDBusAccount          *skeleton;
  GSettings                *settings;
  VoipdCache               *cache;
  VoipdSession             *session;
  VoipdCalls               *calls;
  VoipdConversations       *conversations;

  VoipPresence              wanted_presence; /* what the user chose; re-applied after login */
  GCancellable             *resync_cancellable;  /* the resync in flight */
};

G_DEFINE_FINAL_TYPE (VoipdAccount, voipd_account, G_TYPE_OBJECT)

static void account_resync (VoipdAccount *self, GDBusMethodInvocation *login);

/* ---- small helpers ----------------------------------------------------------- */

VoipdCache *voipd_account_get_cache (VoipdAccount *self) { return self->cache; }
VoipdConversations *voipd_account_get_conversations (VoipdAccount *self)
{
  return self->conversations;
}
VoipdConnection *voipd_account_get_connection (VoipdAccount *self)
{
  return voipd_session_get_connection (self->session);
}
GDBusObjectManagerServer *voipd_account_get_manager (VoipdAccount *self) { return self->manager; }
const char *voipd_account_get_username (VoipdAccount *self)
{
  return voipd_session_get_username (self->session);
}
VoipdSessionState voipd_account_get_state (VoipdAccount *self)
{
  return voipd_session_get_state (self->session);
}
GSettings *voipd_account_get_settings (VoipdAccount *self) { return self->settings; }
VoipdCalls *voipd_account_get_calls (VoipdAccount *self) { return self->calls; }

/* The Tls and TlsFingerprint properties say what the session's link is. */
static void
account_show_link (VoipdAccount *self)
{
  const char *fingerprint = voipd_connection_get_tls_fingerprint (
      voipd_session_get_connection (self->session));

  voip_dbus_account_set_tls (self->skeleton, fingerprint != NULL);
  voip_dbus_account_set_tls_fingerprint (self->skeleton, fingerprint ? fingerprint : "");
}

/* Each time the session says where it is (the reason may change alone). */
static void
on_session_state_changed (VoipdSession *session, VoipdAccount *self)
{
  VoipdSessionState state = voipd_session_get_state (session);

  account_show_link (self);
  voip_dbus_account_set_state (self->skeleton, voipd_session_state_to_nick (state));
  voip_dbus_account_set_state_reason_code (
      self->skeleton, voipd_state_reason_to_nick (voipd_session_get_state_reason_code (session)));
  voip_dbus_account_set_state_reason (self->skeleton, voipd_session_get_state_reason (session));
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

/* A logged-in session gives way to a new login. */
static void
on_session_ended (VoipdSession *session, VoipdAccount *self)
{
  voipd_calls_end_all (self->calls, VOIP_CALL_REASON_OFFLINE);
}

/* Switching to another account (or server) starts from an empty cache. */
static void
on_session_switching (VoipdSession *session, const char *server, const char *username,
                      VoipdAccount *self)
{
  g_autoptr(GError) error = NULL;

  if (voipd_session_get_username (session) != NULL
      || voipd_cache_get_last_seq (self->cache) != 0)
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
  self->wanted_presence = VOIP_PRESENCE_ONLINE;
}

/* The server accepted a login: resync, then online. */
static void
on_session_logged_in (VoipdSession *session, GDBusMethodInvocation *login, gboolean fresh,
                      VoipdAccount *self)
{
  const char *server = voipd_session_get_server (session);
  const char *username = voipd_session_get_username (session);

  voip_dbus_account_set_server (self->skeleton, server);
  voip_dbus_account_set_username (self->skeleton, username);
  if (fresh)
    {
      voipd_cache_set_meta (self->cache, "server", server, NULL);
      voipd_cache_set_meta (self->cache, "username", username, NULL);
    }
  account_resync (self, login ? g_object_ref (login) : NULL);
}

gboolean
voipd_account_check_online (VoipdAccount *self, GError **error)
{
  return voipd_session_check_online (self->session, error);
}

void
voipd_account_return_error (GDBusMethodInvocation *invocation, GError *error)
{
  voipd_session_return_error (invocation, error);
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
  voipd_connection_request_async (voipd_account_get_connection (self), code, owned, NULL,
                                  on_call_reply, call);
}

/* ---- events from the server ----------------------------------------------------- */

static void
on_event (VoipdSession *session, guint code, GVariant *payload, VoipdAccount *self)
{
  const char *own = voipd_session_get_username (session);
  const char *username, *display_name, *motd;
  guint32 presence, subscription, change, reason;
  guint64 id;

  switch (code)
    {
    case VOIP_MSG_PRESENCE_CHANGED:
      g_variant_get (payload, "(&su)", &username, &presence);
      if (g_strcmp0 (username, own) == 0)
        {
          self->wanted_presence = presence;
          voip_dbus_account_set_presence (self->skeleton, voip_presence_to_string (presence));
        }
      else
        voipd_contacts_set_presence (self, username, presence);
      break;
    case VOIP_MSG_PROFILE_CHANGED:
      g_variant_get (payload, "(&s&su&s)", &username, &display_name, &presence, &motd);
      if (g_strcmp0 (username, own) == 0)
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
      voipd_conversation_handle_event (self->conversations, code, payload);
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

static gboolean
on_handle_login (VoipDBusAccount *skeleton, GDBusMethodInvocation *invocation, const char *server,
                 const char *username, const char *password, VoipdAccount *self)
{
  g_autofree char *fallback = *server ? NULL : g_settings_get_string (self->settings,
                                                                      "default-server");

  voipd_session_login (self->session, invocation, VOIPD_LOGIN_LOGIN,
                       fallback ? fallback : server, username, password, NULL);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_handle_register (VoipDBusAccount *skeleton, GDBusMethodInvocation *invocation,
                    const char *server, const char *username, const char *password,
                    const char *email, VoipdAccount *self)
{
  g_autofree char *fallback = *server ? NULL : g_settings_get_string (self->settings,
                                                                      "default-server");

  voipd_session_login (self->session, invocation, VOIPD_LOGIN_REGISTER,
                       fallback ? fallback : server, username, password, email);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ---- Logout, ChangePassword, DeleteAccount --------------------------------------- */

static GVariant *
after_logout (VoipdAccount *self, GVariant *reply, gpointer data)
{
  voipd_session_forget (self->session, VOIPD_STATE_REASON_LOGGED_OUT);
  return NULL;
}

static gboolean
on_handle_logout (VoipDBusAccount *skeleton, GDBusMethodInvocation *invocation, VoipdAccount *self)
{
  if (voipd_session_get_username (self->session) == NULL)
    {
      g_dbus_method_invocation_return_error_literal (invocation, VOIPD_ERROR,
                                                     VOIPD_ERROR_NOT_LOGGED_IN, _("not logged in"));
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  if (!voipd_account_check_online (self, NULL))
    {
      /* The server cannot be told; the token is forgotten here, and the
       * server lets it expire with the account's other changes. */
      voipd_session_forget (self->session, VOIPD_STATE_REASON_LOGGED_OUT);
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
  voipd_session_forget (self->session, VOIPD_STATE_REASON_ACCOUNT_DELETED);
  voipd_session_clear (self->session);
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
    voipd_connection_request_async (voipd_account_get_connection (self), VOIP_MSG_GET_PROFILE,
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
    voipd_connection_request_async (voipd_account_get_connection (self), VOIP_MSG_GROUP_INFO,
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
      voipd_session_set_online (self->session);
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
  resync->login = login;   /* a reference of our own */
  voipd_resync_async (self, voipd_session_get_connection (self->session), self->cache,
                      voipd_session_get_username (self->session), self->skeleton,
                      self->wanted_presence, self->resync_cancellable, on_resynced, resync);
}

/* ---- start -------------------------------------------------------------------------- */

void
voipd_account_start (VoipdAccount *self)
{
  g_autofree char *server = voipd_cache_get_meta (self->cache, "server");
  g_autofree char *username = voipd_cache_get_meta (self->cache, "username");

  voipd_contacts_load_cache (self);
  voipd_groups_load_cache (self);
  if (server != NULL && username != NULL && *server != '\0' && *username != '\0')
    {
      voip_dbus_account_set_server (self->skeleton, server);
      voip_dbus_account_set_username (self->skeleton, username);
    }
  voipd_session_start (self->session, server, username);
}

/* ---- GObject --------------------------------------------------------------------------- */

static void
voipd_account_dispose (GObject *object)
{
  VoipdAccount *self = VOIPD_ACCOUNT (object);

  if (self->resync_cancellable != NULL)
    g_cancellable_cancel (self->resync_cancellable);
  g_clear_object (&self->resync_cancellable);
  g_clear_object (&self->calls);   /* frees the media, unexports the calls */
  if (self->session)
    g_signal_handlers_disconnect_by_data (self->session, self);
  g_clear_object (&self->session);
  if (self->skeleton)
    g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (self->skeleton));
  g_clear_object (&self->skeleton);
  g_clear_object (&self->manager);
  g_clear_object (&self->conversations);
  g_clear_object (&self->cache);
  g_clear_object (&self->settings);
  g_clear_object (&self->bus);
  G_OBJECT_CLASS (voipd_account_parent_class)->dispose (object);
}

static void
voipd_account_class_init (VoipdAccountClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = voipd_account_dispose;
}

static void
voipd_account_init (VoipdAccount *self)
{
  self->wanted_presence = VOIP_PRESENCE_ONLINE;
}

VoipdAccount *
voipd_account_new (GDBusConnection *bus, VoipdCache *cache, GSettings *settings, GError **error)
{
  g_autoptr(VoipdAccount) self = g_object_new (VOIPD_TYPE_ACCOUNT, NULL);

  self->bus = g_object_ref (bus);
  self->cache = g_object_ref (cache);
  self->settings = g_object_ref (settings);
  self->session = voipd_session_new (settings);
  self->calls = voipd_calls_new (self);

  self->skeleton = voip_dbus_account_skeleton_new ();
  voip_dbus_account_set_state (self->skeleton,
                               voipd_session_state_to_nick (VOIPD_SESSION_STATE_OFFLINE));
  voip_dbus_account_set_state_reason_code (self->skeleton,
                                      voipd_state_reason_to_nick (VOIPD_STATE_REASON_NONE));
  voip_dbus_account_set_presence (self->skeleton, "offline");
  voipd_account_dbus_attach (self->skeleton, self);
  g_object_bind_property (self->session, "remember-login", self->skeleton, "remember-login",
                          G_BINDING_DEFAULT);
  g_signal_connect (self->session, "event", G_CALLBACK (on_event), self);
  g_signal_connect (self->session, "state-changed", G_CALLBACK (on_session_state_changed), self);
  g_signal_connect (self->session, "ended", G_CALLBACK (on_session_ended), self);
  g_signal_connect (self->session, "switching", G_CALLBACK (on_session_switching), self);
  g_signal_connect (self->session, "logged-in", G_CALLBACK (on_session_logged_in), self);
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
  self->conversations = voipd_conversations_new (self->session, self->cache, self->manager);
  return g_steal_pointer (&self);
}
