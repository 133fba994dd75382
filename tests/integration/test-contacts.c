/* test-contacts.c — friend requests, accept, deny, remove, and who hears
 * of it (PROTOCOL.md, "Contacts"). */
#include "test-client.h"
#include "test-server.h"

/* Takes the next ContactChanged of `client` and checks it. */
#define expect_contact_changed(client, username, subscription, change) \
  check_contact_changed (test_client_expect_event ((client), VOIP_MSG_CONTACT_CHANGED), \
                         (username), (subscription), (change))

static void
check_contact_changed (GVariant *event, const char *username, guint subscription, guint change)
{
  g_autoptr(GVariant) owned = event;
  const char *got_username, *display_name;
  guint32 got_subscription, got_change;

  g_variant_get (event, "(&s&suu)", &got_username, &display_name, &got_subscription, &got_change);
  g_assert_cmpstr (got_username, ==, username);
  g_assert_cmpuint (got_change, ==, change);
  g_assert_cmpuint (got_subscription, ==, subscription);
}

/* The usernames of the client's friends, sorted. */
static char **
friends_of (TestClient *client)
{
  g_autoptr(GVariant) reply = test_client_call (client, VOIP_MSG_CONTACT_LIST, g_variant_new ("()"));
  g_autoptr(GVariantIter) iter = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  const char *username, *display_name, *motd;
  guint32 presence;

  g_variant_get (reply, "(a(ssus))", &iter);
  while (g_variant_iter_next (iter, "(&s&su&s)", &username, &display_name, &presence, &motd))
    g_ptr_array_add (names, g_strdup (username));
  g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
  g_ptr_array_add (names, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&names), FALSE);
}

/* The client's pending requests, as "in:NAME" and "out:NAME", sorted. */
static char *
pending_of (TestClient *client)
{
  g_autoptr(GVariant) reply = test_client_call (client, VOIP_MSG_CONTACT_PENDING, g_variant_new ("()"));
  g_autofree const char **incoming = NULL;
  g_autofree const char **outgoing = NULL;
  g_autoptr(GString) text = g_string_new ("");

  g_variant_get (reply, "(^a&s^a&s)", &incoming, &outgoing);
  for (guint i = 0; incoming[i]; i++)
    g_string_append_printf (text, "%sin:%s", text->len ? " " : "", incoming[i]);
  for (guint i = 0; outgoing[i]; i++)
    g_string_append_printf (text, "%sout:%s", text->len ? " " : "", outgoing[i]);
  return g_string_free (g_steal_pointer (&text), FALSE);
}

#define assert_friends(client, expected) \
  G_STMT_START { g_auto(GStrv) names_ = friends_of (client); \
    g_autofree char *joined_ = g_strjoinv (" ", names_); \
    g_assert_cmpstr (joined_, ==, (expected)); } G_STMT_END

#define assert_pending(client, expected) \
  G_STMT_START { g_autofree char *pending_ = pending_of (client); \
    g_assert_cmpstr (pending_, ==, (expected)); } G_STMT_END

static guint
request (TestClient *client, const char *username)
{
  g_autoptr(GVariant) reply = test_client_call (client, VOIP_MSG_CONTACT_REQUEST,
                                                g_variant_new ("(s)", username));
  guint32 subscription;

  g_variant_get (reply, "(u)", &subscription);
  return subscription;
}

