/* media-srtp.h — SRTP master keys: generation, signalling form, element form. */
#pragma once

#include <gio/gio.h>
#include <gst/gst.h>

G_BEGIN_DECLS

/* AES_CM_128_HMAC_SHA1_80: a 16-byte master key followed by a 14-byte salt. */
#define MEDIA_SRTP_KEY_SIZE 30

GBytes    *media_srtp_key_new         (void);
char      *media_srtp_key_to_base64   (GBytes *key);
GBytes    *media_srtp_key_from_base64 (const char *text, GError **error);
GstBuffer *media_srtp_key_to_buffer   (GBytes *key);
GstCaps   *media_srtp_key_to_caps     (GBytes *key);
void       media_srtp_configure_encoder (GstElement *srtpenc, GBytes *key);

G_END_DECLS
