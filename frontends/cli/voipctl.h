/* voipctl.h — what the files of voipctl share: the command table's row, the
 * argument and error helpers, the daemon's objects, and table/JSON output.
 *
 * voipctl is a thin D-Bus client of voipd (org.voipd.Voip1 on the session bus):
 * it never talks to a server itself, so every rule about accounts, friends and
 * messages lives in the daemon and reaches the user as the daemon's error.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "voip-dbus.h"

G_BEGIN_DECLS

#define VOIPCTL_BUS_NAME     "org.voipd.Voip1"
#define VOIPCTL_ROOT_PATH    "/org/voipd/Voip1"
#define VOIPCTL_CONTACT_PATH VOIPCTL_ROOT_PATH "/contact/"
#define VOIPCTL_GROUP_PATH   VOIPCTL_ROOT_PATH "/group/"
#define VOIPCTL_CALL_PATH    VOIPCTL_ROOT_PATH "/call/"
#define VOIPCTL_ACCOUNT_INTERFACE "org.voipd.Voip1.Account"

/* GetHistory's limit, as the API documents it (org.voipd.Voip1.xml). */
#define VOIPCTL_HISTORY_LIMIT_MAX     500
#define VOIPCTL_HISTORY_LIMIT_DEFAULT 50

/* Exit statuses: the man page's EXIT STATUS section. */
enum
{
  VOIPCTL_EXIT_OK      = 0,
  VOIPCTL_EXIT_FAILURE = 1,   /* the daemon refused, or it could not be reached */
  VOIPCTL_EXIT_USAGE   = 2,   /* bad command line */
};

typedef struct _VoipctlCommand VoipctlCommand;

/* A subcommand gets its own row and its arguments from the noun (and verb) on:
 * argv[0] is the command's name, as for main(). It returns an exit status. */
typedef int (*VoipctlFunc) (const VoipctlCommand *cmd,
                            int                   argc,
                            char                **argv);

struct _VoipctlCommand
{
  const char  *noun;      /* "contact" */
  const char  *verb;      /* "add", or NULL for a command without verbs */
  const char  *params;    /* "USER", for --help and usage errors */
  const char  *summary;   /* one line, untranslated (N_) */
  VoipctlFunc  func;
};

/* voipctl.c: arguments and errors */
/* --json was given, before or after the command. */
gboolean     voipctl_json_wanted         (void);
const char  *voipctl_params              (const VoipctlCommand *cmd);
gboolean     voipctl_parse_args          (const VoipctlCommand *cmd,
                                          const GOptionEntry   *entries,
                                          int                  *argc,
                                          char               ***argv,
                                          int                   min_args,
                                          int                   max_args);
int          voipctl_usage_error         (const VoipctlCommand *cmd,
                                          const char           *format,
                                          ...) G_GNUC_PRINTF (2, 3);
int          voipctl_fail                (const GError         *error);
int          voipctl_failf               (const char           *format,
                                          ...) G_GNUC_PRINTF (1, 2);
gboolean     voipctl_parse_id            (const char           *text,
                                          guint64              *out_id);
char        *voipctl_read_password       (const char           *prompt,
                                          gboolean              from_stdin,
                                          GError              **error);
void         voipctl_free_password       (char                 *password);

/* A password wiped before it is freed: g_auto (VoipctlPassword) p = ... */
typedef char *VoipctlPassword;
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (VoipctlPassword, voipctl_free_password, NULL)

/* voipctl.c: the daemon's objects */
VoipDBusAccount *voipctl_get_account         (GError              **error);
VoipDBusContact *voipctl_get_contact         (const char           *username,
                                          GError              **error);
VoipDBusGroup   *voipctl_get_group           (guint64               id,
                                          GError              **error);
VoipDBusConversation *voipctl_get_conversation (const VoipctlCommand *cmd,
                                            const char           *username,
                                            const char           *group_id,
                                            int                  *out_status);
/* The Conversation interface of the contact or group object at path. */
VoipDBusConversation *voipctl_get_conversation_at (const char  *path,
                                               GError     **error);
/* Writes a property of the proxy's interface with Properties.Set, so that a
 * refusal comes back as an error (the proxy's own setter would not say). */
gboolean     voipctl_set_property (GDBusProxy *proxy, const char *property, GVariant *value,
                                   GError **error);
/* voipd's objects as GetManagedObjects gives them: a{oa{sa{sv}}}, path →
 * interface → property → value. */
GVariant    *voipctl_get_managed_objects (GError **error);
/* The properties (a{sv}) of every object with that interface, those of the
 * object's other interfaces (Conversation) merged in. */
GPtrArray   *voipctl_list_objects (const char *interface, GError **error);

/* voipctl-output.c */
typedef struct _VoipctlTable VoipctlTable;

VoipctlTable *voipctl_table_new          (const char           *first_header,
                                          ...) G_GNUC_NULL_TERMINATED;
void          voipctl_table_add_row      (VoipctlTable         *table,
                                          const char           *first_cell,
                                          ...) G_GNUC_NULL_TERMINATED;
void          voipctl_table_print        (VoipctlTable         *table);
void          voipctl_table_free         (VoipctlTable         *table);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VoipctlTable, voipctl_table_free)

void          voipctl_print_fields       (const char           *first_label,
                                          ...) G_GNUC_NULL_TERMINATED;
char         *voipctl_format_time        (gint64                timestamp_ms);
char         *voipctl_printable          (const char           *text);
char         *voipctl_snake_case         (const char           *camel);
void          voipctl_print_json         (JsonNode             *root);
void          voipctl_print_json_line    (const char           *text);
void          voipctl_json_add_message   (JsonBuilder          *builder,
                                          GVariant             *message);
