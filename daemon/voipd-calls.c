/* voipd-calls.c — VoipdCalls: the registry of the account's calls.
 *
 * A call object comes into being with whichever arrives first: the server's
 * CallChanged for a new id (an incoming call, or ours), or the reply to our
 * CallInvite. It leaves the registry when it has finished lingering. */
#define G_LOG_DOMAIN "voipd"

#include "voipd-call.h"
#include "voipd-calls.h"
#include "voipd-errors.h"
#include "voipd-media-loader.h"

struct _VoipdCalls {
  GObject parent_instance;

  VoipdAccount *account;   /* not owned */
  GHashTable   *calls;     /* guint64 id (boxed) → VoipdCall */
};

G_DEFINE_FINAL_TYPE (VoipdCalls, voipd_calls, G_TYPE_OBJECT)

/* ---- helpers ----------------------------------------------------------------- */

static VoipdCall *
calls_lookup (VoipdCalls *self, guint64 id)
{
  return g_hash_table_lookup (self->calls, &id);
}

static void
on_call_finished (VoipdCall *call, VoipdCalls *self)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->calls);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (value == call)
      {
        g_hash_table_iter_remove (&iter);
        return;
      }
}

static VoipdCall *
calls_add (VoipdCalls *self, guint64 id, const char *initiator, guint64 group,
           const char *callee)
{
  VoipdCall *call = voipd_call_new (self->account, id, initiator, group, callee);
  guint64 *key = g_new (guint64, 1);

  /* An incoming call rings: get the media engine ready for the answer (a
   * failure here is reported by Answer). */
  voipd_media_load (NULL);
  *key = id;
  g_signal_connect (call, "finished", G_CALLBACK (on_call_finished), self);
  g_hash_table_insert (self->calls, key, call);
  return call;
}

/* ---- events -------------------------------------------------------------------- */

void
voipd_calls_handle_event (VoipdCalls *self, guint code, GVariant *payload)
{
  const char *initiator, *peer, *data;
  guint64 id, group;
  guint32 kind, state;
  VoipdCall *call;

  switch (code)
    {
    case VOIP_MSG_CALL_CHANGED:
      g_variant_get (payload, "(t&stuux@a(su))", &id, &initiator, &group, NULL, NULL, NULL,
                     NULL);
      g_variant_get_child (payload, 3, "u", &state);
      call = calls_lookup (self, id);
      /* An ended call never comes back; one that goes on for us again
       * (we rejoin a group's call) is a new object at the same path. */
      if (call != NULL && voipd_call_is_ended (call) && state != VOIP_CALL_STATE_ENDED)
        {
          g_hash_table_remove (self->calls, &id);
          call = NULL;
        }
      if (call == NULL)
        call = calls_add (self, id, initiator, group, NULL);
      voipd_call_update (call, payload);
      break;
    case VOIP_MSG_CALL_SIGNAL_RECEIVED:
      g_variant_get (payload, "(t&su&s)", &id, &peer, &kind, &data);
      call = calls_lookup (self, id);
      if (call != NULL)
        voipd_call_signal_in (call, peer, kind, data);
      break;
    case VOIP_MSG_CALL_DATA_RECEIVED:
      {
        g_autoptr(GVariant) packet = NULL;
        g_autoptr(GBytes) bytes = NULL;

        g_variant_get (payload, "(t&s@ay)", &id, &peer, &packet);
        call = calls_lookup (self, id);
        if (call == NULL)
          break;
        bytes = g_variant_get_data_as_bytes (packet);
        voipd_call_relay_in (call, peer, bytes);
      }
      break;
    default:
      g_return_if_reached ();
    }
}

/* ---- starting a call ------------------------------------------------------------- */

typedef struct {
  char    *callee;   /* NULL for a group call */
  guint64  group;
} Invite;

static void
invite_free (Invite *invite)
{
  g_free (invite->callee);
  g_free (invite);
}

static GVariant *
after_invite (VoipdAccount *account, GVariant *reply, gpointer data)
{
  Invite *invite = data;
  VoipdCalls *self = voipd_account_get_calls (account);
  VoipdCall *call;
  guint64 id;

  g_variant_get (reply, "(t)", &id);
  call = calls_lookup (self, id);
  /* Rejoining a group's call that ended for us: a new object. (A new 1:1
   * call always has a new id; one that already ended is left as it is.) */
  if (call != NULL && voipd_call_is_ended (call) && invite->group != 0)
    {
      g_hash_table_remove (self->calls, &id);
      call = NULL;
    }
  if (call == NULL)
    call = calls_add (self, id, voipd_account_get_username (account), invite->group,
                      invite->callee);
  return g_variant_new ("(o)", voipd_call_get_object_path (call));
}

void
voipd_calls_invite (VoipdCalls *self, GDBusMethodInvocation *invocation, const char *callee,
                    guint64 group)
{
  g_autoptr(GError) error = NULL;
  Invite *invite;

  /* A call without audio is no call: fail now, before anyone rings. */
  if (voipd_media_load (&error) == NULL)
    {
      g_dbus_method_invocation_return_gerror (invocation, error);
      return;
    }
  invite = g_new0 (Invite, 1);
  invite->callee = group == 0 ? g_strdup (callee) : NULL;
  invite->group = group;
  voipd_account_call (self->account, invocation, VOIP_MSG_CALL_INVITE,
                      g_variant_new ("(st)", group == 0 ? callee : "", group), after_invite,
                      invite, (GDestroyNotify) invite_free);
}

void
voipd_calls_end_all (VoipdCalls *self, VoipCallReason reason)
{
  GHashTableIter iter;
  gpointer call;

  g_hash_table_iter_init (&iter, self->calls);
  while (g_hash_table_iter_next (&iter, NULL, &call))
    if (!voipd_call_is_ended (call))
      voipd_call_end (call, reason);
}

/* ---- GObject ------------------------------------------------------------------- */

static void
voipd_calls_dispose (GObject *object)
{
  VoipdCalls *self = VOIPD_CALLS (object);

  if (self->calls != NULL)
    {
      GHashTableIter iter;
      gpointer call;

      g_hash_table_iter_init (&iter, self->calls);
      while (g_hash_table_iter_next (&iter, NULL, &call))
        g_signal_handlers_disconnect_by_data (call, self);
    }
  g_clear_pointer (&self->calls, g_hash_table_unref);
  G_OBJECT_CLASS (voipd_calls_parent_class)->dispose (object);
}

static void
voipd_calls_class_init (VoipdCallsClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = voipd_calls_dispose;
}

static void
voipd_calls_init (VoipdCalls *self)
{
  self->calls = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_object_unref);
}

VoipdCalls *
voipd_calls_new (VoipdAccount *account)
{
  VoipdCalls *self = g_object_new (VOIPD_TYPE_CALLS, NULL);

  self->account = account;
  return self;
}
