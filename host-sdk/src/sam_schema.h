/*
 * sam_schema.h: the host's JSON Schema validator (draft-07 keywords).
 *
 * A schema using a keyword outside the supported set is refused at compile
 * time with the keyword and its JSON Pointer; nothing is silently ignored.
 * Thread: any, no shared state; a compiled schema is immutable and may be
 * used from several threads at once.
 */
#ifndef SAM_SCHEMA_H
#define SAM_SCHEMA_H

#include <stddef.h>

struct json_object;

typedef struct sam__schema sam__schema;

/* One validation failure: the JSON Pointer of the failing value in the
 * instance ("" for the root) and a readable reason naming the keyword. */
typedef struct sam__schema_error {
  char pointer[256];
  char reason[256];
} sam__schema_error;

/* Compile options. */
#define SAM__SCHEMA_FORM (1u << 0) /* form schema: also enforce form rules
                                      (x-sam-secret needs writeOnly and type
                                      string; x-sam-ui only at the root) */

/*
 * Compiles schema text. On failure returns SAM_EINVAL and writes
 * "<reason> [<keyword>] at [<pointer>]" into err. Ownership: *out is freed
 * with sam__schema_free.
 */
int sam__schema_compile(const char *json, size_t len, unsigned flags,
                        sam__schema **out, char *err, size_t err_len);
/* Same, from a parsed document (borrowed; the schema takes a reference). */
int sam__schema_compile_obj(struct json_object *root, unsigned flags,
                            sam__schema **out, char *err, size_t err_len);
void sam__schema_free(sam__schema *s);

/*
 * Validates an instance. Returns 0 when valid, SAM_EINVAL when not (or when
 * the text is not JSON: pointer "" and reason "not JSON ..."). Up to
 * max_errs errors are written to errs; *n_errs receives how many were
 * written (may be NULL).
 */
int sam__schema_validate(const sam__schema *s, const char *json, size_t len,
                         sam__schema_error *errs, size_t max_errs,
                         size_t *n_errs);
int sam__schema_validate_obj(const sam__schema *s, struct json_object *inst,
                             sam__schema_error *errs, size_t max_errs,
                             size_t *n_errs);

/* The root schema object (borrowed), e.g. to read defaults or x-sam-ui. */
struct json_object *sam__schema_root(const sam__schema *s);

#endif /* SAM_SCHEMA_H */
