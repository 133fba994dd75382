/* test-daemon-social.c — three users befriending, chatting and meeting in a
 * group, as their daemons see it: the friend request flow with its
 * notifications (voipctl monitor --json and D-Bus signals), messages both
 * ways with history paging, edit and delete, the group lifecycle, and
 * presence as others see it. */
#include <string.h>

#include "daemon-fixture.h"

/* ---- helpers ------------------------------------------------------------ */

typedef struct {
  const char *conversation;   /* "USER" or "--group ID" */
  guint       count;          /* messages wanted */
} CountWait;

static gboolean
check_history_length (TestUser *user, gpointer data)
{
  CountWait *wait = data;
  g_autoptr(JsonArray) history = test_user_history (user, wait->conversation, 500);

  return json_array_get_length (history) >= wait->count;
}

typedef struct {
  char        *id;            /* group id as text */
  const char  *key;           /* a string member of the group, or "members" */
  const char  *value;         /* NULL: the group is not listed */
} GroupWait;

static gboolean
check_group (TestUser *user, gpointer data)
{
  GroupWait *wait = data;
  g_autoptr(JsonNode) root = voipctl_json (user, "group", "list", "--json");
  JsonObject *group = test_json_find_int (test_json_list (root), "id",
                                          g_ascii_strtoll (wait->id, NULL, 10));

  if (wait->value == NULL)
    return group == NULL;
  if (group == NULL)
    return FALSE;
  if (strcmp (wait->key, "members") == 0)
    {
      g_auto(GStrv) members = test_json_strv (test_json_get_array (group, "members"));
      g_autofree char *joined = g_strjoinv (",", members);

      return strcmp (joined, wait->value) == 0;
    }
  return g_strcmp0 (test_json_get_string (group, wait->key), wait->value) == 0;
}

#define wait_group(user, id_text, key_, value_) \
  G_STMT_START { \
    GroupWait wait_ = { (id_text), (key_), (value_) }; \
    if (!test_user_wait ((user), TEST_USER_WAIT_MS, check_group, &wait_)) \
      g_error ("%s: group %s never had %s = %s", test_user_get_name (user), (id_text), \
               (key_), (value_) ? (value_) : "(gone)"); \
  } G_STMT_END

/* ---- tests -------------------------------------------------------------- */

/* bob asks alice, alice accepts; carol asks alice, alice denies. Each step
 * shows as a monitor line and as D-Bus signals on the right side. */
static void
test_friend_requests (DaemonFixture *f, gconstpointer data)
{
  g_autoptr(TestMonitor) alice_monitor = test_user_monitor (f->alice);
  g_autoptr(TestMonitor) bob_monitor = test_user_monitor (f->bob);
  g_autoptr(TestSignals) alice_signals = test_user_watch_signals (f->alice);
  g_autoptr(TestSignals) bob_signals = test_user_watch_signals (f->bob);
  g_autoptr(TestSignals) carol_signals = test_user_watch_signals (f->carol);
  g_autofree char *alice_path = test_contact_path ("alice");
  g_autofree char *bob_path = test_contact_path ("bob");
  g_autofree char *carol_path = test_contact_path ("carol");
  g_autofree char *alice_q = g_strdup_printf ("'%s'", alice_path);
  g_autofree char *bob_q = g_strdup_printf ("'%s'", bob_path);
  g_autofree char *carol_q = g_strdup_printf ("'%s'", carol_path);
  g_autoptr(GVariant) subscription = NULL;

  /* The request: a new contact object on alice's side, incoming. */
  g_free (voipctl_ok (f->bob, "contact", "add", "alice"));
  g_free (test_signals_wait (alice_signals, "InterfacesAdded", TEST_VOIPD_PATH, bob_q, "incoming"));
  g_free (test_signals_wait (bob_signals, "InterfacesAdded", TEST_VOIPD_PATH, alice_q, "outgoing"));
  g_free (test_monitor_wait (alice_monitor, "bob", "incoming"));
  subscription = test_user_get_property (f->alice, bob_path, "Contact", "Subscription");
  g_assert_nonnull (subscription);
  g_assert_cmpstr (g_variant_get_string (subscription, NULL), ==, "incoming");
  g_clear_pointer (&subscription, g_variant_unref);

  /* Accepted: Subscription changes to friend on both sides. */
  g_free (voipctl_ok (f->alice, "contact", "accept", "bob"));
  g_free (test_signals_wait (bob_signals, "PropertiesChanged", alice_path, "friend"));
  g_free (test_signals_wait (alice_signals, "PropertiesChanged", bob_path, "friend"));
  g_free (test_monitor_wait (bob_monitor, "alice", "friend"));
  subscription = test_user_get_property (f->bob, alice_path, "Contact", "Subscription");
  g_assert_cmpstr (g_variant_get_string (subscription, NULL), ==, "friend");
  test_user_wait_contact (f->alice, "bob", "subscription", "friend");
  test_user_wait_contact (f->bob, "alice", "presence", "online");

  /* carol asks, alice denies: carol's contact object goes away. */
  g_free (voipctl_ok (f->carol, "contact", "add", "alice"));
  g_free (test_signals_wait (alice_signals, "InterfacesAdded", TEST_VOIPD_PATH, carol_q, "incoming"));
  g_free (test_monitor_wait (alice_monitor, "carol", "incoming"));
  g_free (voipctl_ok (f->alice, "contact", "deny", "carol"));
  g_free (test_signals_wait (carol_signals, "InterfacesRemoved", TEST_VOIPD_PATH, alice_q));
  g_free (test_signals_wait (alice_signals, "InterfacesRemoved", TEST_VOIPD_PATH, carol_q));
  test_user_wait_contact (f->carol, "alice", NULL, NULL);
  test_user_wait_contact (f->alice, "carol", NULL, NULL);

  /* Asking twice, or asking a friend, is an error; nothing changes. */
  g_free (voipctl_ok (f->carol, "contact", "add", "alice"));
  test_user_wait_contact (f->alice, "carol", "subscription", "incoming");
  g_free (voipctl_fails (f->carol, "contact", "add", "alice"));
  g_free (voipctl_fails (f->bob, "contact", "add", "alice"));
  test_user_wait_contact (f->carol, "alice", "subscription", "outgoing");
  test_user_wait_contact (f->bob, "alice", "subscription", "friend");
}

