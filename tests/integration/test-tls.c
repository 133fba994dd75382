/* test-tls.c — the server with a certificate and key from its config speaks
 * TLS: a TLS client registers and pings; a plain-TCP client gets nothing
 * it can read as a frame and is dropped; TLS 1.0 and 1.1 clients are refused
 * and TLS 1.2 and 1.3 ones served (RFC 8996), by the [tls] priority string,
 * which is honoured when set; the start-up log says whether TLS is on and
 * which certificate is served; a client that never starts its handshake is
 * closed after the login timeout. */
#include <string.h>

#include "test-server.h"
#include "voip-proto.h"

static gboolean
make_certificate (const char *dir, char **cert, char **key)
{
  g_autofree char *command = NULL;
  g_autoptr(GError) error = NULL;
  int status = 0;

  *cert = g_build_filename (dir, "cert.pem", NULL);
  *key = g_build_filename (dir, "key.pem", NULL);
  command = g_strdup_printf ("openssl req -x509 -newkey rsa:2048 -nodes -days 1 "
                             "-subj /CN=localhost -keyout %s -out %s", *key, *cert);
  return g_spawn_command_line_sync (command, NULL, NULL, &status, &error)
         && g_spawn_check_wait_status (status, NULL);
}

static gboolean
accept_any_certificate (GTlsConnection *connection, GTlsCertificate *certificate,
                        GTlsCertificateFlags errors, gpointer user_data)
{
  /* The test made a self-signed certificate; pin it instead of trusting a CA. */
  GTlsCertificate *expected = user_data;

  return g_tls_certificate_is_same (certificate, expected);
}

static GVariant *
request (GIOStream *stream, VoipFrameReader *reader, guint16 code, guint32 id,
         GVariant *payload, guint *status)
{
  g_autoptr(GBytes) frame = voip_frame_encode (VOIP_KIND_REQUEST, code, 0, id, payload);
  GOutputStream *out = g_io_stream_get_output_stream (stream);
  GInputStream *in = g_io_stream_get_input_stream (stream);
  g_autoptr(GError) error = NULL;
  guint8 buffer[4096];

  g_assert_true (g_output_stream_write_all (out, g_bytes_get_data (frame, NULL),
                                            g_bytes_get_size (frame), NULL, NULL, &error));
  g_assert_no_error (error);
  for (;;)
    {
      VoipHeader header;
      g_autoptr(GBytes) body = NULL;
      gssize n;

      while (voip_frame_reader_next (reader, &header, &body, &error))
        {
          if (header.kind == VOIP_KIND_REPLY && header.request_id == id)
            {
              *status = header.status;
              return voip_payload_decode (&header, body, &error);
            }
          g_clear_pointer (&body, g_bytes_unref);
        }
      g_assert_no_error (error);
      n = g_input_stream_read (in, buffer, sizeof buffer, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (n, >, 0);
      voip_frame_reader_feed (reader, buffer, n);
    }
}

static void
test_tls_session (void)
{
  g_autoptr(TestServer) server = test_server_new ();
  g_autofree char *cert = NULL;
  g_autofree char *key = NULL;
  g_autoptr(GTlsCertificate) expected = NULL;
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) tcp = NULL;
  g_autoptr(GIOStream) tls = NULL;
  g_autoptr(VoipFrameReader) reader = voip_frame_reader_new ();
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  const char *token;
  guint status = 999;

  if (!g_tls_backend_supports_tls (g_tls_backend_get_default ()))
    {
      g_test_skip ("no GIO TLS backend (install glib-networking)");
      return;
    }
  if (!make_certificate (test_server_get_dir (server), &cert, &key))
    {
      g_test_skip ("openssl could not make a test certificate");
      return;
    }
  g_key_file_set_string (test_server_get_config (server), "tls", "certificate", cert);
  g_key_file_set_string (test_server_get_config (server), "tls", "key", key);
  test_server_start (server);

  expected = g_tls_certificate_new_from_file (cert, &error);
  g_assert_no_error (error);
  tcp = g_socket_client_connect_to_host (client, "127.0.0.1", test_server_get_port (server),
                                         NULL, &error);
  g_assert_no_error (error);
  tls = g_tls_client_connection_new (G_IO_STREAM (tcp), NULL, &error);
  g_assert_no_error (error);
  g_signal_connect (tls, "accept-certificate", G_CALLBACK (accept_any_certificate), expected);
  g_assert_true (g_tls_connection_handshake (G_TLS_CONNECTION (tls), NULL, &error));
  g_assert_no_error (error);

  reply = request (tls, reader, VOIP_MSG_REGISTER, 1,
                   g_variant_new ("(sss)", "tlsuser", "secret-password", ""), &status);
  g_assert_cmpuint (status, ==, VOIP_STATUS_OK);
  g_variant_get (reply, "(&s&s)", NULL, &token);
  g_assert_cmpuint (strlen (token), ==, VOIP_TOKEN_LENGTH);
  g_clear_pointer (&reply, g_variant_unref);
  reply = request (tls, reader, VOIP_MSG_PING, 2, g_variant_new ("()"), &status);
  g_assert_cmpuint (status, ==, VOIP_STATUS_OK);
}

