/* test-accounts.c — Register, Login, Resume, Logout, ChangePassword,
 * DeleteAccount, sessions and login rate limits (PROTOCOL.md, "Accounts and
 * sessions"). */
#include <string.h>

#include "test-client.h"
#include "test-server.h"

static const char *random_token =
  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static void
test_register_login (void)
{
  g_autoptr(TestServer) server = test_server_new_started ();
  guint16 port = test_server_get_port (server);
  g_autoptr(TestClient) alice = test_client_new_registered (port, "alice");
  g_autoptr(TestClient) other = test_client_connect (port);
  g_autoptr(GVariant) reply = NULL;
  const char *name, *token;

  /* The token is 64 lower-case hex digits. */
  for (const char *c = test_client_get_token (alice); *c; c++)
    g_assert_true (g_ascii_isdigit (*c) || (*c >= 'a' && *c <= 'f'));

  /* The registering session is logged in. */
  test_client_call_ok (alice, VOIP_MSG_CONTACT_LIST, g_variant_new ("()"));

  /* The name is taken. */
  test_client_call_fails (other, VOIP_MSG_REGISTER,
                          g_variant_new ("(sss)", "alice", "another-password", ""),
                          VOIP_STATUS_USER_EXISTS);
  /* Wrong password and unknown user get the same answer. */
  test_client_call_fails (other, VOIP_MSG_LOGIN, g_variant_new ("(ss)", "alice", "wrong-password"),
                          VOIP_STATUS_BAD_LOGIN);
  test_client_call_fails (other, VOIP_MSG_LOGIN, g_variant_new ("(ss)", "nobody", "password-nobody"),
                          VOIP_STATUS_BAD_LOGIN);
  /* Still logged out after the failures. */
  test_client_call_fails (other, VOIP_MSG_CONTACT_LIST, g_variant_new ("()"),
                          VOIP_STATUS_NOT_LOGGED_IN);

  /* A second session gets a token of its own. */
  reply = test_client_call (other, VOIP_MSG_LOGIN,
                            g_variant_new ("(ss)", "alice", test_client_get_password (alice)));
  g_variant_get (reply, "(&s&s)", &name, &token);
  g_assert_cmpstr (name, ==, "alice");
  g_assert_cmpuint (strlen (token), ==, VOIP_TOKEN_LENGTH);
  g_assert_cmpstr (token, !=, test_client_get_token (alice));
  test_client_call_ok (other, VOIP_MSG_CONTACT_LIST, g_variant_new ("()"));

  /* An e-mail address may be given at registration. */
  {
    g_autoptr(TestClient) bob = test_client_connect (port);

    test_client_call_ok (bob, VOIP_MSG_REGISTER,
                         g_variant_new ("(sss)", "bob", "password-bob", "bob@example.org"));
  }
}

static void
test_already_logged_in (void)
{
  g_autoptr(TestServer) server = test_server_new_started ();
  guint16 port = test_server_get_port (server);
  g_autoptr(TestClient) alice = test_client_new_registered (port, "alice");

  test_client_call_fails (alice, VOIP_MSG_REGISTER,
                          g_variant_new ("(sss)", "alice2", "password-alice2", ""),
                          VOIP_STATUS_ALREADY_LOGGED_IN);
  test_client_call_fails (alice, VOIP_MSG_LOGIN,
                          g_variant_new ("(ss)", "alice", test_client_get_password (alice)),
                          VOIP_STATUS_ALREADY_LOGGED_IN);
  test_client_call_fails (alice, VOIP_MSG_RESUME,
                          g_variant_new ("(ss)", "alice", test_client_get_token (alice)),
                          VOIP_STATUS_ALREADY_LOGGED_IN);

  /* Nothing was changed: alice2 does not exist. */
  {
    g_autoptr(TestClient) other = test_client_connect (port);

    test_client_call_fails (other, VOIP_MSG_LOGIN,
                            g_variant_new ("(ss)", "alice2", "password-alice2"),
                            VOIP_STATUS_BAD_LOGIN);
  }
}

