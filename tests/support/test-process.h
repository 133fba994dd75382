/* test-process.h — waiting for the programs a test starts. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Waits at most timeout_ms for the process to exit, without running the
 * caller's main context; TRUE if it did. */
gboolean test_process_wait_exit (GSubprocess *process, guint timeout_ms);

G_END_DECLS
