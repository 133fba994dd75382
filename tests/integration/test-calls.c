/* test-calls.c — call signalling (PROTOCOL.md, "Calls" and "Call signals"):
 * invitations that ring on every session, answers, rejections, hang-ups,
 * busy and offline callees, the ring timeout, dropped sessions, group calls,
 * the relay of signals and media, CallServers, and the STUN responder. */
#include <string.h>

#include "test-client.h"
#include "test-server.h"

typedef struct {
  TestServer *server;
  guint16     port;
  TestClient *alice;   /* friends with bob, carol and dave */
  TestClient *alice2;  /* a second session of alice */
  TestClient *bob;     /* also friends with carol */
  TestClient *bob2;    /* a second session of bob */
  TestClient *carol;
  TestClient *dave;
  TestClient *frank;   /* nobody's friend */
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  f->server = test_server_new ();
  g_key_file_set_integer (test_server_get_config (f->server), "calls", "ring-timeout",
                          GPOINTER_TO_UINT (data) ? GPOINTER_TO_UINT (data) : 600);
  test_server_start (f->server);
  f->port = test_server_get_port (f->server);
  f->alice = test_client_new_registered (f->port, "alice");
  f->alice2 = test_client_new_session (f->alice);
  f->bob = test_client_new_registered (f->port, "bob");
  f->bob2 = test_client_new_session (f->bob);
  f->carol = test_client_new_registered (f->port, "carol");
  f->dave = test_client_new_registered (f->port, "dave");
  f->frank = test_client_new_registered (f->port, "frank");
  test_befriend (f->alice, f->bob);
  test_befriend (f->alice, f->carol);
  test_befriend (f->alice, f->dave);
  test_befriend (f->bob, f->carol);
  for (TestClient **c = (TestClient *[]) { f->alice2, f->bob2, f->carol, f->dave, NULL }; *c; c++)
    test_client_flush_events (*c);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->alice, test_client_free);
  g_clear_pointer (&f->alice2, test_client_free);
  g_clear_pointer (&f->bob, test_client_free);
  g_clear_pointer (&f->bob2, test_client_free);
  g_clear_pointer (&f->carol, test_client_free);
  g_clear_pointer (&f->dave, test_client_free);
  g_clear_pointer (&f->frank, test_client_free);
  g_clear_pointer (&f->server, test_server_free);
}

/* ---- helpers ------------------------------------------------------------------ */

/* "STATE REASON user:state user:state ...", REASON "-" for none. */
static char *
describe_call (GVariant *call, guint64 *id, gint64 *started_ms)
{
  g_autoptr(GVariantIter) participants = NULL;
  GString *text = g_string_new (NULL);
  const char *initiator, *username;
  guint32 state, reason, participant;
  guint64 group;

  g_variant_get (call, "(t&stuuxa(su))", id, &initiator, &group, &state, &reason, started_ms,
                 &participants);
  g_string_append_printf (text, "%s %s", voip_call_state_to_string (state),
                          reason ? voip_call_reason_to_string (reason) : "-");
  while (g_variant_iter_next (participants, "(&su)", &username, &participant))
    g_string_append_printf (text, " %s:%s", username, voip_participant_state_to_string (participant));
  return g_string_free (text, FALSE);
}

/* The next CallChanged of client must be call `id` as described; returns
 * its started_ms. */
#define expect_call(client, id, description) \
  expect_call_at ((client), (id), (description), __FILE__, __LINE__)

static gint64
expect_call_at (TestClient *client, guint64 id, const char *description, const char *file,
                int line)
{
  g_autoptr(GVariant) event = test_client_expect_event_full (client, VOIP_MSG_CALL_CHANGED,
                                                             file, line, G_STRFUNC);
  g_autofree char *got = NULL;
  guint64 got_id;
  gint64 started_ms;

  got = describe_call (event, &got_id, &started_ms);
  if (got_id != id || g_strcmp0 (got, description) != 0)
    g_error ("%s:%d: %s: call %" G_GUINT64_FORMAT " \"%s\", expected call %" G_GUINT64_FORMAT
             " \"%s\"", file, line, test_client_get_username (client), got_id, got,
             id, description);
  return started_ms;
}

static void
assert_no_call_event (TestClient *client)
{
  test_client_assert_no_event (client, VOIP_MSG_CALL_CHANGED, 0);
}

/* Closes the clients, and waits until `friend` heard that `offline` users
 * went offline: the server has seen them go. */
static void
close_and_wait (TestClient *friend, TestClient **clients, guint offline)
{
  test_client_flush_events (friend);
  for (; *clients != NULL; clients++)
    test_client_close (*clients);
  for (guint i = 0; i < offline; i++)
    g_variant_unref (test_client_expect_event (friend, VOIP_MSG_PRESENCE_CHANGED));
}

static guint64
invite (TestClient *client, const char *callee, guint64 group)
{
  g_autoptr(GVariant) reply = test_client_call (client, VOIP_MSG_CALL_INVITE,
                                                g_variant_new ("(st)", callee, group));
  guint64 id;

  g_variant_get (reply, "(t)", &id);
  g_assert_cmpuint (id, >, 0);
  return id;
}

static void
invite_fails (TestClient *client, const char *callee, guint64 group, guint status)
{
  test_client_call_fails (client, VOIP_MSG_CALL_INVITE, g_variant_new ("(st)", callee, group),
                          status);
}

static void
call_request (TestClient *client, guint16 code, guint64 id, guint status)
{
  test_client_call_fails (client, code, g_variant_new ("(t)", id), status);
}

#define answer(client, id)  call_request ((client), VOIP_MSG_CALL_ANSWER, (id), VOIP_STATUS_OK)
#define reject(client, id)  call_request ((client), VOIP_MSG_CALL_REJECT, (id), VOIP_STATUS_OK)
#define hangup(client, id)  call_request ((client), VOIP_MSG_CALL_HANGUP, (id), VOIP_STATUS_OK)

/* alice calls bob, bob answers on his first session: an active call. */
static guint64
start_call (Fixture *f)
{
  guint64 id = invite (f->alice, "bob", 0);

  expect_call (f->alice, id, "ringing - alice:joined bob:invited");
  expect_call (f->bob, id, "ringing - alice:joined bob:invited");
  expect_call (f->bob2, id, "ringing - alice:joined bob:invited");
  answer (f->bob, id);
  expect_call (f->bob2, id, "ended answered-elsewhere alice:joined bob:joined");
  expect_call (f->alice, id, "active answered alice:joined bob:joined");
  expect_call (f->bob, id, "active answered alice:joined bob:joined");
  return id;
}

static GVariant *
bytes_of (gsize size, guint8 fill)
{
  g_autofree guint8 *data = g_malloc (MAX (size, 1));

  memset (data, fill, size);
  return g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, data, size, 1);
}

/* ---- 1:1 calls ------------------------------------------------------------------ */