static void
test_not_logged_in (void)
{
  g_autoptr(TestServer) server = test_server_new_started ();
  g_autoptr(TestClient) client = test_client_connect (test_server_get_port (server));

  /* Ping is allowed before login; everything else needs it. */
  test_client_call_ok (client, VOIP_MSG_PING, g_variant_new ("()"));
  test_client_call_fails (client, VOIP_MSG_LOGOUT, g_variant_new ("()"), VOIP_STATUS_NOT_LOGGED_IN);
  test_client_call_fails (client, VOIP_MSG_CHANGE_PASSWORD,
                          g_variant_new ("(ss)", "password-a", "password-b"),
                          VOIP_STATUS_NOT_LOGGED_IN);
  test_client_call_fails (client, VOIP_MSG_DELETE_ACCOUNT, g_variant_new ("(s)", "password-a"),
                          VOIP_STATUS_NOT_LOGGED_IN);
  test_client_call_fails (client, VOIP_MSG_SET_PRESENCE, g_variant_new ("(u)", 1),
                          VOIP_STATUS_NOT_LOGGED_IN);
  test_client_call_fails (client, VOIP_MSG_GET_PROFILE, g_variant_new ("(s)", "alice"),
                          VOIP_STATUS_NOT_LOGGED_IN);
  test_client_call_fails (client, VOIP_MSG_CONTACT_LIST, g_variant_new ("()"),
                          VOIP_STATUS_NOT_LOGGED_IN);
  test_client_call_fails (client, VOIP_MSG_CONTACT_REQUEST, g_variant_new ("(s)", "alice"),
                          VOIP_STATUS_NOT_LOGGED_IN);
  test_client_call_fails (client, VOIP_MSG_GROUP_LIST, g_variant_new ("()"),
                          VOIP_STATUS_NOT_LOGGED_IN);
  test_client_call_fails (client, VOIP_MSG_SEND_TEXT,
                          g_variant_new ("(stss)", "alice", (guint64) 0, "c1", "hello"),
                          VOIP_STATUS_NOT_LOGGED_IN);
  test_client_call_fails (client, VOIP_MSG_SYNC, g_variant_new ("(tu)", (guint64) 0, 10),
                          VOIP_STATUS_NOT_LOGGED_IN);
  test_client_call_fails (client, VOIP_MSG_PLUGIN_SEND,
                          g_variant_new ("(ss@ay)", "alice", "p",
                                         g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, "x", 1, 1)),
                          VOIP_STATUS_NOT_LOGGED_IN);
  /* The connection is still usable. */
  test_client_call_ok (client, VOIP_MSG_PING, g_variant_new ("()"));
}

static void
test_bad_format (void)
{
  g_autoptr(TestServer) server = test_server_new_started ();
  g_autoptr(TestClient) client = test_client_connect (test_server_get_port (server));
  g_autofree char *long_name = g_strnfill (VOIP_USERNAME_MAX + 1, 'a');
  g_autofree char *max_name = g_strnfill (VOIP_USERNAME_MAX, 'b');
  g_autofree char *long_password = g_strnfill (VOIP_PASSWORD_MAX + 1, 'p');
  const char *bad_names[] = { "al", "Alice", "al ice", "al@ice", "alïce", "", long_name };

  for (guint i = 0; i < G_N_ELEMENTS (bad_names); i++)
    test_client_call_fails (client, VOIP_MSG_REGISTER,
                            g_variant_new ("(sss)", bad_names[i], "password-ok", ""),
                            VOIP_STATUS_BAD_FORMAT);
  test_client_call_fails (client, VOIP_MSG_REGISTER,
                          g_variant_new ("(sss)", "carol", "short", ""),
                          VOIP_STATUS_BAD_FORMAT);
  test_client_call_fails (client, VOIP_MSG_REGISTER,
                          g_variant_new ("(sss)", "carol", long_password, ""),
                          VOIP_STATUS_BAD_FORMAT);
  /* Nothing was registered: carol is free, and the connection logged out. */
  test_client_call_fails (client, VOIP_MSG_CONTACT_LIST, g_variant_new ("()"),
                          VOIP_STATUS_NOT_LOGGED_IN);

  /* The edges of the rules are accepted. */
  {
    g_autoptr(TestClient) a = test_client_connect (test_server_get_port (server));
    g_autoptr(TestClient) b = test_client_connect (test_server_get_port (server));
    g_autoptr(TestClient) c = test_client_connect (test_server_get_port (server));

    test_client_call_ok (a, VOIP_MSG_REGISTER, g_variant_new ("(sss)", "c.a_r-0", "12345678", ""));
    test_client_call_ok (b, VOIP_MSG_REGISTER, g_variant_new ("(sss)", max_name, "12345678", ""));
    test_client_call_ok (c, VOIP_MSG_REGISTER, g_variant_new ("(sss)", "carol", "12345678", ""));
  }
}

