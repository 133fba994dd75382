/* store-schema.c — the database schema and its migrations.
 *
 * PRAGMA user_version holds the number of migrations applied. A migration is
 * never edited once released: a change to the schema is a new step appended
 * to `migrations`. Each step runs in its own transaction together with the
 * user_version bump, so a crash leaves the database at one version or the
 * next, never in between.
 */
#define G_LOG_DOMAIN "voip-store"

#include "store-private.h"

/* Version 1: everything.
 *
 * Ids use AUTOINCREMENT so an id is never handed out twice: a deleted
 * group's messages stay in the database, and a new group reusing its id
 * would make them visible to strangers.
 *
 * Messages: a direct message carries its conversation as the ordered pair
 * (low_id, high_id), so one index serves the history of a conversation
 * whichever side asks; a group message carries group_id instead. `seq` is
 * the change sequence Sync pages by; the partial (…, seq) indexes let a sync
 * read only the rows of one user's conversations. Voice data lives in its
 * own table so that history and sync pages never drag it from disk. */
static const char migration_1[] =
  "CREATE TABLE users ("
  "  id            INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  username      TEXT NOT NULL UNIQUE,"
  "  password_hash TEXT NOT NULL DEFAULT '',"
  "  email         TEXT NOT NULL DEFAULT '',"
  "  created_ms    INTEGER NOT NULL,"
  "  deleted       INTEGER NOT NULL DEFAULT 0"
  ");"
  "CREATE TABLE profiles ("
  "  user_id      INTEGER PRIMARY KEY REFERENCES users (id),"
  "  display_name TEXT NOT NULL DEFAULT '',"
  "  motd         TEXT NOT NULL DEFAULT '',"
  "  city         TEXT NOT NULL DEFAULT '',"
  "  phone        TEXT NOT NULL DEFAULT '',"
  "  mail         TEXT NOT NULL DEFAULT '',"
  "  language     TEXT NOT NULL DEFAULT '',"
  "  avatar       BLOB NOT NULL DEFAULT x'',"
  "  plugins      BLOB NOT NULL DEFAULT x''" /* serialised GVariant a(ss) */
  ");"
  "CREATE TABLE tokens ("
  "  token_hash TEXT PRIMARY KEY,"
  "  user_id    INTEGER NOT NULL REFERENCES users (id),"
  "  created_ms INTEGER NOT NULL"
  ") WITHOUT ROWID;"
  "CREATE INDEX tokens_by_user ON tokens (user_id);"

  /* Both directions of a friendship are stored, so a user's friends are one
   * index range. */
  "CREATE TABLE friends ("
  "  user_id   INTEGER NOT NULL REFERENCES users (id),"
  "  friend_id INTEGER NOT NULL REFERENCES users (id),"
  "  since_ms  INTEGER NOT NULL,"
  "  PRIMARY KEY (user_id, friend_id)"
  ");"
  "CREATE TABLE requests ("
  "  from_id    INTEGER NOT NULL REFERENCES users (id),"
  "  to_id      INTEGER NOT NULL REFERENCES users (id),"
  "  created_ms INTEGER NOT NULL,"
  "  PRIMARY KEY (from_id, to_id)"
  ");"
  "CREATE INDEX requests_to ON requests (to_id);"

  /* `groups` is an SQL keyword since window functions. */
  "CREATE TABLE chat_groups ("
  "  id         INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  name       TEXT NOT NULL,"
  "  owner_id   INTEGER NOT NULL REFERENCES users (id),"
  "  created_ms INTEGER NOT NULL"
  ");"
  "CREATE TABLE group_members ("
  "  group_id  INTEGER NOT NULL REFERENCES chat_groups (id),"
  "  user_id   INTEGER NOT NULL REFERENCES users (id),"
  "  joined_ms INTEGER NOT NULL,"
  "  PRIMARY KEY (group_id, user_id)"
  ");"
  "CREATE INDEX group_members_by_user ON group_members (user_id, group_id);"

  "CREATE TABLE messages ("
  "  id           INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  seq          INTEGER NOT NULL UNIQUE,"
  "  timestamp_ms INTEGER NOT NULL,"
  "  sender_id    INTEGER NOT NULL REFERENCES users (id),"
  "  recipient_id INTEGER REFERENCES users (id),"   /* NULL in a group */
  "  low_id       INTEGER,"                         /* direct: MIN (sender, recipient) */
  "  high_id      INTEGER,"                         /* direct: MAX (sender, recipient) */
  "  group_id     INTEGER,"  /* no foreign key: the group may be deleted, its messages stay */
  "  kind         INTEGER NOT NULL,"
  "  text         TEXT NOT NULL DEFAULT '',"
  "  duration_ms  INTEGER NOT NULL DEFAULT 0,"
  "  edited       INTEGER NOT NULL DEFAULT 0,"
  "  deleted      INTEGER NOT NULL DEFAULT 0,"
  "  client_id    TEXT,"
  "  UNIQUE (sender_id, client_id)"
  ");"
  "CREATE INDEX messages_direct ON messages (low_id, high_id, id) WHERE low_id IS NOT NULL;"
  "CREATE INDEX messages_group ON messages (group_id, id) WHERE group_id IS NOT NULL;"
  "CREATE INDEX messages_sent_seq ON messages (sender_id, seq) WHERE group_id IS NULL;"
  "CREATE INDEX messages_received_seq ON messages (recipient_id, seq)"
  "  WHERE recipient_id IS NOT NULL;"
  "CREATE INDEX messages_group_seq ON messages (group_id, seq) WHERE group_id IS NOT NULL;"
  "CREATE TABLE voices ("
  "  message_id INTEGER PRIMARY KEY REFERENCES messages (id),"
  "  data       BLOB NOT NULL"
  ");";

