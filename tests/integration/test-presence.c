/* test-presence.c — presence as friends see it, and profiles (PROTOCOL.md,
 * "Presence and profile"). */
#include <string.h>

#include "test-client.h"
#include "test-server.h"

#define expect_presence(client, username, presence) \
  check_presence (test_client_expect_event ((client), VOIP_MSG_PRESENCE_CHANGED), \
                  (username), (presence))

static void
check_presence (GVariant *event, const char *username, guint presence)
{
  g_autoptr(GVariant) owned = event;
  const char *got_username;
  guint32 got_presence;

  g_variant_get (event, "(&su)", &got_username, &got_presence);
  g_assert_cmpstr (got_username, ==, username);
  g_assert_cmpuint (got_presence, ==, presence);
}

/* The presence of `username` in the client's contact list. */
static guint
listed_presence (TestClient *client, const char *username)
{
  g_autoptr(GVariant) reply = test_client_call (client, VOIP_MSG_CONTACT_LIST, g_variant_new ("()"));
  g_autoptr(GVariantIter) iter = NULL;
  const char *name, *display_name, *motd;
  guint32 presence;

  g_variant_get (reply, "(a(ssus))", &iter);
  while (g_variant_iter_next (iter, "(&s&su&s)", &name, &display_name, &presence, &motd))
    if (g_str_equal (name, username))
      return presence;
  g_assert_not_reached ();
  return 0;
}

static guint
profile_presence (TestClient *client, const char *username)
{
  g_autoptr(GVariant) reply = test_client_call (client, VOIP_MSG_GET_PROFILE,
                                                g_variant_new ("(s)", username));
  guint32 presence;

  g_variant_get_child (reply, 2, "u", &presence);
  return presence;
}

static void
set_presence (TestClient *client, guint presence)
{
  test_client_call_ok (client, VOIP_MSG_SET_PRESENCE, g_variant_new ("(u)", presence));
}

static void
test_changes (void)
{
  g_autoptr(TestServer) server = test_server_new_started ();
  guint16 port = test_server_get_port (server);
  g_autoptr(TestClient) alice = test_client_new_registered (port, "alice");
  g_autoptr(TestClient) alice2 = test_client_new_session (alice);
  g_autoptr(TestClient) bob = test_client_new_registered (port, "bob");
  g_autoptr(TestClient) bob2 = test_client_new_session (bob);
  g_autoptr(TestClient) carol = test_client_new_registered (port, "carol");
  const guint presences[] = {
    VOIP_PRESENCE_AWAY, VOIP_PRESENCE_BUSY, VOIP_PRESENCE_DND, VOIP_PRESENCE_ONLINE,
  };

  test_befriend (alice, bob);
  test_client_flush_events (alice2);
  test_client_flush_events (bob2);
  g_assert_cmpuint (listed_presence (bob, "alice"), ==, VOIP_PRESENCE_ONLINE);

  for (guint i = 0; i < G_N_ELEMENTS (presences); i++)
    {
      set_presence (alice, presences[i]);
      /* Every session of every friend, and alice's other session. */
      expect_presence (bob, "alice", presences[i]);
      expect_presence (bob2, "alice", presences[i]);
      expect_presence (alice2, "alice", presences[i]);
      g_assert_cmpuint (listed_presence (bob, "alice"), ==, presences[i]);
      g_assert_cmpuint (profile_presence (bob, "alice"), ==, presences[i]);
      g_assert_cmpuint (profile_presence (carol, "alice"), ==, presences[i]);
    }

  /* Non-friends hear nothing; nobody got a copy twice. */
  test_client_assert_no_event (carol, VOIP_MSG_PRESENCE_CHANGED, 0);
  test_client_assert_no_event (bob, VOIP_MSG_PRESENCE_CHANGED, 0);
  test_client_assert_no_event (alice2, VOIP_MSG_PRESENCE_CHANGED, 0);

  /* Values outside 1–5 are refused. */
  test_client_call_fails (alice, VOIP_MSG_SET_PRESENCE, g_variant_new ("(u)", VOIP_PRESENCE_OFFLINE),
                          VOIP_STATUS_MALFORMED);
  test_client_call_fails (alice, VOIP_MSG_SET_PRESENCE, g_variant_new ("(u)", 6),
                          VOIP_STATUS_MALFORMED);
  test_client_assert_no_event (bob, VOIP_MSG_PRESENCE_CHANGED, 0);
  g_assert_cmpuint (listed_presence (bob, "alice"), ==, VOIP_PRESENCE_ONLINE);
}

