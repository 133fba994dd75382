/* test-daemon-api.c — the shape of the D-Bus API as clients depend on it:
 * one Conversation interface on contact and group objects, your own
 * messages signalled to your clients, presence while reconnecting, state
 * reason codes for scripts, one error name for bad input, and a friend's
 * profile as properties. Through D-Bus and voipctl, against real daemons
 * and a real server. */
#include <string.h>

#include "daemon-fixture.h"

#define ERROR_MALFORMED "org.voipd.Voip1.Error.Malformed"

/* ---- helpers ------------------------------------------------------------ */

static char *
get_string (TestUser *user, const char *path, const char *interface, const char *property)
{
  g_autoptr(GVariant) value = test_user_get_property (user, path, interface, property);

  return value != NULL && g_variant_is_of_type (value, G_VARIANT_TYPE_STRING)
         ? g_variant_dup_string (value, NULL) : NULL;
}

typedef struct {
  const char *path;
  const char *interface;
  const char *property;
  const char *value;
} PropertyWait;

static gboolean
check_property (TestUser *user, gpointer data)
{
  PropertyWait *wait = data;
  g_autofree char *value = get_string (user, wait->path, wait->interface, wait->property);

  return g_strcmp0 (value, wait->value) == 0;
}

#define wait_property(user, path_, interface_, property_, value_) \
  G_STMT_START { \
    PropertyWait wait_ = { (path_), (interface_), (property_), (value_) }; \
    if (!test_user_wait ((user), TEST_USER_WAIT_MS, check_property, &wait_)) \
      { \
        g_autofree char *now_ = get_string ((user), (path_), (interface_), (property_)); \
        g_error ("%s: %s %s.%s never became '%s' (it is '%s')", test_user_get_name (user), \
                 (path_), (interface_), (property_), (value_), now_ ? now_ : "(none)"); \
      } \
  } G_STMT_END

/* ---- tests -------------------------------------------------------------- */

/* Contact and group objects both carry org.voipd.Voip1.Conversation, with
 * the message methods and Unread; Contact and Group no longer have them. */
static void
test_conversation_interface (DaemonFixture *f, gconstpointer data)
{
  g_autofree char *bob_path = test_contact_path ("bob");
  g_autofree char *id_text = NULL;
  g_autofree char *group_path = NULL;
  g_autofree char *message = NULL;
  g_autoptr(GVariant) unread = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  const char *paths[2];

  test_user_befriend (f->alice, f->bob);
  id_text = g_strstrip (voipctl_ok (f->alice, "group", "create", "Tea", "bob"));
  group_path = g_strdup_printf (TEST_VOIPD_PATH "/group/%s", id_text);
  paths[0] = bob_path;
  paths[1] = group_path;

  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autoptr(TestRun) run = test_user_run (f->alice, NULL, (const char *const[]) {
                                                "gdbus", "introspect", "--session", "--dest",
                                                "org.voipd.Voip1", "--object-path", paths[i],
                                                NULL });
      const char *own = i == 0 ? "interface org.voipd.Voip1.Contact"
                               : "interface org.voipd.Voip1.Group";
      const char *conversation, *own_start, *own_end;

      g_assert_cmpint (run->exit_status, ==, 0);
      conversation = strstr (run->out, "interface org.voipd.Voip1.Conversation");
      own_start = strstr (run->out, own);
      g_assert_nonnull (conversation);
      g_assert_nonnull (own_start);
      g_assert_nonnull (strstr (conversation, "SendMessage("));
      g_assert_nonnull (strstr (conversation, "MessageReceived("));
      g_assert_nonnull (strstr (conversation, "Unread"));
      /* Contact or Group, up to the next interface: none of the message API. */
      own_end = strstr (own_start + 1, "interface ");
      {
        g_autofree char *own_text = own_end ? g_strndup (own_start, own_end - own_start)
                                            : g_strdup (own_start);

        g_assert_null (strstr (own_text, "SendMessage"));
        g_assert_null (strstr (own_text, "MessageReceived"));
        g_assert_null (strstr (own_text, "Unread"));
      }
      reply = test_user_call (f->alice, paths[i], "Conversation", "GetHistory",
                              g_variant_new ("(tu)", (guint64) 0, 10u), &error);
      g_assert_no_error (error);
      g_clear_pointer (&reply, g_variant_unref);
    }

  /* The old way is gone. */
  message = test_user_call_fails (f->alice, bob_path, "Contact", "SendMessage",
                                  g_variant_new ("(s)", "hello"),
                                  "org.freedesktop.DBus.Error.UnknownMethod");

  /* Unread counts on the Conversation, and MarkRead clears it. */
  daemon_send (f->bob, "alice", "one unread");
  test_user_wait_message (f->alice, "bob", "one unread");
  unread = test_user_get_property (f->alice, bob_path, "Conversation", "Unread");
  g_assert_nonnull (unread);
  g_assert_cmpuint (g_variant_get_uint32 (unread), ==, 1);
  g_clear_pointer (&unread, g_variant_unref);
  reply = test_user_call (f->alice, bob_path, "Conversation", "MarkRead", NULL, &error);
  g_assert_no_error (error);
  unread = test_user_get_property (f->alice, bob_path, "Conversation", "Unread");
  g_assert_cmpuint (g_variant_get_uint32 (unread), ==, 0);
}

