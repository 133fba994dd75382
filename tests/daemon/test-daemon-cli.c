/* test-daemon-cli.c — every voipctl subcommand and its JSON, the D-Bus
 * errors for bad input (and that nothing changed), and introspection. Real
 * daemons, a real server (daemon-fixture.h). */
#include <string.h>

#include "daemon-fixture.h"

/* ---- helpers ------------------------------------------------------------ */

static void
assert_contains (const char *haystack, const char *needle)
{
  if (strstr (haystack, needle) == NULL)
    g_error ("expected \"%s\" in:\n%s", needle, haystack);
}

/* Every key of a contact, with its JSON type. */
static void
assert_contact_shape (JsonObject *contact)
{
  test_json_get_string (contact, "username");
  test_json_get_string (contact, "display_name");
  test_json_get_string (contact, "presence");
  test_json_get_string (contact, "subscription");
  test_json_get_string (contact, "motd");
  g_assert_cmpint (test_json_get_int (contact, "unread"), >=, 0);
  test_json_get_bool (contact, "muted");
}

/* Whether `voipctl contacts --json` of user says `username` is muted. */
static gboolean
contact_muted (TestUser *user, const char *username)
{
  g_autoptr(JsonNode) root = voipctl_json (user, "contacts", "--json");
  JsonObject *contact = test_json_find (test_json_list (root), "username", username);

  g_assert_nonnull (contact);
  return test_json_get_bool (contact, "muted");
}

static void
assert_message_shape (JsonObject *message)
{
  g_assert_cmpint (test_json_get_int (message, "id"), >, 0);
  /* Milliseconds since the epoch: after 2020, before 2100. */
  g_assert_cmpint (test_json_get_int (message, "timestamp"), >, G_GINT64_CONSTANT (1577836800000));
  g_assert_cmpint (test_json_get_int (message, "timestamp"), <, G_GINT64_CONSTANT (4102444800000));
  test_json_get_string (message, "sender");
  test_json_get_string (message, "text");
  test_json_get_string (message, "kind");
  test_json_get_bool (message, "edited");
  test_json_get_bool (message, "deleted");
  g_assert_cmpint (test_json_get_int (message, "duration_ms"), >=, 0);
}

static void
assert_group_shape (JsonObject *group)
{
  g_assert_cmpint (test_json_get_int (group, "id"), >, 0);
  test_json_get_string (group, "name");
  test_json_get_string (group, "owner");
  test_json_get_array (group, "members");
  g_assert_cmpint (test_json_get_int (group, "unread"), >=, 0);
}

static JsonObject *
status_of (TestUser *user, JsonNode **root)
{
  *root = voipctl_json (user, "status", "--json");
  return test_json_object (*root);
}

typedef struct {
  const char *username;
  gint64      unread;
} UnreadWait;

static gboolean
check_unread (TestUser *user, gpointer data)
{
  UnreadWait *wait = data;
  g_autoptr(JsonNode) root = voipctl_json (user, "contacts", "--json");
  JsonObject *contact = test_json_find (test_json_list (root), "username", wait->username);

  return contact != NULL && json_object_get_int_member (contact, "unread") == wait->unread;
}

static gboolean
check_has_id (TestUser *user, gpointer data)
{
  guint64 *id = data;
  g_autoptr(JsonArray) history = test_user_history (user, "alice", 50);

  return test_json_find_int (history, "id", *id) != NULL;
}

/* ---- tests -------------------------------------------------------------- */

static void
test_help (DaemonFixture *f, gconstpointer data)
{
  g_autofree char *help = voipctl_ok (f->alice, "--help");
  g_autofree char *history_help = voipctl_ok (f->alice, "history", "--help");
  g_autofree char *unknown = voipctl_fails (f->alice, "no-such-command");
  static const char *const nouns[] = { "register", "login", "logout", "passwd", "delete-account",
                                       "status", "presence", "profile", "contacts", "contact",
                                       "send", "voice-message", "history", "message", "group",
                                       "monitor", NULL };

  for (guint i = 0; nouns[i] != NULL; i++)
    assert_contains (help, nouns[i]);
  assert_contains (history_help, "--limit");
  assert_contains (history_help, "--before");
  assert_contains (history_help, "--json");
}

/* status --json: every key; the human form says the same. */
static void
test_status (DaemonFixture *f, gconstpointer data)
{
  g_autoptr(JsonNode) root = NULL;
  JsonObject *status = status_of (f->alice, &root);
  g_autofree char *human = NULL;

  g_assert_cmpstr (test_json_get_string (status, "state"), ==, "online");
  g_assert_cmpstr (test_json_get_string (status, "state_reason"), ==, "");
  g_assert_cmpstr (test_json_get_string (status, "server"), ==, f->address);
  g_assert_cmpstr (test_json_get_string (status, "username"), ==, "alice");
  g_assert_cmpstr (test_json_get_string (status, "presence"), ==, "online");
  g_assert_true (test_json_get_bool (status, "remember_login"));

  human = voipctl_ok (f->alice, "status");
  assert_contains (human, "online");
  assert_contains (human, "alice");
  assert_contains (human, f->address);
  /* Online, with no reason to give: no empty "Reason:" line. */
  g_assert_null (strstr (human, "Reason"));
}