static void
test_invisible (void)
{
  g_autoptr(TestServer) server = test_server_new_started ();
  guint16 port = test_server_get_port (server);
  g_autoptr(TestClient) alice = test_client_new_registered (port, "alice");
  g_autoptr(TestClient) alice2 = test_client_new_session (alice);
  g_autoptr(TestClient) alice3 = NULL;
  g_autoptr(TestClient) bob = test_client_new_registered (port, "bob");
  g_autoptr(TestClient) carol = test_client_new_registered (port, "carol");

  test_befriend (alice, bob);
  test_client_flush_events (alice2);

  set_presence (alice, VOIP_PRESENCE_INVISIBLE);
  expect_presence (bob, "alice", VOIP_PRESENCE_OFFLINE);
  expect_presence (alice2, "alice", VOIP_PRESENCE_INVISIBLE);
  g_assert_cmpuint (listed_presence (bob, "alice"), ==, VOIP_PRESENCE_OFFLINE);
  g_assert_cmpuint (profile_presence (bob, "alice"), ==, VOIP_PRESENCE_OFFLINE);
  g_assert_cmpuint (profile_presence (carol, "alice"), ==, VOIP_PRESENCE_OFFLINE);
  g_assert_cmpuint (profile_presence (alice2, "alice"), ==, VOIP_PRESENCE_INVISIBLE);

  /* A new session keeps the chosen presence, and tells nobody. */
  alice3 = test_client_new_session (alice);
  test_client_assert_no_event (bob, VOIP_MSG_PRESENCE_CHANGED, 0);
  g_assert_cmpuint (listed_presence (bob, "alice"), ==, VOIP_PRESENCE_OFFLINE);
  g_assert_cmpuint (profile_presence (alice3, "alice"), ==, VOIP_PRESENCE_INVISIBLE);

  /* Leaving while invisible changes nothing others can see. */
  test_client_close (alice3);
  test_client_close (alice2);
  test_client_assert_no_event (bob, VOIP_MSG_PRESENCE_CHANGED, 200);

  /* Back from invisible. */
  set_presence (alice, VOIP_PRESENCE_DND);
  expect_presence (bob, "alice", VOIP_PRESENCE_DND);
  set_presence (alice, VOIP_PRESENCE_INVISIBLE);
  expect_presence (bob, "alice", VOIP_PRESENCE_OFFLINE);
  test_client_close (alice);
  test_client_assert_no_event (bob, VOIP_MSG_PRESENCE_CHANGED, 200);
  g_assert_cmpuint (listed_presence (bob, "alice"), ==, VOIP_PRESENCE_OFFLINE);

  test_client_assert_no_event (carol, VOIP_MSG_PRESENCE_CHANGED, 0);
}

static void
test_offline_on_disconnect (void)
{
  g_autoptr(TestServer) server = test_server_new_started ();
  guint16 port = test_server_get_port (server);
  g_autoptr(TestClient) alice = test_client_new_registered (port, "alice");
  g_autoptr(TestClient) alice2 = test_client_new_session (alice);
  g_autoptr(TestClient) bob = test_client_new_registered (port, "bob");
  g_autoptr(TestClient) carol = test_client_new_registered (port, "carol");
  g_autoptr(TestClient) again = NULL;
  g_autofree char *password = g_strdup (test_client_get_password (alice));

  test_befriend (alice, bob);
  test_client_flush_events (alice2);

  /* One session of two goes: still online. */
  test_client_close (alice2);
  test_client_assert_no_event (bob, VOIP_MSG_PRESENCE_CHANGED, 200);
  g_assert_cmpuint (listed_presence (bob, "alice"), ==, VOIP_PRESENCE_ONLINE);

  /* The last one goes: offline. */
  test_client_close (alice);
  expect_presence (bob, "alice", VOIP_PRESENCE_OFFLINE);
  g_assert_cmpuint (listed_presence (bob, "alice"), ==, VOIP_PRESENCE_OFFLINE);
  g_assert_cmpuint (profile_presence (bob, "alice"), ==, VOIP_PRESENCE_OFFLINE);

  /* Logging in again makes her online. */
  again = test_client_new_logged_in (port, "alice", password);
  expect_presence (bob, "alice", VOIP_PRESENCE_ONLINE);

  /* A Logout of the last session is going away too. */
  set_presence (again, VOIP_PRESENCE_AWAY);
  expect_presence (bob, "alice", VOIP_PRESENCE_AWAY);
  test_client_call_ok (again, VOIP_MSG_LOGOUT, g_variant_new ("()"));
  expect_presence (bob, "alice", VOIP_PRESENCE_OFFLINE);

  test_client_assert_no_event (carol, VOIP_MSG_PRESENCE_CHANGED, 0);
}

