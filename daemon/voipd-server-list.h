/* voipd-server-list.h — the server a user logs in to, as a list of nodes.
 *
 * The Server of a Login or Register (voipctl --server, the default-server
 * setting, the applet) is either one entry or several separated by commas:
 *
 *   HOST:PORT          one node (a host name, an IPv4 address, or an IPv6
 *                      address in brackets: [::1]:7000)
 *   DOMAIN             no port: the nodes named by the SRV records
 *                      _voip._tcp.DOMAIN, in the order of their priorities and
 *                      weights, or DOMAIN:VOIPD_SERVER_LIST_DEFAULT_PORT itself
 *                      when it has none (as GNetworkService falls back)
 *
 * e.g. "a.example.org:7000,b.example.org:7000" or "example.org". Parsing is
 * pure (no I/O); resolving the SRV entries into nodes is asynchronous. voipd
 * tries the nodes in order and fails over to the next one at once when one
 * is out of reach (voipd-account.c). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Limits on what a user may type, so that a list is checked in bounded time
 * and a failover round stays short. */
#define VOIPD_SERVER_LIST_MAX_LENGTH   1024
#define VOIPD_SERVER_LIST_MAX_ENTRIES  16
/* SRV lookups can return many targets; a round tries at most this many nodes. */
#define VOIPD_SERVER_LIST_MAX_NODES    32
/* The port of a DOMAIN entry without SRV records (voip-server's default). */
#define VOIPD_SERVER_LIST_DEFAULT_PORT 7000
/* _voip._tcp.DOMAIN */
#define VOIPD_SERVER_LIST_SRV_SERVICE  "voip"
#define VOIPD_SERVER_LIST_SRV_PROTOCOL "tcp"

/* Parses `text` into its entries, in order: a GNetworkAddress for each
 * HOST:PORT, a GNetworkService for each DOMAIN. Bad input (empty, too long,
 * too many entries, an empty entry, a bad host, a port outside 1..65535, a
 * duplicate) is a VOIP_ERROR_MALFORMED error that names the entry. */
GPtrArray *voipd_server_list_parse         (const char *text, GError **error);

/* Whether `text` parses. */
gboolean   voipd_server_list_is_valid      (const char *text, GError **error);

/* The nodes of a parsed list as HOST:PORT strings (IPv6 in brackets), in the
 * order to try them: the addresses as they are, each service replaced by its
 * SRV targets (sorted by GLib by priority, then weight), or by its domain at
 * the default port when the lookup fails. Never fails: an unresolvable
 * domain still yields its fallback node, whose connection then fails. */
void       voipd_server_list_resolve_async  (GPtrArray *entries, GResolver *resolver,
                                             GCancellable *cancellable,
                                             GAsyncReadyCallback callback, gpointer user_data);
GStrv      voipd_server_list_resolve_finish (GAsyncResult *result, GError **error);

/* HOST:PORT of one node, with brackets around an IPv6 host. */
char      *voipd_server_list_format_node    (const char *host, guint16 port);

G_END_DECLS