static void
test_presence (DaemonFixture *f, gconstpointer data)
{
  static const char *const presences[] = { "away", "busy", "dnd", "invisible", "online", NULL };
  g_autofree char *bad = NULL;

  for (guint i = 0; presences[i] != NULL; i++)
    {
      g_autoptr(JsonNode) root = NULL;

      g_free (voipctl_ok (f->alice, "presence", presences[i]));
      g_assert_cmpstr (test_json_get_string (status_of (f->alice, &root), "presence"), ==,
                       presences[i]);
    }
  bad = voipctl_fails (f->alice, "presence", "sleepy");
}

/* profile set FIELD VALUE, profile [USER] --json, and the contact list
 * reflecting a friend's display name and MOTD. */
static void
test_profile (DaemonFixture *f, gconstpointer data)
{
  g_autoptr(JsonNode) own = NULL;
  g_autoptr(JsonNode) seen = NULL;
  g_autofree char *human = NULL;
  g_autofree char *unknown = NULL;
  JsonObject *profile;

  g_free (voipctl_ok (f->alice, "profile", "set", "display_name", "Alice Liddell"));
  g_free (voipctl_ok (f->alice, "profile", "set", "motd", "down the rabbit hole"));
  g_free (voipctl_ok (f->alice, "profile", "set", "city", "Oxford"));
  g_free (voipctl_ok (f->alice, "profile", "set", "phone", "+44 1865 000000"));

  own = voipctl_json (f->alice, "profile", "--json");
  profile = test_json_object (own);
  g_assert_cmpstr (test_json_get_string (profile, "username"), ==, "alice");
  g_assert_cmpstr (test_json_get_string (profile, "display_name"), ==, "Alice Liddell");
  g_assert_cmpstr (test_json_get_string (profile, "motd"), ==, "down the rabbit hole");
  g_assert_cmpstr (test_json_get_string (profile, "city"), ==, "Oxford");

  /* A stranger sees the public fields, not the phone. */
  seen = voipctl_json (f->carol, "profile", "alice", "--json");
  profile = test_json_object (seen);
  g_assert_cmpstr (test_json_get_string (profile, "username"), ==, "alice");
  g_assert_cmpstr (test_json_get_string (profile, "display_name"), ==, "Alice Liddell");
  g_assert_cmpstr (test_json_get_string (profile, "city"), ==, "Oxford");
  g_assert_cmpstr (test_json_get_string (profile, "phone"), ==, "");

  /* A friend sees it, and the contact list carries name and MOTD. */
  test_user_befriend (f->alice, f->bob);
  g_clear_pointer (&seen, json_node_unref);
  seen = voipctl_json (f->bob, "profile", "alice", "--json");
  g_assert_cmpstr (test_json_get_string (test_json_object (seen), "phone"), ==, "+44 1865 000000");
  test_user_wait_contact (f->bob, "alice", "display_name", "Alice Liddell");
  test_user_wait_contact (f->bob, "alice", "motd", "down the rabbit hole");

  /* Changes after the friendship travel too. */
  g_free (voipctl_ok (f->alice, "profile", "set", "motd", "tea time"));
  test_user_wait_contact (f->bob, "alice", "motd", "tea time");

  human = voipctl_ok (f->bob, "profile", "alice");
  assert_contains (human, "Alice Liddell");
  unknown = voipctl_fails (f->bob, "profile", "nosuchuser");
}

/* contact add, deny (both ways), accept, remove; contacts --json. */
static void
test_contacts (DaemonFixture *f, gconstpointer data)
{
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *human = NULL;
  JsonArray *contacts;

  /* Empty at first: an empty list, still JSON. */
  root = voipctl_json (f->alice, "contacts", "--json");
  g_assert_cmpuint (json_array_get_length (test_json_list (root)), ==, 0);
  g_clear_pointer (&root, json_node_unref);

  /* A request, denied by the other side. */
  g_free (voipctl_ok (f->alice, "contact", "add", "bob"));
  test_user_wait_contact (f->alice, "bob", "subscription", "outgoing");
  test_user_wait_contact (f->bob, "alice", "subscription", "incoming");
  root = voipctl_json (f->bob, "contacts", "--json");
  contacts = test_json_list (root);
  g_assert_cmpuint (json_array_get_length (contacts), ==, 1);
  assert_contact_shape (json_array_get_object_element (contacts, 0));
  g_clear_pointer (&root, json_node_unref);
  g_free (voipctl_ok (f->bob, "contact", "deny", "alice"));
  test_user_wait_contact (f->bob, "alice", NULL, NULL);
  test_user_wait_contact (f->alice, "bob", NULL, NULL);

  /* A request withdrawn by its author. */
  g_free (voipctl_ok (f->alice, "contact", "add", "carol"));
  test_user_wait_contact (f->carol, "alice", "subscription", "incoming");
  g_free (voipctl_ok (f->alice, "contact", "deny", "carol"));
  test_user_wait_contact (f->alice, "carol", NULL, NULL);
  test_user_wait_contact (f->carol, "alice", NULL, NULL);

  /* Accepted: friends, with presence. */
  test_user_befriend (f->alice, f->bob);
  test_user_wait_contact (f->alice, "bob", "presence", "online");
  root = voipctl_json (f->alice, "contacts", "--json");
  contacts = test_json_list (root);
  g_assert_cmpuint (json_array_get_length (contacts), ==, 1);
  assert_contact_shape (json_array_get_object_element (contacts, 0));
  g_assert_cmpint (test_json_get_int (json_array_get_object_element (contacts, 0), "unread"), ==, 0);
  g_clear_pointer (&root, json_node_unref);

  human = voipctl_ok (f->alice, "contacts");
  assert_contains (human, "bob");
  assert_contains (human, "friend");

  /* Muted: kept in GSettings, so it survives a restart of the daemon. */
  g_assert_false (contact_muted (f->alice, "bob"));
  g_free (voipctl_ok (f->alice, "contact", "mute", "bob"));
  g_assert_true (contact_muted (f->alice, "bob"));
  test_user_restart_daemon (f->alice);
  test_user_wait_contact (f->alice, "bob", "subscription", "friend");
  g_assert_true (contact_muted (f->alice, "bob"));
  g_free (voipctl_ok (f->alice, "contact", "unmute", "bob"));
  g_assert_false (contact_muted (f->alice, "bob"));
  g_free (voipctl_fails (f->alice, "contact", "mute", "nobody"));

  /* Removed: gone on both sides. */
  g_free (voipctl_ok (f->bob, "contact", "remove", "alice"));
  test_user_wait_contact (f->bob, "alice", NULL, NULL);
  test_user_wait_contact (f->alice, "bob", NULL, NULL);
}

