/* test-messages.c — text and voice messages, idempotent sends, history,
 * sync, edit and delete (PROTOCOL.md, "Messages"). */
#include <string.h>

#include "test-client.h"
#include "test-server.h"

typedef struct {
  TestServer *server;
  guint16     port;
  TestClient *alice;
  TestClient *alice2;  /* alice's other session */
  TestClient *bob;     /* friend of alice */
  TestClient *bob2;
  TestClient *carol;   /* friend of alice, in the group */
  TestClient *dave;    /* nobody's friend */
  guint64     group;   /* alice (owner), bob, carol */
} Fixture;

/* A message (ttxsstusuaybbs); the strings point into `value`. */
typedef struct {
  GVariant   *value;
  guint64     id, seq;
  gint64      timestamp_ms;
  const char *sender, *recipient;
  guint64     group;
  guint32     kind;
  const char *text;
  guint32     duration_ms;
  gsize       voice_size;
  const guint8 *voice;
  gboolean    edited, deleted;
  const char *client_id;
} Message;

static void
message_clear (Message *m)
{
  g_clear_pointer (&m->value, g_variant_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Message, message_clear)

static void
message_parse (GVariant *value, Message *m)
{
  g_autoptr(GVariant) voice = NULL;

  m->value = g_variant_ref (value);
  g_variant_get (value, "(ttx&s&stu&su@aybb&s)", &m->id, &m->seq, &m->timestamp_ms,
                 &m->sender, &m->recipient, &m->group, &m->kind, &m->text,
                 &m->duration_ms, &voice, &m->edited, &m->deleted, &m->client_id);
  m->voice = g_variant_get_fixed_array (voice, &m->voice_size, 1);
}

/* Takes the next event of that code and parses it into m. */
#define expect_message(client, code, m) \
  G_STMT_START { \
    g_autoptr(GVariant) event_ = test_client_expect_event ((client), (code)); \
    message_parse (event_, (m)); \
  } G_STMT_END

typedef struct {
  guint64 id, seq;
  gint64  timestamp_ms;
} Ack;

static Ack
send_text (TestClient *client, const char *recipient, guint64 group, const char *client_id,
           const char *text)
{
  g_autoptr(GVariant) reply = NULL;
  g_autofree char *own_id = client_id ? NULL : test_new_client_id ();
  Ack ack;

  reply = test_client_call (client, VOIP_MSG_SEND_TEXT,
                            g_variant_new ("(stss)", recipient, group,
                                           client_id ? client_id : own_id, text));
  g_variant_get (reply, "(ttx)", &ack.id, &ack.seq, &ack.timestamp_ms);
  g_assert_cmpuint (ack.id, >, 0);
  return ack;
}

static void
send_text_fails (TestClient *client, const char *recipient, guint64 group, const char *text,
                 guint status)
{
  g_autofree char *client_id = test_new_client_id ();

  test_client_call_fails (client, VOIP_MSG_SEND_TEXT,
                          g_variant_new ("(stss)", recipient, group, client_id, text), status);
}

/* A page of History or Sync: messages into `out` (Message), returns `more`. */
static gboolean
get_page (TestClient *client, guint16 code, GVariant *request, GArray *out)
{
  g_autoptr(GVariant) reply = test_client_call (client, code, request);
  g_autoptr(GVariant) messages = NULL;
  GVariantIter iter;
  GVariant *value;
  gboolean more;

  g_variant_get (reply, "(@a(ttxsstusuaybbs)b)", &messages, &more);
  g_variant_iter_init (&iter, messages);
  while ((value = g_variant_iter_next_value (&iter)) != NULL)
    {
      Message m = { 0 };

      message_parse (value, &m);
      g_array_append_val (out, m);
      g_variant_unref (value);
    }
  return more;
}

static GArray *
message_array_new (void)
{
  GArray *array = g_array_new (FALSE, TRUE, sizeof (Message));

  g_array_set_clear_func (array, (GDestroyNotify) message_clear);
  return array;
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr(GVariant) reply = NULL;

  f->server = test_server_new_started ();
  f->port = test_server_get_port (f->server);
  f->alice = test_client_new_registered (f->port, "alice");
  f->alice2 = test_client_new_session (f->alice);
  f->bob = test_client_new_registered (f->port, "bob");
  f->bob2 = test_client_new_session (f->bob);
  f->carol = test_client_new_registered (f->port, "carol");
  f->dave = test_client_new_registered (f->port, "dave");
  test_befriend (f->alice, f->bob);
  test_befriend (f->alice, f->carol);
  reply = test_client_call (f->alice, VOIP_MSG_GROUP_CREATE,
                            g_variant_new ("(s^as)", "team", (const char *[]) { "bob", "carol", NULL }));
  g_variant_get (reply, "(t)", &f->group);
  for (TestClient **c = (TestClient *[]) { f->alice, f->alice2, f->bob, f->bob2, f->carol, f->dave, NULL }; *c; c++)
    test_client_flush_events (*c);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->alice, test_client_free);
  g_clear_pointer (&f->alice2, test_client_free);
  g_clear_pointer (&f->bob, test_client_free);
  g_clear_pointer (&f->bob2, test_client_free);
  g_clear_pointer (&f->carol, test_client_free);
  g_clear_pointer (&f->dave, test_client_free);
  g_clear_pointer (&f->server, test_server_free);
}

