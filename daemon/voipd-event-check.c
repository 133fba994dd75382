/* voipd-event-check.c — the field rules of the events a server sends.
 *
 * One table by event code: each rule gets the decoded payload (of the
 * catalogue's type) and checks the fields the handlers turn into D-Bus
 * objects and cache rows. Usernames follow proto's rules, the ones the
 * server applies when the account is made (voip_validate_username), so a
 * name the server could never have accepted is refused here too.
 */
#define G_LOG_DOMAIN "voipd"

#include "voipd-event-check.h"
#include "voip-proto.h"

static gboolean
check_id (const char *what, guint64 id, GError **error)
{
  if (id >= VOIPD_EVENT_ID_MIN && id <= VOIPD_EVENT_ID_MAX)
    return TRUE;
  g_set_error (error, VOIP_ERROR, VOIP_STATUS_MALFORMED,
               "%s %" G_GUINT64_FORMAT " is not an id (1 to %" G_GUINT64_FORMAT ")",
               what, id, VOIPD_EVENT_ID_MAX);
  return FALSE;
}

/* 0 means "none" (a direct message, a 1:1 call); anything else is an id. */
static gboolean
check_optional_id (const char *what, guint64 id, GError **error)
{
  return id == 0 || check_id (what, id, error);
}

static gboolean
check_username (const char *what, const char *username, GError **error)
{
  g_autoptr(GError) local = NULL;

  if (voip_validate_username (username, &local))
    return TRUE;
  g_set_error (error, VOIP_ERROR, VOIP_STATUS_MALFORMED, "%s \"%s\": %s", what, username,
               local->message);
  return FALSE;
}

/* (ssus) and (su): the username first. */
static gboolean
check_first_username (GVariant *value, GError **error)
{
  g_autoptr(GVariant) username = g_variant_get_child_value (value, 0);

  return check_username ("username", g_variant_get_string (username, NULL), error);
}

static gboolean
check_group (GVariant *value, GError **error)
{
  guint64 id;
  const char *name, *owner, *member;
  g_autoptr(GVariantIter) members = NULL;

  g_variant_get (value, "(t&s&sas)", &id, &name, &owner, &members);
  if (!check_id ("group", id, error) || !check_username ("owner", owner, error))
    return FALSE;
  while (g_variant_iter_next (members, "&s", &member))
    if (!check_username ("member", member, error))
      return FALSE;
  return TRUE;
}

static gboolean
check_group_removed (GVariant *value, GError **error)
{
  guint64 id;
  guint32 reason;

  g_variant_get (value, "(tu)", &id, &reason);
  return check_id ("group", id, error);
}

static gboolean
check_message (GVariant *value, GError **error)
{
  guint64 id, group;
  const char *sender, *recipient;

  g_variant_get_child (value, 0, "t", &id);
  g_variant_get_child (value, 3, "&s", &sender);
  g_variant_get_child (value, 4, "&s", &recipient);
  g_variant_get_child (value, 5, "t", &group);
  if (!check_id ("message", id, error) || !check_username ("sender", sender, error)
      || !check_optional_id ("group", group, error))
    return FALSE;
  /* A group message has no recipient; a direct message has one. */
  if (group != 0)
    {
      if (*recipient == '\0')
        return TRUE;
      g_set_error (error, VOIP_ERROR, VOIP_STATUS_MALFORMED,
                   "a message in group %" G_GUINT64_FORMAT " has a recipient", group);
      return FALSE;
    }
  return check_username ("recipient", recipient, error);
}

static gboolean
check_call (GVariant *value, GError **error)
{
  guint64 id, group;
  const char *initiator, *username;
  g_autoptr(GVariant) participants = NULL;
  GVariantIter iter;
  guint32 state;

  g_variant_get_child (value, 0, "t", &id);
  g_variant_get_child (value, 1, "&s", &initiator);
  g_variant_get_child (value, 2, "t", &group);
  participants = g_variant_get_child_value (value, 6);
  if (!check_id ("call", id, error) || !check_username ("initiator", initiator, error)
      || !check_optional_id ("group", group, error))
    return FALSE;
  g_variant_iter_init (&iter, participants);
  while (g_variant_iter_next (&iter, "(&su)", &username, &state))
    if (!check_username ("participant", username, error))
      return FALSE;
  return TRUE;
}

/* (tsus) and (tsay): call id, peer. */
static gboolean
check_call_peer (GVariant *value, GError **error)
{
  guint64 id;
  const char *peer;

  g_variant_get_child (value, 0, "t", &id);
  g_variant_get_child (value, 1, "&s", &peer);
  return check_id ("call", id, error) && check_username ("peer", peer, error);
}

typedef gboolean (*EventRule) (GVariant *value, GError **error);

static const struct {
  guint     code;
  EventRule rule;
} rules[] = {
  { VOIP_MSG_PRESENCE_CHANGED,      check_first_username },
  { VOIP_MSG_PROFILE_CHANGED,       check_first_username },
  { VOIP_MSG_CONTACT_CHANGED,       check_first_username },
  { VOIP_MSG_GROUP_CHANGED,         check_group },
  { VOIP_MSG_GROUP_REMOVED,         check_group_removed },
  { VOIP_MSG_MESSAGE_RECEIVED,      check_message },
  { VOIP_MSG_MESSAGE_EDITED,        check_message },
  { VOIP_MSG_MESSAGE_DELETED,       check_message },
  { VOIP_MSG_CALL_CHANGED,          check_call },
  { VOIP_MSG_CALL_SIGNAL_RECEIVED,  check_call_peer },
  { VOIP_MSG_CALL_DATA_RECEIVED,    check_call_peer },
  { VOIP_MSG_PLUGIN_MESSAGE,        check_first_username },
};

gboolean
voipd_event_check (guint code, GVariant *value, GError **error)
{
  for (gsize i = 0; i < G_N_ELEMENTS (rules); i++)
    if (rules[i].code == code)
      return rules[i].rule (value, error);
  return TRUE;
}
