/*
 * dsg_exclusions.h: the profile's exclusion rules (SAM-MODEL.md 8) compiled
 * into a matcher the download runs once per user. Pure: no I/O.
 */
#ifndef DSG_EXCLUSIONS_H
#define DSG_EXCLUSIONS_H

#include <stddef.h>

#include <json-c/json.h>

typedef struct dsg_exclusions dsg_exclusions;

/*
 * Lower-cases UTF-8 text into a new string for case-insensitive matching of
 * user principal names and domains. ASCII A-Z is folded, and so are the
 * two-byte upper-case letters whose lower case has the same UTF-8 length:
 * Latin-1 (U+00C0-U+00DE except U+00D7), Greek (U+0391-U+03AB) and Cyrillic
 * (U+0400-U+042F). Everything else, including invalid UTF-8, is copied byte
 * for byte, so the result is valid UTF-8 whenever the input is and has the
 * same length. Full Unicode case folding (Turkish dotless i, German sharp
 * s, ...) is not done: DocuSign e-mail addresses are in practice ASCII.
 *
 * Thread:    any; pure.
 * Ownership: s is borrowed (NULL gives ""); the result is the caller's to
 *            free() and is NULL only when out of memory.
 */
char *dsg_str_lower(const char *s);

/*
 * Compiles the active rules that apply to profile_type (e.g.
 * "docusign_subscription"):
 *   id_rules:   array of sam_exclusion_identifier records. A rule applies
 *               when active and its profile_type equals profile_type; it
 *               matches when subscription_identifier equals the
 *               subscription's identifier exactly (identifiers are verbatim,
 *               A5) and, when the rule has a non-empty domain, the UPN's
 *               domain equals it (case-insensitive).
 *   user_rules: array of sam_exclusion_user records. A rule applies when
 *               active and its profile_type is missing, null, empty or equal
 *               to profile_type. A rule with a user_principal_name matches
 *               that exact UPN compared case-insensitively; otherwise a rule
 *               with a domain matches every UPN whose part after the last
 *               '@' equals the domain case-insensitively (a leading '@' in
 *               the rule is ignored; subdomains do not match). A rule with
 *               neither is skipped.
 * Rules that are inactive, malformed or skipped are counted in *skipped
 * (may be NULL). Either array may be NULL.
 *
 * Thread:    any; pure.
 * Ownership: the arrays are borrowed (strings are copied); *out belongs to
 *            the caller, freed with dsg_exclusions_free.
 * Returns:   0, SAM_EINVAL (profile_type NULL, or an argument that is not
 *            an array; err names it), or SAM_ENOMEM.
 */
int dsg_exclusions_new(const char *profile_type,
                       json_object *id_rules,
                       json_object *user_rules,
                       dsg_exclusions **out,
                       size_t *skipped,
                       char *err,
                       size_t errlen);

/*
 * Frees a matcher. NULL is accepted.
 */
void dsg_exclusions_free(dsg_exclusions *m);

/*
 * Number of compiled (applicable) rules.
 */
size_t dsg_exclusions_count(const dsg_exclusions *m);

/*
 * Matches one subscription: identifier rules first, then user rules, each
 * in the order given; the first match wins. On a match, reason (reasonlen
 * bytes; may be NULL) receives text a person can read that names the rule,
 * e.g. "excluded by user exclusion rule [r-42]: domain [contractor.example]"
 * (at most 300 bytes, the schema's limit, when reasonlen allows).
 *
 * Thread:    any; the matcher is read-only here, so threads may share it.
 * Ownership: all borrowed. m, identifier and upn may be NULL (no match on
 *            that part).
 * Returns:   1 when excluded, 0 when not.
 */
int dsg_exclusions_match(const dsg_exclusions *m,
                         const char *identifier,
                         const char *upn,
                         char *reason,
                         size_t reasonlen);

#endif /* DSG_EXCLUSIONS_H */
