/* test-server-parts.c — the server's pieces that need no network: config
 * parsing, the TLS priority check, login rate limits, the online registry,
 * and the dispatch table. */
#include <glib/gstdio.h>

#include "server-config.h"
#include "server-dispatch.h"
#include "server-password.h"
#include "server-rate-limit.h"
#include "server-registry.h"
#include "server-tls.h"

static char *
write_config (const char *text)
{
  g_autoptr(GError) error = NULL;
  char *path = NULL;
  int fd = g_file_open_tmp ("voip-config-XXXXXX.conf", &path, &error);

  g_assert_no_error (error);
  close (fd);
  g_assert_true (g_file_set_contents (path, text, -1, &error));
  return path;
}

static void
test_config_defaults_and_load (void)
{
  g_autoptr(ServerConfig) config = server_config_new_default ();
  g_autofree char *path = write_config (
      "[server]\nlisten=127.0.0.1:0\nidle-timeout=5\nmax-output-queue=1048576\n"
      "[security]\npassword-hash=minimum\nlogin-attempts-per-ip=100\n");
  g_autoptr(GError) error = NULL;

  g_assert_cmpuint (config->login_timeout_s, ==, 10);
  g_assert_cmpuint (config->idle_timeout_s, ==, 90);
  g_assert_cmpint (config->hash_cost, ==, SERVER_HASH_INTERACTIVE);

  g_assert_true (server_config_load (config, path, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (config->listen, ==, "127.0.0.1:0");
  g_assert_cmpuint (config->idle_timeout_s, ==, 5);
  g_assert_cmpuint (config->max_output_queue, ==, 1048576);
  g_assert_cmpint (config->hash_cost, ==, SERVER_HASH_MINIMUM);
  g_assert_cmpfloat (config->login_attempts_per_ip, ==, 100);
  g_assert_true (server_config_validate (config, &error));
  g_unlink (path);
}

static void
test_config_rejects (void)
{
  static const char *const bad[] = {
    "[server]\nidle-timout=5\n",             /* a typo is an error, not a default */
    "[server]\nidle-timeout=soon\n",
    "[server]\nidle-timeout=0\n",
    "[server]\nlogin-timeout=1.5\n",
    "[security]\npassword-hash=none\n",
    "[nonsense]\nkey=1\n",
    "not a key file",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(ServerConfig) config = server_config_new_default ();
      g_autofree char *path = write_config (bad[i]);
      g_autoptr(GError) error = NULL;

      g_assert_false (server_config_load (config, path, &error));
      g_assert_nonnull (error);
      g_assert_nonnull (strstr (error->message, path));
      /* Nothing of a refused file is half-applied to what matters. */
      g_assert_cmpuint (config->idle_timeout_s, ==, 90);
      g_unlink (path);
    }

  {
    g_autoptr(ServerConfig) config = server_config_new_default ();
    g_autoptr(GError) error = NULL;

    config->tls_certificate = g_strdup ("/etc/cert.pem");
    g_assert_false (server_config_validate (config, &error));
  }
}

/* [store] url picks PostgreSQL; only a libpq URI is accepted, and without
 * it the store is the SQLite file. */
static void
test_config_store (void)
{
  static const char *const bad[] = { "", "/var/lib/voip/server.db", "mysql://db/voip" };
  g_autoptr(ServerConfig) config = server_config_new_default ();
  g_autofree char *path = write_config ("[store]\nurl=postgresql:///voip?host=/run/postgresql\n");
  g_autoptr(GError) error = NULL;

  g_assert_cmpstr (server_config_store_location (config), ==, config->database);
  g_assert_true (server_config_load (config, path, &error));
  g_assert_no_error (error);
  g_assert_true (server_config_validate (config, &error));
  g_assert_cmpstr (server_config_store_location (config), ==,
                   "postgresql:///voip?host=/run/postgresql");
  g_unlink (path);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(ServerConfig) other = server_config_new_default ();

      other->store_url = g_strdup (bad[i]);
      g_assert_false (server_config_validate (other, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);
    }
}

/* [tls] priority: TLS 1.2 and later by default; a string GnuTLS cannot
 * parse, or one that lets TLS 1.0 or 1.1 in (RFC 8996) or leaves no TLS
 * version at all, is refused before anything is set up. */
static void
test_tls_priority (void)
{
  static const char *const bad[] = {
    "",
    "NORMAL:%NO_SUCH_KEYWORD",
    "NORMAL",                                     /* GnuTLS's defaults still have TLS 1.0 */
    "NORMAL:-VERS-ALL:+VERS-TLS1.2:+VERS-TLS1.1",
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.0",
    "NORMAL:-VERS-ALL:+VERS-DTLS1.2",            /* no TLS over TCP */
  };
  g_autoptr(ServerConfig) config = server_config_new_default ();
  g_autofree char *path = write_config ("[tls]\npriority=NORMAL:-VERS-ALL:+VERS-TLS1.3\n");
  g_autofree char *inherited = g_strdup (g_getenv ("G_TLS_GNUTLS_PRIORITY"));
  g_autoptr(GError) error = NULL;

  g_assert_cmpstr (config->tls_priority, ==, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2");
  g_assert_true (server_config_load (config, path, &error));
  g_assert_cmpstr (config->tls_priority, ==, "NORMAL:-VERS-ALL:+VERS-TLS1.3");
  g_unlink (path);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(ServerTls) tls = server_tls_new ("/nonexistent/cert.pem", "/nonexistent/key.pem",
                                                 bad[i], &error);

      g_assert_null (tls);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, "priority"));
      /* Nothing reached GIO's TLS backend. */
      g_assert_cmpstr (g_getenv ("G_TLS_GNUTLS_PRIORITY"), ==, inherited);
      g_clear_error (&error);
    }

  /* The default passes the check: what fails next is the missing certificate. */
  {
    g_autoptr(ServerConfig) defaults = server_config_new_default ();
    g_autoptr(ServerTls) tls = server_tls_new ("/nonexistent/cert.pem", "/nonexistent/key.pem",
                                               defaults->tls_priority, &error);

    g_assert_null (tls);
    g_assert_nonnull (error);
    g_assert_null (strstr (error->message, "priority"));
    g_assert_cmpstr (g_getenv ("G_TLS_GNUTLS_PRIORITY"), ==, inherited);
  }
}