/* What alice sends is signalled to her own clients, once, with direction
 * outgoing, and is in her history at once; bob's message comes in as
 * incoming. A message queued while offline is in the history at once and
 * signalled once, when the server stored it. */
static void
test_own_messages (DaemonFixture *f, gconstpointer data)
{
  g_autoptr(TestSignals) alice_signals = NULL;
  g_autoptr(TestMonitor) alice_monitor = NULL;
  g_autoptr(JsonArray) history = NULL;
  g_autofree char *bob_path = test_contact_path ("bob");
  g_autofree char *out = NULL;
  g_autoptr(GVariant) unread = NULL;
  JsonObject *message;
  guint64 id;

  test_user_befriend (f->alice, f->bob);
  alice_signals = test_user_watch_signals (f->alice);
  alice_monitor = test_user_monitor (f->alice);

  id = daemon_send (f->alice, "bob", "sent from here");
  /* History at once: no waiting. */
  history = test_user_history (f->alice, "bob", 50);
  message = test_json_find_int (history, "id", (gint64) id);
  g_assert_nonnull (message);
  g_assert_cmpstr (test_json_get_string (message, "direction"), ==, "outgoing");
  g_clear_pointer (&history, json_array_unref);
  g_free (test_signals_wait (alice_signals, "MessageReceived", bob_path, "sent from here",
                             "'outgoing'"));
  g_free (test_monitor_wait (alice_monitor, "message-received", "sent from here",
                             "\"direction\":\"outgoing\""));

  /* bob answers: incoming. Once it arrived, a second copy of alice's own
   * message would have arrived too. */
  daemon_send (f->bob, "alice", "heard you");
  g_free (test_signals_wait (alice_signals, "MessageReceived", bob_path, "heard you",
                             "'incoming'"));
  test_signals_assert_none (alice_signals, "MessageReceived", bob_path, "sent from here");
  /* Our own messages do not count as unread. */
  unread = test_user_get_property (f->alice, bob_path, "Conversation", "Unread");
  g_assert_cmpuint (g_variant_get_uint32 (unread), ==, 1);

  /* Offline: queued, in the history at once (id 0), signalled once sent. */
  daemon_fixture_stop_server (f);
  test_user_wait_state (f->alice, "reconnecting");
  out = voipctl_ok (f->alice, "--json", "send", "bob", "sent while away");
  g_assert_cmpstr (g_strstrip (out), ==, "{\"id\":0,\"queued\":true}");
  history = test_user_history (f->alice, "bob", 50);
  message = test_json_find (history, "text", "sent while away");
  g_assert_nonnull (message);
  g_assert_cmpint (test_json_get_int (message, "id"), ==, 0);
  g_assert_cmpstr (test_json_get_string (message, "direction"), ==, "outgoing");
  g_clear_pointer (&history, json_array_unref);
  daemon_fixture_start_server (f);
  test_user_wait_state (f->alice, "online");
  g_free (test_signals_wait (alice_signals, "MessageReceived", bob_path, "sent while away",
                             "'outgoing'"));
  test_user_wait_message (f->bob, "alice", "sent while away");
  /* The resync after the reconnection brought the first one back: not again. */
  daemon_send (f->bob, "alice", "welcome back");
  g_free (test_signals_wait (alice_signals, "MessageReceived", bob_path, "welcome back"));
  test_signals_assert_none (alice_signals, "MessageReceived", bob_path, "sent while away");
  test_signals_assert_none (alice_signals, "MessageReceived", bob_path, "sent from here");

  /* Own edits and deletes reach her clients too. */
  {
    g_autofree char *id_text = g_strdup_printf ("%" G_GUINT64_FORMAT, id);

    g_free (voipctl_ok (f->alice, "message", "edit", id_text, "sent from here, edited"));
    g_free (test_signals_wait (alice_signals, "MessageEdited", bob_path,
                               "sent from here, edited", "'outgoing'"));
    g_free (voipctl_ok (f->alice, "message", "delete", id_text));
    g_free (test_signals_wait (alice_signals, "MessageDeleted", bob_path, "'outgoing'"));
  }
}

