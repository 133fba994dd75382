/* media-pipeline.c — the GStreamer pipeline of a call and its per-peer branches.
 *
 *   source bin → audioconvert → audioresample → S16 48 kHz mono → [webrtcdsp]
 *     → volume (mute) → opusenc → rtpopuspay → tee ─┬→ branch of peer A
 *                                                    └→ branch of peer B …
 *   silence ─┐
 *   peer A  ─┼→ audiomixer → S16 48 kHz mono → [webrtcechoprobe] → sink bin
 *   peer B  ─┘
 *
 * A branch (one bin per peer, so that it comes and goes as one piece):
 *   tee → rtpbin send → srtpenc → appsink (RTP) ┐
 *         rtpbin RTCP → srtpenc → appsink (RTCP)┴→ hooks.packet_out
 *   media_branch_push → pad (RTP)  → srtpdec → rtpbin recv → rtpopusdepay
 *                     → pad (RTCP) ┘  → opusdec → convert → mixer
 *
 * Threads: the encoder's thread runs every peer's send side to the appsink
 * and nice_agent_send, which never block (no queue: one thread fewer per
 * peer and a wake-up fewer per packet). Received packets go from libnice's
 * receive callback straight into srtpdec through a pad of our own, which
 * timestamps them on arrival (no appsrc and its thread); the jitter
 * buffer's thread takes them from there to the mixer.
 *
 * RTP and RTCP share the ICE component (RFC 5761): media_branch_push tells
 * them apart by the RTCP packet types 200-204 in the second byte.
 */
#define G_LOG_DOMAIN "voipd-media"

#include "media-pipeline.h"

#include "media-dtx-gate.h"
#include "media-srtp.h"

#include <gst/app/app.h>
#include <string.h>

static void clear_input_pad (GstPad **pad);

#define OPUS_PAYLOAD_TYPE 96
#define RAW_CAPS "audio/x-raw,format=S16LE,rate=48000,channels=1,layout=interleaved"
#define SRTP_CAPS "application/x-srtp,media=audio,clock-rate=48000,encoding-name=OPUS,payload=96"
#define RTP_CAPS  "application/x-rtp,media=audio,clock-rate=48000,encoding-name=OPUS,payload=96"

/* Our Opus frames, and what opusdec claims for FEC whatever the frames. */
#define OPUS_FRAME (20 * GST_MSECOND)
#define OPUS_FEC_REPORTED_LATENCY (120 * GST_MSECOND)
/* The jitter buffer: one Opus frame, enough for a LAN's jitter and a busy
 * sender's scheduling (an 8-way mesh on two cores stays real time), and not
 * more: every millisecond here is one of mouth to ear, which measures 35-60 ms
 * from the encoder's input to the mixer's output (tests/bench/call-bench.sh):
 * one Opus frame, this, the FEC packet opusdec holds back, the mixer. */
#define JITTER_LATENCY_MS 20
/* The adaptive jitter buffer (media_branch_adapt): it starts at
 * JITTER_LATENCY_MS and follows the peer's inter-arrival jitter (RFC 3550's
 * estimate, a mean deviation: JITTER_DEVIATIONS of it hold nearly every
 * packet), grows by a frame at once when packets came too late to be played
 * (the decoder concealed them), and once neither has asked for more for
 * JITTER_CALM comes back down a step per MEDIA_BRANCH_ADAPT_MS (a bursty
 * network keeps it up: every burst restarts the calm). Lost packets do not
 * grow it: FEC and PLC conceal those whatever the depth. */
#define JITTER_MAX_MS 200
#define JITTER_STEP_MS 10
#define JITTER_DEVIATIONS 3
#define JITTER_CALM (2 * G_TIME_SPAN_SECOND)
/* Peers are plugged into the running mixer; tell it up front how late their
 * audio may be (jitter buffer + the packet opusdec holds back for FEC) so
 * that it waits for it from their first packet on. */
#define MIXER_UPSTREAM_LATENCY (JITTER_LATENCY_MS * GST_MSECOND + OPUS_FRAME)
/* …plus the time to decode and convert what the jitter buffer releases, on
 * a busy machine: audio that comes later than that is a click. */
#define MIXER_PROCESSING_SLACK (10 * GST_MSECOND)
/* Opus's complexity by measured cost (docs/BENCHMARKS.md): encoding a voice
 * stream at 32 kb/s with FEC costs 0.45% of a core here at complexity 0 or
 * 1, 0.9% at 2 and 3, 1.0% at 5, 1.8% at 10 (its default), and espeak-ng's
 * speech through it scores STOI 0.976 at 1, 0.983 at 5 and 10: at 1 the
 * encoder is half the cost of 5 for a difference a listener does not hear
 * in intelligibility. */
#define OPUS_COMPLEXITY 1
/* In-band FEC is sized for the loss the peers report (RTCP receiver
 * reports, every RTCP_INTERVAL): it follows a rise at once and a fall by
 * FEC_LOSS_DECAY points per MEDIA_BRANCH_ADAPT_MS, so that one clean report
 * in a lossy call does not switch it off. Before any report:
 * FEC_INITIAL_LOSS. At 0 the encoder spends no bits on it. */