static void
test_text_direct (Fixture *f, gconstpointer data)
{
  g_autofree char *client_id = test_new_client_id ();
  gint64 before = g_get_real_time () / 1000;
  Ack ack = send_text (f->alice, "bob", 0, client_id, "hello\nbob");
  gint64 after = g_get_real_time () / 1000;

  /* Server time, in milliseconds. */
  g_assert_cmpint (ack.timestamp_ms, >=, before - 60000);
  g_assert_cmpint (ack.timestamp_ms, <=, after + 60000);
  g_assert_cmpuint (ack.seq, >, 0);

  /* Every session of bob and alice's other session; not the sending one. */
  for (TestClient **c = (TestClient *[]) { f->bob, f->bob2, f->alice2, NULL }; *c; c++)
    {
      g_auto(Message) m = { 0 };

      expect_message (*c, VOIP_MSG_MESSAGE_RECEIVED, &m);
      g_assert_cmpuint (m.id, ==, ack.id);
      g_assert_cmpuint (m.seq, ==, ack.seq);
      g_assert_cmpint (m.timestamp_ms, ==, ack.timestamp_ms);
      g_assert_cmpstr (m.sender, ==, "alice");
      g_assert_cmpstr (m.recipient, ==, "bob");
      g_assert_cmpuint (m.group, ==, 0);
      g_assert_cmpuint (m.kind, ==, VOIP_MESSAGE_KIND_TEXT);
      g_assert_cmpstr (m.text, ==, "hello\nbob");
      g_assert_cmpuint (m.voice_size, ==, 0);
      g_assert_false (m.edited);
      g_assert_false (m.deleted);
      g_assert_cmpstr (m.client_id, ==, client_id);
    }
  test_client_assert_no_event (f->alice, VOIP_MSG_MESSAGE_RECEIVED, 0);
  test_client_assert_no_event (f->carol, VOIP_MSG_MESSAGE_RECEIVED, 0);
  test_client_assert_no_event (f->dave, VOIP_MSG_MESSAGE_RECEIVED, 0);
  test_client_assert_no_event (f->bob, VOIP_MSG_MESSAGE_RECEIVED, 0);

  /* Ids and seqs ascend. */
  {
    Ack next = send_text (f->bob, "alice", 0, NULL, "hi alice");

    g_assert_cmpuint (next.id, >, ack.id);
    g_assert_cmpuint (next.seq, >, ack.seq);
  }
}

static void
test_text_limits (Fixture *f, gconstpointer data)
{
  g_autofree char *max_text = g_strnfill (VOIP_TEXT_MAX, 'x');
  g_autofree char *too_long = g_strnfill (VOIP_TEXT_MAX + 1, 'x');
  g_autofree char *long_id = g_strnfill (VOIP_CLIENT_ID_MAX + 1, 'c');
  g_autoptr(GString) utf8 = g_string_new ("");

  send_text (f->alice, "bob", 0, NULL, max_text);
  /* 1024 four-byte characters: 4096 bytes. */
  for (guint i = 0; i < VOIP_TEXT_MAX / 4; i++)
    g_string_append (utf8, "\xf0\x9f\x98\x80");
  send_text (f->alice, "bob", 0, NULL, utf8->str);
  send_text (f->alice, "bob", 0, NULL, "\xc3\xa9t\xc3\xa9 \xe2\x82\xac");
  for (TestClient **c = (TestClient *[]) { f->bob, f->bob2, f->alice2, NULL }; *c; c++)
    test_client_flush_events (*c);

  send_text_fails (f->alice, "bob", 0, too_long, VOIP_STATUS_TOO_LARGE);
  g_string_append (utf8, "x");
  send_text_fails (f->alice, "bob", 0, utf8->str, VOIP_STATUS_TOO_LARGE);
  send_text_fails (f->alice, "bob", 0, "", VOIP_STATUS_MALFORMED);
  test_client_call_fails (f->alice, VOIP_MSG_SEND_TEXT,
                          g_variant_new ("(stss)", "bob", (guint64) 0, "", "hello"),
                          VOIP_STATUS_MALFORMED);
  test_client_call_fails (f->alice, VOIP_MSG_SEND_TEXT,
                          g_variant_new ("(stss)", "bob", (guint64) 0, long_id, "hello"),
                          VOIP_STATUS_TOO_LARGE);

  /* Addressing errors. */
  send_text_fails (f->alice, "alice", 0, "me", VOIP_STATUS_MESSAGE_SELF);
  send_text_fails (f->alice, "dave", 0, "stranger", VOIP_STATUS_NO_SUCH_USER);
  send_text_fails (f->alice, "nobody", 0, "ghost", VOIP_STATUS_NO_SUCH_USER);
  send_text_fails (f->dave, "alice", 0, "let me in", VOIP_STATUS_NO_SUCH_USER);
  send_text_fails (f->alice, "bob", f->group, "both", VOIP_STATUS_MALFORMED);
  send_text_fails (f->alice, "", 0, "neither", VOIP_STATUS_MALFORMED);
  send_text_fails (f->dave, "", f->group, "not a member", VOIP_STATUS_NO_SUCH_GROUP);
  send_text_fails (f->alice, "", f->group + 1000, "no group", VOIP_STATUS_NO_SUCH_GROUP);

  /* None of them was delivered or stored. */
  for (TestClient **c = (TestClient *[]) { f->bob, f->bob2, f->alice2, f->carol, f->dave, NULL }; *c; c++)
    test_client_assert_no_event (*c, VOIP_MSG_MESSAGE_RECEIVED, 0);
  {
    g_autoptr(GArray) page = message_array_new ();

    get_page (f->bob, VOIP_MSG_SYNC, g_variant_new ("(tu)", (guint64) 0, 500), page);
    g_assert_cmpuint (page->len, ==, 3);
  }
}

