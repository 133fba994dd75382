/* server-stun.c — a STUN Binding responder (RFC 5389, and RFC 3489 for
 * requests without the magic cookie), built on libnice's STUN library.
 *
 * It is stateless: each datagram is read into one fixed buffer, answered
 * from another, and forgotten. A Binding request gets its mapped address, or
 * a 420 listing the comprehension-required attributes it does not know
 * (RFC 5389 §7.3.1); RFC 5389 answers end with a FINGERPRINT, so that a
 * client multiplexing STUN with media can tell them apart (§8). Anything else
 * is dropped without a word; nothing is allocated per datagram. */
#define G_LOG_DOMAIN "voip-server"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include <stun/stunagent.h>
#include <stun/usages/bind.h>

#include "server-stun.h"

/* Datagrams answered per wake-up before the main loop gets a turn. */
#define MAX_BATCH 64
/* The largest answer is a 420 listing the most unknown attributes libnice
 * reports (STUN_AGENT_MAX_UNKNOWN_ATTRIBUTES): 572 bytes, within the 576 that
 * RFC 5389 §7.1 asks a datagram over IPv4 to fit. */
#define RESPONSE_MAX STUN_MAX_MESSAGE_SIZE_IPV4

struct _ServerStun {
  GSocket   *socket;
  GSource   *source;
  char      *address;
  guint16    port;
  guint8     request[STUN_MAX_MESSAGE_SIZE];
  guint8     response[RESPONSE_MAX];
};

/* Never written once initialised: validating requests and building responses
 * only read an agent (it remembers transactions it sent, and we send none). */
typedef struct {
  /* RFC 5389: requests with the magic cookie. libnice's agent that adds
   * FINGERPRINT also demands one in what it validates, while a request may
   * well come without: requests are validated by `modern`, and by
   * `fingerprinted` as well when they carry one, which checks it; answers are
   * built by `fingerprinted`. */
  StunAgent modern;
  StunAgent fingerprinted;
  StunAgent legacy;   /* RFC 3489: requests without the cookie */
} Agents;

/* Attributes a Binding request may carry. A request with any other
 * comprehension-required attribute (type below 0x8000) is answered 420. */
static const uint16_t known_attributes[] = {
  STUN_ATTRIBUTE_MAPPED_ADDRESS,
  STUN_ATTRIBUTE_CHANGE_REQUEST,
  STUN_ATTRIBUTE_USERNAME,
  STUN_ATTRIBUTE_MESSAGE_INTEGRITY,
  STUN_ATTRIBUTE_PRIORITY,
  STUN_ATTRIBUTE_USE_CANDIDATE,
  STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS,
  STUN_ATTRIBUTE_SOFTWARE,
  STUN_ATTRIBUTE_FINGERPRINT,
  STUN_ATTRIBUTE_ICE_CONTROLLED,
  STUN_ATTRIBUTE_ICE_CONTROLLING,
  0
};

static gboolean
has_magic_cookie (const guint8 *buffer, gsize len)
{
  return len >= 8 && buffer[4] == 0x21 && buffer[5] == 0x12
         && buffer[6] == 0xa4 && buffer[7] == 0x42;
}

static const Agents *
get_agents (void)
{
  static Agents agents;
  static gsize initialised = 0;

  if (g_once_init_enter (&initialised))
    {
      stun_agent_init (&agents.modern, known_attributes, STUN_COMPATIBILITY_RFC5389,
                       STUN_AGENT_USAGE_IGNORE_CREDENTIALS);
      stun_agent_init (&agents.fingerprinted, known_attributes, STUN_COMPATIBILITY_RFC5389,
                       STUN_AGENT_USAGE_IGNORE_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);
      stun_agent_init (&agents.legacy, known_attributes, STUN_COMPATIBILITY_RFC3489,
                       STUN_AGENT_USAGE_IGNORE_CREDENTIALS);
      g_once_init_leave (&initialised, 1);
    }
  return &agents;
}

/* On a dual-stack socket IPv4 clients show up as ::ffff:a.b.c.d; they are
 * told their IPv4 address, which is what they will use as a candidate. */
static void
unmap_ipv4 (struct sockaddr_storage *from, socklen_t *from_len)
{
  struct sockaddr_in6 mapped;
  struct sockaddr_in *plain = (struct sockaddr_in *) from;

  if (from->ss_family != AF_INET6 || *from_len < sizeof mapped)
    return;
  memcpy (&mapped, from, sizeof mapped);
  if (!IN6_IS_ADDR_V4MAPPED (&mapped.sin6_addr))
    return;
  memset (from, 0, sizeof *from);
  plain->sin_family = AF_INET;
  plain->sin_port = mapped.sin6_port;
  memcpy (&plain->sin_addr, &mapped.sin6_addr.s6_addr[12], 4);
  *from_len = sizeof *plain;
}