#define FEC_INITIAL_LOSS 10
#define FEC_MAX_LOSS 30
#define FEC_LOSS_DECAY 1
/* The mixer's (and its silence source's) period: one Opus frame. Every
 * period wakes two threads; 10 ms would halve a period's latency and double
 * those wake-ups, which cost more CPU here than the whole decoder. */
#define MIXER_PERIOD OPUS_FRAME
/* RTCP reports every second instead of every five, for live RTT and loss. */
#define RTCP_INTERVAL GST_SECOND
/* How long call_free waits for the sink to finish its file. */
#define EOS_WAIT G_TIME_SPAN_SECOND

struct _MediaPipeline {
  GstElement *pipeline;
  GstElement *sink_bin;
  GstElement *tee;            /* encoded RTP, one pad per peer */
  GstElement *mixer;          /* decoded audio, one pad per peer */
  GstElement *mute;
  GstElement *encoder;
  int expected_loss;          /* main context: the encoder's packet-loss-percentage */
  GstElement *playback_head;  /* right after the mixer: EOS goes in here */

  GMutex lock;
  GCond cond;
  gboolean sink_eos;          /* under lock: the sink bin has seen EOS */
  gboolean failed;            /* under lock: the bus carried an error */
};

struct _MediaBranch {
  MediaPipeline *pipeline;
  MediaBranchHooks hooks;
  GstElement *bin;
  GstElement *rtpbin;
  GstElement *depay;
  GstPad *rtp_in;             /* ours, outside any element: media_branch_push's */
  GstPad *rtcp_in;
  GstPad *tee_pad;
  GstPad *mixer_pad;
  gint depay_linked;          /* atomic */

  GMutex lock;
  GstElement *jitterbuffer;   /* under lock: the one that plays, once it exists */
  /* Main context only (media_branch_adapt). */
  guint depth_ms;
  guint64 late;               /* the jitter buffer's late packets so far */
  gint64 last_grown;
};

static guint echo_probe_serial;  /* atomic: echo probe names are process-wide */

/* --- the call's pipeline -------------------------------------------------- */

static void
recalculate_latency (GstElement *element, gpointer data)
{
  gst_bin_recalculate_latency (GST_BIN (element));
}

static GstBusSyncReply
on_bus_message (GstBus *bus, GstMessage *message, gpointer data)
{
  MediaPipeline *self = data;

  switch (GST_MESSAGE_TYPE (message))
    {
    case GST_MESSAGE_ERROR:
      {
        g_autoptr(GError) error = NULL;
        g_autofree char *debug = NULL;

        gst_message_parse_error (message, &error, &debug);
        g_warning ("Audio pipeline error from %s: %s", GST_OBJECT_NAME (message->src),
                   error->message);
        g_debug ("%s", debug ? debug : "");
        g_mutex_lock (&self->lock);
        self->failed = TRUE;
        g_cond_broadcast (&self->cond);
        g_mutex_unlock (&self->lock);
        break;
      }
    case GST_MESSAGE_WARNING:
      {
        g_autoptr(GError) error = NULL;

        gst_message_parse_warning (message, &error, NULL);
        g_message ("Audio pipeline warning from %s: %s", GST_OBJECT_NAME (message->src),
                   error->message);
        break;
      }
    case GST_MESSAGE_LATENCY:
      /* A peer's jitter buffer changed its latency: redistribute, but not
       * from this streaming thread. */
      gst_element_call_async (self->pipeline, recalculate_latency, NULL, NULL);
      break;
    case GST_MESSAGE_ELEMENT:
      /* With message-forward the pipeline lets us see the sink bin's own EOS
       * (the pipeline's waits for the appsinks of every peer too). */
      if (gst_message_has_name (message, "GstBinForwarded"))
        {
          g_autoptr(GstMessage) inner = NULL;

          gst_structure_get (gst_message_get_structure (message),
                             "message", GST_TYPE_MESSAGE, &inner, NULL);
          if (inner && GST_MESSAGE_TYPE (inner) == GST_MESSAGE_EOS
              && GST_MESSAGE_SRC (inner) == GST_OBJECT (self->sink_bin))
            {
              g_mutex_lock (&self->lock);
              self->sink_eos = TRUE;
              g_cond_broadcast (&self->cond);
              g_mutex_unlock (&self->lock);
            }
        }
      break;
    default:
      break;
    }
  /* Nobody watches this bus: a sync handler that drops owns the message. */
  gst_message_unref (message);
  return GST_BUS_DROP;
}

static GstElement *
parse_user_bin (const char *what, const char *description, GError **error)
{
  g_autoptr(GError) local_error = NULL;
  GstElement *bin;

  bin = gst_parse_bin_from_description_full (description, TRUE, NULL,
                                             GST_PARSE_FLAG_FATAL_ERRORS, &local_error);
  if (!bin)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "Audio %s “%s”: %s",
                   what, description, local_error->message);
      return NULL;
    }
  return bin;
}

