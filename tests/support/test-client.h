/* test-client.h — a small synchronous protocol client for tests, the
 * benchmark and the demo.
 *
 * One TestClient is one TCP connection to 127.0.0.1:port. Requests block
 * until their reply arrives (or a timeout, 10 s by default); events that
 * arrive meanwhile are queued and taken out by code with
 * test_client_wait_event(). Every frame the server sends is checked against
 * the catalogue with voip_payload_decode(): a payload of the wrong type is a
 * GError (or, in the asserting helpers, a test failure).
 */
#pragma once

#include <gio/gio.h>

#include "voip-proto.h"

G_BEGIN_DECLS

typedef struct _TestClient TestClient;

/* A frame the server sent: header and decoded payload. */
typedef struct {
  VoipHeader  header;
  GVariant   *payload;
} TestFrame;

void        test_frame_free (TestFrame *frame);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TestFrame, test_frame_free)

#define TEST_CLIENT_DEFAULT_TIMEOUT_MS 10000

/* ---- connection ------------------------------------------------------- */

TestClient *test_client_new          (guint16 port, GError **error);
/* Like test_client_new(), but a connection failure fails the test. */
TestClient *test_client_connect      (guint16 port);
/* Connections to port go to twin_port every other time (a two-node
 * cluster behind the integration tests: test-server.c). */
void        test_client_set_twin_port (guint16 port, guint16 twin_port);
void        test_client_free         (TestClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TestClient, test_client_free)

void        test_client_set_timeout  (TestClient *client, guint timeout_ms);
/* Closes our end of the connection now. */
void        test_client_close        (TestClient *client);

/* Account of a logged-in client, as remembered by the helpers below. */
const char *test_client_get_username (TestClient *client);
const char *test_client_get_password (TestClient *client);
const char *test_client_get_token    (TestClient *client);
guint16     test_client_get_port     (TestClient *client);

/* ---- requests --------------------------------------------------------- */

/* Sends a request without waiting; returns its request id. payload may be
 * floating. */
guint32     test_client_send_request (TestClient *client, guint16 code, GVariant *payload,
                                      GError **error);
/* Waits for the reply to an earlier request; returns its payload ("(s)" when
 * the status is not OK) and the status in status_out. */
GVariant   *test_client_wait_reply   (TestClient *client, guint32 request_id,
                                      guint *status_out, GError **error);
/* Both of the above. */
GVariant   *test_client_request      (TestClient *client, guint16 code, GVariant *payload,
                                      guint *status_out, GError **error);

/* A request that must be answered with expected_status; a transport error or
 * another status fails the test (with the server's detail in the message).
 * Returns the reply payload. */
GVariant   *test_client_call_full    (TestClient *client, guint16 code, GVariant *payload,
                                      guint expected_status,
                                      const char *file, int line, const char *func);

#define test_client_call(client, code, payload) \
  test_client_call_full ((client), (code), (payload), VOIP_STATUS_OK, \
                         __FILE__, __LINE__, G_STRFUNC)
/* The request must fail with `status`; the "(s)" detail is dropped. */
#define test_client_call_fails(client, code, payload, status) \
  g_variant_unref (test_client_call_full ((client), (code), (payload), (status), \
                                          __FILE__, __LINE__, G_STRFUNC))
/* The request must succeed; the reply payload is dropped. */
#define test_client_call_ok(client, code, payload) \
  g_variant_unref (test_client_call_full ((client), (code), (payload), VOIP_STATUS_OK, \
                                          __FILE__, __LINE__, G_STRFUNC))

/* A Ping round trip. Because the server answers in order and writes a
 * connection's frames in order, every event queued for this connection
 * before the Ping was read has arrived once this returns. */
gboolean    test_client_ping         (TestClient *client, GError **error);
#define test_client_assert_ping(client) \
  G_STMT_START { g_autoptr(GError) ping_error_ = NULL; \
    if (!test_client_ping ((client), &ping_error_)) \
      g_error ("Ping failed: %s", ping_error_->message); } G_STMT_END

/* ---- events ----------------------------------------------------------- */

/* The next event of that code, queued or arriving within timeout_ms; NULL
 * when none came. Events of other codes stay queued. */
GVariant   *test_client_wait_event   (TestClient *client, guint16 code, guint timeout_ms);
/* Like test_client_wait_event() with the client's timeout, and a missing
 * event fails the test. */
GVariant   *test_client_expect_event_full (TestClient *client, guint16 code,
                                           const char *file, int line, const char *func);
#define test_client_expect_event(client, code) \
  test_client_expect_event_full ((client), (code), __FILE__, __LINE__, G_STRFUNC)

