/* clang-format off */
/*
 * sam_plugin.h: the SAM plugin ABI, version 1.
 *
 * This is the only header a plugin includes. It depends on <stddef.h> and
 * <stdint.h> only. The design and its reasons are in ABI.md; this header is
 * the authority on names, field order and contracts.
 *
 * ---- Memory ownership (ABI.md section 12) ----
 *
 *  What                         Provided by  Valid until          Rule
 *  sam_plugin_info + strings    plugin       process end          host copies at load
 *  sam_host_api table           host         process end          read-only
 *  sam_init_args + strings      host         init returns         borrowed
 *  err buffer (err_len bytes)   host         init returns         NUL-terminated
 *  *ops_out                     plugin       host copies it       static or in ctx
 *  descriptors + their strings  plugin       register_* returns   host deep-copies
 *  ud with non-NULL ud_free     plugin->host host calls ud_free   host owns it after
 *                                                                 the call, success
 *                                                                 or failure
 *  ud with NULL ud_free         plugin       shutdown_done        plugin keeps it
 *  sam_job *                    host         job_complete returns see C2
 *  sam_job_input + strings      host         start returns        borrowed (C7)
 *  job_set_data data            plugin->host after completion     host calls free_fn
 *  progress/complete strings    plugin       the call returns     host copies+redacts
 *  store inputs                 plugin       the call returns     host copies
 *  sam_op *                     host         cb returns           for op_cancel only
 *  sam_store_result + records   host         cb returns           borrowed
 *  secret_put value             plugin       the call returns     host copies, seals
 *  secret_get value             host         cb returns           host wipes it after
 *  log_write text               plugin       the call returns     host copies+redacts
 *  post ud                      plugin       fn(ud) runs          host never frees it
 *  mem_alloc buffers            host         mem_free             never mix w/ free()
 *  uv handles of the plugin     plugin       their close cbs      closed before
 *                                                                 shutdown_done
 *  sam_done *                   host         shutdown_done        used once
 */
/* clang-format on */
#ifndef SAM_PLUGIN_H
#define SAM_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SAM_ABI_MAJOR 1 /* breaking changes only; the symbol suffix follows */
#define SAM_ABI_MINOR 0 /* append-only additions */

struct uv_loop_s; /* the host's loop; the loader checks the libuv major */

typedef struct sam_host sam_host; /* one per loaded plugin */
typedef struct sam_job sam_job;   /* one process run or action */
typedef struct sam_op sam_op;     /* one store or secret op */
typedef struct sam_profile_type sam_profile_type; /* returned by registration */
typedef struct sam_done sam_done; /* shutdown completion token */

/* ======================================================================== */
/* ---- status codes ---- */

/*
 * Every function that can fail returns 0 or one of these negative codes.
 * Values never change and are never reused; new codes are appended.
 */
#define SAM_STATUS_MAP(XX)                                                     \
  XX(OK, 0, "success")                                                         \
  XX(EINVAL, -1, "invalid argument")                                           \
  XX(ENOMEM, -2, "out of memory")                                              \
  XX(ENOTSUP, -3, "not supported by this host or plugin")                      \
  XX(EBUSY, -4, "not allowed in the current phase")                            \
  XX(ECANCELED, -5, "operation canceled")                                      \
  XX(ETIMEDOUT, -6, "operation timed out")                                     \
  XX(EAGAIN, -7, "temporarily unavailable, retry later")                       \
  XX(ENOENT, -8, "not found")                                                  \
  XX(EEXIST, -9, "already exists")                                             \
  XX(ECONFLICT, -10, "version conflict")                                       \
  XX(EIO, -11, "storage failure")                                              \
  XX(EAUTH, -12, "credentials rejected or consent required")                   \
  XX(EREMOTE, -13, "remote service returned an error")                         \
  XX(EPROTO, -14, "malformed remote response")                                 \
  XX(EVERSION, -15, "incompatible version")
/* append here; never renumber */

enum {
#define SAM__STATUS_ENUM(name, value, text) SAM_##name = (value),
  SAM_STATUS_MAP(SAM__STATUS_ENUM)
#undef SAM__STATUS_ENUM
};

/* Returns the constant's name ("SAM_EINVAL"), or "SAM_UNKNOWN". Static text. */
static inline const char *sam_err_name(int status) {
  switch (status) {
#define SAM__STATUS_NAME(name, value, text)                                    \
  case (value):                                                                \
    return "SAM_" #name;
    SAM_STATUS_MAP(SAM__STATUS_NAME)
#undef SAM__STATUS_NAME
  }
  return "SAM_UNKNOWN";
}