MediaPipeline *
media_pipeline_new (const char *audio_source, const char *audio_sink,
                    gboolean echo_cancellation, gboolean dtx, GError **error)
{
  g_autoptr(GstElement) source_bin = NULL;
  g_autoptr(GstElement) sink_bin = NULL;
  g_autoptr(GstElement) pipeline = NULL;
  g_autoptr(GstElement) capture_head = NULL;
  g_autoptr(GstElement) playback_tail = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *probe = NULL;
  g_autofree char *dsp = NULL;
  g_autofree char *description = NULL;
  g_autoptr(GstBus) bus = NULL;
  MediaPipeline *self;

  source_bin = parse_user_bin ("source", audio_source, error);
  if (!source_bin)
    return NULL;
  sink_bin = parse_user_bin ("sink", audio_sink, error);
  if (!sink_bin)
    return NULL;

  if (echo_cancellation)
    {
      g_autofree char *probe_name =
        g_strdup_printf ("voipd_echo_probe_%u", g_atomic_int_add (&echo_probe_serial, 1));

      dsp = g_strdup_printf ("webrtcdsp probe=%s echo-cancel=true noise-suppression=true ! ",
                             probe_name);
      probe = g_strdup_printf ("webrtcechoprobe name=%s ! ", probe_name);
    }

  /* The silence source keeps the mixer (and a file sink's clock) running
   * before the first peer and between peers. The mixer is live whatever its
   * latency query says (it fails until the sources have caps): otherwise it
   * would wait for every peer instead of timing out. Opus in-band FEC only
   * works with a loss estimate: FEC_INITIAL_LOSS until the peers report
   * theirs (media_pipeline_set_expected_loss). DTX: in silence (or muted)
   * the encoder sends a comfort-noise frame every 400 ms instead of 50
   * packets a second, and both sides' send and receive chains sleep; it is
   * on only while the input is quiet (media-dtx-gate.c), since Opus's voice
   * activity detector takes any stationary sound (a steady tone, music) for
   * background noise and stops sending it. */
  description = g_strdup_printf (
    "audioconvert name=capture_head ! audioresample ! " RAW_CAPS " ! %s"
    "volume name=mute ! "
    "opusenc name=encoder bitrate=32000 frame-size=20 inband-fec=true "
    "  packet-loss-percentage=%d audio-type=voice dtx=false complexity=%d ! "
    "rtpopuspay pt=%d dtx=%s ! tee name=send allow-not-linked=true "
    "audiotestsrc wave=silence is-live=true samplesperbuffer=%d ! " RAW_CAPS " ! "
    "audiomixer name=mixer force-live=true ignore-inactive-pads=true "
    "  output-buffer-duration=%" G_GUINT64_FORMAT

    "  min-upstream-latency=%" G_GUINT64_FORMAT
    " latency=%" G_GUINT64_FORMAT " ! "
    "capsfilter name=playback_head caps=\"" RAW_CAPS "\" ! %s"
    "audioconvert ! audioresample name=playback_tail",
    dsp ? dsp : "", FEC_INITIAL_LOSS, OPUS_COMPLEXITY,
    OPUS_PAYLOAD_TYPE, dtx ? "true" : "false",
    (int) (48000 * MIXER_PERIOD / GST_SECOND), (guint64) MIXER_PERIOD, (guint64) MIXER_UPSTREAM_LATENCY,
    (guint64) MIXER_PROCESSING_SLACK, probe ? probe : "");
  pipeline = gst_parse_launch_full (description, NULL, GST_PARSE_FLAG_FATAL_ERRORS, &local_error);
  if (!pipeline)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "Cannot build the audio pipeline: %s", local_error->message);
      return NULL;
    }
  gst_object_ref_sink (pipeline);
  g_object_set (pipeline, "message-forward", TRUE, NULL);

  capture_head = gst_bin_get_by_name (GST_BIN (pipeline), "capture_head");
  playback_tail = gst_bin_get_by_name (GST_BIN (pipeline), "playback_tail");
  gst_bin_add_many (GST_BIN (pipeline), gst_object_ref (source_bin),
                    gst_object_ref (sink_bin), NULL);
  if (!gst_element_link (source_bin, capture_head))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Audio source “%s” gives no raw audio", audio_source);
      return NULL;
    }
  if (!gst_element_link (playback_tail, sink_bin))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Audio sink “%s” takes no raw audio", audio_sink);
      return NULL;
    }

  self = g_new0 (MediaPipeline, 1);
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->pipeline = g_steal_pointer (&pipeline);
  self->sink_bin = g_steal_pointer (&sink_bin);
  self->tee = gst_bin_get_by_name (GST_BIN (self->pipeline), "send");
  self->mixer = gst_bin_get_by_name (GST_BIN (self->pipeline), "mixer");
  self->mute = gst_bin_get_by_name (GST_BIN (self->pipeline), "mute");
  self->encoder = gst_bin_get_by_name (GST_BIN (self->pipeline), "encoder");
  if (dtx)
    media_dtx_gate_attach (self->encoder);
  self->expected_loss = FEC_INITIAL_LOSS;
  self->playback_head = gst_bin_get_by_name (GST_BIN (self->pipeline), "playback_head");

  bus = gst_element_get_bus (self->pipeline);
  gst_bus_set_sync_handler (bus, on_bus_message, self, NULL);
  return self;
}