static void
test_resume (void)
{
  g_autoptr(TestServer) server = test_server_new_started ();
  guint16 port = test_server_get_port (server);
  g_autoptr(TestClient) alice = test_client_new_registered (port, "alice");
  g_autoptr(TestClient) bob = test_client_new_registered (port, "bob");
  g_autoptr(TestClient) resumed = test_client_connect (port);
  g_autoptr(GVariant) reply = NULL;
  const char *name;

  /* Unknown, malformed, and someone else's tokens. */
  test_client_call_fails (resumed, VOIP_MSG_RESUME, g_variant_new ("(ss)", "alice", random_token),
                          VOIP_STATUS_BAD_TOKEN);
  test_client_call_fails (resumed, VOIP_MSG_RESUME, g_variant_new ("(ss)", "alice", "xyz"),
                          VOIP_STATUS_BAD_TOKEN);
  test_client_call_fails (resumed, VOIP_MSG_RESUME,
                          g_variant_new ("(ss)", "alice", test_client_get_token (bob)),
                          VOIP_STATUS_BAD_TOKEN);
  test_client_call_fails (resumed, VOIP_MSG_CONTACT_LIST, g_variant_new ("()"),
                          VOIP_STATUS_NOT_LOGGED_IN);

  reply = test_client_call (resumed, VOIP_MSG_RESUME,
                            g_variant_new ("(ss)", "alice", test_client_get_token (alice)));
  g_variant_get (reply, "(&s)", &name);
  g_assert_cmpstr (name, ==, "alice");
  test_client_call_ok (resumed, VOIP_MSG_CONTACT_LIST, g_variant_new ("()"));

  /* A token survives its connection. */
  test_client_close (alice);
  {
    g_autoptr(TestClient) again = test_client_connect (port);
    g_autoptr(GVariant) reply2 = NULL;

    reply2 = test_client_call (again, VOIP_MSG_RESUME,
                               g_variant_new ("(ss)", "alice", test_client_get_token (alice)));
    g_variant_get (reply2, "(&s)", &name);
    g_assert_cmpstr (name, ==, "alice");
  }
}

static void
test_logout (void)
{
  g_autoptr(TestServer) server = test_server_new_started ();
  guint16 port = test_server_get_port (server);
  g_autoptr(TestClient) alice = test_client_new_registered (port, "alice");
  g_autoptr(TestClient) alice2 = test_client_new_session (alice);
  g_autoptr(TestClient) check = test_client_connect (port);

  test_client_call_ok (alice, VOIP_MSG_LOGOUT, g_variant_new ("()"));
  /* The connection stays open and logged out. */
  test_client_call_ok (alice, VOIP_MSG_PING, g_variant_new ("()"));
  test_client_call_fails (alice, VOIP_MSG_CONTACT_LIST, g_variant_new ("()"),
                          VOIP_STATUS_NOT_LOGGED_IN);
  g_assert_false (test_client_is_closed (alice));
  /* Its token is revoked. */
  test_client_call_fails (check, VOIP_MSG_RESUME,
                          g_variant_new ("(ss)", "alice", test_client_get_token (alice)),
                          VOIP_STATUS_BAD_TOKEN);

  /* The other session is untouched. */
  test_client_assert_no_event (alice2, VOIP_MSG_SESSION_CLOSED, 0);
  test_client_call_ok (alice2, VOIP_MSG_CONTACT_LIST, g_variant_new ("()"));
  test_client_call_ok (check, VOIP_MSG_RESUME,
                       g_variant_new ("(ss)", "alice", test_client_get_token (alice2)));

  /* The logged-out connection may log in again. */
  test_client_call_ok (alice, VOIP_MSG_LOGIN,
                       g_variant_new ("(ss)", "alice", test_client_get_password (alice)));
  test_client_call_ok (alice, VOIP_MSG_CONTACT_LIST, g_variant_new ("()"));
}