static void
test_plain_client_refused (void)
{
  g_autoptr(TestServer) server = test_server_new ();
  g_autofree char *cert = NULL;
  g_autofree char *key = NULL;
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) tcp = NULL;
  g_autoptr(GBytes) ping = voip_frame_encode (VOIP_KIND_REQUEST, VOIP_MSG_PING, 0, 1,
                                              g_variant_new ("()"));
  g_autoptr(GError) error = NULL;
  guint8 buffer[4096];
  gssize n;

  if (!g_tls_backend_supports_tls (g_tls_backend_get_default ())
      || !make_certificate (test_server_get_dir (server), &cert, &key))
    {
      g_test_skip ("no TLS backend or no openssl");
      return;
    }
  g_key_file_set_string (test_server_get_config (server), "tls", "certificate", cert);
  g_key_file_set_string (test_server_get_config (server), "tls", "key", key);
  test_server_start (server);

  tcp = g_socket_client_connect_to_host (client, "127.0.0.1", test_server_get_port (server),
                                         NULL, &error);
  g_assert_no_error (error);
  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (tcp)),
                             g_bytes_get_data (ping, NULL), g_bytes_get_size (ping),
                             NULL, NULL, NULL);
  /* The server expects a TLS ClientHello: whatever comes back is not a
   * voip frame, and the connection ends. */
  n = g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (tcp)), buffer,
                           sizeof buffer, NULL, NULL);
  g_assert_true (n <= 0 || buffer[0] != 0x13);
}

/* A client that connects and never starts its handshake is closed after the
 * login timeout, like a plain connection that never logs in: it does not
 * hold its socket for ever. */
static void
test_handshake_timeout (void)
{
  g_autoptr(TestServer) server = test_server_new ();
  g_autofree char *cert = NULL;
  g_autofree char *key = NULL;
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) tcp = NULL;
  g_autoptr(GError) error = NULL;
  guint8 buffer[64];
  gssize n;

  if (!g_tls_backend_supports_tls (g_tls_backend_get_default ())
      || !make_certificate (test_server_get_dir (server), &cert, &key))
    {
      g_test_skip ("no TLS backend or no openssl");
      return;
    }
  g_key_file_set_string (test_server_get_config (server), "tls", "certificate", cert);
  g_key_file_set_string (test_server_get_config (server), "tls", "key", key);
  g_key_file_set_integer (test_server_get_config (server), "server", "login-timeout", 1);
  test_server_start (server);

  /* Far longer than the login timeout: only a server that never closes
   * makes the read time out. */
  g_socket_client_set_timeout (client, 60);
  tcp = g_socket_client_connect_to_host (client, "127.0.0.1", test_server_get_port (server),
                                         NULL, &error);
  g_assert_no_error (error);
  n = g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (tcp)), buffer,
                           sizeof buffer, NULL, &error);
  if (error != NULL)
    g_assert_false (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT));
  else
    g_assert_cmpint (n, ==, 0);
}

/* Starts the server with a fresh self-signed certificate (and `priority`
 * unless NULL); FALSE (the test skipped) without TLS or openssl. The
 * certificate's path goes to *cert if cert is not NULL. */
static gboolean
start_tls_server (TestServer *server, const char *priority, char **cert)
{
  g_autofree char *cert_path = NULL;
  g_autofree char *key_path = NULL;

  if (!g_tls_backend_supports_tls (g_tls_backend_get_default ())
      || !make_certificate (test_server_get_dir (server), &cert_path, &key_path))
    {
      g_test_skip ("no TLS backend or no openssl");
      return FALSE;
    }
  g_key_file_set_string (test_server_get_config (server), "tls", "certificate", cert_path);
  g_key_file_set_string (test_server_get_config (server), "tls", "key", key_path);
  if (priority != NULL)
    g_key_file_set_string (test_server_get_config (server), "tls", "priority", priority);
  test_server_start (server);
  if (cert != NULL)
    *cert = g_steal_pointer (&cert_path);
  return TRUE;
}

/* Runs a command to its end; returns its stdout and stderr, *exit_status set. */
static char *
run (const char *const *argv, int *exit_status)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDIN_PIPE
                                                      | G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                                      | G_SUBPROCESS_FLAGS_STDERR_MERGE,
                                                      &error);
  char *output = NULL;

  g_assert_no_error (error);
  /* No input: the client ends once the handshake is over. */
  g_subprocess_communicate_utf8 (process, NULL, NULL, &output, NULL, &error);
  g_assert_no_error (error);
  *exit_status = g_subprocess_get_if_exited (process) ? g_subprocess_get_exit_status (process)
                                                     : -1;
  return output;
}

