/* test-groups.c — group create, list, info, rename, add, remove, leave,
 * delete, and who hears of it (PROTOCOL.md, "Groups"). */
#include <stdlib.h>

#include "test-client.h"
#include "test-server.h"

typedef struct {
  TestServer *server;
  guint16     port;
  TestClient *alice;   /* friends with bob, carol and dave */
  TestClient *alice2;  /* a second session of alice */
  TestClient *bob;     /* also friends with erin */
  TestClient *carol;
  TestClient *dave;
  TestClient *erin;
  TestClient *frank;   /* nobody's friend */
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  f->server = test_server_new_started ();
  f->port = test_server_get_port (f->server);
  f->alice = test_client_new_registered (f->port, "alice");
  f->alice2 = test_client_new_session (f->alice);
  f->bob = test_client_new_registered (f->port, "bob");
  f->carol = test_client_new_registered (f->port, "carol");
  f->dave = test_client_new_registered (f->port, "dave");
  f->erin = test_client_new_registered (f->port, "erin");
  f->frank = test_client_new_registered (f->port, "frank");
  test_befriend (f->alice, f->bob);
  test_befriend (f->alice, f->carol);
  test_befriend (f->alice, f->dave);
  test_befriend (f->bob, f->erin);
  test_client_flush_events (f->alice2);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->alice, test_client_free);
  g_clear_pointer (&f->alice2, test_client_free);
  g_clear_pointer (&f->bob, test_client_free);
  g_clear_pointer (&f->carol, test_client_free);
  g_clear_pointer (&f->dave, test_client_free);
  g_clear_pointer (&f->erin, test_client_free);
  g_clear_pointer (&f->frank, test_client_free);
  g_clear_pointer (&f->server, test_server_free);
}