/* A logged-out connection is like a new one: it stays open, but must log in
 * again within the login timeout (counted from the Logout), or it is closed
 * with login-timeout. */
static void
test_logout_login_timeout (void)
{
  g_autoptr(TestServer) server = test_server_new ();
  g_autoptr(TestClient) alice = NULL;
  g_autoptr(TestClient) alice2 = NULL;

  g_key_file_set_integer (test_server_get_config (server), "server", "login-timeout", 1);
  test_server_start (server);
  alice = test_client_new_registered (test_server_get_port (server), "alice");
  alice2 = test_client_new_session (alice);

  test_client_call_ok (alice, VOIP_MSG_LOGOUT, g_variant_new ("()"));
  test_client_expect_closed (alice, VOIP_CLOSE_LOGIN_TIMEOUT);
  /* The timeout is for logged-out connections only. */
  test_client_assert_ping (alice2);
  g_assert_false (test_client_is_closed (alice2));
}

static void
test_change_password (void)
{
  g_autoptr(TestServer) server = test_server_new_started ();
  guint16 port = test_server_get_port (server);
  g_autoptr(TestClient) alice = test_client_new_registered (port, "alice");
  g_autoptr(TestClient) alice2 = test_client_new_session (alice);
  g_autoptr(TestClient) alice3 = test_client_new_session (alice);
  g_autoptr(TestClient) bob = test_client_new_registered (port, "bob");
  g_autoptr(TestClient) check = test_client_connect (port);
  const char *old_password = test_client_get_password (alice);

  /* The old password must be right; the new one must follow the rules. */
  test_client_call_fails (alice, VOIP_MSG_CHANGE_PASSWORD,
                          g_variant_new ("(ss)", "wrong-password", "new-password"),
                          VOIP_STATUS_BAD_LOGIN);
  test_client_call_fails (alice, VOIP_MSG_CHANGE_PASSWORD,
                          g_variant_new ("(ss)", old_password, "short"),
                          VOIP_STATUS_BAD_FORMAT);
  test_client_assert_no_event (alice2, VOIP_MSG_SESSION_CLOSED, 0);

  test_client_call_ok (alice, VOIP_MSG_CHANGE_PASSWORD,
                       g_variant_new ("(ss)", old_password, "new-password"));

  /* Every other session of alice is closed, with the reason. */
  test_client_expect_closed (alice2, VOIP_CLOSE_TOKEN_REVOKED);
  test_client_expect_closed (alice3, VOIP_CLOSE_TOKEN_REVOKED);
  /* This one stays, and so do other users. */
  test_client_assert_no_event (alice, VOIP_MSG_SESSION_CLOSED, 0);
  test_client_call_ok (alice, VOIP_MSG_CONTACT_LIST, g_variant_new ("()"));
  test_client_assert_no_event (bob, VOIP_MSG_SESSION_CLOSED, 0);

  /* Their tokens are revoked; this session's is not. */
  test_client_call_fails (check, VOIP_MSG_RESUME,
                          g_variant_new ("(ss)", "alice", test_client_get_token (alice2)),
                          VOIP_STATUS_BAD_TOKEN);
  test_client_call_fails (check, VOIP_MSG_RESUME,
                          g_variant_new ("(ss)", "alice", test_client_get_token (alice3)),
                          VOIP_STATUS_BAD_TOKEN);
  test_client_call_fails (check, VOIP_MSG_LOGIN, g_variant_new ("(ss)", "alice", old_password),
                          VOIP_STATUS_BAD_LOGIN);
  test_client_call_ok (check, VOIP_MSG_RESUME,
                       g_variant_new ("(ss)", "alice", test_client_get_token (alice)));
  {
    g_autoptr(TestClient) fresh = test_client_new_logged_in (port, "alice", "new-password");
  }
}

