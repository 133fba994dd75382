/* server-config.h — voip-server settings: defaults, config file, command line. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum {
  SERVER_HASH_INTERACTIVE,  /* libsodium's interactive limits: the default */
  SERVER_HASH_MODERATE,
  SERVER_HASH_MINIMUM,      /* tests and benchmarks only: nearly free, and says so in the log */
} ServerHashCost;

/* GnuTLS's defaults with every protocol version but TLS 1.3 and 1.2 taken
 * out: RFC 8996 deprecates TLS 1.0 and 1.1. */
#define SERVER_TLS_PRIORITY_DEFAULT "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

typedef struct {
  char   *listen;                     /* ADDR:PORT */
  char   *health;                     /* ADDR:PORT of the health probe, or NULL */
  char   *database;                   /* SQLite, unless store_url is set */
  char   *store_url;                  /* [store] url: PostgreSQL's libpq URI, or NULL */
  guint   login_timeout_s;            /* a connection must log in within this */
  guint   idle_timeout_s;             /* silence before a connection is closed */
  gsize   max_output_queue;           /* bytes queued to one client before it is closed */
  ServerHashCost hash_cost;
  guint   hash_threads;
  double  login_attempts_per_ip;      /* burst of Register/Login/Resume per address */
  double  login_refill_per_second;    /* per address */
  double  login_failures_per_account; /* burst of wrong passwords per account */
  double  login_failure_refill_s;     /* one more failure allowed every this many seconds */
  char   *tls_certificate;            /* PEM files; both set: TLS for every connection */
  char   *tls_key;
  char   *tls_priority;               /* GnuTLS priority string; TLS 1.2 and later only */
  guint   ring_timeout_s;             /* unanswered invitations end after this */
  gboolean call_relay;                /* CallData (media through the server) allowed */
  gboolean stun_enabled;              /* the embedded STUN responder */
  guint   stun_port;                  /* UDP, on the listen address; 0: any free port */
  char  **stun_servers;               /* external STUN servers, host:port */
  char  **turn_servers;               /* coturn servers, host:port */
  char   *turn_secret;                /* coturn's static-auth-secret; NULL: no TURN */
  guint   turn_ttl_s;                 /* lifetime of TURN credentials */
  char  **cluster_nats;               /* [cluster] nats: nats://HOST:PORT list; NULL: one node */
  char   *cluster_node;               /* [cluster] node: this node's name */
  gsize   cluster_reconnect_buffer;   /* [cluster] reconnect-buffer: bytes kept while NATS is away */
} ServerConfig;

ServerConfig *server_config_new_default (void);
/* Loads FILE over the defaults; unknown groups/keys and bad values are errors. */
gboolean      server_config_load (ServerConfig *config, const char *path, GError **error);
gboolean      server_config_validate (ServerConfig *config, GError **error);
void          server_config_free (ServerConfig *config);
/* What to give store_open(): the PostgreSQL URI if set, else the SQLite file. */
const char   *server_config_store_location (const ServerConfig *config);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ServerConfig, server_config_free)

G_END_DECLS
