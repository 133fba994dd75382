/* voipctl-monitor.c — one line per event until interrupted.
 *
 * The object manager client turns InterfacesAdded/Removed into contacts,
 * groups and calls appearing and disappearing (an incoming call is a
 * call-added event in state ringing), and routes PropertiesChanged and the
 * message signals of managed objects to their proxies; the account, which is
 * not a managed object, has a proxy of its own. A contact's or a group's
 * messages and Unread are on the object's Conversation interface: events
 * name the contact or group that carries it.
 *
 * Every event is both a JSON object (--json: compact, one per line, with an
 * "event" key) and a line of "key=value" words for people.
 */
#define G_LOG_DOMAIN "voipctl"

#include <stdio.h>
#include <string.h>

#include <glib-unix.h>
#include <glib/gi18n.h>

#include "voipctl.h"

#define CONTACT_INTERFACE "org.voipd.Voip1.Contact"
#define GROUP_INTERFACE   "org.voipd.Voip1.Group"
#define CALL_INTERFACE    "org.voipd.Voip1.Call"
#define CONVERSATION_INTERFACE "org.voipd.Voip1.Conversation"

typedef struct
{
  gboolean            json;
  GMainLoop          *loop;
  VoipDBusAccount        *account;
  GDBusObjectManager *manager;
  GHashTable         *account_values;   /* property name → GVariant, to drop repeats */
  gboolean            daemon_present;
} Monitor;

typedef struct
{
  JsonBuilder *builder;
  GString     *human;
} Event;

/* ---- events ----------------------------------------------------------------- */

static Event *
event_begin (const char *name)
{
  Event *event = g_new0 (Event, 1);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *time = g_date_time_format (now, "%H:%M:%S");

  event->builder = json_builder_new ();
  json_builder_begin_object (event->builder);
  json_builder_set_member_name (event->builder, "event");
  json_builder_add_string_value (event->builder, name);

  event->human = g_string_new (NULL);
  g_string_append_printf (event->human, "%s %s", time, name);
  return event;
}

static void
event_add_human (Event      *event,
                 const char *key,
                 const char *value)
{
  g_autofree char *printable = voipctl_printable (value);

  /* Quoted when it would not read as one word; only " and \ escaped. */
  if (*printable == '\0' || strpbrk (printable, " \"\\=") != NULL)
    {
      g_string_append_printf (event->human, " %s=\"", key);
      for (const char *p = printable; *p != '\0'; p++)
        {
          if (*p == '"' || *p == '\\')
            g_string_append_c (event->human, '\\');
          g_string_append_c (event->human, *p);
        }
      g_string_append_c (event->human, '"');
    }
  else
    g_string_append_printf (event->human, " %s=%s", key, printable);
}

static void
event_add_string (Event      *event,
                  const char *key,
                  const char *value)
{
  json_builder_set_member_name (event->builder, key);
  json_builder_add_string_value (event->builder, value != NULL ? value : "");
  event_add_human (event, key, value != NULL ? value : "");
}

static void
event_add_int (Event      *event,
               const char *key,
               gint64      value)
{
  g_autofree char *text = g_strdup_printf ("%" G_GINT64_FORMAT, value);

  json_builder_set_member_name (event->builder, key);
  json_builder_add_int_value (event->builder, value);
  g_string_append_printf (event->human, " %s=%s", key, text);
}

static void
event_add_variant (Event      *event,
                   const char *key,
                   GVariant   *value)
{
  json_builder_set_member_name (event->builder, key);
  if (value == NULL)
    {
      json_builder_add_null_value (event->builder);
      event_add_human (event, key, "");
      return;
    }

  json_builder_add_value (event->builder, json_gvariant_serialize (value));
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
    event_add_human (event, key, g_variant_get_string (value, NULL));
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING_ARRAY))
    {
      g_autofree const char **strv = g_variant_get_strv (value, NULL);
      g_autofree char *joined = g_strjoinv (",", (char **) strv);

      event_add_human (event, key, joined);
    }
  else
    {
      g_autofree char *text = g_variant_print (value, FALSE);

      event_add_human (event, key, text);
    }
}

