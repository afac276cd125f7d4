/*
 * dsg_user_map.h: one DocuSign userInformation object (DOCUSIGN.md 4.1) to
 * one sam_subscription record (schemas/sam-subscription.schema.json,
 * SAM-MODEL.md 6). Pure: the caller passes the previous record, the run's
 * clock, the model look-up and the exclusion matcher.
 */
#ifndef DSG_USER_MAP_H
#define DSG_USER_MAP_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "dsg_exclusions.h"

/*
 * Returns the software model identifier for a subscription identifier, or
 * NULL when the identifier is unrecognized. The returned string is borrowed
 * and must stay valid until dsg_user_map returns (it is copied).
 */
typedef const char *(*dsg_model_lookup_fn)(const char *identifier, void *ud);

/* How a DocuSign userStatus maps (SAM-MODEL.md 6, status mapping). */
typedef enum dsg_user_kind {
  DSG_USER_ACTIVE = 0, /* Active, ActivationSent, ActivationRequired */
  DSG_USER_INACTIVE,   /* Disabled, missing or unknown: kept, not active */
  DSG_USER_CLOSED      /* Closed: not a subscription any more */
} dsg_user_kind;

typedef struct dsg_user_map_opts {
  int64_t now;                      /* the run's clock, Unix seconds UTC */
  const char *run_id;               /* copied to last_run_id; may be NULL */
  dsg_model_lookup_fn model_lookup; /* may be NULL: every model null */
  void *model_ud;
  const dsg_exclusions *exclusions; /* may be NULL: nothing excluded */
} dsg_user_map_opts;

/*
 * Classifies a userStatus value (case-sensitive, as DocuSign spells them;
 * anything unknown counts as inactive, never as active).
 *
 * Thread:    any; pure. status may be NULL.
 */
dsg_user_kind dsg_user_status_kind(const char *status);

/*
 * Builds the subscription record for `user`.
 *
 * - external_user_id = userId (required, 1..200 characters);
 *   user_principal_name = email as given ("" when missing);
 *   upn_lower = dsg_str_lower(email) (see dsg_exclusions.h for what that
 *   does to non-ASCII text);
 * - display_name = userName, else "firstName lastName", else absent;
 * - remote_status = userStatus; active and state from dsg_user_status_kind:
 *   "active", "inactive", and for Closed users state "removed" (removed_at =
 *   now, kept from prev when prev was already removed) or "reclaimed" when
 *   prev was reclaimed (the reclaim closed the user). A Closed user is not
 *   an active subscription: the caller decides when to write that removal
 *   (SAM-MODEL.md 6: never after a partial run);
 * - is_admin = isAdmin compared case-insensitively with "true" (A8);
 * - subscription_identifier = licenseType when non-empty, else
 *   permissionProfileName, else ""; verbatim (A5);
 * - assigned_at/assigned_source = userAddedToAccountDateTime
 *   ("added_to_account"), else createdDateTime ("created"), else the first
 *   seen time ("first_seen"); an unknown date (A7) falls through;
 * - first_seen_at from prev when prev has one, else now; last_seen_at = now;
 *   last_activity_at is kept from prev (only the activity extension sets
 *   it); lastLogin is ignored (A6);
 * - attributes: userName, userStatus, permissionProfileName,
 *   permissionProfileId, isAdmin, licenseType, licenseStatus as DocuSign
 *   sent them (strings; absent ones omitted);
 * - software_model from opts->model_lookup (null when unrecognized);
 * - excluded/exclusion_reason from opts->exclusions.
 * Over-long display texts are cut at a UTF-8 boundary to the schema limits.
 *
 * Thread:    any; pure.
 * Ownership: user and prev (may be NULL) are borrowed; *out is a new
 *            json-c object the caller puts (json_object_put).
 * Returns:   0; SAM_EPROTO when user is not an object or its userId is
 *            missing, empty, not a string or too long (err says which,
 *            with the value in brackets); SAM_EINVAL for a NULL argument;
 *            SAM_ENOMEM.
 */
