/* voip-demo.c — a scripted session against a running voip-server, printed
 * as a transcript: three users register, befriend each other, change
 * presence, chat both ways, read their history and talk in a group.
 *
 *   voip-demo --port 7000
 *
 * It speaks the wire protocol through the test client (tests/support), one
 * connection per user, and stops at the first unexpected answer. Later the
 * same story will be told through voipd and voipctl.
 */
#include <stdlib.h>

#include "test-client.h"
#include "voip-proto.h"

#define EVENT_TIMEOUT_MS 5000

typedef struct {
  const char *name;
  TestClient *client;
} User;

/* Events are indented under the actions that caused them. */
#define EVENT "    <- "

static void G_GNUC_NORETURN
die (const char *what, const char *why)
{
  g_printerr ("voip-demo: %s: %s\n", what, why);
  exit (1);
}

static void G_GNUC_PRINTF (2, 3)
say (const User *user, const char *fmt, ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, fmt);
  text = g_strdup_vprintf (fmt, args);
  va_end (args);
  g_print ("  %-6s %s\n", user->name, text);
}

/* An action and its answer, the answers aligned in one column. */
static void G_GNUC_PRINTF (3, 4)
did (const User *user, const char *answer, const char *fmt, ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, fmt);
  text = g_strdup_vprintf (fmt, args);
  va_end (args);
  g_print ("  %-6s %-46s -> %s\n", user->name, text, answer);
}

/* One request; prints "what -> answer" and returns the reply (NULL with the
 * status in *status_out when expected is not OK and the status matches). */
static GVariant *
request (User *user, const char *what, guint16 code, GVariant *payload)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  guint status = 0;

  reply = test_client_request (user->client, code, payload, &status, &error);
  if (reply == NULL)
    die (what, error->message);
  if (status != VOIP_STATUS_OK)
    {
      const char *detail = "";

      g_variant_get (reply, "(&s)", &detail);
      die (what, g_strdup_printf ("%s (%s)", voip_status_name (status), detail));
    }
  return g_steal_pointer (&reply);
}

static GVariant *
expect_event (User *user, guint16 code)
{
  GVariant *event = test_client_wait_event (user->client, code, EVENT_TIMEOUT_MS);

  if (event == NULL)
    die (user->name, g_strdup_printf ("no %s event within %d ms",
                                      voip_catalogue_lookup (code)->name, EVENT_TIMEOUT_MS));
  return event;
}

static void
connect_user (User *user, guint16 port)
{
  g_autoptr(GError) error = NULL;

  user->client = test_client_new (port, &error);
  if (user->client == NULL)
    die ("connect", error->message);
}

static void
register_user (User *user, guint16 port)
{
  g_autofree char *password = g_strdup_printf ("%s-secret-pw", user->name);
  g_autofree char *mail = g_strdup_printf ("%s@example.org", user->name);
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *answer = NULL;
  const char *token = NULL;
  guint status = 0;

  connect_user (user, port);
  reply = test_client_request (user->client, VOIP_MSG_REGISTER,
                               g_variant_new ("(sss)", user->name, password, mail),
                               &status, &error);
  if (reply == NULL)
    die ("Register", error->message);
  if (status == VOIP_STATUS_USER_EXISTS)
    {
      /* A second run on the same database: log in instead. */
      g_clear_pointer (&reply, g_variant_unref);
      reply = request (user, "Login", VOIP_MSG_LOGIN, g_variant_new ("(ss)", user->name, password));
      g_variant_get (reply, "(&s&s)", NULL, &token);
      answer = g_strdup_printf ("token %.8s...", token);
      did (user, answer, "logs in (the account exists)");
      return;
    }
  if (status != VOIP_STATUS_OK)
    die ("Register", voip_status_name (status));
  g_variant_get (reply, "(&s&s)", NULL, &token);
  answer = g_strdup_printf ("token %.8s...", token);
  did (user, answer, "registers as %s <%s>", user->name, mail);
}