/* Step i brings the database from version i to version i + 1. */
static const char *const migrations[] = {
  migration_1,
};

static gboolean
read_user_version (Store *store, int *version, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  gboolean ok = FALSE;

  if (sqlite3_prepare_v2 (store->db, "PRAGMA user_version", -1, &stmt, NULL) == SQLITE_OK &&
      sqlite3_step (stmt) == SQLITE_ROW)
    {
      *version = sqlite3_column_int (stmt, 0);
      ok = TRUE;
    }
  else
    store_set_error_from_db (store, error, "reading the schema version");
  sqlite3_finalize (stmt);
  return ok;
}

static gboolean
apply_migration (Store *store, int version, GError **error)
{
  g_autofree char *bump = g_strdup_printf ("PRAGMA user_version = %d", version + 1);
  g_autofree char *what = g_strdup_printf ("migrating the schema to version %d", version + 1);

  if (!store_exec (store, "BEGIN IMMEDIATE", what, error))
    return FALSE;
  if (!store_exec (store, migrations[version], what, error) ||
      !store_exec (store, bump, what, error) ||
      !store_exec (store, "COMMIT", what, error))
    {
      sqlite3_exec (store->db, "ROLLBACK", NULL, NULL, NULL);
      return FALSE;
    }
  g_message ("database migrated to schema version %d", version + 1);
  return TRUE;
}

gboolean
store_schema_migrate (Store *store, GError **error)
{
  const int latest = G_N_ELEMENTS (migrations);
  int version;

  if (!read_user_version (store, &version, error))
    return FALSE;

  if (version > latest)
    {
      g_set_error (error, STORE_ERROR, STORE_ERROR_SCHEMA,
                   "opening the database: its schema version %d is newer than this "
                   "program knows (%d); use a newer voip-server", version, latest);
      return FALSE;
    }
  if (version < 0)
    {
      g_set_error (error, STORE_ERROR, STORE_ERROR_SCHEMA,
                   "opening the database: invalid schema version %d", version);
      return FALSE;
    }

  for (; version < latest; version++)
    if (!apply_migration (store, version, error))
      return FALSE;

  store->schema_version = version;
  return TRUE;
}