static void
test_answer (Fixture *f, gconstpointer data)
{
  guint64 id = invite (f->alice, "bob", 0);
  gint64 started;

  /* Every session of the callee rings; the caller's other sessions hear nothing. */
  g_assert_cmpint (expect_call (f->alice, id, "ringing - alice:joined bob:invited"), ==, 0);
  expect_call (f->bob, id, "ringing - alice:joined bob:invited");
  expect_call (f->bob2, id, "ringing - alice:joined bob:invited");
  assert_no_call_event (f->alice2);
  assert_no_call_event (f->carol);

  /* The first session to answer takes the call. */
  answer (f->bob2, id);
  expect_call (f->bob, id, "ended answered-elsewhere alice:joined bob:joined");
  started = expect_call (f->alice, id, "active answered alice:joined bob:joined");
  g_assert_cmpint (started, >, 0);
  g_assert_cmpint (expect_call (f->bob2, id, "active answered alice:joined bob:joined"), ==,
                   started);
  call_request (f->bob, VOIP_MSG_CALL_ANSWER, id, VOIP_STATUS_CALL_ANSWERED);
  answer (f->bob2, id);   /* again from the session in the call: nothing changes */
  for (TestClient **c = (TestClient *[]) { f->alice, f->alice2, f->bob, f->bob2, NULL }; *c; c++)
    assert_no_call_event (*c);

  /* The callee hangs up: over for both. */
  hangup (f->bob2, id);
  expect_call (f->bob2, id, "ended hangup alice:joined bob:left");
  expect_call (f->alice, id, "ended hangup alice:left bob:left");
  assert_no_call_event (f->bob);
  call_request (f->alice, VOIP_MSG_CALL_HANGUP, id, VOIP_STATUS_NO_SUCH_CALL);
  call_request (f->bob, VOIP_MSG_CALL_ANSWER, id, VOIP_STATUS_NO_SUCH_CALL);

  /* Ids are new for every call; the caller hangs up this time. */
  {
    guint64 second = start_call (f);

    g_assert_cmpuint (second, >, id);
    hangup (f->alice, second);
    expect_call (f->alice, second, "ended hangup alice:left bob:joined");
    expect_call (f->bob, second, "ended hangup alice:left bob:left");
    assert_no_call_event (f->bob2);
  }
}

static void
test_reject (Fixture *f, gconstpointer data)
{
  guint64 id = invite (f->alice, "bob", 0);

  for (TestClient **c = (TestClient *[]) { f->alice, f->bob, f->bob2, NULL }; *c; c++)
    expect_call (*c, id, "ringing - alice:joined bob:invited");
  /* The caller cannot reject its own call; strangers do not see it. */
  call_request (f->alice, VOIP_MSG_CALL_REJECT, id, VOIP_STATUS_NOT_ALLOWED);
  call_request (f->carol, VOIP_MSG_CALL_REJECT, id, VOIP_STATUS_NO_SUCH_CALL);
  call_request (f->carol, VOIP_MSG_CALL_HANGUP, id, VOIP_STATUS_NO_SUCH_CALL);
  call_request (f->carol, VOIP_MSG_CALL_ANSWER, id, VOIP_STATUS_NO_SUCH_CALL);

  reject (f->bob2, id);
  expect_call (f->bob, id, "ended rejected alice:joined bob:left");
  expect_call (f->bob2, id, "ended rejected alice:joined bob:left");
  expect_call (f->alice, id, "ended rejected alice:left bob:left");
  call_request (f->bob, VOIP_MSG_CALL_ANSWER, id, VOIP_STATUS_NO_SUCH_CALL);
  assert_no_call_event (f->carol);
}

static void
test_cancel (Fixture *f, gconstpointer data)
{
  guint64 id = invite (f->alice, "bob", 0);

  for (TestClient **c = (TestClient *[]) { f->alice, f->bob, f->bob2, NULL }; *c; c++)
    expect_call (*c, id, "ringing - alice:joined bob:invited");
  /* Only the session that called is in the call. */
  call_request (f->alice2, VOIP_MSG_CALL_ANSWER, id, VOIP_STATUS_CALL_ANSWERED);
  hangup (f->alice, id);
  expect_call (f->alice, id, "ended hangup alice:left bob:invited");
  expect_call (f->bob, id, "ended hangup alice:left bob:left");
  expect_call (f->bob2, id, "ended hangup alice:left bob:left");
  call_request (f->bob, VOIP_MSG_CALL_ANSWER, id, VOIP_STATUS_NO_SUCH_CALL);
  assert_no_call_event (f->alice2);
}

static void
test_busy (Fixture *f, gconstpointer data)
{
  guint64 id = invite (f->alice, "bob", 0);

  for (TestClient **c = (TestClient *[]) { f->alice, f->bob, f->bob2, NULL }; *c; c++)
    expect_call (*c, id, "ringing - alice:joined bob:invited");
  /* Ringing counts as busy, for the callee and for the caller. */
  invite_fails (f->carol, "bob", 0, VOIP_STATUS_BUSY);
  invite_fails (f->carol, "alice", 0, VOIP_STATUS_BUSY);
  invite_fails (f->bob, "carol", 0, VOIP_STATUS_BUSY);
  invite_fails (f->alice2, "carol", 0, VOIP_STATUS_BUSY);
  assert_no_call_event (f->carol);

  answer (f->bob, id);
  expect_call (f->bob2, id, "ended answered-elsewhere alice:joined bob:joined");
  expect_call (f->alice, id, "active answered alice:joined bob:joined");
  expect_call (f->bob, id, "active answered alice:joined bob:joined");
  invite_fails (f->carol, "bob", 0, VOIP_STATUS_BUSY);
  invite_fails (f->alice, "carol", 0, VOIP_STATUS_BUSY);

  /* Free again once the call is over. */
  hangup (f->alice, id);
  expect_call (f->bob, id, "ended hangup alice:left bob:left");
  id = invite (f->carol, "bob", 0);
  expect_call (f->bob, id, "ringing - carol:joined bob:invited");
}