static void
test_text_group (Fixture *f, gconstpointer data)
{
  Ack ack = send_text (f->alice, "", f->group, NULL, "hello team");

  for (TestClient **c = (TestClient *[]) { f->bob, f->bob2, f->carol, f->alice2, NULL }; *c; c++)
    {
      g_auto(Message) m = { 0 };

      expect_message (*c, VOIP_MSG_MESSAGE_RECEIVED, &m);
      g_assert_cmpuint (m.id, ==, ack.id);
      g_assert_cmpstr (m.sender, ==, "alice");
      g_assert_cmpstr (m.recipient, ==, "");
      g_assert_cmpuint (m.group, ==, f->group);
      g_assert_cmpstr (m.text, ==, "hello team");
    }
  test_client_assert_no_event (f->alice, VOIP_MSG_MESSAGE_RECEIVED, 0);
  test_client_assert_no_event (f->dave, VOIP_MSG_MESSAGE_RECEIVED, 0);

  /* A member who is not the owner may write too. */
  ack = send_text (f->carol, "", f->group, NULL, "hi all");
  for (TestClient **c = (TestClient *[]) { f->alice, f->alice2, f->bob, f->bob2, NULL }; *c; c++)
    {
      g_auto(Message) m = { 0 };

      expect_message (*c, VOIP_MSG_MESSAGE_RECEIVED, &m);
      g_assert_cmpuint (m.id, ==, ack.id);
      g_assert_cmpstr (m.sender, ==, "carol");
    }
  test_client_assert_no_event (f->carol, VOIP_MSG_MESSAGE_RECEIVED, 0);

  /* Removed members stop receiving and can not write. */
  test_client_call_ok (f->alice, VOIP_MSG_GROUP_REMOVE_MEMBER, g_variant_new ("(ts)", f->group, "carol"));
  send_text (f->bob, "", f->group, NULL, "carol is gone");
  test_client_assert_no_event (f->carol, VOIP_MSG_MESSAGE_RECEIVED, 0);
  send_text_fails (f->carol, "", f->group, "wait", VOIP_STATUS_NO_SUCH_GROUP);
  test_client_call_fails (f->carol, VOIP_MSG_HISTORY,
                          g_variant_new ("(sttu)", "", f->group, (guint64) 0, 10),
                          VOIP_STATUS_NO_SUCH_GROUP);
}

static void
test_idempotent (Fixture *f, gconstpointer data)
{
  g_autofree char *client_id = test_new_client_id ();
  Ack first = send_text (f->alice, "bob", 0, client_id, "exactly once");
  Ack again = send_text (f->alice, "bob", 0, client_id, "exactly once");
  Ack other = send_text (f->alice, "bob", 0, client_id, "a different text, same id");
  Ack bobs;
  g_autoptr(GArray) page = message_array_new ();
  gboolean more;

  g_assert_cmpuint (again.id, ==, first.id);
  g_assert_cmpuint (other.id, ==, first.id);

  /* Delivered once. */
  for (TestClient **c = (TestClient *[]) { f->bob, f->bob2, f->alice2, NULL }; *c; c++)
    {
      g_auto(Message) m = { 0 };

      expect_message (*c, VOIP_MSG_MESSAGE_RECEIVED, &m);
      g_assert_cmpuint (m.id, ==, first.id);
      test_client_assert_no_event (*c, VOIP_MSG_MESSAGE_RECEIVED, 0);
    }

  /* Stored once. */
  more = get_page (f->bob, VOIP_MSG_HISTORY,
                   g_variant_new ("(sttu)", "alice", (guint64) 0, (guint64) 0, 100), page);
  g_assert_false (more);
  g_assert_cmpuint (page->len, ==, 1);
  g_assert_cmpuint (g_array_index (page, Message, 0).id, ==, first.id);
  g_assert_cmpstr (g_array_index (page, Message, 0).text, ==, "exactly once");

  /* A client_id belongs to its sender: bob may use the same one. */
  bobs = send_text (f->bob, "alice", 0, client_id, "mine");
  g_assert_cmpuint (bobs.id, !=, first.id);
  /* Also across conversations, the first message's id comes back. */
  again = send_text (f->alice, "", f->group, client_id, "exactly once");
  g_assert_cmpuint (again.id, ==, first.id);
  test_client_assert_no_event (f->carol, VOIP_MSG_MESSAGE_RECEIVED, 0);
}

