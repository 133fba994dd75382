/* test-postgres.h — a private PostgreSQL server for a test.
 *
 * initdb and pg_ctl from Debian's postgresql (the newest
 * /usr/lib/postgresql/N/bin, or VOIP_TEST_PG_BINDIR) make a cluster in a
 * temporary directory that listens only on a unix socket in that directory
 * (listen_addresses=''). initdb refuses to run as root, so as root the
 * cluster belongs to `nobody` and its programs run through runuser. The
 * superuser is "voip", with trust authentication on the socket (only the
 * directory's owner and root can reach it).
 *
 * pg_ctl starts the server in a session of its own; a watchdog process
 * stops it and removes the directory if the test dies before
 * test_postgres_free() (an assertion, a timeout's SIGKILL).
 *
 * A test that needs PostgreSQL and cannot start one is skipped, except
 * under CI=true, where it fails: CI has every package installed.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _TestPostgres TestPostgres;

/* Makes the cluster and starts its server; NULL with `error` if it cannot. */
TestPostgres *test_postgres_new  (GError **error);
/* Stops the server (if running) and removes the directory. */
void          test_postgres_free (TestPostgres *pg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TestPostgres, test_postgres_free)

/* For tests: test_postgres_new(), or the test skipped (failed under
 * CI=true) with the reason; NULL then, and the test should return. */
TestPostgres *test_postgres_new_or_skip (void);

/* pg_ctl stop (fast: sessions are disconnected) and pg_ctl start again on
 * the same data and socket, for outages. */
gboolean      test_postgres_stop  (TestPostgres *pg, GError **error);
gboolean      test_postgres_start (TestPostgres *pg, GError **error);

/* SIGSTOP (frozen) or SIGCONT the server and its backends, by their pids:
 * a server that accepts and never answers. */
gboolean      test_postgres_freeze (TestPostgres *pg, gboolean frozen, GError **error);

/* Creates an empty database and returns its libpq URI
 * (postgresql:///NAME?host=DIR&user=voip). */
char         *test_postgres_create_database (TestPostgres *pg, GError **error);
/* Runs SQL with psql on a database of the cluster. */
gboolean      test_postgres_run_sql (TestPostgres *pg, const char *database, const char *sql,
                                     GError **error);

/* For the harness of the integration tests: when VOIP_TEST_PG_DIR names the
 * socket directory of a running cluster of this kind (tests/run-postgresql.sh
 * starts one), creates a new database in it and returns its URI; NULL when
 * the variable is unset. Fails the test if the database cannot be made. */
char         *test_postgres_database_from_env (void);

/* The directory of the cluster (its socket; its data in DIR/data). */
const char   *test_postgres_get_dir (TestPostgres *pg);

/* A URI where no server listens (a socket directory without a server). */
char         *test_postgres_dead_uri (TestPostgres *pg);

G_END_DECLS
