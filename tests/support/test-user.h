/* test-user.h — a simulated desktop user for the daemon tests.
 *
 * A TestUser is one person at one desktop: a temporary HOME with its own
 * XDG_DATA_HOME, XDG_CONFIG_HOME, XDG_CACHE_HOME and XDG_RUNTIME_DIR (0700),
 * a private session bus (dbus-daemon, its socket at $XDG_RUNTIME_DIR/bus,
 * no service activation), optionally an unlocked gnome-keyring-daemon on that
 * bus, and a voipd (the binary in $VOIPD) started in that environment with
 * GSETTINGS_BACKEND=keyfile (settings persist in XDG_CONFIG_HOME) and the
 * schemas of $GSETTINGS_SCHEMA_DIR. voipctl ($VOIPCTL) and other commands run
 * in the same environment.
 *
 * Every child runs with fatal-criticals added to G_DEBUG. A daemon or voipctl
 * that crashes, prints a sanitizer report or a critical, or (daemon, monitor)
 * does not exit with status 0 when told to stop fails the test
 * (tests/support/test-process.h).
 *
 * Every child dies with the test process (PR_SET_PDEATHSIG), and nothing here
 * sleeps for a fixed time to let something happen: waits poll for a
 * condition, with a generous timeout, and a condition that never comes fails
 * the test with what was seen last.
 *
 * The user's password is "password-" + name.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _TestUser TestUser;

typedef enum {
  TEST_USER_DEFAULT    = 0,
  TEST_USER_NO_KEYRING = 1 << 0,   /* no secret service on the bus at all */
} TestUserFlags;

/* How long the waits below wait by default, and how long a command may run. */
#define TEST_USER_WAIT_MS    60000
#define TEST_USER_COMMAND_MS 60000

/* ---- the desktop -------------------------------------------------------- */

/* Directories, the session bus and (unless TEST_USER_NO_KEYRING) the keyring;
 * the daemon is not started. */
TestUser        *test_user_new             (const char *name, TestUserFlags flags);
/* Stops everything (the daemon with SIGTERM, its exit checked as by
 * test_user_stop_daemon) and removes the directories (kept with
 * VOIP_TEST_KEEP). */
void             test_user_free            (TestUser *user);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TestUser, test_user_free)

const char      *test_user_get_name        (TestUser *user);
const char      *test_user_get_password    (TestUser *user);
void             test_user_set_password    (TestUser *user, const char *password);
const char      *test_user_get_home        (TestUser *user);
/* The environment of every child: copy or use as is. */
const char *const *test_user_get_environ   (TestUser *user);
/* Sets a variable in the environment of the children started from now on. */
void             test_user_setenv          (TestUser *user, const char *variable,
                                            const char *value);
/* A connection of the test to the user's session bus. */
GDBusConnection *test_user_get_bus         (TestUser *user);

/* The server the helpers below log in to, as HOST:PORT. */
void             test_user_set_server      (TestUser *user, const char *server);
const char      *test_user_get_server      (TestUser *user);

/* Writes a key of the org.voipd.Voip1 schema into the keyfile backend's file
 * (XDG_CONFIG_HOME/glib-2.0/settings/keyfile), in GVariant text form; the
 * daemon reads it at its next start. */
void             test_user_set_setting     (TestUser *user, const char *key, const char *value);

/* ---- the daemon --------------------------------------------------------- */

/* Runs the next voipd in network namespace `netns` (through `ip netns exec`;
 * root only; NULL: the test's own). Only voipd moves: the bus, the keyring and
 * commands stay with the test, and unix sockets reach across namespaces. For
 * the NAT tests. */
void             test_user_set_daemon_netns (TestUser *user, const char *netns);
/* Starts voipd and waits until it owns org.voipd.Voip1; its stderr goes to
 * ours, each line prefixed with "[voipd NAME]". */
void             test_user_start_daemon    (TestUser *user);
/* SIGTERM; the daemon must exit with status 0 within TEST_PROCESS_STOP_MS,
 * and its name leave the bus. */
void             test_user_stop_daemon     (TestUser *user);
/* SIGKILL, for the tests of crashes (what it printed before is checked). */
void             test_user_kill_daemon     (TestUser *user);
void             test_user_restart_daemon  (TestUser *user);
gboolean         test_user_daemon_running  (TestUser *user);
/* 0 when not running. */
GPid             test_user_get_daemon_pid  (TestUser *user);

/* ---- commands ----------------------------------------------------------- */

typedef struct {
  char     *command;     /* for messages: the argv, joined */
  int       exit_status; /* -1 if killed by a signal */
  char     *out;
  char     *err;
} TestRun;

void     test_run_free (TestRun *run);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TestRun, test_run_free)

/* Runs argv (argv[0] looked up in PATH) in the user's environment with
 * `input` on stdin (NULL: empty), and collects its output. A command still
 * running after TEST_USER_COMMAND_MS is killed and fails the test. */