/* A message: nested under "message" in JSON, flattened for people. */
static void
event_add_message (Event    *event,
                   GVariant *message)
{
  g_autofree char *body = voipctl_format_message (message);
  const char *sender;
  guint64 id;

  const char *direction;

  g_variant_get (message, "(tx&s&s&s&sbbu)", &id, NULL, &sender, &direction, NULL, NULL, NULL,
                 NULL, NULL);

  json_builder_set_member_name (event->builder, "message");
  voipctl_json_add_message (event->builder, message);

  g_string_append_printf (event->human, " message=%" G_GUINT64_FORMAT, id);
  event_add_human (event, "sender", sender);
  event_add_human (event, "direction", direction);
  event_add_human (event, "text", body);
}

static void
event_end (Monitor *monitor,
           Event   *event)
{
  json_builder_end_object (event->builder);

  if (monitor->json)
    {
      g_autoptr(JsonGenerator) generator = json_generator_new ();
      g_autoptr(JsonNode) root = json_builder_get_root (event->builder);
      g_autofree char *text = NULL;

      json_generator_set_root (generator, root);
      text = json_generator_to_data (generator, NULL);
      voipctl_print_json_line (text);
    }
  else
    g_print ("%s\n", event->human->str);
  fflush (stdout);

  g_object_unref (event->builder);
  g_string_free (event->human, TRUE);
  g_free (event);
}

/* The Contact or Group interface of the object that carries proxy (a
 * Conversation), or NULL. */
static GDBusProxy *
conversation_owner (GDBusProxy *proxy)
{
  GDBusObject *object = g_dbus_interface_get_object (G_DBUS_INTERFACE (proxy));
  GDBusInterface *owner;

  if (object == NULL)
    return NULL;
  owner = g_dbus_object_get_interface (object, CONTACT_INTERFACE);
  if (owner == NULL)
    owner = g_dbus_object_get_interface (object, GROUP_INTERFACE);
  return owner != NULL ? G_DBUS_PROXY (owner) : NULL;
}

/* The object's Unread (its Conversation's), 0 without one. */
static guint32
object_unread (GDBusObject *object)
{
  g_autoptr(GDBusInterface) conversation = g_dbus_object_get_interface (object,
                                                                        CONVERSATION_INTERFACE);
  g_autoptr(GVariant) unread = conversation != NULL
      ? g_dbus_proxy_get_cached_property (G_DBUS_PROXY (conversation), "Unread") : NULL;

  return unread != NULL && g_variant_is_of_type (unread, G_VARIANT_TYPE_UINT32)
         ? g_variant_get_uint32 (unread) : 0;
}

/* "object" and the key that names it: username for a contact, id for a group. */
static gboolean
event_add_object (Event      *event,
                  GDBusProxy *proxy)
{
  const char *interface = g_dbus_proxy_get_interface_name (proxy);
  const char *path = g_dbus_proxy_get_object_path (proxy);

  if (g_strcmp0 (interface, CONVERSATION_INTERFACE) == 0)
    {
      g_autoptr(GDBusProxy) owner = conversation_owner (proxy);

      return owner != NULL && event_add_object (event, owner);
    }
  if (g_strcmp0 (interface, CONTACT_INTERFACE) == 0)
    {
      g_autoptr(GVariant) username = g_dbus_proxy_get_cached_property (proxy, "Username");
      g_autofree char *from_path = NULL;

      if (username == NULL)
        {
          from_path = (char *) g_dbus_unescape_object_path (strrchr (path, '/') + 1);
          if (from_path == NULL)
            from_path = g_strdup (strrchr (path, '/') + 1);
        }
      event_add_string (event, "object", "contact");
      event_add_string (event, "username",
                        username != NULL ? g_variant_get_string (username, NULL) : from_path);
      return TRUE;
    }
  if (g_strcmp0 (interface, GROUP_INTERFACE) == 0)
    {
      g_autoptr(GVariant) id = g_dbus_proxy_get_cached_property (proxy, "Id");
      guint64 value = 0;

      if (id != NULL)
        value = g_variant_get_uint64 (id);
      else
        g_ascii_string_to_unsigned (strrchr (path, '/') + 1, 10, 0, G_MAXUINT64, &value, NULL);
      event_add_string (event, "object", "group");
      event_add_int (event, "id", (gint64) value);
      return TRUE;
    }
  if (g_strcmp0 (interface, CALL_INTERFACE) == 0)
    {
      guint64 value = 0;

      g_ascii_string_to_unsigned (strrchr (path, '/') + 1, 10, 0, G_MAXUINT64, &value, NULL);
      event_add_string (event, "object", "call");
      event_add_int (event, "id", (gint64) value);
      return TRUE;
    }
  return FALSE;
}