static void
test_refused (Fixture *f, gconstpointer data)
{
  /* Exactly one of callee and group. */
  invite_fails (f->alice, "", 0, VOIP_STATUS_MALFORMED);
  invite_fails (f->alice, "bob", 1, VOIP_STATUS_MALFORMED);
  invite_fails (f->alice, "alice", 0, VOIP_STATUS_CALL_SELF);
  /* Strangers and unknown users look the same. */
  invite_fails (f->alice, "frank", 0, VOIP_STATUS_NO_SUCH_USER);
  invite_fails (f->frank, "alice", 0, VOIP_STATUS_NO_SUCH_USER);
  invite_fails (f->alice, "nobody", 0, VOIP_STATUS_NO_SUCH_USER);
  invite_fails (f->alice, "Not A Name", 0, VOIP_STATUS_NO_SUCH_USER);
  invite_fails (f->alice, "", 12345, VOIP_STATUS_NO_SUCH_GROUP);

  /* Invisible is offline, and so is gone. */
  test_client_call_ok (f->dave, VOIP_MSG_SET_PRESENCE, g_variant_new ("(u)", VOIP_PRESENCE_INVISIBLE));
  invite_fails (f->alice, "dave", 0, VOIP_STATUS_OFFLINE);
  test_client_call_ok (f->dave, VOIP_MSG_SET_PRESENCE, g_variant_new ("(u)", VOIP_PRESENCE_AWAY));
  {
    guint64 id = invite (f->alice, "dave", 0);

    expect_call (f->dave, id, "ringing - alice:joined dave:invited");
    expect_call (f->alice, id, "ringing - alice:joined dave:invited");
    hangup (f->alice, id);
    expect_call (f->dave, id, "ended hangup alice:left dave:left");
  }
  close_and_wait (f->alice, (TestClient *[]) { f->dave, NULL }, 1);
  invite_fails (f->alice, "dave", 0, VOIP_STATUS_OFFLINE);

  for (TestClient **c = (TestClient *[]) { f->alice2, f->bob, f->bob2, f->carol, f->frank, NULL };
       *c; c++)
    assert_no_call_event (*c);
  call_request (f->alice, VOIP_MSG_CALL_ANSWER, 999, VOIP_STATUS_NO_SUCH_CALL);
  call_request (f->alice, VOIP_MSG_CALL_REJECT, 999, VOIP_STATUS_NO_SUCH_CALL);
  call_request (f->alice, VOIP_MSG_CALL_HANGUP, 999, VOIP_STATUS_NO_SUCH_CALL);
}

static void
test_timeout (Fixture *f, gconstpointer data)
{
  guint64 id = invite (f->alice, "bob", 0);

  for (TestClient **c = (TestClient *[]) { f->alice, f->bob, f->bob2, NULL }; *c; c++)
    expect_call (*c, id, "ringing - alice:joined bob:invited");
  /* Nobody answers within ring-timeout (1 s here). */
  expect_call (f->bob, id, "ended timeout alice:joined bob:left");
  expect_call (f->bob2, id, "ended timeout alice:joined bob:left");
  expect_call (f->alice, id, "ended timeout alice:left bob:left");
  call_request (f->bob, VOIP_MSG_CALL_ANSWER, id, VOIP_STATUS_NO_SUCH_CALL);

  /* An answered call outlives the ring timeout. */
  id = start_call (f);
  test_client_assert_no_event (f->alice, VOIP_MSG_CALL_CHANGED, 1500);
  hangup (f->bob, id);
  expect_call (f->alice, id, "ended hangup alice:left bob:left");
}

static void
test_dropped (Fixture *f, gconstpointer data)
{
  g_autofree char *bob_password = g_strdup (test_client_get_password (f->bob));
  guint64 id;

  /* One of two ringing sessions goes: the other still rings. */
  id = invite (f->alice, "bob", 0);
  for (TestClient **c = (TestClient *[]) { f->alice, f->bob, f->bob2, NULL }; *c; c++)
    expect_call (*c, id, "ringing - alice:joined bob:invited");
  test_client_close (f->bob2);
  test_client_assert_no_event (f->alice, VOIP_MSG_CALL_CHANGED, 200);
  /* The last one goes: the callee is offline. */
  test_client_close (f->bob);
  expect_call (f->alice, id, "ended offline alice:left bob:left");

  /* In a running call. */
  g_clear_pointer (&f->bob, test_client_free);
  g_clear_pointer (&f->bob2, test_client_free);
  f->bob = test_client_new_logged_in (f->port, "bob", bob_password);
  f->bob2 = test_client_new_session (f->bob);
  test_client_flush_events (f->alice);
  id = start_call (f);
  test_client_close (f->bob);
  expect_call (f->alice, id, "ended offline alice:left bob:left");
  assert_no_call_event (f->bob2);

  /* The caller goes while it rings. */
  id = invite (f->alice, "bob", 0);
  expect_call (f->alice, id, "ringing - alice:joined bob:invited");
  expect_call (f->bob2, id, "ringing - alice:joined bob:invited");
  test_client_close (f->alice);
  expect_call (f->bob2, id, "ended offline alice:left bob:left");

  /* Logging out leaves the call too. */
  id = invite (f->carol, "bob", 0);
  expect_call (f->bob2, id, "ringing - carol:joined bob:invited");
  expect_call (f->carol, id, "ringing - carol:joined bob:invited");
  answer (f->bob2, id);
  expect_call (f->carol, id, "active answered carol:joined bob:joined");
  expect_call (f->bob2, id, "active answered carol:joined bob:joined");
  test_client_call_ok (f->bob2, VOIP_MSG_LOGOUT, g_variant_new ("()"));
  expect_call (f->carol, id, "ended offline carol:left bob:left");
}

/* ---- group calls ------------------------------------------------------------------ */

static guint64
create_group (TestClient *client, const char *const *members)
{
  g_autoptr(GVariant) reply = test_client_call (client, VOIP_MSG_GROUP_CREATE,
                                                g_variant_new ("(s^as)", "team", members));
  guint64 id;

  g_variant_get (reply, "(t)", &id);
  return id;
}