gboolean
media_pipeline_start (MediaPipeline *self, GError **error)
{
  /* Live sources: PLAYING returns NO_PREROLL at once, a source that cannot
   * open its device fails here. */
  if (gst_element_set_state (self->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "The audio pipeline does not start (is the audio device available?)");
      gst_element_set_state (self->pipeline, GST_STATE_NULL);
      return FALSE;
    }
  return TRUE;
}

void
media_pipeline_set_muted (MediaPipeline *self, gboolean muted)
{
  /* Before the encoder: peers get silence, and their jitter buffers and
   * statistics keep running. */
  g_object_set (self->mute, "mute", muted, NULL);
}

void
media_pipeline_set_expected_loss (MediaPipeline *self, double percent)
{
  int loss = CLAMP ((int) (percent + 0.5), 0, FEC_MAX_LOSS);

  if (loss < self->expected_loss)
    loss = MAX (loss, self->expected_loss - FEC_LOSS_DECAY);
  if (loss == self->expected_loss)
    return;
  g_debug ("In-band FEC for %d%% loss (reported %.1f%%)", loss, percent);
  self->expected_loss = loss;
  g_object_set (self->encoder, "packet-loss-percentage", loss, NULL);
}

/* EOS into the playback side, so that e.g. wavenc writes its header, then NULL. */
void
media_pipeline_stop (MediaPipeline *self)
{
  g_autoptr(GstPad) pad = gst_element_get_static_pad (self->playback_head, "sink");
  GstState state = GST_STATE_NULL;
  gboolean failed;

  gst_element_get_state (self->pipeline, &state, NULL, 0);
  g_mutex_lock (&self->lock);
  failed = self->failed;
  g_mutex_unlock (&self->lock);

  if (state == GST_STATE_PLAYING && !failed)
    {
      gint64 deadline = g_get_monotonic_time () + EOS_WAIT;

      gst_pad_send_event (pad, gst_event_new_eos ());
      g_mutex_lock (&self->lock);
      while (!self->sink_eos && !self->failed)
        if (!g_cond_wait_until (&self->cond, &self->lock, deadline))
          break;
      if (!self->sink_eos)
        g_message ("The audio sink did not finish within a second");
      g_mutex_unlock (&self->lock);
    }
  gst_element_set_state (self->pipeline, GST_STATE_NULL);
}

void
media_pipeline_free (MediaPipeline *self)
{
  g_autoptr(GstBus) bus = gst_element_get_bus (self->pipeline);

  gst_element_set_state (self->pipeline, GST_STATE_NULL);
  gst_bus_set_sync_handler (bus, NULL, NULL, NULL);
  gst_clear_object (&self->tee);
  gst_clear_object (&self->mixer);
  gst_clear_object (&self->mute);
  gst_clear_object (&self->encoder);
  gst_clear_object (&self->playback_head);
  gst_clear_object (&self->sink_bin);
  gst_clear_object (&self->pipeline);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  g_free (self);
}

/* --- a peer's branch ------------------------------------------------------ */

static GstCaps *
on_rtpbin_request_pt_map (GstElement *rtpbin, guint session, guint pt, gpointer data)
{
  return pt == OPUS_PAYLOAD_TYPE ? gst_caps_from_string (RTP_CAPS) : NULL;
}

static void
on_rtpbin_pad_added (GstElement *rtpbin, GstPad *pad, gpointer data)
{
  MediaBranch *self = data;
  g_autoptr(GstPad) sink = NULL;

  if (!g_str_has_prefix (GST_PAD_NAME (pad), "recv_rtp_src_"))
    return;
  /* One stream per peer; a second SSRC (a restarted sender) is not played. */
  if (!g_atomic_int_compare_and_exchange (&self->depay_linked, FALSE, TRUE))
    {
      g_debug ("Ignoring a second RTP stream %s", GST_PAD_NAME (pad));
      return;
    }
  sink = gst_element_get_static_pad (self->depay, "sink");
  if (GST_PAD_LINK_FAILED (gst_pad_link (pad, sink)))
    g_warning ("Cannot link %s to the Opus depayloader", GST_PAD_NAME (pad));
}

/* Streaming thread: rtpbin made the jitter buffer of a new SSRC. */
static void
on_rtpbin_new_jitterbuffer (GstElement *rtpbin, GstElement *jitterbuffer, guint session,
                            guint ssrc, gpointer data)
{
  MediaBranch *self = data;

  g_mutex_lock (&self->lock);
  /* The first stream is the one played (on_rtpbin_pad_added). */
  if (!self->jitterbuffer)
    self->jitterbuffer = gst_object_ref (jitterbuffer);
  g_mutex_unlock (&self->lock);
}

