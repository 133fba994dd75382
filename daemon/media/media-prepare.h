/* media-prepare.h — GStreamer loaded ahead of the first answer. */
#pragma once

void media_prepare (void);