static void
test_delete_account (void)
{
  g_autoptr(TestServer) server = test_server_new_started ();
  guint16 port = test_server_get_port (server);
  g_autoptr(TestClient) alice = test_client_new_registered (port, "alice");
  g_autoptr(TestClient) alice2 = test_client_new_session (alice);
  g_autoptr(TestClient) bob = test_client_new_registered (port, "bob");
  g_autoptr(TestClient) carol = test_client_new_registered (port, "carol");
  g_autoptr(TestClient) dave = test_client_new_registered (port, "dave");
  g_autoptr(TestClient) erin = test_client_new_registered (port, "erin");
  g_autoptr(TestClient) frank = test_client_new_registered (port, "frank");
  g_autoptr(TestClient) check = test_client_connect (port);
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) event = NULL;
  g_autoptr(GVariant) contacts = NULL;
  g_autoptr(GVariant) sync = NULL;
  g_autoptr(GVariant) members = NULL;
  const char *username, *owner, *group_name;
  guint32 subscription, change, status;
  guint64 group, group_id;
  guint64 message_id;
  guint32 request_id;
  gboolean more, found = FALSE;
  GVariantIter iter;
  GVariant *message;

  /* alice: friends with bob and erin, asked by carol, asking dave; owner of
   * a group where bob joined before erin. frank is a bystander. */
  test_befriend (alice, bob);
  test_befriend (erin, alice);
  test_client_call_ok (carol, VOIP_MSG_CONTACT_REQUEST, g_variant_new ("(s)", "alice"));
  test_client_call_ok (alice, VOIP_MSG_CONTACT_REQUEST, g_variant_new ("(s)", "dave"));
  reply = test_client_call (alice, VOIP_MSG_GROUP_CREATE,
                            g_variant_new ("(s^as)", "team", (const char *[]) { "bob", NULL }));
  g_variant_get (reply, "(t)", &group);
  g_clear_pointer (&reply, g_variant_unref);
  test_client_call_ok (alice, VOIP_MSG_GROUP_ADD_MEMBER, g_variant_new ("(ts)", group, "erin"));
  message_id = test_send_text (alice, "bob", 0, NULL, "a message that outlives alice");
  for (TestClient **c = (TestClient *[]) { alice, alice2, bob, carol, dave, erin, frank, NULL }; *c; c++)
    test_client_flush_events (*c);

  /* The password must be right. */
  test_client_call_fails (alice, VOIP_MSG_DELETE_ACCOUNT, g_variant_new ("(s)", "wrong-password"),
                          VOIP_STATUS_BAD_LOGIN);
  test_client_assert_no_event (alice2, VOIP_MSG_SESSION_CLOSED, 0);

  request_id = test_client_send_request (alice, VOIP_MSG_DELETE_ACCOUNT,
                                         g_variant_new ("(s)", test_client_get_password (alice)),
                                         NULL);
  g_assert_cmpuint (request_id, !=, 0);
  reply = test_client_wait_reply (alice, request_id, &status, NULL);
  g_assert_nonnull (reply);
  g_assert_cmpuint (status, ==, VOIP_STATUS_OK);

  /* Every session of alice is told and closed. */
  test_client_expect_closed (alice, VOIP_CLOSE_ACCOUNT_DELETED);
  test_client_expect_closed (alice2, VOIP_CLOSE_ACCOUNT_DELETED);

  /* Friends and both sides of pending requests see "removed". */
  for (TestClient **c = (TestClient *[]) { bob, erin, carol, dave, NULL }; *c; c++)
    {
      g_autoptr(GVariant) changed = test_client_expect_event (*c, VOIP_MSG_CONTACT_CHANGED);
      const char *display_name;

      g_variant_get (changed, "(&s&suu)", &username, &display_name, &subscription, &change);
      g_assert_cmpstr (username, ==, "alice");
      g_assert_cmpuint (change, ==, VOIP_CONTACT_CHANGE_REMOVED);
      g_assert_cmpuint (subscription, ==, VOIP_SUBSCRIPTION_NONE);
    }

  /* The group passes to bob, who joined first; both remaining members are told. */
  for (TestClient **c = (TestClient *[]) { bob, erin, NULL }; *c; c++)
    {
      g_autoptr(GVariant) changed = test_client_expect_event (*c, VOIP_MSG_GROUP_CHANGED);
      g_autoptr(GVariant) list = NULL;

      g_variant_get (changed, "(t&s&s@as)", &group_id, &group_name, &owner, &list);
      g_assert_cmpuint (group_id, ==, group);
      g_assert_cmpstr (owner, ==, "bob");
      g_assert_cmpuint (g_variant_n_children (list), ==, 2);
    }
  g_clear_pointer (&reply, g_variant_unref);
  reply = test_client_call (erin, VOIP_MSG_GROUP_INFO, g_variant_new ("(t)", group));
  g_variant_get (reply, "(t&s&s@as)", &group_id, &group_name, &owner, &members);
  g_assert_cmpstr (owner, ==, "bob");
  {
    g_autofree const char **names = g_variant_get_strv (members, NULL);

    g_assert_cmpuint (g_strv_length ((char **) names), ==, 2);
    g_assert_true (g_strv_contains (names, "bob"));
    g_assert_true (g_strv_contains (names, "erin"));
  }
  g_clear_pointer (&reply, g_variant_unref);

  /* frank knew nothing of alice and hears nothing. */
  test_client_assert_no_event (frank, VOIP_MSG_CONTACT_CHANGED, 0);
  test_client_assert_no_event (frank, VOIP_MSG_GROUP_CHANGED, 0);

  /* bob's contact list no longer has alice. */
  contacts = test_client_call (bob, VOIP_MSG_CONTACT_LIST, g_variant_new ("()"));
  {
    g_autoptr(GVariant) list = g_variant_get_child_value (contacts, 0);

    g_assert_cmpuint (g_variant_n_children (list), ==, 0);
  }
  /* carol's request is gone. */
  reply = test_client_call (carol, VOIP_MSG_CONTACT_PENDING, g_variant_new ("()"));
  {
    g_autoptr(GVariant) incoming = NULL, outgoing = NULL;

    g_variant_get (reply, "(@as@as)", &incoming, &outgoing);
    g_assert_cmpuint (g_variant_n_children (outgoing), ==, 0);
  }
  g_clear_pointer (&reply, g_variant_unref);

  /* The message stays in bob's conversations. */
  sync = test_client_call (bob, VOIP_MSG_SYNC, g_variant_new ("(tu)", (guint64) 0, 500));
  {
    g_autoptr(GVariant) messages = NULL;

    g_variant_get (sync, "(@a(ttxsstusuaybbs)b)", &messages, &more);
    g_variant_iter_init (&iter, messages);
    while ((message = g_variant_iter_next_value (&iter)) != NULL)
      {
        guint64 id;
        const char *sender, *text;

        g_variant_get_child (message, 0, "t", &id);
        g_variant_get_child (message, 3, "&s", &sender);
        g_variant_get_child (message, 7, "&s", &text);
        if (id == message_id)
          {
            found = TRUE;
            g_assert_cmpstr (sender, ==, "alice");
            g_assert_cmpstr (text, ==, "a message that outlives alice");
          }
        g_variant_unref (message);
      }
  }
  g_assert_true (found);

  /* The account is gone and its name stays reserved. */
  test_client_call_fails (check, VOIP_MSG_LOGIN,
                          g_variant_new ("(ss)", "alice", test_client_get_password (alice)),
                          VOIP_STATUS_BAD_LOGIN);
  test_client_call_fails (check, VOIP_MSG_RESUME,
                          g_variant_new ("(ss)", "alice", test_client_get_token (alice2)),
                          VOIP_STATUS_BAD_TOKEN);
  test_client_call_fails (check, VOIP_MSG_REGISTER,
                          g_variant_new ("(sss)", "alice", "password-new-alice", ""),
                          VOIP_STATUS_USER_EXISTS);
  /* Nobody can befriend it. */
  test_client_call_fails (frank, VOIP_MSG_CONTACT_REQUEST, g_variant_new ("(s)", "alice"),
                          VOIP_STATUS_NO_SUCH_USER);
}