static GstCaps *
on_srtpdec_request_key (GstElement *srtpdec, guint ssrc, gpointer data)
{
  MediaBranch *self = data;

  return self->hooks.remote_key (self->hooks.data);
}

static GstFlowReturn
on_appsink_new_sample (GstAppSink *appsink, gpointer data)
{
  MediaBranch *self = data;
  g_autoptr(GstSample) sample = gst_app_sink_pull_sample (appsink);
  GstBuffer *buffer;
  GstMapInfo map;

  if (!sample)
    return GST_FLOW_FLUSHING;
  buffer = gst_sample_get_buffer (sample);
  if (buffer && gst_buffer_map (buffer, &map, GST_MAP_READ))
    {
      self->hooks.packet_out (self->hooks.data, map.data, map.size);
      gst_buffer_unmap (buffer, &map);
    }
  return GST_FLOW_OK;
}

/* opusdec with in-band FEC holds back one packet (to repair it from the
 * next one) but reports the largest Opus frame, 120 ms, as its latency;
 * the mixer would then play every peer 100 ms later than needed. Report
 * what our 20 ms frames really cost. */
static GstPadProbeReturn
on_decoder_latency_query (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  GstQuery *query = GST_PAD_PROBE_INFO_QUERY (info);
  GstClockTime min, max;
  gboolean live;

  if (GST_QUERY_TYPE (query) != GST_QUERY_LATENCY)
    return GST_PAD_PROBE_OK;
  gst_query_parse_latency (query, &live, &min, &max);
  if (min >= OPUS_FEC_REPORTED_LATENCY)
    gst_query_set_latency (query, live, min - OPUS_FEC_REPORTED_LATENCY + OPUS_FRAME, max);
  return GST_PAD_PROBE_OK;
}

/* Until the peer's first packet, rtpbin has no pad for the depayloader and a
 * latency query from the mixer would fail there, failing the pipeline's
 * latency with it. Answer for the jitter buffer that will be there. */
static GstPadProbeReturn
on_depayloader_latency_query (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  GstQuery *query = GST_PAD_PROBE_INFO_QUERY (info);

  if (GST_QUERY_TYPE (query) != GST_QUERY_LATENCY || gst_pad_is_linked (pad))
    return GST_PAD_PROBE_OK;
  gst_query_set_latency (query, TRUE, JITTER_LATENCY_MS * GST_MSECOND, GST_CLOCK_TIME_NONE);
  return GST_PAD_PROBE_HANDLED;
}

/* The mixer holds a serialized query (opusdec's ALLOCATION) until it gets
 * to that pad, and with ignore-inactive-pads it never gets to a pad that
 * has had no buffer yet: the decoder would wait forever for its answer.
 * Our caps are fixed, so nothing of value is lost by refusing them here. */
static GstPadProbeReturn
on_branch_serialized_query (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  return GST_QUERY_IS_SERIALIZED (GST_PAD_PROBE_INFO_QUERY (info)) ? GST_PAD_PROBE_DROP
                                                                    : GST_PAD_PROBE_OK;
}

/* While a branch goes: nothing more into the mixer. */
static GstPadProbeReturn
on_branch_leaving (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  return GST_PAD_PROBE_DROP;
}

static GstElement *
make (GstBin *bin, const char *factory, GError **error)
{
  GstElement *element;

  if (error && *error)
    return NULL;
  element = gst_element_factory_make (factory, NULL);
  if (!element)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "The GStreamer element “%s” is missing", factory);
      return NULL;
    }
  gst_bin_add (bin, element);
  return element;
}

static gboolean
link_pads (GstElement *src, const char *src_pad, GstElement *sink, const char *sink_pad,
           GError **error)
{
  if (*error)
    return FALSE;
  /* gst_element_link_pads requests pads by name (rtpbin's, srtpenc's). */
  if (!gst_element_link_pads (src, src_pad, sink, sink_pad))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Cannot link %s:%s to %s:%s",
                   GST_ELEMENT_NAME (src), src_pad, GST_ELEMENT_NAME (sink), sink_pad);
      return FALSE;
    }
  return TRUE;
}

/* A source pad of our own for received packets, linked to srtpdec's sink:
 * what appsrc did without its queue and thread. The stream's sticky events
 * are stored on it now and go downstream before its first packet (again
 * after a flush). */
static GstPad *
make_input_pad (const char *name, const char *caps, GstElement *sink, const char *sink_name,
                GError **error)
{
  g_autoptr(GstPad) pad = gst_pad_new (name, GST_PAD_SRC);
  g_autoptr(GstPad) peer = gst_element_get_static_pad (sink, sink_name);
  g_autoptr(GstCaps) parsed = gst_caps_from_string (caps);
  g_autofree char *stream_id = g_strdup_printf ("voipd-%s-%p", name, (void *) pad);
  GstEvent *events[3];
  GstSegment segment;

  if (*error)
    return NULL;
  gst_pad_set_active (pad, TRUE);
  if (!peer || GST_PAD_LINK_FAILED (gst_pad_link (pad, peer)))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Cannot link the %s input", name);
      return NULL;
    }
  gst_segment_init (&segment, GST_FORMAT_TIME);
  events[0] = gst_event_new_stream_start (stream_id);
  events[1] = gst_event_new_caps (parsed);
  events[2] = gst_event_new_segment (&segment);
  for (guint i = 0; i < G_N_ELEMENTS (events); i++)
    {
      gst_pad_store_sticky_event (pad, events[i]);
      gst_event_unref (events[i]);
    }
  return g_steal_pointer (&pad);
}

