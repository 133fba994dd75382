/* test-daemon-tls.c — voipd over TLS, with certificates made here by openssl.
 *
 * With a test CA in tls-ca-file, the daemons register, log in, talk and come
 * back after a server restart over TLS, and `voipctl status` shows the link
 * as TLS with the certificate's fingerprint; a daemon trusting another CA
 * refuses the server. With a self-signed certificate and no CA file, the
 * first connection trusts it and pins its SHA-256 fingerprint; a restarted
 * daemon resumes with the pin, and once the server shows another certificate
 * the daemon refuses it with a reason that names both fingerprints. */
#include <string.h>

#include <glib/gstdio.h>

#include "daemon-fixture.h"

/* Made once in main(): the CA, a server certificate it signs (for 127.0.0.1),
 * another CA, and two self-signed server certificates. */
static char *certs_dir;

static char *
cert_path (const char *name)
{
  return g_build_filename (certs_dir, name, NULL);
}

static void
run_openssl (const char *const *argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;
  int status = 0;

  if (!g_spawn_sync (certs_dir, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                     &err, &status, &error))
    g_error ("cannot run openssl: %s", error->message);
  if (!g_spawn_check_wait_status (status, &error))
    g_error ("%s failed: %s\n%s", argv[1], error->message, err);
}

/* NAME.pem and NAME.key, self-signed (a CA when is_ca). */
static void
make_self_signed (const char *name, gboolean is_ca)
{
  g_autofree char *key = g_strconcat (name, ".key", NULL);
  g_autofree char *pem = g_strconcat (name, ".pem", NULL);
  g_autofree char *subject = g_strconcat ("/CN=", name, NULL);

  run_openssl ((const char *const[]) {
    "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
    "-nodes", "-days", "2", "-subj", subject, "-keyout", key, "-out", pem,
    "-addext", is_ca ? "basicConstraints=critical,CA:TRUE" : "basicConstraints=CA:FALSE",
    "-addext", is_ca ? "keyUsage=critical,keyCertSign,cRLSign"
                     : "subjectAltName=IP:127.0.0.1,DNS:localhost",
    NULL });
}

/* server.pem/server.key for 127.0.0.1, signed by ca. */
static void
make_server_certificate (void)
{
  g_autofree char *ext = cert_path ("server.ext");
  g_autoptr(GError) error = NULL;

  g_file_set_contents (ext, "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                            "basicConstraints=CA:FALSE\n"
                            "extendedKeyUsage=serverAuth\n", -1, &error);
  g_assert_no_error (error);
  run_openssl ((const char *const[]) {
    "openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-subj", "/CN=127.0.0.1", "-keyout", "server.key", "-out", "server.csr", NULL });
  run_openssl ((const char *const[]) {
    "openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
    "-CAcreateserial", "-days", "2", "-extfile", "server.ext", "-out", "server.pem", NULL });
}

/* The fingerprint openssl prints for a certificate: what the daemon must show. */
static char *
openssl_fingerprint (const char *name)
{
  g_autofree char *pem = g_strconcat (name, ".pem", NULL);
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;
  const char *argv[] = { "openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in", pem,
                         NULL };
  int status = 0;
  const char *equal;

  g_assert_true (g_spawn_sync (certs_dir, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                               &out, NULL, &status, &error));
  g_assert_no_error (error);
  equal = strchr (out, '=');
  g_assert_nonnull (equal);
  return g_strstrip (g_strdup (equal + 1));
}

static void
use_certificate (GKeyFile *config, const char *name)
{
  g_autofree char *pem = g_strconcat (certs_dir, "/", name, ".pem", NULL);
  g_autofree char *key = g_strconcat (certs_dir, "/", name, ".key", NULL);

  g_key_file_set_string (config, "tls", "certificate", pem);
  g_key_file_set_string (config, "tls", "key", key);
}

static void
configure_server_ca (GKeyFile *config)
{
  use_certificate (config, "server");
}

static void
configure_user_ca (TestUser *user)
{
  g_autofree char *ca = cert_path ("ca.pem");
  g_autoptr(GVariant) path = g_variant_ref_sink (g_variant_new_string (ca));
  g_autofree char *value = g_variant_print (path, FALSE);

  test_user_set_setting (user, "use-tls", "true");
  test_user_set_setting (user, "tls-ca-file", value);
}

static const DaemonFixtureOptions ca_options = {
  .configure_server = configure_server_ca,
  .configure_user = configure_user_ca,
};

/* The trust-on-first-use server shows self.pem (copied from self1 or self2,
 * so that the test can swap the certificate between starts). */
static void
configure_server_self (GKeyFile *config)
{
  use_certificate (config, "self");
}

static void
configure_user_tls (TestUser *user)
{
  test_user_set_setting (user, "use-tls", "true");
}