/* Several sessions of one user all get the user's events. */
static void
test_several_sessions (void)
{
  g_autoptr(TestServer) server = test_server_new_started ();
  guint16 port = test_server_get_port (server);
  g_autoptr(TestClient) alice = test_client_new_registered (port, "alice");
  g_autoptr(TestClient) alice2 = test_client_new_session (alice);
  g_autoptr(TestClient) alice3 = test_client_new_session (alice);
  g_autoptr(TestClient) bob = test_client_new_registered (port, "bob");

  test_client_call_ok (bob, VOIP_MSG_CONTACT_REQUEST, g_variant_new ("(s)", "alice"));
  for (TestClient **c = (TestClient *[]) { alice, alice2, alice3, NULL }; *c; c++)
    {
      g_autoptr(GVariant) event = test_client_expect_event (*c, VOIP_MSG_CONTACT_CHANGED);
      const char *username, *display_name;
      guint32 subscription, change;

      g_variant_get (event, "(&s&suu)", &username, &display_name, &subscription, &change);
      g_assert_cmpstr (username, ==, "bob");
      g_assert_cmpuint (subscription, ==, VOIP_SUBSCRIPTION_INCOMING);
      g_assert_cmpuint (change, ==, VOIP_CONTACT_CHANGE_REQUESTED);
    }
  /* bob, the actor, has one session: it got the reply, and no event about
   * its own request reached alice's side twice. */
  for (TestClient **c = (TestClient *[]) { alice, alice2, alice3, NULL }; *c; c++)
    test_client_assert_no_event (*c, VOIP_MSG_CONTACT_CHANGED, 0);

  /* One session accepts: alice's other sessions hear of it too. */
  test_client_call_ok (alice2, VOIP_MSG_CONTACT_ACCEPT, g_variant_new ("(s)", "bob"));
  for (TestClient **c = (TestClient *[]) { alice, alice3, bob, NULL }; *c; c++)
    {
      g_autoptr(GVariant) event = test_client_expect_event (*c, VOIP_MSG_CONTACT_CHANGED);
      const char *username, *display_name;
      guint32 subscription, change;

      g_variant_get (event, "(&s&suu)", &username, &display_name, &subscription, &change);
      g_assert_cmpstr (username, ==, *c == bob ? "alice" : "bob");
      g_assert_cmpuint (subscription, ==, VOIP_SUBSCRIPTION_FRIEND);
      g_assert_cmpuint (change, ==, VOIP_CONTACT_CHANGE_ACCEPTED);
    }
}