/* Messages both ways, as signals, monitor lines and history; paging with
 * --limit and --before; edit and delete seen by the other side. */
static void
test_messages (DaemonFixture *f, gconstpointer data)
{
  g_autoptr(TestMonitor) bob_monitor = NULL;
  g_autoptr(TestSignals) bob_signals = NULL;
  g_autoptr(TestSignals) alice_signals = NULL;
  g_autoptr(JsonArray) page = NULL;
  g_autoptr(GPtrArray) seen = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *alice_path = test_contact_path ("alice");
  g_autofree char *bob_path = test_contact_path ("bob");
  g_autofree char *id_text = NULL;
  guint64 ids[12];
  CountWait count = { "alice", 12 };
  guint64 before = 0;

  test_user_befriend (f->alice, f->bob);
  bob_monitor = test_user_monitor (f->bob);
  bob_signals = test_user_watch_signals (f->bob);
  alice_signals = test_user_watch_signals (f->alice);

  /* Twelve messages, alternating sender. */
  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    {
      g_autofree char *text = g_strdup_printf ("message %u from %s", i, i % 2 ? "bob" : "alice");

      ids[i] = daemon_send (i % 2 ? f->bob : f->alice, i % 2 ? "alice" : "bob", text);
      if (i > 0)
        g_assert_cmpuint (ids[i], >, ids[i - 1]);
      if (i % 2 == 0)
        g_free (test_signals_wait (bob_signals, "MessageReceived", alice_path, text));
      else
        g_free (test_signals_wait (alice_signals, "MessageReceived", bob_path, text));
    }
  g_free (test_monitor_wait (bob_monitor, "message 10 from alice"));
  g_assert_true (test_user_wait (f->bob, TEST_USER_WAIT_MS, check_history_length, &count));
  count.conversation = "bob";
  g_assert_true (test_user_wait (f->alice, TEST_USER_WAIT_MS, check_history_length, &count));

  /* Pages of 5, newest first, each oldest first inside: 5, 5, 2, 0. */
  for (guint expected_len = 5, pages = 0; pages < 4; pages++)
    {
      g_autofree char *before_text = g_strdup_printf ("%" G_GUINT64_FORMAT, before);
      g_autoptr(JsonNode) root = NULL;
      JsonArray *messages;
      guint len;

      if (before == 0)
        root = voipctl_json (f->bob, "history", "alice", "--limit", "5", "--json");
      else
        root = voipctl_json (f->bob, "history", "alice", "--limit", "5", "--before", before_text,
                             "--json");
      messages = test_json_list (root);
      len = json_array_get_length (messages);
      g_assert_cmpuint (len, ==, expected_len);
      for (guint i = 0; i < len; i++)
        {
          JsonObject *message = json_array_get_object_element (messages, i);
          guint64 id = test_json_get_int (message, "id");

          if (i > 0)
            g_assert_cmpuint (id, >, (guint64) test_json_get_int (
                                json_array_get_object_element (messages, i - 1), "id"));
          if (before != 0)
            g_assert_cmpuint (id, <, before);
        }
      /* Prepend the page: the whole history ends up oldest first. */
      for (guint i = len; i > 0; i--)
        {
          JsonObject *message = json_array_get_object_element (messages, i - 1);
          g_ptr_array_insert (seen, 0, g_strdup (test_json_get_string (message, "text")));
        }
      if (len > 0)
        before = test_json_get_int (json_array_get_object_element (messages, 0), "id");
      expected_len = pages == 0 ? 5 : pages == 1 ? 2 : 0;
    }
  g_assert_cmpuint (seen->len, ==, G_N_ELEMENTS (ids));
  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    {
      g_autofree char *text = g_strdup_printf ("message %u from %s", i, i % 2 ? "bob" : "alice");
      g_assert_cmpstr (seen->pdata[i], ==, text);
    }

  /* bob edits his message 3; alice sees the new text, edited. */
  id_text = g_strdup_printf ("%" G_GUINT64_FORMAT, ids[3]);
  g_free (voipctl_ok (f->bob, "message", "edit", id_text, "message 3, corrected"));
  g_free (test_signals_wait (alice_signals, "MessageEdited", bob_path, "message 3, corrected"));
  test_user_wait_message (f->alice, "bob", "message 3, corrected");
  page = test_user_history (f->alice, "bob", 500);
  g_assert_true (test_json_get_bool (test_json_find_int (page, "id", ids[3]), "edited"));
  g_assert_cmpuint (daemon_count_text (page, "message 3 from bob"), ==, 0);
  g_clear_pointer (&page, json_array_unref);

  /* alice deletes her message 4; bob keeps a tombstone. */
  g_clear_pointer (&id_text, g_free);
  id_text = g_strdup_printf ("%" G_GUINT64_FORMAT, ids[4]);
  g_free (voipctl_ok (f->alice, "message", "delete", id_text));
  g_free (test_signals_wait (bob_signals, "MessageDeleted", alice_path, NULL));
  test_user_wait_no_message (f->bob, "alice", "message 4 from alice");
  page = test_user_history (f->bob, "alice", 500);
  g_assert_cmpuint (json_array_get_length (page), ==, G_N_ELEMENTS (ids));
  g_assert_true (test_json_get_bool (test_json_find_int (page, "id", ids[4]), "deleted"));
  g_clear_pointer (&page, json_array_unref);

  /* The edit and delete also show in the sender's own history. */
  page = test_user_history (f->bob, "alice", 500);
  g_assert_true (test_json_get_bool (test_json_find_int (page, "id", ids[3]), "edited"));
  g_clear_pointer (&page, json_array_unref);
  page = test_user_history (f->alice, "bob", 500);
  g_assert_true (test_json_get_bool (test_json_find_int (page, "id", ids[4]), "deleted"));
}