static void
configure_appsink (MediaBranch *self, GstElement *appsink)
{
  GstAppSinkCallbacks callbacks = { .new_sample = on_appsink_new_sample };

  g_object_set (appsink, "sync", FALSE, "async", FALSE, "enable-last-sample", FALSE, NULL);
  gst_app_sink_set_callbacks (GST_APP_SINK (appsink), &callbacks, self, NULL);
}

static GstPad *
ghost (GstElement *bin, const char *name, GstElement *element, const char *pad_name)
{
  g_autoptr(GstPad) target = gst_element_get_static_pad (element, pad_name);
  GstPad *pad = gst_ghost_pad_new (name, target);

  gst_element_add_pad (bin, pad);
  return pad;
}

static void
clear_input_pad (GstPad **pad)
{
  g_autoptr(GstPad) peer = NULL;

  if (!*pad)
    return;
  gst_pad_set_active (*pad, FALSE);
  peer = gst_pad_get_peer (*pad);
  if (peer)
    gst_pad_unlink (*pad, peer);
  gst_clear_object (pad);
}

static gboolean
build_branch (MediaBranch *self, GBytes *local_key, GError **error)
{
  GstBin *bin = GST_BIN (self->bin);
  GstElement *srtpenc, *rtp_out, *rtcp_out, *srtpdec;
  GstElement *opusdec, *convert, *resample, *capsfilter;
  g_autoptr(GstCaps) raw_caps = gst_caps_from_string (RAW_CAPS);
  g_autoptr(GObject) session = NULL;
  g_autoptr(GstPad) decoder_src = NULL;
  g_autoptr(GstPad) depayloader_sink = NULL;
  g_autoptr(GstPad) send_sink = NULL;

  self->rtpbin = make (bin, "rtpbin", error);
  srtpenc = make (bin, "srtpenc", error);
  rtp_out = make (bin, "appsink", error);
  rtcp_out = make (bin, "appsink", error);
  srtpdec = make (bin, "srtpdec", error);
  self->depay = make (bin, "rtpopusdepay", error);
  opusdec = make (bin, "opusdec", error);
  convert = make (bin, "audioconvert", error);
  resample = make (bin, "audioresample", error);
  capsfilter = make (bin, "capsfilter", error);
  if (*error)
    return FALSE;

  g_object_set (self->rtpbin, "latency", JITTER_LATENCY_MS, "do-lost", TRUE,
                "drop-on-latency", TRUE, NULL);
  g_signal_connect (self->rtpbin, "request-pt-map", G_CALLBACK (on_rtpbin_request_pt_map), self);
  g_signal_connect (self->rtpbin, "pad-added", G_CALLBACK (on_rtpbin_pad_added), self);
  g_signal_connect (self->rtpbin, "new-jitterbuffer", G_CALLBACK (on_rtpbin_new_jitterbuffer),
                    self);
  media_srtp_configure_encoder (srtpenc, local_key);
  g_signal_connect (srtpdec, "request-key", G_CALLBACK (on_srtpdec_request_key), self);
  configure_appsink (self, rtp_out);
  configure_appsink (self, rtcp_out);
  g_object_set (opusdec, "use-inband-fec", TRUE, "plc", TRUE, NULL);
  depayloader_sink = gst_element_get_static_pad (self->depay, "sink");
  gst_pad_add_probe (depayloader_sink, GST_PAD_PROBE_TYPE_QUERY_UPSTREAM | GST_PAD_PROBE_TYPE_PUSH,
                     on_depayloader_latency_query, NULL, NULL);
  decoder_src = gst_element_get_static_pad (opusdec, "src");
  gst_pad_add_probe (decoder_src, GST_PAD_PROBE_TYPE_QUERY_UPSTREAM | GST_PAD_PROBE_TYPE_PULL,
                     on_decoder_latency_query, NULL, NULL);
  g_object_set (capsfilter, "caps", raw_caps, NULL);

  /* Requesting the sink makes rtpbin add send_rtp_src_0. */
  send_sink = gst_element_request_pad_simple (self->rtpbin, "send_rtp_sink_0");
  if (!send_sink)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "rtpbin has no send pad");
      return FALSE;
    }
  link_pads (self->rtpbin, "send_rtp_src_0", srtpenc, "rtp_sink_0", error);
  link_pads (srtpenc, "rtp_src_0", rtp_out, "sink", error);
  link_pads (self->rtpbin, "send_rtcp_src_0", srtpenc, "rtcp_sink_0", error);
  link_pads (srtpenc, "rtcp_src_0", rtcp_out, "sink", error);
  self->rtp_in = make_input_pad ("rtp_in", SRTP_CAPS, srtpdec, "rtp_sink", error);
  self->rtcp_in = make_input_pad ("rtcp_in", "application/x-srtcp", srtpdec, "rtcp_sink", error);
  link_pads (srtpdec, "rtp_src", self->rtpbin, "recv_rtp_sink_0", error);
  link_pads (srtpdec, "rtcp_src", self->rtpbin, "recv_rtcp_sink_0", error);
  if (*error)
    return FALSE;
  if (!gst_element_link_many (self->depay, opusdec, convert, resample, capsfilter, NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Cannot link the Opus decoder");
      return FALSE;
    }

  g_signal_emit_by_name (self->rtpbin, "get-internal-session", 0, &session);
  if (session)
    g_object_set (session, "rtcp-min-interval", (guint64) RTCP_INTERVAL, NULL);

  gst_element_add_pad (self->bin, gst_ghost_pad_new ("sink", send_sink));
  gst_pad_add_probe (ghost (self->bin, "src", capsfilter, "src"),
                     GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM | GST_PAD_PROBE_TYPE_PUSH,
                     on_branch_serialized_query, NULL, NULL);
  return TRUE;
}

