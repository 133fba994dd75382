/* test-store.c — unit tests of the store (server/store/), each run against
 * both backends: /store/sqlite/… and /store/postgresql/….
 *
 * Each test gets a fresh database: a file in a temporary directory, or a
 * new database in a private PostgreSQL server (tests/support/test-postgres.h)
 * that the first PostgreSQL test starts and main() stops. The store_* data
 * functions may only run on the store thread, so the checks live in work
 * functions run with run_sync(), which waits for the job's done call on the
 * main context like the server would.
 */
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <sqlite3.h>
#include <string.h>

#include "store.h"
#include "store-private.h"   /* store_commit_count(), the SQLite connection */
#include "store-pg.h"        /* the PostgreSQL connection */
#include "test-postgres.h"
#include "voip-catalogue.h"

/* The schema version migration 1 creates; bump with each new migration. */
#define LATEST_SCHEMA 1

typedef struct {
  gboolean postgresql;
  char    *dir;
  char    *path;       /* the location: a file, or a libpq URI */
  char    *database;   /* PostgreSQL: the database's name */
  Store   *store;
} Fixture;

typedef void (*TestFunc) (Fixture *f, gconstpointer data);

/* What g_test_add() gets for each test and backend. */
typedef struct {
  gboolean postgresql;
  TestFunc func;
} TestCase;

/* ---- fixture ---------------------------------------------------------- */

/* The PostgreSQL server shared by the tests of this run. */
static TestPostgres *cluster;
static char         *cluster_failure;

/* The cluster, started by the first test that needs it; NULL (and the test
 * skipped, or failed under CI=true) if it cannot start. */
static TestPostgres *
shared_cluster (void)
{
  g_autoptr(GError) error = NULL;

  if (cluster == NULL && cluster_failure == NULL)
    {
      cluster = test_postgres_new (&error);
      if (cluster == NULL)
        cluster_failure = g_strdup (error->message);
    }
  if (cluster != NULL)
    return cluster;
  if (g_strcmp0 (g_getenv ("CI"), "true") == 0)
    g_test_fail_printf ("PostgreSQL could not be started (CI has it installed): %s",
                        cluster_failure);
  else
    g_test_skip_printf ("PostgreSQL could not be started: %s", cluster_failure);
  return NULL;
}

static Store *
open_store (const char *path)
{
  g_autoptr(GError) error = NULL;
  Store *store = store_open (path, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (store);
  return store;
}

/* Runs the done functions still waiting on the main context. */
static void
drain_main_context (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  const TestCase *test = data;
  g_autoptr(GError) error = NULL;

  f->postgresql = test->postgresql;
  f->dir = g_dir_make_tmp ("test-store-XXXXXX", &error);
  g_assert_no_error (error);
  if (!f->postgresql)
    f->path = g_build_filename (f->dir, "voip.db", NULL);
  else
    {
      TestPostgres *pg = shared_cluster ();

      if (pg == NULL)
        return;
      f->path = test_postgres_create_database (pg, &error);
      g_assert_no_error (error);
      /* postgresql:///NAME?… */
      f->database = g_strndup (f->path + strlen ("postgresql:///"),
                               strcspn (f->path + strlen ("postgresql:///"), "?"));
    }
  f->store = open_store (f->path);
}

/* The test itself, unless its set-up skipped it. */
static void
run_case (Fixture *f, gconstpointer data)
{
  const TestCase *test = data;

  if (f->path != NULL)
    test->func (f, data);
}

static void
fixture_reopen (Fixture *f)
{
  store_close (f->store);
  drain_main_context ();
  f->store = open_store (f->path);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  g_clear_pointer (&f->store, store_close);
  drain_main_context ();

  dir = g_dir_open (f->dir, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *file = g_build_filename (f->dir, name, NULL);

      g_unlink (file);
    }
  g_rmdir (f->dir);
  g_free (f->dir);
  g_free (f->path);
  g_free (f->database);
}

/* ---- running checks on the store thread ------------------------------- */

typedef struct {
  StoreWorkFunc work;
  gpointer      data;
  gboolean      result;
  gboolean      finished;
  gboolean      committed;
} SyncJob;

static gboolean
sync_work (Store *store, gpointer job)
{
  SyncJob *sync = job;

  sync->result = sync->work (store, sync->data);
  return sync->result;
}

static void
sync_done (gpointer job, gboolean committed)
{
  SyncJob *sync = job;

  sync->finished = TRUE;
  sync->committed = committed;
}

/* Runs `work` as a job and waits for it; returns what work returned. */
static gboolean
run_sync (Store *store, StoreWorkFunc work, gpointer data)
{
  SyncJob job = { work, data, FALSE, FALSE, FALSE };

  store_run (store, sync_work, sync_done, &job);
  while (!job.finished)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (job.committed);
  return job.result;
}

/* ---- helpers for work functions ---------------------------------------- */

static gint64
add_user (Store *store, const char *username)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *email = g_strdup_printf ("%s@example.org", username);
  gint64 id = store_user_create (store, username, "$argon2id$hash", email, 1000, &error);

  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  return id;
}

static gint64
find_user (Store *store, const char *username)
{
  g_autoptr(GError) error = NULL;
  g_auto(StoreUser) user = { 0, };

  if (!store_user_find (store, username, &user, &error))
    {
      g_assert_no_error (error);
      return 0;
    }
  g_assert_no_error (error);
  g_assert_cmpstr (user.username, ==, username);
  return user.id;
}

/* A group with its owner as first member, as the server creates them. */
static gint64
add_group (Store *store, const char *name, gint64 owner, gint64 now_ms)
{
  g_autoptr(GError) error = NULL;
  gint64 id = store_group_create (store, name, owner, now_ms, &error);

  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  g_assert_true (store_group_add_member (store, id, owner, now_ms, &error));
  g_assert_no_error (error);
  return id;
}

static gint64
send_message (Store *store, gint64 from, gint64 to, gint64 group, const char *text)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *client_id = g_uuid_string_random ();
  StoreMessage message = { 0, };
  gboolean duplicate = TRUE;

  message.timestamp_ms = g_get_real_time () / 1000;
  message.sender_id = from;
  message.recipient_id = to;
  message.group_id = group;
  message.kind = VOIP_MESSAGE_KIND_TEXT;
  message.text = (char *) text;
  message.client_id = client_id;
  g_assert_true (store_message_insert (store, &message, &duplicate, &error));
  g_assert_no_error (error);
  g_assert_false (duplicate);
  g_assert_cmpint (message.id, >, 0);
  g_assert_cmpint (message.seq, >, 0);
  return message.id;
}

static StoreMessage *
get_message (Store *store, gint64 id, gboolean with_voice)
{
  g_autoptr(GError) error = NULL;
  StoreMessage *message = store_message_get (store, id, with_voice, &error);

  g_assert_no_error (error);
  g_assert_nonnull (message);
  return message;
}

static void
assert_page (GPtrArray *page, const gint64 *ids, guint n_ids)
{
  g_assert_nonnull (page);
  g_assert_cmpuint (page->len, ==, n_ids);
  for (guint i = 0; i < n_ids; i++)
    g_assert_cmpint (((StoreMessage *) g_ptr_array_index (page, i))->id, ==, ids[i]);
}

/* ---- schema and durability ---------------------------------------------- */

static void
test_schema_fresh (Fixture *f, gconstpointer data)
{
  g_assert_cmpint (store_schema_version (f->store), ==, LATEST_SCHEMA);
  fixture_reopen (f);
  g_assert_cmpint (store_schema_version (f->store), ==, LATEST_SCHEMA);
}

static gboolean
create_alice_work (Store *store, gpointer data)
{
  gint64 *id = data;

  *id = add_user (store, "alice");
  return TRUE;
}

static gboolean
check_alice_work (Store *store, gpointer data)
{
  gint64 *id = data;

  g_assert_cmpint (find_user (store, "alice"), ==, *id);
  return TRUE;
}

static void
test_schema_reopen (Fixture *f, gconstpointer data)
{
  gint64 alice = 0;

  run_sync (f->store, create_alice_work, &alice);
  fixture_reopen (f);
  run_sync (f->store, check_alice_work, &alice);
}

static void
test_schema_too_new (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  Store *store;

  g_clear_pointer (&f->store, store_close);

  if (f->postgresql)
    {
      g_assert_true (test_postgres_run_sql (cluster, f->database,
                                            "UPDATE voip_schema SET version = 99", &error));
      g_assert_no_error (error);
    }
  else
    {
      sqlite3 *db = NULL;

      g_assert_cmpint (sqlite3_open (f->path, &db), ==, SQLITE_OK);
      g_assert_cmpint (sqlite3_exec (db, "PRAGMA user_version = 99", NULL, NULL, NULL), ==,
                       SQLITE_OK);
      sqlite3_close (db);
    }

  store = store_open (f->path, NULL, &error);
  g_assert_null (store);
  g_assert_error (error, STORE_ERROR, STORE_ERROR_SCHEMA);
  g_assert_nonnull (strstr (error->message, "99"));
}

static void
test_schema_not_a_database (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (f->dir, "garbage.db", NULL);
  Store *store;

  g_assert_true (g_file_set_contents (path, "this is not an SQLite database, not at all", -1,
                                      NULL));
  store = store_open (path, NULL, &error);
  g_assert_null (store);
  g_assert_error (error, STORE_ERROR, STORE_ERROR_FAILED);
}