static void
test_request_accept (void)
{
  g_autoptr(TestServer) server = test_server_new_started ();
  guint16 port = test_server_get_port (server);
  g_autoptr(TestClient) alice = test_client_new_registered (port, "alice");
  g_autoptr(TestClient) alice2 = test_client_new_session (alice);
  g_autoptr(TestClient) bob = test_client_new_registered (port, "bob");
  g_autoptr(TestClient) bob2 = test_client_new_session (bob);
  g_autoptr(TestClient) carol = test_client_new_registered (port, "carol");

  g_assert_cmpuint (request (alice, "bob"), ==, VOIP_SUBSCRIPTION_OUTGOING);
  /* Every session of bob, and alice's other session, hear of it. */
  expect_contact_changed (bob, "alice", VOIP_SUBSCRIPTION_INCOMING, VOIP_CONTACT_CHANGE_REQUESTED);
  expect_contact_changed (bob2, "alice", VOIP_SUBSCRIPTION_INCOMING, VOIP_CONTACT_CHANGE_REQUESTED);
  expect_contact_changed (alice2, "bob", VOIP_SUBSCRIPTION_OUTGOING, VOIP_CONTACT_CHANGE_REQUESTED);
  assert_pending (alice, "out:bob");
  assert_pending (bob, "in:alice");
  assert_pending (carol, "");
  assert_friends (alice, "");

  /* Asking twice. */
  test_client_call_fails (alice, VOIP_MSG_CONTACT_REQUEST, g_variant_new ("(s)", "bob"),
                          VOIP_STATUS_REQUEST_PENDING);
  /* Only the one asked can accept. */
  test_client_call_fails (alice, VOIP_MSG_CONTACT_ACCEPT, g_variant_new ("(s)", "bob"),
                          VOIP_STATUS_NO_SUCH_REQUEST);

  test_client_call_ok (bob, VOIP_MSG_CONTACT_ACCEPT, g_variant_new ("(s)", "alice"));
  expect_contact_changed (alice, "bob", VOIP_SUBSCRIPTION_FRIEND, VOIP_CONTACT_CHANGE_ACCEPTED);
  expect_contact_changed (alice2, "bob", VOIP_SUBSCRIPTION_FRIEND, VOIP_CONTACT_CHANGE_ACCEPTED);
  expect_contact_changed (bob2, "alice", VOIP_SUBSCRIPTION_FRIEND, VOIP_CONTACT_CHANGE_ACCEPTED);

  /* After an accept both sides see the other's presence. */
  {
    g_autoptr(GVariant) seen_by_alice = test_client_expect_event (alice, VOIP_MSG_PRESENCE_CHANGED);
    g_autoptr(GVariant) seen_by_bob = test_client_expect_event (bob, VOIP_MSG_PRESENCE_CHANGED);
    const char *username;
    guint32 presence;

    g_variant_get (seen_by_alice, "(&su)", &username, &presence);
    g_assert_cmpstr (username, ==, "bob");
    g_assert_cmpuint (presence, ==, VOIP_PRESENCE_ONLINE);
    g_variant_get (seen_by_bob, "(&su)", &username, &presence);
    g_assert_cmpstr (username, ==, "alice");
    g_assert_cmpuint (presence, ==, VOIP_PRESENCE_ONLINE);
  }

  assert_friends (alice, "bob");
  assert_friends (alice2, "bob");
  assert_friends (bob, "alice");
  assert_pending (alice, "");
  assert_pending (bob, "");

  /* The contact list shows presence. */
  {
    g_autoptr(GVariant) reply = test_client_call (alice, VOIP_MSG_CONTACT_LIST, g_variant_new ("()"));
    const char *username, *display_name, *motd;
    guint32 presence;

    g_autoptr(GVariant) list = g_variant_get_child_value (reply, 0);

    g_assert_cmpuint (g_variant_n_children (list), ==, 1);
    g_variant_get_child (list, 0, "(&s&su&s)", &username, &display_name, &presence, &motd);
    g_assert_cmpstr (username, ==, "bob");
    g_assert_cmpuint (presence, ==, VOIP_PRESENCE_ONLINE);
  }

  /* Now friends. */
  test_client_call_fails (alice, VOIP_MSG_CONTACT_REQUEST, g_variant_new ("(s)", "bob"),
                          VOIP_STATUS_ALREADY_FRIEND);
  test_client_call_fails (bob, VOIP_MSG_CONTACT_REQUEST, g_variant_new ("(s)", "alice"),
                          VOIP_STATUS_ALREADY_FRIEND);
  test_client_call_fails (bob, VOIP_MSG_CONTACT_ACCEPT, g_variant_new ("(s)", "alice"),
                          VOIP_STATUS_NO_SUCH_REQUEST);

  /* carol was never involved. */
  test_client_assert_no_event (carol, VOIP_MSG_CONTACT_CHANGED, 0);
  test_client_assert_no_event (carol, VOIP_MSG_PRESENCE_CHANGED, 0);
  /* Nobody got a second copy. */
  test_client_assert_no_event (bob, VOIP_MSG_CONTACT_CHANGED, 0);
  test_client_assert_no_event (bob2, VOIP_MSG_CONTACT_CHANGED, 0);
  test_client_assert_no_event (alice2, VOIP_MSG_CONTACT_CHANGED, 0);
}

