/*
 * schema_internal.h: what the schema validator's files share (compiled node
 * layout, JSON helpers, formats, URIs). Not for use outside schema*.c.
 *
 * A compiled node borrows strings and values from the schema document; the
 * sam__schema holds a reference on that document, so they live as long as
 * the schema does. After compile nothing here is written again, which is
 * what makes a compiled schema safe to share between threads.
 */
#ifndef SAM_SCHEMA_INTERNAL_H
#define SAM_SCHEMA_INTERNAL_H

#define PCRE2_CODE_UNIT_WIDTH 8

#include <json-c/json.h>
#include <pcre2.h>
#include <stddef.h>
#include <stdint.h>

#include "sam_schema.h"

/* Deepest nesting accepted in schema or instance text, and the deepest
 * recursion of the compiler and the validator (refs may loop). */
#define SAM__SCHEMA_MAX_DEPTH 256
#define SAM__SCHEMA_MAX_FRAMES 1024
/* PCRE2 backtracking steps allowed per match (its default is 10 million). */
#define SAM__SCHEMA_MATCH_LIMIT 1000000

/* Instance types ("type" keyword); integer is a subset of number. */
enum {
  SAM__ST_NULL = 1u << 0,
  SAM__ST_BOOLEAN = 1u << 1,
  SAM__ST_OBJECT = 1u << 2,
  SAM__ST_ARRAY = 1u << 3,
  SAM__ST_NUMBER = 1u << 4,
  SAM__ST_STRING = 1u << 5,
  SAM__ST_INTEGER = 1u << 6
};

typedef enum sam__sfmt {
  SAM__SF_NONE = 0,
  SAM__SF_URI,
  SAM__SF_URI_REFERENCE,
  SAM__SF_EMAIL,
  SAM__SF_DATE_TIME,
  SAM__SF_DATE,
  SAM__SF_TIME,
  SAM__SF_UUID,
  SAM__SF_REGEX,
  SAM__SF_HOSTNAME,
  SAM__SF_IPV4,
  SAM__SF_IPV6,
  SAM__SF_JSON_POINTER,
  SAM__SF_REL_JSON_POINTER
} sam__sfmt;

typedef struct sam__snode sam__snode;

typedef struct sam__sprop {
  const char *name; /* borrowed key of "properties" */
  sam__snode *schema;
} sam__sprop;

typedef struct sam__spattern {
  const char *src; /* borrowed */
  pcre2_code *re;  /* owned */
  sam__snode *schema;
} sam__spattern;

typedef struct sam__sdep {
  const char *name;          /* borrowed */
  struct json_object *names; /* borrowed array of strings, or NULL */
  sam__snode *schema;        /* or NULL */
} sam__sdep;

struct sam__snode {
  int is_bool; /* boolean schema: only bool_val counts */
  int bool_val;
  char *ptr;  /* owned: JSON Pointer of this schema in its document */
  int redact; /* x-sam-secret or writeOnly: never echo the value */

  /* $ref: when set, every sibling keyword is ignored (draft-07). */
  sam__snode *ref;
  char *ref_uri;                  /* owned: the resolved absolute reference */
  struct json_object *ref_doc;    /* borrowed: document the target lives in */
  struct json_object *ref_target; /* borrowed: set while compiling */

  unsigned types; /* 0: no "type" keyword */

  struct json_object *enum_vals; /* borrowed array, or NULL */
  struct json_object *const_val; /* borrowed; valid when has_const */
  int has_const;
  char *enum_text;  /* owned: rendered for messages */
  char *const_text; /* owned */

  int has_min, has_max, has_xmin, has_xmax, has_mult;
  long double min, max, xmin, xmax, mult;
  char *min_text, *max_text, *xmin_text, *xmax_text, *mult_text; /* owned */

  int64_t min_len, max_len; /* -1 when absent */
  pcre2_code *pattern;      /* owned, or NULL */
  const char *pattern_src;  /* borrowed */
  sam__sfmt format;
  const char *format_name; /* borrowed */