MediaBranch *
media_branch_new (MediaPipeline *pipeline, const char *name, GBytes *local_key,
                  const MediaBranchHooks *hooks, GError **error)
{
  g_autofree char *bin_name = g_strdup_printf ("peer-%s", name);
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GstPad) bin_sink = NULL;
  g_autoptr(GstPad) bin_src = NULL;
  MediaBranch *self = g_new0 (MediaBranch, 1);

  self->pipeline = pipeline;
  self->hooks = *hooks;
  g_mutex_init (&self->lock);
  self->depth_ms = JITTER_LATENCY_MS;
  self->bin = gst_object_ref_sink (gst_bin_new (bin_name));
  if (!build_branch (self, local_key, &local_error))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      clear_input_pad (&self->rtp_in);
      clear_input_pad (&self->rtcp_in);
      gst_clear_object (&self->bin);
      g_mutex_clear (&self->lock);
      g_free (self);
      return NULL;
    }

  gst_bin_add (GST_BIN (pipeline->pipeline), gst_object_ref (self->bin));
  bin_src = gst_element_get_static_pad (self->bin, "src");
  self->mixer_pad = gst_element_request_pad_simple (pipeline->mixer, "sink_%u");
  gst_pad_link (bin_src, self->mixer_pad);
  gst_element_sync_state_with_parent (self->bin);
  /* Feed it only once it runs: a flushing pad would stop the tee. */
  bin_sink = gst_element_get_static_pad (self->bin, "sink");
  self->tee_pad = gst_element_request_pad_simple (pipeline->tee, "src_%u");
  gst_pad_link (self->tee_pad, bin_sink);
  return self;
}

void
media_branch_push (MediaBranch *self, const guint8 *packet, gsize size)
{
  g_autoptr(GstClock) clock = NULL;
  GstBuffer *buffer;
  gboolean is_rtcp;

  if (size < 12)
    return;
  /* Stamped on arrival in the pipeline's running time, as the jitter buffer
   * expects; before the bin has a clock (not yet playing) there is nothing
   * to push into. */
  clock = gst_element_get_clock (self->bin);
  if (!clock)
    return;
  /* RFC 5761: RTCP packet types 200-204 never collide with our payload type
   * (with or without the marker bit). */
  is_rtcp = packet[1] >= 200 && packet[1] <= 204;
  buffer = gst_buffer_new_memdup (packet, size);
  GST_BUFFER_DTS (buffer) = GST_BUFFER_PTS (buffer) =
    gst_clock_get_time (clock) - gst_element_get_base_time (self->bin);
  /* The caller serializes pushes (one at a time per branch). A flushing
   * srtpdec (the branch going) gives the buffer back: push unrefs it. */
  gst_pad_push (is_rtcp ? self->rtcp_in : self->rtp_in, buffer);
}

