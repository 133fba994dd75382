/* test-daemon-session.c — the session survives what fails: a Register or
 * Login that the server refuses (a taken name, a wrong password) leaves the
 * current session exactly as it was; two overlapping Logins end logged in as
 * the later one, never as a mix; and D-Bus arguments larger than the
 * protocol allows are refused at once (TooLarge, or Malformed for what no
 * request could carry), with nothing changed and nothing hanging. All through
 * D-Bus against real daemons and a real server. */
#include <string.h>

#include "daemon-fixture.h"

#define ACCOUNT "Account"
#define HUGE_SIZE (2 * 1024 * 1024)

/* ---- helpers ------------------------------------------------------------ */

static char *
get_string_property (TestUser *user, const char *name)
{
  g_autoptr(GVariant) value = test_user_get_property (user, TEST_VOIPD_PATH, ACCOUNT, name);

  g_assert_nonnull (value);
  return g_variant_dup_string (value, NULL);
}

/* State, Username and Server are what they were. */
static void
assert_session (TestUser *user, const char *username, const char *server)
{
  g_autofree char *state = get_string_property (user, "State");
  g_autofree char *name = get_string_property (user, "Username");
  g_autofree char *address = get_string_property (user, "Server");

  g_assert_cmpstr (state, ==, "online");
  g_assert_cmpstr (name, ==, username);
  g_assert_cmpstr (address, ==, server);
}

/* The session really works: a request to the server succeeds. */
static void
assert_session_works (TestUser *user, const char *username)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = test_user_call (user, TEST_VOIPD_PATH, ACCOUNT, "GetProfile",
                                              g_variant_new ("(s)", username), &error);
  const char *name = NULL;
  g_autoptr(GVariant) profile = NULL;

  g_assert_no_error (error);
  profile = g_variant_get_child_value (reply, 0);
  g_assert_true (g_variant_lookup (profile, "username", "&s", &name));
  g_assert_cmpstr (name, ==, username);
}

/* `user`'s session is the live one at the server for `username`: a
 * presence set through it reaches `friend`. */
static void
assert_live_at_server (TestUser *user, TestUser *friend, const char *username,
                       const char *presence)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = test_user_call (user, TEST_VOIPD_PATH, ACCOUNT, "SetPresence",
                                              g_variant_new ("(s)", presence), &error);

  g_assert_no_error (error);
  test_user_wait_contact (friend, username, "presence", presence);
}

static char *
dbus_error_name (const GError *error)
{
  g_assert_nonnull (error);
  return g_dbus_error_get_remote_error (error);
}

/* The call fails at once with TooLarge or Malformed, the one name for bad
 * input. */
static void
assert_refused_at (const char *file, int line, TestUser *user, const char *path,
                   const char *interface, const char *method, GVariant *parameters)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = test_user_call (user, path, interface, method, parameters, &error);
  g_autofree char *name = NULL;

  if (reply != NULL)
    g_error ("%s:%d: %s.%s succeeded with an argument over the protocol's limits", file, line,
             interface, method);
  name = dbus_error_name (error);
  if (g_strcmp0 (name, "org.voipd.Voip1.Error.TooLarge") != 0
      && g_strcmp0 (name, "org.voipd.Voip1.Error.Malformed") != 0)
    g_error ("%s:%d: %s.%s failed with %s (%s), expected TooLarge or Malformed", file, line,
             interface, method, name ? name : "(no name)", error->message);
}
#define assert_refused(user, path, interface, method, parameters) \
  assert_refused_at (__FILE__, __LINE__, (user), (path), (interface), (method), (parameters))

static char *
huge_string (void)
{
  char *s = g_malloc (HUGE_SIZE + 1);

  memset (s, 'a', HUGE_SIZE);
  s[HUGE_SIZE] = '\0';
  return s;
}

typedef struct {
  GVariant *reply;
  GError   *error;
  gboolean  done;
} CallResult;

static void
on_call_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CallResult *call = user_data;

  call->reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &call->error);
  call->done = TRUE;
}