/* A TLS handshake by OpenSSL's client with only `version` (tls1, tls1_1, …)
 * enabled. SECLEVEL=0 lets the client offer TLS 1.0 and 1.1 at all: at
 * OpenSSL 3's default level it refuses them by itself, and the test would
 * pass whatever the server did. Returns the protocol agreed, or NULL if the
 * handshake failed. */
static char *
openssl_handshake (guint16 port, const char *version)
{
  g_autofree char *connect = g_strdup_printf ("127.0.0.1:%u", port);
  g_autofree char *flag = g_strdup_printf ("-%s", version);
  const char *argv[] = { "openssl", "s_client", "-connect", connect, flag,
                         "-cipher", "DEFAULT@SECLEVEL=0", "-brief", NULL };
  int status = -1;
  g_autofree char *output = run (argv, &status);
  const char *line = strstr (output, "Protocol version: ");

  g_test_message ("openssl s_client %s (exit %d):\n%s", flag, status, output);
  if (status != 0 || line == NULL)
    return NULL;
  line += strlen ("Protocol version: ");
  return g_strndup (line, strcspn (line, "\r\n"));
}

static void
test_tls_versions (void)
{
  g_autoptr(TestServer) server = test_server_new ();
  guint16 port;

  if (!start_tls_server (server, NULL, NULL))
    return;
  port = test_server_get_port (server);

  for (const char *const *old = (const char *[]) { "tls1", "tls1_1", NULL }; *old; old++)
    {
      g_autofree char *agreed = openssl_handshake (port, *old);

      g_assert_null (agreed);
    }
  {
    g_autofree char *agreed = openssl_handshake (port, "tls1_2");

    g_assert_cmpstr (agreed, ==, "TLSv1.2");
  }
  {
    g_autofree char *agreed = openssl_handshake (port, "tls1_3");

    g_assert_cmpstr (agreed, ==, "TLSv1.3");
  }
}

/* The configured priority is what the server applies: TLS 1.3 only here. */
static void
test_tls_priority (void)
{
  g_autoptr(TestServer) server = test_server_new ();
  g_autofree char *tls12 = NULL;
  g_autofree char *tls13 = NULL;
  g_autofree char *logged = NULL;

  if (!start_tls_server (server, "NORMAL:-VERS-ALL:+VERS-TLS1.3", NULL))
    return;
  tls12 = openssl_handshake (test_server_get_port (server), "tls1_2");
  g_assert_null (tls12);
  tls13 = openssl_handshake (test_server_get_port (server), "tls1_3");
  g_assert_cmpstr (tls13, ==, "TLSv1.3");
  logged = test_server_find_output (server, "TLS on:");
  g_assert_nonnull (logged);
  g_assert_nonnull (strstr (logged, "priority NORMAL:-VERS-ALL:+VERS-TLS1.3"));
}

/* The start-up log names the certificate by subject and SHA-256
 * fingerprint (as `openssl x509 -fingerprint -sha256` prints it), or says
 * that TLS is off. */
static void
test_tls_startup_log (void)
{
  g_autoptr(TestServer) server = test_server_new ();
  g_autoptr(TestServer) plain = test_server_new_started ();
  g_autofree char *cert = NULL;
  g_autofree char *logged = NULL;
  g_autofree char *off = NULL;
  g_autofree char *x509 = NULL;
  const char *fingerprint;
  int status = -1;

  off = test_server_find_output (plain, "TLS off");
  g_assert_nonnull (off);
  g_assert_null (test_server_find_output (plain, "TLS on"));

  if (!start_tls_server (server, NULL, &cert))
    return;
  g_assert_null (test_server_find_output (server, "TLS off"));
  logged = test_server_find_output (server, "TLS on:");
  g_assert_nonnull (logged);
  g_assert_nonnull (strstr (logged, "subject CN=localhost,"));

  x509 = run ((const char *[]) { "openssl", "x509", "-noout", "-fingerprint", "-sha256",
                                 "-in", cert, NULL }, &status);
  g_assert_cmpint (status, ==, 0);
  fingerprint = strchr (x509, '=');
  g_assert_nonnull (fingerprint);
  g_strchomp ((char *) ++fingerprint);
  g_assert_cmpuint (strlen (fingerprint), ==, 32 * 3 - 1);
  g_assert_nonnull (strstr (logged, fingerprint));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tls/session", test_tls_session);
  g_test_add_func ("/tls/plain-client-refused", test_plain_client_refused);
  g_test_add_func ("/tls/handshake-timeout", test_handshake_timeout);
  g_test_add_func ("/tls/versions", test_tls_versions);
  g_test_add_func ("/tls/priority", test_tls_priority);
  g_test_add_func ("/tls/startup-log", test_tls_startup_log);
  return g_test_run ();
}