static void
test_group (Fixture *f, gconstpointer data)
{
  g_autofree char *dave_password = g_strdup (test_client_get_password (f->dave));
  guint64 group = create_group (f->alice, (const char *[]) { "bob", "carol", "dave", NULL });
  guint64 id, again;

  close_and_wait (f->alice, (TestClient *[]) { f->dave, NULL }, 1);   /* not invited */
  for (TestClient **c = (TestClient *[]) { f->alice, f->alice2, f->bob, f->bob2, f->carol, NULL };
       *c; c++)
    test_client_flush_events (*c);
  invite_fails (f->frank, "", group, VOIP_STATUS_NO_SUCH_GROUP);

  id = invite (f->alice, "", group);
  expect_call (f->alice, id, "ringing - alice:joined bob:invited carol:invited");
  for (TestClient **c = (TestClient *[]) { f->bob, f->bob2, f->carol, NULL }; *c; c++)
    expect_call (*c, id, "ringing - alice:joined bob:invited carol:invited");
  assert_no_call_event (f->alice2);

  /* bob answers: active for those who are in; carol still rings. */
  answer (f->bob, id);
  expect_call (f->bob2, id, "ended answered-elsewhere alice:joined bob:joined carol:invited");
  expect_call (f->alice, id, "active answered alice:joined bob:joined carol:invited");
  expect_call (f->bob, id, "active answered alice:joined bob:joined carol:invited");
  expect_call (f->carol, id, "ringing - alice:joined bob:joined carol:invited");

  /* Calling the group while its call runs joins it. */
  again = invite (f->carol, "", group);
  g_assert_cmpuint (again, ==, id);
  for (TestClient **c = (TestClient *[]) { f->alice, f->bob, f->carol, NULL }; *c; c++)
    expect_call (*c, id, "active answered alice:joined bob:joined carol:joined");

  /* carol leaves; the call goes on; she comes back with CallAnswer. */
  hangup (f->carol, id);
  expect_call (f->carol, id, "ended hangup alice:joined bob:joined carol:left");
  expect_call (f->alice, id, "active answered alice:joined bob:joined carol:left");
  expect_call (f->bob, id, "active answered alice:joined bob:joined carol:left");
  answer (f->carol, id);
  for (TestClient **c = (TestClient *[]) { f->alice, f->bob, f->carol, NULL }; *c; c++)
    expect_call (*c, id, "active answered alice:joined bob:joined carol:joined");

  /* dave comes online and joins, uninvited, with CallAnswer; strangers cannot. */
  g_clear_pointer (&f->dave, test_client_free);
  f->dave = test_client_new_logged_in (f->port, "dave", dave_password);
  call_request (f->frank, VOIP_MSG_CALL_ANSWER, id, VOIP_STATUS_NO_SUCH_CALL);
  answer (f->dave, id);
  for (TestClient **c = (TestClient *[]) { f->alice, f->bob, f->carol, f->dave, NULL }; *c; c++)
    expect_call (*c, id, "active answered alice:joined bob:joined carol:joined dave:joined");
  /* In a group call, nobody can start another call with its members. */
  invite_fails (f->alice2, "", group, VOIP_STATUS_CALL_ANSWERED);

  /* Leaving one by one: the call ends when one is left. */
  hangup (f->alice, id);
  expect_call (f->alice, id, "ended hangup alice:left bob:joined carol:joined dave:joined");
  for (TestClient **c = (TestClient *[]) { f->bob, f->carol, f->dave, NULL }; *c; c++)
    expect_call (*c, id, "active answered alice:left bob:joined carol:joined dave:joined");
  test_client_close (f->carol);
  for (TestClient **c = (TestClient *[]) { f->bob, f->dave, NULL }; *c; c++)
    expect_call (*c, id, "active answered alice:left bob:joined carol:left dave:joined");
  hangup (f->dave, id);
  expect_call (f->dave, id, "ended hangup alice:left bob:joined carol:left dave:left");
  expect_call (f->bob, id, "ended hangup alice:left bob:left carol:left dave:left");
  call_request (f->bob, VOIP_MSG_CALL_ANSWER, id, VOIP_STATUS_NO_SUCH_CALL);
  for (TestClient **c = (TestClient *[]) { f->alice2, f->bob2, NULL }; *c; c++)
    assert_no_call_event (*c);
}

static void
test_group_leave (Fixture *f, gconstpointer data)
{
  guint64 group = create_group (f->alice, (const char *[]) { "bob", "carol", "dave", NULL });
  guint64 id, other;

  for (TestClient **c = (TestClient *[]) { f->alice2, f->bob, f->bob2, f->carol, f->dave, NULL };
       *c; c++)
    test_client_flush_events (*c);

  /* Members busy in another call are not invited. */
  other = invite (f->bob, "carol", 0);
  expect_call (f->carol, other, "ringing - bob:joined carol:invited");
  expect_call (f->bob, other, "ringing - bob:joined carol:invited");
  id = invite (f->alice, "", group);
  expect_call (f->alice, id, "ringing - alice:joined dave:invited");
  expect_call (f->dave, id, "ringing - alice:joined dave:invited");
  /* ... and cannot join it while busy. */
  call_request (f->carol, VOIP_MSG_CALL_ANSWER, id, VOIP_STATUS_BUSY);
  invite_fails (f->carol, "", group, VOIP_STATUS_BUSY);
  /* dave declines: nobody left to talk to. */
  reject (f->dave, id);
  expect_call (f->dave, id, "ended rejected alice:joined dave:left");
  expect_call (f->alice, id, "ended rejected alice:left dave:left");

  /* A group of three: one invitee declines, the call rings on for the other. */
  close_and_wait (f->alice, (TestClient *[]) { f->dave, NULL }, 1);
  hangup (f->bob, other);
  expect_call (f->bob, other, "ended hangup bob:left carol:invited");
  expect_call (f->carol, other, "ended hangup bob:left carol:left");
  test_client_flush_events (f->bob2);
  id = invite (f->alice, "", group);
  expect_call (f->alice, id, "ringing - alice:joined bob:invited carol:invited");
  for (TestClient **c = (TestClient *[]) { f->bob, f->bob2, f->carol, NULL }; *c; c++)
    expect_call (*c, id, "ringing - alice:joined bob:invited carol:invited");
  reject (f->bob2, id);
  expect_call (f->bob, id, "ended rejected alice:joined bob:left carol:invited");
  expect_call (f->bob2, id, "ended rejected alice:joined bob:left carol:invited");
  expect_call (f->alice, id, "ringing - alice:joined bob:left carol:invited");
  expect_call (f->carol, id, "ringing - alice:joined bob:left carol:invited");
  /* Nobody but the group may call it or join. */
  invite_fails (f->frank, "", group, VOIP_STATUS_NO_SUCH_GROUP);
  answer (f->carol, id);
  expect_call (f->alice, id, "active answered alice:joined bob:left carol:joined");
  expect_call (f->carol, id, "active answered alice:joined bob:left carol:joined");
  /* Everyone else offline or gone: with two joined, the call goes on; then ends. */
  hangup (f->carol, id);
  expect_call (f->carol, id, "ended hangup alice:joined bob:left carol:left");
  expect_call (f->alice, id, "ended hangup alice:left bob:left carol:left");
  close_and_wait (f->alice, (TestClient *[]) { f->bob, f->bob2, f->carol, NULL }, 2);
  invite_fails (f->alice, "", group, VOIP_STATUS_OFFLINE);
}

static void
test_group_full (void)
{
  g_autoptr(TestServer) server = test_server_new_started ();
  guint16 port = test_server_get_port (server);
  g_autoptr(TestClient) owner = test_client_new_registered (port, "owner");
  g_autoptr(GPtrArray) members = g_ptr_array_new_with_free_func ((GDestroyNotify) test_client_free);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GVariant) reply = NULL;
  TestClient *last;
  guint64 group, id;

  /* VOIP_CALL_PARTICIPANTS_MAX + 1 members, all online. */
  for (guint i = 0; i < VOIP_CALL_PARTICIPANTS_MAX; i++)
    {
      char *name = g_strdup_printf ("member%u", i);
      TestClient *member = test_client_new_registered (port, name);

      test_befriend (owner, member);
      g_ptr_array_add (members, member);
      g_ptr_array_add (names, name);
    }
  g_ptr_array_add (names, NULL);
  reply = test_client_call (owner, VOIP_MSG_GROUP_CREATE,
                            g_variant_new ("(s^as)", "big", (char **) names->pdata));
  g_variant_get (reply, "(t)", &group);

  /* The first MAX - 1 members ring; the last would make one too many. */
  id = invite (owner, "", group);
  last = members->pdata[members->len - 1];
  test_client_assert_no_event (last, VOIP_MSG_CALL_CHANGED, 0);
  call_request (last, VOIP_MSG_CALL_ANSWER, id, VOIP_STATUS_CALL_FULL);
  invite_fails (last, "", group, VOIP_STATUS_CALL_FULL);
  /* One declines: room for one more. */
  reject (members->pdata[0], id);
  answer (last, id);
  {
    g_autoptr(GVariant) event = NULL;
    guint64 got;
    gint64 started;
    g_autofree char *text = NULL;

    /* The last CallChanged the owner got. */
    test_client_assert_ping (owner);
    while ((event = test_client_wait_event (owner, VOIP_MSG_CALL_CHANGED, 0)) != NULL)
      {
        g_clear_pointer (&text, g_free);
        text = describe_call (event, &got, &started);
        g_clear_pointer (&event, g_variant_unref);
      }
    g_assert_nonnull (text);
    g_assert_true (g_str_has_suffix (text, " member7:joined"));
  }
}

