/* store-pg-schema.c — the PostgreSQL schema and its migrations.
 *
 * The table voip_schema holds the number of migrations applied. As for
 * SQLite (store-schema.c), a released migration is never edited: a change
 * is a new step appended to `migrations`. All pending steps and the
 * version bump run in one transaction (PostgreSQL's DDL is transactional),
 * under an advisory lock, so that nodes started together migrate once and
 * a crash leaves the database at the old version or the new one.
 *
 * The tables are those of SQLite's version 1, in PostgreSQL's types:
 * identity columns (never reused, like AUTOINCREMENT), BOOLEAN flags,
 * BYTEA blobs, and an `ord` identity where SQLite orders by rowid. Message
 * seqs come from a sequence, so that several nodes writing one database
 * still hand out each seq once. */
#define G_LOG_DOMAIN "voip-store"

#include "store-pg.h"

/* An arbitrary key for pg_advisory_xact_lock: "voip" in ASCII. */
#define SCHEMA_LOCK_KEY "1987013744"

static const char migration_1[] =
  "CREATE TABLE users ("
  "  id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
  "  username      TEXT NOT NULL UNIQUE,"
  "  password_hash TEXT NOT NULL DEFAULT '',"
  "  email         TEXT NOT NULL DEFAULT '',"
  "  created_ms    BIGINT NOT NULL,"
  "  deleted       BOOLEAN NOT NULL DEFAULT FALSE"
  ");"
  "CREATE TABLE profiles ("
  "  user_id      BIGINT PRIMARY KEY REFERENCES users (id),"
  "  display_name TEXT NOT NULL DEFAULT '',"
  "  motd         TEXT NOT NULL DEFAULT '',"
  "  city         TEXT NOT NULL DEFAULT '',"
  "  phone        TEXT NOT NULL DEFAULT '',"
  "  mail         TEXT NOT NULL DEFAULT '',"
  "  language     TEXT NOT NULL DEFAULT '',"
  "  avatar       BYTEA NOT NULL DEFAULT '',"
  "  plugins      BYTEA NOT NULL DEFAULT ''"   /* serialised GVariant a(ss) */
  ");"
  /* DEFERRABLE (still checked at once unless deferred) lets the store's
   * test make a COMMIT fail the way a full disk would. */
  "CREATE TABLE tokens ("
  "  token_hash TEXT PRIMARY KEY,"
  "  user_id    BIGINT NOT NULL REFERENCES users (id) DEFERRABLE,"
  "  created_ms BIGINT NOT NULL"
  ");"
  "CREATE INDEX tokens_by_user ON tokens (user_id);"
  "CREATE TABLE friends ("
  "  user_id   BIGINT NOT NULL REFERENCES users (id),"
  "  friend_id BIGINT NOT NULL REFERENCES users (id),"
  "  since_ms  BIGINT NOT NULL,"
  "  PRIMARY KEY (user_id, friend_id)"
  ");"
  "CREATE TABLE requests ("
  "  from_id    BIGINT NOT NULL REFERENCES users (id),"
  "  to_id      BIGINT NOT NULL REFERENCES users (id),"
  "  created_ms BIGINT NOT NULL,"
  "  ord        BIGINT GENERATED ALWAYS AS IDENTITY,"
  "  PRIMARY KEY (from_id, to_id)"
  ");"
  "CREATE INDEX requests_to ON requests (to_id);"
  "CREATE TABLE chat_groups ("
  "  id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
  "  name       TEXT NOT NULL,"
  "  owner_id   BIGINT NOT NULL REFERENCES users (id),"
  "  created_ms BIGINT NOT NULL"
  ");"
  "CREATE TABLE group_members ("
  "  group_id  BIGINT NOT NULL REFERENCES chat_groups (id),"
  "  user_id   BIGINT NOT NULL REFERENCES users (id),"
  "  joined_ms BIGINT NOT NULL,"
  "  ord       BIGINT GENERATED ALWAYS AS IDENTITY,"
  "  PRIMARY KEY (group_id, user_id)"
  ");"
  "CREATE INDEX group_members_by_user ON group_members (user_id, group_id);"
  "CREATE SEQUENCE message_seq;"
  "CREATE TABLE messages ("
  "  id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
  "  seq          BIGINT NOT NULL UNIQUE,"
  "  timestamp_ms BIGINT NOT NULL,"
  "  sender_id    BIGINT NOT NULL REFERENCES users (id),"
  "  recipient_id BIGINT REFERENCES users (id),"
  "  low_id       BIGINT,"
  "  high_id      BIGINT,"
  "  group_id     BIGINT,"   /* no foreign key: the group may be deleted, its messages stay */
  "  kind         INTEGER NOT NULL,"
  "  text         TEXT NOT NULL DEFAULT '',"
  "  duration_ms  BIGINT NOT NULL DEFAULT 0,"
  "  edited       BOOLEAN NOT NULL DEFAULT FALSE,"
  "  deleted      BOOLEAN NOT NULL DEFAULT FALSE,"
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
  "  message_id BIGINT PRIMARY KEY REFERENCES messages (id),"
  "  data       BYTEA NOT NULL"
  ");";