int dsg_user_map(json_object *user,
                 json_object *prev,
                 const dsg_user_map_opts *opts,
                 json_object **out,
                 char *err,
                 size_t errlen);

/*
 * Whether `next` differs from `prev` in anything but last_seen_at and
 * last_run_id, for the job's created/updated/unchanged counts.
 *
 * Thread:    any; pure.
 * Ownership: both borrowed.
 * Returns:   1 when changed or prev is NULL (created), 0 when unchanged.
 */
int dsg_user_record_changed(json_object *prev, json_object *next);

/*
 * The record for a stored subscription whose user a complete and
 * consistent run did not see (SAM-MODEL.md 6; dsg_paging_consistent must
 * hold): a deep copy of prev with state "removed", active false and
 * removed_at = now. A prev that is already removed or reclaimed is copied
 * unchanged (its time is kept), so sweeping twice changes nothing.
 *
 * Thread:    any; pure.
 * Ownership: prev borrowed; *out is a new object the caller puts.
 * Returns:   0, SAM_EINVAL (prev not an object, now unwritable), or
 *            SAM_ENOMEM.
 */
int dsg_user_removed_record(json_object *prev, int64_t now, json_object **out);

/* ---- subscription identifiers of a run (SAM-MODEL.md 7) ---- */

/*
 * Counts subscriptions per identifier during a run, so that the job can
 * write one sam_unrecognized_identifier record per unknown identifier with
 * its subscription count, and per-model counts. Identifiers are compared
 * byte for byte (verbatim, A5). Memory grows with the number of distinct
 * identifiers (a handful of permission profiles and licence types), never
 * with the number of users.
 */
typedef struct dsg_ident_tally dsg_ident_tally;

/*
 * Creates an empty tally.
 *
 * Thread:    any; one thread at a time per tally.
 * Ownership: *out is freed with dsg_ident_tally_free.
 * Returns:   0 or SAM_ENOMEM.
 */
int dsg_ident_tally_new(dsg_ident_tally **out);

/*
 * Counts one subscription carrying `identifier` (copied on first sight).
 * `model` is the model the look-up gave (NULL = unrecognized); the first
 * non-NULL model seen for an identifier is kept.
 *
 * Returns:   0, SAM_EINVAL (NULL or "" identifier), or SAM_ENOMEM.
 */
int dsg_ident_tally_add(dsg_ident_tally *t,
                        const char *identifier,
                        const char *model);

/*
 * Number of distinct identifiers counted.
 */
size_t dsg_ident_tally_size(const dsg_ident_tally *t);

/*
 * The i-th identifier (i < size; in first-seen order), its count and its
 * model (NULL when unrecognized). Strings are borrowed from the tally.
 *
 * Returns:   0, or SAM_EINVAL when i is out of range.
 */
int dsg_ident_tally_get(const dsg_ident_tally *t,
                        size_t i,
                        const char **identifier,
                        uint64_t *count,
                        const char **model);

/*
 * Frees the tally. NULL is accepted.
 */
void dsg_ident_tally_free(dsg_ident_tally *t);

/*
 * Builds a sam_unrecognized_identifier record: identifier, its
 * subscription_count, and from prev (the stored record, may be NULL) the
 * admin's software_model (null when unset) and
 * exclude_from_content_service (default false) and first_seen_at (else
 * now); last_seen_at = now.
 *
 * Thread:    any; pure.
 * Ownership: prev borrowed; *out is a new object the caller puts.
 * Returns:   0, SAM_EINVAL (identifier NULL, empty or over 200
 *            characters; err says so), or SAM_ENOMEM.
 */
int dsg_unrecognized_record(const char *identifier,
                            uint64_t count,
                            json_object *prev,
                            int64_t now,
                            json_object **out,
                            char *err,
                            size_t errlen);

#endif /* DSG_USER_MAP_H */