/* send, history (JSON and human), read, message edit/delete, voice-message,
 * message save. */
static void
test_messages (DaemonFixture *f, gconstpointer data)
{
  g_autoptr(JsonArray) history = NULL;
  g_autofree char *human = NULL;
  g_autofree char *ogg = NULL;
  g_autofree char *saved = NULL;
  g_autofree char *voice_id_text = NULL;
  g_autofree char *original = NULL, *copy = NULL;
  gsize original_len, copy_len;
  UnreadWait unread = { "alice", 1 };
  JsonObject *message;
  guint64 id, voice_id;

  test_user_befriend (f->alice, f->bob);

  id = daemon_send (f->alice, "bob", "hello bob");
  g_assert_true (test_user_wait (f->bob, TEST_USER_WAIT_MS, check_unread, &unread));
  g_assert_cmpuint (test_user_wait_message (f->bob, "alice", "hello bob"), ==, id);

  history = test_user_history (f->bob, "alice", 50);
  g_assert_cmpuint (json_array_get_length (history), ==, 1);
  message = json_array_get_object_element (history, 0);
  assert_message_shape (message);
  g_assert_cmpint (test_json_get_int (message, "id"), ==, id);
  g_assert_cmpstr (test_json_get_string (message, "sender"), ==, "alice");
  g_assert_cmpstr (test_json_get_string (message, "text"), ==, "hello bob");
  g_assert_cmpstr (test_json_get_string (message, "kind"), ==, "text");
  g_assert_false (test_json_get_bool (message, "edited"));
  g_assert_false (test_json_get_bool (message, "deleted"));
  g_clear_pointer (&history, json_array_unref);

  /* The sender's own history has it too. */
  history = test_user_history (f->alice, "bob", 50);
  g_assert_cmpuint (json_array_get_length (history), ==, 1);
  g_assert_cmpint (test_json_get_int (json_array_get_object_element (history, 0), "id"), ==, id);
  g_clear_pointer (&history, json_array_unref);

  human = voipctl_ok (f->bob, "history", "alice");
  assert_contains (human, "hello bob");
  assert_contains (human, "alice");
  g_clear_pointer (&human, g_free);

  /* For people, send says what the number is. */
  human = voipctl_ok (f->bob, "send", "alice", "labelled");
  {
    guint64 labelled_id = test_user_wait_message (f->alice, "bob", "labelled");
    g_autofree char *label = g_strdup_printf ("Message %" G_GUINT64_FORMAT " sent to alice.\n",
                                              labelled_id);

    g_assert_cmpstr (human, ==, label);
  }

  /* read: unread back to 0. */
  g_free (voipctl_ok (f->bob, "read", "alice"));
  unread.unread = 0;
  g_assert_true (test_user_wait (f->bob, TEST_USER_WAIT_MS, check_unread, &unread));

  /* edit and delete, by id, seen by the other side. */
  {
    g_autofree char *id_text = g_strdup_printf ("%" G_GUINT64_FORMAT, id);

    g_free (voipctl_ok (f->alice, "message", "edit", id_text, "hello again, bob"));
    test_user_wait_message (f->bob, "alice", "hello again, bob");
    history = test_user_history (f->bob, "alice", 50);
    message = test_json_find_int (history, "id", id);
    g_assert_nonnull (message);
    g_assert_true (test_json_get_bool (message, "edited"));
    g_clear_pointer (&history, json_array_unref);

    g_free (voipctl_ok (f->alice, "message", "delete", id_text));
    test_user_wait_no_message (f->bob, "alice", "hello again, bob");
    history = test_user_history (f->bob, "alice", 50);
    message = test_json_find_int (history, "id", id);
    g_assert_nonnull (message);   /* a tombstone stays */
    g_assert_true (test_json_get_bool (message, "deleted"));
    g_assert_cmpstr (test_json_get_string (message, "text"), ==, "");
    g_clear_pointer (&history, json_array_unref);
  }

  /* voice-message gives the id with --json; the other side gets kind voice,
   * 1 s. */
  ogg = test_user_write_ogg_opus (f->alice, "hello.ogg");
  {
    g_autoptr(JsonNode) sent = voipctl_json (f->alice, "voice-message", "bob", ogg, "--json");

    voice_id = (guint64) test_json_get_int (test_json_object (sent), "id");
    g_assert_false (test_json_get_bool (test_json_object (sent), "queued"));
    voice_id_text = g_strdup_printf ("%" G_GUINT64_FORMAT, voice_id);
  }
  g_assert_cmpuint (voice_id, >, id);
  g_assert_true (test_user_wait (f->bob, TEST_USER_WAIT_MS, check_has_id, &voice_id));
  history = test_user_history (f->bob, "alice", 50);
  message = test_json_find_int (history, "id", voice_id);
  assert_message_shape (message);
  g_assert_cmpstr (test_json_get_string (message, "kind"), ==, "voice");
  g_assert_cmpint (test_json_get_int (message, "duration_ms"), >=, 990);
  g_assert_cmpint (test_json_get_int (message, "duration_ms"), <=, 1010);
  g_clear_pointer (&history, json_array_unref);

  /* message save gives back the same bytes. */
  saved = g_build_filename (test_user_get_home (f->bob), "saved.ogg", NULL);
  g_free (voipctl_ok (f->bob, "message", "save", voice_id_text, saved));
  g_assert_true (g_file_get_contents (ogg, &original, &original_len, NULL));
  g_assert_true (g_file_get_contents (saved, &copy, &copy_len, NULL));
  g_assert_cmpmem (original, original_len, copy, copy_len);
}