static void
test_history (Fixture *f, gconstpointer data)
{
  const guint n = 25;
  g_autoptr(GArray) acks = g_array_new (FALSE, FALSE, sizeof (Ack));
  g_autoptr(GArray) all = message_array_new ();
  guint64 before = 0;
  gboolean more = TRUE;
  guint pages = 0;

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *text = g_strdup_printf ("message %u", i);
      Ack ack = send_text (i % 3 == 0 ? f->bob : f->alice, i % 3 == 0 ? "alice" : "bob",
                           0, NULL, text);

      g_array_append_val (acks, ack);
    }
  /* Noise in other conversations. */
  send_text (f->alice, "carol", 0, NULL, "not for bob");
  send_text (f->alice, "", f->group, NULL, "group talk");

  /* Pages of 10, newest first, each oldest first. */
  while (more)
    {
      g_autoptr(GArray) page = message_array_new ();

      more = get_page (f->alice, VOIP_MSG_HISTORY,
                       g_variant_new ("(sttu)", "bob", (guint64) 0, before, 10), page);
      pages++;
      g_assert_cmpuint (page->len, ==, pages < 3 ? 10 : 5);
      g_assert_true (more == (pages < 3));
      for (guint i = 1; i < page->len; i++)
        g_assert_cmpuint (g_array_index (page, Message, i - 1).id, <,
                          g_array_index (page, Message, i).id);
      before = g_array_index (page, Message, 0).id;
      /* Prepend the page. */
      for (guint i = 0; i < page->len; i++)
        {
          Message *m = &g_array_index (page, Message, i);
          Message copy = *m;

          copy.value = g_variant_ref (m->value);
          g_array_insert_val (all, i, copy);
        }
      g_assert_cmpuint (pages, <=, 3);
    }

  g_assert_cmpuint (all->len, ==, n);
  for (guint i = 0; i < n; i++)
    {
      Message *m = &g_array_index (all, Message, i);
      Ack *ack = &g_array_index (acks, Ack, i);
      g_autofree char *text = g_strdup_printf ("message %u", i);

      g_assert_cmpuint (m->id, ==, ack->id);
      g_assert_cmpstr (m->text, ==, text);
      g_assert_cmpstr (m->sender, ==, i % 3 == 0 ? "bob" : "alice");
      g_assert_cmpuint (m->group, ==, 0);
    }

  /* bob's side of the conversation is the same. */
  {
    g_autoptr(GArray) page = message_array_new ();

    more = get_page (f->bob, VOIP_MSG_HISTORY,
                     g_variant_new ("(sttu)", "alice", (guint64) 0, (guint64) 0, 500), page);
    g_assert_false (more);
    g_assert_cmpuint (page->len, ==, n);
    g_assert_cmpuint (g_array_index (page, Message, n - 1).id, ==,
                      g_array_index (acks, Ack, n - 1).id);
  }

  /* Group history, for members only. */
  {
    g_autoptr(GArray) page = message_array_new ();

    more = get_page (f->carol, VOIP_MSG_HISTORY,
                     g_variant_new ("(sttu)", "", f->group, (guint64) 0, 500), page);
    g_assert_false (more);
    g_assert_cmpuint (page->len, ==, 1);
    g_assert_cmpstr (g_array_index (page, Message, 0).text, ==, "group talk");
  }
  test_client_call_fails (f->dave, VOIP_MSG_HISTORY,
                          g_variant_new ("(sttu)", "", f->group, (guint64) 0, 10),
                          VOIP_STATUS_NO_SUCH_GROUP);

  /* limit is 1–500. */
  test_client_call_fails (f->alice, VOIP_MSG_HISTORY,
                          g_variant_new ("(sttu)", "bob", (guint64) 0, (guint64) 0, 0),
                          VOIP_STATUS_MALFORMED);
  {
    g_autoptr(GVariant) reply = NULL;
    guint status = 0;

    reply = test_client_request (f->alice, VOIP_MSG_HISTORY,
                                 g_variant_new ("(sttu)", "bob", (guint64) 0, (guint64) 0,
                                                VOIP_HISTORY_PAGE_MAX + 1),
                                 &status, NULL);
    g_assert_nonnull (reply);
    g_assert_cmpuint (status, !=, VOIP_STATUS_OK);
  }
}

/* Messages stay in the other side's history when an account is deleted
 * (PROTOCOL.md, "Accounts and sessions"): History with the deleted
 * account's name pages through them as Sync returns them; a name that no
 * account ever had is NoSuchUser. */
static void
test_history_deleted_account (Fixture *f, gconstpointer data)
{
  g_autoptr(GArray) before = message_array_new ();
  g_autoptr(GArray) after = message_array_new ();
  g_autoptr(GArray) synced = message_array_new ();
  Ack acks[3];

  acks[0] = send_text (f->alice, "bob", 0, NULL, "hello bob");
  acks[1] = send_text (f->bob, "alice", 0, NULL, "hello alice");
  acks[2] = send_text (f->alice, "bob", 0, NULL, "bye bob");
  g_assert_false (get_page (f->alice, VOIP_MSG_HISTORY,
                            g_variant_new ("(sttu)", "bob", (guint64) 0, (guint64) 0, 500),
                            before));
  g_assert_cmpuint (before->len, ==, 3);

  test_client_call_ok (f->bob, VOIP_MSG_DELETE_ACCOUNT,
                       g_variant_new ("(s)", test_client_get_password (f->bob)));
  test_client_expect_closed (f->bob2, VOIP_CLOSE_ACCOUNT_DELETED);

  /* Sync still has them... */
  g_assert_false (get_page (f->alice, VOIP_MSG_SYNC, g_variant_new ("(tu)", (guint64) 0, 500),
                            synced));
  /* ...and so has History, in pages as before. */
  g_assert_true (get_page (f->alice, VOIP_MSG_HISTORY,
                           g_variant_new ("(sttu)", "bob", (guint64) 0, (guint64) 0, 2), after));
  g_assert_false (get_page (f->alice, VOIP_MSG_HISTORY,
                            g_variant_new ("(sttu)", "bob", (guint64) 0,
                                           g_array_index (after, Message, 0).id, 2),
                            after));
  g_assert_cmpuint (after->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      /* The second page (the oldest message) came last. */
      Message *m = &g_array_index (after, Message, (i + 2) % 3);
      Message *old = &g_array_index (before, Message, i);

      g_assert_cmpuint (m->id, ==, acks[i].id);
      g_assert_cmpuint (m->id, ==, old->id);
      g_assert_cmpstr (m->sender, ==, old->sender);
      g_assert_cmpstr (m->text, ==, old->text);
    }
  {
    guint found = 0;

    for (guint i = 0; i < synced->len; i++)
      for (guint j = 0; j < 3; j++)
        found += g_array_index (synced, Message, i).id == acks[j].id;
    g_assert_cmpuint (found, ==, 3);
  }

  /* A name nobody ever had is still unknown. */
  test_client_call_fails (f->alice, VOIP_MSG_HISTORY,
                          g_variant_new ("(sttu)", "nobody", (guint64) 0, (guint64) 0, 10),
                          VOIP_STATUS_NO_SUCH_USER);
}

/* Every error PROTOCOL.md lists for History, and the group ids that no
 * group has: above 2^63 too, SendText, SendVoice and History answer
 * NoSuchGroup, as GroupInfo does. */
