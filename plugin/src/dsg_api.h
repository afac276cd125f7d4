/*
 * dsg_api.h: DocuSign calls with the profile's token (401: one refresh and
 * one retry, A18) and the reading of DocuSign's answers: REST errorDetails
 * {errorCode, message}, OAuth {error, error_description}, rate limits
 * (status 429 or the *_APIINVOCATION_LIMIT_EXCEEDED codes, A20) and
 * transport failures, each turned into a SAM_E* and a message that names
 * the cause.
 */
#ifndef DSG_API_H
#define DSG_API_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "dsg_ctx.h"
#include "dsg_http.h"
#include "dsg_token.h"

typedef struct dsg_api_call dsg_api_call;

/*
 * The outcome of a call: SAM_OK with a 2xx response, or a failure with a
 * message (resp is NULL when no request was sent, e.g. no token). resp and
 * msg are borrowed for the callback; retry_after_s is set (else -1) for a
 * rate limit.
 */
typedef void (*dsg_api_cb)(int status,
                           const dsg_http_resp *resp,
                           const char *msg,
                           int64_t retry_after_s,
                           void *ud);

/*
 * GETs `url` with the profile's access token. A 401 gets exactly one
 * forced refresh and one retry; a second 401 is an authorization failure.
 *
 * Thread:    loop thread.
 * Ownership: ta and url are copied. *out (may be NULL) is valid until cb
 *            runs or dsg_api_cancel.
 * Callbacks: cb runs exactly once unless dsg_api_cancel ran first. It
 *            runs inside this call when no token can be had at once (no
 *            token stored, needs consent): the call is then over, and *out
 *            must not be used.
 * Returns:   0, SAM_ENOMEM, or SAM_EBUSY once the plugin is stopping.
 */
int dsg_api_get(dsg_ctx *ctx,
                const dsg_token_args *ta,
                const char *url,
                dsg_api_cb cb,
                void *ud,
                dsg_api_call **out);

/*
 * (addition, issue 7) Like dsg_api_get with another method ("PUT",
 * "DELETE", "POST"; NULL is GET) and an optional JSON body sent with
 * Content-Type application/json. The same 401 rule applies: one refresh
 * and one resend of the same body. Callers that must never send a write
 * twice keep their own intent record (dsg_reclaim.c).
 *
 * Thread, ownership, callbacks and returns: as dsg_api_get (method and
 * body are copied).
 */
int dsg_api_send(dsg_ctx *ctx,
                 const dsg_token_args *ta,
                 const char *method,
                 const char *url,
                 const char *body,
                 dsg_api_cb cb,
                 void *ud,
                 dsg_api_call **out);

/* Stops a call: cb will never run; the call frees itself. NULL-safe.
 * Thread: loop thread. */
void dsg_api_cancel(dsg_api_call *c);

/*
 * Describes a response that is not a success, or a transport failure, of
 * the request `what` (e.g. "userinfo"): writes the message into msg and
 * returns the SAM_E* status. Rate limits give SAM_EAGAIN with the reset
 * time in the message and *retry_after_s (>= 1); USER_LACKS_PERMISSIONS
 * says the consenting user is not an administrator; a transport failure
 * quotes curl's text. Pure.
 */
int dsg_api_describe(const dsg_http_resp *resp,
                     const char *what,
                     char *msg,
                     size_t len,
                     int64_t *retry_after_s);

/*
 * Reads an OAuth error reply {error, error_description} of the token
 * endpoint into err/desc (each may come back ""). Pure.
 */
void dsg_api_oauth_error(const dsg_http_resp *resp,
                         char *err,
                         size_t err_len,
                         char *desc,
                         size_t desc_len);

/* 1 when a reply is a rate limit (A20): 429, or either limit errorCode. */
int dsg_api_is_rate_limited(long http_status, const char *error_code);

/*
 * Finds the userinfo account whose account_id equals `account_id`
 * (case-insensitively) in the userinfo body. Returns the account object
 * (borrowed from root) or NULL, then filling `found` with the ids that
 * are there, comma-separated. Pure.
 */
json_object *dsg_api_find_account(json_object *root,
                                  const char *account_id,
                                  char *found,
                                  size_t found_len);

#endif /* DSG_API_H */
