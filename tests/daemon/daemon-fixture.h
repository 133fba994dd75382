/* daemon-fixture.h — what every daemon test starts from: a real voip-server
 * behind a relay (so that its address stays the same across restarts), and
 * three desktop users, alice, bob and carol, each with a private session bus,
 * an unlocked keyring and a running voipd, registered and online. Nobody is
 * anybody's friend yet. */
#pragma once

#include "test-relay.h"
#include "test-server.h"
#include "test-user.h"

G_BEGIN_DECLS

/* What a test may change before anything starts (the data of
 * daemon_test_add_with). */
typedef struct {
  void (*configure_server) (GKeyFile *config);   /* the server's configuration; may be NULL */
  void (*configure_user)   (TestUser *user);     /* each user's settings; may be NULL */
} DaemonFixtureOptions;

typedef struct {
  const DaemonFixtureOptions *options;
  TestServer *server;
  TestRelay  *relay;
  char       *address;   /* 127.0.0.1:PORT of the relay: what the daemons use */
  TestUser   *alice;
  TestUser   *bob;
  TestUser   *carol;
} DaemonFixture;

/* data: NULL, or a DaemonFixtureOptions. */
void      daemon_fixture_setup       (DaemonFixture *f, gconstpointer data);
void      daemon_fixture_teardown    (DaemonFixture *f, gconstpointer data);

/* A user of this server with fast reconnection settings (and those of the
 * fixture's options) and a running daemon; not registered. */
TestUser *daemon_fixture_new_user    (DaemonFixture *f, const char *name, TestUserFlags flags);

/* SIGTERM to the server (it must exit), and the relay refuses connections. */
void      daemon_fixture_stop_server (DaemonFixture *f);
/* Starts the server again on the same database; the relay forwards to it. */
void      daemon_fixture_start_server (DaemonFixture *f);

/* Adds a test to run with the fixture. */
#define daemon_test_add(path, func) \
  g_test_add ((path), DaemonFixture, NULL, daemon_fixture_setup, (func), daemon_fixture_teardown)
#define daemon_test_add_with(path, func, options) \
  g_test_add ((path), DaemonFixture, (options), daemon_fixture_setup, (func), \
              daemon_fixture_teardown)

/* Sends TEXT to a conversation ("USER" or "--group ID") and returns the id
 * voipctl printed; fails the test unless it printed a positive id. */
guint64   daemon_send_at (const char *file, int line, TestUser *user,
                          const char *conversation, const char *text);
#define   daemon_send(user, conversation, text) \
  daemon_send_at (__FILE__, __LINE__, (user), (conversation), (text))

/* How many messages of a history (JSON array) have this text. */
guint     daemon_count_text (JsonArray *history, const char *text);

G_END_DECLS
