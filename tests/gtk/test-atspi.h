/* test-atspi.h — reading and driving an app through AT-SPI, as a screen
 * reader does: over the accessibility bus, with plain D-Bus calls (the
 * org.a11y.atspi.* interfaces), no client library. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* One accessible object: the bus name of its app and its object path. */
typedef struct {
  char *bus_name;
  char *path;
} TestAccessible;

void            test_accessible_free (TestAccessible *accessible);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TestAccessible, test_accessible_free)

/* The first accessible (depth first) of the app named `app` (its AT-SPI
 * name, the program name) whose name contains `needle`, with role name
 * `role` (NULL: any, e.g. "button", "list item", "text box"); NULL if none is
 * there now. */
TestAccessible *test_atspi_find      (GDBusConnection *a11y, const char *app,
                                      const char *needle, const char *role);
/* The same, polling until it appears (within timeout_ms); fails the test
 * with `app`'s tree (names and roles) otherwise. */
TestAccessible *test_atspi_wait_at   (const char *file, int line, GDBusConnection *a11y,
                                      const char *app, const char *needle, const char *role,
                                      guint timeout_ms);
#define test_atspi_wait(a11y, app, needle, role) \
  test_atspi_wait_at (__FILE__, __LINE__, (a11y), (app), (needle), (role), 30000)
/* Its name (Accessible.Name). */
char           *test_atspi_get_name  (GDBusConnection *a11y, TestAccessible *accessible);
/* Action.DoAction (0): a button's click. */
void            test_atspi_click     (GDBusConnection *a11y, TestAccessible *accessible);
/* EditableText.SetTextContents on it or, for a composite entry, on the
 * first descendant that has the interface. */
void            test_atspi_set_text  (GDBusConnection *a11y, TestAccessible *accessible,
                                      const char *text);
/* The app's tree, one accessible a line (role and name, indented), for
 * failure messages. */
char           *test_atspi_dump      (GDBusConnection *a11y, const char *app);

G_END_DECLS