static const DaemonFixtureOptions tofu_options = {
  .configure_server = configure_server_self,
  .configure_user = configure_user_tls,
};

static void
install_self_certificate (const char *from)
{
  const char *ext[] = { ".pem", ".key" };

  for (guint i = 0; i < G_N_ELEMENTS (ext); i++)
    {
      g_autofree char *source = g_strconcat (certs_dir, "/", from, ext[i], NULL);
      g_autofree char *target = g_strconcat (certs_dir, "/self", ext[i], NULL);
      g_autofree char *contents = NULL;
      gsize length = 0;
      g_autoptr(GError) error = NULL;

      g_file_get_contents (source, &contents, &length, &error);
      g_assert_no_error (error);
      g_file_set_contents (target, contents, length, &error);
      g_assert_no_error (error);
    }
}

static JsonObject *
status_of (TestUser *user, JsonNode **root)
{
  *root = voipctl_json (user, "status", "--json");
  return test_json_object (*root);
}

static void
assert_tls_link (TestUser *user, const char *fingerprint)
{
  g_autoptr(JsonNode) root = NULL;
  JsonObject *status = status_of (user, &root);
  g_autofree char *human = NULL;

  g_assert_cmpstr (test_json_get_string (status, "state"), ==, "online");
  g_assert_true (test_json_get_bool (status, "tls"));
  g_assert_cmpstr (test_json_get_string (status, "tls_fingerprint"), ==, fingerprint);
  human = voipctl_ok (user, "status");
  g_assert_nonnull (strstr (human, fingerprint));
}

typedef struct {
  const char *state;
  const char *needles[3];
  char       *last;
} ReasonWait;

static gboolean
check_state_reason (TestUser *user, gpointer data)
{
  ReasonWait *wait = data;
  g_autoptr(JsonNode) root = voipctl_json (user, "status", "--json");
  JsonObject *status = test_json_object (root);
  const char *reason = test_json_get_string (status, "state_reason");

  g_free (wait->last);
  wait->last = g_strdup_printf ("%s: %s", test_json_get_string (status, "state"), reason);
  if (g_strcmp0 (test_json_get_string (status, "state"), wait->state) != 0)
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (wait->needles) && wait->needles[i]; i++)
    if (strstr (reason, wait->needles[i]) == NULL)
      return FALSE;
  return TRUE;
}

/* The file of the keyfile GSettings backend, where the pins are. */
static char *
settings_text (TestUser *user)
{
  const char *config_home = g_environ_getenv ((char **) test_user_get_environ (user),
                                              "XDG_CONFIG_HOME");
  g_autofree char *path = g_build_filename (config_home, "glib-2.0", "settings", "keyfile",
                                            NULL);
  char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return g_strdup ("");
  return text;
}

/* ---- tests -------------------------------------------------------------- */

/* Register (the fixture), message, log out and in, reconnect: all over TLS
 * with the test CA. */
static void
test_ca_file (DaemonFixture *f, gconstpointer data)
{
  g_autofree char *fingerprint = openssl_fingerprint ("server");

  assert_tls_link (f->alice, fingerprint);
  assert_tls_link (f->bob, fingerprint);

  test_user_befriend (f->alice, f->bob);
  daemon_send (f->alice, "bob", "over TLS");
  test_user_wait_message (f->bob, "alice", "over TLS");

  g_free (voipctl_ok (f->alice, "logout"));
  test_user_wait_state (f->alice, "offline");
  {
    g_autoptr(JsonNode) root = NULL;
    g_assert_false (test_json_get_bool (status_of (f->alice, &root), "tls"));
  }
  test_user_login (f->alice);
  assert_tls_link (f->alice, fingerprint);

  daemon_fixture_stop_server (f);
  test_user_wait_state (f->alice, "reconnecting");
  daemon_fixture_start_server (f);
  test_user_wait_state (f->alice, "online");
  test_user_wait_state (f->bob, "online");
  assert_tls_link (f->alice, fingerprint);
  daemon_send (f->bob, "alice", "after the restart, over TLS");
  test_user_wait_message (f->alice, "bob", "after the restart, over TLS");
}

/* A daemon that trusts another CA refuses the server: the Register fails
 * with the reason, and nothing is trusted on first use. */
