/* test-plugins.c — PluginSend relays to online friends and stores nothing
 * (PROTOCOL.md, "Plugins"). */
#include <string.h>

#include "test-client.h"
#include "test-server.h"

static GVariant *
bytes_of (gsize size, guint8 fill)
{
  g_autofree guint8 *data = g_malloc (MAX (size, 1));

  memset (data, fill, size);
  return g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, data, size, 1);
}

static void
plugin_send (TestClient *client, const char *recipient, const char *plugin, GVariant *data,
             guint expected_status)
{
  test_client_call_fails (client, VOIP_MSG_PLUGIN_SEND,
                          g_variant_new ("(ss@ay)", recipient, plugin, data), expected_status);
}

static void
test_relay (void)
{
  g_autoptr(TestServer) server = test_server_new_started ();
  guint16 port = test_server_get_port (server);
  g_autoptr(TestClient) alice = test_client_new_registered (port, "alice");
  g_autoptr(TestClient) alice2 = test_client_new_session (alice);
  g_autoptr(TestClient) bob = test_client_new_registered (port, "bob");
  g_autoptr(TestClient) bob2 = test_client_new_session (bob);
  g_autoptr(TestClient) carol = test_client_new_registered (port, "carol");
  g_autoptr(GVariant) payload = g_variant_ref_sink (bytes_of (1000, 0x5a));
  g_autoptr(GVariant) largest = g_variant_ref_sink (bytes_of (VOIP_PLUGIN_PAYLOAD_MAX, 0x01));

  test_befriend (alice, bob);
  test_client_flush_events (alice2);
  test_client_flush_events (bob2);

  plugin_send (alice, "bob", "whiteboard", payload, VOIP_STATUS_OK);
  for (TestClient **c = (TestClient *[]) { bob, bob2, NULL }; *c; c++)
    {
      g_autoptr(GVariant) event = test_client_expect_event (*c, VOIP_MSG_PLUGIN_MESSAGE);
      g_autoptr(GVariant) data = NULL;
      const char *sender, *plugin;

      g_variant_get (event, "(&s&s@ay)", &sender, &plugin, &data);
      g_assert_cmpstr (sender, ==, "alice");
      g_assert_cmpstr (plugin, ==, "whiteboard");
      g_assert_true (g_variant_equal (data, payload));
      test_client_assert_no_event (*c, VOIP_MSG_PLUGIN_MESSAGE, 0);
    }
  test_client_assert_no_event (carol, VOIP_MSG_PLUGIN_MESSAGE, 0);
  test_client_assert_no_event (alice, VOIP_MSG_PLUGIN_MESSAGE, 0);

  /* Up to 64 KiB. */
  plugin_send (bob, "alice", "whiteboard", largest, VOIP_STATUS_OK);
  {
    g_autoptr(GVariant) event = test_client_expect_event (alice, VOIP_MSG_PLUGIN_MESSAGE);
    g_autoptr(GVariant) data = NULL;

    g_variant_get (event, "(&s&s@ay)", NULL, NULL, &data);
    g_assert_true (g_variant_equal (data, largest));
  }
  plugin_send (bob, "alice", "whiteboard", bytes_of (VOIP_PLUGIN_PAYLOAD_MAX + 1, 0x02),
               VOIP_STATUS_TOO_LARGE);
  test_client_assert_no_event (alice, VOIP_MSG_PLUGIN_MESSAGE, 0);

  /* Not to strangers, known or not. */
  plugin_send (alice, "carol", "whiteboard", bytes_of (10, 0), VOIP_STATUS_NO_SUCH_USER);
  plugin_send (alice, "nobody", "whiteboard", bytes_of (10, 0), VOIP_STATUS_NO_SUCH_USER);
  plugin_send (carol, "alice", "whiteboard", bytes_of (10, 0), VOIP_STATUS_NO_SUCH_USER);
  test_client_assert_no_event (carol, VOIP_MSG_PLUGIN_MESSAGE, 0);
  test_client_assert_no_event (alice, VOIP_MSG_PLUGIN_MESSAGE, 0);
}

static void
test_offline (void)
{
  g_autoptr(TestServer) server = test_server_new_started ();
  guint16 port = test_server_get_port (server);
  g_autoptr(TestClient) alice = test_client_new_registered (port, "alice");
  g_autoptr(TestClient) bob = test_client_new_registered (port, "bob");
  g_autoptr(TestClient) bob2 = NULL;
  g_autofree char *bob_password = g_strdup (test_client_get_password (bob));

  test_befriend (alice, bob);

  /* An invisible friend is offline for plugins, so invisibility never leaks. */
  test_client_call_ok (bob, VOIP_MSG_SET_PRESENCE, g_variant_new ("(u)", VOIP_PRESENCE_INVISIBLE));
  plugin_send (alice, "bob", "dice", bytes_of (4, 6), VOIP_STATUS_OFFLINE);
  test_client_assert_no_event (bob, VOIP_MSG_PLUGIN_MESSAGE, 0);
  /* Away or busy friends are online. */
  test_client_call_ok (bob, VOIP_MSG_SET_PRESENCE, g_variant_new ("(u)", VOIP_PRESENCE_DND));
  plugin_send (alice, "bob", "dice", bytes_of (4, 6), VOIP_STATUS_OK);
  g_variant_unref (test_client_expect_event (bob, VOIP_MSG_PLUGIN_MESSAGE));

  /* Gone: offline, and nothing is kept for later. */
  test_client_flush_events (alice);
  test_client_close (bob);
  {
    g_autoptr(GVariant) event = test_client_expect_event (alice, VOIP_MSG_PRESENCE_CHANGED);
    const char *username;
    guint32 presence;

    g_variant_get (event, "(&su)", &username, &presence);
    g_assert_cmpstr (username, ==, "bob");
    g_assert_cmpuint (presence, ==, VOIP_PRESENCE_OFFLINE);
  }
  plugin_send (alice, "bob", "dice", bytes_of (4, 6), VOIP_STATUS_OFFLINE);
  bob2 = test_client_new_logged_in (port, "bob", bob_password);
  test_client_assert_no_event (bob2, VOIP_MSG_PLUGIN_MESSAGE, 200);
  /* Back: delivered again. Presence was chosen by no session now, so online. */
  plugin_send (alice, "bob", "dice", bytes_of (4, 6), VOIP_STATUS_OK);
  g_variant_unref (test_client_expect_event (bob2, VOIP_MSG_PLUGIN_MESSAGE));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/plugins/relay", test_relay);
  g_test_add_func ("/plugins/offline", test_offline);
  return g_test_run ();
}