/* argon2id with the default (interactive) cost works end to end. */
static void
test_default_hash (void)
{
  g_autoptr(TestServer) server = test_server_new ();
  g_autoptr(TestClient) alice = NULL;
  g_autoptr(TestClient) again = NULL;

  g_key_file_remove_key (test_server_get_config (server), "security", "password-hash", NULL);
  test_server_start (server);
  alice = test_client_connect (test_server_get_port (server));
  test_client_set_timeout (alice, 60000);
  test_client_call_ok (alice, VOIP_MSG_REGISTER,
                       g_variant_new ("(sss)", "alice", "password-alice", ""));
  again = test_client_connect (test_server_get_port (server));
  test_client_set_timeout (again, 60000);
  test_client_call_fails (again, VOIP_MSG_LOGIN, g_variant_new ("(ss)", "alice", "password-bad"),
                          VOIP_STATUS_BAD_LOGIN);
  test_client_call_ok (again, VOIP_MSG_LOGIN, g_variant_new ("(ss)", "alice", "password-alice"));
}

static void
test_rate_limit_account (void)
{
  g_autoptr(TestServer) server = test_server_new ();
  g_autoptr(TestClient) alice = NULL;
  g_autoptr(TestClient) bob = NULL;
  g_autoptr(TestClient) attacker = NULL;
  const guint burst = 3;

  g_key_file_set_integer (test_server_get_config (server), "security",
                          "login-failures-per-account", burst);
  test_server_start (server);
  alice = test_client_new_registered (test_server_get_port (server), "alice");
  bob = test_client_new_registered (test_server_get_port (server), "bob");
  attacker = test_client_connect (test_server_get_port (server));

  for (guint i = 0; i < burst; i++)
    test_client_call_fails (attacker, VOIP_MSG_LOGIN, g_variant_new ("(ss)", "alice", "wrong-password"),
                            VOIP_STATUS_BAD_LOGIN);
  /* Over the limit: refused, even with the right password. */
  test_client_call_fails (attacker, VOIP_MSG_LOGIN, g_variant_new ("(ss)", "alice", "wrong-password"),
                          VOIP_STATUS_RATE_LIMITED);
  test_client_call_fails (attacker, VOIP_MSG_LOGIN,
                          g_variant_new ("(ss)", "alice", test_client_get_password (alice)),
                          VOIP_STATUS_RATE_LIMITED);
  /* Other accounts, and alice's existing session, are unaffected. */
  test_client_call_ok (attacker, VOIP_MSG_LOGIN,
                       g_variant_new ("(ss)", "bob", test_client_get_password (bob)));
  test_client_call_ok (alice, VOIP_MSG_CONTACT_LIST, g_variant_new ("()"));
}