/* group create/list/info/rename/add/remove/leave/delete and their JSON. */
static void
test_groups (DaemonFixture *f, gconstpointer data)
{
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *id_text = NULL;
  g_auto(GStrv) members = NULL;
  JsonObject *group;
  guint64 id;

  test_user_befriend (f->alice, f->bob);
  test_user_befriend (f->alice, f->carol);

  root = voipctl_json (f->alice, "group", "list", "--json");
  g_assert_cmpuint (json_array_get_length (test_json_list (root)), ==, 0);
  g_clear_pointer (&root, json_node_unref);

  id_text = g_strstrip (voipctl_ok (f->alice, "group", "create", "Tea party", "bob"));
  id = g_ascii_strtoull (id_text, NULL, 10);
  g_assert_cmpuint (id, >, 0);

  root = voipctl_json (f->alice, "group", "info", id_text, "--json");
  group = test_json_object (root);
  assert_group_shape (group);
  g_assert_cmpint (test_json_get_int (group, "id"), ==, id);
  g_assert_cmpstr (test_json_get_string (group, "name"), ==, "Tea party");
  g_assert_cmpstr (test_json_get_string (group, "owner"), ==, "alice");
  members = test_json_strv (test_json_get_array (group, "members"));
  g_assert_cmpstrv (members, ((const char *const[]) { "alice", "bob", NULL }));
  g_clear_pointer (&members, g_strfreev);
  g_clear_pointer (&root, json_node_unref);

  root = voipctl_json (f->alice, "group", "list", "--json");
  g_assert_cmpuint (json_array_get_length (test_json_list (root)), ==, 1);
  assert_group_shape (json_array_get_object_element (test_json_list (root), 0));
  g_clear_pointer (&root, json_node_unref);

  g_free (voipctl_ok (f->alice, "group", "rename", id_text, "Mad tea party"));
  g_free (voipctl_ok (f->alice, "group", "add", id_text, "carol"));
  root = voipctl_json (f->alice, "group", "info", id_text, "--json");
  group = test_json_object (root);
  g_assert_cmpstr (test_json_get_string (group, "name"), ==, "Mad tea party");
  members = test_json_strv (test_json_get_array (group, "members"));
  g_assert_cmpstrv (members, ((const char *const[]) { "alice", "bob", "carol", NULL }));
  g_clear_pointer (&members, g_strfreev);
  g_clear_pointer (&root, json_node_unref);

  g_free (voipctl_ok (f->alice, "group", "remove", id_text, "carol"));
  g_free (voipctl_fails (f->bob, "group", "delete", id_text));  /* owner only */
  g_free (voipctl_ok (f->bob, "group", "leave", id_text));
  g_free (voipctl_ok (f->alice, "group", "delete", id_text));
  root = voipctl_json (f->alice, "group", "list", "--json");
  g_assert_cmpuint (json_array_get_length (test_json_list (root)), ==, 0);
  g_clear_pointer (&root, json_node_unref);
  g_free (voipctl_fails (f->alice, "group", "info", id_text, "--json"));
}