/* Returns a short English description, or "unknown status". Static text. */
static inline const char *sam_strerror(int status) {
  switch (status) {
#define SAM__STATUS_TEXT(name, value, text)                                    \
  case (value):                                                                \
    return text;
    SAM_STATUS_MAP(SAM__STATUS_TEXT)
#undef SAM__STATUS_TEXT
  }
  return "unknown status";
}

/* ======================================================================== */
/* ---- flags and levels ---- */

#define SAM_PROC_CANCELLABLE (1u << 0)
#define SAM_PROC_MUTATES_REMOTE (1u << 1) /* host asks for confirmation */
#define SAM_PROC_DRY_RUN (1u << 2)        /* accepts SAM_JOB_DRY_RUN */
#define SAM_PROC_ALL_FLAGS                                                     \
  (SAM_PROC_CANCELLABLE | SAM_PROC_MUTATES_REMOTE | SAM_PROC_DRY_RUN)

#define SAM_ACTION_UI (1u << 0)             /* a button on the profile form */
#define SAM_ACTION_OAUTH_START (1u << 1)    /* gets oauth_state; returns URL */
#define SAM_ACTION_OAUTH_CALLBACK (1u << 2) /* from /oauth_redirect.do */
#define SAM_ACTION_ALL_FLAGS                                                   \
  (SAM_ACTION_UI | SAM_ACTION_OAUTH_START | SAM_ACTION_OAUTH_CALLBACK)

#define SAM_JOB_PROCESS 1 /* sam_job_input.kind */
#define SAM_JOB_ACTION 2
#define SAM_JOB_DRY_RUN (1u << 0) /* sam_job_input.flags */

#define SAM_LOG_ERROR 0
#define SAM_LOG_WARN 1
#define SAM_LOG_INFO 2
#define SAM_LOG_DEBUG 3

#define SAM_IF_ANY 0          /* unconditional write */
#define SAM_IF_NEW UINT64_MAX /* create only; SAM_EEXIST if present */

#define SAM_RECORD_VALIDATE_WRITES (1u << 0) /* validate every write */
#define SAM_RECORD_ALL_FLAGS (SAM_RECORD_VALIDATE_WRITES)

/* Largest batch store_put_batch accepts. */
#define SAM_STORE_BATCH_MAX 500

/* ======================================================================== */
/* ---- callback types ---- */

typedef struct sam_job_input sam_job_input;       /* below */
typedef struct sam_store_result sam_store_result; /* below */

typedef void (*sam_free_fn)(void *ud);
typedef void (*sam_post_fn)(void *ud);

/*
 * ---- The completion contract (ABI.md section 11) ----
 *
 * C1. `start` returns promptly. SAM_OK means the job is accepted and the
 *     plugin will call job_complete exactly once. A negative return rejects
 *     the job: the host completes it with that status and the plugin must not
 *     call job_complete. To fail at once with a message, call job_complete
 *     inside start, then return SAM_OK.
 * C2. Exactly once. After job_complete returns, the sam_job * is dead. A
 *     second completion returns SAM_EINVAL and is recorded as a violation. A
 *     job not completed within a grace period (30 s) after its deadline or
 *     its cancel is recorded SAM_ETIMEDOUT and the plugin marked degraded.
 * C3. Cancel is a request: `cancel` is called at most once, only between an
 *     accepted start and job_complete, and the job still completes (with
 *     SAM_ECANCELED or its real status). Processes without
 *     SAM_PROC_CANCELLABLE never receive cancel.
 * C4. No re-entrancy: the host never calls the plugin from inside a host
 *     function. Store, secret and post callbacks, start, cancel and shutdown
 *     arrive on a later loop turn. The plugin may call any host function from
 *     any plugin callback, job_complete inside start included.
 * C5. One thread: everything runs on the loop thread except post().
 * C6. No ordering between operations: callbacks of different store or secret
 *     operations may arrive in any order; progress may be coalesced.
 * C7. Borrowed means borrowed: the job input is valid only during start,
 *     store results and secret values only during their callback.
 */
typedef int (*sam_start_fn)(sam_job *job, const sam_job_input *in, void *ud);
typedef void (*sam_cancel_fn)(sam_job *job, void *ud);

