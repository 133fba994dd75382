/* voipd-session.h — the session with the server: connect, log in, resume, reconnect.
 *
 * VoipdSession owns the connection to the server and its lifecycle: a Login
 * or Register as a candidate attempt on a connection of its own, the resume
 * with the stored token, the backoff between reconnections, the failover
 * along the server's list of nodes, and the logout. It knows nothing of the
 * bus objects: the account (voipd-account.c) listens to its signals and
 * shows it on the Account interface.
 *
 * Signals:
 *   "event" (guint code, GVariant *payload)
 *       a server event on the session's connection (not SessionClosed,
 *       which the session handles itself).
 *   "state-changed" ()
 *       the session said where it is: after each change of state, but also
 *       when only the reason (or the link, after a new connection) changed.
 *       The "state" property's notify comes with a change of state only.
 *   "ended" ()
 *       a logged-in session gives way to a new login (its calls end).
 *   "switching" (const char *server, const char *username)
 *       the session changes account (or to none, both NULL); emitted before
 *       the session's own server and username change, so that the listener
 *       can tell whether there was one.
 *   "logged-in" (GDBusMethodInvocation *login, gboolean fresh)
 *       the server accepted an attempt, state authenticating: the listener
 *       resyncs, then calls voipd_session_set_online() and answers `login`
 *       (NULL for a resume; its reference is the listener's to drop).
 *       `fresh` is TRUE for a Login or Register (not a resume).
 */
#pragma once

#include <gio/gio.h>

#include "voipd-connection.h"
#include "voipd-state-reason.h"

G_BEGIN_DECLS

#define VOIPD_TYPE_SESSION (voipd_session_get_type ())
G_DECLARE_FINAL_TYPE (VoipdSession, voipd_session, VOIPD, SESSION, GObject)

/* `settings` gives the keepalive, the reconnection delays, TLS and its pins. */
VoipdSession      *voipd_session_new (GSettings *settings);

VoipdSessionState  voipd_session_get_state        (VoipdSession *self);
VoipdStateReason   voipd_session_get_state_reason_code (VoipdSession *self);
/* The reason in words, translated. */
const char        *voipd_session_get_state_reason (VoipdSession *self);
/* The session's connection (closed while there is none). */
VoipdConnection   *voipd_session_get_connection   (VoipdSession *self);
const char        *voipd_session_get_server       (VoipdSession *self);
const char        *voipd_session_get_username     (VoipdSession *self);
/* TRUE while the token is in a keyring (the "remember-login" property). */
gboolean           voipd_session_get_remember_login (VoipdSession *self);
/* TRUE when logged in on a live connection. Otherwise sets VOIPD_ERROR
 * Disconnected (or NotLoggedIn) and returns FALSE. */
gboolean           voipd_session_check_online     (VoipdSession *self, GError **error);

/* Resumes the stored login of `username` at `server` with its token from the
 * keyring (NULL, NULL: there is none; the state says so). */
void               voipd_session_start  (VoipdSession *self, const char *server,
                                         const char *username);

typedef enum { VOIPD_LOGIN_LOGIN, VOIPD_LOGIN_REGISTER } VoipdLoginKind;
/* A Login or Register as a candidate: the current session stays as it was
 * until the server accepts it. Answers `invocation` on failure (or when a
 * newer one cancels it); on success hands it to "logged-in". */
void               voipd_session_login  (VoipdSession *self, GDBusMethodInvocation *invocation,
                                         VoipdLoginKind kind, const char *server,
                                         const char *username, const char *password,
                                         const char *email);
/* The listener of "logged-in" finished its resync: the state turns online. */
void               voipd_session_set_online (VoipdSession *self);
/* Ends the session here and forgets its token (logout, deleted account). */
void               voipd_session_forget (VoipdSession *self, VoipdStateReason code);
/* Forgets the account itself too (after DeleteAccount): emits "switching". */
void               voipd_session_clear  (VoipdSession *self);

/* Returns the error to the caller; transport errors become Disconnected. */
void               voipd_session_return_error (GDBusMethodInvocation *invocation,
                                               GError *error);

G_END_DECLS