/* logout, login, passwd, delete-account. */
static void
test_account (DaemonFixture *f, gconstpointer data)
{
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *input = NULL;
  JsonObject *status;

  g_free (voipctl_ok (f->alice, "logout"));
  test_user_wait_state (f->alice, "offline");
  status = status_of (f->alice, &root);
  g_assert_cmpstr (test_json_get_string (status, "state_reason"), !=, "");
  {
    g_autofree char *human = voipctl_ok (f->alice, "status");

    assert_contains (human, "Reason:");
  }
  g_assert_false (test_json_get_bool (status, "remember_login"));
  g_clear_pointer (&root, json_node_unref);

  /* A wrong password: an error, still offline. */
  g_free (voipctl_input_fails (f->alice, "not-the-password\n", "login", "--server", f->address,
                               "alice", "--password-stdin"));
  test_user_login (f->alice);
  status = status_of (f->alice, &root);
  g_assert_cmpstr (test_json_get_string (status, "username"), ==, "alice");
  g_assert_true (test_json_get_bool (status, "remember_login"));
  g_clear_pointer (&root, json_node_unref);

  /* passwd: current and new password on two lines. */
  g_free (voipctl_input_fails (f->alice, "wrong-password\nnew-password-alice\n",
                               "passwd", "--password-stdin"));
  input = g_strdup_printf ("%s\nnew-password-alice\n", test_user_get_password (f->alice));
  g_free (voipctl_input_ok (f->alice, input, "passwd", "--password-stdin"));
  g_clear_pointer (&input, g_free);
  test_user_set_password (f->alice, "new-password-alice");
  g_free (voipctl_ok (f->alice, "logout"));
  test_user_wait_state (f->alice, "offline");
  g_free (voipctl_input_fails (f->alice, "password-alice\n", "login", "--server", f->address,
                               "alice", "--password-stdin"));
  test_user_login (f->alice);

  /* register of a name taken: an error. */
  g_free (voipctl_input_fails (f->carol, "password-carol\n", "register", "--server", f->address,
                               "alice", "--password-stdin"));

  /* delete-account: gone, the password no longer logs in. */
  g_free (voipctl_input_fails (f->alice, "wrong-password\n", "delete-account", "--password-stdin"));
  g_free (voipctl_input_ok (f->alice, "new-password-alice\n", "delete-account", "--password-stdin"));
  test_user_wait_state (f->alice, "offline");
  g_free (voipctl_input_fails (f->alice, "new-password-alice\n", "login", "--server", f->address,
                               "alice", "--password-stdin"));
}

/* Bad input through D-Bus and voipctl: a registered D-Bus error with a
 * readable message, and nothing changed. */
static void
test_errors (DaemonFixture *f, gconstpointer data)
{
  g_autoptr(JsonArray) history = NULL;
  g_autoptr(JsonNode) contacts = NULL;
  g_autoptr(JsonNode) groups = NULL;
  g_autofree char *bob_path = test_contact_path ("bob");
  g_autofree char *carol_path = test_contact_path ("carol");
  g_autofree char *alice_path = test_contact_path ("alice");
  g_autofree char *message = NULL;
  g_autofree char *too_long = g_strnfill (4097, 'x');
  g_autofree char *longest = g_strnfill (4096, 'y');
  guint64 id;

  test_user_befriend (f->alice, f->bob);
  id = daemon_send (f->alice, "bob", "before the errors");
  test_user_wait_message (f->bob, "alice", "before the errors");

  /* Unknown user. */
  message = test_user_call_fails (f->alice, TEST_VOIPD_PATH, "Account", "AddContact",
                                  g_variant_new ("(s)", "nosuchuser"),
                                  "org.voipd.Voip1.Error.NoSuchUser");
  g_assert_cmpstr (message, !=, "");
  g_clear_pointer (&message, g_free);
  message = test_user_call_fails (f->alice, TEST_VOIPD_PATH, "Account", "GetProfile",
                                  g_variant_new ("(s)", "nosuchuser"),
                                  "org.voipd.Voip1.Error.NoSuchUser");
  g_clear_pointer (&message, g_free);
  g_free (voipctl_fails (f->alice, "contact", "add", "nosuchuser"));
  g_free (voipctl_fails (f->alice, "send", "nosuchuser", "hello?"));

  /* Not a friend: carol is no friend of alice. */
  message = test_user_call_fails (f->alice, TEST_VOIPD_PATH, "Account", "CreateGroup",
                                  g_variant_new ("(s^as)", "strangers",
                                                 (const char *const[]) { "carol", NULL }),
                                  "org.voipd.Voip1.Error.NotAFriend");
  g_clear_pointer (&message, g_free);
  g_free (voipctl_fails (f->alice, "send", "carol", "hello stranger"));
  g_free (voipctl_fails (f->alice, "contact", "remove", "carol"));
  g_free (voipctl_fails (f->alice, "group", "create", "strangers", "carol"));
  /* A request only (outgoing): still not a friend to talk to. */
  g_free (voipctl_ok (f->alice, "contact", "add", "carol"));
  test_user_wait_contact (f->alice, "carol", "subscription", "outgoing");
  message = test_user_call_fails (f->alice, carol_path, "Conversation", "SendMessage",
                                  g_variant_new ("(s)", "hello stranger"),
                                  "org.voipd.Voip1.Error.*");
  g_clear_pointer (&message, g_free);

  /* Over-long text: 4097 bytes (4096 is fine). */
  message = test_user_call_fails (f->alice, bob_path, "Conversation", "SendMessage",
                                  g_variant_new ("(s)", too_long), "org.voipd.Voip1.Error.*");
  g_clear_pointer (&message, g_free);
  g_free (voipctl_fails (f->alice, "send", "bob", too_long));
  {
    g_autofree char *id_text = g_strdup_printf ("%" G_GUINT64_FORMAT, id);

    message = test_user_call_fails (f->alice, bob_path, "Conversation", "EditMessage",
                                    g_variant_new ("(ts)", id, too_long),
                                    "org.voipd.Voip1.Error.*");
    g_clear_pointer (&message, g_free);
    g_free (voipctl_fails (f->alice, "message", "edit", id_text, too_long));
    /* Not the author. */
    message = test_user_call_fails (f->bob, alice_path, "Conversation", "EditMessage",
                                    g_variant_new ("(ts)", id, "mine now"),
                                    "org.voipd.Voip1.Error.NotAuthor");
    g_clear_pointer (&message, g_free);
    g_free (voipctl_fails (f->bob, "message", "delete", id_text));
  }

  /* Arguments the daemon refuses by itself. */
  message = test_user_call_fails (f->alice, bob_path, "Conversation", "GetHistory",
                                  g_variant_new ("(tu)", (guint64) 0, 0u),
                                  "org.voipd.Voip1.Error.Malformed");
  g_clear_pointer (&message, g_free);
  message = test_user_call_fails (f->alice, bob_path, "Conversation", "GetHistory",
                                  g_variant_new ("(tu)", (guint64) 0, 501u),
                                  "org.voipd.Voip1.Error.Malformed");
  g_clear_pointer (&message, g_free);
  message = test_user_call_fails (f->alice, TEST_VOIPD_PATH, "Account", "SetPresence",
                                  g_variant_new ("(s)", "sleepy"), "org.voipd.Voip1.Error.*");
  g_clear_pointer (&message, g_free);

  /* Nothing changed: still online, the same contacts, one message each side
   * (plus the longest text, sent now), no group. */
  test_user_wait_state (f->alice, "online");
  daemon_send (f->alice, "bob", longest);
  test_user_wait_message (f->bob, "alice", longest);
  history = test_user_history (f->bob, "alice", 50);
  g_assert_cmpuint (json_array_get_length (history), ==, 2);
  g_assert_cmpstr (test_json_get_string (json_array_get_object_element (history, 0), "text"), ==,
                   "before the errors");
  g_assert_false (test_json_get_bool (json_array_get_object_element (history, 0), "edited"));
  g_clear_pointer (&history, json_array_unref);
  history = test_user_history (f->carol, "alice", 50);
  g_assert_cmpuint (json_array_get_length (history), ==, 0);
  contacts = voipctl_json (f->alice, "contacts", "--json");
  g_assert_cmpuint (json_array_get_length (test_json_list (contacts)), ==, 2);
  g_assert_null (test_json_find (test_json_list (contacts), "username", "nosuchuser"));
  groups = voipctl_json (f->alice, "group", "list", "--json");
  g_assert_cmpuint (json_array_get_length (test_json_list (groups)), ==, 0);

  /* A server that is no HOST:PORT: refused with a registered error, and the
   * current session is untouched. */
  message = test_user_call_fails (f->alice, TEST_VOIPD_PATH, "Account", "Login",
                                  g_variant_new ("(sss)", "not a server", "alice", "password-alice"),
                                  "org.voipd.Voip1.Error.*");
  g_clear_pointer (&message, g_free);
  test_user_wait_state (f->alice, "online");
}

