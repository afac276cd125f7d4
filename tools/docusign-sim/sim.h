/*
 * sim.h: the DocuSign simulator's shared types and the functions its files
 * call on each other. Everything runs on the one libuv loop thread.
 *
 * Files: sim_main.c (CLI), sim_server.c (h2o listeners, replies, faults on
 * the wire), sim_route.c (dispatch), sim_oauth.c, sim_users.c,
 * sim_account.c (account, billing, profiles, groups), sim_envelopes.c,
 * sim_limits.c, sim_control.c (/_sim/ API and stats), sim_store.c (the
 * compact user store), sim_gen.c (seeded accounts), sim_load.c (account
 * files), sim_json.c (JSON writer, times).
 */
#ifndef SIM_H
#define SIM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <h2o.h>
#include <json-c/json.h>

/* ---- JSON writer (sim_json.c) ---- */

typedef struct sim_buf {
  char *p;
  size_t len;
  size_t cap;
  int depth;
  int after_key;
  uint64_t comma; /* bit d set: the container at depth d needs a comma */
} sim_buf;

void sim_buf_free(sim_buf *b);
void sim_buf_raw(sim_buf *b, const char *s, size_t n);
void sim_buf_cstr(sim_buf *b, const char *s);
void sim_buf_printf(sim_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sim_buf_jstr(sim_buf *b, const char *s);
#define SIM_LIT(b, s) sim_buf_raw((b), (s), sizeof(s) - 1)
void sim_json_obj(sim_buf *b);
void sim_json_obj_end(sim_buf *b);
void sim_json_arr(sim_buf *b);
void sim_json_arr_end(sim_buf *b);
void sim_json_key(sim_buf *b, const char *k);
void sim_json_str(sim_buf *b, const char *s);
void sim_json_null(sim_buf *b);
void sim_json_rawval(sim_buf *b, const char *s);
void sim_json_kstr(sim_buf *b, const char *k, const char *v);
void sim_json_kint(sim_buf *b, const char *k, long long v);
void sim_json_kdouble(sim_buf *b, const char *k, double v);
void sim_json_kstrint(sim_buf *b, const char *k, long long v);

/* ---- times: int64 ticks of 100 ns since the Unix epoch ---- */

#define SIM_T_NONE INT64_MIN              /* missing */
#define SIM_T_PLACEHOLDER (INT64_MIN + 1) /* 0001-01-01T08:00:00.0000000Z */
#define SIM_TICKS 10000000LL              /* ticks per second */

/* 0: 7 fractional digits and Z (DocuSign); 1: 3 digits and Z; 2: no
 * fraction and +00:00. A quirk for client tolerance tests (A7). */
extern int sim_date_style;
/* 1: isAdmin is written "true"/"false" (a quirk, A8); sim_users.c. */
extern int sim_isadmin_lower;

int64_t sim_time_now(void);
void sim_time_fmt(int64_t t, char out[40]);
int sim_time_parse(const char *s, int64_t *out);

/* ---- account data ---- */

enum {
  SIM_ST_ACTIVE,
  SIM_ST_ACTIVATION_SENT,
  SIM_ST_ACTIVATION_REQUIRED,
  SIM_ST_DISABLED,
  SIM_ST_CLOSED,
  SIM_ST_COUNT
};
extern const char *const sim_status_names[SIM_ST_COUNT];
int sim_status_from_name(const char *s, size_t n);

#define SIM_UF_ADMIN 1u
#define SIM_NO_PROFILE 0xff
#define SIM_MAX_PROFILES 64
#define SIM_MAX_LICENSES 32
#define SIM_MAX_GROUPS 16

typedef struct sim_user {
  uint8_t id[16];
  uint32_t user_name; /* offsets into the string arena; 0 = absent */
  uint32_t first;
  uint32_t last;
  uint32_t email;
  int64_t created;
  int64_t added;
  uint32_t env_first;
  uint16_t env_count;
  uint16_t groups; /* bit i: member of account group i */
  uint8_t status;
  uint8_t profile; /* index into profiles, or SIM_NO_PROFILE */
  uint8_t license; /* 0 = none, else index + 1 into licenses */
  uint8_t flags;
} sim_user;

typedef struct sim_env {
  uint8_t id[16];
  int64_t created;
  int64_t sent;
  int64_t changed;
  int64_t completed;
  uint32_t sender; /* user index while loading only */
  uint8_t status;
} sim_env;

#define SIM_ENV_NSTATUS 6
extern const char *const sim_env_status_names[SIM_ENV_NSTATUS];

typedef struct sim_profile {
  char id[24];
  char name[64];
} sim_profile;

typedef struct sim_license {
  char type[48];
  char status[32];
} sim_license;

typedef struct sim_group {
  char id[40];
  char name[64];
  char type[24];
  uint8_t profile;
} sim_group;

typedef struct sim_account {
  char guid[40];
  char external_id[24];
  char name[128];
  json_object *info;    /* accountInformation base (owned) */
  json_object *plan;    /* accountBillingPlan (owned) */
  json_object *charges; /* billingCharge array from a file, or NULL */
  sim_profile profiles[SIM_MAX_PROFILES];
  int nprofiles;
  sim_license licenses[SIM_MAX_LICENSES];
  int nlicenses;
  sim_group groups[SIM_MAX_GROUPS];
  int ngroups;
  sim_user *users;
  size_t nusers;
  size_t capusers;
  char *arena;
  size_t arena_len;
  size_t arena_cap;
  uint32_t *index; /* open addressing on user id; value = idx + 1 */
  size_t index_cap;
  sim_env *envs;
  size_t nenvs;
  uint8_t integ_id[16]; /* the consenting user's id */
  char integ_name[128];
  char integ_email[128];
  uint64_t next_rand; /* deterministic ids for users added later */
} sim_account;

const char *sim_str(const sim_account *a, uint32_t off);
int sim_arena_add(sim_account *a, const char *s, size_t n, uint32_t *off);
int sim_user_append(sim_account *a, const sim_user *u);
int sim_index_rebuild(sim_account *a);
long sim_user_find(const sim_account *a, const uint8_t id[16]);
void sim_guid_fmt(const uint8_t id[16], char out[37]);
int sim_guid_parse(const char *s, uint8_t id[16]);
int sim_profile_find(sim_account *a, const char *name, int add);
int sim_license_find(sim_account *a, const char *type, const char *status);
void sim_user_remove(sim_account *a, size_t idx);
size_t sim_seats_in_use(const sim_account *a);
void sim_account_free(sim_account *a);
uint64_t sim_rand_next(uint64_t *state);
int sim_user_generate(sim_account *a, uint64_t *rng, int64_t now, int status);

/* sim_gen.c: N users from a seed. */
int sim_gen_account(sim_account *a, size_t nusers, uint64_t seed);
/* sim_load.c: an ARCHITECTURE.md account file. */
int sim_load_account(sim_account *a, const char *path, char *err, size_t n);
void sim_account_finish(sim_account *a, int64_t now);

/* ---- configuration and state ---- */

#define SIM_MAX_REDIRECTS 16

typedef struct sim_faults {
  double latency_ms;
  double jitter_ms;
  double rate[6]; /* 500, 502, 503, reset, truncate, malformed */
  double rate_slow;
  int next_status[4]; /* 500, 502, 503, 429 */
  int next_reset;
  int next_truncate;
  int next_malformed;
  int next_slow;
  int slow_chunk_ms;
  int slow_chunk_bytes;
  int scope; /* 0 rest, 1 oauth, 2 all, 3 write (REST, not GET) */
} sim_faults;

typedef struct sim_sched {
  long after_lists; /* fires when the users-list count reaches this */
  int add;          /* users to add */
  int remove;       /* users to remove (the last ones in list order) */
  int active;
} sim_sched;

typedef struct sim_limits {
  int enabled;
  long hourly;
  long hourly_window_s;
  long burst;
  long burst_window_s;
  int swap_status;
  int retry_after;
  int64_t hour_phase; /* the hourly window starts at phase + k * window */
  int64_t hour_start;
  long hour_used;
  int64_t burst_phase; /* the burst window starts at phase + k * window */
  int64_t burst_start;
  long burst_used;
} sim_limits;

/* Variants the client must tolerate (DOCUSIGN.md 10, right column); all
 * off by default, set with POST /_sim/quirks. */
typedef struct sim_quirks {
  int users_empty_array;    /* past the end: "users":[] instead of no key */
  int omit_null_uris;       /* no nextUri/previousUri keys instead of null */
  int isadmin_lower;        /* isAdmin "true"/"false" (A8) */
  int token_scope;          /* token replies carry "scope" (A15) */
  char auth_error_code[64]; /* 401 errorCode instead of A18's */
} sim_quirks;

typedef struct sim_stat {
  char key[64];
  int status;
  long count;
} sim_stat;

typedef struct sim_token sim_token;
typedef struct sim_code sim_code;
typedef struct sim_txn sim_txn;

typedef struct sim_ctx {
  uv_loop_t *loop;
  sim_account acct;
  /* config */
  const char *client_id;
  const char *client_secret;
  const char *redirects[SIM_MAX_REDIRECTS];
  int nredirects;
  int auto_consent;
  int integ_admin; /* 0 makes the consenting user non-admin at start */
  int reseller;
  long access_ttl;
  long refresh_ttl;
  long code_ttl;
  char http_base[64];
  char https_base[64];
  uint64_t fault_rng;
  sim_faults faults;
  sim_sched sched;
  sim_limits limits;
  sim_quirks quirks;
  /* oauth state */
  sim_token *tokens;
  sim_code *codes;
  sim_txn *txns;
  /* stats */
  sim_stat *stats;
  size_t nstats;
  size_t capstats;
  long inflight;
  long peak_inflight;
  long userinfo_calls;
  long users_list_calls;
  long total_requests;
  sim_buf page; /* reused for users pages */
} sim_ctx;

/* ---- one request (sim_server.c) ---- */

typedef struct sim_req {
  sim_ctx *ctx;
  h2o_req_t *req;
  const char *path; /* path without the query, NUL-terminated copy */
  size_t path_len;
  const char *query; /* after '?', NUL-terminated copy, or "" */
  const char *method;
  int is_rest;
  int is_oauth;
  char stat_key[64];
  int rate_headers;
} sim_req;

/*
 * Sends `body` (copied) with `status` and the content type, applying the
 * configured faults for the request's scope. Loop thread; exactly once per
 * request. Returns 0.
 */
int sim_reply(
    sim_req *r, int status, const char *ctype, const char *body, size_t len);
int sim_reply_json(sim_req *r, int status, sim_buf *b);
int sim_reply_error(sim_req *r, int status, const char *code, const char *msg);
void sim_add_header(sim_req *r, const char *name, const char *value);
const char *sim_header(sim_req *r, const h2o_token_t *tok, size_t *len);
/* Query/form values: decoded copy into `out`; 1 if found, else 0. */
int sim_param(const char *qs, const char *name, char *out, size_t n);
int sim_param_bool(const char *qs, const char *name);
int sim_url_decode(const char *s, size_t n, char *out, size_t cap);

/* sim_route.c */
int sim_route(sim_req *r);

/* sim_oauth.c */
int sim_oauth_handle(sim_req *r);
/* 0 and the token's kind, or -1 when the Bearer token is unknown/expired. */
int sim_oauth_check_bearer(sim_ctx *c, const char *hdr, size_t len);
void sim_oauth_expire_all(sim_ctx *c, int refresh_too);
void sim_oauth_free(sim_ctx *c);
void sim_b64url(const unsigned char *in, size_t n, char *out);

/* sim_users.c */
int sim_users_handle(sim_req *r, const char *rest, int v2);
int sim_user_json(sim_buf *b,
                  const sim_account *a,
                  const sim_user *u,
                  int additional,
                  int license);
const sim_user *sim_integ_user(const sim_ctx *c);

/* sim_account.c */
int sim_account_handle(sim_req *r, const char *rest);
int sim_envelopes_handle(sim_req *r);

/* sim_limits.c: 0 = allowed (counted), else the reply was sent. */
int sim_limits_check(sim_req *r);
void sim_limits_headers(sim_req *r);
void sim_limits_reset(sim_limits *l);
void sim_limits_hourly_resets_in(sim_limits *l, int64_t seconds);
void sim_limits_burst_resets_in(sim_limits *l, int64_t seconds);

/* sim_control.c */
int sim_control_handle(sim_req *r);
void sim_stat_count(sim_ctx *c, const char *key, int status);
void sim_sched_after_list(sim_ctx *c);
void sim_faults_clear(sim_faults *f);
int sim_faults_apply_json(sim_faults *f,
                          json_object *o,
                          char *err,
                          size_t err_len);
int sim_users_add_random(
    sim_ctx *c, int n, int status, const char *profile, sim_buf *ids);
void sim_users_remove_last(sim_ctx *c, int n);

/* sim_server.c: listeners and lifecycle. */
typedef struct sim_server sim_server;
int sim_server_start(sim_ctx *c,
                     int port,
                     int tls_port,
                     const char *cert,
                     const char *key,
                     sim_server **out);
void sim_server_stop(sim_server *s);
void sim_server_free(sim_server *s);

#endif /* SIM_H */
