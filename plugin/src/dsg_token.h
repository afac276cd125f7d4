/*
 * dsg_token.h: the per-profile OAuth token cache (ABI.md 9.7, DOCUSIGN.md
 * 2.2, A14, A17, A18).
 *
 * The tokens of a profile live in ONE secret, "oauth_tokens", a small JSON
 * document: {"access_token", "refresh_token", "expires_at", "obtained_at",
 * "scope"} while connected, or {"state": "needs_consent", "reason"} once
 * DocuSign refused the refresh token. The cache reads it on first use and
 * keeps it in memory; a refresh is single-flight per profile (every caller
 * that asks meanwhile waits for that one refresh), and a rotated refresh
 * token is persisted, with its callback awaited, before the new access
 * token is handed to anyone.
 */
#ifndef DSG_TOKEN_H
#define DSG_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "sam/sam_plugin.h"

#include "dsg_ctx.h"

/* The secret holding a profile's tokens (also in the form schema's x-sam-ui
 * token_secrets, so the host drops it when a credential changes). */
#define DSG_TOKEN_SECRET "oauth_tokens"

/* Refresh when the access token expires within this many seconds. */
#define DSG_TOKEN_MARGIN_S 300

/* The message of every job of a profile that needs a new consent. */
#define DSG_NEEDS_CONSENT_MSG                                                  \
  "re-authorisation needed: run Get OAuth Token again"

typedef struct dsg_profile dsg_profile;
typedef struct dsg_token_waiter dsg_token_waiter;

/* Who asks for a token: borrowed for the call only. */
typedef struct dsg_token_args {
  const char *profile_id;
  const char *client_id;
  const char *instance; /* the Instance URL without a trailing slash */
} dsg_token_args;

/*
 * The answer: status SAM_OK with the access token (borrowed for the call)
 * and its generation, or a failure with a message (SAM_EAUTH and
 * DSG_NEEDS_CONSENT_MSG when the profile needs consent).
 */
typedef void (*dsg_token_cb)(
    int status, const char *token, uint64_t gen, const char *msg, void *ud);

/* A queued request, embedded in the caller's state. */
struct dsg_token_waiter {
  dsg_token_waiter *next;
  dsg_token_waiter *prev;
  dsg_profile *p;
  dsg_token_cb cb;
  void *ud;
  uint64_t stale_gen; /* force: refresh unless the token is newer than this */
  uint64_t seq;       /* refreshes completed when it queued */
  int force;
  int queued; /* cb not run yet and not cancelled */
  /* While a failure is being delivered to the whole queue: the list it
   * waits on (so dsg_token_cancel can still take it out), else NULL. */
  dsg_token_waiter **failing;
};

/*
 * Asks for a valid access token of a profile. Loads the secret on first
 * use; refreshes (single-flight) when the token expires within
 * DSG_TOKEN_MARGIN_S, or when `force` is set and the cached token's
 * generation is still `stale_gen` (the token that got a 401, A18). A
 * refresh completed after the waiter queued is never repeated for it.
 *
 * Thread:    loop thread.
 * Ownership: a is borrowed; w is the caller's and must stay alive until cb
 *            runs or dsg_token_cancel(w).
 * Callbacks: cb runs exactly once, possibly before this returns (a cached
 *            token), unless cancelled first.
 * Returns:   0, or SAM_ENOMEM / SAM_EBUSY (stopping); cb never runs then.
 */
int dsg_token_get(dsg_ctx *ctx,
                  const dsg_token_args *a,
                  int force,
                  uint64_t stale_gen,
                  dsg_token_waiter *w,
                  dsg_token_cb cb,
                  void *ud);

/* Removes a waiter whose cb has not run; cb will never run. NULL-safe.
 * Thread: loop thread. */
void dsg_token_cancel(dsg_token_waiter *w);

/* Completion of dsg_token_install. */
typedef void (*dsg_token_done_cb)(int status, void *ud);

/*
 * Installs the tokens of a successful code exchange: persists them as the
 * "oauth_tokens" secret through `put` (the caller's tracked secret_put,
 * given the JSON text), and once the host confirmed it, replaces the cache
 * (clearing "needs consent"). The caller then runs done(status).
 *
 * Thread:    loop thread. Ownership: every string is borrowed and copied.
 * Returns:   0 with *json_out (malloc'd, wiped and freed by
 *            dsg_token_install_commit or _abort) to hand to secret_put.
 */
int dsg_token_install_prepare(const char *access_token,
                              const char *refresh_token,
                              int64_t expires_in,
                              const char *scope,
                              char **json_out);
/* After the secret_put callback succeeded: the cache takes the tokens. */
int dsg_token_install_commit(dsg_ctx *ctx, const dsg_token_args *a, char *json);
/* Wipes and frees a prepared document. NULL-safe. */
void dsg_token_free_json(char *json);

/* The cached REST base URI of a profile (from userinfo), or NULL. */
const char *dsg_token_base_uri(dsg_ctx *ctx, const char *profile_id);
/* Caches a profile's REST base URI (copied). Thread: loop thread. */
void dsg_token_set_base_uri(dsg_ctx *ctx,
                            const char *profile_id,
                            const char *base_uri);

/* Frees every profile's state (at ctx_free; nothing may be in flight). */
void dsg_token_free_all(dsg_ctx *ctx);

#endif /* DSG_TOKEN_H */