/* busctl and gdbus show the documented interfaces. */
static void
test_introspect (DaemonFixture *f, gconstpointer data)
{
  g_autoptr(TestRun) gdbus = NULL;
  g_autoptr(TestRun) contact = NULL;
  g_autofree char *bob_path = NULL;
  g_autofree char *busctl_path = g_find_program_in_path ("busctl");

  gdbus = test_user_run (f->alice, NULL, (const char *const[]) {
                           "gdbus", "introspect", "--session", "--dest", "org.voipd.Voip1",
                           "--object-path", "/org/voipd/Voip1", NULL });
  g_assert_cmpint (gdbus->exit_status, ==, 0);
  assert_contains (gdbus->out, "interface org.freedesktop.DBus.ObjectManager");
  assert_contains (gdbus->out, "interface org.voipd.Voip1.Account");
  assert_contains (gdbus->out, "CreateGroup");
  assert_contains (gdbus->out, "RememberLogin");

  if (busctl_path != NULL)
    {
      g_autoptr(TestRun) busctl = NULL;

      busctl = test_user_run (f->alice, NULL, (const char *const[]) {
                                "busctl", "--user", "--no-pager", "introspect",
                                "org.voipd.Voip1", "/org/voipd/Voip1", NULL });
      g_assert_cmpint (busctl->exit_status, ==, 0);
      assert_contains (busctl->out, "org.freedesktop.DBus.ObjectManager");
      assert_contains (busctl->out, "org.voipd.Voip1.Account");
      assert_contains (busctl->out, ".AddContact");
    }
  else
    g_test_message ("busctl not installed: only gdbus checked");

  test_user_befriend (f->alice, f->bob);
  bob_path = test_contact_path ("bob");
  contact = test_user_run (f->alice, NULL, (const char *const[]) {
                             "gdbus", "introspect", "--session", "--dest", "org.voipd.Voip1",
                             "--object-path", bob_path, NULL });
  g_assert_cmpint (contact->exit_status, ==, 0);
  assert_contains (contact->out, "interface org.voipd.Voip1.Contact");
  assert_contains (contact->out, "interface org.voipd.Voip1.Conversation");
  assert_contains (contact->out, "GetHistory");
}

/* ---- the command line's shapes, any locale ------------------------------ */

/* cron, services and `env -i` run voipctl in the C locale: its JSON must
 * stay UTF-8 (the table for people may lose the characters the locale
 * lacks), in listings, in history and in monitor's events. The display name
 * also has what JSON escapes. */
