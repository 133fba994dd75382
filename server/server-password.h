/* server-password.h — argon2id hashing and checking, off the main loop. */
#pragma once

#include <gio/gio.h>
#include "server-config.h"

G_BEGIN_DECLS

typedef struct _ServerPassword ServerPassword;

typedef void (*ServerHashDone)   (char *hash /* owned; NULL on failure */, gpointer user_data);
typedef void (*ServerVerifyDone) (gboolean matches, gpointer user_data);

ServerPassword *server_password_new  (ServerHashCost cost, guint threads, GError **error);
void            server_password_free (ServerPassword *self);

void server_password_hash   (ServerPassword *self, const char *password,
                             ServerHashDone done, gpointer user_data);
/* hash NULL (unknown user): checks against a dummy hash of the same cost, so
 * the answer takes as long as for a real account, and says no. */
void server_password_verify (ServerPassword *self, const char *password, const char *hash,
                             ServerVerifyDone done, gpointer user_data);

/* New session tokens: 32 random bytes as 64 hex digits; stored as SHA-256 hex. */
char *server_token_new  (void);
char *server_token_hash (const char *token);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ServerPassword, server_password_free)

G_END_DECLS