static void
befriend (User *asker, User *friend)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) changed = NULL;
  const char *who = NULL;
  guint32 subscription, change;

  reply = request (asker, "ContactRequest", VOIP_MSG_CONTACT_REQUEST,
                   g_variant_new ("(s)", friend->name));
  g_variant_get (reply, "(u)", &subscription);
  did (asker, voip_subscription_to_string (subscription), "asks %s to be friends", friend->name);

  changed = expect_event (friend, VOIP_MSG_CONTACT_CHANGED);
  g_variant_get (changed, "(&s&suu)", &who, NULL, &subscription, &change);
  say (friend, EVENT "ContactChanged: %s %s (now %s)", who,
       voip_contact_change_to_string (change), voip_subscription_to_string (subscription));

  g_variant_unref (request (friend, "ContactAccept", VOIP_MSG_CONTACT_ACCEPT,
                            g_variant_new ("(s)", asker->name)));
  did (friend, "ok", "accepts %s", asker->name);

  g_clear_pointer (&changed, g_variant_unref);
  changed = expect_event (asker, VOIP_MSG_CONTACT_CHANGED);
  g_variant_get (changed, "(&s&suu)", &who, NULL, &subscription, &change);
  say (asker, EVENT "ContactChanged: %s %s (now %s)", who,
       voip_contact_change_to_string (change), voip_subscription_to_string (subscription));
}

static void
show_presence_event (User *user)
{
  g_autoptr(GVariant) event = expect_event (user, VOIP_MSG_PRESENCE_CHANGED);
  const char *who = NULL;
  guint32 presence;

  g_variant_get (event, "(&su)", &who, &presence);
  say (user, EVENT "PresenceChanged: %s is %s", who, voip_presence_to_string (presence));
}

static void
send_text (User *from, const char *to, guint64 group, const char *label, const char *text)
{
  g_autofree char *client_id = g_uuid_string_random ();
  g_autoptr(GVariant) reply = request (from, "SendText", VOIP_MSG_SEND_TEXT,
                                       g_variant_new ("(stss)", to, group, client_id, text));
  g_autofree char *answer = NULL;
  guint64 id;

  g_variant_get (reply, "(ttx)", &id, NULL, NULL);
  answer = g_strdup_printf ("message %" G_GUINT64_FORMAT ", durable", id);
  did (from, answer, "to %s: \"%s\"", label, text);
}

static void
show_message_event (User *user)
{
  g_autoptr(GVariant) event = expect_event (user, VOIP_MSG_MESSAGE_RECEIVED);
  const char *sender = NULL, *text = NULL;
  guint64 id, group;

  g_variant_get_child (event, 0, "t", &id);
  g_variant_get_child (event, 3, "&s", &sender);
  g_variant_get_child (event, 5, "t", &group);
  g_variant_get_child (event, 7, "&s", &text);
  if (group != 0)
    say (user, EVENT "MessageReceived %" G_GUINT64_FORMAT " in group %" G_GUINT64_FORMAT
         " from %s: \"%s\"", id, group, sender, text);
  else
    say (user, EVENT "MessageReceived %" G_GUINT64_FORMAT " from %s: \"%s\"",
         id, sender, text);
}

static void
show_contacts (User *user)
{
  g_autoptr(GVariant) reply = request (user, "ContactList", VOIP_MSG_CONTACT_LIST, g_variant_new ("()"));
  g_autoptr(GVariantIter) iter = NULL;
  const char *name = NULL, *display = NULL, *motd = NULL;
  guint32 presence;

  say (user, "lists contacts:");
  g_variant_get (reply, "(a(ssus))", &iter);
  while (g_variant_iter_next (iter, "(&s&su&s)", &name, &display, &presence, &motd))
    g_print ("           %-10s %s\n", name, voip_presence_to_string (presence));
}