static void
test_deny (void)
{
  g_autoptr(TestServer) server = test_server_new_started ();
  guint16 port = test_server_get_port (server);
  g_autoptr(TestClient) alice = test_client_new_registered (port, "alice");
  g_autoptr(TestClient) bob = test_client_new_registered (port, "bob");
  g_autoptr(TestClient) bob2 = test_client_new_session (bob);
  g_autoptr(TestClient) carol = test_client_new_registered (port, "carol");

  test_client_call_fails (bob, VOIP_MSG_CONTACT_DENY, g_variant_new ("(s)", "alice"),
                          VOIP_STATUS_NO_SUCH_REQUEST);

  g_assert_cmpuint (request (alice, "bob"), ==, VOIP_SUBSCRIPTION_OUTGOING);
  test_client_flush_events (bob);
  test_client_flush_events (bob2);

  test_client_call_ok (bob, VOIP_MSG_CONTACT_DENY, g_variant_new ("(s)", "alice"));
  expect_contact_changed (alice, "bob", VOIP_SUBSCRIPTION_NONE, VOIP_CONTACT_CHANGE_DENIED);
  expect_contact_changed (bob2, "alice", VOIP_SUBSCRIPTION_NONE, VOIP_CONTACT_CHANGE_DENIED);
  assert_pending (alice, "");
  assert_pending (bob, "");
  assert_friends (alice, "");
  assert_friends (bob, "");
  test_client_call_fails (bob, VOIP_MSG_CONTACT_ACCEPT, g_variant_new ("(s)", "alice"),
                          VOIP_STATUS_NO_SUCH_REQUEST);

  /* Asking again is allowed; denying withdraws one's own request too. */
  g_assert_cmpuint (request (alice, "bob"), ==, VOIP_SUBSCRIPTION_OUTGOING);
  expect_contact_changed (bob, "alice", VOIP_SUBSCRIPTION_INCOMING, VOIP_CONTACT_CHANGE_REQUESTED);
  test_client_call_ok (alice, VOIP_MSG_CONTACT_DENY, g_variant_new ("(s)", "bob"));
  expect_contact_changed (bob, "alice", VOIP_SUBSCRIPTION_NONE, VOIP_CONTACT_CHANGE_DENIED);
  assert_pending (alice, "");
  assert_pending (bob, "");
  test_client_call_fails (bob, VOIP_MSG_CONTACT_ACCEPT, g_variant_new ("(s)", "alice"),
                          VOIP_STATUS_NO_SUCH_REQUEST);

  test_client_assert_no_event (carol, VOIP_MSG_CONTACT_CHANGED, 0);
  test_client_assert_no_event (alice, VOIP_MSG_PRESENCE_CHANGED, 0);
  test_client_assert_no_event (bob, VOIP_MSG_PRESENCE_CHANGED, 0);
}

static void
test_remove (void)
{
  g_autoptr(TestServer) server = test_server_new_started ();
  guint16 port = test_server_get_port (server);
  g_autoptr(TestClient) alice = test_client_new_registered (port, "alice");
  g_autoptr(TestClient) alice2 = test_client_new_session (alice);
  g_autoptr(TestClient) bob = test_client_new_registered (port, "bob");
  g_autoptr(TestClient) carol = test_client_new_registered (port, "carol");

  test_client_call_fails (alice, VOIP_MSG_CONTACT_REMOVE, g_variant_new ("(s)", "bob"),
                          VOIP_STATUS_NOT_A_FRIEND);
  test_befriend (alice, bob);
  test_client_flush_events (alice2);

  test_client_call_ok (alice, VOIP_MSG_CONTACT_REMOVE, g_variant_new ("(s)", "bob"));
  expect_contact_changed (bob, "alice", VOIP_SUBSCRIPTION_NONE, VOIP_CONTACT_CHANGE_REMOVED);
  expect_contact_changed (alice2, "bob", VOIP_SUBSCRIPTION_NONE, VOIP_CONTACT_CHANGE_REMOVED);
  assert_friends (alice, "");
  assert_friends (bob, "");
  test_client_call_fails (alice, VOIP_MSG_CONTACT_REMOVE, g_variant_new ("(s)", "bob"),
                          VOIP_STATUS_NOT_A_FRIEND);
  test_client_call_fails (bob, VOIP_MSG_CONTACT_REMOVE, g_variant_new ("(s)", "alice"),
                          VOIP_STATUS_NOT_A_FRIEND);

  /* No longer friends: no messages, no presence. */
  test_client_call_fails (alice, VOIP_MSG_SEND_TEXT,
                          g_variant_new ("(stss)", "bob", (guint64) 0, "c1", "still there?"),
                          VOIP_STATUS_NO_SUCH_USER);
  test_client_call_ok (bob, VOIP_MSG_SET_PRESENCE, g_variant_new ("(u)", VOIP_PRESENCE_AWAY));
  test_client_assert_no_event (alice, VOIP_MSG_PRESENCE_CHANGED, 0);

  /* A pending request can not be "removed". */
  g_assert_cmpuint (request (alice, "carol"), ==, VOIP_SUBSCRIPTION_OUTGOING);
  test_client_call_fails (alice, VOIP_MSG_CONTACT_REMOVE, g_variant_new ("(s)", "carol"),
                          VOIP_STATUS_NOT_A_FRIEND);
  test_client_flush_events (carol);
  test_client_assert_no_event (carol, VOIP_MSG_CONTACT_CHANGED, 0);
}

