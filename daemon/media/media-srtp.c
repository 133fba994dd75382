/* media-srtp.c — SRTP master keys.
 *
 * Every participant draws its own random key per peer and sends it with
 * VOIP_CALL_SIGNAL_SRTP_KEY; it protects what that participant sends (RTP and
 * RTCP alike). The key travels over the server connection, which is TLS when
 * configured: the server can read it, as it can relay the media anyway.
 */
#define G_LOG_DOMAIN "voipd-media"

#include "media-srtp.h"

#include <errno.h>
#include <sys/random.h>

#define CIPHER "aes-128-icm"
#define AUTH   "hmac-sha1-80"

GBytes *
media_srtp_key_new (void)
{
  guint8 key[MEDIA_SRTP_KEY_SIZE];
  gsize done = 0;

  /* getrandom() only fails before the pool is initialised or on EINTR. */
  while (done < sizeof key)
    {
      ssize_t n = getrandom (key + done, sizeof key - done, 0);

      if (n < 0 && errno == EINTR)
        continue;
      g_assert (n > 0);
      done += n;
    }
  return g_bytes_new (key, sizeof key);
}

char *
media_srtp_key_to_base64 (GBytes *key)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (key, &size);

  return g_base64_encode (data, size);
}

GBytes *
media_srtp_key_from_base64 (const char *text, GError **error)
{
  gsize size = 0;
  g_autofree guint8 *data = NULL;

  /* g_base64_decode() accepts anything; insist on the alphabet and length. */
  for (const char *c = text; *c; c++)
    if (!g_ascii_isalnum (*c) && *c != '+' && *c != '/' && *c != '=')
      {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "SRTP key is not base64");
        return NULL;
      }
  data = g_base64_decode (text, &size);
  if (size != MEDIA_SRTP_KEY_SIZE)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "SRTP key has %" G_GSIZE_FORMAT " bytes, not %d", size, MEDIA_SRTP_KEY_SIZE);
      return NULL;
    }
  return g_bytes_new_take (g_steal_pointer (&data), size);
}

GstBuffer *
media_srtp_key_to_buffer (GBytes *key)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (key, &size);

  return gst_buffer_new_memdup (data, size);
}

/* What srtpdec's "request-key" wants: the key and its suites. */
GstCaps *
media_srtp_key_to_caps (GBytes *key)
{
  g_autoptr(GstBuffer) buffer = media_srtp_key_to_buffer (key);

  return gst_caps_new_simple ("application/x-srtp",
                              "srtp-key", GST_TYPE_BUFFER, buffer,
                              "srtp-cipher", G_TYPE_STRING, CIPHER,
                              "srtp-auth", G_TYPE_STRING, AUTH,
                              "srtcp-cipher", G_TYPE_STRING, CIPHER,
                              "srtcp-auth", G_TYPE_STRING, AUTH,
                              NULL);
}

void
media_srtp_configure_encoder (GstElement *srtpenc, GBytes *key)
{
  g_autoptr(GstBuffer) buffer = media_srtp_key_to_buffer (key);

  g_object_set (srtpenc, "key", buffer, NULL);
  gst_util_set_object_arg (G_OBJECT (srtpenc), "rtp-cipher", CIPHER);
  gst_util_set_object_arg (G_OBJECT (srtpenc), "rtp-auth", AUTH);
  gst_util_set_object_arg (G_OBJECT (srtpenc), "rtcp-cipher", CIPHER);
  gst_util_set_object_arg (G_OBJECT (srtpenc), "rtcp-auth", AUTH);
}