static void
test_history_errors (Fixture *f, gconstpointer data)
{
  const guint64 huge = G_GUINT64_CONSTANT (1) << 63 | 5;   /* above 2^63 */

  /* Exactly one of peer and group. */
  test_client_call_fails (f->alice, VOIP_MSG_HISTORY,
                          g_variant_new ("(sttu)", "bob", f->group, (guint64) 0, 10),
                          VOIP_STATUS_MALFORMED);
  test_client_call_fails (f->alice, VOIP_MSG_HISTORY,
                          g_variant_new ("(sttu)", "", (guint64) 0, (guint64) 0, 10),
                          VOIP_STATUS_MALFORMED);
  /* No such account, or not a username at all. */
  test_client_call_fails (f->alice, VOIP_MSG_HISTORY,
                          g_variant_new ("(sttu)", "nobody", (guint64) 0, (guint64) 0, 10),
                          VOIP_STATUS_NO_SUCH_USER);
  test_client_call_fails (f->alice, VOIP_MSG_HISTORY,
                          g_variant_new ("(sttu)", "Not A Name!", (guint64) 0, (guint64) 0, 10),
                          VOIP_STATUS_NO_SUCH_USER);
  /* Yourself. */
  test_client_call_fails (f->alice, VOIP_MSG_HISTORY,
                          g_variant_new ("(sttu)", "alice", (guint64) 0, (guint64) 0, 10),
                          VOIP_STATUS_MESSAGE_SELF);
  /* A group you are not in, one that does not exist, one above 2^63. */
  test_client_call_fails (f->dave, VOIP_MSG_HISTORY,
                          g_variant_new ("(sttu)", "", f->group, (guint64) 0, 10),
                          VOIP_STATUS_NO_SUCH_GROUP);
  test_client_call_fails (f->alice, VOIP_MSG_HISTORY,
                          g_variant_new ("(sttu)", "", f->group + 1000, (guint64) 0, 10),
                          VOIP_STATUS_NO_SUCH_GROUP);
  test_client_call_fails (f->alice, VOIP_MSG_HISTORY,
                          g_variant_new ("(sttu)", "", huge, (guint64) 0, 10),
                          VOIP_STATUS_NO_SUCH_GROUP);
  test_client_call_fails (f->alice, VOIP_MSG_GROUP_INFO, g_variant_new ("(t)", huge),
                          VOIP_STATUS_NO_SUCH_GROUP);
  send_text_fails (f->alice, "", huge, "to no group", VOIP_STATUS_NO_SUCH_GROUP);
  {
    g_autofree char *cid = test_new_client_id ();

    test_client_call_fails (f->alice, VOIP_MSG_SEND_VOICE,
                            g_variant_new ("(sts@ayu)", "", huge, cid,
                                           test_ogg_opus_new (1000), 1000),
                            VOIP_STATUS_NO_SUCH_GROUP);
  }
  /* limit 1–500. */
  test_client_call_fails (f->alice, VOIP_MSG_HISTORY,
                          g_variant_new ("(sttu)", "bob", (guint64) 0, (guint64) 0, 0),
                          VOIP_STATUS_MALFORMED);
  test_client_call_fails (f->alice, VOIP_MSG_HISTORY,
                          g_variant_new ("(sttu)", "bob", (guint64) 0, (guint64) 0,
                                         VOIP_HISTORY_PAGE_MAX + 1),
                          VOIP_STATUS_MALFORMED);

  /* Not an error: someone who was never a friend (an empty conversation),
   * and any before_id. */
  {
    g_autoptr(GArray) page = message_array_new ();

    g_assert_false (get_page (f->alice, VOIP_MSG_HISTORY,
                              g_variant_new ("(sttu)", "dave", (guint64) 0, G_MAXUINT64, 10),
                              page));
    g_assert_cmpuint (page->len, ==, 0);
  }
  /* Nothing was stored by the refused sends. */
  {
    g_autoptr(GArray) page = message_array_new ();

    g_assert_false (get_page (f->alice, VOIP_MSG_SYNC, g_variant_new ("(tu)", (guint64) 0, 500),
                              page));
    g_assert_cmpuint (page->len, ==, 0);
  }
}

static void
test_sync (Fixture *f, gconstpointer data)
{
  g_autoptr(GArray) page = message_array_new ();
  Ack a1 = send_text (f->bob, "alice", 0, NULL, "one");
  Ack a2 = send_text (f->bob, "alice", 0, NULL, "two");
  Ack a3 = send_text (f->alice, "", f->group, NULL, "three");
  Ack a4 = send_text (f->carol, "alice", 0, NULL, "four");
  guint64 max_seq = 0, after = 0;
  gboolean more;

  send_text (f->bob, "", f->group, NULL, "five");

  more = get_page (f->alice, VOIP_MSG_SYNC, g_variant_new ("(tu)", (guint64) 0, 500), page);
  g_assert_false (more);
  g_assert_cmpuint (page->len, ==, 5);
  g_assert_cmpuint (g_array_index (page, Message, 0).id, ==, a1.id);
  g_assert_cmpuint (g_array_index (page, Message, 1).id, ==, a2.id);
  g_assert_cmpuint (g_array_index (page, Message, 2).id, ==, a3.id);
  g_assert_cmpuint (g_array_index (page, Message, 3).id, ==, a4.id);
  for (guint i = 0; i < page->len; i++)
    {
      Message *m = &g_array_index (page, Message, i);

      g_assert_cmpuint (m->seq, >, max_seq);  /* by seq */
      max_seq = m->seq;
    }
  g_array_set_size (page, 0);

  /* dave is in none of these conversations. */
  more = get_page (f->dave, VOIP_MSG_SYNC, g_variant_new ("(tu)", (guint64) 0, 500), page);
  g_assert_false (more);
  g_assert_cmpuint (page->len, ==, 0);

  /* Paging by the largest seq seen. */
  for (guint expected = 2, total = 0; ; expected = MIN (2, 5 - total))
    {
      g_array_set_size (page, 0);
      more = get_page (f->alice, VOIP_MSG_SYNC, g_variant_new ("(tu)", after, 2), page);
      g_assert_cmpuint (page->len, ==, expected);
      total += page->len;
      for (guint i = 0; i < page->len; i++)
        {
          g_assert_cmpuint (g_array_index (page, Message, i).seq, >, after);
          after = g_array_index (page, Message, i).seq;
        }
      if (!more)
        {
          g_assert_cmpuint (total, ==, 5);
          break;
        }
      g_assert_cmpuint (total, <, 5);
    }

  /* Edits and deletes come back with a new seq. */
  test_client_call_ok (f->bob, VOIP_MSG_EDIT, g_variant_new ("(ts)", a1.id, "one, edited"));
  test_client_call_ok (f->bob, VOIP_MSG_DELETE, g_variant_new ("(t)", a2.id));
  g_array_set_size (page, 0);
  more = get_page (f->alice, VOIP_MSG_SYNC, g_variant_new ("(tu)", max_seq, 500), page);
  g_assert_false (more);
  g_assert_cmpuint (page->len, ==, 2);
  {
    Message *edited = &g_array_index (page, Message, 0);
    Message *deleted = &g_array_index (page, Message, 1);

    g_assert_cmpuint (edited->id, ==, a1.id);
    g_assert_true (edited->edited);
    g_assert_cmpstr (edited->text, ==, "one, edited");
    g_assert_cmpuint (edited->seq, >, max_seq);
    g_assert_cmpuint (deleted->id, ==, a2.id);
    g_assert_true (deleted->deleted);
    g_assert_cmpuint (deleted->seq, >, edited->seq);
  }
  /* Nothing newer. */
  after = g_array_index (page, Message, 1).seq;
  g_array_set_size (page, 0);
  more = get_page (f->alice, VOIP_MSG_SYNC, g_variant_new ("(tu)", after, 500), page);
  g_assert_false (more);
  g_assert_cmpuint (page->len, ==, 0);
}

