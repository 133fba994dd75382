/* test-tls.c — the server with a certificate and key from its config speaks
 * TLS: a TLS client registers and pings; a plain-TCP client gets nothing
 * it can read as a frame and is dropped. */
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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tls/session", test_tls_session);
  g_test_add_func ("/tls/plain-client-refused", test_plain_client_refused);
  return g_test_run ();
}