/* A request to someone offline is found with ContactPending at next login. */
static void
test_offline_target (void)
{
  g_autoptr(TestServer) server = test_server_new_started ();
  guint16 port = test_server_get_port (server);
  g_autoptr(TestClient) alice = test_client_new_registered (port, "alice");
  g_autoptr(TestClient) dave = test_client_new_registered (port, "dave");
  g_autofree char *dave_password = g_strdup (test_client_get_password (dave));

  test_client_call_ok (dave, VOIP_MSG_LOGOUT, g_variant_new ("()"));
  test_client_close (dave);
  g_clear_pointer (&dave, test_client_free);

  g_assert_cmpuint (request (alice, "dave"), ==, VOIP_SUBSCRIPTION_OUTGOING);

  dave = test_client_new_logged_in (port, "dave", dave_password);
  assert_pending (dave, "in:alice");
  assert_pending (alice, "out:dave");
  test_client_call_ok (dave, VOIP_MSG_CONTACT_ACCEPT, g_variant_new ("(s)", "alice"));
  expect_contact_changed (alice, "dave", VOIP_SUBSCRIPTION_FRIEND, VOIP_CONTACT_CHANGE_ACCEPTED);
  assert_friends (alice, "dave");
  assert_friends (dave, "alice");
}

/* An invisible user who accepts a request is offline to the new friend: the
 * friend gets the ContactChanged and no PresenceChanged, exactly as from an
 * offline user, while the invisible side sees the friend's presence. */
static void
test_invisible_accept (void)
{
  g_autoptr(TestServer) server = test_server_new_started ();
  guint16 port = test_server_get_port (server);
  g_autoptr(TestClient) alice = test_client_new_registered (port, "alice");
  g_autoptr(TestClient) alice2 = test_client_new_session (alice);
  g_autoptr(TestClient) bob = test_client_new_registered (port, "bob");
  g_autoptr(TestClient) bob2 = test_client_new_session (bob);
  const char *username;
  guint32 presence;

  test_client_call_ok (alice, VOIP_MSG_SET_PRESENCE, g_variant_new ("(u)", VOIP_PRESENCE_INVISIBLE));
  g_assert_cmpuint (request (bob, "alice"), ==, VOIP_SUBSCRIPTION_OUTGOING);
  for (TestClient **c = (TestClient *[]) { alice, alice2, bob2, NULL }; *c; c++)
    test_client_flush_events (*c);
  test_client_call_ok (alice, VOIP_MSG_CONTACT_ACCEPT, g_variant_new ("(s)", "bob"));

  expect_contact_changed (bob, "alice", VOIP_SUBSCRIPTION_FRIEND, VOIP_CONTACT_CHANGE_ACCEPTED);
  expect_contact_changed (bob2, "alice", VOIP_SUBSCRIPTION_FRIEND, VOIP_CONTACT_CHANGE_ACCEPTED);
  test_client_assert_no_event (bob, VOIP_MSG_PRESENCE_CHANGED, 0);
  test_client_assert_no_event (bob2, VOIP_MSG_PRESENCE_CHANGED, 0);
  {
    g_autoptr(GVariant) reply = test_client_call (bob, VOIP_MSG_CONTACT_LIST, g_variant_new ("()"));
    const char *display_name, *motd;

    g_autoptr(GVariant) list = g_variant_get_child_value (reply, 0);

    g_assert_cmpuint (g_variant_n_children (list), ==, 1);
    g_variant_get_child (list, 0, "(&s&su&s)", &username, &display_name, &presence, &motd);
    g_assert_cmpstr (username, ==, "alice");
    g_assert_cmpuint (presence, ==, VOIP_PRESENCE_OFFLINE);
  }

  /* alice, invisible but not blind, sees bob. */
  {
    g_autoptr(GVariant) seen = test_client_expect_event (alice, VOIP_MSG_PRESENCE_CHANGED);

    g_variant_get (seen, "(&su)", &username, &presence);
    g_assert_cmpstr (username, ==, "bob");
    g_assert_cmpuint (presence, ==, VOIP_PRESENCE_ONLINE);
  }

  /* Coming out of invisibility is the first presence bob hears of. */
  test_client_call_ok (alice, VOIP_MSG_SET_PRESENCE, g_variant_new ("(u)", VOIP_PRESENCE_ONLINE));
  {
    g_autoptr(GVariant) seen = test_client_expect_event (bob, VOIP_MSG_PRESENCE_CHANGED);

    g_variant_get (seen, "(&su)", &username, &presence);
    g_assert_cmpstr (username, ==, "alice");
    g_assert_cmpuint (presence, ==, VOIP_PRESENCE_ONLINE);
  }
}

