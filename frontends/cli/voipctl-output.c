/* voipctl-output.c — how voipctl prints: aligned columns and "Label: value"
 * blocks for people, one JSON document for scripts.
 *
 * The JSON keys are an interface (the man page's JSON OUTPUT section lists
 * them, and the integration tests parse them): snake_case, always present,
 * with the same type whatever the value.
 */
#define G_LOG_DOMAIN "voipctl"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "voipctl.h"

struct _VoipctlTable
{
  guint      n_columns;
  GPtrArray *rows;        /* of GStrv; the first is the header */
};

/* Terminal columns a string takes: wide characters two, combining ones none. */
static gsize
display_width (const char *text)
{
  gsize width = 0;

  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_iszerowidth (c))
        continue;
      width += g_unichar_iswide (c) ? 2 : 1;
    }
  return width;
}

static GStrv
collect_cells (const char *first,
               va_list     args)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  for (const char *cell = first; cell != NULL; cell = va_arg (args, const char *))
    g_strv_builder_add (builder, cell);
  return g_strv_builder_end (builder);
}

VoipctlTable *
voipctl_table_new (const char *first_header,
                   ...)
{
  VoipctlTable *table = g_new0 (VoipctlTable, 1);
  va_list args;
  GStrv header;

  va_start (args, first_header);
  header = collect_cells (first_header, args);
  va_end (args);

  table->n_columns = g_strv_length (header);
  table->rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  g_ptr_array_add (table->rows, header);
  return table;
}

/* Cells are copied, made printable (no line breaks inside a row). */
void
voipctl_table_add_row (VoipctlTable *table,
                       const char   *first_cell,
                       ...)
{
  va_list args;
  GStrv row;

  va_start (args, first_cell);
  row = collect_cells (first_cell, args);
  va_end (args);

  g_return_if_fail (g_strv_length (row) == table->n_columns);

  for (guint i = 0; row[i] != NULL; i++)
    {
      char *printable = voipctl_printable (row[i]);

      g_free (row[i]);
      row[i] = printable;
    }
  g_ptr_array_add (table->rows, row);
}

/* Columns two spaces apart, like busctl list; the last one is not padded. */
void
voipctl_table_print (VoipctlTable *table)
{
  g_autofree gsize *widths = g_new0 (gsize, table->n_columns);
  g_autoptr(GString) line = g_string_new (NULL);

  for (guint r = 0; r < table->rows->len; r++)
    {
      GStrv row = g_ptr_array_index (table->rows, r);

      for (guint c = 0; c < table->n_columns; c++)
        widths[c] = MAX (widths[c], display_width (row[c]));
    }

  for (guint r = 0; r < table->rows->len; r++)
    {
      GStrv row = g_ptr_array_index (table->rows, r);

      g_string_truncate (line, 0);
      for (guint c = 0; c < table->n_columns; c++)
        {
          g_string_append (line, row[c]);
          if (c + 1 < table->n_columns)
            for (gsize pad = display_width (row[c]); pad < widths[c] + 2; pad++)
              g_string_append_c (line, ' ');
        }
      while (line->len > 0 && line->str[line->len - 1] == ' ')
        g_string_truncate (line, line->len - 1);
      g_print ("%s\n", line->str);
    }
}

void
voipctl_table_free (VoipctlTable *table)
{
  g_ptr_array_unref (table->rows);
  g_free (table);
}

/* "Label: value" lines, values aligned, from NULL-terminated pairs. A label
 * without a value (NULL or "") is left out, as systemctl status leaves out
 * what it does not know: no "Reason:" line while all is well. */
