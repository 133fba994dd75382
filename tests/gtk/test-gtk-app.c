/* test-gtk-app.c — the desktop app `voip` for real: a voip-server on
 * loopback, alice and bob with their own bus, keyring and voipd, and
 * alice's app on a headless X display, read and driven over AT-SPI as a
 * screen reader would. What each step checks comes from voipd or from bob's
 * side, never from the app's say-so. */
#include "daemon-fixture.h"
#include "test-atspi.h"
#include "test-desktop.h"

#define APP "voip"
/* Waits for an accessible the test does not use further. */
#define expect(a11y, app, needle, role) \
  test_accessible_free (test_atspi_wait ((a11y), (app), (needle), (role)))
/* Each step is a second or two; generous for ASan on a loaded machine. */
#define WAIT_MS 30000

typedef struct {
  DaemonFixture  daemons;
  TestDesktop   *desktop;
  GDBusConnection *a11y;
} AppFixture;

/* Calls: each user's microphone a tone, the speaker a WAV file. */
static void
configure_audio (TestUser *user)
{
  g_autofree char *wav = g_build_filename (test_user_get_home (user), "received.wav", NULL);
  g_autofree char *sink = g_strdup_printf ("'wavenc ! filesink location=%s'", wav);

  test_user_set_setting (user, "audio-source", "'audiotestsrc freq=440 is-live=true wave=sine'");
  test_user_set_setting (user, "audio-sink", sink);
  test_user_set_setting (user, "echo-cancellation", "false");
}

static const DaemonFixtureOptions call_options = { NULL, configure_audio };

static void
app_fixture_setup (AppFixture *f, gconstpointer data)
{
  daemon_fixture_setup (&f->daemons, data);
  test_user_befriend (f->daemons.alice, f->daemons.bob);
  f->desktop = test_desktop_new (f->daemons.alice);
  f->a11y = test_desktop_get_a11y (f->desktop);
}

static void
app_fixture_teardown (AppFixture *f, gconstpointer data)
{
  g_clear_pointer (&f->desktop, test_desktop_free);
  daemon_fixture_teardown (&f->daemons, data);
}

static guint32
unread_of (TestUser *user, const char *peer)
{
  g_autofree char *path = test_contact_path (peer);
  g_autoptr(GVariant) unread = test_user_get_property (user, path, "org.voipd.Voip1.Conversation",
                                                       "Unread");

  g_assert_nonnull (unread);
  return g_variant_get_uint32 (unread);
}

static gboolean
check_read (TestUser *user, gpointer data)
{
  return unread_of (user, data) == 0;
}

/* The sidebar lists bob with his presence, the history and unread count
 * come from voipd, a message typed in the app reaches bob, and bob's reply
 * shows up live. */
