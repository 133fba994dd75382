/* server-call-servers.c — CallServers: where ICE finds its STUN and TURN
 * servers. The embedded STUN responder is ("", port): the host the client
 * reached us at. TURN credentials follow the TURN REST API that coturn's
 * use-auth-secret implements: username "<unix expiry>:<user>", password
 * base64(HMAC-SHA1(secret, username)). The reply also says whether the
 * server relays media (CallData), so that clients know their last resort. */
#define G_LOG_DOMAIN "voip-server"

#include "server-handlers.h"

/* host:port entries were checked when the configuration was loaded. */
static void
add_servers (GVariantBuilder *builder, char **servers, const char *username,
             const char *password, guint *count)
{
  for (guint i = 0; servers != NULL && servers[i] != NULL && *count < VOIP_CALL_SERVERS_MAX; i++)
    {
      g_autoptr(GSocketConnectable) address = g_network_address_parse (servers[i], 0, NULL);
      GNetworkAddress *parsed = G_NETWORK_ADDRESS (address);

      if (address == NULL)
        continue;
      if (username == NULL)
        g_variant_builder_add (builder, "(sq)", g_network_address_get_hostname (parsed),
                               g_network_address_get_port (parsed));
      else
        g_variant_builder_add (builder, "(sqss)", g_network_address_get_hostname (parsed),
                               g_network_address_get_port (parsed), username, password);
      (*count)++;
    }
}

static char *
turn_password (const char *secret, const char *username)
{
  g_autoptr(GHmac) hmac = g_hmac_new (G_CHECKSUM_SHA1, (const guchar *) secret, strlen (secret));
  guint8 digest[20];
  gsize len = sizeof digest;

  g_hmac_update (hmac, (const guchar *) username, -1);
  g_hmac_get_digest (hmac, digest, &len);
  return g_base64_encode (digest, len);
}

void
server_handle_call_servers (Server *server, ServerSession *session, const ServerRequest *request)
{
  const ServerConfig *config = server_get_config (server);
  GVariantBuilder stun, turn;
  guint n_stun = 0, n_turn = 0;

  g_variant_builder_init (&stun, G_VARIANT_TYPE ("a(sq)"));
  g_variant_builder_init (&turn, G_VARIANT_TYPE ("a(sqss)"));
  if (server_get_stun_port (server) != 0)
    {
      g_variant_builder_add (&stun, "(sq)", "", server_get_stun_port (server));
      n_stun++;
    }
  add_servers (&stun, config->stun_servers, NULL, NULL, &n_stun);

  if (config->turn_secret != NULL && *config->turn_secret != '\0')
    {
      gint64 expiry = g_get_real_time () / G_USEC_PER_SEC + config->turn_ttl_s;
      g_autofree char *username = g_strdup_printf ("%" G_GINT64_FORMAT ":%s", expiry,
                                                   server_session_get_username (session));
      g_autofree char *password = turn_password (config->turn_secret, username);

      add_servers (&turn, config->turn_servers, username, password, &n_turn);
    }
  server_session_reply (session, request->code, request->request_id,
                        g_variant_new ("(a(sq)a(sqss)b)", &stun, &turn, config->call_relay));
}