void
voipctl_print_fields (const char *first_label,
                      ...)
{
  g_autoptr(GPtrArray) pairs = g_ptr_array_new_with_free_func (g_free);
  gsize width = 0;
  va_list args;

  va_start (args, first_label);
  for (const char *label = first_label; label != NULL; label = va_arg (args, const char *))
    {
      const char *value = va_arg (args, const char *);

      if (value == NULL || *value == '\0')
        continue;
      /* Translators: a label and its colon, "State:" in voipctl status;
       * French puts a no-break space before the colon. */
      g_ptr_array_add (pairs, g_strdup_printf (_("%s:"), label));
      g_ptr_array_add (pairs, g_strdup (value));
      width = MAX (width, display_width (g_ptr_array_index (pairs, pairs->len - 2)));
    }
  va_end (args);

  for (guint i = 0; i < pairs->len; i += 2)
    {
      const char *label = g_ptr_array_index (pairs, i);
      g_autofree char *value = voipctl_printable (g_ptr_array_index (pairs, i + 1));
      gsize pad = width - display_width (label);

      g_print ("%s%*s %s\n", label, (int) pad, "", value);
    }
}

/* Local time, to the second; "-" for none. */
char *
voipctl_format_time (gint64 timestamp_ms)
{
  g_autoptr(GDateTime) time = NULL;

  if (timestamp_ms <= 0)
    return g_strdup ("-");
  time = g_date_time_new_from_unix_local (timestamp_ms / 1000);
  if (time == NULL)
    return g_strdup ("-");
  return g_date_time_format (time, "%Y-%m-%d %H:%M:%S");
}

/* Valid UTF-8 on one line: control characters become spaces. */
char *
voipctl_printable (const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text, -1);
  GString *out = g_string_sized_new (strlen (valid));

  for (const char *p = valid; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_iscntrl (c))
        g_string_append_c (out, ' ');
      else
        g_string_append_unichar (out, c);
    }
  return g_string_free (out, FALSE);
}

/* D-Bus property names to JSON keys: StateReason → state_reason. */
char *
voipctl_snake_case (const char *camel)
{
  GString *out = g_string_new (NULL);

  for (const char *p = camel; *p != '\0'; p++)
    {
      if (g_ascii_isupper (*p) && p != camel)
        g_string_append_c (out, '_');
      g_string_append_c (out, g_ascii_tolower (*p));
    }
  return g_string_free (out, FALSE);
}

/* A line of JSON on standard output, as UTF-8 whatever the locale: JSON is
 * UTF-8 by definition, while g_print() converts to the locale's character
 * set and, in the C locale of cron jobs and services, prints every
 * non-ASCII character as '?'. The text of people's output still goes
 * through g_print(), which suits the terminal. */
void
voipctl_print_json_line (const char *text)
{
  fputs (text, stdout);
  fputc ('\n', stdout);
}

/* One document and a newline: indented for a terminal, on one line for a
 * pipe. */
void
voipctl_print_json (JsonNode *root)
{
  gboolean pretty = isatty (STDOUT_FILENO);
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, pretty);
  text = json_generator_to_data (generator, NULL);
  voipctl_print_json_line (text);
}

/* ---- properties ----------------------------------------------------------- */

/* The value of `name` in an a{sv} (a new reference), or NULL.
 *
 * It walks the dictionary as it is. g_variant_lookup() serialises the whole
 * dictionary first, and then reads it back child by child through GLib's
 * checked offset tables: over the thousand dictionaries of a contact listing
 * that was half of `voipctl contacts --json` (docs/BENCHMARKS.md). A reply
 * that GDBus parsed is a tree of values, and a child of a tree is a
 * reference. */
GVariant *
voipctl_lookup_value (GVariant   *props,
                      const char *name)
{
  gsize n_entries;

  if (props == NULL || !g_variant_is_of_type (props, G_VARIANT_TYPE_VARDICT))
    return NULL;

  n_entries = g_variant_n_children (props);
  for (gsize i = 0; i < n_entries; i++)
    {
      g_autoptr(GVariant) entry = g_variant_get_child_value (props, i);
      g_autoptr(GVariant) key = g_variant_get_child_value (entry, 0);

      if (strcmp (g_variant_get_string (key, NULL), name) == 0)
        {
          g_autoptr(GVariant) boxed = g_variant_get_child_value (entry, 1);

          return g_variant_get_variant (boxed);
        }
    }
  return NULL;
}