static void
show_history (User *user, const char *peer)
{
  g_autoptr(GVariant) reply = request (user, "History", VOIP_MSG_HISTORY,
                                       g_variant_new ("(sttu)", peer, (guint64) 0, (guint64) 0, 50));
  g_autoptr(GVariant) messages = g_variant_get_child_value (reply, 0);
  gboolean more;

  g_variant_get_child (reply, 1, "b", &more);
  say (user, "reads the history with %s (%" G_GSIZE_FORMAT " messages%s):", peer,
       g_variant_n_children (messages), more ? ", more before" : "");
  for (gsize i = 0; i < g_variant_n_children (messages); i++)
    {
      g_autoptr(GVariant) message = g_variant_get_child_value (messages, i);
      g_autoptr(GDateTime) when = NULL;
      g_autofree char *clock = NULL;
      const char *sender = NULL, *text = NULL;
      guint64 id;
      gint64 timestamp_ms;

      g_variant_get_child (message, 0, "t", &id);
      g_variant_get_child (message, 2, "x", &timestamp_ms);
      g_variant_get_child (message, 3, "&s", &sender);
      g_variant_get_child (message, 7, "&s", &text);
      when = g_date_time_new_from_unix_utc (timestamp_ms / 1000);
      clock = when ? g_date_time_format (when, "%H:%M:%S") : g_strdup ("?");
      g_print ("           #%-4" G_GUINT64_FORMAT " %s UTC  %-6s %s\n", id, clock, sender, text);
    }
}

int
main (int argc, char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) group_event = NULL;
  g_autoptr(GVariant) members = NULL;
  g_autofree char *group_answer = NULL;
  gint port = 7000;
  User alice = { "alice" }, bob = { "bob" }, carol = { "carol" };
  const char *group_name = NULL;
  guint64 group_id;
  GOptionEntry entries[] = {
    { "port", 'p', 0, G_OPTION_ARG_INT, &port, "Server port on 127.0.0.1 (7000)", "PORT" },
    { NULL }
  };

  context = g_option_context_new ("- a scripted voip session, printed as it happens");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    die ("options", error->message);
  if (port <= 0 || port > 65535)
    die ("options", "--port out of range");

  g_print ("voip demo against 127.0.0.1:%d\n\n", port);

  g_print ("Accounts\n");
  register_user (&alice, port);
  register_user (&bob, port);

  g_print ("\nFriends\n");
  befriend (&alice, &bob);
  show_presence_event (&alice);

  g_print ("\nPresence\n");
  g_variant_unref (request (&bob, "SetPresence", VOIP_MSG_SET_PRESENCE,
                            g_variant_new ("(u)", (guint32) VOIP_PRESENCE_AWAY)));
  did (&bob, "ok", "sets presence to away");
  show_presence_event (&alice);
  show_contacts (&alice);

  g_print ("\nChat\n");
  send_text (&alice, "bob", 0, "bob", "Hi Bob! Lunch at noon?");
  show_message_event (&bob);
  send_text (&bob, "alice", 0, "alice", "Sure, see you there.");
  show_message_event (&alice);
  send_text (&alice, "bob", 0, "bob", "Great!");
  show_message_event (&bob);

  g_print ("\nHistory\n");
  show_history (&bob, "alice");

  g_print ("\nGroup\n");
  register_user (&carol, port);
  befriend (&carol, &alice);
  show_presence_event (&alice);
  reply = request (&alice, "GroupCreate", VOIP_MSG_GROUP_CREATE,
                   g_variant_new_parsed ("('lunch', ['bob', 'carol'])"));
  g_variant_get (reply, "(t)", &group_id);
  group_answer = g_strdup_printf ("group %" G_GUINT64_FORMAT, group_id);
  did (&alice, group_answer, "creates group \"lunch\" with bob and carol");
  group_event = expect_event (&bob, VOIP_MSG_GROUP_CHANGED);
  g_variant_get_child (group_event, 1, "&s", &group_name);
  members = g_variant_get_child_value (group_event, 3);
  say (&bob, EVENT "GroupChanged: group %" G_GUINT64_FORMAT " \"%s\", %" G_GSIZE_FORMAT " members",
       group_id, group_name, g_variant_n_children (members));
  g_variant_unref (expect_event (&carol, VOIP_MSG_GROUP_CHANGED));
  send_text (&carol, "", group_id, "the group", "I'll bring dessert.");
  show_message_event (&alice);
  show_message_event (&bob);

  g_print ("\nLog out\n");
  g_variant_unref (request (&bob, "Logout", VOIP_MSG_LOGOUT, g_variant_new ("()")));
  did (&bob, "ok", "logs out and disconnects");
  test_client_free (bob.client);
  show_presence_event (&alice);

  test_client_free (alice.client);
  test_client_free (carol.client);
  g_print ("\nDone: 3 users, 2 friendships, 1 group, 4 messages.\n");
  return 0;
}
