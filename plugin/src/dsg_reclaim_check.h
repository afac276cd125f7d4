/*
 * dsg_reclaim_check.h: the pure decisions of the Reclaim process: the
 * re-check of a user read from DocuSign right before closing it
 * (SAM-MODEL.md 13 items 5 and 8, issue 7 item 4) and the reading of a
 * DELETE users reply (DOCUSIGN.md 4.3, A9, A10).
 */
#ifndef DSG_RECLAIM_CHECK_H
#define DSG_RECLAIM_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "dsg_candidates.h"
#include "dsg_exclusions.h"

typedef enum dsg_recheck {
  DSG_RECHECK_CLOSE = 0,      /* still a candidate: close it */
  DSG_RECHECK_ALREADY_CLOSED, /* Closed in DocuSign already: a success */
  DSG_RECHECK_SKIP,           /* Closed Skipped with the reason */
  DSG_RECHECK_CANCEL          /* fresh activity: Closed Canceled */
} dsg_recheck;

/*
 * Compares the live userInformation `user` with the stored subscription
 * `sub`: the same userId and e-mail, still Active/ActivationSent/
 * ActivationRequired (Closed: already closed), not an administrator
 * (isAdmin compared case-insensitively, A8), not the integration's own
 * user, the same subscription identifier (licenseType, else
 * permissionProfileName, A5), not excluded by `excl` (may be NULL), and
 * no fresh start: a userAddedToAccountDateTime less than the rule's
 * threshold ago (rule may be NULL: not checked) means the seat was given
 * again, which cancels the candidate.
 *
 * Thread: any; pure. Ownership: all borrowed. reason (len bytes) always
 * receives a sentence a person can read.
 * Returns: the verdict.
 */
dsg_recheck dsg_reclaim_recheck(json_object *user,
                                json_object *sub,
                                const dsg_rule_view *rule,
                                const char *integration_user_id,
                                const dsg_exclusions *excl,
                                int64_t now,
                                char *reason,
                                size_t len);

/*
 * The outcome of user `uid` in a DELETE users reply (usersResponse):
 * 1 when its entry has no errorDetails (userStatus Closed or absent, A9),
 * 0 when its entry carries errorDetails (code and msg filled), -1 when the
 * reply has no entry for it (A10: check with a GET before any retry).
 * userIds compare case-insensitively. Pure; code/msg get "" when unused.
 */
int dsg_reclaim_close_outcome(json_object *reply,
                              const char *uid,
                              char *code,
                              size_t code_len,
                              char *msg,
                              size_t msg_len);

#endif /* DSG_RECLAIM_CHECK_H */