/* The string, valid as long as props; "" when absent or of another type. */
const char *
voipctl_lookup_string (GVariant   *props,
                       const char *name)
{
  g_autoptr(GVariant) value = voipctl_lookup_value (props, name);

  if (value != NULL && g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
    return g_variant_get_string (value, NULL);
  return "";
}

guint32
voipctl_lookup_uint32 (GVariant   *props,
                       const char *name)
{
  g_autoptr(GVariant) value = voipctl_lookup_value (props, name);

  if (value != NULL && g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32))
    return g_variant_get_uint32 (value);
  return 0;
}

guint64
voipctl_lookup_uint64 (GVariant   *props,
                       const char *name)
{
  g_autoptr(GVariant) value = voipctl_lookup_value (props, name);

  if (value != NULL && g_variant_is_of_type (value, G_VARIANT_TYPE_UINT64))
    return g_variant_get_uint64 (value);
  return 0;
}

gboolean
voipctl_lookup_boolean (GVariant   *props,
                        const char *name)
{
  g_autoptr(GVariant) value = voipctl_lookup_value (props, name);

  return value != NULL && g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN)
         && g_variant_get_boolean (value);
}

/* The cached properties of a proxy as a{sv}, like GetManagedObjects'. */
GVariant *
voipctl_proxy_properties (GDBusProxy *proxy)
{
  g_auto(GStrv) names = g_dbus_proxy_get_cached_property_names (proxy);
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);

  for (gsize i = 0; names != NULL && names[i] != NULL; i++)
    {
      g_autoptr(GVariant) value = g_dbus_proxy_get_cached_property (proxy, names[i]);

      g_variant_builder_add (&builder, "{sv}", names[i], value);
    }
  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

/* ---- contacts ------------------------------------------------------------- */

/* A JSON string (RFC 8259). D-Bus strings are valid UTF-8, which stays as
 * it is; the quote, the backslash and control characters are escaped. */
void
voipctl_json_append_string (GString    *out,
                            const char *text)
{
  const char *run = text;

  g_string_append_c (out, '"');
  for (const char *p = text; *p != '\0'; p++)
    {
      guchar c = (guchar) *p;

      if (c >= 0x20 && c != '"' && c != '\\')
        continue;
      g_string_append_len (out, run, p - run);
      run = p + 1;
      if (c == '"' || c == '\\')
        {
          g_string_append_c (out, '\\');
          g_string_append_c (out, (char) c);
        }
      else if (c == '\n')
        g_string_append (out, "\\n");
      else if (c == '\t')
        g_string_append (out, "\\t");
      else if (c == '\r')
        g_string_append (out, "\\r");
      else
        g_string_append_printf (out, "\\u%04x", c);
    }
  g_string_append (out, run);
  g_string_append_c (out, '"');
}

/* The name of an object's member, after a comma unless it is the first;
 * indented on a line of its own when pretty, as json-glib does. */
static void
append_member (GString    *out,
               gboolean    pretty,
               gboolean    first,
               const char *name)
{
  if (!first)
    g_string_append_c (out, ',');
  if (pretty)
    g_string_append (out, "\n    ");
  voipctl_json_append_string (out, name);
  g_string_append (out, pretty ? " : " : ":");
}

/* A contact as a JSON object: username, display_name, presence,
 * subscription, unread, motd, muted. Written straight into the text rather
 * than through a JsonBuilder: for a thousand contacts json-glib's node tree
 * (built, printed, freed) cost more than reading the contacts. */