  sam__snode *items;      /* schema form */
  sam__snode **items_arr; /* owned array (array form) */
  size_t n_items;
  int items_is_array;
  sam__snode *additional_items;
  int64_t min_items, max_items;
  int unique;
  sam__snode *contains;

  sam__sprop *props; /* owned, sorted by name */
  size_t n_props;
  sam__spattern *pprops; /* owned */
  size_t n_pprops;
  sam__snode *additional_props;
  struct json_object *required; /* borrowed array of strings, or NULL */
  int64_t min_props, max_props;
  sam__snode *property_names;
  sam__sdep *deps; /* owned */
  size_t n_deps;

  sam__snode **all_of, **any_of, **one_of; /* owned arrays */
  size_t n_all_of, n_any_of, n_one_of;
  sam__snode *not_schema, *if_schema, *then_schema, *else_schema;
};

struct sam__schema {
  struct json_object *root; /* reference held */
  struct json_object *meta; /* the embedded draft-07 meta-schema, or NULL */
  sam__snode **nodes;       /* owned; every node, for freeing */
  size_t n_nodes;
  sam__snode *entry;
  unsigned flags;
};

/* ---- compile context (schema_compile.c, schema_ref.c) ---- */

typedef struct sam__smemo {
  struct json_object *obj;
  sam__snode *node;
} sam__smemo;

typedef struct sam__sid {
  char *uri; /* owned: absolute id, empty fragment stripped */
  struct json_object *obj;
  struct json_object *doc; /* the document obj lives in */
} sam__sid;

/* A key that is no keyword. Refused unless a $ref points into it (the
 * suite uses such keys as ad-hoc definitions: "#/tilda~0field"). */
typedef struct sam__sunknown {
  struct json_object *val; /* borrowed */
  char *key;               /* owned */
  char *ptr;               /* owned: pointer of the schema holding it */
} sam__sunknown;

typedef struct sam__sctx {
  sam__schema *s;
  unsigned flags;
  char *err;
  size_t err_len;
  int failed;
  size_t cap_nodes;
  sam__smemo *memo; /* open addressing on the object pointer */
  size_t memo_cap, memo_n;
  sam__sid *ids;
  size_t n_ids, cap_ids;
  sam__sunknown *unknown;
  size_t n_unknown, cap_unknown;
  struct json_object **walked; /* values a $ref pointer passed through */
  size_t n_walked, cap_walked;
} sam__sctx;

/* Records the first compile error (later ones are dropped). Returns
 * SAM_EINVAL. */