/* ---- relay ---------------------------------------------------------------------- */

static void
send_signal (TestClient *client, guint64 id, const char *peer, guint kind, const char *data,
              guint status)
{
  test_client_call_fails (client, VOIP_MSG_CALL_SIGNAL,
                          g_variant_new ("(tsus)", id, peer, kind, data), status);
}

static void
send_data (TestClient *client, guint64 id, const char *peer, GVariant *packet, guint status)
{
  test_client_call_fails (client, VOIP_MSG_CALL_DATA, g_variant_new ("(ts@ay)", id, peer, packet),
                          status);
}

static void
test_relay (Fixture *f, gconstpointer data)
{
  g_autofree char *largest = g_strnfill (VOIP_CALL_SIGNAL_MAX, 'x');
  g_autofree char *too_large = g_strnfill (VOIP_CALL_SIGNAL_MAX + 1, 'x');
  g_autoptr(GVariant) packet = g_variant_ref_sink (bytes_of (VOIP_CALL_PACKET_MAX, 0xab));
  guint64 id = invite (f->alice, "bob", 0);

  for (TestClient **c = (TestClient *[]) { f->alice, f->bob, f->bob2, NULL }; *c; c++)
    expect_call (*c, id, "ringing - alice:joined bob:invited");
  /* Not before the peer joined. */
  send_signal (f->alice, id, "bob", VOIP_CALL_SIGNAL_CREDENTIALS, "u p", VOIP_STATUS_NOT_ALLOWED);
  send_signal (f->bob, id, "alice", VOIP_CALL_SIGNAL_CREDENTIALS, "u p", VOIP_STATUS_NO_SUCH_CALL);
  answer (f->bob, id);
  for (TestClient **c = (TestClient *[]) { f->alice, f->bob, f->bob2, NULL }; *c; c++)
    test_client_flush_events (*c);

  send_signal (f->alice, id, "bob", VOIP_CALL_SIGNAL_CANDIDATE,
                "a=candidate:1 1 UDP 2013266431 192.0.2.1 40000 typ host", VOIP_STATUS_OK);
  send_signal (f->bob, id, "alice", VOIP_CALL_SIGNAL_END_OF_CANDIDATES, largest, VOIP_STATUS_OK);
  {
    g_autoptr(GVariant) event = test_client_expect_event (f->bob, VOIP_MSG_CALL_SIGNAL_RECEIVED);
    const char *sender, *text;
    guint64 got;
    guint32 kind;

    g_variant_get (event, "(t&su&s)", &got, &sender, &kind, &text);
    g_assert_cmpuint (got, ==, id);
    g_assert_cmpstr (sender, ==, "alice");
    g_assert_cmpuint (kind, ==, VOIP_CALL_SIGNAL_CANDIDATE);
    g_assert_true (g_str_has_prefix (text, "a=candidate:1 "));
  }
  {
    g_autoptr(GVariant) event = test_client_expect_event (f->alice, VOIP_MSG_CALL_SIGNAL_RECEIVED);
    const char *sender, *text;
    guint32 kind;

    g_variant_get (event, "(t&su&s)", NULL, &sender, &kind, &text);
    g_assert_cmpstr (sender, ==, "bob");
    g_assert_cmpuint (kind, ==, VOIP_CALL_SIGNAL_END_OF_CANDIDATES);
    g_assert_cmpstr (text, ==, largest);
  }
  /* Bad kinds and sizes; peers and senders outside the call. */
  send_signal (f->alice, id, "bob", 0, "", VOIP_STATUS_MALFORMED);
  send_signal (f->alice, id, "bob", VOIP_CALL_SIGNAL_LAST + 1, "", VOIP_STATUS_MALFORMED);
  send_signal (f->alice, id, "bob", VOIP_CALL_SIGNAL_SRTP_KEY, too_large, VOIP_STATUS_TOO_LARGE);
  send_signal (f->alice, id, "carol", VOIP_CALL_SIGNAL_USE_RELAY, "", VOIP_STATUS_NOT_ALLOWED);
  send_signal (f->alice, id, "alice", VOIP_CALL_SIGNAL_USE_RELAY, "", VOIP_STATUS_NOT_ALLOWED);
  send_signal (f->carol, id, "bob", VOIP_CALL_SIGNAL_USE_RELAY, "", VOIP_STATUS_NO_SUCH_CALL);
  send_signal (f->bob2, id, "alice", VOIP_CALL_SIGNAL_USE_RELAY, "", VOIP_STATUS_NO_SUCH_CALL);
  send_signal (f->alice, id + 1, "bob", VOIP_CALL_SIGNAL_USE_RELAY, "", VOIP_STATUS_NO_SUCH_CALL);

  /* Media packets, to the joined session only. */
  send_data (f->alice, id, "bob", packet, VOIP_STATUS_OK);
  send_data (f->alice, id, "bob", bytes_of (1, 1), VOIP_STATUS_OK);
  {
    g_autoptr(GVariant) event = test_client_expect_event (f->bob, VOIP_MSG_CALL_DATA_RECEIVED);
    g_autoptr(GVariant) got = NULL;
    const char *sender;

    g_variant_get (event, "(t&s@ay)", NULL, &sender, &got);
    g_assert_cmpstr (sender, ==, "alice");
    g_assert_true (g_variant_equal (got, packet));
    g_variant_unref (test_client_expect_event (f->bob, VOIP_MSG_CALL_DATA_RECEIVED));
  }
  send_data (f->alice, id, "bob", bytes_of (0, 0), VOIP_STATUS_MALFORMED);
  send_data (f->alice, id, "bob", bytes_of (VOIP_CALL_PACKET_MAX + 1, 0), VOIP_STATUS_TOO_LARGE);
  send_data (f->alice, id, "carol", bytes_of (10, 0), VOIP_STATUS_NOT_ALLOWED);
  send_data (f->carol, id, "bob", bytes_of (10, 0), VOIP_STATUS_NO_SUCH_CALL);
  send_data (f->alice2, id, "bob", bytes_of (10, 0), VOIP_STATUS_NO_SUCH_CALL);

  for (TestClient **c = (TestClient *[]) { f->alice2, f->bob2, f->carol, NULL }; *c; c++)
    {
      test_client_assert_no_event (*c, VOIP_MSG_CALL_SIGNAL_RECEIVED, 0);
      test_client_assert_no_event (*c, VOIP_MSG_CALL_DATA_RECEIVED, 0);
    }
  test_client_assert_no_event (f->bob, VOIP_MSG_CALL_DATA_RECEIVED, 0);
  test_client_assert_no_event (f->bob, VOIP_MSG_CALL_SIGNAL_RECEIVED, 0);

  /* Over: nothing more goes through. */
  hangup (f->bob, id);
  send_data (f->alice, id, "bob", bytes_of (10, 0), VOIP_STATUS_NO_SUCH_CALL);
}