TestRun *test_user_run  (TestUser *user, const char *input, const char *const *argv);
/* The same for voipctl with these arguments (NULL-terminated). */
TestRun *test_user_voipctlv (TestUser *user, const char *input, const char *first_arg, ...)
  G_GNUC_NULL_TERMINATED;

/* Asserting forms, with the caller's position in the failure message.
 *   voipctl_ok (user, ARGS...)          exit 0; returns stdout (free it)
 *   voipctl_json (user, ARGS...)        exit 0 and stdout is one JSON document;
 *                                        returns it (json_node_unref it)
 *   voipctl_fails (user, ARGS...)       exit status not 0 and a message on
 *                                        stderr; returns stderr (free it)
 *   voipctl_input_ok (user, INPUT, ARGS...)  voipctl_ok with INPUT on stdin
 */
char     *test_user_voipctl_ok_at    (const char *file, int line, TestUser *user,
                                      const char *input, const char *first_arg, ...)
  G_GNUC_NULL_TERMINATED;
JsonNode *test_user_voipctl_json_at  (const char *file, int line, TestUser *user,
                                      const char *first_arg, ...) G_GNUC_NULL_TERMINATED;
char     *test_user_voipctl_fails_at (const char *file, int line, TestUser *user,
                                      const char *input, const char *first_arg, ...)
  G_GNUC_NULL_TERMINATED;

#define voipctl_ok(user, ...) \
  test_user_voipctl_ok_at (__FILE__, __LINE__, (user), NULL, __VA_ARGS__, NULL)
#define voipctl_input_ok(user, input, ...) \
  test_user_voipctl_ok_at (__FILE__, __LINE__, (user), (input), __VA_ARGS__, NULL)
#define voipctl_json(user, ...) \
  test_user_voipctl_json_at (__FILE__, __LINE__, (user), __VA_ARGS__, NULL)
#define voipctl_fails(user, ...) \
  test_user_voipctl_fails_at (__FILE__, __LINE__, (user), NULL, __VA_ARGS__, NULL)
#define voipctl_input_fails(user, input, ...) \
  test_user_voipctl_fails_at (__FILE__, __LINE__, (user), (input), __VA_ARGS__, NULL)

/* ---- JSON --------------------------------------------------------------- */

/* The list in a listing: the root array, or the only array member of a root
 * object (e.g. {"contacts": [...]}). Fails the test otherwise. */
JsonArray   *test_json_list        (JsonNode *root);
/* The root object. */
JsonObject  *test_json_object      (JsonNode *root);
/* The element of `list` whose string member `key` is `value`, or NULL. */
JsonObject  *test_json_find        (JsonArray *list, const char *key, const char *value);
/* The element whose integer member `key` is `value`, or NULL. */
JsonObject  *test_json_find_int    (JsonArray *list, const char *key, gint64 value);
/* Members with a type check that fails the test with the object printed. */
const char  *test_json_get_string  (JsonObject *object, const char *key);
gint64       test_json_get_int     (JsonObject *object, const char *key);
gboolean     test_json_get_bool    (JsonObject *object, const char *key);
JsonArray   *test_json_get_array   (JsonObject *object, const char *key);
char        *test_json_to_string   (JsonNode *node);
/* The strings of a JSON array of strings, as a NULL-terminated vector. */
GStrv        test_json_strv        (JsonArray *array);

/* ---- waiting ------------------------------------------------------------ */

/* Calls check every 100 ms (iterating the default main context meanwhile, so
 * that D-Bus signals are dispatched) until it returns TRUE or timeout_ms
 * have passed; returns whether it did. */
typedef gboolean (*TestUserCheck) (TestUser *user, gpointer data);
gboolean test_user_wait    (TestUser *user, guint timeout_ms, TestUserCheck check, gpointer data);
/* Iterates the default main context for about ms: a pause in which events
 * may arrive, never the thing a test asserts on. */
void     test_iterate_for  (guint ms);

/* `voipctl status --json` says this state (within TEST_USER_WAIT_MS). */
void     test_user_wait_state_at (const char *file, int line, TestUser *user, const char *state);
#define  test_user_wait_state(user, state) \
  test_user_wait_state_at (__FILE__, __LINE__, (user), (state))

/* `voipctl contacts --json` lists `username` with `key` (a string member) equal
 * to `value`; value NULL: does not list `username` at all. */
void     test_user_wait_contact_at (const char *file, int line, TestUser *user,
                                    const char *username, const char *key, const char *value);
#define  test_user_wait_contact(user, username, key, value) \
  test_user_wait_contact_at (__FILE__, __LINE__, (user), (username), (key), (value))

/* `voipctl history PEER --json` (conversation "PEER", or "--group ID")
 * holds a message with this text (value NULL: holds none). Returns the
 * message object's id. */