/* ---- users and tokens -------------------------------------------------- */

typedef struct {
  gint64 alice;
  gint64 bob;
  gint64 message;
} UsersState;

static gboolean
users_work (Store *store, gpointer data)
{
  UsersState *state = data;
  g_autoptr(GError) error = NULL;
  g_auto(StoreUser) user = { 0, };

  state->alice = add_user (store, "alice");
  state->bob = add_user (store, "bob");
  g_assert_cmpint (state->alice, !=, state->bob);

  g_assert_cmpint (store_user_create (store, "alice", "h", "", 1, &error), ==, 0);
  g_assert_error (error, STORE_ERROR, STORE_ERROR_EXISTS);
  g_assert_nonnull (strstr (error->message, "alice"));
  g_clear_error (&error);

  g_assert_true (store_user_find (store, "alice", &user, &error));
  g_assert_no_error (error);
  g_assert_cmpint (user.id, ==, state->alice);
  g_assert_cmpstr (user.password_hash, ==, "$argon2id$hash");
  g_assert_cmpstr (user.email, ==, "alice@example.org");
  g_assert_cmpint (user.created_ms, ==, 1000);
  g_assert_false (user.deleted);
  store_user_clear (&user);

  g_assert_false (store_user_find (store, "nobody", &user, &error));
  g_assert_no_error (error);
  g_assert_false (store_user_get (store, 12345, &user, &error));
  g_assert_no_error (error);

  g_assert_true (store_user_set_password (store, state->alice, "new-hash", &error));
  g_assert_no_error (error);
  g_assert_true (store_user_get (store, state->alice, &user, &error));
  g_assert_cmpstr (user.username, ==, "alice");
  g_assert_cmpstr (user.password_hash, ==, "new-hash");
  store_user_clear (&user);
  g_assert_false (store_user_set_password (store, 12345, "x", &error));
  g_assert_error (error, STORE_ERROR, STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Alice talks to Bob, gets a friend, a token and a profile, then leaves. */
  state->message = send_message (store, state->alice, state->bob, 0, "bye");
  g_assert_true (store_contact_befriend (store, state->alice, state->bob, 1, &error));
  g_assert_true (store_token_add (store, state->alice, "tokenhash", 1, &error));
  {
    g_autoptr(GVariantBuilder) fields = g_variant_builder_new (G_VARIANT_TYPE_VARDICT);

    g_variant_builder_add (fields, "{sv}", "display_name", g_variant_new_string ("Alice"));
    g_assert_true (store_profile_set (store, state->alice, g_variant_builder_end (fields),
                                      &error));
  }
  g_assert_no_error (error);

  g_assert_true (store_user_delete (store, state->alice, &error));
  g_assert_no_error (error);
  g_assert_false (store_user_delete (store, state->alice, &error));
  g_assert_error (error, STORE_ERROR, STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  return TRUE;
}

static gboolean
users_after_delete_work (Store *store, gpointer data)
{
  UsersState *state = data;
  g_autoptr(GError) error = NULL;
  g_auto(StoreUser) user = { 0, };
  g_auto(StoreProfile) profile = { 0, };
  g_autoptr(StoreMessage) message = NULL;
  g_autoptr(GPtrArray) friends = NULL;

  g_assert_false (store_user_find (store, "alice", &user, &error));
  g_assert_no_error (error);
  g_assert_false (store_user_get (store, state->alice, &user, &error));
  g_assert_no_error (error);
  /* ...but the name is still hers, for the history she leaves behind. */
  g_assert_true (store_user_find_any (store, "alice", &user, &error));
  g_assert_no_error (error);
  g_assert_cmpint (user.id, ==, state->alice);
  g_assert_true (user.deleted);
  g_assert_cmpstr (user.password_hash, ==, "");
  store_user_clear (&user);
  g_assert_true (store_user_find_any (store, "bob", &user, &error));
  g_assert_false (user.deleted);
  store_user_clear (&user);
  g_assert_false (store_user_find_any (store, "nobody", &user, &error));
  g_assert_no_error (error);

  /* The name stays reserved. */
  g_assert_cmpint (store_user_create (store, "alice", "h", "", 1, &error), ==, 0);
  g_assert_error (error, STORE_ERROR, STORE_ERROR_EXISTS);
  g_clear_error (&error);

  g_assert_cmpint (store_token_find (store, "tokenhash", &error), ==, 0);
  g_assert_no_error (error);
  g_assert_cmpint (store_contact_state (store, state->bob, state->alice, &error), ==,
                   VOIP_SUBSCRIPTION_NONE);
  friends = store_contact_friends (store, state->bob, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (friends->len, ==, 0);

  g_assert_true (store_profile_get (store, state->alice, &profile, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (profile.display_name, ==, "");

  /* Bob's history still names her. */
  message = get_message (store, state->message, FALSE);
  g_assert_cmpstr (message->sender, ==, "alice");
  g_assert_cmpstr (message->recipient, ==, "bob");
  g_assert_cmpstr (message->text, ==, "bye");
  return TRUE;
}

static void
test_users (Fixture *f, gconstpointer data)
{
  UsersState state = { 0, };

  run_sync (f->store, users_work, &state);
  run_sync (f->store, users_after_delete_work, &state);
}

static gboolean
tokens_work (Store *store, gpointer data)
{
  g_autoptr(GError) error = NULL;
  gint64 alice = add_user (store, "alice");
  gint64 bob = add_user (store, "bob");

  g_assert_true (store_token_add (store, alice, "a1", 1, &error));
  g_assert_true (store_token_add (store, alice, "a2", 2, &error));
  g_assert_true (store_token_add (store, alice, "a3", 3, &error));
  g_assert_true (store_token_add (store, bob, "b1", 4, &error));
  g_assert_no_error (error);

  g_assert_false (store_token_add (store, bob, "a1", 5, &error));
  g_assert_error (error, STORE_ERROR, STORE_ERROR_EXISTS);
  g_clear_error (&error);

  g_assert_cmpint (store_token_find (store, "a2", &error), ==, alice);
  g_assert_cmpint (store_token_find (store, "b1", &error), ==, bob);
  g_assert_cmpint (store_token_find (store, "zz", &error), ==, 0);
  g_assert_no_error (error);

  g_assert_true (store_token_delete (store, "a1", &error));
  g_assert_cmpint (store_token_find (store, "a1", &error), ==, 0);
  g_assert_true (store_token_delete (store, "a1", &error));  /* idempotent */
  g_assert_no_error (error);

  g_assert_true (store_token_delete_others (store, alice, "a3", &error));
  g_assert_cmpint (store_token_find (store, "a2", &error), ==, 0);
  g_assert_cmpint (store_token_find (store, "a3", &error), ==, alice);
  g_assert_cmpint (store_token_find (store, "b1", &error), ==, bob);

  g_assert_true (store_token_delete_others (store, alice, NULL, &error));
  g_assert_cmpint (store_token_find (store, "a3", &error), ==, 0);
  g_assert_cmpint (store_token_find (store, "b1", &error), ==, bob);
  g_assert_no_error (error);
  return TRUE;
}

static void
test_tokens (Fixture *f, gconstpointer data)
{
  run_sync (f->store, tokens_work, NULL);
}

/* ---- profiles ---------------------------------------------------------- */

static gboolean
profile_work (Store *store, gpointer data)
{
  static const guint8 png[] = { 0x89, 'P', 'N', 'G', 0, 1, 2, 0, 3 };
  g_autoptr(GError) error = NULL;
  gint64 alice = add_user (store, "alice");
  GVariantBuilder fields;
  GVariantBuilder plugins;

  /* A new user has an empty profile. */
  {
    g_auto(StoreProfile) profile = { 0, };

    g_assert_true (store_profile_get (store, alice, &profile, &error));
    g_assert_no_error (error);
    g_assert_cmpstr (profile.display_name, ==, "");
    g_assert_cmpstr (profile.language, ==, "");
    g_assert_cmpuint (g_bytes_get_size (profile.avatar), ==, 0);
    g_assert_true (g_variant_is_of_type (profile.plugins, G_VARIANT_TYPE ("a(ss)")));
    g_assert_cmpuint (g_variant_n_children (profile.plugins), ==, 0);
  }

  g_variant_builder_init (&fields, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&fields, "{sv}", "display_name", g_variant_new_string ("Alice A."));
  g_variant_builder_add (&fields, "{sv}", "city", g_variant_new_string ("Zürich"));
  g_variant_builder_add (&fields, "{sv}", "avatar",
                         g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, png, sizeof png, 1));
  g_assert_true (store_profile_set (store, alice, g_variant_builder_end (&fields), &error));
  g_assert_no_error (error);

  g_variant_builder_init (&plugins, G_VARIANT_TYPE ("a(ss)"));
  g_variant_builder_add (&plugins, "(ss)", "echo", "Echoes what you say");
  g_variant_builder_add (&plugins, "(ss)", "dice", "");
  g_variant_builder_init (&fields, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&fields, "{sv}", "motd", g_variant_new_string ("hello"));
  g_variant_builder_add (&fields, "{sv}", "phone", g_variant_new_string ("+41 00"));
  g_variant_builder_add (&fields, "{sv}", "mail", g_variant_new_string ("a@b.c"));
  g_variant_builder_add (&fields, "{sv}", "language", g_variant_new_string ("de"));
  g_variant_builder_add (&fields, "{sv}", "plugins", g_variant_builder_end (&plugins));
  g_assert_true (store_profile_set (store, alice, g_variant_builder_end (&fields), &error));
  g_assert_no_error (error);

  {
    g_auto(StoreProfile) profile = { 0, };
    const char *name, *description;

    g_assert_true (store_profile_get (store, alice, &profile, &error));
    g_assert_no_error (error);
    /* Fields of the first update survive the second. */
    g_assert_cmpstr (profile.display_name, ==, "Alice A.");
    g_assert_cmpstr (profile.city, ==, "Zürich");
    g_assert_cmpmem (g_bytes_get_data (profile.avatar, NULL), g_bytes_get_size (profile.avatar),
                     png, sizeof png);
    g_assert_cmpstr (profile.motd, ==, "hello");
    g_assert_cmpstr (profile.phone, ==, "+41 00");
    g_assert_cmpstr (profile.mail, ==, "a@b.c");
    g_assert_cmpstr (profile.language, ==, "de");
    g_assert_cmpuint (g_variant_n_children (profile.plugins), ==, 2);
    g_variant_get_child (profile.plugins, 0, "(&s&s)", &name, &description);
    g_assert_cmpstr (name, ==, "echo");
    g_assert_cmpstr (description, ==, "Echoes what you say");
    g_variant_get_child (profile.plugins, 1, "(&s&s)", &name, &description);
    g_assert_cmpstr (name, ==, "dice");
    g_assert_cmpstr (description, ==, "");
  }

  /* Clearing: empty values are values, not absence. */
  g_variant_builder_init (&fields, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&fields, "{sv}", "avatar",
                         g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, NULL, 0, 1));
  g_variant_builder_add (&fields, "{sv}", "city", g_variant_new_string (""));
  g_variant_builder_add (&fields, "{sv}", "plugins", g_variant_new ("a(ss)", NULL));
  g_assert_true (store_profile_set (store, alice, g_variant_builder_end (&fields), &error));
  g_assert_no_error (error);

  {
    g_auto(StoreProfile) profile = { 0, };

    g_assert_true (store_profile_get (store, alice, &profile, &error));
    g_assert_cmpuint (g_bytes_get_size (profile.avatar), ==, 0);
    g_assert_cmpstr (profile.city, ==, "");
    g_assert_cmpuint (g_variant_n_children (profile.plugins), ==, 0);
    g_assert_cmpstr (profile.display_name, ==, "Alice A.");
    g_assert_cmpstr (profile.motd, ==, "hello");
  }

  /* An empty update changes nothing and succeeds. */
  g_assert_true (store_profile_set (store, alice, g_variant_new ("a{sv}", NULL), &error));
  g_assert_no_error (error);

  {
    g_auto(StoreProfile) profile = { 0, };

    g_assert_false (store_profile_get (store, 9999, &profile, &error));
    g_assert_error (error, STORE_ERROR, STORE_ERROR_NOT_FOUND);
    g_clear_error (&error);
    g_assert_null (profile.display_name);
    g_assert_false (store_profile_set (store, 9999, g_variant_new ("a{sv}", NULL), &error));
    g_assert_error (error, STORE_ERROR, STORE_ERROR_NOT_FOUND);
    g_clear_error (&error);
  }
  return TRUE;
}

static void
test_profile (Fixture *f, gconstpointer data)
{
  run_sync (f->store, profile_work, NULL);
}

/* ---- contacts ----------------------------------------------------------- */

static void
assert_state (Store *store, gint64 user, gint64 other, int expected)
{
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (store_contact_state (store, user, other, &error), ==, expected);
  g_assert_no_error (error);
}

static void
assert_names (GPtrArray *names, const char *const *expected)
{
  guint n = g_strv_length ((char **) expected);

  g_assert_nonnull (names);
  g_assert_cmpuint (names->len, ==, n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpstr (g_ptr_array_index (names, i), ==, expected[i]);
}

static void
assert_pending (Store *store, gint64 user, gboolean incoming, const char *const *expected)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) names = store_contact_pending (store, user, incoming, &error);

  g_assert_no_error (error);
  assert_names (names, expected);
}

static gboolean
contacts_work (Store *store, gpointer data)
{
  static const char *const none[] = { NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) friends = NULL;
  gint64 alice = add_user (store, "alice");
  gint64 zed = add_user (store, "zed");
  gint64 bob = add_user (store, "bob");
  gint64 carol = add_user (store, "carol");
  StoreContact *contact;

  assert_state (store, alice, bob, VOIP_SUBSCRIPTION_NONE);

  g_assert_true (store_contact_request (store, alice, bob, 10, &error));
  g_assert_true (store_contact_request (store, carol, bob, 20, &error));
  g_assert_true (store_contact_request (store, alice, carol, 30, &error));
  g_assert_no_error (error);
  assert_state (store, alice, bob, VOIP_SUBSCRIPTION_OUTGOING);
  assert_state (store, bob, alice, VOIP_SUBSCRIPTION_INCOMING);

  g_assert_false (store_contact_request (store, alice, bob, 40, &error));
  g_assert_error (error, STORE_ERROR, STORE_ERROR_EXISTS);
  g_clear_error (&error);
  g_assert_false (store_contact_request (store, alice, 9999, 40, &error));
  g_assert_error (error, STORE_ERROR, STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  assert_pending (store, bob, TRUE, (const char *const[]) { "alice", "carol", NULL });
  assert_pending (store, alice, FALSE, (const char *const[]) { "bob", "carol", NULL });
  assert_pending (store, alice, TRUE, none);
  assert_pending (store, bob, FALSE, none);

  /* Accepting removes the request, in both lists. */
  g_assert_true (store_contact_befriend (store, bob, alice, 50, &error));
  g_assert_no_error (error);
  assert_state (store, alice, bob, VOIP_SUBSCRIPTION_FRIEND);
  assert_state (store, bob, alice, VOIP_SUBSCRIPTION_FRIEND);
  assert_pending (store, bob, TRUE, (const char *const[]) { "carol", NULL });
  assert_pending (store, alice, FALSE, (const char *const[]) { "carol", NULL });
  g_assert_true (store_contact_befriend (store, bob, alice, 51, &error));  /* idempotent */
  g_assert_no_error (error);

  /* Friends come ordered by username, with their display name and MOTD. */
  g_assert_true (store_contact_befriend (store, alice, zed, 60, &error));
  {
    g_autoptr(GVariantBuilder) fields = g_variant_builder_new (G_VARIANT_TYPE_VARDICT);

    g_variant_builder_add (fields, "{sv}", "display_name", g_variant_new_string ("Zed Z."));
    g_variant_builder_add (fields, "{sv}", "motd", g_variant_new_string ("zzz"));
    g_assert_true (store_profile_set (store, zed, g_variant_builder_end (fields), &error));
  }
  g_assert_no_error (error);
  friends = store_contact_friends (store, alice, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (friends->len, ==, 2);
  contact = g_ptr_array_index (friends, 0);
  g_assert_cmpint (contact->id, ==, bob);
  g_assert_cmpstr (contact->username, ==, "bob");
  g_assert_cmpstr (contact->display_name, ==, "");
  contact = g_ptr_array_index (friends, 1);
  g_assert_cmpint (contact->id, ==, zed);
  g_assert_cmpstr (contact->username, ==, "zed");
  g_assert_cmpstr (contact->display_name, ==, "Zed Z.");
  g_assert_cmpstr (contact->motd, ==, "zzz");
  g_clear_pointer (&friends, g_ptr_array_unref);

  /* Unlinking ends a friendship, and withdraws a request either way. */
  g_assert_true (store_contact_unlink (store, bob, alice, &error));
  assert_state (store, alice, bob, VOIP_SUBSCRIPTION_NONE);
  assert_state (store, bob, alice, VOIP_SUBSCRIPTION_NONE);
  g_assert_true (store_contact_unlink (store, carol, alice, &error));
  assert_state (store, alice, carol, VOIP_SUBSCRIPTION_NONE);
  assert_pending (store, carol, TRUE, none);
  g_assert_no_error (error);

  friends = store_contact_friends (store, alice, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (friends->len, ==, 1);
  g_assert_cmpstr (((StoreContact *) g_ptr_array_index (friends, 0))->username, ==, "zed");
  g_clear_pointer (&friends, g_ptr_array_unref);
  friends = store_contact_friends (store, zed, &error);
  g_assert_cmpuint (friends->len, ==, 1);
  g_assert_cmpstr (((StoreContact *) g_ptr_array_index (friends, 0))->username, ==, "alice");
  return TRUE;
}

static void
test_contacts (Fixture *f, gconstpointer data)
{
  run_sync (f->store, contacts_work, NULL);
}

/* ---- groups ------------------------------------------------------------- */

static void
assert_members (Store *store, gint64 group_id, const char *owner, const char *const *names)
{
  g_autoptr(GError) error = NULL;
  g_auto(StoreGroup) group = { 0, };

  g_assert_true (store_group_get (store, group_id, &group, &error));
  g_assert_no_error (error);
  g_assert_cmpint (group.id, ==, group_id);
  g_assert_cmpstr (group.owner, ==, owner);
  assert_names (group.members, names);
  g_assert_cmpuint (group.member_ids->len, ==, group.members->len);
  for (guint i = 0; i < group.members->len; i++)
    {
      g_auto(StoreUser) user = { 0, };

      g_assert_true (store_user_get (store, g_array_index (group.member_ids, gint64, i), &user,
                                     &error));
      g_assert_cmpstr (user.username, ==, g_ptr_array_index (group.members, i));
    }
}

static gboolean
groups_work (Store *store, gpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) list = NULL;
  g_auto(StoreGroup) group = { 0, };
  gint64 owner = add_user (store, "owner");
  gint64 m1 = add_user (store, "m1");
  gint64 m2 = add_user (store, "m2");
  gint64 m3 = add_user (store, "m3");
  gint64 g1, g2, g3, g4;

  g1 = store_group_create (store, "friends", owner, 1000, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g1, >, 0);
  g_assert_true (store_group_get (store, g1, &group, &error));
  g_assert_cmpstr (group.name, ==, "friends");
  g_assert_cmpint (group.owner_id, ==, owner);
  g_assert_cmpstr (group.owner, ==, "owner");
  /* Creating makes no member: the caller adds the owner first. */
  g_assert_cmpuint (group.members->len, ==, 0);
  g_assert_cmpuint (group.member_ids->len, ==, 0);
  store_group_clear (&group);
  g_assert_true (store_group_add_member (store, g1, owner, 1000, &error));
  g_assert_no_error (error);
  assert_members (store, g1, "owner", (const char *const[]) { "owner", NULL });

  /* Joining order: by time, then by the order of the inserts. */
  g_assert_true (store_group_add_member (store, g1, m2, 3000, &error));
  g_assert_true (store_group_add_member (store, g1, m1, 2000, &error));
  g_assert_true (store_group_add_member (store, g1, m3, 3000, &error));
  g_assert_no_error (error);
  assert_members (store, g1, "owner", (const char *const[]) { "owner", "m1", "m2", "m3", NULL });

  g_assert_false (store_group_add_member (store, g1, m1, 4000, &error));
  g_assert_error (error, STORE_ERROR, STORE_ERROR_EXISTS);
  g_clear_error (&error);
  g_assert_false (store_group_add_member (store, 9999, m1, 4000, &error));
  g_assert_error (error, STORE_ERROR, STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_true (store_group_is_member (store, g1, m1, &error));
  g_assert_true (store_group_remove_member (store, g1, m1, &error));
  g_assert_false (store_group_is_member (store, g1, m1, &error));
  g_assert_no_error (error);
  g_assert_false (store_group_remove_member (store, g1, m1, &error));
  g_assert_error (error, STORE_ERROR, STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  assert_members (store, g1, "owner", (const char *const[]) { "owner", "m2", "m3", NULL });

  g_assert_true (store_group_set_owner (store, g1, m2, &error));
  g_assert_true (store_group_rename (store, g1, "best friends", &error));
  g_assert_no_error (error);
  g_assert_true (store_group_get (store, g1, &group, &error));
  g_assert_cmpstr (group.name, ==, "best friends");
  g_assert_cmpint (group.owner_id, ==, m2);
  g_assert_cmpstr (group.owner, ==, "m2");
  store_group_clear (&group);
  g_assert_false (store_group_rename (store, 9999, "x", &error));
  g_assert_error (error, STORE_ERROR, STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (store_group_set_owner (store, 9999, m2, &error));
  g_assert_error (error, STORE_ERROR, STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g2 = add_group (store, "second", m3, 5000);
  g3 = add_group (store, "third", m2, 5000);
  g_assert_true (store_group_add_member (store, g2, m2, 6000, &error));
  g_assert_no_error (error);
  list = store_group_list_for_user (store, m2, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 3);
  g_assert_cmpint (g_array_index (list, gint64, 0), ==, g1);
  g_assert_cmpint (g_array_index (list, gint64, 1), ==, g2);
  g_assert_cmpint (g_array_index (list, gint64, 2), ==, g3);
  g_clear_pointer (&list, g_array_unref);

  g_assert_true (store_group_delete (store, g3, &error));
  g_assert_no_error (error);
  g_assert_false (store_group_get (store, g3, &group, &error));
  g_assert_no_error (error);
  g_assert_null (group.members);
  g_assert_false (store_group_is_member (store, g3, m2, &error));
  g_assert_no_error (error);
  g_assert_false (store_group_delete (store, g3, &error));
  g_assert_error (error, STORE_ERROR, STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  list = store_group_list_for_user (store, m2, &error);
  g_assert_cmpuint (list->len, ==, 2);
  g_clear_pointer (&list, g_array_unref);

  /* A deleted group's id is never handed out again. */
  g4 = add_group (store, "fourth", m1, 7000);
  g_assert_no_error (error);
  g_assert_cmpint (g4, >, g3);

  list = store_group_list_for_user (store, 9999, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 0);
  return TRUE;
}

static void
test_groups (Fixture *f, gconstpointer data)
{
  run_sync (f->store, groups_work, NULL);
}

/* ---- messages ------------------------------------------------------------ */

static gboolean
messages_work (Store *store, gpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(StoreMessage) got = NULL;
  g_autoptr(GBytes) voice_data = NULL;
  gint64 alice = add_user (store, "alice");
  gint64 bob = add_user (store, "bob");
  gint64 group = add_group (store, "g", alice, 1);
  StoreMessage text = { 0, };
  StoreMessage resend = { 0, };
  StoreMessage voice = { 0, };
  StoreMessage bad = { 0, };
  gboolean duplicate = TRUE;
  gint64 group_message, seq_edit, seq_delete;
  guint8 *audio = g_malloc (4000);

  for (guint i = 0; i < 4000; i++)
    audio[i] = (guint8) (i * 7);
  voice_data = g_bytes_new_take (audio, 4000);

  text.timestamp_ms = 111;
  text.sender_id = alice;
  text.recipient_id = bob;
  text.kind = VOIP_MESSAGE_KIND_TEXT;
  text.text = (char *) "hello";
  text.client_id = (char *) "client-1";
  g_assert_true (store_message_insert (store, &text, &duplicate, &error));
  g_assert_no_error (error);
  g_assert_false (duplicate);

  /* A resend with the same client_id gets the first message back. */
  resend = text;
  resend.id = resend.seq = 0;
  resend.timestamp_ms = 222;
  resend.text = (char *) "hello again";
  g_assert_true (store_message_insert (store, &resend, &duplicate, &error));
  g_assert_no_error (error);
  g_assert_true (duplicate);
  g_assert_cmpint (resend.id, ==, text.id);
  g_assert_cmpint (resend.seq, ==, text.seq);
  g_assert_cmpint (resend.timestamp_ms, ==, 111);

  /* The same client_id from someone else is another message. */
  voice.timestamp_ms = 333;
  voice.sender_id = bob;
  voice.recipient_id = alice;
  voice.kind = VOIP_MESSAGE_KIND_VOICE;
  voice.duration_ms = 1500;
  voice.voice = voice_data;
  voice.client_id = (char *) "client-1";
  g_assert_true (store_message_insert (store, &voice, &duplicate, &error));
  g_assert_no_error (error);
  g_assert_false (duplicate);
  g_assert_cmpint (voice.id, >, text.id);
  g_assert_cmpint (voice.seq, >, text.seq);

  group_message = send_message (store, alice, 0, group, "to the group");

  bad.sender_id = alice;
  bad.recipient_id = bob;
  bad.group_id = group;
  bad.kind = VOIP_MESSAGE_KIND_TEXT;
  g_assert_false (store_message_insert (store, &bad, &duplicate, &error));
  g_assert_error (error, STORE_ERROR, STORE_ERROR_FAILED);
  g_clear_error (&error);

  got = get_message (store, text.id, FALSE);
  g_assert_cmpint (got->seq, ==, text.seq);
  g_assert_cmpint (got->timestamp_ms, ==, 111);
  g_assert_cmpint (got->sender_id, ==, alice);
  g_assert_cmpstr (got->sender, ==, "alice");
  g_assert_cmpint (got->recipient_id, ==, bob);
  g_assert_cmpstr (got->recipient, ==, "bob");
  g_assert_cmpint (got->group_id, ==, 0);
  g_assert_cmpuint (got->kind, ==, VOIP_MESSAGE_KIND_TEXT);
  g_assert_cmpstr (got->text, ==, "hello");
  g_assert_cmpstr (got->client_id, ==, "client-1");
  g_assert_false (got->edited);
  g_assert_false (got->deleted);
  g_assert_null (got->voice);
  g_clear_pointer (&got, store_message_free);

  got = get_message (store, voice.id, FALSE);
  g_assert_cmpuint (got->kind, ==, VOIP_MESSAGE_KIND_VOICE);
  g_assert_cmpuint (got->duration_ms, ==, 1500);
  g_assert_cmpstr (got->text, ==, "");
  g_assert_null (got->voice);
  g_clear_pointer (&got, store_message_free);

  got = get_message (store, voice.id, TRUE);
  g_assert_nonnull (got->voice);
  g_assert_true (g_bytes_equal (got->voice, voice_data));
  g_clear_pointer (&got, store_message_free);

  got = get_message (store, group_message, TRUE);
  g_assert_cmpint (got->group_id, ==, group);
  g_assert_cmpint (got->recipient_id, ==, 0);
  g_assert_cmpstr (got->recipient, ==, "");
  g_assert_cmpuint (g_bytes_get_size (got->voice), ==, 0);
  g_clear_pointer (&got, store_message_free);

  g_assert_null (store_message_get (store, 9999, TRUE, &error));
  g_assert_no_error (error);

  /* Edit and delete take new, larger seqs. */
  g_assert_true (store_message_edit (store, text.id, "hello, edited", &seq_edit, &error));
  g_assert_no_error (error);
  g_assert_cmpint (seq_edit, >, voice.seq);
  got = get_message (store, text.id, FALSE);
  g_assert_cmpint (got->seq, ==, seq_edit);
  g_assert_cmpstr (got->text, ==, "hello, edited");
  g_assert_true (got->edited);
  g_clear_pointer (&got, store_message_free);

  g_assert_true (store_message_delete (store, voice.id, &seq_delete, &error));
  g_assert_no_error (error);
  g_assert_cmpint (seq_delete, >, seq_edit);
  got = get_message (store, voice.id, TRUE);
  g_assert_cmpint (got->seq, ==, seq_delete);
  g_assert_true (got->deleted);
  g_assert_cmpstr (got->text, ==, "");
  g_assert_cmpuint (g_bytes_get_size (got->voice), ==, 0);
  g_clear_pointer (&got, store_message_free);

  g_assert_false (store_message_edit (store, voice.id, "resurrect", NULL, &error));
  g_assert_error (error, STORE_ERROR, STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (store_message_edit (store, 9999, "x", NULL, &error));
  g_assert_error (error, STORE_ERROR, STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (store_message_delete (store, 9999, NULL, &error));
  g_assert_error (error, STORE_ERROR, STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  return TRUE;
}

static void
test_messages (Fixture *f, gconstpointer data)
{
  run_sync (f->store, messages_work, NULL);
}

static gboolean
history_work (Store *store, gpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) page = NULL;
  gint64 alice = add_user (store, "alice");
  gint64 bob = add_user (store, "bob");
  gint64 carol = add_user (store, "carol");
  gint64 group = add_group (store, "g", alice, 1);
  gint64 ids[10];
  gint64 group_ids[3];
  gboolean more = FALSE;

  /* Ten messages of ten bytes each between Alice and Bob, with other
   * conversations interleaved. */
  for (guint i = 0; i < 10; i++)
    {
      g_autofree char *text = g_strdup_printf ("message %02u", i);

      ids[i] = send_message (store, i % 2 ? bob : alice, i % 2 ? alice : bob, 0, text);
      send_message (store, carol, alice, 0, "noise");
      if (i < 3)
        group_ids[i] = send_message (store, alice, 0, group, "group");
    }

  page = store_message_history (store, alice, bob, 0, 0, 4, G_MAXSIZE, &more, &error);
  g_assert_no_error (error);
  assert_page (page, ids + 6, 4);
  g_assert_true (more);
  g_assert_cmpstr (((StoreMessage *) g_ptr_array_index (page, 0))->text, ==, "message 06");
  g_clear_pointer (&page, g_ptr_array_unref);

  /* Either side asks for the same conversation. */
  page = store_message_history (store, bob, alice, 0, ids[6], 4, G_MAXSIZE, &more, &error);
  g_assert_no_error (error);
  assert_page (page, ids + 2, 4);
  g_assert_true (more);
  g_clear_pointer (&page, g_ptr_array_unref);

  page = store_message_history (store, alice, bob, 0, ids[2], 4, G_MAXSIZE, &more, &error);
  assert_page (page, ids, 2);
  g_assert_false (more);
  g_clear_pointer (&page, g_ptr_array_unref);

  /* A page exactly as long as what is left has no more. */
  page = store_message_history (store, alice, bob, 0, ids[4], 4, G_MAXSIZE, &more, &error);
  assert_page (page, ids, 4);
  g_assert_false (more);
  g_clear_pointer (&page, g_ptr_array_unref);

  /* 25 bytes hold two ten-byte messages; the third would pass the limit. */
  page = store_message_history (store, alice, bob, 0, 0, 10, 25, &more, &error);
  assert_page (page, ids + 8, 2);
  g_assert_true (more);
  g_clear_pointer (&page, g_ptr_array_unref);
  page = store_message_history (store, alice, bob, 0, 0, 10, 30, &more, &error);
  assert_page (page, ids + 7, 3);
  g_assert_true (more);
  g_clear_pointer (&page, g_ptr_array_unref);
  /* One message always fits, so paging goes on. */
  page = store_message_history (store, alice, bob, 0, 0, 10, 3, &more, &error);
  assert_page (page, ids + 9, 1);
  g_assert_true (more);
  g_clear_pointer (&page, g_ptr_array_unref);

  /* Voice bytes never come with history. */
  page = store_message_history (store, alice, bob, 0, 0, 500, G_MAXSIZE, &more, &error);
  assert_page (page, ids, 10);
  g_assert_false (more);
  for (guint i = 0; i < page->len; i++)
    g_assert_null (((StoreMessage *) g_ptr_array_index (page, i))->voice);
  g_assert_cmpstr (((StoreMessage *) g_ptr_array_index (page, 1))->sender, ==, "bob");
  g_assert_cmpstr (((StoreMessage *) g_ptr_array_index (page, 1))->recipient, ==, "alice");
  g_clear_pointer (&page, g_ptr_array_unref);

  page = store_message_history (store, 0, 0, group, 0, 2, G_MAXSIZE, &more, &error);
  g_assert_no_error (error);
  assert_page (page, group_ids + 1, 2);
  g_assert_true (more);
  g_clear_pointer (&page, g_ptr_array_unref);

  page = store_message_history (store, alice, bob, 0, 0, 0, G_MAXSIZE, &more, &error);
  assert_page (page, NULL, 0);
  g_assert_true (more);
  g_clear_pointer (&page, g_ptr_array_unref);

  page = store_message_history (store, alice, 9999, 0, 0, 10, G_MAXSIZE, &more, &error);
  g_assert_no_error (error);
  assert_page (page, NULL, 0);
  g_assert_false (more);
  g_clear_pointer (&page, g_ptr_array_unref);

  page = store_message_history (store, alice, bob, group, 0, 10, G_MAXSIZE, &more, &error);
  g_assert_null (page);
  g_assert_error (error, STORE_ERROR, STORE_ERROR_FAILED);
  g_clear_error (&error);
  return TRUE;
}

static void
test_history (Fixture *f, gconstpointer data)
{
  run_sync (f->store, history_work, NULL);
}

static GPtrArray *
sync_page (Store *store, gint64 user, gint64 after, guint limit, gboolean *more)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *page = store_message_sync (store, user, after, limit, G_MAXSIZE, more, &error);

  g_assert_no_error (error);
  g_assert_nonnull (page);
  for (guint i = 1; i < page->len; i++)
    g_assert_cmpint (((StoreMessage *) g_ptr_array_index (page, i - 1))->seq, <,
                     ((StoreMessage *) g_ptr_array_index (page, i))->seq);
  return page;
}

static gboolean
sync_work_fn (Store *store, gpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) page = NULL;
  g_autoptr(StoreMessage) last = NULL;
  gint64 alice = add_user (store, "alice");
  gint64 bob = add_user (store, "bob");
  gint64 carol = add_user (store, "carol");
  gint64 group = add_group (store, "g", carol, 1);
  gint64 m1, m2, m3, m4, m5, seq_m5, seq;
  gboolean more = TRUE;

  g_assert_true (store_group_add_member (store, group, alice, 2, &error));
  g_assert_no_error (error);

  m1 = send_message (store, alice, bob, 0, "a to b");
  m2 = send_message (store, bob, alice, 0, "b to a");
  m3 = send_message (store, carol, bob, 0, "c to b");
  m4 = send_message (store, carol, 0, group, "c to group");
  m5 = send_message (store, alice, bob, 0, "a to b again");
  last = get_message (store, m5, FALSE);
  seq_m5 = last->seq;

  page = sync_page (store, alice, 0, 100, &more);
  assert_page (page, (gint64[]) { m1, m2, m4, m5 }, 4);
  g_assert_false (more);
  g_clear_pointer (&page, g_ptr_array_unref);

  page = sync_page (store, carol, 0, 100, &more);
  assert_page (page, (gint64[]) { m3, m4 }, 2);
  g_clear_pointer (&page, g_ptr_array_unref);

  /* Paging by seq. */
  page = sync_page (store, alice, 0, 2, &more);
  assert_page (page, (gint64[]) { m1, m2 }, 2);
  g_assert_true (more);
  seq = ((StoreMessage *) g_ptr_array_index (page, 1))->seq;
  g_clear_pointer (&page, g_ptr_array_unref);
  page = sync_page (store, alice, seq, 2, &more);
  assert_page (page, (gint64[]) { m4, m5 }, 2);
  g_assert_false (more);
  g_clear_pointer (&page, g_ptr_array_unref);

  page = sync_page (store, alice, seq_m5, 100, &more);
  assert_page (page, NULL, 0);
  g_assert_false (more);
  g_clear_pointer (&page, g_ptr_array_unref);

  /* Old messages edited or deleted since come again, in change order. */
  g_assert_true (store_message_delete (store, m2, NULL, &error));
  g_assert_true (store_message_edit (store, m1, "a to b, edited", NULL, &error));
  g_assert_no_error (error);
  page = sync_page (store, alice, seq_m5, 100, &more);
  assert_page (page, (gint64[]) { m2, m1 }, 2);
  g_assert_true (((StoreMessage *) g_ptr_array_index (page, 0))->deleted);
  g_assert_true (((StoreMessage *) g_ptr_array_index (page, 1))->edited);
  g_assert_cmpstr (((StoreMessage *) g_ptr_array_index (page, 1))->text, ==, "a to b, edited");
  g_clear_pointer (&page, g_ptr_array_unref);
  page = sync_page (store, bob, seq_m5, 100, &more);
  assert_page (page, (gint64[]) { m2, m1 }, 2);
  g_clear_pointer (&page, g_ptr_array_unref);
  page = sync_page (store, carol, seq_m5, 100, &more);
  assert_page (page, NULL, 0);
  g_clear_pointer (&page, g_ptr_array_unref);

  /* Group messages only while a member. */
  g_assert_true (store_group_remove_member (store, group, alice, &error));
  g_assert_no_error (error);
  page = sync_page (store, alice, 0, 100, &more);
  assert_page (page, (gint64[]) { m5, m2, m1 }, 3);
  g_clear_pointer (&page, g_ptr_array_unref);

  g_assert_true (store_group_add_member (store, group, bob, 3, &error));
  page = sync_page (store, bob, 0, 100, &more);
  assert_page (page, (gint64[]) { m3, m4, m5, m2, m1 }, 5);
  g_clear_pointer (&page, g_ptr_array_unref);

  /* max_bytes applies as in history: 12 bytes hold "c to b" (6) and
   * "c to group" would pass it. */
  page = store_message_sync (store, bob, 0, 100, 12, &more, &error);
  g_assert_no_error (error);
  assert_page (page, (gint64[]) { m3 }, 1);
  g_assert_true (more);
  return TRUE;
}

static void
test_sync (Fixture *f, gconstpointer data)
{
  run_sync (f->store, sync_work_fn, NULL);
}

/* ---- the job runner ------------------------------------------------------- */

/* Holds the store thread inside a job until opened, so that the jobs queued
 * meanwhile pile up and are taken together. */
typedef struct {
  GMutex   lock;
  GCond    cond;
  gboolean started;
  gboolean open;
} Gate;

static gboolean
gate_work (Store *store, gpointer job)
{
  Gate *gate = job;

  g_mutex_lock (&gate->lock);
  gate->started = TRUE;
  g_cond_broadcast (&gate->cond);
  while (!gate->open)
    g_cond_wait (&gate->cond, &gate->lock);
  g_mutex_unlock (&gate->lock);
  return TRUE;
}

static void
gate_wait_started (Gate *gate)
{
  g_mutex_lock (&gate->lock);
  while (!gate->started)
    g_cond_wait (&gate->cond, &gate->lock);
  g_mutex_unlock (&gate->lock);
}

static void
gate_open (Gate *gate)
{
  g_mutex_lock (&gate->lock);
  gate->open = TRUE;
  g_cond_broadcast (&gate->cond);
  g_mutex_unlock (&gate->lock);
}

typedef struct {
  GThread *main_thread;
  guint    n_worked;     /* store thread only */
  guint    n_done;       /* main thread only */
  guint    n_committed;
  gboolean in_order;
} Runner;

typedef struct {
  Runner  *runner;
  guint    index;
  char    *username;     /* created by the work when set */
  gboolean fail;         /* work creates its user, then returns FALSE */
  gboolean duplicate;    /* work also creates an existing user and fails on it */
  gboolean worked;
  gboolean committed;
} CountJob;

static gboolean
count_work (Store *store, gpointer data)
{
  CountJob *job = data;

  g_assert_true (g_thread_self () != job->runner->main_thread);
  if (job->runner->n_worked != job->index)
    job->runner->in_order = FALSE;
  job->runner->n_worked++;
  job->worked = TRUE;

  if (job->username != NULL)
    {
      g_autoptr(GError) error = NULL;

      if (store_user_create (store, job->username, "h", "", 1, &error) == 0)
        return FALSE;
      if (job->duplicate &&
          store_user_create (store, "job0", "h", "", 1, &error) == 0)
        {
          g_assert_error (error, STORE_ERROR, STORE_ERROR_EXISTS);
          return FALSE;
        }
    }
  return !job->fail;
}

static void
count_done (gpointer data, gboolean committed)
{
  CountJob *job = data;

  g_assert_true (g_thread_self () == job->runner->main_thread);
  g_assert_true (g_main_context_is_owner (g_main_context_default ()));
  if (job->runner->n_done != job->index)
    job->runner->in_order = FALSE;
  job->runner->n_done++;
  if (committed)
    job->runner->n_committed++;
  job->committed = committed;
}

static CountJob *
count_jobs_new (Runner *runner, guint n, gboolean with_users)
{
  CountJob *jobs = g_new0 (CountJob, n);

  for (guint i = 0; i < n; i++)
    {
      jobs[i].runner = runner;
      jobs[i].index = i;
      if (with_users)
        jobs[i].username = g_strdup_printf ("job%u", i);
    }
  return jobs;
}

static void
count_jobs_free (CountJob *jobs, guint n)
{
  for (guint i = 0; i < n; i++)
    g_free (jobs[i].username);
  g_free (jobs);
}

static void
runner_wait (Runner *runner, guint n)
{
  while (runner->n_done < n)
    g_main_context_iteration (NULL, TRUE);
}

static void
test_jobs_order (Fixture *f, gconstpointer data)
{
  const guint n = 300;
  Runner runner = { g_thread_self (), 0, 0, 0, TRUE };
  CountJob *jobs = count_jobs_new (&runner, n, TRUE);

  for (guint i = 0; i < n; i++)
    store_run (f->store, count_work, count_done, &jobs[i]);
  runner_wait (&runner, n);

  g_assert_true (runner.in_order);
  g_assert_cmpuint (runner.n_worked, ==, n);
  g_assert_cmpuint (runner.n_committed, ==, n);
  g_assert_cmpuint (store_queue_length (f->store), ==, 0);
  count_jobs_free (jobs, n);
}

typedef struct {
  const char *present[3];
  const char *absent[3];
} Expect;

static gboolean
expect_users_work (Store *store, gpointer data)
{
  Expect *expect = data;

  for (guint i = 0; i < G_N_ELEMENTS (expect->present) && expect->present[i]; i++)
    g_assert_cmpint (find_user (store, expect->present[i]), >, 0);
  for (guint i = 0; i < G_N_ELEMENTS (expect->absent) && expect->absent[i]; i++)
    g_assert_cmpint (find_user (store, expect->absent[i]), ==, 0);
  return TRUE;
}

static void
test_jobs_rollback (Fixture *f, gconstpointer data)
{
  Runner runner = { g_thread_self (), 0, 0, 0, TRUE };
  CountJob *jobs = count_jobs_new (&runner, 4, TRUE);
  Gate gate = { 0, };
  Expect expect = { { "job0", "job2", NULL }, { "job1", "job3", NULL } };
  guint commits;

  /* job1 gives up after its insert; job3 fails on a unique constraint
   * after its own insert. Both must vanish, job0 and job2 must stay. */
  jobs[1].fail = TRUE;
  jobs[3].duplicate = TRUE;

  g_mutex_init (&gate.lock);
  g_cond_init (&gate.cond);
  store_run (f->store, gate_work, NULL, &gate);
  gate_wait_started (&gate);
  commits = store_commit_count (f->store);

  for (guint i = 0; i < 4; i++)
    store_run (f->store, count_work, count_done, &jobs[i]);
  g_assert_cmpuint (store_queue_length (f->store), ==, 5);
  gate_open (&gate);
  runner_wait (&runner, 4);

  /* The gate's transaction and one for all four jobs. */
  g_assert_cmpuint (store_commit_count (f->store) - commits, ==, 2);
  g_assert_true (runner.in_order);
  for (guint i = 0; i < 4; i++)
    {
      g_assert_true (jobs[i].worked);
      g_assert_true (jobs[i].committed);
    }
  run_sync (f->store, expect_users_work, &expect);

  count_jobs_free (jobs, 4);
  g_mutex_clear (&gate.lock);
  g_cond_clear (&gate.cond);
}

static void
test_jobs_batching (Fixture *f, gconstpointer data)
{
  const guint n = 1000;
  Runner runner = { g_thread_self (), 0, 0, 0, TRUE };
  CountJob *jobs = count_jobs_new (&runner, n, TRUE);
  Gate gate = { 0, };
  guint commits = store_commit_count (f->store);

  g_mutex_init (&gate.lock);
  g_cond_init (&gate.cond);
  store_run (f->store, gate_work, NULL, &gate);
  for (guint i = 0; i < n; i++)
    store_run (f->store, count_work, count_done, &jobs[i]);
  g_assert_cmpuint (store_queue_length (f->store), ==, n + 1);
  gate_open (&gate);
  runner_wait (&runner, n);

  /* The gate and the 1000 jobs behind it: at most two transactions (one if
   * the thread took the gate together with the others). */
  g_assert_cmpuint (store_commit_count (f->store) - commits, <=, 2);
  g_assert_cmpuint (runner.n_committed, ==, n);
  g_assert_true (runner.in_order);
  g_assert_cmpuint (store_queue_length (f->store), ==, 0);

  count_jobs_free (jobs, n);
  g_mutex_clear (&gate.lock);
  g_cond_clear (&gate.cond);
}

/* Runs SQL on the store's connection behind the API's back, to make the
 * database misbehave the way a full disk or a broken file would. */
typedef struct {
  const char *sql;      /* for SQLite */
  const char *pg_sql;   /* for PostgreSQL */
  gboolean    committed;
  gboolean    finished;
} RawJob;

static gboolean
raw_work (Store *store, gpointer data)
{
  RawJob *job = data;

  if (store->pg != NULL)
    {
      g_autoptr(PGresult) result = PQexec (store->pg->conn, job->pg_sql);

      g_assert_cmpint (PQresultStatus (result), ==, PGRES_COMMAND_OK);
    }
  else
    g_assert_cmpint (sqlite3_exec (store->db, job->sql, NULL, NULL, NULL), ==, SQLITE_OK);
  return TRUE;
}

static void
raw_done (gpointer data, gboolean committed)
{
  RawJob *job = data;

  job->committed = committed;
  job->finished = TRUE;
}

/* Queues jobs[0], raw, jobs[1] behind a gate, so they share a batch. */
static void
run_with_raw_job (Store *store, CountJob *jobs, Runner *runner, RawJob *raw)
{
  Gate gate = { 0, };

  g_mutex_init (&gate.lock);
  g_cond_init (&gate.cond);
  store_run (store, gate_work, NULL, &gate);
  gate_wait_started (&gate);
  store_run (store, count_work, count_done, &jobs[0]);
  store_run (store, raw_work, raw_done, raw);
  store_run (store, count_work, count_done, &jobs[1]);
  gate_open (&gate);
  runner_wait (runner, 2);
  g_assert_true (raw->finished);
  g_mutex_clear (&gate.lock);
  g_cond_clear (&gate.cond);
}

static void
test_jobs_commit_fails (Fixture *f, gconstpointer data)
{
  Runner runner = { g_thread_self (), 0, 0, 0, TRUE };
  CountJob *jobs = count_jobs_new (&runner, 2, TRUE);
  /* A deferred foreign key violation passes the savepoint and fails the
   * COMMIT, as a full disk would. */
  RawJob raw = { "PRAGMA defer_foreign_keys = ON;"
                 "INSERT INTO tokens (token_hash, user_id, created_ms) VALUES ('t', 9999, 0)",
                 "SET CONSTRAINTS ALL DEFERRED;"
                 "INSERT INTO tokens (token_hash, user_id, created_ms) VALUES ('t', 9999, 0)",
                 TRUE, FALSE };
  Expect expect = { { NULL }, { "job0", "job1", NULL } };

  g_test_expect_message ("voip-store", G_LOG_LEVEL_WARNING, "committing: *");
  run_with_raw_job (f->store, jobs, &runner, &raw);
  g_test_assert_expected_messages ();

  /* Nothing of the batch reached the disk, and every job hears of it. */
  g_assert_false (jobs[0].committed);
  g_assert_false (raw.committed);
  g_assert_false (jobs[1].committed);
  run_sync (f->store, expect_users_work, &expect);
  count_jobs_free (jobs, 2);
}

static void
test_jobs_transaction_lost (Fixture *f, gconstpointer data)
{
  Runner runner = { g_thread_self (), 0, 0, 0, TRUE };
  CountJob *jobs = count_jobs_new (&runner, 2, TRUE);
  /* SQLite itself rolls the whole transaction back on some I/O errors. */
  RawJob raw = { "ROLLBACK", "ROLLBACK", TRUE, FALSE };
  Expect expect = { { "job1", NULL }, { "job0", NULL } };

  g_test_expect_message ("voip-store", G_LOG_LEVEL_WARNING, "*rolled back a transaction*");
  g_test_expect_message ("voip-store", G_LOG_LEVEL_WARNING, "rolling back a transaction of 2 jobs");
  run_with_raw_job (f->store, jobs, &runner, &raw);
  g_test_assert_expected_messages ();

  /* The jobs up to the loss report it; the job after runs in a new
   * transaction and commits. */
  g_assert_false (jobs[0].committed);
  g_assert_false (raw.committed);
  g_assert_true (jobs[1].committed);
  run_sync (f->store, expect_users_work, &expect);
  count_jobs_free (jobs, 2);
}

static gboolean
count_users_work (Store *store, gpointer data)
{
  guint n = GPOINTER_TO_UINT (data);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf ("job%u", i);

      g_assert_cmpint (find_user (store, name), >, 0);
    }
  return TRUE;
}

static void
test_jobs_close_drains (Fixture *f, gconstpointer data)
{
  const guint n = 200;
  Runner runner = { g_thread_self (), 0, 0, 0, TRUE };
  CountJob *jobs = count_jobs_new (&runner, n, TRUE);

  for (guint i = 0; i < n; i++)
    store_run (f->store, count_work, count_done, &jobs[i]);
  g_clear_pointer (&f->store, store_close);

  /* Every job ran before close returned; their done calls wait for the
   * main context. */
  g_assert_cmpuint (runner.n_worked, ==, n);
  runner_wait (&runner, n);
  g_assert_cmpuint (runner.n_committed, ==, n);
  g_assert_true (runner.in_order);

  /* And it is all on disk. */
  f->store = open_store (f->path);
  run_sync (f->store, count_users_work, GUINT_TO_POINTER (n));
  count_jobs_free (jobs, n);
}

/* Message ids and seqs continue after a restart. */
typedef struct {
  gint64 alice, bob;
  gint64 id, seq;
} Durable;

static gboolean
durable_first_work (Store *store, gpointer data)
{
  Durable *d = data;
  g_autoptr(StoreMessage) message = NULL;
  gint64 id;

  d->alice = add_user (store, "alice");
  d->bob = add_user (store, "bob");
  id = send_message (store, d->alice, d->bob, 0, "one");
  g_assert_true (store_message_edit (store, id, "one, edited", NULL, NULL));
  message = get_message (store, id, FALSE);
  d->id = message->id;
  d->seq = message->seq;
  return TRUE;
}

static gboolean
durable_second_work (Store *store, gpointer data)
{
  Durable *d = data;
  g_autoptr(StoreMessage) old = get_message (store, d->id, FALSE);
  g_autoptr(StoreMessage) message = NULL;
  gint64 id;

  g_assert_cmpstr (old->text, ==, "one, edited");
  id = send_message (store, d->bob, d->alice, 0, "two");
  message = get_message (store, id, FALSE);
  g_assert_cmpint (message->id, >, d->id);
  g_assert_cmpint (message->seq, >, d->seq);
  return TRUE;
}

static void
test_durability (Fixture *f, gconstpointer data)
{
  Durable d = { 0, };

  run_sync (f->store, durable_first_work, &d);
  fixture_reopen (f);
  run_sync (f->store, durable_second_work, &d);
}

/* ---- file modes ----------------------------------------------------------- */

static guint
file_mode (const char *path)
{
  GStatBuf st;

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  return st.st_mode & 07777;
}

static void
assert_private_files (const char *path)
{
  const char *const suffixes[] = { "", "-wal", "-shm" };

  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *file = g_strconcat (path, suffixes[i], NULL);

      g_test_message ("%s: %o", file, file_mode (file));
      g_assert_cmpuint (file_mode (file), ==, 0600);
    }
}

/* The database holds password hashes and every message: the file and its
 * WAL and shared-memory files are the owner's alone under a usual umask. */
static void
test_file_modes (Fixture *f, gconstpointer data)
{
  g_autofree char *path = g_build_filename (f->dir, "modes.db", NULL);
  mode_t old_mask = umask (022);
  gint64 alice = 0;
  Store *store;

  store = open_store (path);
  run_sync (store, create_alice_work, &alice);
  assert_private_files (path);
  store_close (store);
  drain_main_context ();
  umask (old_mask);
}

/* A database created world-readable (by an older version) is tightened at
 * open, -wal and -shm left over from a crash with it. */
static void
test_file_modes_tightened (Fixture *f, gconstpointer data)
{
  const char *const suffixes[] = { "", "-wal", "-shm" };
  mode_t old_mask = umask (022);
  gint64 alice = 0;

  g_clear_pointer (&f->store, store_close);
  drain_main_context ();
  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *file = g_strconcat (f->path, suffixes[i], NULL);

      /* A clean close removes -wal and -shm; empty ones stand in for the
       * leftovers of a crash (SQLite takes an empty WAL as no WAL). */
      if (!g_file_test (file, G_FILE_TEST_EXISTS))
        g_assert_true (g_file_set_contents (file, "", 0, NULL));
      g_assert_cmpint (g_chmod (file, 0644), ==, 0);
    }
  g_assert_cmpuint (file_mode (f->path), ==, 0644);

  f->store = open_store (f->path);
  run_sync (f->store, create_alice_work, &alice);
  assert_private_files (f->path);
  umask (old_mask);
}

/* ---- PostgreSQL outages --------------------------------------------------- */

typedef struct {
  char    *username;
  gboolean finished;
  gboolean committed;
} ProbeJob;

static gboolean
probe_work (Store *store, gpointer data)
{
  ProbeJob *job = data;
  g_autoptr(GError) error = NULL;

  return store_user_create (store, job->username, "h", "", 1, &error) > 0;
}

static void
probe_done (gpointer data, gboolean committed)
{
  ProbeJob *job = data;

  job->finished = TRUE;
  job->committed = committed;
}

/* Creates a user in a job of its own; TRUE if it was committed. */
static gboolean
run_probe (Store *store)
{
  static guint n_probes;
  g_autofree char *username = g_strdup_printf ("probe%u", ++n_probes);
  ProbeJob job = { username, FALSE, FALSE };

  store_run (store, probe_work, probe_done, &job);
  while (!job.finished)
    g_main_context_iteration (NULL, TRUE);
  return job.committed;
}

static gboolean
on_poll_tick (gpointer data)
{
  gboolean *ticked = data;

  *ticked = TRUE;
  return G_SOURCE_REMOVE;
}

/* Requests while the server is down fail (not committed, so the server
 * answers Storage) instead of hanging, and the store is back by itself once
 * the server is: nothing committed before is lost. */
static void
test_pg_outage (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  gint64 alice = 0;
  gint64 deadline;
  gboolean back = FALSE;
  GLogLevelFlags fatal;

  /* The store's warnings about the lost connection are what an outage
   * looks like, not failures of the test (g_test_init() makes warnings
   * fatal); criticals stay fatal. */
  fatal = g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  run_sync (f->store, create_alice_work, &alice);

  g_assert_true (test_postgres_stop (cluster, &error));
  g_assert_no_error (error);
  /* The first finds the connection gone; the next fail while reconnecting. */
  for (guint i = 0; i < 3; i++)
    g_assert_false (run_probe (f->store));

  g_assert_true (test_postgres_start (cluster, &error));
  g_assert_no_error (error);

  /* Polls every 50 ms; the store retries a connection every
   * STORE_PG_RETRY_MS, so this takes about that long. */
  deadline = g_get_monotonic_time () + 60 * G_TIME_SPAN_SECOND;
  while (!(back = run_probe (f->store)) && g_get_monotonic_time () < deadline)
    {
      gboolean ticked = FALSE;

      g_timeout_add (50, on_poll_tick, &ticked);
      while (!ticked)
        g_main_context_iteration (NULL, TRUE);
    }
  g_assert_true (back);
  run_sync (f->store, check_alice_work, &alice);
  g_log_set_always_fatal (fatal);
}

/* A server that accepts and never answers (frozen with SIGSTOP): a job
 * fails after STORE_PG_TIMEOUT_MS instead of hanging, and the store is back
 * once the server is. */
static void
test_pg_server_hangs (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  gint64 alice = 0;
  gint64 deadline;
  gboolean back = FALSE;
  GLogLevelFlags fatal;

  fatal = g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  run_sync (f->store, create_alice_work, &alice);

  g_assert_true (test_postgres_freeze (cluster, TRUE, &error));
  g_assert_no_error (error);
  g_assert_false (run_probe (f->store));
  g_assert_true (test_postgres_freeze (cluster, FALSE, &error));
  g_assert_no_error (error);

  deadline = g_get_monotonic_time () + 60 * G_TIME_SPAN_SECOND;
  while (!(back = run_probe (f->store)) && g_get_monotonic_time () < deadline)
    {
      gboolean ticked = FALSE;

      g_timeout_add (50, on_poll_tick, &ticked);
      while (!ticked)
        g_main_context_iteration (NULL, TRUE);
    }
  g_assert_true (back);
  run_sync (f->store, check_alice_work, &alice);
  g_log_set_always_fatal (fatal);
}

/* PostgreSQL restarted while the store was idle: the first job after it
 * must not fail for the connection that died meanwhile. */
static void
test_pg_restart_while_idle (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  gint64 alice = 0;
  GLogLevelFlags fatal;

  fatal = g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  run_sync (f->store, create_alice_work, &alice);
  g_assert_true (test_postgres_stop (cluster, &error));
  g_assert_true (test_postgres_start (cluster, &error));
  g_assert_no_error (error);

  g_assert_true (run_probe (f->store));
  run_sync (f->store, check_alice_work, &alice);
  g_log_set_always_fatal (fatal);
}

/* A job whose work goes on past a failed statement (a foreign key
 * violation here) and returns TRUE: PostgreSQL has aborted the job's
 * savepoint, so the job must hear it was not committed, while the jobs
 * around it in the same transaction commit. */
static gboolean
ignore_error_work (Store *store, gpointer data)
{
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (store_group_create (store, "orphan", 9999, 1, &error), ==, 0);
  g_assert_error (error, STORE_ERROR, STORE_ERROR_NOT_FOUND);
  return TRUE;
}

static void
test_pg_job_ignores_error (Fixture *f, gconstpointer data)
{
  Runner runner = { g_thread_self (), 0, 0, 0, TRUE };
  CountJob *jobs = count_jobs_new (&runner, 2, TRUE);
  RawJob ignored = { NULL, NULL, TRUE, FALSE };
  Expect expect = { { "job0", "job1", NULL }, { NULL } };
  Gate gate = { 0, };

  g_mutex_init (&gate.lock);
  g_cond_init (&gate.cond);
  store_run (f->store, gate_work, NULL, &gate);
  gate_wait_started (&gate);
  store_run (f->store, count_work, count_done, &jobs[0]);
  store_run (f->store, ignore_error_work, raw_done, &ignored);
  store_run (f->store, count_work, count_done, &jobs[1]);
  g_test_expect_message ("voip-store", G_LOG_LEVEL_WARNING, "finishing a job: *");
  gate_open (&gate);
  runner_wait (&runner, 2);
  g_test_assert_expected_messages ();

  g_assert_true (ignored.finished);
  g_assert_false (ignored.committed);
  g_assert_true (jobs[0].committed);
  g_assert_true (jobs[1].committed);
  run_sync (f->store, expect_users_work, &expect);
  count_jobs_free (jobs, 2);
  g_mutex_clear (&gate.lock);
  g_cond_clear (&gate.cond);
}

/* No server at the address: a clear error at open, at once. */
static void
test_pg_no_server (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *uri = test_postgres_dead_uri (cluster);
  Store *store = store_open (uri, NULL, &error);

  g_assert_null (store);
  g_assert_error (error, STORE_ERROR, STORE_ERROR_UNAVAILABLE);
}

/* Each test is one TestCase per backend it runs on, kept until exit. */
static GPtrArray *test_cases;

enum { ON_SQLITE = 1 << 0, ON_POSTGRESQL = 1 << 1, ON_BOTH = ON_SQLITE | ON_POSTGRESQL };

/* VOIP_TEST_STORE_BACKEND=sqlite or postgresql runs one half (meson runs
 * each as its own test); unset, both. */
static guint
selected_backends (void)
{
  const char *name = g_getenv ("VOIP_TEST_STORE_BACKEND");

  if (g_strcmp0 (name, "sqlite") == 0)
    return ON_SQLITE;
  if (g_strcmp0 (name, "postgresql") == 0)
    return ON_POSTGRESQL;
  return ON_BOTH;
}

static void
add_test (const char *path, TestFunc func, guint backends)
{
  backends &= selected_backends ();
  for (guint i = 0; i < 2; i++)
    {
      gboolean postgresql = i == 1;
      g_autofree char *full = NULL;
      TestCase *test;

      if ((backends & (postgresql ? ON_POSTGRESQL : ON_SQLITE)) == 0)
        continue;
      test = g_new0 (TestCase, 1);
      test->postgresql = postgresql;
      test->func = func;
      g_ptr_array_add (test_cases, test);
      full = g_strdup_printf ("/store/%s%s", postgresql ? "postgresql" : "sqlite", path);
      g_test_add (full, Fixture, test, fixture_set_up, run_case, fixture_tear_down);
    }
}

int
main (int argc, char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);
  test_cases = g_ptr_array_new_with_free_func (g_free);

  add_test ("/schema/fresh", test_schema_fresh, ON_BOTH);
  add_test ("/schema/reopen", test_schema_reopen, ON_BOTH);
  add_test ("/schema/too-new", test_schema_too_new, ON_BOTH);
  add_test ("/schema/not-a-database", test_schema_not_a_database, ON_SQLITE);
  add_test ("/users", test_users, ON_BOTH);
  add_test ("/tokens", test_tokens, ON_BOTH);
  add_test ("/profile", test_profile, ON_BOTH);
  add_test ("/contacts", test_contacts, ON_BOTH);
  add_test ("/groups", test_groups, ON_BOTH);
  add_test ("/messages/basics", test_messages, ON_BOTH);
  add_test ("/messages/history", test_history, ON_BOTH);
  add_test ("/messages/sync", test_sync, ON_BOTH);
  add_test ("/jobs/order", test_jobs_order, ON_BOTH);
  add_test ("/jobs/rollback", test_jobs_rollback, ON_BOTH);
  add_test ("/jobs/batching", test_jobs_batching, ON_BOTH);
  add_test ("/jobs/close-drains", test_jobs_close_drains, ON_BOTH);
  add_test ("/jobs/commit-fails", test_jobs_commit_fails, ON_BOTH);
  add_test ("/jobs/transaction-lost", test_jobs_transaction_lost, ON_BOTH);
  add_test ("/durability", test_durability, ON_BOTH);
  add_test ("/file-modes", test_file_modes, ON_SQLITE);
  add_test ("/file-modes/tightened", test_file_modes_tightened, ON_SQLITE);
  add_test ("/outage", test_pg_outage, ON_POSTGRESQL);
  add_test ("/no-server", test_pg_no_server, ON_POSTGRESQL);
  add_test ("/restart-while-idle", test_pg_restart_while_idle, ON_POSTGRESQL);
  add_test ("/jobs/error-ignored", test_pg_job_ignores_error, ON_POSTGRESQL);
  add_test ("/server-hangs", test_pg_server_hangs, ON_POSTGRESQL);

  status = g_test_run ();

  g_clear_pointer (&cluster, test_postgres_free);
  g_clear_pointer (&cluster_failure, g_free);
  g_clear_pointer (&test_cases, g_ptr_array_unref);
  return status;
}