static void
test_relay_off (void)
{
  g_autoptr(TestServer) server = test_server_new ();
  g_autoptr(TestClient) alice = NULL;
  g_autoptr(TestClient) bob = NULL;
  guint64 id;

  g_key_file_set_boolean (test_server_get_config (server), "calls", "relay", FALSE);
  test_server_start (server);
  alice = test_client_new_registered (test_server_get_port (server), "alice");
  bob = test_client_new_registered (test_server_get_port (server), "bob");
  test_befriend (alice, bob);
  id = invite (alice, "bob", 0);
  answer (bob, id);
  send_data (alice, id, "bob", bytes_of (10, 0), VOIP_STATUS_NOT_ALLOWED);
  {
    g_autoptr(GVariant) servers = test_client_call (alice, VOIP_MSG_CALL_SERVERS,
                                                    g_variant_new ("()"));
    gboolean relay = TRUE;

    g_variant_get_child (servers, 2, "b", &relay);
    g_assert_false (relay);
  }
  /* Signals still go through. */
  send_signal (alice, id, "bob", VOIP_CALL_SIGNAL_USE_RELAY, "", VOIP_STATUS_OK);
  g_variant_unref (test_client_expect_event (bob, VOIP_MSG_CALL_SIGNAL_RECEIVED));
  test_client_assert_no_event (bob, VOIP_MSG_CALL_DATA_RECEIVED, 0);
}

/* ---- CallServers ---------------------------------------------------------------- */

static void
test_servers (void)
{
  g_autoptr(TestServer) server = test_server_new_started ();
  g_autoptr(TestClient) alice = test_client_new_registered (test_server_get_port (server),
                                                            "alice");
  g_autoptr(GVariant) reply = test_client_call (alice, VOIP_MSG_CALL_SERVERS, g_variant_new ("()"));
  g_autoptr(GVariant) stun = g_variant_get_child_value (reply, 0);
  g_autoptr(GVariant) turn = g_variant_get_child_value (reply, 1);
  const char *host;
  guint16 port;
  gboolean relay = FALSE;

  /* Only the embedded responder, and no TURN without a secret. */
  g_assert_cmpuint (g_variant_n_children (stun), ==, 1);
  g_variant_get_child (stun, 0, "(&sq)", &host, &port);
  g_assert_cmpstr (host, ==, "");
  g_assert_cmpuint (port, ==, test_server_get_stun_port (server));
  g_assert_cmpuint (g_variant_n_children (turn), ==, 0);
  /* The server relays media unless told not to. */
  g_variant_get_child (reply, 2, "b", &relay);
  g_assert_true (relay);
}

static void
test_servers_turn (void)
{
  g_autoptr(TestServer) server = test_server_new ();
  GKeyFile *config = test_server_get_config (server);
  g_autoptr(TestClient) alice = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) stun = NULL;
  g_autoptr(GVariant) turn = NULL;
  const char *stun_servers[] = { "stun.example.org:3478", "[2001:db8::1]:19302" };
  const char *turn_servers[] = { "turn.example.org:3478", "192.0.2.7:5349" };
  const char *host, *username, *password;
  guint16 port;
  gint64 before, expiry;

  g_key_file_set_boolean (config, "stun", "enabled", FALSE);
  g_key_file_set_string_list (config, "stun", "servers", stun_servers, 2);
  g_key_file_set_string_list (config, "turn", "servers", turn_servers, 2);
  g_key_file_set_string (config, "turn", "secret", "north-wind");
  g_key_file_set_integer (config, "turn", "ttl", 600);
  test_server_start (server);
  alice = test_client_new_registered (test_server_get_port (server), "alice");

  before = g_get_real_time () / G_USEC_PER_SEC;
  reply = test_client_call (alice, VOIP_MSG_CALL_SERVERS, g_variant_new ("()"));
  stun = g_variant_get_child_value (reply, 0);
  turn = g_variant_get_child_value (reply, 1);

  /* The embedded responder is off: only the external ones. */
  g_assert_cmpuint (g_variant_n_children (stun), ==, 2);
  g_variant_get_child (stun, 0, "(&sq)", &host, &port);
  g_assert_cmpstr (host, ==, "stun.example.org");
  g_assert_cmpuint (port, ==, 3478);
  g_variant_get_child (stun, 1, "(&sq)", &host, &port);
  g_assert_cmpstr (host, ==, "2001:db8::1");
  g_assert_cmpuint (port, ==, 19302);

  g_assert_cmpuint (g_variant_n_children (turn), ==, 2);
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(GHmac) hmac = g_hmac_new (G_CHECKSUM_SHA1, (const guchar *) "north-wind", 10);
      guint8 digest[20];
      gsize len = sizeof digest;
      g_autofree char *expected = NULL;
      char *end;

      g_variant_get_child (turn, i, "(&sq&s&s)", &host, &port, &username, &password);
      g_assert_cmpstr (host, ==, i == 0 ? "turn.example.org" : "192.0.2.7");
      g_assert_cmpuint (port, ==, i == 0 ? 3478 : 5349);
      /* "<unix expiry>:<username>", expiring ttl seconds from now. */
      expiry = g_ascii_strtoll (username, &end, 10);
      g_assert_cmpstr (end, ==, ":alice");
      g_assert_cmpint (expiry, >=, before + 600);
      g_assert_cmpint (expiry, <=, g_get_real_time () / G_USEC_PER_SEC + 600);
      /* base64 (HMAC-SHA1 (secret, username)), as coturn computes it. */
      g_hmac_update (hmac, (const guchar *) username, -1);
      g_hmac_get_digest (hmac, digest, &len);
      expected = g_base64_encode (digest, len);
      g_assert_cmpstr (password, ==, expected);
    }
}

/* ---- STUN ------------------------------------------------------------------------- */

#define STUN_COOKIE 0x2112A442u
#define STUN_HEADER 20
#define STUN_FINGERPRINT 0x8028u
#define STUN_FINGERPRINT_XOR 0x5354554eu   /* RFC 5389 §15.5 */

/* CRC-32 of ISO 3309 (the one FINGERPRINT uses), written out here so that
 * the test does not check the server's CRC with the server's library. */
static guint32
crc32_iso3309 (const guint8 *data, gsize len)
{
  guint32 crc = 0xffffffffu;

  for (gsize i = 0; i < len; i++)
    {
      crc ^= data[i];
      for (guint bit = 0; bit < 8; bit++)
        crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
    }
  return ~crc;
}