static void
test_c_locale (DaemonFixture *f, gconstpointer data)
{
  static const char display_name[] = "Zo\u00eb \"Z\" \\ \u65e5\u672c \u2713";
  static const char text[] = "h\u00e9llo w\u00f6rld \u2713 \u65e5\u672c";
  static const char monitored[] = "\u00e7a va ? \u2713";
  g_autoptr(JsonNode) contacts = NULL;
  g_autoptr(JsonArray) history = NULL;
  g_autoptr(TestMonitor) monitor = NULL;
  g_autoptr(TestRun) table = NULL;
  JsonObject *alice;

  g_free (voipctl_ok (f->alice, "profile", "set", "display_name", display_name));
  test_user_befriend (f->alice, f->bob);
  test_user_wait_contact (f->bob, "alice", "display_name", display_name);

  test_user_setenv (f->bob, "LC_ALL", "C");
  contacts = voipctl_json (f->bob, "contacts", "--json");
  alice = test_json_find (test_json_list (contacts), "username", "alice");
  g_assert_nonnull (alice);
  g_assert_cmpstr (test_json_get_string (alice, "display_name"), ==, display_name);

  daemon_send (f->alice, "bob", text);
  test_user_wait_message (f->bob, "alice", text);
  history = test_user_history (f->bob, "alice", 50);
  g_assert_nonnull (test_json_find (history, "text", text));

  /* monitor --json started in the C locale too. */
  monitor = test_user_monitor (f->bob);
  daemon_send (f->alice, "bob", monitored);
  g_free (test_monitor_wait (monitor, "\"message-received\"", monitored, NULL));

  /* People's table still prints. */
  table = test_user_voipctlv (f->bob, NULL, "contacts", NULL);
  g_assert_cmpint (table->exit_status, ==, 0);
  assert_contains (table->out, "alice");
  test_user_setenv (f->bob, "LC_ALL", "C.UTF-8");
}

/* A listing answers to its plural and to NOUN list. */
static void
test_aliases (DaemonFixture *f, gconstpointer data)
{
  g_autoptr(JsonNode) group = NULL;
  static const char *const pairs[][2][3] = {
    { { "contacts", NULL, NULL }, { "contact", "list", NULL } },
    { { "groups", NULL, NULL },   { "group", "list", NULL } },
    { { "calls", NULL, NULL },    { "call", "list", NULL } },
  };

  test_user_befriend (f->alice, f->bob);
  group = voipctl_json (f->alice, "--json", "group", "create", "Tea party", "bob");
  g_assert_cmpint (test_json_get_int (test_json_object (group), "id"), >, 0);

  for (guint i = 0; i < G_N_ELEMENTS (pairs); i++)
    {
      g_autoptr(TestRun) one = test_user_voipctlv (f->alice, NULL, "--json", pairs[i][0][0],
                                                   pairs[i][0][1], NULL);
      g_autoptr(TestRun) other = test_user_voipctlv (f->alice, NULL, "--json", pairs[i][1][0],
                                                     pairs[i][1][1], NULL);
      g_autoptr(TestRun) people = test_user_voipctlv (f->alice, NULL, pairs[i][1][0],
                                                      pairs[i][1][1], NULL);

      g_assert_cmpint (one->exit_status, ==, 0);
      g_assert_cmpint (other->exit_status, ==, 0);
      g_assert_cmpint (people->exit_status, ==, 0);
      g_assert_cmpstr (one->out, ==, other->out);
      g_assert_cmpstr (one->err, ==, "");
      g_assert_cmpstr (other->err, ==, "");
    }
}

/* --json (or -j) before the command or after it, the same document. */
static void
test_json_anywhere (DaemonFixture *f, gconstpointer data)
{
  g_autofree char *after = voipctl_ok (f->alice, "status", "--json");
  g_autofree char *before = voipctl_ok (f->alice, "--json", "status");
  g_autofree char *short_before = voipctl_ok (f->alice, "-j", "status");
  g_autofree char *short_after = voipctl_ok (f->alice, "status", "-j");
  g_autoptr(JsonNode) root = voipctl_json (f->alice, "--json", "status");
  g_autoptr(JsonNode) history = NULL;
  g_autoptr(TestRun) unknown = NULL;

  g_assert_cmpstr (test_json_get_string (test_json_object (root), "state"), ==, "online");
  g_assert_cmpstr (before, ==, after);
  g_assert_cmpstr (short_before, ==, after);
  g_assert_cmpstr (short_after, ==, after);

  test_user_befriend (f->alice, f->bob);
  daemon_send (f->bob, "alice", "json first");
  test_user_wait_message (f->alice, "bob", "json first");
  history = voipctl_json (f->alice, "--json", "history", "bob", "--limit", "5");
  g_assert_cmpuint (json_array_get_length (test_json_list (history)), ==, 1);

  /* What is not a global option before the command is a usage error. */
  unknown = test_user_voipctlv (f->alice, NULL, "--limit", "5", "history", "bob", NULL);
  g_assert_cmpint (unknown->exit_status, ==, 2);
  assert_contains (unknown->err, "--limit");
}

typedef struct {
  GSubprocess *process;
  gboolean     done;
} Background;

static void
on_background_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Background *background = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  background->done = TRUE;
}

static gboolean
check_background_done (TestUser *user, gpointer data)
{
  return ((Background *) data)->done;
}

/* `voipctl wait-online ARGS…` started in the background, in the user's
 * environment. */
static void
background_start (Background *background, TestUser *user, const char *timeout)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GError) error = NULL;

  g_subprocess_launcher_set_environ (launcher, (char **) test_user_get_environ (user));
  background->done = FALSE;
  background->process = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("VOIPCTL"),
                                                     "wait-online", "--timeout", timeout, NULL);
  g_assert_no_error (error);
  g_subprocess_wait_async (background->process, NULL, on_background_done, background);
}