/* ---- callbacks ---------------------------------------------------------------- */

static void
report_object (Monitor        *monitor,
               GDBusObject    *object,
               gboolean        added)
{
  GList *interfaces = g_dbus_object_get_interfaces (object);

  for (GList *l = interfaces; l != NULL; l = l->next)
    {
      GDBusProxy *proxy = G_DBUS_PROXY (l->data);
      const char *interface = g_dbus_proxy_get_interface_name (proxy);
      g_autoptr(GVariant) props = NULL;
      Event *event;

      if (g_strcmp0 (interface, CONTACT_INTERFACE) == 0)
        event = event_begin (added ? "contact-added" : "contact-removed");
      else if (g_strcmp0 (interface, GROUP_INTERFACE) == 0)
        event = event_begin (added ? "group-added" : "group-removed");
      else if (g_strcmp0 (interface, CALL_INTERFACE) == 0)
        event = event_begin (added ? "call-added" : "call-removed");
      else
        continue;

      event_add_object (event, proxy);
      if (added)
        {
          /* The object's properties, under the keys of contacts/group list --json. */
          props = voipctl_proxy_properties (proxy);
          if (g_strcmp0 (interface, CONTACT_INTERFACE) == 0)
            {
              event_add_string (event, "display_name", voipctl_lookup_string (props, "DisplayName"));
              event_add_string (event, "presence", voipctl_lookup_string (props, "Presence"));
              event_add_string (event, "subscription", voipctl_lookup_string (props, "Subscription"));
              event_add_int (event, "unread", object_unread (object));
              event_add_string (event, "motd", voipctl_lookup_string (props, "Motd"));
            }
          else if (g_strcmp0 (interface, CALL_INTERFACE) == 0)
            {
              g_autoptr(GVariant) participants = g_variant_lookup_value (props, "Participants",
                                                                         G_VARIANT_TYPE ("a(ss)"));

              event_add_string (event, "direction", voipctl_lookup_string (props, "Direction"));
              event_add_string (event, "initiator", voipctl_lookup_string (props, "Initiator"));
              event_add_string (event, "state", voipctl_lookup_string (props, "State"));
              event_add_string (event, "reason", voipctl_lookup_string (props, "StateReasonCode"));
              if (participants == NULL)
                participants = g_variant_ref_sink (g_variant_new ("a(ss)", NULL));
              event_add_variant (event, "participants", participants);
            }
          else
            {
              g_autoptr(GVariant) members = g_variant_lookup_value (props, "Members",
                                                                    G_VARIANT_TYPE_STRING_ARRAY);

              event_add_string (event, "name", voipctl_lookup_string (props, "Name"));
              event_add_string (event, "owner", voipctl_lookup_string (props, "Owner"));
              if (members == NULL)
                members = g_variant_ref_sink (g_variant_new_strv (NULL, 0));
              event_add_variant (event, "members", members);
              event_add_int (event, "unread", object_unread (object));
            }
        }
      event_end (monitor, event);
    }
  g_list_free_full (interfaces, g_object_unref);
}

/* While the daemon restarts, the client drops every object and then adds
 * them back, with no name owner in between: that is no news for the user. */
static gboolean
daemon_restarting (GDBusObjectManager *manager)
{
  g_autofree char *owner = g_dbus_object_manager_client_get_name_owner (G_DBUS_OBJECT_MANAGER_CLIENT (manager));

  return owner == NULL;
}

static void
on_manager_object_added (GDBusObjectManager *manager,
                         GDBusObject        *object,
                         Monitor            *monitor)
{
  if (!daemon_restarting (manager))
    report_object (monitor, object, TRUE);
}

static void
on_manager_object_removed (GDBusObjectManager *manager,
                           GDBusObject        *object,
                           Monitor            *monitor)
{
  if (!daemon_restarting (manager))
    report_object (monitor, object, FALSE);
}