/* Appends an attribute to the message in buffer and updates its length. */
static gsize
stun_append (guint8 *buffer, gsize len, guint16 type, const void *value, guint16 length)
{
  gsize padded = (length + 3) & ~3u;

  buffer[len] = type >> 8;
  buffer[len + 1] = type & 0xff;
  buffer[len + 2] = length >> 8;
  buffer[len + 3] = length & 0xff;
  memset (buffer + len + 4, 0, padded);
  memcpy (buffer + len + 4, value, length);
  len += 4 + padded;
  buffer[2] = (len - STUN_HEADER) >> 8;
  buffer[3] = (len - STUN_HEADER) & 0xff;
  return len;
}

/* Appends a FINGERPRINT (off by `error`) as the last attribute. */
static gsize
stun_append_fingerprint (guint8 *buffer, gsize len, guint32 error)
{
  guint32 value = 0;

  len = stun_append (buffer, len, STUN_FINGERPRINT, &value, 4);
  value = GUINT32_TO_BE ((crc32_iso3309 (buffer, len - 8) ^ STUN_FINGERPRINT_XOR) + error);
  memcpy (buffer + len - 4, &value, 4);
  return len;
}

/* Where attribute `type` starts in a response (its value at +4), or 0. Also
 * checks that the attributes tile the message exactly. */
static gsize
stun_find (const guint8 *response, gsize len, guint16 type)
{
  gsize found = 0, offset;

  for (offset = STUN_HEADER; offset + 4 <= len;)
    {
      guint attribute = response[offset] << 8 | response[offset + 1];
      gsize length = response[offset + 2] << 8 | response[offset + 3];

      g_assert_cmpuint (offset + 4 + length, <=, len);
      if (attribute == type && found == 0)
        found = offset;
      offset += 4 + ((length + 3) & ~3u);
    }
  g_assert_cmpuint (offset, ==, len);
  return found;
}

/* An RFC 5389 answer ends with a FINGERPRINT whose CRC is right. */
static void
stun_assert_fingerprint (const guint8 *response, gsize len)
{
  gsize at = stun_find (response, len, STUN_FINGERPRINT);
  guint32 value;

  g_assert_cmpuint (at, >, 0);
  g_assert_cmpuint (at + 8, ==, len);   /* the last attribute */
  g_assert_cmpuint (response[at + 3], ==, 4);
  memcpy (&value, response + at + 4, 4);
  g_assert_cmphex (GUINT32_FROM_BE (value), ==, crc32_iso3309 (response, at) ^ STUN_FINGERPRINT_XOR);
}

/* Sends a request and returns the first answer. */
static gsize
stun_exchange (GSocket *socket, GSocketAddress *server, const guint8 *request, gsize len,
               guint8 *response, gsize size)
{
  g_autoptr(GError) error = NULL;
  gssize got;

  g_socket_send_to (socket, server, (const char *) request, len, NULL, &error);
  g_assert_no_error (error);
  got = g_socket_receive (socket, (char *) response, size, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (got, >=, STUN_HEADER);
  g_assert_cmpuint ((gsize) (response[2] << 8 | response[3]) + STUN_HEADER, ==, got);
  return got;
}

/* A Binding request: with the RFC 5389 magic cookie, or RFC 3489 style. */
static gsize
stun_request (guint8 *buffer, const guint8 transaction[12], gboolean cookie)
{
  buffer[0] = 0x00; buffer[1] = 0x01;   /* Binding request */
  buffer[2] = 0x00; buffer[3] = 0x00;   /* no attributes */
  if (cookie)
    {
      guint32 magic = GUINT32_TO_BE (STUN_COOKIE);
      memcpy (buffer + 4, &magic, 4);
      memcpy (buffer + 8, transaction, 12);
    }
  else
    {
      memcpy (buffer + 4, transaction, 12);
      memcpy (buffer + 16, transaction, 4);
    }
  return 20;
}

/* Sends the request and reads the answer's mapped address: XOR-MAPPED-ADDRESS
 * for RFC 5389, MAPPED-ADDRESS for RFC 3489. RFC 5389 answers end with a
 * FINGERPRINT; RFC 3489 has none. */
static void
stun_check (GSocket *socket, GSocketAddress *server, gboolean cookie)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketAddress) local = g_socket_get_local_address (socket, &error);
  g_autofree char *expected_host = NULL;
  guint8 request[20], response[1024], transaction[12];
  gssize len;
  gsize offset;
  gboolean found = FALSE;

  for (guint i = 0; i < 12; i++)
    transaction[i] = g_random_int_range (0, 256);
  if (!cookie)
    transaction[0] = 0x11;   /* so that the bytes after the header are not the cookie */
  stun_request (request, transaction, cookie);
  g_socket_send_to (socket, server, (const char *) request, sizeof request, NULL, &error);
  g_assert_no_error (error);
  len = g_socket_receive (socket, (char *) response, sizeof response, NULL, &error);
  g_assert_no_error (error);

  g_assert_cmpint (len, >=, 20);
  g_assert_cmpuint (response[0], ==, 0x01);   /* Binding success response */
  g_assert_cmpuint (response[1], ==, 0x01);
  g_assert_cmpuint ((gsize) (response[2] << 8 | response[3]) + 20, ==, len);
  g_assert_cmpmem (response + (cookie ? 8 : 4), 12, transaction, 12);
  if (cookie)
    stun_assert_fingerprint (response, len);
  else
    g_assert_cmpuint (stun_find (response, len, STUN_FINGERPRINT), ==, 0);

  expected_host = g_inet_address_to_string (g_inet_socket_address_get_address (
      G_INET_SOCKET_ADDRESS (local)));
  for (offset = 20; offset + 4 <= (gsize) len;)
    {
      guint type = response[offset] << 8 | response[offset + 1];
      gsize length = response[offset + 2] << 8 | response[offset + 3];
      const guint8 *value = response + offset + 4;

      g_assert_cmpuint (offset + 4 + length, <=, len);
      if (type == (cookie ? 0x0020u : 0x0001u))
        {
          guint16 port = value[2] << 8 | value[3];
          guint8 address[4];
          g_autoptr(GInetAddress) inet = NULL;
          g_autofree char *host = NULL;

          g_assert_cmpuint (length, ==, 8);
          g_assert_cmpuint (value[1], ==, 0x01);   /* IPv4 */
          memcpy (address, value + 4, 4);
          if (cookie)
            {
              port ^= STUN_COOKIE >> 16;
              for (guint i = 0; i < 4; i++)
                address[i] ^= (STUN_COOKIE >> (24 - 8 * i)) & 0xff;
            }
          inet = g_inet_address_new_from_bytes (address, G_SOCKET_FAMILY_IPV4);
          host = g_inet_address_to_string (inet);
          g_assert_cmpstr (host, ==, expected_host);
          g_assert_cmpuint (port, ==, g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local)));
          found = TRUE;
        }
      offset += 4 + ((length + 3) & ~3u);
    }
  g_assert_true (found);
}