/* create, add, rename, messages, remove, leave, delete — as every member sees it. */
static void
test_groups (DaemonFixture *f, gconstpointer data)
{
  g_autoptr(TestSignals) carol_signals = NULL;
  g_autoptr(JsonArray) history = NULL;
  g_autofree char *id_text = NULL;
  g_autofree char *conversation = NULL;
  g_autofree char *group_path = NULL;
  g_autofree char *group_q = NULL;
  guint64 from_alice, from_bob;

  test_user_befriend (f->alice, f->bob);
  test_user_befriend (f->alice, f->carol);
  carol_signals = test_user_watch_signals (f->carol);

  id_text = g_strstrip (voipctl_ok (f->alice, "group", "create", "Croquet", "bob"));
  conversation = g_strdup_printf ("--group %s", id_text);
  group_path = g_strdup_printf (TEST_VOIPD_PATH "/group/%s", id_text);
  group_q = g_strdup_printf ("'%s'", group_path);
  wait_group (f->bob, id_text, "members", "alice,bob");
  wait_group (f->bob, id_text, "owner", "alice");
  wait_group (f->carol, id_text, "name", NULL);

  /* bob (not a friend of carol) cannot add her; alice can. */
  g_free (voipctl_fails (f->bob, "group", "add", id_text, "carol"));
  g_free (voipctl_ok (f->alice, "group", "add", id_text, "carol"));
  g_free (test_signals_wait (carol_signals, "InterfacesAdded", TEST_VOIPD_PATH, group_q, "Croquet"));
  wait_group (f->carol, id_text, "members", "alice,bob,carol");
  wait_group (f->bob, id_text, "members", "alice,bob,carol");

  /* Any member renames. */
  g_free (voipctl_ok (f->bob, "group", "rename", id_text, "Croquet with flamingos"));
  wait_group (f->alice, id_text, "name", "Croquet with flamingos");
  wait_group (f->carol, id_text, "name", "Croquet with flamingos");

  /* Messages reach every member. */
  from_alice = daemon_send (f->alice, conversation, "off with their heads");
  from_bob = daemon_send (f->bob, conversation, "the hedgehog rolled away");
  g_assert_cmpuint (from_bob, >, from_alice);
  g_free (test_signals_wait (carol_signals, "MessageReceived", group_path, "off with their heads"));
  test_user_wait_message (f->carol, conversation, "the hedgehog rolled away");
  test_user_wait_message (f->bob, conversation, "off with their heads");
  history = test_user_history (f->carol, conversation, 50);
  g_assert_cmpuint (json_array_get_length (history), ==, 2);
  g_assert_cmpstr (test_json_get_string (json_array_get_object_element (history, 0), "sender"),
                   ==, "alice");
  g_assert_cmpstr (test_json_get_string (json_array_get_object_element (history, 1), "sender"),
                   ==, "bob");
  g_clear_pointer (&history, json_array_unref);

  /* Only the owner removes; carol goes, and no longer sees the group. */
  g_free (voipctl_fails (f->bob, "group", "remove", id_text, "carol"));
  g_free (voipctl_ok (f->alice, "group", "remove", id_text, "carol"));
  g_free (test_signals_wait (carol_signals, "InterfacesRemoved", TEST_VOIPD_PATH, group_q));
  wait_group (f->carol, id_text, "name", NULL);
  wait_group (f->bob, id_text, "members", "alice,bob");
  g_free (voipctl_fails (f->carol, "send", "--group", id_text, "let me in"));

  /* The owner leaves: ownership passes to bob, who deletes it. */
  g_free (voipctl_ok (f->alice, "group", "leave", id_text));
  wait_group (f->alice, id_text, "name", NULL);
  wait_group (f->bob, id_text, "owner", "bob");
  wait_group (f->bob, id_text, "members", "bob");
  g_free (voipctl_ok (f->bob, "group", "delete", id_text));
  wait_group (f->bob, id_text, "name", NULL);
}