/* Fails the test if an event of that code is queued, or arrives within ms,
 * or before the reply of a Ping sent after that (see test_client_ping). */
void        test_client_assert_no_event_full (TestClient *client, guint16 code, guint ms,
                                              const char *file, int line, const char *func);
#define test_client_assert_no_event(client, code, ms) \
  test_client_assert_no_event_full ((client), (code), (ms), __FILE__, __LINE__, G_STRFUNC)

/* Pings (so that pending events arrive) and forgets every queued event. */
void        test_client_flush_events (TestClient *client);
guint       test_client_count_events (TestClient *client, guint16 code);

/* ---- raw bytes and connection state ----------------------------------- */

gboolean    test_client_send_raw     (TestClient *client, const void *data, gsize len,
                                      GError **error);
/* While corked, whatever the client sends (requests, raw bytes) is held and
 * leaves in one write at test_client_uncork(): pipelined requests that the
 * server reads at once. */
void        test_client_cork         (TestClient *client);
gboolean    test_client_uncork       (TestClient *client, GError **error);
/* A frame with an arbitrary header and payload bytes (not checked). */
gboolean    test_client_send_frame_raw (TestClient *client, guint8 kind, guint16 code,
                                        guint32 request_id, const void *payload, gsize len,
                                        GError **error);
/* Reads (queueing events, keeping replies) until the server closes the
 * connection; TRUE if it did within timeout_ms. */
gboolean    test_client_wait_closed  (TestClient *client, guint timeout_ms);
gboolean    test_client_is_closed    (TestClient *client);
/* TRUE once the server has ended the connection (FIN or reset), even with
 * frames still unread before the end: asks the kernel, reads nothing. */
gboolean    test_client_peer_hung_up (TestClient *client);
/* Fixes the socket's receive buffer (no more autotuning) and returns the
 * size the kernel granted: for tests that must know how much a client that
 * does not read can absorb. */
gsize       test_client_set_receive_buffer (TestClient *client, gsize bytes);
/* The next frame, reply or event, in the order of arrival, within the
 * client's timeout; NULL with an error on timeout or close. The frame is
 * not filed: for tests of ordering, on a client with nothing queued. */
TestFrame  *test_client_next_frame   (TestClient *client, GError **error);

/* The server must close the connection within the client's timeout, after a
 * SessionClosed event with `reason` (when event_required; otherwise such an
 * event, if any, must carry `reason`). */
void        test_client_expect_closed_full (TestClient *client, guint reason,
                                            gboolean event_required,
                                            const char *file, int line, const char *func);
#define test_client_expect_closed(client, reason) \
  test_client_expect_closed_full ((client), (reason), TRUE, __FILE__, __LINE__, G_STRFUNC)
#define test_client_expect_closed_maybe_event(client, reason) \
  test_client_expect_closed_full ((client), (reason), FALSE, __FILE__, __LINE__, G_STRFUNC)

/* ---- accounts and friends --------------------------------------------- */

/* The password the helpers give a user: "password-" + username. */
char       *test_password_for        (const char *username);

/* A new connection that registers `username` (must succeed). */
TestClient *test_client_new_registered (guint16 port, const char *username);
/* A new connection that logs in (must succeed): another session of a user. */
TestClient *test_client_new_logged_in  (guint16 port, const char *username,
                                        const char *password);
/* Another session of the same user as `client`, logged in with its password. */
TestClient *test_client_new_session    (TestClient *client);

/* a asks b, b accepts; then both flush their events. */
void        test_befriend            (TestClient *a, TestClient *b);

/* Sends a text to a friend (group 0) or a group (recipient NULL) and
 * returns the message id; asserts success. */
guint64     test_send_text           (TestClient *client, const char *recipient,
                                      guint64 group, const char *client_id, const char *text);

/* A unique client_id for a message. */
char       *test_new_client_id       (void);

/* ---- media ------------------------------------------------------------ */

/* A valid 1×1 PNG of at least min_size bytes (padded with a private
 * ancillary chunk), as a floating "ay". */
GVariant   *test_png_new             (gsize min_size);
/* The smallest thing the server accepts as Ogg Opus: an Ogg page header
 * ("OggS") whose first 512 bytes hold "OpusHead", `size` bytes (≥ 47) in
 * all, as a floating "ay". */
GVariant   *test_ogg_opus_new        (gsize size);

/* The texts of every message in the user's conversations, by one Sync from
 * seq 0 (at most 500; asserts there are no more). */
GPtrArray  *test_client_sync_texts   (TestClient *client);

G_END_DECLS
