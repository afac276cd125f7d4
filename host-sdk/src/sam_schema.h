/*
 * sam_schema.h: the host's JSON Schema validator (draft-07 keywords).
 *
 * A schema using a keyword outside the supported set is refused at compile
 * time with the keyword and its JSON Pointer; nothing is silently ignored.
 * Thread: any, no shared state; a compiled schema is immutable and may be
 * used from several threads at once.
 *
 * Supported: type, enum, const, properties, patternProperties,
 * additionalProperties, required, propertyNames, dependencies,
 * minProperties, maxProperties, items (both forms), additionalItems,
 * minItems, maxItems, uniqueItems, contains, minLength, maxLength (code
 * points), pattern (ECMA-262 on PCRE2, UTF-8), format (uri, uri-reference,
 * email, hostname, ipv4, ipv6, date-time, date, time, uuid, regex,
 * json-pointer, relative-json-pointer; any other format is refused), minimum,
 * maximum, exclusiveMinimum, exclusiveMaximum, multipleOf, allOf, anyOf, oneOf,
 * not, if/then/else, definitions, $ref (JSON Pointers and $id inside the
 * document, plus the embedded draft-07 meta-schema), boolean schemas. The
 * annotations title, description, $schema (draft-07 only), $id, $comment,
 * examples, readOnly, writeOnly and default are accepted and not enforced;
 * so are the vendor keywords x-sam-secret (boolean) and x-sam-ui (object).
 * A $ref that would need a fetch (http://...) is refused.
 *
 * Text is parsed strictly (UTF-8 checked, no NaN, no trailing data) and
 * nesting is bounded: deeper than 256 levels is refused, never a crash.
 */
#ifndef SAM_SCHEMA_H
#define SAM_SCHEMA_H

#include <stddef.h>

struct json_object;

typedef struct sam__schema sam__schema;

/* One validation failure: the JSON Pointer of the failing value in the
 * instance ("" for the root; ~ and / escaped as ~0 and ~1; cut with "..."
 * when longer than 255 bytes) and a readable reason naming the keyword and
 * the values, e.g. pointer "/instance_url", reason
 * `must be one of the enum values; got ["http://x"]`. The value of a
 * property marked x-sam-secret or writeOnly shows as <redacted>. */
typedef struct sam__schema_error {
  char pointer[256];
  char reason[256];
} sam__schema_error;

/* Compile options. SAM__SCHEMA_FORM: a form schema; also enforce the form
 * rules (x-sam-secret needs writeOnly and type string; x-sam-ui only at the
 * root). */
#define SAM__SCHEMA_FORM (1u << 0)

/*
 * Compiles schema text. On failure returns SAM_EINVAL and writes
 * "<reason> [<keyword>] at [<pointer>]" into err, e.g.
 * "unsupported keyword [minContains] at [/properties/a]"; the form rules
 * read "form schema [/properties/client_secret]: x-sam-secret needs type
 * string". Text that is not JSON gives "schema is not JSON: ...".
 * Thread: any. Ownership: json is borrowed; *out is freed with
 * sam__schema_free. err may be NULL. Returns 0, SAM_EINVAL or SAM_ENOMEM.
 */
int sam__schema_compile(const char *json,
                        size_t len,
                        unsigned flags,
                        sam__schema **out,
                        char *err,
                        size_t err_len);
/* Same, from a parsed document (borrowed; the schema takes a reference).
 * Do not modify root afterwards: the schema reads it while validating. */
int sam__schema_compile_obj(struct json_object *root,
                            unsigned flags,
                            sam__schema **out,
                            char *err,
                            size_t err_len);
/* Frees a compiled schema (NULL is a no-op), once no thread uses it. */
void sam__schema_free(sam__schema *s);

/*
 * Validates an instance. Returns 0 when valid, SAM_EINVAL when not (or when
 * the text is not JSON: pointer "" and reason "not JSON ..."). Up to
 * max_errs errors are written to errs; *n_errs receives how many were
 * written (may be NULL). Errors are collected across the instance, not
 * just the first; errs may be NULL with max_errs 0 for a yes/no answer
 * (faster: it stops at the first failure). SAM_ENOMEM when memory ran out.
 * Thread: any, concurrently on one schema. Ownership: all borrowed.
 */
int sam__schema_validate(const sam__schema *s,
                         const char *json,
                         size_t len,
                         sam__schema_error *errs,
                         size_t max_errs,
                         size_t *n_errs);
int sam__schema_validate_obj(const sam__schema *s,
                             struct json_object *inst,
                             sam__schema_error *errs,
                             size_t max_errs,
                             size_t *n_errs);

/* The root schema object (borrowed), e.g. to read defaults or x-sam-ui.
 * Read only: json-c's serialisers write a cache into the object, so
 * serialise a copy (or under a lock) if other threads validate. */
struct json_object *sam__schema_root(const sam__schema *s);

#endif /* SAM_SCHEMA_H */