static void
test_other_ca_refused (DaemonFixture *f, gconstpointer data)
{
  g_autoptr(TestUser) dave = test_user_new ("dave", TEST_USER_DEFAULT);
  g_autofree char *other = cert_path ("other-ca.pem");
  g_autoptr(GVariant) path = g_variant_ref_sink (g_variant_new_string (other));
  g_autofree char *value = g_variant_print (path, FALSE);
  g_autofree char *fingerprint = openssl_fingerprint ("server");
  g_autofree char *message = NULL;
  g_autofree char *settings = NULL;

  test_user_set_server (dave, f->address);
  test_user_set_setting (dave, "use-tls", "true");
  test_user_set_setting (dave, "tls-ca-file", value);
  test_user_start_daemon (dave);
  message = test_user_call_fails (dave, TEST_VOIPD_PATH, "Account", "Register",
                                  g_variant_new ("(ssss)", f->address, "dave",
                                                 "password-dave", ""),
                                  "org.voipd.Voip1.Error.Disconnected");
  g_assert_nonnull (strstr (message, fingerprint));
  g_assert_nonnull (strstr (message, other));
  settings = settings_text (dave);
  g_assert_null (strstr (settings, fingerprint));
  {
    g_autoptr(JsonNode) root = NULL;
    JsonObject *status = status_of (dave, &root);

    g_assert_cmpstr (test_json_get_string (status, "state"), ==, "offline");
    g_assert_false (test_json_get_bool (status, "tls"));
  }
}

/* Trust on first use, the pin, and a changed certificate refused. */
static void
test_trust_on_first_use (DaemonFixture *f, gconstpointer data)
{
  g_autofree char *first = openssl_fingerprint ("self1");
  g_autofree char *second = openssl_fingerprint ("self2");
  g_autofree char *settings = NULL;
  g_autofree char *message = NULL;
  ReasonWait wait = { .state = "offline", .needles = { first, second, NULL } };

  /* The fixture registered everyone over TLS: each pinned the certificate. */
  assert_tls_link (f->alice, first);
  settings = settings_text (f->alice);
  g_assert_nonnull (strstr (settings, "tls-pinned-certificates"));
  g_assert_nonnull (strstr (settings, f->address));
  g_assert_nonnull (strstr (settings, first));

  /* A restarted daemon resumes against the pin. */
  test_user_restart_daemon (f->alice);
  test_user_wait_state (f->alice, "online");
  assert_tls_link (f->alice, first);

  /* The server comes back with another certificate: refused, with both
   * fingerprints in the reason; the pin stays. */
  daemon_fixture_stop_server (f);
  install_self_certificate ("self2");
  daemon_fixture_start_server (f);
  if (!test_user_wait (f->alice, TEST_USER_WAIT_MS, check_state_reason, &wait))
    g_error ("alice never refused the changed certificate; last: %s", wait.last);
  g_free (wait.last);
  g_clear_pointer (&settings, g_free);
  settings = settings_text (f->alice);
  g_assert_nonnull (strstr (settings, first));
  g_assert_null (strstr (settings, second));

  /* A Login meets the same refusal, and changes nothing. */
  message = test_user_call_fails (f->alice, TEST_VOIPD_PATH, "Account", "Login",
                                  g_variant_new ("(sss)", f->address, "alice",
                                                 test_user_get_password (f->alice)),
                                  "org.voipd.Voip1.Error.Disconnected");
  g_assert_nonnull (strstr (message, first));
  g_assert_nonnull (strstr (message, second));
  {
    g_autoptr(JsonNode) root = NULL;
    JsonObject *status = status_of (f->alice, &root);

    g_assert_cmpstr (test_json_get_string (status, "state"), ==, "offline");
    g_assert_cmpstr (test_json_get_string (status, "username"), ==, "alice");
    g_assert_false (test_json_get_bool (status, "tls"));
  }
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  certs_dir = g_dir_make_tmp ("test-daemon-tls-XXXXXX", &error);
  g_assert_no_error (error);
  make_self_signed ("ca", TRUE);
  make_self_signed ("other-ca", TRUE);
  make_server_certificate ();
  make_self_signed ("self1", FALSE);
  make_self_signed ("self2", FALSE);
  install_self_certificate ("self1");

  daemon_test_add_with ("/daemon/tls/ca-file", test_ca_file, &ca_options);
  daemon_test_add_with ("/daemon/tls/other-ca-refused", test_other_ca_refused, &ca_options);
  daemon_test_add_with ("/daemon/tls/trust-on-first-use", test_trust_on_first_use,
                        &tofu_options);
  status = g_test_run ();
  if (g_getenv ("VOIP_TEST_KEEP") == NULL)
    {
      g_autoptr(GFile) dir = g_file_new_for_path (certs_dir);
      g_autoptr(GFileEnumerator) children = g_file_enumerate_children (
          dir, G_FILE_ATTRIBUTE_STANDARD_NAME, G_FILE_QUERY_INFO_NONE, NULL, NULL);
      GFileInfo *info;

      while (children && (info = g_file_enumerator_next_file (children, NULL, NULL)) != NULL)
        {
          g_autofree char *path = g_build_filename (certs_dir, g_file_info_get_name (info), NULL);
          g_remove (path);
          g_object_unref (info);
        }
      g_rmdir (certs_dir);
    }
  g_free (certs_dir);
  return status;
}