/* Runs exactly once per queued store op, on the loop thread, never inside
 * the call that queued it. `res` is borrowed until the callback returns; it
 * is NULL when status is not SAM_OK, except for SAM_ECONFLICT, where it lists
 * the conflicting keys with their current versions. */
typedef void (*sam_store_cb)(int status, const sam_store_result *res, void *ud);

/* Runs exactly once per queued secret op. `value` is borrowed and wiped by the
 * host after the callback returns; NULL with len 0 for puts and errors. */
typedef void (*sam_secret_cb)(int status,
                              const char *value,
                              size_t len,
                              void *ud);

/* ======================================================================== */
/* ---- descriptors and data structs (ABI.md section 10) ---- */

/* Arguments of sam_plugin_init_v1. Borrowed during init. */
typedef struct sam_init_args {
  uint32_t struct_size;
  uint32_t reserved0;
  /* ---- v1.0 ---- */
  const char *host_name; /* "samhost" */
  const char *host_version;
  const char *config_json; /* plugin-wide settings; may be NULL */
  size_t config_len;
} sam_init_args;

/* What the plugin hands back from init. The host copies it when init
 * returns; it must not live on init's stack. */
typedef struct sam_plugin_ops {
  uint32_t struct_size;
  uint32_t reserved0;
  /* ---- v1.0 ---- */
  void *plugin_ud; /* passed back to every plugin-wide callback */
  /* Runs once, on the loop thread, when the host stops. The plugin completes
   * its open jobs, closes its handles, and calls api->shutdown_done(done) as
   * its last call into the host. Required. */
  void (*shutdown)(void *plugin_ud, sam_done *done);
  /* ---- v1.1: e.g. config_changed, health ---- */
} sam_plugin_ops;

/* The one profile type of a plugin. Strings are deep-copied. */
typedef struct sam_profile_type_desc {
  uint32_t struct_size;
  uint32_t form_schema_version; /* bump when the form changes shape */
  /* ---- v1.0 ---- */
  const char *type_id;          /* [a-z0-9_]{1,64}, "docusign_subscription" */
  const char *display_name;     /* "DocuSign Subscription" */
  const char *form_schema_json; /* JSON Schema text, form meta-schema subset */
  size_t form_schema_len;
} sam_profile_type_desc;

/* A plugin record type, "<plugin name>_<thing>". Strings are deep-copied. */
typedef struct sam_record_type_desc {
  uint32_t struct_size;
  uint32_t schema_version; /* stored with every record */
  /* ---- v1.0 ---- */
  const char *record_type; /* "docusign_user" */
  const char *schema_json;
  size_t schema_len;
  const char *key_pointer;  /* JSON Pointer to the key, e.g. "/user_id" */
  const char *indexes_json; /* JSON array of pointers to index; may be NULL */
  uint32_t flags;           /* SAM_RECORD_* */
  uint32_t reserved0;
} sam_record_type_desc;

/* A scheduled or run-now process ("download", "reclaim"). */
typedef struct sam_process_desc {
  uint32_t struct_size;
  uint32_t flags; /* SAM_PROC_* */
  /* ---- v1.0 ---- */
  uint64_t timeout_ms; /* host deadline; 0 = host default */
  const char *process_id;
  const char *display_name;
  const char *input_schema_json; /* may be NULL */
  size_t input_schema_len;
  sam_start_fn start;
  sam_cancel_fn cancel; /* required with SAM_PROC_CANCELLABLE */
  void *ud;
  sam_free_fn ud_free; /* host owns ud after the call; NULL: plugin keeps it */
} sam_process_desc;

/* A profile action: a short job an HTTP request waits for. */
typedef struct sam_action_desc {
  uint32_t struct_size;
  uint32_t flags; /* SAM_ACTION_* */
  /* ---- v1.0 ---- */
  uint64_t timeout_ms;   /* 0 = host default (30 s) */
  const char *action_id; /* "get_oauth_token", "validate_connection", ... */
  const char *display_name;
  sam_start_fn start;
  sam_cancel_fn cancel;
  void *ud;
  sam_free_fn ud_free;
} sam_action_desc;

/* One entry of the software model catalog. */
typedef struct sam_model_desc {
  uint32_t struct_size;
  uint32_t reserved0;
  /* ---- v1.0 ---- */
  const char *identifier; /* subscription identifier as download writes it */
  const char *model_json; /* schemas/software-model.schema.json */
  size_t model_len;
} sam_model_desc;