static void
test_stun (void)
{
  g_autoptr(TestServer) server = test_server_new_started ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) stun = NULL;
  g_autoptr(GSocket) socket = NULL;
  guint16 port = test_server_get_stun_port (server);
  guint8 garbage[600];

  g_assert_cmpuint (port, >, 0);
  stun = g_inet_socket_address_new (loopback, port);
  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP,
                         &error);
  g_assert_no_error (error);
  g_socket_bind (socket, any, FALSE, &error);
  g_assert_no_error (error);
  g_socket_set_timeout (socket, 10);

  stun_check (socket, stun, TRUE);
  stun_check (socket, stun, FALSE);

  /* Garbage of every sort is dropped without an answer, and the server
   * answers the next real request. */
  for (gsize size = 0; size < sizeof garbage; size += 37)
    {
      for (gsize i = 0; i < size; i++)
        garbage[i] = g_random_int_range (0, 256);
      if (size >= 20 && size % 2)
        {
          /* A header that looks right, with a length that lies. */
          guint8 transaction[12] = { 0 };
          stun_request (garbage, transaction, TRUE);
          garbage[3] = 0x40;
        }
      g_socket_send_to (socket, stun, (const char *) garbage, size, NULL, &error);
      g_assert_no_error (error);
    }
  stun_check (socket, stun, TRUE);

  /* The TCP side did not notice. */
  {
    g_autoptr(TestClient) alice = test_client_new_registered (test_server_get_port (server),
                                                              "alice");
    test_client_assert_ping (alice);
  }
}

/* RFC 5389 §7.3.1: a Binding request with comprehension-required attributes
 * the server does not know gets a 420 naming them (and only them) in
 * UNKNOWN-ATTRIBUTES; a request whose FINGERPRINT is wrong is not STUN and is
 * dropped, one whose FINGERPRINT is right is answered. */
static void
test_stun_unknown_attributes (void)
{
  g_autoptr(TestServer) server = test_server_new_started ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) stun = g_inet_socket_address_new (loopback,
                                                             test_server_get_stun_port (server));
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                                            G_SOCKET_PROTOCOL_UDP, &error);
  const guint8 transaction[12] = { 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 };
  const guint8 next[12] = { 0x43, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 };
  const guint8 value[6] = { 1, 2, 3, 4, 5, 6 };
  guint8 request[256], response[1024];
  gsize len, got, at;

  g_assert_no_error (error);
  g_socket_bind (socket, any, FALSE, &error);
  g_assert_no_error (error);
  g_socket_set_timeout (socket, 10);

  /* Two unknown comprehension-required attributes, one unknown optional one
   * (0x8000 and up: ignored), and a known one. */
  len = stun_request (request, transaction, TRUE);
  len = stun_append (request, len, 0x7f01, value, 6);
  len = stun_append (request, len, 0x8123, value, 4);
  len = stun_append (request, len, 0x8022, "test", 4);   /* SOFTWARE */
  len = stun_append (request, len, 0x0031, value, 2);
  got = stun_exchange (socket, stun, request, len, response, sizeof response);
  g_assert_cmphex (response[0] << 8 | response[1], ==, 0x0111);   /* Binding error */
  g_assert_cmpmem (response + 8, 12, transaction, 12);
  at = stun_find (response, got, 0x0009);                        /* ERROR-CODE */
  g_assert_cmpuint (at, >, 0);
  g_assert_cmpuint (response[at + 6] * 100 + response[at + 7], ==, 420);
  at = stun_find (response, got, 0x000a);                        /* UNKNOWN-ATTRIBUTES */
  g_assert_cmpuint (at, >, 0);
  g_assert_cmpmem (response + at + 2, 6, ((guint8[]) { 0, 4, 0x7f, 0x01, 0x00, 0x31 }), 6);
  g_assert_cmpuint (stun_find (response, got, 0x0020), ==, 0);   /* no address */
  stun_assert_fingerprint (response, got);

  /* The same request with a FINGERPRINT: still a 420. */
  len = stun_append_fingerprint (request, len, 0);
  got = stun_exchange (socket, stun, request, len, response, sizeof response);
  g_assert_cmphex (response[0] << 8 | response[1], ==, 0x0111);
  stun_assert_fingerprint (response, got);

  /* A plain request with a wrong FINGERPRINT gets nothing: the first answer
   * that comes is to the next request, whose FINGERPRINT is right. */
  len = stun_request (request, transaction, TRUE);
  len = stun_append_fingerprint (request, len, 1);
  g_socket_send_to (socket, stun, (const char *) request, len, NULL, &error);
  g_assert_no_error (error);
  len = stun_request (request, next, TRUE);
  len = stun_append_fingerprint (request, len, 0);
  got = stun_exchange (socket, stun, request, len, response, sizeof response);
  g_assert_cmphex (response[0] << 8 | response[1], ==, 0x0101);   /* Binding success */
  g_assert_cmpmem (response + 8, 12, next, 12);
  g_assert_cmpuint (stun_find (response, got, 0x0020), >, 0);
  stun_assert_fingerprint (response, got);
}

/* SIGTERM with calls ringing and running: a clean exit (and, under the
 * sanitizers, no leak). */
static void
test_shutdown (Fixture *f, gconstpointer data)
{
  guint64 group = create_group (f->alice, (const char *[]) { "bob", "carol", "dave", NULL });
  guint64 id;
  int status = -1;

  test_client_flush_events (f->dave);
  id = invite (f->alice, "", group);
  answer (f->carol, id);
  send_signal (f->alice, id, "carol", VOIP_CALL_SIGNAL_USE_RELAY, "", VOIP_STATUS_OK);
  send_data (f->carol, id, "alice", bytes_of (100, 1), VOIP_STATUS_OK);
  g_assert_true (test_server_stop (f->server, 20000, &status));
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  test_client_expect_closed_maybe_event (f->bob, VOIP_CLOSE_SHUTDOWN);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func, ring_timeout) \
  g_test_add (path, Fixture, GUINT_TO_POINTER (ring_timeout), fixture_set_up, func, \
              fixture_tear_down)
  ADD ("/calls/answer", test_answer, 0);
  ADD ("/calls/reject", test_reject, 0);
  ADD ("/calls/cancel", test_cancel, 0);
  ADD ("/calls/busy", test_busy, 0);
  ADD ("/calls/refused", test_refused, 0);
  ADD ("/calls/timeout", test_timeout, 1);
  ADD ("/calls/dropped", test_dropped, 0);
  ADD ("/calls/group", test_group, 0);
  ADD ("/calls/group-leave", test_group_leave, 0);
  ADD ("/calls/relay", test_relay, 0);
  ADD ("/calls/shutdown", test_shutdown, 0);
#undef ADD
  g_test_add_func ("/calls/group-full", test_group_full);
  g_test_add_func ("/calls/relay-off", test_relay_off);
  g_test_add_func ("/calls/servers", test_servers);
  g_test_add_func ("/calls/servers-turn", test_servers_turn);
  g_test_add_func ("/calls/stun", test_stun);
  g_test_add_func ("/calls/stun/unknown-attributes", test_stun_unknown_attributes);
  return g_test_run ();
}