/* A page also stops at 768 KiB of text, so that it fits a frame. */
static void
test_page_bytes (Fixture *f, gconstpointer data)
{
  const guint n = 200;  /* × 4096 bytes = 800 KiB */
  g_autofree guint32 *request_ids = g_new0 (guint32, n);
  g_autofree guint64 *ids = g_new0 (guint64, n);
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  guint64 after = 0, before = 0;
  gboolean more = TRUE;
  guint history_total = 0;

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *client_id = test_new_client_id ();
      g_autofree char *text = g_strnfill (VOIP_TEXT_MAX, 'a' + i % 26);

      request_ids[i] = test_client_send_request (f->alice, VOIP_MSG_SEND_TEXT,
                                                 g_variant_new ("(stss)", "bob", (guint64) 0,
                                                                client_id, text), NULL);
    }
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GVariant) reply = NULL;
      guint status = 1;

      reply = test_client_wait_reply (f->alice, request_ids[i], &status, NULL);
      g_assert_nonnull (reply);
      g_assert_cmpuint (status, ==, VOIP_STATUS_OK);
      g_variant_get (reply, "(ttx)", &ids[i], NULL, NULL);
    }

  /* Sync: the first page can not hold everything. */
  for (guint pages = 0; more; pages++)
    {
      g_autoptr(GArray) page = message_array_new ();
      gsize text_bytes = 0;

      more = get_page (f->bob, VOIP_MSG_SYNC, g_variant_new ("(tu)", after, 500), page);
      g_assert_cmpuint (page->len, >, 0);
      if (pages == 0)
        {
          g_assert_true (more);
          g_assert_cmpuint (page->len, <, n);
        }
      for (guint i = 0; i < page->len; i++)
        {
          Message *m = &g_array_index (page, Message, i);

          text_bytes += strlen (m->text);
          g_assert_cmpuint (m->seq, >, after);
          after = m->seq;
          g_assert_false (g_hash_table_contains (seen, &m->id));
          g_hash_table_add (seen, g_memdup2 (&m->id, sizeof m->id));
        }
      g_assert_cmpuint (text_bytes, <=, VOIP_HISTORY_PAGE_BYTES);
      g_assert_cmpuint (pages, <, n);
    }
  g_assert_cmpuint (g_hash_table_size (seen), ==, n);

  /* History: the newest first, then the rest. */
  more = TRUE;
  for (guint pages = 0; more; pages++)
    {
      g_autoptr(GArray) page = message_array_new ();
      gsize text_bytes = 0;

      more = get_page (f->bob, VOIP_MSG_HISTORY,
                       g_variant_new ("(sttu)", "alice", (guint64) 0, before, 500), page);
      g_assert_cmpuint (page->len, >, 0);
      if (pages == 0)
        {
          g_assert_true (more);
          g_assert_cmpuint (page->len, <, n);
          g_assert_cmpuint (g_array_index (page, Message, page->len - 1).id, ==, ids[n - 1]);
        }
      for (guint i = 0; i < page->len; i++)
        text_bytes += strlen (g_array_index (page, Message, i).text);
      g_assert_cmpuint (text_bytes, <=, VOIP_HISTORY_PAGE_BYTES);
      before = g_array_index (page, Message, 0).id;
      history_total += page->len;
      g_assert_cmpuint (pages, <, n);
    }
  g_assert_cmpuint (history_total, ==, n);
  g_assert_cmpuint (before, ==, ids[0]);
}