int sam__sctx_fail(sam__sctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Compiles the schema value o found at ptr inside document doc, whose base
 * URI there is base. Memoized on o, so a value reached twice (or through a
 * $ref) is one node. Ownership: the node belongs to c->s.
 * Returns 0, SAM_EINVAL (c->err says why) or SAM_ENOMEM.
 */
int sam__scompile_node(sam__sctx *c,
                       struct json_object *o,
                       struct json_object *doc,
                       const char *base,
                       const char *ptr,
                       int depth,
                       sam__snode **out);

/* Registers an $id (absolute; an empty fragment is stripped). Returns 0 or
 * SAM_ENOMEM / SAM_EINVAL for a duplicate id. */
int sam__sref_register_id(sam__sctx *c,
                          const char *uri,
                          struct json_object *obj,
                          struct json_object *doc);

/* Resolves every pending $ref (compiling targets as needed), then refuses
 * reference loops that never reach a keyword and unknown keys no $ref
 * uses. Returns 0 or SAM_E*. */
int sam__sref_resolve_all(sam__sctx *c);

/* Applies one keyword to n (schema_keywords.c). Returns 0, 1 for a key
 * that is no keyword, or SAM_EINVAL / SAM_ENOMEM. */
int sam__skeyword_apply(sam__sctx *c,
                        sam__snode *n,
                        const char *key,
                        struct json_object *val,
                        struct json_object *doc,
                        const char *base,
                        const char *ptr,
                        int depth);

/* Remembers an unknown key for the check after $ref resolution. Returns 0
 * or SAM_ENOMEM. */
int sam__sctx_unknown(sam__sctx *c,
                      struct json_object *val,
                      const char *key,
                      const char *ptr);

/* The node compiled for o, or NULL. */
sam__snode *sam__smemo_get(const sam__sctx *c, struct json_object *o);

/* ---- JSON helpers (schema_json.c) ---- */

/*
 * Parses text strictly (RFC 8259, UTF-8 checked, no NaN, no trailing
 * garbage) with nesting bounded by SAM__SCHEMA_MAX_DEPTH.
 * Ownership: *out is the caller's (json_object_put).
 * Returns 0, or SAM_EINVAL with a reason in err ("not JSON ...").
 */
int sam__sjson_parse(const char *text,
                     size_t len,
                     struct json_object **out,
                     char *err,
                     size_t err_len);

/* Whether a JSON value is a number; sets *v (exact for every int64/uint64). */
int sam__sjson_number(struct json_object *o, long double *v);

/* Whether a number is an integer in draft-07's sense (1.0 counts). */
int sam__sjson_is_integer(struct json_object *o);

/* Instance type bit (SAM__ST_*; integers get NUMBER|INTEGER). */
unsigned sam__sjson_type(struct json_object *o);

/* JSON Schema equality: numbers by value, objects by key set. Read-only. */
int sam__sjson_equal(struct json_object *a, struct json_object *b);

/* A hash consistent with sam__sjson_equal (for uniqueItems). */
uint64_t sam__sjson_hash(struct json_object *o);

/*
 * Renders a value as compact JSON into buf (NUL-terminated, cut with "..."
 * past buf_len). Never touches the object's own print buffer, so it is safe
 * on a shared schema. Returns buf.
 */
char *sam__sjson_render(struct json_object *o, char *buf, size_t buf_len);

/* Same, into a malloc'd string of at most max bytes (NULL on ENOMEM). */
char *sam__sjson_render_dup(struct json_object *o, size_t max);

/* Number of Unicode code points in UTF-8 text. */
size_t sam__sjson_codepoints(const char *s, size_t len);

/* Drops an incomplete UTF-8 sequence at the end of s; returns the length. */
size_t sam__sutf8_trim(char *s);

/* Appends "/" and the escaped token (~0 ~1) to a growable buffer.
 * Returns 0 or SAM_ENOMEM. */
int sam__sptr_push(
    char **buf, size_t *len, size_t *cap, const char *tok, size_t tok_len);

/* ---- formats (schema_format.c) ---- */

/* The format's id, or SAM__SF_NONE for a format we do not implement. */
sam__sfmt sam__sformat_lookup(const char *name);

/* Whether s (len bytes, UTF-8) conforms to the format. Thread: any. */
int sam__sformat_check(sam__sfmt f, const char *s, size_t len);

/*
 * Compiles an ECMA-262 pattern for PCRE2 (UTF mode). Refuses the escapes
 * that PCRE knows and ECMA does not (\A \Z \z ...). Ownership: *out is freed
 * with pcre2_code_free. Returns 0 or SAM_EINVAL with a reason in err.
 */
int sam__sregex_compile(
    const char *src, size_t len, pcre2_code **out, char *err, size_t err_len);

/* ---- URIs (schema_uri.c) ---- */

/* Resolves ref against base (RFC 3986 section 5). Returns malloc'd text or
 * NULL on ENOMEM. */
char *sam__suri_resolve(const char *base, const char *ref);

/* The embedded draft-07 meta-schema text and its id. */
extern const char sam__sschema_draft7[];
#define SAM__DRAFT7_ID "http://json-schema.org/draft-07/schema"

#endif /* SAM_SCHEMA_INTERNAL_H */