static void
test_conversation (AppFixture *f, gconstpointer data)
{
  TestUser *alice = f->daemons.alice, *bob = f->daemons.bob;
  g_autoptr(TestAccessible) row = NULL;
  g_autoptr(TestAccessible) old = NULL;
  g_autoptr(TestAccessible) entry = NULL;
  g_autoptr(TestAccessible) send = NULL;
  g_autoptr(TestAccessible) live = NULL;
  g_autoptr(TestAccessible) delete = NULL;
  g_autoptr(TestAccessible) edit = NULL;
  g_autoptr(TestAccessible) new_text = NULL;
  g_autoptr(TestAccessible) save = NULL;
  g_autofree char *out = NULL;

  out = voipctl_ok (bob, "presence", "away");
  g_clear_pointer (&out, g_free);
  test_user_wait_contact (alice, "bob", "presence", "away");
  daemon_send (bob, "alice", "hello from bob, before the app");
  test_user_wait_message (alice, "bob", "hello from bob, before the app");
  g_assert_cmpuint (unread_of (alice, "bob"), ==, 1);

  test_desktop_start_app (f->desktop, NULL);
  /* The row's accessible name: name, presence, unread count, last message. */
  row = test_atspi_wait (f->a11y, APP, "bob, Away, 1 unread, hello from bob", NULL);
  test_desktop_screenshot (f->desktop, "gtk-sidebar");

  /* A second `voip --contact bob` hands over to this one and exits. */
  g_assert_cmpint (test_desktop_run_app (f->desktop, "--contact", "bob", NULL), ==, 0);
  old = test_atspi_wait (f->a11y, APP, "bob: hello from bob, before the app", NULL);
  /* Shown is read: voipd says so. */
  g_assert_true (test_user_wait (alice, WAIT_MS, check_read, (gpointer) "bob"));

  entry = test_atspi_wait (f->a11y, APP, "Message", "text box");
  test_atspi_set_text (f->a11y, entry, "hi bob, from the app");
  send = test_atspi_wait (f->a11y, APP, "Send", "button");
  test_atspi_click (f->a11y, send);
  test_user_wait_message (bob, "alice", "hi bob, from the app");
  expect (f->a11y, APP, "You: hi bob, from the app", NULL);

  /* Edit it from the app, then delete it: bob sees both. */
  edit = test_atspi_wait (f->a11y, APP, "Edit message", "button");
  test_atspi_click (f->a11y, edit);
  new_text = test_atspi_wait (f->a11y, APP, "New text", "text box");
  test_atspi_set_text (f->a11y, new_text, "hi bob, edited in the app");
  save = test_atspi_wait (f->a11y, APP, "Save", "button");
  test_atspi_click (f->a11y, save);
  test_user_wait_message (bob, "alice", "hi bob, edited in the app");
  expect (f->a11y, APP, "You: hi bob, edited in the app (edited)", NULL);

  delete = test_atspi_wait (f->a11y, APP, "Delete message", "button");
  test_atspi_click (f->a11y, delete);
  test_user_wait_no_message (bob, "alice", "hi bob, edited in the app");
  expect (f->a11y, APP, "You: This message was deleted", NULL);

  daemon_send (bob, "alice", "a live reply");
  live = test_atspi_wait (f->a11y, APP, "bob: a live reply", NULL);
  /* On screen as it arrived: read at once. */
  g_assert_true (test_user_wait (alice, WAIT_MS, check_read, (gpointer) "bob"));
  test_desktop_screenshot (f->desktop, "gtk-conversation");
}

typedef struct {
  const char *path;
  const char *state;
} CallState;

static gboolean
check_call_state (TestUser *user, gpointer data)
{
  CallState *expected = data;
  g_autoptr(GVariant) state = test_user_get_property (user, expected->path, "Call", "State");

  return state != NULL && g_strcmp0 (g_variant_get_string (state, NULL), expected->state) == 0;
}

/* bob calls; the app shows the incoming call, its Answer answers it for
 * voipd, and its Hang up ends it for bob too. */