static void
login_async (TestUser *user, const char *server, const char *username, const char *password,
             CallResult *result)
{
  g_dbus_connection_call (test_user_get_bus (user), TEST_VOIPD_BUS_NAME, TEST_VOIPD_PATH,
                          "org.voipd.Voip1.Account", "Login",
                          g_variant_new ("(sss)", server, username, password), NULL,
                          G_DBUS_CALL_FLAGS_NONE, 60000, NULL, on_call_done, result);
}

static gboolean
both_done (TestUser *user, gpointer data)
{
  CallResult *calls = data;

  return calls[0].done && calls[1].done;
}

/* ---- tests -------------------------------------------------------------- */

/* Registering a name that is taken, while logged in: the call fails with
 * UserExists, and alice is still online as alice, with her contacts. */
static void
test_register_taken_keeps_session (DaemonFixture *f, gconstpointer data)
{
  g_autoptr(TestSignals) signals = NULL;
  g_autofree char *message = NULL;

  test_user_befriend (f->alice, f->bob);
  signals = test_user_watch_signals (f->alice);
  message = test_user_call_fails (f->alice, TEST_VOIPD_PATH, ACCOUNT, "Register",
                                  g_variant_new ("(ssss)", f->address, "bob",
                                                 "some-password", ""),
                                  "org.voipd.Voip1.Error.UserExists");
  assert_session (f->alice, "alice", f->address);
  assert_session_works (f->alice, "alice");
  test_user_wait_contact (f->alice, "bob", "subscription", "friend");
  test_signals_assert_none (signals, "PropertiesChanged", TEST_VOIPD_PATH, "'State'");
  test_signals_assert_none (signals, "PropertiesChanged", TEST_VOIPD_PATH, "'Username'");
  test_signals_assert_none (signals, "InterfacesRemoved", TEST_VOIPD_PATH, NULL);

  /* And the server still hears that session: bob sees alice go away. */
  assert_live_at_server (f->alice, f->bob, "alice", "away");
}

/* A wrong password for one's own account while online: BadLogin, and the
 * session goes on. A login to a server that does not answer changes nothing
 * either. */
static void
test_wrong_password_keeps_session (DaemonFixture *f, gconstpointer data)
{
  g_autoptr(TestSignals) signals = NULL;
  g_autofree char *message = NULL;
  g_autofree char *nowhere = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GError) error = NULL;

  test_user_befriend (f->alice, f->bob);
  signals = test_user_watch_signals (f->alice);
  message = test_user_call_fails (f->alice, TEST_VOIPD_PATH, ACCOUNT, "Login",
                                  g_variant_new ("(sss)", f->address, "alice",
                                                 "not-alices-password"),
                                  "org.voipd.Voip1.Error.BadLogin");
  assert_session (f->alice, "alice", f->address);
  assert_session_works (f->alice, "alice");

  /* A port bound but not listening refuses the connection. */
  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                         &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_bind (socket, any, FALSE, &error));
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  nowhere = g_strdup_printf ("127.0.0.1:%u",
                             g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  g_free (test_user_call_fails (f->alice, TEST_VOIPD_PATH, ACCOUNT, "Login",
                                g_variant_new ("(sss)", nowhere, "alice", "password-alice"),
                                "org.voipd.Voip1.Error.Disconnected"));
  assert_session (f->alice, "alice", f->address);
  assert_session_works (f->alice, "alice");
  test_signals_assert_none (signals, "PropertiesChanged", TEST_VOIPD_PATH, "'State'");
  test_signals_assert_none (signals, "PropertiesChanged", TEST_VOIPD_PATH, "'Server'");

  assert_live_at_server (f->alice, f->bob, "alice", "busy");
}

/* Two Logins at once on alice's daemon, as carol and then as bob (both with
 * the right password): the later one wins. The earlier one either ends
 * before the later starts (success) or gives way to it (Cancelled); it never
 * fails with BadLogin, and the daemon never ends up as carol. */
