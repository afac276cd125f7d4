/*
 * sim_child.h: runs tools/docusign-sim as a child process for a test and
 * talks to it with blocking libcurl easy calls (a test's client, never a
 * product loop). Reusable by any integration test that needs DocuSign.
 */
#ifndef SIM_CHILD_H
#define SIM_CHILD_H

#include <stddef.h>
#include <sys/types.h>

#include <json-c/json.h>

typedef struct sim_child {
  pid_t pid;
  char http[64];       /* http://127.0.0.1:PORT */
  char https[64];      /* https://127.0.0.1:PORT or "" */
  char account_id[64]; /* account GUID */
  char external_id[32];
  char integ[64]; /* the consenting user's id (= userinfo sub) */
  char rest[192]; /* {base}/restapi/v2.1/accounts/{account GUID} */
  double load_ms;
  long rss_kb;
  long users;
} sim_child;

typedef struct sim_resp {
  long status;
  int curl_rc; /* CURLcode */
  char *body;  /* NUL-terminated, malloc'ed */
  size_t len;
  char *headers; /* raw header block, malloc'ed */
} sim_resp;

/*
 * Starts `exe` (or $SAM_SIM_EXE when set) with `args` (NULL-terminated,
 * may be NULL) plus --port 0,
 * reads its JSON line and fills `c`. Returns 0 or -1 (message on stderr).
 */
int sim_child_start(sim_child *c, const char *exe, const char *const *args);

/*
 * Sends SIGTERM and waits. Returns the child's exit status (0 = clean
 * shutdown with an empty loop), or -1.
 */
int sim_child_stop(sim_child *c);

/*
 * One blocking request. `auth` is a whole header value (e.g. "Bearer x")
 * or NULL; `body` is sent with `ctype` when not NULL. `cainfo` (or NULL)
 * trusts a test CA for https. Fills `out` (free with sim_resp_free).
 * Returns the CURLcode.
 */
int sim_http(const char *method,
             const char *url,
             const char *auth,
             const char *body,
             const char *ctype,
             const char *cainfo,
             sim_resp *out);
void sim_resp_free(sim_resp *r);

/* A response header's value (case-insensitive name) into `out`; 1 or 0. */
int sim_resp_header(const sim_resp *r, const char *name, char *out, size_t n);

/* The body parsed as JSON (caller puts), or NULL. */
json_object *sim_resp_json(const sim_resp *r);

/* A string member of `o`, or NULL. */
const char *sim_jstr(json_object *o, const char *k);

/*
 * Runs the auto-consent flow with PKCE S256 against `base` (the sim must
 * run with --auto-consent and register `redirect`) and writes the tokens.
 * Returns 0 or -1.
 */
int sim_child_login(const char *base,
                    const char *client_id,
                    const char *secret,
                    const char *redirect,
                    const char *cainfo,
                    char *access,
                    size_t an,
                    char *refresh,
                    size_t rn);

/* POST a JSON body to {http}/_sim/{path}; returns the HTTP status. */
long sim_control(const sim_child *c, const char *path, const char *json);

#endif /* SIM_CHILD_H */
