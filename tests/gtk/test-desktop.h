/* test-desktop.h — a headless graphical session for a TestUser: an Xvfb
 * display and an accessibility bus (a dbus-daemon with at-spi2's
 * configuration, which activates the AT-SPI registry), both set in the
 * user's environment, and the desktop app `voip` ($VOIP_APP) run there. */
#pragma once

#include <gio/gio.h>
#include "test-user.h"

G_BEGIN_DECLS

typedef struct _TestDesktop TestDesktop;

/* Starts Xvfb and the accessibility bus, and sets DISPLAY,
 * AT_SPI_BUS_ADDRESS and GDK_BACKEND=x11 for the user's children. */
TestDesktop     *test_desktop_new        (TestUser *user);
/* Ends the apps, the bus and Xvfb with SIGTERM; each must exit with status
 * 0 and (apps) print no sanitizer report or critical. */
void             test_desktop_free       (TestDesktop *desktop);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TestDesktop, test_desktop_free)

/* The test's connection to the accessibility bus. */
GDBusConnection *test_desktop_get_a11y   (TestDesktop *desktop);

/* Starts `voip ARGS...` (NULL-terminated) and, for the first one, waits
 * until it owns org.voipd.Voip on the user's bus. */
void             test_desktop_start_app  (TestDesktop *desktop, const char *first_arg, ...);
/* Runs `voip ARGS...` to its end (a second instance hands over and exits);
 * returns its exit status. */
int              test_desktop_run_app    (TestDesktop *desktop, const char *first_arg, ...)
  G_GNUC_NULL_TERMINATED;

/* Saves the screen as $VOIP_TEST_SCREENSHOTS/NAME.png (when that variable
 * and ImageMagick's `import` are there; a missing screenshot fails nothing). */
void             test_desktop_screenshot (TestDesktop *desktop, const char *name);

G_END_DECLS