static void
test_overlapping_logins (DaemonFixture *f, gconstpointer data)
{
  CallResult calls[2] = { { 0 } };
  g_autofree char *first_error = NULL;

  login_async (f->alice, f->address, "carol", "password-carol", &calls[0]);
  login_async (f->alice, f->address, "bob", "password-bob", &calls[1]);
  g_assert_true (test_user_wait (f->alice, TEST_USER_WAIT_MS, both_done, calls));

  g_assert_no_error (calls[1].error);
  if (calls[0].error != NULL)
    {
      first_error = dbus_error_name (calls[0].error);
      g_assert_cmpstr (first_error, ==, "org.voipd.Voip1.Error.Cancelled");
    }
  test_user_wait_state (f->alice, "online");
  assert_session (f->alice, "bob", f->address);
  assert_session_works (f->alice, "bob");

  /* The session is bob's at the server too: what it does, carol (bob's
   * friend for this) sees bob do. */
  test_user_befriend (f->carol, f->bob);
  assert_live_at_server (f->alice, f->carol, "bob", "dnd");

  g_clear_pointer (&calls[0].reply, g_variant_unref);
  g_clear_pointer (&calls[1].reply, g_variant_unref);
  g_clear_error (&calls[0].error);
}

/* Arguments over the protocol's limits: refused at once, nothing changes,
 * and the daemon is fine (it would abort on the CRITICAL of a frame that
 * cannot be encoded, or hang the call, before). */
static void
test_too_large_arguments (DaemonFixture *f, gconstpointer data)
{
  g_autofree char *huge = huge_string ();
  g_autofree char *bob_path = test_contact_path ("bob");
  g_autofree char *group_path = NULL;
  g_autofree char *group_id = NULL;
  g_autoptr(GBytes) blob = g_bytes_new_take (g_malloc0 (HUGE_SIZE), HUGE_SIZE);
  g_autoptr(JsonNode) before = NULL;
  g_autoptr(JsonNode) after = NULL;
  g_autofree char *before_text = NULL;
  g_autofree char *after_text = NULL;

  test_user_befriend (f->alice, f->bob);
  group_id = g_strstrip (voipctl_ok (f->alice, "group", "create", "Limits", "bob"));
  group_path = g_strdup_printf ("%s/group/%s", TEST_VOIPD_PATH, group_id);
  before = voipctl_json (f->alice, "contacts", "--json");

  assert_refused (f->alice, TEST_VOIPD_PATH, ACCOUNT, "AddContact",
                  g_variant_new ("(s)", huge));
  assert_refused (f->alice, TEST_VOIPD_PATH, ACCOUNT, "GetProfile",
                  g_variant_new ("(s)", huge));
  assert_refused (f->alice, TEST_VOIPD_PATH, ACCOUNT, "CreateGroup",
                  g_variant_new ("(s^as)", huge, (const char *const[]) { "bob", NULL }));
  assert_refused (f->alice, TEST_VOIPD_PATH, ACCOUNT, "CreateGroup",
                  g_variant_new ("(s^as)", "ok", (const char *const[]) { huge, NULL }));
  assert_refused (f->alice, TEST_VOIPD_PATH, ACCOUNT, "SetProfile",
                  g_variant_new_parsed ("({'motd': <%s>},)", huge));
  assert_refused (f->alice, group_path, "Group", "AddMember", g_variant_new ("(s)", huge));
  assert_refused (f->alice, bob_path, "Contact", "SendPluginMessage",
                  g_variant_new ("(s@ay)", "test-plugin",
                                 g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, blob,
                                                           TRUE)));
  assert_refused (f->alice, bob_path, "Contact", "SendPluginMessage",
                  g_variant_new ("(s@ay)", huge,
                                 g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, "x", 1, 1)));

  /* Nothing changed, and the session is as before. */
  after = voipctl_json (f->alice, "contacts", "--json");
  before_text = test_json_to_string (before);
  after_text = test_json_to_string (after);
  g_assert_cmpstr (after_text, ==, before_text);
  assert_session (f->alice, "alice", f->address);
  assert_session_works (f->alice, "alice");
  g_assert_true (test_user_daemon_running (f->alice));
  assert_live_at_server (f->alice, f->bob, "alice", "away");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  daemon_test_add ("/daemon/session/register-taken-keeps-session",
                   test_register_taken_keeps_session);
  daemon_test_add ("/daemon/session/wrong-password-keeps-session",
                   test_wrong_password_keeps_session);
  daemon_test_add ("/daemon/session/overlapping-logins", test_overlapping_logins);
  daemon_test_add ("/daemon/session/too-large-arguments", test_too_large_arguments);
  return g_test_run ();
}
