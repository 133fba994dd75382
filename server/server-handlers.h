/* server-handlers.h — one handler per request code; server-dispatch.c maps
 * codes to them. A handler runs on the main loop after the session's login
 * state was checked against the catalogue, and must answer the request
 * exactly once (directly, or through a ServerJob). */
#pragma once

#include "server.h"

G_BEGIN_DECLS

typedef void (*ServerHandler) (Server *server, ServerSession *session,
                               const ServerRequest *request);

/* server-accounts.c */
void server_handle_register        (Server *, ServerSession *, const ServerRequest *);
void server_handle_login           (Server *, ServerSession *, const ServerRequest *);
void server_handle_resume          (Server *, ServerSession *, const ServerRequest *);
void server_handle_logout          (Server *, ServerSession *, const ServerRequest *);
void server_handle_change_password (Server *, ServerSession *, const ServerRequest *);
void server_handle_delete_account  (Server *, ServerSession *, const ServerRequest *);
void server_handle_ping            (Server *, ServerSession *, const ServerRequest *);
/* server-presence.c */
void server_handle_set_presence    (Server *, ServerSession *, const ServerRequest *);
/* server-profile.c */
void server_handle_set_profile     (Server *, ServerSession *, const ServerRequest *);
void server_handle_get_profile     (Server *, ServerSession *, const ServerRequest *);
/* server-contacts.c */
void server_handle_contact_list    (Server *, ServerSession *, const ServerRequest *);
void server_handle_contact_request (Server *, ServerSession *, const ServerRequest *);
void server_handle_contact_accept  (Server *, ServerSession *, const ServerRequest *);
void server_handle_contact_deny    (Server *, ServerSession *, const ServerRequest *);
void server_handle_contact_remove  (Server *, ServerSession *, const ServerRequest *);
void server_handle_contact_pending (Server *, ServerSession *, const ServerRequest *);
/* server-groups.c */
void server_handle_group_create    (Server *, ServerSession *, const ServerRequest *);
void server_handle_group_list      (Server *, ServerSession *, const ServerRequest *);
void server_handle_group_info      (Server *, ServerSession *, const ServerRequest *);
void server_handle_group_rename    (Server *, ServerSession *, const ServerRequest *);
void server_handle_group_add_member    (Server *, ServerSession *, const ServerRequest *);
void server_handle_group_remove_member (Server *, ServerSession *, const ServerRequest *);
void server_handle_group_leave     (Server *, ServerSession *, const ServerRequest *);
void server_handle_group_delete    (Server *, ServerSession *, const ServerRequest *);
/* server-messages.c */
void server_handle_send_text       (Server *, ServerSession *, const ServerRequest *);
void server_handle_send_voice      (Server *, ServerSession *, const ServerRequest *);
void server_handle_history         (Server *, ServerSession *, const ServerRequest *);
void server_handle_sync            (Server *, ServerSession *, const ServerRequest *);
void server_handle_edit            (Server *, ServerSession *, const ServerRequest *);
void server_handle_delete          (Server *, ServerSession *, const ServerRequest *);
void server_handle_get_voice       (Server *, ServerSession *, const ServerRequest *);
/* server-call-handlers.c */
void server_handle_call_invite     (Server *, ServerSession *, const ServerRequest *);
void server_handle_call_answer     (Server *, ServerSession *, const ServerRequest *);
void server_handle_call_reject     (Server *, ServerSession *, const ServerRequest *);
void server_handle_call_hangup     (Server *, ServerSession *, const ServerRequest *);
/* server-call-relay.c */
void server_handle_call_signal     (Server *, ServerSession *, const ServerRequest *);
void server_handle_call_data       (Server *, ServerSession *, const ServerRequest *);
/* server-call-servers.c */
void server_handle_call_servers    (Server *, ServerSession *, const ServerRequest *);
/* server-plugins.c */
void server_handle_plugin_send     (Server *, ServerSession *, const ServerRequest *);

/* Replies with the status and message of a VOIP_ERROR (validation failure). */
void server_reply_gerror (ServerSession *session, const ServerRequest *request, GError *error);

G_END_DECLS