void
media_branch_get_stats (MediaBranch *self, MediaBranchStats *stats)
{
  g_autoptr(GObject) session = NULL;
  g_autoptr(GstStructure) session_stats = NULL;
  const GValue *sources;
  GValueArray *array;

  memset (stats, 0, sizeof *stats);
  stats->reported_loss_percent = -1;
  g_signal_emit_by_name (self->rtpbin, "get-internal-session", 0, &session);
  if (!session)
    return;
  g_object_get (session, "stats", &session_stats, NULL);
  sources = session_stats ? gst_structure_get_value (session_stats, "source-stats") : NULL;
  if (!sources)
    return;

  /* rtpsession still hands out a GValueArray. */
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  array = g_value_get_boxed (sources);
  for (guint i = 0; array && i < array->n_values; i++)
    {
      const GstStructure *source = gst_value_get_structure (&array->values[i]);
      gboolean internal = FALSE, have_rb = FALSE;

      gst_structure_get_boolean (source, "internal", &internal);
      if (!internal)
        {
          guint64 received = 0;
          gint lost = 0, clock_rate = 0;
          guint jitter = 0, round_trip = 0, fraction_lost = 0;

          /* The peer's stream as we receive it… */
          if (!gst_structure_get_uint64 (source, "packets-received", &received) || received == 0)
            continue;
          gst_structure_get_int (source, "packets-lost", &lost);
          gst_structure_get_uint (source, "jitter", &jitter);
          gst_structure_get_int (source, "clock-rate", &clock_rate);
          if (lost > 0)
            stats->loss_percent = 100.0 * lost / (double) (received + lost);
          if (clock_rate > 0)
            stats->jitter_ms = jitter * 1000.0 / clock_rate;
          /* …and its last receiver report on ours: the RTT, in 1/65536 s. */
          gst_structure_get_boolean (source, "have-rb", &have_rb);
          if (have_rb && gst_structure_get_uint (source, "rb-round-trip", &round_trip))
            stats->rtt_ms = round_trip * 1000.0 / 65536.0;
          /* …and what it lost of ours over its last report interval, in 1/256. */
          if (have_rb && gst_structure_get_uint (source, "rb-fractionlost", &fraction_lost))
            stats->reported_loss_percent = fraction_lost * 100.0 / 256.0;
        }
    }
  G_GNUC_END_IGNORE_DEPRECATIONS
  stats->jitter_buffer_ms = self->depth_ms;
}

static guint
round_up_to_step (double ms)
{
  guint steps = (guint) (ms / JITTER_STEP_MS);

  if (steps * JITTER_STEP_MS < ms)
    steps++;
  return steps * JITTER_STEP_MS;
}

double
media_branch_adapt (MediaBranch *self)
{
  g_autoptr(GstElement) jitterbuffer = NULL;
  g_autoptr(GstStructure) jitter_stats = NULL;
  MediaBranchStats stats;
  guint64 late = 0;
  guint target, depth = self->depth_ms;
  gint64 now = g_get_monotonic_time ();

  g_mutex_lock (&self->lock);
  if (self->jitterbuffer)
    jitterbuffer = gst_object_ref (self->jitterbuffer);
  g_mutex_unlock (&self->lock);
  media_branch_get_stats (self, &stats);
  if (!jitterbuffer)
    return stats.reported_loss_percent;

  g_object_get (jitterbuffer, "stats", &jitter_stats, NULL);
  if (jitter_stats)
    gst_structure_get_uint64 (jitter_stats, "num-late", &late);

  target = CLAMP (round_up_to_step (JITTER_DEVIATIONS * stats.jitter_ms), JITTER_LATENCY_MS,
                  JITTER_MAX_MS);
  if (late > self->late)
    target = MAX (target, depth + OPUS_FRAME / GST_MSECOND);
  self->late = late;

  if (target >= depth && target > JITTER_LATENCY_MS)
    {
      depth = MIN (target, JITTER_MAX_MS);
      self->last_grown = now;
    }
  else if (target < depth && now - self->last_grown >= JITTER_CALM)
    depth -= JITTER_STEP_MS;
  if (depth == self->depth_ms)
    return stats.reported_loss_percent;
  g_debug ("Jitter buffer %s: %u -> %u ms (jitter %.1f ms, %" G_GUINT64_FORMAT " late)",
           GST_OBJECT_NAME (self->bin), self->depth_ms, depth, stats.jitter_ms, late);
  self->depth_ms = depth;
  /* The jitter buffer posts LATENCY: on_bus_message redistributes it, and
   * the mixer then waits as long for this peer. */
  g_object_set (jitterbuffer, "latency", depth, NULL);
  return stats.reported_loss_percent;
}

void
media_branch_free (MediaBranch *self)
{
  MediaPipeline *pipeline = self->pipeline;
  g_autoptr(GstPad) bin_sink = gst_element_get_static_pad (self->bin, "sink");
  g_autoptr(GstPad) bin_src = gst_element_get_static_pad (self->bin, "src");

  /* Upstream first: tee tolerates a pad being released while it pushes.
   * Then the mixer: once nothing goes in, releasing its pad wakes a thread
   * of the branch that waits in it, which would else hold the stream lock
   * that setting the branch to NULL needs. */
  gst_pad_unlink (self->tee_pad, bin_sink);
  gst_element_release_request_pad (pipeline->tee, self->tee_pad);
  gst_pad_add_probe (bin_src, GST_PAD_PROBE_TYPE_DATA_DOWNSTREAM | GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM,
                     on_branch_leaving, NULL, NULL);
  gst_pad_unlink (bin_src, self->mixer_pad);
  gst_element_release_request_pad (pipeline->mixer, self->mixer_pad);
  gst_element_set_state (self->bin, GST_STATE_NULL);
  gst_bin_remove (GST_BIN (pipeline->pipeline), self->bin);
  clear_input_pad (&self->rtp_in);
  clear_input_pad (&self->rtcp_in);

  gst_clear_object (&self->tee_pad);
  gst_clear_object (&self->mixer_pad);
  gst_clear_object (&self->jitterbuffer);
  gst_clear_object (&self->bin);
  g_mutex_clear (&self->lock);
  g_free (self);
}