static void
test_edit_delete (Fixture *f, gconstpointer data)
{
  Ack ack = send_text (f->alice, "bob", 0, NULL, "first draft");
  Ack group_ack = send_text (f->alice, "", f->group, NULL, "group draft");
  g_autofree char *too_long = g_strnfill (VOIP_TEXT_MAX + 1, 'x');

  for (TestClient **c = (TestClient *[]) { f->alice, f->alice2, f->bob, f->bob2, f->carol, NULL }; *c; c++)
    test_client_flush_events (*c);

  /* Only the author; only messages one can see. */
  test_client_call_fails (f->bob, VOIP_MSG_EDIT, g_variant_new ("(ts)", ack.id, "bob was here"),
                          VOIP_STATUS_NOT_AUTHOR);
  test_client_call_fails (f->bob, VOIP_MSG_DELETE, g_variant_new ("(t)", ack.id),
                          VOIP_STATUS_NOT_AUTHOR);
  test_client_call_fails (f->dave, VOIP_MSG_EDIT, g_variant_new ("(ts)", ack.id, "dave was here"),
                          VOIP_STATUS_NO_SUCH_MESSAGE);
  test_client_call_fails (f->carol, VOIP_MSG_DELETE, g_variant_new ("(t)", ack.id),
                          VOIP_STATUS_NO_SUCH_MESSAGE);
  test_client_call_fails (f->alice, VOIP_MSG_EDIT, g_variant_new ("(ts)", group_ack.id + 1000, "x"),
                          VOIP_STATUS_NO_SUCH_MESSAGE);
  test_client_call_fails (f->alice, VOIP_MSG_EDIT, g_variant_new ("(ts)", ack.id, ""),
                          VOIP_STATUS_MALFORMED);
  test_client_call_fails (f->alice, VOIP_MSG_EDIT, g_variant_new ("(ts)", ack.id, too_long),
                          VOIP_STATUS_TOO_LARGE);
  for (TestClient **c = (TestClient *[]) { f->alice2, f->bob, f->bob2, NULL }; *c; c++)
    test_client_assert_no_event (*c, VOIP_MSG_MESSAGE_EDITED, 0);

  test_client_call_ok (f->alice, VOIP_MSG_EDIT, g_variant_new ("(ts)", ack.id, "final text"));
  for (TestClient **c = (TestClient *[]) { f->bob, f->bob2, f->alice2, NULL }; *c; c++)
    {
      g_auto(Message) m = { 0 };

      expect_message (*c, VOIP_MSG_MESSAGE_EDITED, &m);
      g_assert_cmpuint (m.id, ==, ack.id);
      g_assert_cmpstr (m.text, ==, "final text");
      g_assert_true (m.edited);
      g_assert_false (m.deleted);
      g_assert_cmpuint (m.seq, >, group_ack.seq);
    }
  test_client_assert_no_event (f->carol, VOIP_MSG_MESSAGE_EDITED, 0);

  /* In a group, every member hears of it. */
  test_client_call_ok (f->alice, VOIP_MSG_EDIT, g_variant_new ("(ts)", group_ack.id, "group final"));
  for (TestClient **c = (TestClient *[]) { f->bob, f->bob2, f->carol, f->alice2, NULL }; *c; c++)
    {
      g_auto(Message) m = { 0 };

      expect_message (*c, VOIP_MSG_MESSAGE_EDITED, &m);
      g_assert_cmpuint (m.id, ==, group_ack.id);
      g_assert_cmpstr (m.text, ==, "group final");
    }

  test_client_call_ok (f->alice, VOIP_MSG_DELETE, g_variant_new ("(t)", ack.id));
  for (TestClient **c = (TestClient *[]) { f->bob, f->bob2, f->alice2, NULL }; *c; c++)
    {
      g_auto(Message) m = { 0 };

      expect_message (*c, VOIP_MSG_MESSAGE_DELETED, &m);
      g_assert_cmpuint (m.id, ==, ack.id);
      g_assert_true (m.deleted);
    }
  test_client_assert_no_event (f->carol, VOIP_MSG_MESSAGE_DELETED, 0);
  test_client_assert_no_event (f->dave, VOIP_MSG_MESSAGE_DELETED, 0);

  /* A tombstone stays in history; it can not be edited. */
  test_client_call_fails (f->alice, VOIP_MSG_EDIT, g_variant_new ("(ts)", ack.id, "resurrect"),
                          VOIP_STATUS_NO_SUCH_MESSAGE);
  {
    g_autoptr(GArray) page = message_array_new ();

    get_page (f->bob, VOIP_MSG_HISTORY,
              g_variant_new ("(sttu)", "alice", (guint64) 0, (guint64) 0, 100), page);
    g_assert_cmpuint (page->len, ==, 1);
    g_assert_cmpuint (g_array_index (page, Message, 0).id, ==, ack.id);
    g_assert_true (g_array_index (page, Message, 0).deleted);
    g_assert_cmpstr (g_array_index (page, Message, 0).text, !=, "final text");
  }
}

