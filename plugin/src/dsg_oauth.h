/*
 * dsg_oauth.h: the OAuth actions (ABI.md 9.4, DOCUSIGN.md 2): Get OAuth
 * Token (the authorization URL with PKCE) and the callback (code exchange,
 * tokens stored, the account found through userinfo); and Validate
 * Connection (dsg_validate.c).
 */
#ifndef DSG_OAUTH_H
#define DSG_OAUTH_H

#include <stddef.h>

#include "sam/sam_plugin.h"

/* The secret holding {state, verifier} between the two OAuth actions. */
#define DSG_PENDING_SECRET "oauth_pending"

/*
 * get_oauth_token (SAM_ACTION_UI | SAM_ACTION_OAUTH_START): stores the
 * host's state and a fresh PKCE verifier as the secret "oauth_pending",
 * waits for the host, then completes with {"redirect_url": ...}.
 *
 * Thread: loop thread. Ownership: in is borrowed (C7); ud is the dsg_ctx.
 * Returns: SAM_OK (the job completes exactly once, maybe inside this
 * call), or SAM_EBUSY once the plugin is stopping.
 */
int dsg_oauth_start(sam_job *job, const sam_job_input *in, void *ud);

/*
 * oauth_callback (SAM_ACTION_OAUTH_CALLBACK): compares the state with the
 * pending one in constant time, exchanges the code (Basic client
 * authentication, code_verifier, no redirect_uri), stores the tokens and
 * waits for the host, deletes "oauth_pending", then finds the profile's
 * account through userinfo and completes with a profile_patch
 * {account_name, base_uri, connection_status}. Any failure stores nothing.
 *
 * Thread, ownership, returns: as dsg_oauth_start.
 */
int dsg_oauth_callback(sam_job *job, const sam_job_input *in, void *ud);

/*
 * validate_connection (SAM_ACTION_UI, dsg_validate.c): userinfo, the
 * account, its base_uri, a users list with count=1; completes with a
 * profile_patch {base_uri, account_name, connection_status: "validated"}
 * or a message naming the cause.
 *
 * Thread, ownership, returns: as dsg_oauth_start.
 */
int dsg_validate_start(sam_job *job, const sam_job_input *in, void *ud);

/*
 * Encodes n bytes as base64url without padding into out (at least
 * 4 * ((n + 2) / 3) + 1 bytes). Pure. Returns the length written.
 */
size_t dsg_b64url(const unsigned char *in, size_t n, char *out);

#endif /* DSG_OAUTH_H */
