/* fuzz-stun.c — voip-server's STUN responder on untrusted datagrams.
 *
 * The input is one UDP datagram. server_stun_build_response() answers it as
 * on_readable() in server-stun.c does, into a buffer of the size the server
 * uses, once for each kind of sender the server sees (IPv4, IPv6, and IPv4
 * mapped into IPv6 on a dual-stack socket). Besides not crashing, an answer
 * must fit its buffer and be a well-formed STUN response to the same
 * transaction; an RFC 5389 answer must end with a FINGERPRINT.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include <stun/stunmessage.h>

#include "fuzz.h"
#include "server-stun.h"

/* server-stun.c answers into this much (RESPONSE_MAX there). */
#define RESPONSE_SIZE STUN_MAX_MESSAGE_SIZE_IPV4

#define STUN_HEADER_SIZE 20
#define STUN_FINGERPRINT_TYPE 0x8028

static socklen_t
sender (guint kind, struct sockaddr_storage *from)
{
  struct sockaddr_in *in4 = (struct sockaddr_in *) from;
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) from;

  memset (from, 0, sizeof *from);
  switch (kind)
    {
    case 0:
      in4->sin_family = AF_INET;
      in4->sin_port = htons (40000);
      inet_pton (AF_INET, "192.0.2.10", &in4->sin_addr);
      return sizeof *in4;
    case 1:
      in6->sin6_family = AF_INET6;
      in6->sin6_port = htons (40001);
      inet_pton (AF_INET6, "2001:db8::10", &in6->sin6_addr);
      return sizeof *in6;
    default:
      in6->sin6_family = AF_INET6;
      in6->sin6_port = htons (40002);
      inet_pton (AF_INET6, "::ffff:198.51.100.7", &in6->sin6_addr);
      return sizeof *in6;
    }
}

static void
check_answer (const guint8 *request, gsize request_len, const guint8 *answer, gsize len)
{
  gboolean modern = request_len >= 8 && memcmp (request + 4, "\x21\x12\xa4\x42", 4) == 0;
  guint16 type;

  g_assert_cmpuint (len, <=, RESPONSE_SIZE);
  g_assert_cmpuint (len, >=, STUN_HEADER_SIZE);
  /* Only a request gets an answer, so it had a whole header too. */
  g_assert_cmpuint (request_len, >=, STUN_HEADER_SIZE);
  g_assert_cmpint (stun_message_validate_buffer_length (answer, len, TRUE), ==, (int) len);

  /* A Binding success (0x0101) or error (0x0111) response... */
  type = (answer[0] << 8) | answer[1];
  g_assert (type == 0x0101 || type == 0x0111);
  /* ...to the same transaction (cookie and id: bytes 4 to 20). */
  g_assert (memcmp (answer + 4, request + 4, STUN_HEADER_SIZE - 4) == 0);
  if (modern)
    {
      const guint8 *last = answer + len - 8;

      g_assert_cmpuint (len, >=, STUN_HEADER_SIZE + 8);
      g_assert_cmpuint ((last[0] << 8) | last[1], ==, STUN_FINGERPRINT_TYPE);
      g_assert_cmpuint ((last[2] << 8) | last[3], ==, 4);
    }
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  fuzz_init ();

  for (guint kind = 0; kind < 3; kind++)
    {
      struct sockaddr_storage from;
      socklen_t from_len = sender (kind, &from);
      /* On the heap at its exact size, so that AddressSanitizer sees a
       * write past its end. */
      g_autofree guint8 *answer = g_malloc (RESPONSE_SIZE);
      gsize len;

      len = server_stun_build_response (data, size, &from, from_len, answer, RESPONSE_SIZE);
      if (len > 0)
        check_answer (data, size, answer, len);
    }
  return 0;
}