/* One reclamation rule template. */
typedef struct sam_rule_template_desc {
  uint32_t struct_size;
  uint32_t template_version; /* bump to offer admins an updated rule */
  /* ---- v1.0 ---- */
  const char *template_id; /* stable, e.g. "docusign_assigned_60d" */
  const char *rule_json;   /* schemas/reclamation-rule.schema.json */
  size_t rule_len;
} sam_rule_template_desc;

/* What a job's start callback receives. Borrowed during start only (C7).
 * `reserved_p0` exists so that the struct has no tail padding on ILP32
 * targets that align uint64_t to 8 (armv7); it is always NULL. */
struct sam_job_input {
  uint32_t struct_size;
  int32_t kind;   /* SAM_JOB_PROCESS or SAM_JOB_ACTION */
  uint32_t flags; /* SAM_JOB_DRY_RUN */
  uint32_t reserved0;
  /* ---- v1.0 ---- */
  uint64_t deadline_ms; /* loop time (uv_now) of the deadline; 0 = none */
  const char *job_id;
  const char *profile_id;
  const char *profile_json; /* non-secret profile fields only */
  size_t profile_len;
  const char *params_json; /* process or action input; may be NULL */
  size_t params_len;
  const char *redirect_uri; /* OAuth actions only */
  const char *oauth_state;  /* OAuth actions only */
  const char *oauth_code;   /* SAM_ACTION_OAUTH_CALLBACK only; a secret */
  const void *reserved_p0;
};

/* One record, in (put) or out (get, query). For put_batch the host steps
 * through the array by recs[0].struct_size. `reserved_p0` keeps the struct
 * free of tail padding on armv7; always NULL. */
typedef struct sam_record {
  uint32_t struct_size;
  uint32_t reserved0;
  /* ---- v1.0 ---- */
  uint64_t if_version; /* in: SAM_IF_ANY, SAM_IF_NEW or expected version */
  uint64_t version;    /* out: the version now stored */
  const char *key;
  const char *json;
  size_t json_len;
  const void *reserved_p0;
} sam_record;

/* A store callback's result, borrowed until the callback returns. */
struct sam_store_result {
  uint32_t struct_size;
  uint32_t reserved0;
  /* ---- v1.0 ---- */
  const sam_record *recs;
  size_t n;
  const char *next_cursor; /* store_query only; NULL on the last page */
};

/* ======================================================================== */
/* ---- the host API table (ABI.md section 9) ---- */

/*
 * The host passes one table to init. It lives in static storage in the host
 * for the life of the process. Everything runs on the loop thread except
 * post(). v1.0 functions may be called directly once init checked
 * struct_size >= SAM_HOST_API_V1_0_SIZE; later ones only behind SAM_HOST_HAS.
 */