/* alice's presence as bob sees it (and carol, no friend, does not). */
static void
test_presence (DaemonFixture *f, gconstpointer data)
{
  static const char *const visible[] = { "away", "busy", "dnd", "online", NULL };
  g_autoptr(JsonNode) status = NULL;
  g_autoptr(JsonNode) profile = NULL;

  test_user_befriend (f->alice, f->bob);
  test_user_wait_contact (f->bob, "alice", "presence", "online");

  for (guint i = 0; visible[i] != NULL; i++)
    {
      g_free (voipctl_ok (f->alice, "presence", visible[i]));
      test_user_wait_contact (f->bob, "alice", "presence", visible[i]);
    }

  /* Invisible: offline to others, invisible to herself; she still chats. */
  g_free (voipctl_ok (f->alice, "presence", "invisible"));
  test_user_wait_contact (f->bob, "alice", "presence", "offline");
  status = voipctl_json (f->alice, "status", "--json");
  g_assert_cmpstr (test_json_get_string (test_json_object (status), "presence"), ==, "invisible");
  g_assert_cmpstr (test_json_get_string (test_json_object (status), "state"), ==, "online");
  profile = voipctl_json (f->carol, "profile", "alice", "--json");
  g_assert_cmpstr (test_json_get_string (test_json_object (profile), "presence"), ==, "offline");
  daemon_send (f->alice, "bob", "boo, from nowhere");
  test_user_wait_message (f->bob, "alice", "boo, from nowhere");

  g_free (voipctl_ok (f->alice, "presence", "online"));
  test_user_wait_contact (f->bob, "alice", "presence", "online");

  /* Her daemon goes away: offline; back (from the stored token): online. */
  test_user_stop_daemon (f->alice);
  test_user_wait_contact (f->bob, "alice", "presence", "offline");
  test_user_start_daemon (f->alice);
  test_user_wait_state (f->alice, "online");
  test_user_wait_contact (f->bob, "alice", "presence", "online");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  daemon_test_add ("/daemon/social/friend-requests", test_friend_requests);
  daemon_test_add ("/daemon/social/messages", test_messages);
  daemon_test_add ("/daemon/social/groups", test_groups);
  daemon_test_add ("/daemon/social/presence", test_presence);
  return g_test_run ();
}