static int
compare_names (const void *a, const void *b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

/* Checks a (tssas) group; members is a sorted, space-separated list. */
static void
check_group (GVariant *group, guint64 id, const char *name, const char *owner,
             const char *members)
{
  g_autoptr(GVariant) list = NULL;
  g_autofree const char **names = NULL;
  g_autofree char *joined = NULL;
  const char *got_name, *got_owner;
  guint64 got_id;

  g_variant_get (group, "(t&s&s@as)", &got_id, &got_name, &got_owner, &list);
  names = g_variant_get_strv (list, NULL);
  qsort (names, g_strv_length ((char **) names), sizeof (char *), compare_names);
  g_assert_cmpuint (got_id, ==, id);
  g_assert_cmpstr (got_name, ==, name);
  g_assert_cmpstr (got_owner, ==, owner);
  joined = g_strjoinv (" ", (char **) names);
  g_assert_cmpstr (joined, ==, members);
}

#define expect_group_changed(client, id, name, owner, members) \
  G_STMT_START { \
    g_autoptr(GVariant) event_ = test_client_expect_event ((client), VOIP_MSG_GROUP_CHANGED); \
    check_group (event_, (id), (name), (owner), (members)); \
  } G_STMT_END

#define expect_group_removed(client, id, reason) \
  G_STMT_START { \
    g_autoptr(GVariant) event_ = test_client_expect_event ((client), VOIP_MSG_GROUP_REMOVED); \
    guint64 id_; guint32 reason_; \
    g_variant_get (event_, "(tu)", &id_, &reason_); \
    g_assert_cmpuint (id_, ==, (id)); \
    g_assert_cmpuint (reason_, ==, (reason)); \
  } G_STMT_END

static guint64
create_group (TestClient *client, const char *name, const char *const *members)
{
  g_autoptr(GVariant) reply = test_client_call (client, VOIP_MSG_GROUP_CREATE,
                                                g_variant_new ("(s^as)", name, members));
  guint64 id;

  g_variant_get (reply, "(t)", &id);
  g_assert_cmpuint (id, >, 0);
  return id;
}

static void
assert_group_info (TestClient *client, guint64 id, const char *name, const char *owner,
                   const char *members)
{
  g_autoptr(GVariant) reply = test_client_call (client, VOIP_MSG_GROUP_INFO,
                                                g_variant_new ("(t)", id));

  check_group (reply, id, name, owner, members);
}

static guint
group_count (TestClient *client)
{
  g_autoptr(GVariant) reply = test_client_call (client, VOIP_MSG_GROUP_LIST, g_variant_new ("()"));
  g_autoptr(GVariant) list = g_variant_get_child_value (reply, 0);

  return g_variant_n_children (list);
}

static void
assert_no_group_events (TestClient *client)
{
  test_client_assert_no_event (client, VOIP_MSG_GROUP_CHANGED, 0);
  test_client_assert_no_event (client, VOIP_MSG_GROUP_REMOVED, 0);
}

static void
test_create (Fixture *f, gconstpointer data)
{
  g_autofree char *long_name = g_strnfill (VOIP_GROUP_NAME_MAX + 1, 'g');
  guint64 id, id2;

  /* Members must be friends of the creator; the name must be sane. */
  test_client_call_fails (f->alice, VOIP_MSG_GROUP_CREATE,
                          g_variant_new ("(s^as)", "team", (const char *[]) { "bob", "frank", NULL }),
                          VOIP_STATUS_NOT_A_FRIEND);
  test_client_call_fails (f->alice, VOIP_MSG_GROUP_CREATE,
                          g_variant_new ("(s^as)", "team", (const char *[]) { "nobody", NULL }),
                          VOIP_STATUS_NOT_A_FRIEND);
  test_client_call_fails (f->alice, VOIP_MSG_GROUP_CREATE,
                          g_variant_new ("(s^as)", "", (const char *[]) { "bob", NULL }),
                          VOIP_STATUS_MALFORMED);
  test_client_call_fails (f->alice, VOIP_MSG_GROUP_CREATE,
                          g_variant_new ("(s^as)", long_name, (const char *[]) { "bob", NULL }),
                          VOIP_STATUS_TOO_LARGE);
  g_assert_cmpuint (group_count (f->alice), ==, 0);
  g_assert_cmpuint (group_count (f->bob), ==, 0);
  assert_no_group_events (f->bob);

  id = create_group (f->alice, "team", (const char *[]) { "bob", "carol", NULL });
  for (TestClient **c = (TestClient *[]) { f->alice2, f->bob, f->carol, NULL }; *c; c++)
    expect_group_changed (*c, id, "team", "alice", "alice bob carol");
  for (TestClient **c = (TestClient *[]) { f->dave, f->erin, f->frank, NULL }; *c; c++)
    assert_no_group_events (*c);

  /* Members see it; nobody else does. */
  for (TestClient **c = (TestClient *[]) { f->alice, f->bob, f->carol, NULL }; *c; c++)
    {
      g_autoptr(GVariant) reply = test_client_call (*c, VOIP_MSG_GROUP_LIST, g_variant_new ("()"));
      g_autoptr(GVariant) list = g_variant_get_child_value (reply, 0);
      g_autoptr(GVariant) group = NULL;

      g_assert_cmpuint (g_variant_n_children (list), ==, 1);
      group = g_variant_get_child_value (list, 0);
      check_group (group, id, "team", "alice", "alice bob carol");
      assert_group_info (*c, id, "team", "alice", "alice bob carol");
    }
  g_assert_cmpuint (group_count (f->dave), ==, 0);
  test_client_call_fails (f->dave, VOIP_MSG_GROUP_INFO, g_variant_new ("(t)", id),
                          VOIP_STATUS_NO_SUCH_GROUP);
  test_client_call_fails (f->alice, VOIP_MSG_GROUP_INFO, g_variant_new ("(t)", id + 1000),
                          VOIP_STATUS_NO_SUCH_GROUP);

  /* Ids are unique and ascending. */
  id2 = create_group (f->alice, "solo", (const char *[]) { NULL });
  g_assert_cmpuint (id2, >, id);
  g_assert_cmpuint (group_count (f->alice), ==, 2);
  g_assert_cmpuint (group_count (f->bob), ==, 1);
}

static void
test_rename (Fixture *f, gconstpointer data)
{
  guint64 id = create_group (f->alice, "team", (const char *[]) { "bob", "carol", NULL });

  for (TestClient **c = (TestClient *[]) { f->alice, f->alice2, f->bob, f->carol, NULL }; *c; c++)
    test_client_flush_events (*c);

  /* Any member may rename. */
  test_client_call_ok (f->carol, VOIP_MSG_GROUP_RENAME, g_variant_new ("(ts)", id, "crew"));
  for (TestClient **c = (TestClient *[]) { f->alice, f->alice2, f->bob, NULL }; *c; c++)
    expect_group_changed (*c, id, "crew", "alice", "alice bob carol");
  assert_group_info (f->bob, id, "crew", "alice", "alice bob carol");

  test_client_call_fails (f->carol, VOIP_MSG_GROUP_RENAME, g_variant_new ("(ts)", id, ""),
                          VOIP_STATUS_MALFORMED);
  test_client_call_fails (f->dave, VOIP_MSG_GROUP_RENAME, g_variant_new ("(ts)", id, "mine"),
                          VOIP_STATUS_NO_SUCH_GROUP);
  assert_group_info (f->alice, id, "crew", "alice", "alice bob carol");
  for (TestClient **c = (TestClient *[]) { f->dave, f->frank, NULL }; *c; c++)
    assert_no_group_events (*c);
}

static void
test_add_member (Fixture *f, gconstpointer data)
{
  guint64 id = create_group (f->alice, "team", (const char *[]) { "bob", NULL });

  for (TestClient **c = (TestClient *[]) { f->alice, f->alice2, f->bob, NULL }; *c; c++)
    test_client_flush_events (*c);

  /* A member adds a friend of theirs, not necessarily the owner's. */
  test_client_call_ok (f->bob, VOIP_MSG_GROUP_ADD_MEMBER, g_variant_new ("(ts)", id, "erin"));
  for (TestClient **c = (TestClient *[]) { f->alice, f->alice2, f->bob, f->erin, NULL }; *c; c++)
    expect_group_changed (*c, id, "team", "alice", "alice bob erin");
  assert_group_info (f->erin, id, "team", "alice", "alice bob erin");

  test_client_call_fails (f->alice, VOIP_MSG_GROUP_ADD_MEMBER, g_variant_new ("(ts)", id, "bob"),
                          VOIP_STATUS_ALREADY_IN_GROUP);
  /* erin is not alice's friend, but she is in already. */
  test_client_call_fails (f->bob, VOIP_MSG_GROUP_ADD_MEMBER, g_variant_new ("(ts)", id, "erin"),
                          VOIP_STATUS_ALREADY_IN_GROUP);
  /* Only friends of the adder. */
  test_client_call_fails (f->bob, VOIP_MSG_GROUP_ADD_MEMBER, g_variant_new ("(ts)", id, "dave"),
                          VOIP_STATUS_NOT_A_FRIEND);
  test_client_call_fails (f->alice, VOIP_MSG_GROUP_ADD_MEMBER, g_variant_new ("(ts)", id, "frank"),
                          VOIP_STATUS_NOT_A_FRIEND);
  /* Non-members can not see the group at all. */
  test_client_call_fails (f->carol, VOIP_MSG_GROUP_ADD_MEMBER, g_variant_new ("(ts)", id, "alice"),
                          VOIP_STATUS_NO_SUCH_GROUP);
  test_client_call_fails (f->alice, VOIP_MSG_GROUP_ADD_MEMBER,
                          g_variant_new ("(ts)", id + 1000, "carol"),
                          VOIP_STATUS_NO_SUCH_GROUP);

  assert_group_info (f->alice, id, "team", "alice", "alice bob erin");
  for (TestClient **c = (TestClient *[]) { f->carol, f->dave, f->frank, NULL }; *c; c++)
    assert_no_group_events (*c);
  test_client_assert_no_event (f->bob, VOIP_MSG_GROUP_CHANGED, 0);
}

static void
test_remove_member (Fixture *f, gconstpointer data)
{
  guint64 id = create_group (f->alice, "team", (const char *[]) { "bob", "carol", NULL });

  for (TestClient **c = (TestClient *[]) { f->alice, f->alice2, f->bob, f->carol, NULL }; *c; c++)
    test_client_flush_events (*c);

  /* Only the owner removes; not someone who is not in; not itself. */
  test_client_call_fails (f->bob, VOIP_MSG_GROUP_REMOVE_MEMBER, g_variant_new ("(ts)", id, "carol"),
                          VOIP_STATUS_NOT_ALLOWED);
  test_client_call_fails (f->alice, VOIP_MSG_GROUP_REMOVE_MEMBER, g_variant_new ("(ts)", id, "dave"),
                          VOIP_STATUS_NOT_GROUP_MEMBER);
  test_client_call_fails (f->alice, VOIP_MSG_GROUP_REMOVE_MEMBER, g_variant_new ("(ts)", id, "alice"),
                          VOIP_STATUS_NOT_ALLOWED);
  test_client_call_fails (f->dave, VOIP_MSG_GROUP_REMOVE_MEMBER, g_variant_new ("(ts)", id, "carol"),
                          VOIP_STATUS_NO_SUCH_GROUP);
  assert_group_info (f->alice, id, "team", "alice", "alice bob carol");
  test_client_assert_no_event (f->carol, VOIP_MSG_GROUP_REMOVED, 0);

  test_client_call_ok (f->alice, VOIP_MSG_GROUP_REMOVE_MEMBER, g_variant_new ("(ts)", id, "carol"));
  expect_group_removed (f->carol, id, VOIP_GROUP_REMOVED_KICKED);
  for (TestClient **c = (TestClient *[]) { f->alice, f->alice2, f->bob, NULL }; *c; c++)
    expect_group_changed (*c, id, "team", "alice", "alice bob");
  test_client_assert_no_event (f->carol, VOIP_MSG_GROUP_CHANGED, 0);

  /* carol lost access. */
  test_client_call_fails (f->carol, VOIP_MSG_GROUP_INFO, g_variant_new ("(t)", id),
                          VOIP_STATUS_NO_SUCH_GROUP);
  g_assert_cmpuint (group_count (f->carol), ==, 0);
  test_client_call_fails (f->alice, VOIP_MSG_GROUP_REMOVE_MEMBER, g_variant_new ("(ts)", id, "carol"),
                          VOIP_STATUS_NOT_GROUP_MEMBER);

  /* Later changes do not reach her. */
  test_client_call_ok (f->bob, VOIP_MSG_GROUP_RENAME, g_variant_new ("(ts)", id, "pair"));
  expect_group_changed (f->alice, id, "pair", "alice", "alice bob");
  assert_no_group_events (f->carol);
  for (TestClient **c = (TestClient *[]) { f->dave, f->erin, f->frank, NULL }; *c; c++)
    assert_no_group_events (*c);
}

static void
test_leave (Fixture *f, gconstpointer data)
{
  guint64 id = create_group (f->alice, "team", (const char *[]) { "bob", NULL });

  /* carol joins after bob. */
  test_client_call_ok (f->alice, VOIP_MSG_GROUP_ADD_MEMBER, g_variant_new ("(ts)", id, "carol"));
  for (TestClient **c = (TestClient *[]) { f->alice, f->alice2, f->bob, f->carol, NULL }; *c; c++)
    test_client_flush_events (*c);

  /* The owner leaves: bob, who joined first, owns it now. */
  test_client_call_ok (f->alice, VOIP_MSG_GROUP_LEAVE, g_variant_new ("(t)", id));
  expect_group_removed (f->alice2, id, VOIP_GROUP_REMOVED_LEFT);
  expect_group_changed (f->bob, id, "team", "bob", "bob carol");
  expect_group_changed (f->carol, id, "team", "bob", "bob carol");
  test_client_assert_no_event (f->alice2, VOIP_MSG_GROUP_CHANGED, 0);
  test_client_call_fails (f->alice, VOIP_MSG_GROUP_INFO, g_variant_new ("(t)", id),
                          VOIP_STATUS_NO_SUCH_GROUP);
  test_client_call_fails (f->alice, VOIP_MSG_GROUP_LEAVE, g_variant_new ("(t)", id),
                          VOIP_STATUS_NO_SUCH_GROUP);
  g_assert_cmpuint (group_count (f->alice), ==, 0);
  assert_group_info (f->carol, id, "team", "bob", "bob carol");

  /* The new owner has the owner's rights, the old one has none. */
  test_client_call_fails (f->carol, VOIP_MSG_GROUP_DELETE, g_variant_new ("(t)", id),
                          VOIP_STATUS_NOT_ALLOWED);

  test_client_call_ok (f->bob, VOIP_MSG_GROUP_LEAVE, g_variant_new ("(t)", id));
  expect_group_changed (f->carol, id, "team", "carol", "carol");
  assert_group_info (f->carol, id, "team", "carol", "carol");

  /* The last one out deletes it. */
  test_client_call_ok (f->carol, VOIP_MSG_GROUP_LEAVE, g_variant_new ("(t)", id));
  test_client_call_fails (f->carol, VOIP_MSG_GROUP_INFO, g_variant_new ("(t)", id),
                          VOIP_STATUS_NO_SUCH_GROUP);
  g_assert_cmpuint (group_count (f->carol), ==, 0);
  g_assert_cmpuint (group_count (f->bob), ==, 0);
  test_client_assert_no_event (f->bob, VOIP_MSG_GROUP_CHANGED, 0);
  test_client_assert_no_event (f->alice, VOIP_MSG_GROUP_CHANGED, 0);
  for (TestClient **c = (TestClient *[]) { f->dave, f->erin, f->frank, NULL }; *c; c++)
    assert_no_group_events (*c);
}

static void
test_delete (Fixture *f, gconstpointer data)
{
  guint64 id = create_group (f->alice, "team", (const char *[]) { "bob", "carol", NULL });

  for (TestClient **c = (TestClient *[]) { f->alice, f->alice2, f->bob, f->carol, NULL }; *c; c++)
    test_client_flush_events (*c);

  test_client_call_fails (f->bob, VOIP_MSG_GROUP_DELETE, g_variant_new ("(t)", id),
                          VOIP_STATUS_NOT_ALLOWED);
  test_client_call_fails (f->dave, VOIP_MSG_GROUP_DELETE, g_variant_new ("(t)", id),
                          VOIP_STATUS_NO_SUCH_GROUP);
  assert_group_info (f->bob, id, "team", "alice", "alice bob carol");

  test_client_call_ok (f->alice, VOIP_MSG_GROUP_DELETE, g_variant_new ("(t)", id));
  for (TestClient **c = (TestClient *[]) { f->alice2, f->bob, f->carol, NULL }; *c; c++)
    expect_group_removed (*c, id, VOIP_GROUP_REMOVED_DELETED);
  for (TestClient **c = (TestClient *[]) { f->alice, f->bob, f->carol, NULL }; *c; c++)
    {
      test_client_call_fails (*c, VOIP_MSG_GROUP_INFO, g_variant_new ("(t)", id),
                              VOIP_STATUS_NO_SUCH_GROUP);
      g_assert_cmpuint (group_count (*c), ==, 0);
    }
  test_client_call_fails (f->alice, VOIP_MSG_GROUP_DELETE, g_variant_new ("(t)", id),
                          VOIP_STATUS_NO_SUCH_GROUP);
  for (TestClient **c = (TestClient *[]) { f->bob, f->carol, f->alice2, NULL }; *c; c++)
    test_client_assert_no_event (*c, VOIP_MSG_GROUP_CHANGED, 0);
  for (TestClient **c = (TestClient *[]) { f->dave, f->erin, f->frank, NULL }; *c; c++)
    assert_no_group_events (*c);
}

/* A group holds at most 256 members, owner included. */
static void
test_full (void)
{
  g_autoptr(TestServer) server = test_server_new_started ();
  guint16 port = test_server_get_port (server);
  g_autoptr(TestClient) owner = test_client_new_registered (port, "owner");
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  guint64 id;

  /* 256 users ask the owner, who accepts them all. */
  for (guint i = 0; i < VOIP_GROUP_MEMBERS_MAX; i++)
    {
      g_autofree char *name = g_strdup_printf ("member%03u", i);
      g_autoptr(TestClient) member = test_client_new_registered (port, name);

      test_client_call_ok (member, VOIP_MSG_CONTACT_REQUEST, g_variant_new ("(s)", "owner"));
      g_ptr_array_add (names, g_steal_pointer (&name));
    }
  for (guint i = 0; i < names->len; i++)
    test_client_call_ok (owner, VOIP_MSG_CONTACT_ACCEPT, g_variant_new ("(s)", names->pdata[i]));
  g_ptr_array_add (names, NULL);

  /* 256 friends and the owner are one too many. */
  test_client_call_fails (owner, VOIP_MSG_GROUP_CREATE,
                          g_variant_new ("(s^as)", "crowd", (const char *const *) names->pdata),
                          VOIP_STATUS_GROUP_FULL);
  g_assert_cmpuint (group_count (owner), ==, 0);

  /* 255 fit; then the 256th friend does not. */
  g_free (g_ptr_array_steal_index (names, VOIP_GROUP_MEMBERS_MAX - 1));
  g_ptr_array_insert (names, VOIP_GROUP_MEMBERS_MAX - 1, NULL);
  id = create_group (owner, "crowd", (const char *const *) names->pdata);
  test_client_call_fails (owner, VOIP_MSG_GROUP_ADD_MEMBER,
                          g_variant_new ("(ts)", id, "member255"),
                          VOIP_STATUS_GROUP_FULL);
  {
    g_autoptr(GVariant) reply = test_client_call (owner, VOIP_MSG_GROUP_INFO,
                                                  g_variant_new ("(t)", id));
    g_autoptr(GVariant) members = g_variant_get_child_value (reply, 3);

    g_assert_cmpuint (g_variant_n_children (members), ==, VOIP_GROUP_MEMBERS_MAX);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/groups/create", test_create);
  ADD ("/groups/rename", test_rename);
  ADD ("/groups/add-member", test_add_member);
  ADD ("/groups/remove-member", test_remove_member);
  ADD ("/groups/leave", test_leave);
  ADD ("/groups/delete", test_delete);
#undef ADD
  g_test_add_func ("/groups/full", test_full);
  return g_test_run ();
}
