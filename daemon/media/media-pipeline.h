/* media-pipeline.h — the GStreamer side of a call.
 *
 * MediaPipeline is the part every call has once: capture → Opus → RTP into a
 * tee, and a mixer → sink for playback. MediaBranch is the part each peer adds:
 * from the tee through RTCP/SRTP to an appsink (packets out), and from an
 * appsrc (packets in) through SRTP, the jitter buffer and Opus into the mixer.
 */
#pragma once

#include <gio/gio.h>
#include <gst/gst.h>

G_BEGIN_DECLS

typedef struct _MediaPipeline MediaPipeline;
typedef struct _MediaBranch MediaBranch;

MediaPipeline *media_pipeline_new       (const char *audio_source, const char *audio_sink,
                                         gboolean echo_cancellation, gboolean dtx,
                                         GError **error);
gboolean       media_pipeline_start     (MediaPipeline *pipeline, GError **error);
void           media_pipeline_set_muted (MediaPipeline *pipeline, gboolean muted);
/* The loss the encoder's in-band FEC is sized for: the worst any peer
 * reports (percent). */
void           media_pipeline_set_expected_loss (MediaPipeline *pipeline, double percent);
/* Sends EOS to the sink and waits (at most a second) for it to get there,
 * then stops everything (state NULL). Branches are freed after this. */
void           media_pipeline_stop      (MediaPipeline *pipeline);
void           media_pipeline_free      (MediaPipeline *pipeline);

typedef struct {
  /* Both run on streaming threads. */
  GstCaps *(*remote_key) (gpointer data);  /* srtpdec's key caps, or NULL */
  void     (*packet_out) (gpointer data, const guint8 *packet, gsize size);
  gpointer  data;
} MediaBranchHooks;

typedef struct {
  double   rtt_ms;        /* 0 until the peer's first receiver report */
  double   loss_percent;  /* of the packets the peer sent us */
  double   jitter_ms;
  guint    jitter_buffer_ms;  /* the jitter buffer's current depth */
  double   reported_loss_percent;  /* of our packets, by the peer; -1 before its report */
} MediaBranchStats;

MediaBranch *media_branch_new       (MediaPipeline *pipeline, const char *name, GBytes *local_key,
                                     const MediaBranchHooks *hooks, GError **error);
/* One SRTP or SRTCP packet from the peer; any thread. */
void         media_branch_push      (MediaBranch *branch, const guint8 *packet, gsize size);
void         media_branch_get_stats (MediaBranch *branch, MediaBranchStats *stats);
/* Sizes the jitter buffer to what the network asks for now, and returns
 * the loss the peer reports on our packets in its RTCP receiver reports
 * (percent), or -1 before the first; the main context calls it every
 * MEDIA_BRANCH_ADAPT_MS. */
#define MEDIA_BRANCH_ADAPT_MS 500
double       media_branch_adapt     (MediaBranch *branch);
/* Detaches the branch from the pipeline and frees it; the others go on. */
void         media_branch_free      (MediaBranch *branch);

G_END_DECLS