static void
test_rate_limit (void)
{
  g_autoptr(ServerRateLimit) limit = server_rate_limit_new (3, 0.001);

  g_assert_true (server_rate_limit_check (limit, "a"));
  g_assert_cmpuint (server_rate_limit_size (limit), ==, 0);   /* checking costs nothing */
  for (int i = 0; i < 3; i++)
    g_assert_true (server_rate_limit_take (limit, "a"));
  g_assert_false (server_rate_limit_take (limit, "a"));
  g_assert_false (server_rate_limit_check (limit, "a"));
  g_assert_true (server_rate_limit_take (limit, "b"));       /* keys are independent */
  server_rate_limit_prune (limit);
  g_assert_cmpuint (server_rate_limit_size (limit), ==, 2);  /* neither has refilled */
}

static void
test_rate_limit_refills (void)
{
  g_autoptr(ServerRateLimit) limit = server_rate_limit_new (1, 1000);  /* one per ms */

  g_assert_true (server_rate_limit_take (limit, "a"));
  g_usleep (5000);
  g_assert_true (server_rate_limit_take (limit, "a"));
  g_usleep (5000);
  server_rate_limit_prune (limit);
  g_assert_cmpuint (server_rate_limit_size (limit), ==, 0);
}

static void
test_tokens (void)
{
  g_autofree char *a = server_token_new ();
  g_autofree char *b = server_token_new ();
  g_autofree char *hash = server_token_hash (a);

  g_assert_cmpuint (strlen (a), ==, 64);
  g_assert_cmpstr (a, !=, b);
  g_assert_cmpuint (strlen (hash), ==, 64);
  g_assert_cmpstr (hash, !=, a);
}

static void
test_dispatch_complete (void)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (server_dispatch_is_complete (&error));
  g_assert_no_error (error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/server/config/load", test_config_defaults_and_load);
  g_test_add_func ("/server/config/rejects", test_config_rejects);
  g_test_add_func ("/server/config/store", test_config_store);
  g_test_add_func ("/server/tls/priority", test_tls_priority);
  g_test_add_func ("/server/rate-limit/buckets", test_rate_limit);
  g_test_add_func ("/server/rate-limit/refill", test_rate_limit_refills);
  g_test_add_func ("/server/tokens", test_tokens);
  g_test_add_func ("/server/dispatch/complete", test_dispatch_complete);
  return g_test_run ();
}
