/* test-voip-sqlite.c — the shared SQLite helpers (common/sqlite/), on real
 * files in a temporary folder. */
#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#include "voip-sqlite.h"

static const char *const migrations[] = {
  "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);",
  "ALTER TABLE items ADD COLUMN size INTEGER NOT NULL DEFAULT 0;",
};

typedef struct {
  char *dir;
  char *path;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("test-voip-sqlite-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, "test.db", NULL);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };

  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *file = g_strconcat (f->path, suffixes[i], NULL);

      g_unlink (file);
    }
  g_rmdir (f->dir);
  g_free (f->path);
  g_free (f->dir);
}

static VoipSqlite *
open_with (Fixture *f, guint n_migrations, GError **error)
{
  VoipSqliteOptions options = {
    .migrations = migrations,
    .n_migrations = n_migrations,
    .busy_timeout_ms = 50,
    .what = "the test database",
  };

  return voip_sqlite_open (f->path, &options, error);
}

static int
pragma_int (VoipSqlite *db, const char *sql)
{
  sqlite3_stmt *stmt = NULL;
  int value;

  g_assert_cmpint (sqlite3_prepare_v2 (voip_sqlite_get_handle (db), sql, -1, &stmt, NULL), ==,
                   SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  value = sqlite3_column_int (stmt, 0);
  sqlite3_finalize (stmt);
  return value;
}

static void
test_open_private (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(VoipSqlite) db = NULL;
  mode_t old_umask = umask (022);
  struct stat st;

  db = open_with (f, 1, &error);
  umask (old_umask);
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (f->path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  /* WAL, NORMAL (1) unless asked for FULL, foreign keys on. */
  g_assert_cmpint (pragma_int (db, "PRAGMA synchronous"), ==, 1);
  g_assert_cmpint (pragma_int (db, "PRAGMA foreign_keys"), ==, 1);
  g_clear_pointer (&db, voip_sqlite_close);

  /* A file others can read (made by hand, an older version) is tightened. */
  g_assert_cmpint (g_chmod (f->path, 0644), ==, 0);
  db = open_with (f, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (f->path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
}

static void
test_open_full (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  VoipSqliteOptions options = { .what = "the test database", .synchronous_full = TRUE };
  g_autoptr(VoipSqlite) db = voip_sqlite_open (f->path, &options, &error);

  g_assert_no_error (error);
  g_assert_cmpint (pragma_int (db, "PRAGMA synchronous"), ==, 2);
  g_assert_cmpint (voip_sqlite_get_schema_version (db), ==, 0);
}

/* A user_version no release writes is refused like a newer schema, and the
 * file is left as it was. */
static void
test_negative_schema_version (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(VoipSqlite) db = NULL;
  sqlite3 *raw = NULL;

  g_assert_cmpint (sqlite3_open (f->path, &raw), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (raw, "PRAGMA user_version = -1", NULL, NULL, NULL), ==,
                   SQLITE_OK);
  sqlite3_close (raw);

  db = open_with (f, 2, &error);
  g_assert_null (db);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "-1"));
  g_clear_error (&error);

  g_assert_cmpint (sqlite3_open (f->path, &raw), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (raw, "SELECT * FROM items", NULL, NULL, NULL), !=, SQLITE_OK);
  sqlite3_close (raw);
}

static void
test_open_not_a_database (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(VoipSqlite) db = NULL;

  g_assert_true (g_file_set_contents (f->path, "this is not a database, not at all, "
                                      "but long enough to have a header", -1, NULL));
  db = open_with (f, 1, &error);
  g_assert_null (db);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, f->path));
}

static void
test_migrations (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(VoipSqlite) db = open_with (f, 1, &error);

  g_assert_no_error (error);
  g_assert_cmpint (voip_sqlite_get_schema_version (db), ==, 1);
  g_assert_true (voip_sqlite_exec (db, "INSERT INTO items (name) VALUES ('a')", "insert", &error));
  g_clear_pointer (&db, voip_sqlite_close);

  /* The next step only, and the data kept. */
  db = open_with (f, 2, &error);
  g_assert_no_error (error);
  g_assert_cmpint (voip_sqlite_get_schema_version (db), ==, 2);
  g_assert_cmpint (pragma_int (db, "SELECT count(*) FROM items WHERE size = 0"), ==, 1);
  g_clear_pointer (&db, voip_sqlite_close);

  /* An older program refuses a newer file, and leaves it as it was. */
  db = open_with (f, 1, &error);
  g_assert_null (db);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);
  db = open_with (f, 2, &error);
  g_assert_no_error (error);
  g_assert_cmpint (pragma_int (db, "PRAGMA user_version"), ==, 2);
}