/* While alice's daemon reconnects, bob's presence is unknown, not online;
 * after the resync it is what the server says. */
static void
test_presence_while_reconnecting (DaemonFixture *f, gconstpointer data)
{
  g_autofree char *bob_path = test_contact_path ("bob");

  test_user_befriend (f->alice, f->bob);
  test_user_wait_contact (f->alice, "bob", "presence", "online");

  daemon_fixture_stop_server (f);
  test_user_wait_state (f->alice, "reconnecting");
  test_user_wait_contact (f->alice, "bob", "presence", "unknown");
  wait_property (f->alice, bob_path, "Contact", "Presence", "unknown");

  daemon_fixture_start_server (f);
  test_user_wait_state (f->alice, "online");
  test_user_wait_state (f->bob, "online");
  test_user_wait_contact (f->alice, "bob", "presence", "online");
}

/* Account.StateReasonCode: a stable word next to the translated text, the
 * same whatever the daemon's language. */
static void
test_state_reason_code (DaemonFixture *f, gconstpointer data)
{
  g_autoptr(JsonNode) status = NULL;
  g_autofree char *text = NULL;

  wait_property (f->alice, TEST_VOIPD_PATH, "Account", "StateReasonCode", "none");

  daemon_fixture_stop_server (f);
  test_user_wait_state (f->alice, "reconnecting");
  wait_property (f->alice, TEST_VOIPD_PATH, "Account", "StateReasonCode", "connection-failed");
  daemon_fixture_start_server (f);
  test_user_wait_state (f->alice, "online");
  wait_property (f->alice, TEST_VOIPD_PATH, "Account", "StateReasonCode", "none");

  g_free (voipctl_ok (f->alice, "logout"));
  wait_property (f->alice, TEST_VOIPD_PATH, "Account", "StateReasonCode", "logged-out");
  /* What a script reads: the code, in any locale. */
  test_user_setenv (f->alice, "LANGUAGE", "fr");
  status = voipctl_json (f->alice, "status", "--json");
  g_assert_cmpstr (test_json_get_string (test_json_object (status), "state_reason_code"), ==,
                   "logged-out");
  text = get_string (f->alice, TEST_VOIPD_PATH, "Account", "StateReason");
  g_assert_cmpstr (text, !=, "");
  g_assert_cmpstr (text, !=, "logged-out");
}