void
voipctl_contact_append_json (GString              *out,
                             const VoipctlContact *contact,
                             gboolean              pretty)
{
  g_string_append (out, pretty ? "  {" : "{");
  append_member (out, pretty, TRUE, "username");
  voipctl_json_append_string (out, contact->username);
  append_member (out, pretty, FALSE, "display_name");
  voipctl_json_append_string (out, contact->display_name);
  append_member (out, pretty, FALSE, "presence");
  voipctl_json_append_string (out, contact->presence);
  append_member (out, pretty, FALSE, "subscription");
  voipctl_json_append_string (out, contact->subscription);
  append_member (out, pretty, FALSE, "unread");
  g_string_append_printf (out, "%u", contact->unread);
  append_member (out, pretty, FALSE, "motd");
  voipctl_json_append_string (out, contact->motd);
  append_member (out, pretty, FALSE, "muted");
  g_string_append (out, contact->muted ? "true" : "false");
  g_string_append (out, pretty ? "\n  }" : "}");
}

/* A group's properties as a JSON object: id, name, owner, members, unread. */
void
voipctl_json_add_group (JsonBuilder *builder,
                        GVariant    *props)
{
  g_autofree const char **members = NULL;

  if (props == NULL || !g_variant_lookup (props, "Members", "^a&s", &members))
    members = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_int_value (builder, (gint64) voipctl_lookup_uint64 (props, "Id"));
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, voipctl_lookup_string (props, "Name"));
  json_builder_set_member_name (builder, "owner");
  json_builder_add_string_value (builder, voipctl_lookup_string (props, "Owner"));
  json_builder_set_member_name (builder, "members");
  json_builder_begin_array (builder);
  for (gsize i = 0; members != NULL && members[i] != NULL; i++)
    json_builder_add_string_value (builder, members[i]);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "unread");
  json_builder_add_int_value (builder, voipctl_lookup_uint32 (props, "Unread"));
  json_builder_end_object (builder);
}

/* ---- messages: (txssssbbu) ------------------------------------------------- */

void
voipctl_json_add_message (JsonBuilder *builder,
                          GVariant    *message)
{
  const char *sender, *direction, *kind, *text;
  gboolean edited, deleted;
  guint64 id;
  gint64 timestamp_ms;
  guint32 duration_ms;

  g_variant_get (message, "(tx&s&s&s&sbbu)", &id, &timestamp_ms, &sender, &direction, &kind,
                 &text, &edited, &deleted, &duration_ms);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_int_value (builder, (gint64) id);
  json_builder_set_member_name (builder, "timestamp");
  json_builder_add_int_value (builder, timestamp_ms);
  json_builder_set_member_name (builder, "sender");
  json_builder_add_string_value (builder, sender);
  json_builder_set_member_name (builder, "direction");
  json_builder_add_string_value (builder, direction);
  json_builder_set_member_name (builder, "kind");
  json_builder_add_string_value (builder, kind);
  json_builder_set_member_name (builder, "text");
  json_builder_add_string_value (builder, text);
  json_builder_set_member_name (builder, "edited");
  json_builder_add_boolean_value (builder, edited);
  json_builder_set_member_name (builder, "deleted");
  json_builder_add_boolean_value (builder, deleted);
  json_builder_set_member_name (builder, "duration_ms");
  json_builder_add_int_value (builder, duration_ms);
  json_builder_end_object (builder);
}

/* What a person reads of a message's body: its text, or what stands in
 * for it, with "(edited)" after. */
char *
voipctl_format_message (GVariant *message)
{
  const char *sender, *kind, *text;
  gboolean edited, deleted;
  guint64 id;
  gint64 timestamp_ms;
  guint32 duration_ms;
  g_autofree char *body = NULL;

  g_variant_get (message, "(tx&s&s&s&sbbu)", &id, &timestamp_ms, &sender, NULL, &kind, &text,
                 &edited, &deleted, &duration_ms);

  if (deleted)
    body = g_strdup (_("[deleted]"));
  else if (g_strcmp0 (kind, "voice") == 0)
    body = g_strdup_printf (_("[voice message, %u:%02u]"),
                            duration_ms / 60000, (duration_ms / 1000) % 60);
  else
    body = voipctl_printable (text);

  if (edited && !deleted)
    return g_strdup_printf ("%s %s", body, _("(edited)"));
  return g_steal_pointer (&body);
}
