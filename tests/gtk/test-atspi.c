/* test-atspi.c — AT-SPI over plain D-Bus: the registry lists the apps, each
 * app's tree is walked with Accessible.GetChildren, and buttons and entries
 * are driven with Action and EditableText, as Orca would. */
#include "test-atspi.h"

#include <string.h>

#define REGISTRY_NAME "org.a11y.atspi.Registry"
#define ROOT_PATH     "/org/a11y/atspi/accessible/root"
#define CALL_MS       5000
/* A window of the app is a few hundred accessibles; this bounds a walk
 * that a bug could make endless. */
#define MAX_NODES     5000

void
test_accessible_free (TestAccessible *accessible)
{
  if (accessible == NULL)
    return;
  g_free (accessible->bus_name);
  g_free (accessible->path);
  g_free (accessible);
}

static TestAccessible *
accessible_new (const char *bus_name, const char *path)
{
  TestAccessible *accessible = g_new0 (TestAccessible, 1);

  accessible->bus_name = g_strdup (bus_name);
  accessible->path = g_strdup (path);
  return accessible;
}

static GVariant *
call (GDBusConnection *a11y, const char *bus_name, const char *path, const char *interface,
      const char *method, GVariant *parameters, const char *reply_type)
{
  g_autoptr(GError) error = NULL;
  GVariant *reply = g_dbus_connection_call_sync (a11y, bus_name, path, interface, method,
                                                 parameters,
                                                 reply_type != NULL ? G_VARIANT_TYPE (reply_type) : NULL,
                                                 G_DBUS_CALL_FLAGS_NONE, CALL_MS, NULL,
                                                 &error);

  /* An accessible may go away between listing and asking, and the registry
   * is still starting (activated by the first call): not a failure of the
   * test, just nothing there yet. */
  return reply;
}

static char *
get_string_property (GDBusConnection *a11y, const char *bus_name, const char *path,
                     const char *property)
{
  g_autoptr(GVariant) reply = call (a11y, bus_name, path, "org.freedesktop.DBus.Properties", "Get",
                                    g_variant_new ("(ss)", "org.a11y.atspi.Accessible", property),
                                    "(v)");
  g_autoptr(GVariant) value = NULL;

  if (reply == NULL)
    return g_strdup ("");
  g_variant_get (reply, "(v)", &value);
  return g_variant_is_of_type (value, G_VARIANT_TYPE_STRING) ? g_variant_dup_string (value, NULL)
                                                             : g_strdup ("");
}

static char *
get_role_name (GDBusConnection *a11y, const char *bus_name, const char *path)
{
  g_autoptr(GVariant) reply = call (a11y, bus_name, path, "org.a11y.atspi.Accessible",
                                    "GetRoleName", NULL, "(s)");
  char *role = NULL;

  if (reply == NULL)
    return g_strdup ("");
  g_variant_get (reply, "(s)", &role);
  return role;
}

static GVariant *
get_children (GDBusConnection *a11y, const char *bus_name, const char *path)
{
  g_autoptr(GVariant) reply = call (a11y, bus_name, path, "org.a11y.atspi.Accessible",
                                    "GetChildren", NULL, "(a(so))");

  return reply != NULL ? g_variant_get_child_value (reply, 0) : NULL;
}

static gboolean
has_interface (GDBusConnection *a11y, const char *bus_name, const char *path,
               const char *interface)
{
  g_autoptr(GVariant) reply = call (a11y, bus_name, path, "org.a11y.atspi.Accessible",
                                    "GetInterfaces", NULL, "(as)");
  g_autofree const char **interfaces = NULL;

  if (reply == NULL)
    return FALSE;
  g_variant_get (reply, "(^a&s)", &interfaces);
  return g_strv_contains (interfaces, interface);
}

/* The root of the app named `app`, from the registry's list. */
static TestAccessible *
find_app (GDBusConnection *a11y, const char *app)
{
  g_autoptr(GVariant) apps = get_children (a11y, REGISTRY_NAME, ROOT_PATH);
  GVariantIter iter;
  const char *bus_name, *path;

  if (apps == NULL)
    return NULL;
  g_variant_iter_init (&iter, apps);
  while (g_variant_iter_next (&iter, "(&s&o)", &bus_name, &path))
    {
      g_autofree char *name = get_string_property (a11y, bus_name, path, "Name");

      if (g_strcmp0 (name, app) == 0)
        return accessible_new (bus_name, path);
    }
  return NULL;
}

typedef gboolean (*VisitFunc) (GDBusConnection *a11y, const char *bus_name, const char *path,
                               guint depth, gpointer data);

/* Depth first from (bus_name, path); stops when visit returns TRUE, and
 * returns whether it did. */
static gboolean
walk (GDBusConnection *a11y, const char *bus_name, const char *path, guint depth,
      guint *budget, VisitFunc visit, gpointer data)
{
  g_autoptr(GVariant) children = NULL;
  GVariantIter iter;
  const char *child_bus, *child_path;

  if (*budget == 0)
    return FALSE;
  (*budget)--;
  if (visit (a11y, bus_name, path, depth, data))
    return TRUE;
  children = get_children (a11y, bus_name, path);
  if (children == NULL)
    return FALSE;
  g_variant_iter_init (&iter, children);
  while (g_variant_iter_next (&iter, "(&s&o)", &child_bus, &child_path))
    if (walk (a11y, child_bus, child_path, depth + 1, budget, visit, data))
      return TRUE;
  return FALSE;
}