static void
on_manager_name_owner_notify (GDBusObjectManager *manager,
                              GParamSpec         *pspec,
                              Monitor            *monitor)
{
  gboolean present = !daemon_restarting (manager);

  /* The client may notify more than once for one change. */
  if (present == monitor->daemon_present)
    return;
  monitor->daemon_present = present;
  event_end (monitor, event_begin (present ? "daemon-started" : "daemon-stopped"));
}

static void
report_properties (Monitor    *monitor,
                   GDBusProxy *proxy,
                   GVariant   *changed,
                   const char *const *invalidated)
{
  GVariantIter iter;
  const char *name;
  GVariant *value;

  g_variant_iter_init (&iter, changed);
  while (g_variant_iter_next (&iter, "{&sv}", &name, &value))
    {
      g_autofree char *key = NULL;
      Event *event;

      /* A call's statistics change every second: `voipctl calls` shows them. */
      if (strcmp (name, "Stats") == 0
          && g_strcmp0 (g_dbus_proxy_get_interface_name (proxy), CALL_INTERFACE) == 0)
        {
          g_variant_unref (value);
          continue;
        }
      key = voipctl_snake_case (name);
      event = event_begin ("property-changed");

      if (proxy == G_DBUS_PROXY (monitor->account))
        event_add_string (event, "object", "account");
      else
        event_add_object (event, proxy);
      event_add_string (event, "property", key);
      event_add_variant (event, "value", value);
      event_end (monitor, event);
      g_variant_unref (value);
    }

  for (gsize i = 0; invalidated != NULL && invalidated[i] != NULL; i++)
    {
      g_autofree char *key = voipctl_snake_case (invalidated[i]);
      Event *event = event_begin ("property-changed");

      event_add_object (event, proxy);
      event_add_string (event, "property", key);
      event_add_variant (event, "value", NULL);
      event_end (monitor, event);
    }
}

static void
on_manager_properties_changed (GDBusObjectManagerClient *manager,
                               GDBusObjectProxy         *object,
                               GDBusProxy               *proxy,
                               GVariant                 *changed,
                               const char *const        *invalidated,
                               Monitor                  *monitor)
{
  report_properties (monitor, proxy, changed, invalidated);
}

/* The account's proxy reloads every property when the daemon comes back:
 * report only values that differ from the last ones seen. */
static void
on_account_properties_changed (GDBusProxy        *proxy,
                               GVariant          *changed,
                               const char *const *invalidated,
                               Monitor           *monitor)
{
  g_auto(GVariantBuilder) news = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_autoptr(GVariant) news_dict = NULL;
  GVariantIter iter;
  const char *name;
  GVariant *value;

  g_variant_iter_init (&iter, changed);
  while (g_variant_iter_next (&iter, "{&sv}", &name, &value))
    {
      GVariant *last = g_hash_table_lookup (monitor->account_values, name);

      if (last == NULL || !g_variant_equal (last, value))
        {
          g_variant_builder_add (&news, "{sv}", name, value);
          g_hash_table_insert (monitor->account_values, g_strdup (name), g_variant_ref (value));
        }
      g_variant_unref (value);
    }
  news_dict = g_variant_ref_sink (g_variant_builder_end (&news));

  /* Invalidated only when the daemon goes away: daemon-stopped says it. */
  report_properties (monitor, proxy, news_dict, NULL);
}

static void
on_manager_signal (GDBusObjectManagerClient *manager,
                   GDBusObjectProxy         *object,
                   GDBusProxy               *proxy,
                   const char               *sender,
                   const char               *signal_name,
                   GVariant                 *parameters,
                   Monitor                  *monitor)
{
  Event *event;

  if (strcmp (signal_name, "MessageReceived") == 0 ||
      strcmp (signal_name, "MessageEdited") == 0 ||
      strcmp (signal_name, "MessageDeleted") == 0)
    {
      g_autoptr(GVariant) message = NULL;

      if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("((txssssbbu))")))
        return;
      message = g_variant_get_child_value (parameters, 0);
      event = event_begin (strcmp (signal_name, "MessageReceived") == 0 ? "message-received"
                           : strcmp (signal_name, "MessageEdited") == 0 ? "message-edited"
                           : "message-deleted");
      event_add_object (event, proxy);
      event_add_message (event, message);
      event_end (monitor, event);
    }
  else if (strcmp (signal_name, "PluginMessage") == 0)
    {
      g_autoptr(GVariant) data = NULL;
      g_autofree char *base64 = NULL;
      g_autofree char *text = NULL;
      const char *plugin;
      gsize size;

      if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(say)")))
        return;
      g_variant_get (parameters, "(&s@ay)", &plugin, &data);
      size = g_variant_get_size (data);
      base64 = g_base64_encode (g_variant_get_data (data), size);
      text = g_utf8_make_valid (size > 0 ? g_variant_get_data (data) : "", size);

      event = event_begin ("plugin-message");
      event_add_object (event, proxy);
      event_add_string (event, "plugin", plugin);
      event_add_string (event, "data", text);
      json_builder_set_member_name (event->builder, "data_base64");
      json_builder_add_string_value (event->builder, base64);
      event_end (monitor, event);
    }
}