static void
test_migration_fails_whole (Fixture *f, gconstpointer data)
{
  static const char *const broken[] = {
    "CREATE TABLE a (x INTEGER); CREATE TABLE a (y INTEGER);",   /* the second fails */
  };
  VoipSqliteOptions options = { .migrations = broken, .n_migrations = 1, .what = "it" };
  g_autoptr(GError) error = NULL;
  g_autoptr(VoipSqlite) db = voip_sqlite_open (f->path, &options, &error);

  g_assert_null (db);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_clear_error (&error);

  /* Neither the first table nor the version bump stayed. */
  db = open_with (f, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (pragma_int (db, "PRAGMA user_version"), ==, 0);
  g_assert_cmpint (pragma_int (db, "SELECT count(*) FROM sqlite_master WHERE name = 'a'"), ==, 0);
}

static void
test_statements (Fixture *f, gconstpointer data)
{
  static const char insert[] = "INSERT INTO items (name, size) VALUES (?1, ?2)";
  static const char select[] = "SELECT name, size FROM items ORDER BY id";
  g_autoptr(GError) error = NULL;
  g_autoptr(VoipSqlite) db = open_with (f, 2, &error);
  VoipSqliteStmt *first;

  g_assert_no_error (error);
  for (int i = 0; i < 3; i++)
    {
      g_autoptr(VoipSqliteStmt) stmt = voip_sqlite_stmt (db, insert, "inserting", &error);
      g_autofree char *name = g_strdup_printf ("item %d", i);

      g_assert_no_error (error);
      if (i == 0)
        first = stmt;
      g_assert_true (stmt == first);   /* prepared once */
      voip_sqlite_bind_text (stmt, 1, name);
      sqlite3_bind_int (stmt, 2, i);
      g_assert_true (voip_sqlite_step_done (db, stmt, "inserting", &error));
    }

  {
    g_autoptr(VoipSqliteStmt) stmt = voip_sqlite_stmt (db, select, "listing", &error);
    int n = 0, row;

    while ((row = voip_sqlite_step_row (db, stmt, "listing", &error)) == 1)
      {
        g_autofree char *name = voip_sqlite_column_dup (stmt, 0);
        g_autofree char *expected = g_strdup_printf ("item %d", n);

        g_assert_cmpstr (name, ==, expected);
        g_assert_cmpint (sqlite3_column_int (stmt, 1), ==, n);
        n++;
      }
    g_assert_cmpint (row, ==, 0);
    g_assert_cmpint (n, ==, 3);
  }

  /* A conflict is EXISTS, and names what failed. */
  {
    g_autoptr(VoipSqliteStmt) stmt = voip_sqlite_stmt (db, insert, "inserting", &error);

    voip_sqlite_bind_text (stmt, 1, "item 0");
    sqlite3_bind_int (stmt, 2, 9);
    g_assert_false (voip_sqlite_step_done (db, stmt, "inserting", &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS);
    g_assert_true (g_str_has_prefix (error->message, "inserting: "));
  }
}

static void
test_bytes (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(VoipSqlite) db = open_with (f, 0, &error);
  g_autoptr(GBytes) empty = g_bytes_new (NULL, 0);
  g_autoptr(GBytes) some = g_bytes_new ("\0\1\2", 3);
  static const char sql[] = "SELECT ?1, typeof (?1)";

  g_assert_no_error (error);
  for (int i = 0; i < 2; i++)
    {
      g_autoptr(VoipSqliteStmt) stmt = voip_sqlite_stmt (db, sql, "selecting", &error);
      g_autoptr(GBytes) back = NULL;
      g_autofree char *type = NULL;

      voip_sqlite_bind_bytes (stmt, 1, i == 0 ? empty : some);
      g_assert_cmpint (voip_sqlite_step_row (db, stmt, "selecting", &error), ==, 1);
      back = voip_sqlite_column_bytes (stmt, 0);
      type = voip_sqlite_column_dup (stmt, 1);
      g_assert_cmpstr (type, ==, "blob");   /* never NULL */
      g_assert_true (g_bytes_equal (back, i == 0 ? empty : some));
    }
}

static void
test_transactions (Fixture *f, gconstpointer data)
{
  static const char insert[] = "INSERT INTO items (name) VALUES (?1)";
  g_autoptr(GError) error = NULL;
  g_autoptr(VoipSqlite) db = open_with (f, 2, &error);
  guint64 commits;

  g_assert_no_error (error);
  commits = voip_sqlite_get_commits (db);

  /* A hundred rows, one commit. */
  g_assert_true (voip_sqlite_begin (db, "a batch", &error));
  g_assert_true (voip_sqlite_in_transaction (db));
  for (int i = 0; i < 100; i++)
    {
      g_autoptr(VoipSqliteStmt) stmt = voip_sqlite_stmt (db, insert, "inserting", &error);
      g_autofree char *name = g_strdup_printf ("%d", i);

      voip_sqlite_bind_text (stmt, 1, name);
      g_assert_true (voip_sqlite_step_done (db, stmt, "inserting", &error));
    }
  g_assert_true (voip_sqlite_commit (db, "a batch", &error));
  g_assert_false (voip_sqlite_in_transaction (db));
  g_assert_cmpuint (voip_sqlite_get_commits (db), ==, commits + 1);

  /* Rolled back: nothing stays, nothing committed. */
  g_assert_true (voip_sqlite_begin (db, "another", &error));
  g_assert_true (voip_sqlite_exec (db, "DELETE FROM items", "deleting", &error));
  voip_sqlite_rollback (db);
  voip_sqlite_rollback (db);   /* a no-op outside a transaction */
  g_assert_cmpuint (voip_sqlite_get_commits (db), ==, commits + 1);
  g_assert_cmpint (pragma_int (db, "SELECT count(*) FROM items"), ==, 100);

  /* Durable: FULL for that transaction, NORMAL again after it. */
  g_assert_true (voip_sqlite_begin_durable (db, "durable", &error));
  g_assert_cmpint (pragma_int (db, "PRAGMA synchronous"), ==, 2);
  g_assert_true (voip_sqlite_exec (db, "INSERT INTO items (name) VALUES ('kept')", "in", &error));
  g_assert_true (voip_sqlite_commit (db, "durable", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (voip_sqlite_get_commits (db), ==, commits + 2);
  g_assert_cmpint (pragma_int (db, "PRAGMA synchronous"), ==, 1);
}

static void
test_busy (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(VoipSqlite) db = open_with (f, 1, &error);
  sqlite3 *other = NULL;

  g_assert_no_error (error);
  /* Another connection holds the write lock; ours waits busy_timeout_ms,
   * then says BUSY rather than hang. */
  g_assert_cmpint (sqlite3_open (f->path, &other), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (other, "BEGIN IMMEDIATE", NULL, NULL, NULL), ==, SQLITE_OK);
  g_assert_false (voip_sqlite_begin (db, "a batch", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_BUSY);
  g_assert_false (voip_sqlite_in_transaction (db));
  g_clear_error (&error);

  g_assert_cmpint (sqlite3_exec (other, "COMMIT", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (other);
  g_assert_true (voip_sqlite_begin (db, "a batch", &error));
  g_assert_true (voip_sqlite_commit (db, "a batch", &error));
  g_assert_no_error (error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("/sqlite/open/private", test_open_private);
  ADD ("/sqlite/open/full", test_open_full);
  ADD ("/sqlite/open/not-a-database", test_open_not_a_database);
  ADD ("/sqlite/migrations/steps", test_migrations);
  ADD ("/sqlite/migrations/fail-whole", test_migration_fails_whole);
  ADD ("/sqlite/migrations/negative", test_negative_schema_version);
  ADD ("/sqlite/statements", test_statements);
  ADD ("/sqlite/bytes", test_bytes);
  ADD ("/sqlite/transactions", test_transactions);
  ADD ("/sqlite/busy", test_busy);
#undef ADD

  return g_test_run ();
}