static void
test_rate_limit_ip (void)
{
  g_autoptr(TestServer) server = test_server_new ();
  guint16 port;
  const guint burst = 5;
  GKeyFile *config = test_server_get_config (server);

  g_key_file_set_integer (config, "security", "login-attempts-per-ip", burst);
  g_key_file_set_double (config, "security", "login-refill-per-second", 0.001);
  test_server_start (server);
  port = test_server_get_port (server);

  /* Each attempt on its own connection, to different accounts: the limit
   * is per address. */
  for (guint i = 0; i < burst; i++)
    {
      g_autoptr(TestClient) client = test_client_connect (port);
      g_autofree char *name = g_strdup_printf ("nobody%u", i);

      test_client_call_fails (client, VOIP_MSG_LOGIN, g_variant_new ("(ss)", name, "password-x"),
                              VOIP_STATUS_BAD_LOGIN);
    }
  {
    g_autoptr(TestClient) client = test_client_connect (port);

    test_client_call_fails (client, VOIP_MSG_LOGIN,
                            g_variant_new ("(ss)", "someone-else", "password-x"),
                            VOIP_STATUS_RATE_LIMITED);
    test_client_call_fails (client, VOIP_MSG_REGISTER,
                            g_variant_new ("(sss)", "newcomer", "password-x", ""),
                            VOIP_STATUS_RATE_LIMITED);
    /* The connection itself is still served. */
    test_client_call_ok (client, VOIP_MSG_PING, g_variant_new ("()"));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/accounts/register-login", test_register_login);
  g_test_add_func ("/accounts/already-logged-in", test_already_logged_in);
  g_test_add_func ("/accounts/not-logged-in", test_not_logged_in);
  g_test_add_func ("/accounts/bad-format", test_bad_format);
  g_test_add_func ("/accounts/resume", test_resume);
  g_test_add_func ("/accounts/logout", test_logout);
  g_test_add_func ("/accounts/logout-login-timeout", test_logout_login_timeout);
  g_test_add_func ("/accounts/change-password", test_change_password);
  g_test_add_func ("/accounts/delete-account", test_delete_account);
  g_test_add_func ("/accounts/several-sessions", test_several_sessions);
  g_test_add_func ("/accounts/default-hash", test_default_hash);
  g_test_add_func ("/accounts/rate-limit-account", test_rate_limit_account);
  g_test_add_func ("/accounts/rate-limit-ip", test_rate_limit_ip);
  return g_test_run ();
}