typedef struct sam_host_api {
  uint32_t struct_size; /* sizeof(sam_host_api) in the host */
  uint32_t abi_major;
  uint32_t abi_minor;
  uint32_t reserved0;

  /* ---- v1.0: loop and threads ---- */

  /* [in] host. Returns the host's uv_loop_t. The plugin may create handles on
   * it and must close them all before shutdown_done; it never runs, stops or
   * walks the loop. */
  struct uv_loop_s *(*get_loop)(sam_host *host);
  /* [in] host, fn, ud. The only call allowed from any thread. 0: fn(ud) runs
   * exactly once, later, on the loop thread. SAM_EBUSY after shutdown began
   * (fn never runs); SAM_EINVAL for a NULL fn. The host never frees ud. */
  int (*post)(sam_host *host, sam_post_fn fn, void *ud);

  /* ---- v1.0: lifecycle ---- */

  /* [in] done. Ends the plugin's async shutdown; exactly once, last call. */
  void (*shutdown_done)(sam_done *done);

  /* ---- v1.0: registration (inside sam_plugin_init_v1 only) ---- */

  /* Each deep-copies the descriptor and validates it: SAM_EINVAL for a bad
   * descriptor or schema, SAM_EBUSY outside init, SAM_ENOTSUP for a larger
   * struct_size with a non-zero tail. A descriptor's ud with a ud_free is the
   * host's from the call on, whatever the result. */
  int (*register_profile_type)(sam_host *host,
                               const sam_profile_type_desc *d,
                               sam_profile_type **out /* [out] */);
  int (*register_record_type)(sam_host *host,
                              sam_profile_type *pt,
                              const sam_record_type_desc *d);
  int (*register_process)(sam_host *host,
                          sam_profile_type *pt,
                          const sam_process_desc *d);
  int (*register_model)(sam_host *host,
                        sam_profile_type *pt,
                        const sam_model_desc *d);
  int (*register_rule_template)(sam_host *host,
                                sam_profile_type *pt,
                                const sam_rule_template_desc *d);

  /* ---- v1.0: HTTP action routing (registration inside init only) ---- */
  int (*register_action)(sam_host *host,
                         sam_profile_type *pt,
                         const sam_action_desc *d);

  /* ---- v1.0: jobs (processes and actions) ---- */

  /* [in] job, data, free_fn. Attaches plugin state; the host calls
   * free_fn(data) once after the job completed and was released. */
  int (*job_set_data)(sam_job *job, void *data, sam_free_fn free_fn);
  /* [in] job, done, total (0 = unknown), msg (copied, redacted; may be NULL).
   * SAM_EINVAL after job_complete. Coalesced by the host. */
  int (*job_progress)(sam_job *job,
                      uint64_t done,
                      uint64_t total,
                      const char *msg);
  /* [in] job, status, msg (one line), result_json/result_len (may be NULL).
   * Exactly once per accepted job (C2). Strings are copied and redacted.
   * A second call returns SAM_EINVAL and is recorded as a violation. */
  int (*job_complete)(sam_job *job,
                      int status,
                      const char *msg,
                      const char *result_json,
                      size_t result_len);

  /* ---- v1.0: store ---- */

  /* All store calls: 0 = queued, cb runs exactly once later on the loop;
   * negative = rejected, cb never runs. Inputs are copied. *op_out (may be a
   * NULL pointer to ignore) is valid until cb returns. SAM_EAGAIN: the host's
   * write queue is full; retry after a callback arrives. */
  int (*store_get)(sam_host *host,
                   const char *profile_id,
                   const char *record_type,
                   const char *key,
                   sam_store_cb cb,
                   void *ud,
                   sam_op **op_out);
  /* Up to SAM_STORE_BATCH_MAX records, atomically. One failed if_version
   * fails the whole batch with SAM_ECONFLICT and writes nothing. */
  int (*store_put_batch)(sam_host *host,
                         const char *profile_id,
                         const char *record_type,
                         const sam_record *recs,
                         size_t n,
                         sam_store_cb cb,
                         void *ud,
                         sam_op **op_out);
  /* One page. filter_json: equality filter on indexed pointers
   * (schemas/store-filter.schema.json) or NULL; cursor: NULL first, then the
   * previous next_cursor. limit 0 = host default. */
  int (*store_query)(sam_host *host,
                     const char *profile_id,
                     const char *record_type,
                     const char *filter_json,
                     const char *cursor,
                     uint32_t limit,
                     sam_store_cb cb,
                     void *ud,
                     sam_op **op_out);
  int (*store_delete)(sam_host *host,
                      const char *profile_id,
                      const char *record_type,
                      const char *key,
                      uint64_t if_version,
                      sam_store_cb cb,
                      void *ud,
                      sam_op **op_out);
  /* The op's callback then runs with SAM_ECANCELED, or with its real status
   * if it already finished; either way exactly once. */
  int (*op_cancel)(sam_op *op);

  /* ---- v1.0: secrets ---- */

  /* Seals a copy of value under (profile_id, name). NULL value with len 0
   * deletes. Names are [a-z0-9_]{1,64}. Form fields marked x-sam-secret are
   * read-only to the plugin (SAM_EINVAL). Same queue rules as the store. */
  int (*secret_put)(sam_host *host,
                    const char *profile_id,
                    const char *name,
                    const char *value,
                    size_t len,
                    sam_secret_cb cb,
                    void *ud,
                    sam_op **op_out);
  /* Opens the secret and passes the plaintext to cb, borrowed. SAM_ENOENT
   * when missing. */
  int (*secret_get)(sam_host *host,
                    const char *profile_id,
                    const char *name,
                    sam_secret_cb cb,
                    void *ud,
                    sam_op **op_out);

  /* ---- v1.0: logging ---- */

  /* [in] host, job (may be NULL), level SAM_LOG_*, msg/len. Copied,
   * redacted, prefixed with the plugin name. */
  void (*log_write)(
      sam_host *host, sam_job *job, int32_t level, const char *msg, size_t len);

  /* ---- v1.0: memory ---- */

  /* NULL on failure, never aborts. Freed with mem_free only (NULL-safe). */
  void *(*mem_alloc)(sam_host *host, size_t size);
  void (*mem_free)(sam_host *host, void *ptr);

  /* ---- v1.1: append below this line only ---- */
} sam_host_api;