/* What the daemon refuses as bad input is Malformed, whichever method. */
static void
test_bad_input_one_name (DaemonFixture *f, gconstpointer data)
{
  g_autofree char *bob_path = test_contact_path ("bob");
  const struct {
    const char *path;
    const char *interface;
    const char *method;
    GVariant   *parameters;
  } cases[] = {
    { bob_path, "Conversation", "GetHistory", g_variant_new ("(tu)", (guint64) 0, 0u) },
    { bob_path, "Conversation", "GetHistory", g_variant_new ("(tu)", (guint64) 0, 501u) },
    { bob_path, "Conversation", "SendMessage", g_variant_new ("(s)", "") },
    { TEST_VOIPD_PATH, "Account", "SetPresence", g_variant_new ("(s)", "sleepy") },
    { TEST_VOIPD_PATH, "Account", "SetPresence", g_variant_new ("(s)", "offline") },
    { TEST_VOIPD_PATH, "Account", "Login",
      g_variant_new ("(sss)", "no port here", "alice", "whatever-password") },
  };

  test_user_befriend (f->alice, f->bob);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    g_free (test_user_call_fails (f->alice, cases[i].path, cases[i].interface,
                                  cases[i].method, cases[i].parameters, ERROR_MALFORMED));
  /* Nothing changed. */
  test_user_wait_state (f->alice, "online");

  /* The XML documents the one name, and no other. */
  {
    g_autoptr(TestRun) run = test_user_run (f->alice, NULL, (const char *const[]) {
                                              "gdbus", "introspect", "--session", "--dest",
                                              "org.voipd.Voip1", "--object-path", bob_path,
                                              "--xml", NULL });

    g_assert_cmpint (run->exit_status, ==, 0);
    g_assert_null (strstr (run->out, "InvalidArgument"));
  }
}

/* A friend's profile fields are properties of the contact; immutable ones
 * are marked const. */
static void
test_profile_properties (DaemonFixture *f, gconstpointer data)
{
  g_autofree char *alice_path = test_contact_path ("alice");
  g_autoptr(TestRun) run = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  test_user_befriend (f->alice, f->bob);
  g_free (voipctl_ok (f->alice, "profile", "set", "city", "Oxford"));
  g_free (voipctl_ok (f->alice, "profile", "set", "language", "en"));

  /* A profile read refreshes the properties... */
  reply = test_user_call (f->bob, TEST_VOIPD_PATH, "Account", "GetProfile",
                          g_variant_new ("(s)", "alice"), &error);
  g_assert_no_error (error);
  wait_property (f->bob, alice_path, "Contact", "City", "Oxford");
  wait_property (f->bob, alice_path, "Contact", "Language", "en");

  /* ... and so does each login's resync. */
  g_free (voipctl_ok (f->alice, "profile", "set", "city", "Cambridge"));
  test_user_stop_daemon (f->bob);
  test_user_start_daemon (f->bob);
  test_user_wait_state (f->bob, "online");
  wait_property (f->bob, alice_path, "Contact", "City", "Cambridge");

  run = test_user_run (f->bob, NULL, (const char *const[]) {
                         "gdbus", "introspect", "--session", "--dest", "org.voipd.Voip1",
                         "--object-path", alice_path, "--xml", NULL });
  g_assert_cmpint (run->exit_status, ==, 0);
  g_assert_nonnull (strstr (run->out, "org.freedesktop.DBus.Property.EmitsChangedSignal"));
  g_assert_nonnull (strstr (run->out, "AvatarFile"));
}

static gboolean
bob_unread_is_two (TestUser *user, gpointer bob_path)
{
  g_autoptr(GVariant) unread = test_user_get_property (user, bob_path, "Conversation", "Unread");

  return unread != NULL && g_variant_get_uint32 (unread) == 2;
}

/* The next entry of a ListContacts reply is this contact; its display name
 * and motd are the object's. */
static void
assert_next_listed (TestUser *user, GVariantIter *iter, const char *expected_username,
                    const char *expected_presence, const char *expected_subscription,
                    guint32 expected_unread, gboolean expected_muted)
{
  g_autofree char *path = test_contact_path (expected_username);
  g_autofree char *shown = NULL;
  g_autofree char *said = NULL;
  const char *username, *display_name, *presence, *subscription, *motd;
  guint32 unread;
  gboolean muted;

  g_assert_true (g_variant_iter_next (iter, "(&s&s&s&s&sub)", &username, &display_name,
                                      &presence, &subscription, &motd, &unread, &muted));
  g_assert_cmpstr (username, ==, expected_username);
  g_assert_cmpstr (presence, ==, expected_presence);
  g_assert_cmpstr (subscription, ==, expected_subscription);
  g_assert_cmpuint (unread, ==, expected_unread);
  g_assert_cmpint (muted, ==, expected_muted);
  shown = get_string (user, path, "Contact", "DisplayName");
  said = get_string (user, path, "Contact", "Motd");
  g_assert_cmpstr (display_name, ==, shown);
  g_assert_cmpstr (motd, ==, said);
}