/* Asking someone who already asked you accepts their request. */
static void
test_mutual_request (void)
{
  g_autoptr(TestServer) server = test_server_new_started ();
  guint16 port = test_server_get_port (server);
  g_autoptr(TestClient) alice = test_client_new_registered (port, "alice");
  g_autoptr(TestClient) bob = test_client_new_registered (port, "bob");
  g_autoptr(TestClient) bob2 = test_client_new_session (bob);

  g_assert_cmpuint (request (alice, "bob"), ==, VOIP_SUBSCRIPTION_OUTGOING);
  test_client_flush_events (bob);
  test_client_flush_events (bob2);

  g_assert_cmpuint (request (bob, "alice"), ==, VOIP_SUBSCRIPTION_FRIEND);
  expect_contact_changed (alice, "bob", VOIP_SUBSCRIPTION_FRIEND, VOIP_CONTACT_CHANGE_ACCEPTED);
  expect_contact_changed (bob2, "alice", VOIP_SUBSCRIPTION_FRIEND, VOIP_CONTACT_CHANGE_ACCEPTED);
  assert_friends (alice, "bob");
  assert_friends (bob, "alice");
  assert_pending (alice, "");
  assert_pending (bob, "");
}

static void
test_errors (void)
{
  g_autoptr(TestServer) server = test_server_new_started ();
  guint16 port = test_server_get_port (server);
  g_autoptr(TestClient) alice = test_client_new_registered (port, "alice");
  g_autoptr(TestClient) bob = test_client_new_registered (port, "bob");

  test_client_call_fails (alice, VOIP_MSG_CONTACT_REQUEST, g_variant_new ("(s)", "nobody"),
                          VOIP_STATUS_NO_SUCH_USER);
  test_client_call_fails (alice, VOIP_MSG_CONTACT_REQUEST, g_variant_new ("(s)", "alice"),
                          VOIP_STATUS_SELF);
  test_client_call_fails (alice, VOIP_MSG_CONTACT_ACCEPT, g_variant_new ("(s)", "bob"),
                          VOIP_STATUS_NO_SUCH_REQUEST);
  test_client_call_fails (alice, VOIP_MSG_CONTACT_ACCEPT, g_variant_new ("(s)", "nobody"),
                          VOIP_STATUS_NO_SUCH_REQUEST);
  test_client_call_fails (alice, VOIP_MSG_CONTACT_DENY, g_variant_new ("(s)", "bob"),
                          VOIP_STATUS_NO_SUCH_REQUEST);
  test_client_call_fails (alice, VOIP_MSG_CONTACT_REMOVE, g_variant_new ("(s)", "bob"),
                          VOIP_STATUS_NOT_A_FRIEND);
  g_assert_cmpuint (request (alice, "bob"), ==, VOIP_SUBSCRIPTION_OUTGOING);
  test_client_call_fails (alice, VOIP_MSG_CONTACT_REQUEST, g_variant_new ("(s)", "bob"),
                          VOIP_STATUS_REQUEST_PENDING);
  test_client_call_fails (alice, VOIP_MSG_CONTACT_REMOVE, g_variant_new ("(s)", "bob"),
                          VOIP_STATUS_NOT_A_FRIEND);
  test_client_call_ok (bob, VOIP_MSG_CONTACT_ACCEPT, g_variant_new ("(s)", "alice"));
  test_client_call_fails (alice, VOIP_MSG_CONTACT_REQUEST, g_variant_new ("(s)", "bob"),
                          VOIP_STATUS_ALREADY_FRIEND);

  /* None of the failures changed anything. */
  assert_friends (alice, "bob");
  assert_pending (alice, "");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/contacts/request-accept", test_request_accept);
  g_test_add_func ("/contacts/deny", test_deny);
  g_test_add_func ("/contacts/remove", test_remove);
  g_test_add_func ("/contacts/offline-target", test_offline_target);
  g_test_add_func ("/contacts/invisible-accept", test_invisible_accept);
  g_test_add_func ("/contacts/mutual-request", test_mutual_request);
  g_test_add_func ("/contacts/errors", test_errors);
  return g_test_run ();
}