static void
test_voice (Fixture *f, gconstpointer data)
{
  g_autoptr(GVariant) audio = g_variant_ref_sink (test_ogg_opus_new (3000));
  g_autofree char *client_id = test_new_client_id ();
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) again = NULL;
  guint64 id, seq, id2;
  gint64 timestamp;
  gsize audio_size;
  const guint8 *audio_data = g_variant_get_fixed_array (audio, &audio_size, 1);

  reply = test_client_call (f->alice, VOIP_MSG_SEND_VOICE,
                            g_variant_new ("(sts@ayu)", "bob", (guint64) 0, client_id, audio, 1500));
  g_variant_get (reply, "(ttx)", &id, &seq, &timestamp);

  /* The event carries the audio. */
  for (TestClient **c = (TestClient *[]) { f->bob, f->bob2, f->alice2, NULL }; *c; c++)
    {
      g_auto(Message) m = { 0 };

      expect_message (*c, VOIP_MSG_MESSAGE_RECEIVED, &m);
      g_assert_cmpuint (m.id, ==, id);
      g_assert_cmpuint (m.kind, ==, VOIP_MESSAGE_KIND_VOICE);
      g_assert_cmpuint (m.duration_ms, ==, 1500);
      g_assert_cmpstr (m.client_id, ==, client_id);
      g_assert_cmpmem (m.voice, m.voice_size, audio_data, audio_size);
    }
  test_client_assert_no_event (f->carol, VOIP_MSG_MESSAGE_RECEIVED, 0);

  /* Resent: same id, not delivered again. */
  again = test_client_call (f->alice, VOIP_MSG_SEND_VOICE,
                            g_variant_new ("(sts@ayu)", "bob", (guint64) 0, client_id, audio, 1500));
  g_variant_get (again, "(ttx)", &id2, NULL, NULL);
  g_assert_cmpuint (id2, ==, id);
  test_client_assert_no_event (f->bob, VOIP_MSG_MESSAGE_RECEIVED, 0);

  /* History comes without the audio; GetVoice has it. */
  {
    g_autoptr(GArray) page = message_array_new ();
    Message *m;

    get_page (f->bob, VOIP_MSG_HISTORY,
              g_variant_new ("(sttu)", "alice", (guint64) 0, (guint64) 0, 10), page);
    g_assert_cmpuint (page->len, ==, 1);
    m = &g_array_index (page, Message, 0);
    g_assert_cmpuint (m->kind, ==, VOIP_MESSAGE_KIND_VOICE);
    g_assert_cmpuint (m->duration_ms, ==, 1500);
    g_assert_cmpuint (m->voice_size, ==, 0);
  }
  for (TestClient **c = (TestClient *[]) { f->bob, f->alice, NULL }; *c; c++)
    {
      g_autoptr(GVariant) voice_reply = test_client_call (*c, VOIP_MSG_GET_VOICE,
                                                          g_variant_new ("(t)", id));
      g_autoptr(GVariant) voice = g_variant_get_child_value (voice_reply, 0);
      gsize size;
      const guint8 *bytes = g_variant_get_fixed_array (voice, &size, 1);

      g_assert_cmpmem (bytes, size, audio_data, audio_size);
    }
  test_client_call_fails (f->dave, VOIP_MSG_GET_VOICE, g_variant_new ("(t)", id),
                          VOIP_STATUS_NO_SUCH_MESSAGE);
  test_client_call_fails (f->carol, VOIP_MSG_GET_VOICE, g_variant_new ("(t)", id),
                          VOIP_STATUS_NO_SUCH_MESSAGE);
  test_client_call_fails (f->bob, VOIP_MSG_GET_VOICE, g_variant_new ("(t)", id + 1000),
                          VOIP_STATUS_NO_SUCH_MESSAGE);

  /* To a group. */
  {
    g_autoptr(GVariant) group_reply = NULL;
    g_autofree char *group_client_id = test_new_client_id ();
    g_auto(Message) m = { 0 };

    group_reply = test_client_call (f->bob, VOIP_MSG_SEND_VOICE,
                                    g_variant_new ("(sts@ayu)", "", f->group, group_client_id,
                                                   audio, 20));
    expect_message (f->carol, VOIP_MSG_MESSAGE_RECEIVED, &m);
    g_assert_cmpuint (m.kind, ==, VOIP_MESSAGE_KIND_VOICE);
    g_assert_cmpuint (m.group, ==, f->group);
    g_assert_cmpmem (m.voice, m.voice_size, audio_data, audio_size);
  }

  /* Bad voice messages. */
  {
    static const guint8 not_ogg[64] = "RIFF....WAVEfmt OpusHead";
    static const guint8 no_head[600] = "OggS";  /* no OpusHead */
    g_autoptr(GVariant) huge = g_variant_ref_sink (test_ogg_opus_new (VOIP_VOICE_MAX + 1));
    g_autoptr(GVariant) tiny = g_variant_ref_sink (test_ogg_opus_new (47));
    struct { GVariant *audio; guint32 duration; guint status; } cases[] = {
      { g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, not_ogg, sizeof not_ogg, 1), 1000, VOIP_STATUS_MALFORMED },
      { g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, "OggS", 4, 1), 1000, VOIP_STATUS_MALFORMED },
      { g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, no_head, 600, 1), 1000, VOIP_STATUS_MALFORMED },
      { audio, 0, VOIP_STATUS_MALFORMED },
      { audio, VOIP_VOICE_DURATION_MAX_MS + 1, VOIP_STATUS_MALFORMED },
      { huge, 1000, VOIP_STATUS_TOO_LARGE },
    };

    for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
      {
        g_autofree char *cid = test_new_client_id ();

        test_client_call_fails (f->alice, VOIP_MSG_SEND_VOICE,
                                g_variant_new ("(sts@ayu)", "bob", (guint64) 0, cid,
                                               cases[i].audio, cases[i].duration),
                                cases[i].status);
      }
    test_client_assert_no_event (f->bob, VOIP_MSG_MESSAGE_RECEIVED, 0);

    /* The smallest acceptable one at the longest duration, and the largest
     * at the shortest. */
    {
      g_autofree char *cid = test_new_client_id ();
      g_autofree char *cid2 = test_new_client_id ();

      test_client_call_ok (f->alice, VOIP_MSG_SEND_VOICE,
                           g_variant_new ("(sts@ayu)", "bob", (guint64) 0, cid, tiny,
                                          VOIP_VOICE_DURATION_MAX_MS));
      test_client_call_ok (f->alice, VOIP_MSG_SEND_VOICE,
                           g_variant_new ("(sts@ayu)", "bob", (guint64) 0, cid2,
                                          test_ogg_opus_new (VOIP_VOICE_MAX), 1));
    }
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/messages/text-direct", test_text_direct);
  ADD ("/messages/text-limits", test_text_limits);
  ADD ("/messages/text-group", test_text_group);
  ADD ("/messages/idempotent", test_idempotent);
  ADD ("/messages/history", test_history);
  ADD ("/messages/history/deleted-account", test_history_deleted_account);
  ADD ("/messages/history/errors", test_history_errors);
  ADD ("/messages/sync", test_sync);
  ADD ("/messages/page-bytes", test_page_bytes);
  ADD ("/messages/edit-delete", test_edit_delete);
  ADD ("/messages/voice", test_voice);
#undef ADD
  return g_test_run ();
}