typedef struct {
  const char     *needle;
  const char     *role;
  TestAccessible *found;
} FindData;

static gboolean
visit_find (GDBusConnection *a11y, const char *bus_name, const char *path, guint depth,
            gpointer user_data)
{
  FindData *data = user_data;
  g_autofree char *name = get_string_property (a11y, bus_name, path, "Name");

  if (strstr (name, data->needle) == NULL)
    return FALSE;
  if (data->role != NULL)
    {
      g_autofree char *role = get_role_name (a11y, bus_name, path);

      if (g_strcmp0 (role, data->role) != 0)
        return FALSE;
    }
  data->found = accessible_new (bus_name, path);
  return TRUE;
}

TestAccessible *
test_atspi_find (GDBusConnection *a11y, const char *app, const char *needle, const char *role)
{
  g_autoptr(TestAccessible) root = find_app (a11y, app);
  FindData data = { needle, role, NULL };
  guint budget = MAX_NODES;

  if (root == NULL)
    return NULL;
  walk (a11y, root->bus_name, root->path, 0, &budget, visit_find, &data);
  return data.found;
}

TestAccessible *
test_atspi_wait_at (const char *file, int line, GDBusConnection *a11y, const char *app,
                    const char *needle, const char *role, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  g_autofree char *tree = NULL;

  for (;;)
    {
      TestAccessible *found = test_atspi_find (a11y, app, needle, role);

      if (found != NULL)
        return found;
      if (g_get_monotonic_time () > deadline)
        break;
      g_usleep (100 * 1000);
    }
  tree = test_atspi_dump (a11y, app);
  g_test_message ("%s:%d: no accessible named \"…%s…\" (role %s) in %s within %u ms; its tree:\n%s",
                  file, line, needle, role != NULL ? role : "any", app, timeout_ms, tree);
  g_test_fail ();
  return NULL;
}

char *
test_atspi_get_name (GDBusConnection *a11y, TestAccessible *accessible)
{
  return get_string_property (a11y, accessible->bus_name, accessible->path, "Name");
}

void
test_atspi_click (GDBusConnection *a11y, TestAccessible *accessible)
{
  g_autoptr(GVariant) reply = NULL;

  g_assert_nonnull (accessible);
  reply = call (a11y, accessible->bus_name, accessible->path, "org.a11y.atspi.Action", "DoAction",
                g_variant_new ("(i)", 0), "(b)");
  g_assert_nonnull (reply);
}

typedef struct {
  const char *text;
  gboolean    done;
} SetTextData;

static gboolean
visit_set_text (GDBusConnection *a11y, const char *bus_name, const char *path, guint depth,
                gpointer user_data)
{
  SetTextData *data = user_data;
  g_autoptr(GVariant) reply = NULL;

  if (!has_interface (a11y, bus_name, path, "org.a11y.atspi.EditableText"))
    return FALSE;
  reply = call (a11y, bus_name, path, "org.a11y.atspi.EditableText", "SetTextContents",
                g_variant_new ("(s)", data->text), "(b)");
  data->done = reply != NULL;
  return TRUE;
}

void
test_atspi_set_text (GDBusConnection *a11y, TestAccessible *accessible, const char *text)
{
  SetTextData data = { text, FALSE };
  guint budget = MAX_NODES;

  g_assert_nonnull (accessible);
  walk (a11y, accessible->bus_name, accessible->path, 0, &budget, visit_set_text, &data);
  g_assert_true (data.done);
}

static gboolean
visit_dump (GDBusConnection *a11y, const char *bus_name, const char *path, guint depth,
            gpointer user_data)
{
  GString *out = user_data;
  g_autofree char *name = get_string_property (a11y, bus_name, path, "Name");
  g_autofree char *role = get_role_name (a11y, bus_name, path);

  g_autoptr(GVariant) state = call (a11y, bus_name, path, "org.a11y.atspi.Accessible", "GetState",
                                    NULL, "(au)");
  g_autofree char *state_text = state != NULL ? g_variant_print (state, FALSE) : g_strdup ("");

  g_string_append_printf (out, "%*s%s \"%s\" %s\n", (int) depth * 2, "", role, name, state_text);
  return FALSE;
}

char *
test_atspi_dump (GDBusConnection *a11y, const char *app)
{
  g_autoptr(TestAccessible) root = find_app (a11y, app);
  GString *out = g_string_new (NULL);
  guint budget = MAX_NODES;

  if (root == NULL)
    {
      g_string_append_printf (out, "(no app named %s on the accessibility bus)\n", app);
      return g_string_free (out, FALSE);
    }
  walk (a11y, root->bus_name, root->path, 0, &budget, visit_dump, out);
  return g_string_free (out, FALSE);
}