/* Account.ListContacts gives each contact's listing fields in one reply,
 * sorted, with the same values as the objects' properties. */
static void
test_list_contacts (DaemonFixture *f, gconstpointer data)
{
  g_autofree char *bob_path = test_contact_path ("bob");
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  GVariantIter *iter;

  test_user_befriend (f->alice, f->bob);
  g_free (voipctl_ok (f->alice, "contact", "add", "carol"));
  test_user_wait_contact (f->alice, "bob", "presence", "online");
  g_free (voipctl_ok (f->alice, "contact", "mute", "bob"));
  daemon_send (f->bob, "alice", "one");
  daemon_send (f->bob, "alice", "two");
  g_assert_true (test_user_wait (f->alice, TEST_USER_WAIT_MS, bob_unread_is_two, bob_path));

  reply = test_user_call (f->alice, TEST_VOIPD_PATH, "Account", "ListContacts", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (g_variant_get_type_string (reply), ==, "(a(sssssub))");
  g_variant_get (reply, "(a(sssssub))", &iter);
  g_assert_cmpuint (g_variant_iter_n_children (iter), ==, 2);
  assert_next_listed (f->alice, iter, "bob", "online", "friend", 2, TRUE);
  assert_next_listed (f->alice, iter, "carol", "offline", "outgoing", 0, FALSE);
  g_variant_iter_free (iter);
}

/* A value set again as it was signals nothing: no PropertiesChanged for
 * the Account's Presence or City set to what they are. */
static void
test_unchanged_is_silent (DaemonFixture *f, gconstpointer data)
{
  g_autoptr(TestSignals) signals = NULL;
  g_autofree char *changed = NULL;

  g_free (voipctl_ok (f->alice, "presence", "away"));
  g_free (voipctl_ok (f->alice, "profile", "set", "city", "Oxford"));
  wait_property (f->alice, TEST_VOIPD_PATH, "Account", "Presence", "away");
  wait_property (f->alice, TEST_VOIPD_PATH, "Account", "City", "Oxford");

  signals = test_user_watch_signals (f->alice);
  g_free (voipctl_ok (f->alice, "presence", "away"));
  g_free (voipctl_ok (f->alice, "profile", "set", "city", "Oxford"));
  /* A real change after them: its signal comes after any they caused. */
  g_free (voipctl_ok (f->alice, "profile", "set", "motd", "barrier"));
  changed = test_signals_wait (signals, "PropertiesChanged", TEST_VOIPD_PATH, "'barrier'");
  g_assert_null (strstr (changed, "'City'"));
  g_assert_null (strstr (changed, "'Presence'"));
  test_signals_assert_none (signals, "PropertiesChanged", TEST_VOIPD_PATH, "'Presence'");
  test_signals_assert_none (signals, "PropertiesChanged", TEST_VOIPD_PATH, "'City'");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  daemon_test_add ("/daemon/api/conversation-interface", test_conversation_interface);
  daemon_test_add ("/daemon/api/own-messages", test_own_messages);
  daemon_test_add ("/daemon/api/presence-while-reconnecting", test_presence_while_reconnecting);
  daemon_test_add ("/daemon/api/state-reason-code", test_state_reason_code);
  daemon_test_add ("/daemon/api/bad-input-one-name", test_bad_input_one_name);
  daemon_test_add ("/daemon/api/profile-properties", test_profile_properties);
  daemon_test_add ("/daemon/api/list-contacts", test_list_contacts);
  daemon_test_add ("/daemon/api/unchanged-is-silent", test_unchanged_is_silent);
  return g_test_run ();
}