guint64  test_user_wait_message_at (const char *file, int line, TestUser *user,
                                    const char *conversation, const char *text,
                                    gboolean present);
#define  test_user_wait_message(user, conversation, text) \
  test_user_wait_message_at (__FILE__, __LINE__, (user), (conversation), (text), TRUE)
#define  test_user_wait_no_message(user, conversation, text) \
  test_user_wait_message_at (__FILE__, __LINE__, (user), (conversation), (text), FALSE)

/* The history as a JSON array (a new reference); conversation as above. */
JsonArray *test_user_history (TestUser *user, const char *conversation, guint limit);

/* ---- accounts ----------------------------------------------------------- */

/* voipctl register --server SERVER NAME --password-stdin; then online. */
void     test_user_register (TestUser *user);
/* voipctl login --server SERVER NAME --password-stdin; then online. */
void     test_user_login    (TestUser *user);
/* a asks b, b accepts, and both list the other as a friend. */
void     test_user_befriend (TestUser *a, TestUser *b);

/* ---- D-Bus -------------------------------------------------------------- */

#define TEST_VOIPD_BUS_NAME "org.voipd.Voip1"
#define TEST_VOIPD_PATH     "/org/voipd/Voip1"

/* "/org/voipd/Voip1/contact/<escaped username>" */
char     *test_contact_path (const char *username);
/* A method call to voipd (interface "org.voipd.Voip1.<interface>"), 30 s at
 * most; the reply or NULL with the D-Bus error. */
GVariant *test_user_call    (TestUser *user, const char *path, const char *interface,
                             const char *method, GVariant *parameters, GError **error);
/* A property of voipd's object, read with Properties.Get; NULL if the call fails. */
GVariant *test_user_get_property (TestUser *user, const char *path, const char *interface,
                                  const char *property);
/* The call must fail with the D-Bus error `error_name`, or, if error_name
 * ends in '*', with a name starting with the rest. Returns the message. */
char     *test_user_call_fails_at (const char *file, int line, TestUser *user,
                                   const char *path, const char *interface,
                                   const char *method, GVariant *parameters,
                                   const char *error_name);
#define  test_user_call_fails(user, path, interface, method, parameters, error_name) \
  test_user_call_fails_at (__FILE__, __LINE__, (user), (path), (interface), (method), \
                           (parameters), (error_name))

/* Every signal voipd emits on the user's bus, recorded from now on. */
typedef struct _TestSignals TestSignals;
TestSignals *test_user_watch_signals (TestUser *user);
void         test_signals_free       (TestSignals *signals);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TestSignals, test_signals_free)
/* Waits for a recorded signal `member` (e.g. "InterfacesAdded",
 * "PropertiesChanged", "MessageReceived") whose path starts with
 * path_prefix (NULL: any) and whose printed parameters contain every needle
 * (NULL-terminated; none: anything). Takes it out of the record and returns
 * its printed parameters, or fails the test. InterfacesAdded and
 * InterfacesRemoved come from TEST_VOIPD_PATH, the object manager: name the
 * object in a needle, quoted as printed ("'/org/voipd/Voip1/contact/bob'"). */
char        *test_signals_wait_at    (const char *file, int line, TestSignals *signals,
                                      const char *member, const char *path_prefix, ...)
  G_GNUC_NULL_TERMINATED;
#define      test_signals_wait(signals, member, ...) \
  test_signals_wait_at (__FILE__, __LINE__, (signals), (member), __VA_ARGS__, NULL)

/* Fails the test if a signal `member` on a path starting with path_prefix
 * whose printed parameters contain `needle` (NULL: any) was recorded. */
void         test_signals_assert_none (TestSignals *signals, const char *member,
                                       const char *path_prefix, const char *needle);

/* ---- voipctl monitor ---------------------------------------------------- */

/* `voipctl monitor --json` running in the background; each line it prints
 * must be a JSON document. */
typedef struct _TestMonitor TestMonitor;
TestMonitor *test_user_monitor       (TestUser *user);
void         test_monitor_free       (TestMonitor *monitor);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TestMonitor, test_monitor_free)
/* Waits for a line (printed since the monitor started) containing every
 * needle (NULL-terminated); returns it, or fails the test with every line
 * seen. */
char        *test_monitor_wait_at    (const char *file, int line, TestMonitor *monitor,
                                      const char *first_needle, ...) G_GNUC_NULL_TERMINATED;
#define      test_monitor_wait(monitor, ...) \
  test_monitor_wait_at (__FILE__, __LINE__, (monitor), __VA_ARGS__, NULL)

/* ---- files -------------------------------------------------------------- */

/* Writes a small valid Ogg Opus file (1 s of silence, 48 kHz) and returns
 * its path, in the user's home. */
char     *test_user_write_ogg_opus (TestUser *user, const char *basename);

G_END_DECLS