static void
test_call (AppFixture *f, gconstpointer data)
{
  TestUser *alice = f->daemons.alice, *bob = f->daemons.bob;
  g_autofree char *alice_path = test_contact_path ("alice");
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(TestAccessible) answer = NULL;
  g_autoptr(TestAccessible) hangup = NULL;
  g_autoptr(TestAccessible) stats = NULL;
  const char *call_path;
  CallState active, ended;

  test_desktop_start_app (f->desktop, NULL);
  expect (f->a11y, APP, "bob, Online", NULL);

  reply = test_user_call (bob, alice_path, "Contact", "Call", NULL, &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(&o)", &call_path);
  /* The call's object has the same path on both sides (its id). */
  expect (f->a11y, APP, "Incoming call", NULL);
  answer = test_atspi_wait (f->a11y, APP, "Answer", "button");
  test_desktop_screenshot (f->desktop, "gtk-incoming-call");
  test_atspi_click (f->a11y, answer);
  active = (CallState) { call_path, "active" };
  g_assert_true (test_user_wait (alice, WAIT_MS, check_call_state, &active));
  g_assert_true (test_user_wait (bob, WAIT_MS, check_call_state, &active));
  expect (f->a11y, APP, "In call", NULL);
  /* Live statistics on request: bob's path once media flows. */
  stats = test_atspi_wait (f->a11y, APP, "Call statistics", "button");
  test_atspi_click (f->a11y, stats);
  expect (f->a11y, APP, "bob: host, ", NULL);
  test_desktop_screenshot (f->desktop, "gtk-call");

  hangup = test_atspi_wait (f->a11y, APP, "Hang up", "button");
  test_atspi_click (f->a11y, hangup);
  ended = (CallState) { call_path, "ended" };
  g_assert_true (test_user_wait (bob, WAIT_MS, check_call_state, &ended));
}

static gboolean
check_group (TestUser *user, gpointer data)
{
  g_autoptr(JsonNode) groups = voipctl_json (user, "groups", "--json");
  JsonArray *list = test_json_list (groups);

  return test_json_find (list, "name", data) != NULL;
}

static gboolean
check_voice_message (TestUser *user, gpointer data)
{
  g_autoptr(JsonArray) history = test_user_history (user, "alice", 10);
  guint64 *id = data;

  for (guint i = 0; i < json_array_get_length (history); i++)
    {
      JsonObject *message = json_array_get_object_element (history, i);

      if (g_strcmp0 (test_json_get_string (message, "kind"), "voice") == 0)
        {
          *id = (guint64) test_json_get_int (message, "id");
          return TRUE;
        }
    }
  return FALSE;
}

/* A voice message recorded in the app (from the microphone voipd's
 * settings name: a tone here) reaches bob as Ogg Opus. */
static void
test_voice (AppFixture *f, gconstpointer data)
{
  TestUser *bob = f->daemons.bob;
  g_autofree char *alice_path = test_contact_path ("alice");
  g_autoptr(TestAccessible) record = NULL;
  g_autoptr(TestAccessible) stop = NULL;
  g_autoptr(GVariant) audio = NULL;
  g_autoptr(GVariant) bytes = NULL;
  g_autoptr(GError) error = NULL;
  const guchar *ogg;
  gsize size;
  guint64 id = 0;

  test_desktop_start_app (f->desktop, "--contact", "bob", NULL);
  record = test_atspi_wait (f->a11y, APP, "Record a voice message", "button");
  test_atspi_click (f->a11y, record);
  stop = test_atspi_wait (f->a11y, APP, "Stop recording and send", "button");
  test_atspi_click (f->a11y, stop);
  g_assert_true (test_user_wait (bob, WAIT_MS, check_voice_message, &id));
  expect (f->a11y, APP, "You: Voice message", NULL);

  audio = test_user_call (bob, alice_path, "Conversation", "GetVoiceMessage",
                          g_variant_new ("(t)", id), &error);
  g_assert_no_error (error);
  bytes = g_variant_get_child_value (audio, 0);
  ogg = g_variant_get_fixed_array (bytes, &size, 1);
  g_assert_cmpuint (size, >, 4);
  g_assert_cmpmem (ogg, 4, "OggS", 4);
}

/* A friend request accepted, and a group created, from the app. */
static void
test_people (AppFixture *f, gconstpointer data)
{
  TestUser *alice = f->daemons.alice, *carol = f->daemons.carol;
  g_autoptr(TestAccessible) accept = NULL;
  g_autoptr(TestAccessible) new_group = NULL;
  g_autoptr(TestAccessible) name = NULL;
  g_autoptr(TestAccessible) members = NULL;
  g_autoptr(TestAccessible) create = NULL;
  g_autofree char *out = NULL;

  test_desktop_start_app (f->desktop, NULL);
  out = voipctl_ok (carol, "contact", "add", "alice");
  expect (f->a11y, APP, "carol, Offline, asks to be your contact", NULL);
  accept = test_atspi_wait (f->a11y, APP, "Accept", "button");
  test_atspi_click (f->a11y, accept);
  test_user_wait_contact (alice, "carol", "subscription", "friend");
  test_user_wait_contact (carol, "alice", "subscription", "friend");
  expect (f->a11y, APP, "carol, Online", NULL);

  new_group = test_atspi_wait (f->a11y, APP, "New group", "button");
  test_atspi_click (f->a11y, new_group);
  name = test_atspi_wait (f->a11y, APP, "Group name", "text box");
  test_atspi_set_text (f->a11y, name, "weekend");
  members = test_atspi_wait (f->a11y, APP, "Members", "text box");
  test_atspi_set_text (f->a11y, members, "bob, carol");
  create = test_atspi_wait (f->a11y, APP, "Create", "button");
  test_desktop_screenshot (f->desktop, "gtk-new-group");
  test_atspi_click (f->a11y, create);
  g_assert_true (test_user_wait (alice, WAIT_MS, check_group, (gpointer) "weekend"));
  /* The group is in the sidebar, with its members. */
  expect (f->a11y, APP, "weekend", "list item");
}

/* A new user registers from the app's login page, and is online. */
static void
test_register (AppFixture *f, gconstpointer data)
{
  g_autoptr(TestUser) dave = daemon_fixture_new_user (&f->daemons, "dave", TEST_USER_DEFAULT);
  g_autoptr(TestDesktop) desktop = test_desktop_new (dave);
  GDBusConnection *a11y = test_desktop_get_a11y (desktop);
  g_autoptr(TestAccessible) server = NULL;
  g_autoptr(TestAccessible) username = NULL;
  g_autoptr(TestAccessible) password = NULL;
  g_autoptr(TestAccessible) register_button = NULL;

  test_desktop_start_app (desktop, NULL);
  expect (a11y, APP, "Welcome to Voip", NULL);
  server = test_atspi_wait (a11y, APP, "Server", "text box");
  test_atspi_set_text (a11y, server, f->daemons.address);
  username = test_atspi_wait (a11y, APP, "Username", "text box");
  test_atspi_set_text (a11y, username, "dave");
  password = test_atspi_wait (a11y, APP, "Password", "text box");
  test_atspi_set_text (a11y, password, test_user_get_password (dave));
  test_desktop_screenshot (desktop, "gtk-register");
  register_button = test_atspi_wait (a11y, APP, "Register", "button");
  test_atspi_click (a11y, register_button);
  test_user_wait_state (dave, "online");
  expect (a11y, APP, "No contacts yet", NULL);
}

/* voipd stops: the app says so; it comes back: the conversations again. */
static void
test_offline (AppFixture *f, gconstpointer data)
{
  TestUser *alice = f->daemons.alice;
  g_autoptr(TestAccessible) row = NULL;
  g_autoptr(TestAccessible) page = NULL;
  g_autoptr(TestAccessible) again = NULL;

  test_desktop_start_app (f->desktop, NULL);
  /* Only the page on screen is there for AT-SPI (and screen readers). */
  row = test_atspi_wait (f->a11y, APP, "bob, Online", NULL);
  page = test_atspi_find (f->a11y, APP, "The voip service is not running", NULL);
  g_assert_null (page);
  test_user_stop_daemon (alice);
  page = test_atspi_wait (f->a11y, APP, "The voip service is not running", NULL);
  g_clear_pointer (&row, test_accessible_free);
  row = test_atspi_find (f->a11y, APP, "bob, Online", NULL);
  g_assert_null (row);
  test_desktop_screenshot (f->desktop, "gtk-offline");
  test_user_start_daemon (alice);
  again = test_atspi_wait (f->a11y, APP, "bob, Online", NULL);
}

/* The app speaks French where the user does (LANGUAGE, from the build
 * tree's catalogue). */
static void
test_french (AppFixture *f, gconstpointer data)
{
  test_user_setenv (f->daemons.alice, "LANG", "C.UTF-8");
  test_user_setenv (f->daemons.alice, "LANGUAGE", "fr");
  test_desktop_start_app (f->desktop, NULL);
  expect (f->a11y, APP, "bob, En ligne", NULL);
  expect (f->a11y, APP, "Ajouter un contact", "button");
  g_assert_cmpint (test_desktop_run_app (f->desktop, "--contact", "bob", NULL), ==, 0);
  expect (f->a11y, APP, "Envoyer", "button");
  test_desktop_screenshot (f->desktop, "gtk-conversation-fr");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/gtk/conversation", AppFixture, NULL, app_fixture_setup, test_conversation,
              app_fixture_teardown);
  g_test_add ("/gtk/call", AppFixture, &call_options, app_fixture_setup, test_call,
              app_fixture_teardown);
  g_test_add ("/gtk/voice", AppFixture, &call_options, app_fixture_setup, test_voice,
              app_fixture_teardown);
  g_test_add ("/gtk/people", AppFixture, NULL, app_fixture_setup, test_people,
              app_fixture_teardown);
  g_test_add ("/gtk/register", AppFixture, NULL, app_fixture_setup, test_register,
              app_fixture_teardown);
  g_test_add ("/gtk/offline", AppFixture, NULL, app_fixture_setup, test_offline,
              app_fixture_teardown);
  g_test_add ("/gtk/french", AppFixture, NULL, app_fixture_setup, test_french,
              app_fixture_teardown);
  return g_test_run ();
}
