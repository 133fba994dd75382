/* media-dtx-gate.h — Opus DTX only while the input is really quiet. */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

void media_dtx_gate_attach (GstElement *encoder);

G_END_DECLS
