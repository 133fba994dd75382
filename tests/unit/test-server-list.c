/* test-server-list.c — unit tests of the server list (daemon/voipd-server-list.c):
 * a single HOST:PORT, lists with spaces and IPv6, a domain becomes a
 * GNetworkService for _voip._tcp, every kind of bad input is a Malformed error
 * naming it (limits included, at and past the named constants), and the nodes
 * of an address list come back in order. A real SRV lookup needs a DNS
 * server, which the tests do not run: the service path is checked up to the
 * GNetworkService it builds. */
#include "voip-status.h"
#include "voipd-server-list.h"

static void
assert_address (GSocketConnectable *entry, const char *host, guint16 port)
{
  g_assert_true (G_IS_NETWORK_ADDRESS (entry));
  g_assert_cmpstr (g_network_address_get_hostname (G_NETWORK_ADDRESS (entry)), ==, host);
  g_assert_cmpuint (g_network_address_get_port (G_NETWORK_ADDRESS (entry)), ==, port);
}

static void
test_single (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) entries = voipd_server_list_parse ("127.0.0.1:7000", &error);

  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 1);
  assert_address (entries->pdata[0], "127.0.0.1", 7000);
}

static void
test_list (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) entries = voipd_server_list_parse (
      "a.example.org:7000, b-2.example.org:7001 ,[::1]:65535,10.0.0.1:1", &error);

  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 4);
  assert_address (entries->pdata[0], "a.example.org", 7000);
  assert_address (entries->pdata[1], "b-2.example.org", 7001);
  assert_address (entries->pdata[2], "::1", 65535);
  assert_address (entries->pdata[3], "10.0.0.1", 1);
}

static void
test_service (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) entries = voipd_server_list_parse ("example.org,backup.example.org:7000",
                                                          &error);
  GNetworkService *service;

  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 2);
  g_assert_true (G_IS_NETWORK_SERVICE (entries->pdata[0]));
  service = entries->pdata[0];
  g_assert_cmpstr (g_network_service_get_service (service), ==, "voip");
  g_assert_cmpstr (g_network_service_get_protocol (service), ==, "tcp");
  g_assert_cmpstr (g_network_service_get_domain (service), ==, "example.org");
  assert_address (entries->pdata[1], "backup.example.org", 7000);
}

static void
assert_malformed (const char *text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) entries = voipd_server_list_parse (text, &error);

  if (entries != NULL)
    g_error ("'%s' was accepted", text);
  g_assert_error (error, VOIP_ERROR, VOIP_STATUS_MALFORMED);
  g_assert_nonnull (error->message);
  g_assert_false (voipd_server_list_is_valid (text, NULL));
}

static void
test_malformed (void)
{
  const char *bad[] = {
    "", " ", ",", "a:7000,", ",a:7000", "a:7000,,b:7000",
    "a:", "a:0", "a:65536", "a:-1", "a:70x0", ":7000", "a b:7000", "a_b:7000",
    "[::1]", "[::1]7000", "[::1:7000", "[nothost]:7000", "[127.0.0.1]:7000",
    "::1:7000", "127.0.0.1", "-a.example.org", ".example.org", "a/b:7000",
    "a:7000,A:7000", "example.org,EXAMPLE.org", "a:7000;b:7000",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    assert_malformed (bad[i]);
}

/* A list of `count` distinct entries. */
static char *
make_list (guint count)
{
  g_autoptr(GString) text = g_string_new (NULL);

  for (guint i = 0; i < count; i++)
    g_string_append_printf (text, "%sn%u:7000", i ? "," : "", i);
  return g_string_free (g_steal_pointer (&text), FALSE);
}

static void
test_limits (void)
{
  g_autofree char *most = make_list (VOIPD_SERVER_LIST_MAX_ENTRIES);
  g_autofree char *too_many = make_list (VOIPD_SERVER_LIST_MAX_ENTRIES + 1);
  g_autofree char *longest = NULL;
  g_autofree char *too_long = NULL;
  g_autofree char *name = g_strnfill (VOIPD_SERVER_LIST_MAX_LENGTH - 5, 'a');

  g_assert_true (voipd_server_list_is_valid (most, NULL));
  assert_malformed (too_many);
  longest = g_strconcat (name, ":7000", NULL);
  g_assert_cmpuint (strlen (longest), ==, VOIPD_SERVER_LIST_MAX_LENGTH);
  g_assert_true (voipd_server_list_is_valid (longest, NULL));
  too_long = g_strconcat (name, "a:7000", NULL);
  assert_malformed (too_long);
}

static void
on_resolved (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GStrv *nodes = user_data;
  g_autoptr(GError) error = NULL;

  *nodes = voipd_server_list_resolve_finish (result, &error);
  g_assert_no_error (error);
}

static void
test_resolve_addresses (void)
{
  g_autoptr(GPtrArray) entries = voipd_server_list_parse ("b:7001,a:7000,[::1]:7002", NULL);
  g_autoptr(GResolver) resolver = g_resolver_get_default ();
  g_auto(GStrv) nodes = NULL;
  const char *expected[] = { "b:7001", "a:7000", "[::1]:7002", NULL };

  voipd_server_list_resolve_async (entries, resolver, NULL, on_resolved, &nodes);
  while (nodes == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpstrv (nodes, expected);
}

static void
test_format_node (void)
{
  g_autofree char *v4 = voipd_server_list_format_node ("127.0.0.1", 7000);
  g_autofree char *v6 = voipd_server_list_format_node ("fe80::1", 1);

  g_assert_cmpstr (v4, ==, "127.0.0.1:7000");
  g_assert_cmpstr (v6, ==, "[fe80::1]:1");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/server-list/single", test_single);
  g_test_add_func ("/server-list/list", test_list);
  g_test_add_func ("/server-list/service", test_service);
  g_test_add_func ("/server-list/malformed", test_malformed);
  g_test_add_func ("/server-list/limits", test_limits);
  g_test_add_func ("/server-list/resolve-addresses", test_resolve_addresses);
  g_test_add_func ("/server-list/format-node", test_format_node);
  return g_test_run ();
}