static GVariant *
string_value (const char *text)
{
  return g_variant_new_string (text);
}

#define TINY_PNG_SIZE 67

typedef struct {
  char *display_name, *motd, *city, *phone, *mail, *language;
  guint32 presence;
  gsize avatar_size;
  guint n_plugins;
} Profile;

static void
profile_clear (Profile *profile)
{
  g_free (profile->display_name);
  g_free (profile->motd);
  g_free (profile->city);
  g_free (profile->phone);
  g_free (profile->mail);
  g_free (profile->language);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Profile, profile_clear)

static void
get_profile (TestClient *client, const char *username, Profile *out)
{
  g_autoptr(GVariant) reply = test_client_call (client, VOIP_MSG_GET_PROFILE,
                                                g_variant_new ("(s)", username));
  g_autoptr(GVariant) avatar = NULL;
  g_autoptr(GVariant) plugins = NULL;
  const char *name;

  g_variant_get (reply, "(&ssusssss@ay@a(ss))", &name, &out->display_name, &out->presence,
                 &out->motd, &out->city, &out->phone, &out->mail, &out->language,
                 &avatar, &plugins);
  g_assert_cmpstr (name, ==, username);
  out->avatar_size = g_variant_n_children (avatar);
  out->n_plugins = g_variant_n_children (plugins);
}

static void
set_profile (TestClient *client, GVariantBuilder *fields, guint expected_status)
{
  test_client_call_fails (client, VOIP_MSG_SET_PROFILE,
                          g_variant_new ("(a{sv})", fields), expected_status);
}