#define SAM_HOST_API_V1_0_SIZE                                                 \
  (offsetof(sam_host_api, mem_free) + sizeof(void (*)(void)))

/* True when the table is long enough to hold `fn` and `fn` is set. */
#define SAM_HOST_HAS(api, fn)                                                  \
  ((api)->struct_size >= offsetof(sam_host_api, fn) + sizeof((api)->fn) &&     \
   (api)->fn != NULL)

/* ======================================================================== */
/* ---- plugin entry points (ABI.md section 6) ---- */

#if defined(__GNUC__)
#define SAM_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define SAM_PLUGIN_EXPORT
#endif

/* The compatibility block returned by sam_plugin_query_v1. Static data. */
typedef struct sam_plugin_info {
  uint32_t struct_size;     /* sizeof(sam_plugin_info) in the plugin */
  uint32_t abi_major;       /* must equal the host's SAM_ABI_MAJOR */
  uint32_t abi_minor_min;   /* oldest host minor this plugin runs on */
  uint32_t abi_minor_built; /* SAM_ABI_MINOR at build time, for messages */
  uint32_t ptr_size;        /* sizeof(void *) */
  uint32_t uv_major;        /* UV_VERSION_MAJOR the plugin compiled against */
  /* ---- v1.0 ---- */
  const char *name;    /* [a-z0-9_]{1,32}; equals the manifest's name */
  const char *version; /* equals the manifest's version */
  const char *description;
  /* ---- end of v1.0 ---- */
} sam_plugin_info;

#define SAM_PLUGIN_INFO_V1_0_SIZE                                              \
  (offsetof(sam_plugin_info, description) + sizeof(const char *))
#define SAM_PLUGIN_OPS_V1_0_SIZE                                               \
  (offsetof(sam_plugin_ops, shutdown) + sizeof(void (*)(void)))

typedef int (*sam_plugin_init_fn)(const sam_host_api *api,
                                  sam_host *host,
                                  const sam_init_args *args,
                                  const sam_plugin_ops **ops_out,
                                  char *err,
                                  size_t err_len);
typedef const sam_plugin_info *(*sam_plugin_query_fn)(void);

/* No side effects; may be called more than once; returns static data. */
SAM_PLUGIN_EXPORT const sam_plugin_info *sam_plugin_query_v1(void);
/* Called once on the loop thread. Registers everything and sets *ops_out.
 * On failure writes a NUL-terminated message into err and returns < 0. */
SAM_PLUGIN_EXPORT int sam_plugin_init_v1(const sam_host_api *api,
                                         sam_host *host,
                                         const sam_init_args *args,
                                         const sam_plugin_ops **ops_out,
                                         char *err,
                                         size_t err_len);

/* Use once per plugin, in a .c file that includes <uv.h> first. The compile
 * error without <uv.h> (UV_VERSION_MAJOR undeclared) is intended: the loader
 * needs the libuv major the plugin was built with. */
#define SAM_PLUGIN_DEFINE(name_, version_, desc_, minor_min_, init_fn_)        \
  const sam_plugin_info *sam_plugin_query_v1(void) {                           \
    static const sam_plugin_info info = {sizeof(sam_plugin_info),              \
                                         SAM_ABI_MAJOR,                        \
                                         (minor_min_),                         \
                                         SAM_ABI_MINOR,                        \
                                         (uint32_t)sizeof(void *),             \
                                         UV_VERSION_MAJOR,                     \
                                         (name_),                              \
                                         (version_),                           \
                                         (desc_)};                             \
    return &info;                                                              \
  }                                                                            \
  int sam_plugin_init_v1(                                                      \
      const sam_host_api *api, sam_host *host, const sam_init_args *args,      \
      const sam_plugin_ops **ops_out, char *err, size_t err_len) {             \
    return (init_fn_)(api, host, args, ops_out, err, err_len);                 \
  }

#ifdef __cplusplus
}
#endif

#endif /* SAM_PLUGIN_H */