static gboolean
on_quit_signal (gpointer user_data)
{
  Monitor *monitor = user_data;

  g_main_loop_quit (monitor->loop);
  return G_SOURCE_CONTINUE;
}

/* ---- the command -------------------------------------------------------------- */

int
voipctl_cmd_monitor (const VoipctlCommand *cmd,
                     int                   argc,
                     char                **argv)
{
  g_autoptr(GDBusObjectManager) manager = NULL;
  g_autoptr(VoipDBusAccount) account = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GHashTable) account_values = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) names = NULL;
  g_autofree char *owner = NULL;
  Monitor monitor = { 0 };
  guint sigint_id, sigterm_id;

  if (!voipctl_parse_args (cmd, NULL, &argc, &argv, 0, 0))
    return VOIPCTL_EXIT_USAGE;

  manager = voip_dbus_object_manager_client_new_for_bus_sync (G_BUS_TYPE_SESSION,
                                                         G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_NONE,
                                                         VOIPCTL_BUS_NAME, VOIPCTL_ROOT_PATH,
                                                         NULL, &error);
  if (manager == NULL)
    return voipctl_fail (error);
  account = voip_dbus_account_proxy_new_for_bus_sync (G_BUS_TYPE_SESSION, G_DBUS_PROXY_FLAGS_NONE,
                                                 VOIPCTL_BUS_NAME, VOIPCTL_ROOT_PATH,
                                                 NULL, &error);
  if (account == NULL)
    return voipctl_fail (error);

  owner = g_dbus_object_manager_client_get_name_owner (G_DBUS_OBJECT_MANAGER_CLIENT (manager));
  if (owner == NULL)
    g_printerr ("voipctl: %s\n", _("voipd is not running; waiting for it"));

  account_values = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                          (GDestroyNotify) g_variant_unref);
  names = g_dbus_proxy_get_cached_property_names (G_DBUS_PROXY (account));
  for (gsize i = 0; names != NULL && names[i] != NULL; i++)
    g_hash_table_insert (account_values, g_strdup (names[i]),
                         g_dbus_proxy_get_cached_property (G_DBUS_PROXY (account), names[i]));

  loop = g_main_loop_new (NULL, FALSE);
  monitor.json = voipctl_json_wanted ();
  monitor.loop = loop;
  monitor.account = account;
  monitor.manager = manager;
  monitor.account_values = account_values;
  monitor.daemon_present = owner != NULL;

  g_signal_connect (manager, "object-added", G_CALLBACK (on_manager_object_added), &monitor);
  g_signal_connect (manager, "object-removed", G_CALLBACK (on_manager_object_removed), &monitor);
  g_signal_connect (manager, "notify::name-owner", G_CALLBACK (on_manager_name_owner_notify), &monitor);
  g_signal_connect (manager, "interface-proxy-properties-changed",
                    G_CALLBACK (on_manager_properties_changed), &monitor);
  g_signal_connect (manager, "interface-proxy-signal", G_CALLBACK (on_manager_signal), &monitor);
  g_signal_connect (account, "g-properties-changed", G_CALLBACK (on_account_properties_changed), &monitor);

  sigint_id = g_unix_signal_add (SIGINT, on_quit_signal, &monitor);
  sigterm_id = g_unix_signal_add (SIGTERM, on_quit_signal, &monitor);
  g_main_loop_run (loop);
  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);

  g_signal_handlers_disconnect_by_data (manager, &monitor);
  g_signal_handlers_disconnect_by_data (account, &monitor);
  return VOIPCTL_EXIT_OK;
}