/* Waits for the end; returns the exit status. */
static int
background_finish (Background *background, TestUser *user)
{
  int status;

  g_assert_true (test_user_wait (user, TEST_USER_WAIT_MS, check_background_done, background));
  g_assert_true (g_subprocess_get_if_exited (background->process));
  status = g_subprocess_get_exit_status (background->process);
  g_clear_object (&background->process);
  return status;
}

/* wait-online: at once when online; until online when reconnecting (on
 * PropertiesChanged) or when voipd is not running yet; a failure with the
 * state after the timeout. */
static void
test_wait_online (DaemonFixture *f, gconstpointer data)
{
  g_autoptr(TestRun) run = NULL;
  Background background = { 0 };

  g_free (voipctl_ok (f->alice, "wait-online"));
  g_free (voipctl_ok (f->alice, "wait-online", "--timeout", "0"));

  /* Bad timeouts are usage errors. */
  run = test_user_voipctlv (f->alice, NULL, "wait-online", "--timeout", "-1", NULL);
  g_assert_cmpint (run->exit_status, ==, 2);
  g_clear_pointer (&run, test_run_free);
  run = test_user_voipctlv (f->alice, NULL, "wait-online", "--timeout", "soon", NULL);
  g_assert_cmpint (run->exit_status, ==, 2);
  g_clear_pointer (&run, test_run_free);

  /* The server away: a timeout says why. */
  daemon_fixture_stop_server (f);
  test_user_wait_state (f->alice, "reconnecting");
  run = test_user_voipctlv (f->alice, NULL, "wait-online", "--timeout", "1", NULL);
  g_assert_cmpint (run->exit_status, ==, 1);
  /* It says the state it saw (reconnecting, or connecting during a retry). */
  assert_contains (run->err, "not online after 1 second (state ");
  g_clear_pointer (&run, test_run_free);

  /* Waiting while it reconnects: done once the server is back. A wait
   * that ended before is a wrong answer. */
  background_start (&background, f->alice, "120");
  g_assert_false (background.done);
  daemon_fixture_start_server (f);
  g_assert_cmpint (background_finish (&background, f->alice), ==, 0);
  test_user_wait_state (f->alice, "online");

  /* voipd not running: it may still come. */
  test_user_stop_daemon (f->alice);
  run = test_user_voipctlv (f->alice, NULL, "wait-online", "--timeout", "1", NULL);
  g_assert_cmpint (run->exit_status, ==, 1);
  assert_contains (run->err, "voipd is not running");
  background_start (&background, f->alice, "120");
  g_assert_false (background.done);
  test_user_start_daemon (f->alice);
  g_assert_cmpint (background_finish (&background, f->alice), ==, 0);
}

/* --version: voipctl (before or after a command), voip-server and voipd,
 * the same project version. */
static void
test_version (DaemonFixture *f, gconstpointer data)
{
  const char *programs[][3] = {
    { "voipctl", g_getenv ("VOIPCTL"), "--version" },
    { "voipctl", g_getenv ("VOIPCTL"), "status" },
    { "voip-server", g_getenv ("VOIP_SERVER"), "--version" },
    { "voipd", g_getenv ("VOIPD"), "--version" },
  };
  g_autofree char *first_version = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (programs); i++)
    {
      const char *argv[] = { programs[i][1], programs[i][2], "--version", NULL };
      g_autoptr(TestRun) run = NULL;
      g_auto(GStrv) words = NULL;

      if (strcmp (programs[i][2], "--version") == 0)
        argv[2] = NULL;
      run = test_user_run (f->alice, NULL, argv);
      g_assert_cmpint (run->exit_status, ==, 0);
      g_assert_true (g_str_has_suffix (run->out, "\n"));
      words = g_strsplit (g_strstrip (run->out), " ", -1);
      g_assert_cmpuint (g_strv_length (words), ==, 2);
      g_assert_cmpstr (words[0], ==, programs[i][0]);
      g_assert_true (g_regex_match_simple ("^[0-9]+\\.[0-9]+\\.[0-9]+$", words[1], 0, 0));
      if (first_version == NULL)
        first_version = g_strdup (words[1]);
      g_assert_cmpstr (words[1], ==, first_version);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  daemon_test_add ("/daemon/cli/help", test_help);
  daemon_test_add ("/daemon/cli/status", test_status);
  daemon_test_add ("/daemon/cli/presence", test_presence);
  daemon_test_add ("/daemon/cli/profile", test_profile);
  daemon_test_add ("/daemon/cli/contacts", test_contacts);
  daemon_test_add ("/daemon/cli/messages", test_messages);
  daemon_test_add ("/daemon/cli/groups", test_groups);
  daemon_test_add ("/daemon/cli/account", test_account);
  daemon_test_add ("/daemon/cli/errors", test_errors);
  daemon_test_add ("/daemon/cli/introspect", test_introspect);
  daemon_test_add ("/daemon/cli/c-locale", test_c_locale);
  daemon_test_add ("/daemon/cli/aliases", test_aliases);
  daemon_test_add ("/daemon/cli/json-anywhere", test_json_anywhere);
  daemon_test_add ("/daemon/cli/wait-online", test_wait_online);
  daemon_test_add ("/daemon/cli/version", test_version);
  return g_test_run ();
}