char         *voipctl_format_message     (GVariant             *message);
/* What a listing shows of a contact: one entry of Account.ListContacts,
 * whose strings it borrows. */
typedef struct
{
  const char *username;
  const char *display_name;
  const char *presence;
  const char *subscription;
  const char *motd;
  guint32     unread;
  gboolean    muted;
} VoipctlContact;

void          voipctl_contact_append_json (GString             *out,
                                           const VoipctlContact *contact,
                                           gboolean             pretty);
void          voipctl_json_append_string (GString              *out,
                                          const char           *text);
void          voipctl_json_add_group     (JsonBuilder          *builder,
                                          GVariant             *props);
const char   *voipctl_lookup_string      (GVariant             *props,
                                          const char           *name);
GVariant     *voipctl_lookup_value       (GVariant             *props,
                                          const char           *name);
guint32       voipctl_lookup_uint32      (GVariant             *props,
                                          const char           *name);
gboolean      voipctl_lookup_boolean     (GVariant             *props,
                                          const char           *name);
GVariant     *voipctl_proxy_properties   (GDBusProxy           *proxy);
guint64       voipctl_lookup_uint64      (GVariant             *props,
                                          const char           *name);

/* The subcommands, one file per noun group. */
int voipctl_cmd_register       (const VoipctlCommand *cmd, int argc, char **argv);
int voipctl_cmd_login          (const VoipctlCommand *cmd, int argc, char **argv);
int voipctl_cmd_logout         (const VoipctlCommand *cmd, int argc, char **argv);
int voipctl_cmd_passwd         (const VoipctlCommand *cmd, int argc, char **argv);
int voipctl_cmd_delete_account (const VoipctlCommand *cmd, int argc, char **argv);
int voipctl_cmd_status         (const VoipctlCommand *cmd, int argc, char **argv);
int voipctl_cmd_wait_online    (const VoipctlCommand *cmd, int argc, char **argv);
int voipctl_cmd_presence       (const VoipctlCommand *cmd, int argc, char **argv);
int voipctl_cmd_profile        (const VoipctlCommand *cmd, int argc, char **argv);
int voipctl_cmd_profile_set    (const VoipctlCommand *cmd, int argc, char **argv);

int voipctl_cmd_contacts       (const VoipctlCommand *cmd, int argc, char **argv);
int voipctl_cmd_contact_add    (const VoipctlCommand *cmd, int argc, char **argv);
int voipctl_cmd_contact_accept (const VoipctlCommand *cmd, int argc, char **argv);
int voipctl_cmd_contact_deny   (const VoipctlCommand *cmd, int argc, char **argv);
int voipctl_cmd_contact_remove (const VoipctlCommand *cmd, int argc, char **argv);
int voipctl_cmd_contact_mute   (const VoipctlCommand *cmd, int argc, char **argv);
int voipctl_cmd_contact_unmute (const VoipctlCommand *cmd, int argc, char **argv);
int voipctl_cmd_plugin_send    (const VoipctlCommand *cmd, int argc, char **argv);

int voipctl_cmd_send           (const VoipctlCommand *cmd, int argc, char **argv);
int voipctl_cmd_voice_message  (const VoipctlCommand *cmd, int argc, char **argv);
int voipctl_cmd_history        (const VoipctlCommand *cmd, int argc, char **argv);
int voipctl_cmd_read           (const VoipctlCommand *cmd, int argc, char **argv);
int voipctl_cmd_message_edit   (const VoipctlCommand *cmd, int argc, char **argv);
int voipctl_cmd_message_delete (const VoipctlCommand *cmd, int argc, char **argv);
int voipctl_cmd_message_save   (const VoipctlCommand *cmd, int argc, char **argv);
gboolean voipctl_ogg_opus_duration (const guint8 *data,
                                    gsize         length,
                                    guint        *out_duration_ms,
                                    GError      **error);

int voipctl_cmd_group_create   (const VoipctlCommand *cmd, int argc, char **argv);
int voipctl_cmd_group_list     (const VoipctlCommand *cmd, int argc, char **argv);
int voipctl_cmd_group_info     (const VoipctlCommand *cmd, int argc, char **argv);
int voipctl_cmd_group_rename   (const VoipctlCommand *cmd, int argc, char **argv);
int voipctl_cmd_group_add      (const VoipctlCommand *cmd, int argc, char **argv);
int voipctl_cmd_group_remove   (const VoipctlCommand *cmd, int argc, char **argv);
int voipctl_cmd_group_leave    (const VoipctlCommand *cmd, int argc, char **argv);
int voipctl_cmd_group_delete   (const VoipctlCommand *cmd, int argc, char **argv);

int voipctl_cmd_call           (const VoipctlCommand *cmd, int argc, char **argv);
int voipctl_cmd_answer         (const VoipctlCommand *cmd, int argc, char **argv);
int voipctl_cmd_reject         (const VoipctlCommand *cmd, int argc, char **argv);
int voipctl_cmd_hangup         (const VoipctlCommand *cmd, int argc, char **argv);
int voipctl_cmd_mute           (const VoipctlCommand *cmd, int argc, char **argv);
int voipctl_cmd_unmute         (const VoipctlCommand *cmd, int argc, char **argv);
int voipctl_cmd_calls          (const VoipctlCommand *cmd, int argc, char **argv);

int voipctl_cmd_monitor        (const VoipctlCommand *cmd, int argc, char **argv);

G_END_DECLS