/* Step i brings the database from version i to version i + 1. */
static const char *const migrations[] = {
  migration_1,
};

static gboolean
read_version (Store *store, int *version, GError **error)
{
  const char *what = "reading the schema version";
  g_autoptr(PGresult) result = NULL;

  if (!store_pg_exec (store,
                      "SELECT pg_advisory_xact_lock (" SCHEMA_LOCK_KEY ");"
                      "CREATE TABLE IF NOT EXISTS voip_schema (version INTEGER NOT NULL);",
                      what, error))
    return FALSE;
  result = store_pg_query (store, "SELECT version FROM voip_schema", NULL, what, error);
  if (result == NULL)
    return FALSE;
  if (PQntuples (result) == 0)
    {
      *version = 0;
      return store_pg_exec (store, "INSERT INTO voip_schema (version) VALUES (0)", what, error);
    }
  *version = (int) store_pg_int (result, 0, 0);
  return TRUE;
}

static gboolean
migrate_in_transaction (Store *store, int *from, int *version, GError **error)
{
  const int latest = G_N_ELEMENTS (migrations);

  if (!read_version (store, version, error))
    return FALSE;
  *from = *version;
  if (*version > latest)
    {
      g_set_error (error, STORE_ERROR, STORE_ERROR_SCHEMA,
                   "opening the database: its schema version %d is newer than this "
                   "program knows (%d); use a newer voip-server", *version, latest);
      return FALSE;
    }
  if (*version < 0)
    {
      g_set_error (error, STORE_ERROR, STORE_ERROR_SCHEMA,
                   "opening the database: invalid schema version %d", *version);
      return FALSE;
    }

  for (; *version < latest; (*version)++)
    {
      g_autofree char *what = g_strdup_printf ("migrating the schema to version %d",
                                               *version + 1);
      g_autofree char *bump = g_strdup_printf ("UPDATE voip_schema SET version = %d",
                                               *version + 1);

      if (!store_pg_exec (store, migrations[*version], what, error) ||
          !store_pg_exec (store, bump, what, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
store_pg_schema_migrate (Store *store, GError **error)
{
  int from = 0, version = 0;

  if (!store_pg_exec (store, "BEGIN", "migrating the schema", error))
    return FALSE;
  if (!migrate_in_transaction (store, &from, &version, error) ||
      !store_pg_exec (store, "COMMIT", "migrating the schema", error))
    {
      if (store->pg->conn != NULL)
        store_pg_exec (store, "ROLLBACK", "migrating the schema", NULL);
      return FALSE;
    }
  if (version != from)
    g_message ("database migrated to schema version %d", version);
  store->schema_version = version;
  return TRUE;
}