static void
test_profile (void)
{
  g_autoptr(TestServer) server = test_server_new_started ();
  guint16 port = test_server_get_port (server);
  g_autoptr(TestClient) alice = test_client_new_registered (port, "alice");
  g_autoptr(TestClient) alice2 = test_client_new_session (alice);
  g_autoptr(TestClient) bob = test_client_new_registered (port, "bob");
  g_autoptr(TestClient) carol = test_client_new_registered (port, "carol");
  g_autofree char *too_long = g_strnfill (VOIP_DISPLAY_NAME_MAX + 1, 'x');
  GVariantBuilder fields;

  test_befriend (alice, bob);
  test_client_flush_events (alice2);

  g_variant_builder_init (&fields, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&fields, "{sv}", "display_name", string_value ("Alice A."));
  g_variant_builder_add (&fields, "{sv}", "motd", string_value ("hello world"));
  g_variant_builder_add (&fields, "{sv}", "city", string_value ("Paris"));
  g_variant_builder_add (&fields, "{sv}", "phone", string_value ("+33 1 23 45 67 89"));
  g_variant_builder_add (&fields, "{sv}", "mail", string_value ("alice@example.org"));
  g_variant_builder_add (&fields, "{sv}", "language", string_value ("fr"));
  g_variant_builder_add (&fields, "{sv}", "avatar", test_png_new (0));
  g_variant_builder_add (&fields, "{sv}", "plugins",
                         g_variant_new_parsed ("[('whiteboard', 'Draw together'), ('dice', '')]"));
  set_profile (alice, &fields, VOIP_STATUS_OK);

  /* Friends and alice's other session see the new name and motd. */
  for (TestClient **c = (TestClient *[]) { bob, alice2, NULL }; *c; c++)
    {
      g_autoptr(GVariant) event = test_client_expect_event (*c, VOIP_MSG_PROFILE_CHANGED);
      const char *username, *display_name, *motd;
      guint32 presence;

      g_variant_get (event, "(&s&su&s)", &username, &display_name, &presence, &motd);
      g_assert_cmpstr (username, ==, "alice");
      g_assert_cmpstr (display_name, ==, "Alice A.");
      g_assert_cmpstr (motd, ==, "hello world");
      g_assert_cmpuint (presence, ==, VOIP_PRESENCE_ONLINE);
    }
  test_client_assert_no_event (carol, VOIP_MSG_PROFILE_CHANGED, 0);

  /* A friend reads every field; a stranger reads no phone or mail. */
  {
    g_auto(Profile) by_friend = { 0 };
    g_auto(Profile) by_stranger = { 0 };
    g_auto(Profile) by_self = { 0 };

    get_profile (bob, "alice", &by_friend);
    get_profile (carol, "alice", &by_stranger);
    get_profile (alice, "alice", &by_self);
    Profile *readers[] = { &by_friend, &by_stranger, &by_self };

    for (guint i = 0; i < G_N_ELEMENTS (readers); i++)
      {
        Profile *p = readers[i];

        g_assert_cmpstr (p->display_name, ==, "Alice A.");
        g_assert_cmpstr (p->motd, ==, "hello world");
        g_assert_cmpstr (p->city, ==, "Paris");
        g_assert_cmpstr (p->language, ==, "fr");
        g_assert_cmpuint (p->presence, ==, VOIP_PRESENCE_ONLINE);
        g_assert_cmpuint (p->avatar_size, ==, TINY_PNG_SIZE);
        g_assert_cmpuint (p->n_plugins, ==, 2);
      }
    g_assert_cmpstr (by_friend.phone, ==, "+33 1 23 45 67 89");
    g_assert_cmpstr (by_friend.mail, ==, "alice@example.org");
    g_assert_cmpstr (by_self.phone, ==, "+33 1 23 45 67 89");
    g_assert_cmpstr (by_self.mail, ==, "alice@example.org");
    g_assert_cmpstr (by_stranger.phone, ==, "");
    g_assert_cmpstr (by_stranger.mail, ==, "");
  }

  /* A change of other fields is not announced. */
  g_variant_builder_init (&fields, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&fields, "{sv}", "city", string_value ("Lyon"));
  set_profile (alice, &fields, VOIP_STATUS_OK);
  test_client_assert_no_event (bob, VOIP_MSG_PROFILE_CHANGED, 0);

  /* Bad requests change nothing. */
  g_variant_builder_init (&fields, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&fields, "{sv}", "shoe_size", string_value ("42"));
  set_profile (alice, &fields, VOIP_STATUS_MALFORMED);
  g_variant_builder_init (&fields, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&fields, "{sv}", "display_name", g_variant_new_uint32 (7));
  set_profile (alice, &fields, VOIP_STATUS_MALFORMED);
  g_variant_builder_init (&fields, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&fields, "{sv}", "avatar",
                         g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, "GIF89a..", 8, 1));
  set_profile (alice, &fields, VOIP_STATUS_MALFORMED);
  g_variant_builder_init (&fields, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&fields, "{sv}", "display_name", string_value (too_long));
  set_profile (alice, &fields, VOIP_STATUS_TOO_LARGE);
  g_variant_builder_init (&fields, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&fields, "{sv}", "motd", string_value ("line\nbreak"));
  set_profile (alice, &fields, VOIP_STATUS_MALFORMED);
  g_variant_builder_init (&fields, G_VARIANT_TYPE ("a{sv}"));
  set_profile (alice, &fields, VOIP_STATUS_MALFORMED);
  test_client_assert_no_event (bob, VOIP_MSG_PROFILE_CHANGED, 0);
  {
    g_auto(Profile) after = { 0 };

    get_profile (bob, "alice", &after);
    g_assert_cmpstr (after.display_name, ==, "Alice A.");
    g_assert_cmpstr (after.motd, ==, "hello world");
    g_assert_cmpstr (after.city, ==, "Lyon");
  }

  /* Unknown users. */
  test_client_call_fails (bob, VOIP_MSG_GET_PROFILE, g_variant_new ("(s)", "nobody"),
                          VOIP_STATUS_NO_SUCH_USER);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/presence/changes", test_changes);
  g_test_add_func ("/presence/invisible", test_invisible);
  g_test_add_func ("/presence/offline-on-disconnect", test_offline_on_disconnect);
  g_test_add_func ("/presence/profile", test_profile);
  return g_test_run ();
}