gsize
server_stun_build_response (const guint8 *request, gsize request_len,
                            const struct sockaddr_storage *from, socklen_t from_len,
                            guint8 *response, gsize response_size)
{
  const Agents *agents = get_agents ();
  gboolean modern = has_magic_cookie (request, request_len);
  /* libnice takes agents as non-const, though these calls only read them. */
  StunAgent *validator = (StunAgent *) (modern ? &agents->modern : &agents->legacy);
  StunAgent *responder = (StunAgent *) (modern ? &agents->fingerprinted : &agents->legacy);
  struct sockaddr_storage reported;
  socklen_t reported_len;
  StunMessage message, answer;
  StunValidationStatus status;

  g_return_val_if_fail (request != NULL || request_len == 0, 0);
  g_return_val_if_fail (from != NULL && response != NULL, 0);

  if (from_len > sizeof reported)
    return 0;
  memset (&reported, 0, sizeof reported);
  memcpy (&reported, from, from_len);
  reported_len = from_len;
  unmap_ipv4 (&reported, &reported_len);

  status = stun_agent_validate (validator, &message, request, request_len, NULL, NULL);
  if (status != STUN_VALIDATION_SUCCESS && status != STUN_VALIDATION_UNKNOWN_REQUEST_ATTRIBUTE)
    return 0;
  if (stun_message_get_class (&message) != STUN_REQUEST
      || stun_message_get_method (&message) != STUN_BINDING)
    return 0;
  /* A FINGERPRINT that does not match means this is not STUN (RFC 5389 §7.3). */
  if (modern && stun_message_has_attribute (&message, STUN_ATTRIBUTE_FINGERPRINT)
      && stun_agent_validate (responder, &message, request, request_len, NULL, NULL) != status)
    return 0;

  if (status == STUN_VALIDATION_UNKNOWN_REQUEST_ATTRIBUTE)
    return stun_agent_build_unknown_attributes_error (responder, &answer, response,
                                                      response_size, &message);

  if (!stun_agent_init_response (responder, &answer, response, response_size, &message))
    return 0;
  if (modern)
    {
      if (stun_message_append_xor_addr (&answer, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS,
                                        &reported, reported_len)
          != STUN_MESSAGE_RETURN_SUCCESS)
        return 0;
    }
  else if (stun_message_append_addr (&answer, STUN_ATTRIBUTE_MAPPED_ADDRESS,
                                     (const struct sockaddr *) &reported, reported_len)
           != STUN_MESSAGE_RETURN_SUCCESS)
    return 0;
  return stun_agent_finish_message (responder, &answer, NULL, 0);
}

static gboolean
on_readable (GSocket *socket, GIOCondition condition, gpointer user_data)
{
  ServerStun *self = user_data;
  int fd = g_socket_get_fd (socket);

  for (guint i = 0; i < MAX_BATCH; i++)
    {
      struct sockaddr_storage from;
      socklen_t from_len = sizeof from;
      ssize_t len = recvfrom (fd, self->request, sizeof self->request, MSG_DONTWAIT,
                              (struct sockaddr *) &from, &from_len);
      gsize out;

      if (len < 0)
        {
          if (errno == EINTR)
            continue;
          break;   /* EAGAIN, or an ICMP error from an earlier answer: nothing to do */
        }
      out = server_stun_build_response (self->request, len, &from, from_len,
                                        self->response, sizeof self->response);
      if (out > 0)
        (void) sendto (fd, self->response, out, MSG_DONTWAIT,
                       (const struct sockaddr *) &from, from_len);
    }
  return G_SOURCE_CONTINUE;
}

ServerStun *
server_stun_new (GInetAddress *address, guint16 port, GError **error)
{
  g_autoptr(GSocketAddress) wanted = g_inet_socket_address_new (address, port);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autofree char *host = NULL;
  ServerStun *self = g_new0 (ServerStun, 1);

  self->socket = g_socket_new (g_inet_address_get_family (address), G_SOCKET_TYPE_DATAGRAM,
                               G_SOCKET_PROTOCOL_UDP, error);
  if (self->socket == NULL)
    goto failed;
  g_socket_set_blocking (self->socket, FALSE);
  if (!g_socket_bind (self->socket, wanted, FALSE, error))
    {
      g_prefix_error (error, "STUN on UDP port %u: ", port);
      goto failed;
    }
  bound = g_socket_get_local_address (self->socket, error);
  if (bound == NULL)
    goto failed;
  self->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  host = g_inet_address_to_string (g_inet_socket_address_get_address (
      G_INET_SOCKET_ADDRESS (bound)));
  self->address = g_strdup_printf (strchr (host, ':') ? "[%s]:%u" : "%s:%u", host, self->port);

  self->source = g_socket_create_source (self->socket, G_IO_IN, NULL);
  g_source_set_callback (self->source, G_SOURCE_FUNC (on_readable), self, NULL);
  g_source_attach (self->source, g_main_context_get_thread_default ());
  return self;

failed:
  server_stun_free (self);
  return NULL;
}

void
server_stun_free (ServerStun *self)
{
  if (self == NULL)
    return;
  if (self->source != NULL)
    {
      g_source_destroy (self->source);
      g_source_unref (self->source);
    }
  if (self->socket != NULL)
    g_socket_close (self->socket, NULL);
  g_clear_object (&self->socket);
  g_free (self->address);
  g_free (self);
}

const char *
server_stun_get_address (ServerStun *self)
{
  return self->address;
}

guint16
server_stun_get_port (ServerStun *self)
{
  return self->port;
}
