/* fuzz.h — what every libFuzzer target of tests/fuzz shares.
 *
 * A critical (g_return_if_fail and friends) or an error reached from
 * untrusted bytes is a bug like a crash, so both abort and libFuzzer keeps
 * the input. Everything else that is logged (the code's own complaints about
 * bad input) is expected and dropped: printing it would only slow the run.
 */
#pragma once

#include <glib.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static GLogWriterOutput
fuzz_log_writer (GLogLevelFlags log_level, const GLogField *fields, gsize n_fields,
                 gpointer user_data)
{
  if (log_level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR))
    {
      g_log_writer_standard_streams (log_level, fields, n_fields, user_data);
      abort ();
    }
  return G_LOG_WRITER_HANDLED;
}

/* Call first in every LLVMFuzzerTestOneInput; cheap after the first time. */
static inline void
fuzz_init (void)
{
  static gboolean done = FALSE;

  if (done)
    return;
  g_log_set_writer_func (fuzz_log_writer, NULL, NULL);
  done = TRUE;
}
