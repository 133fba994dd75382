/* store-schema.c — the database schema and its migrations.
 *
 * PRAGMA user_version holds the number of migrations applied. A migration is
 * never edited once released: a change to the schema is a new step appended
 * to `migrations`. voip_sqlite_open() (common/sqlite) applies them, each in
 * its own transaction together with the user_version bump, so a crash leaves
 * the database at one version or the next, never in between.
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

const char *const *
store_schema_migrations (guint *n_migrations)
{
  *n_migrations = G_N_ELEMENTS (migrations);
  return migrations;
}
