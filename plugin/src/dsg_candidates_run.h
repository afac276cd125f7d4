/*
 * dsg_candidates_run.h: the candidate refresh that follows every complete
 * download (issue 7 item 2): reads the profile's reclamation rules,
 * entitlements, exclusion rules, candidates and subscriptions from the
 * store, page by page, and opens or closes removal candidates with
 * dsg_candidates.c's rules.
 */
#ifndef DSG_CANDIDATES_RUN_H
#define DSG_CANDIDATES_RUN_H

#include "sam/sam_plugin.h"

#include "dsg_ctx.h"

/* The profile type whose exclusion rules apply (SAM-MODEL.md 8). */
#define DSG_PROFILE_TYPE_ID "docusign_subscription"

/*
 * Refreshes the removal candidates of one profile:
 *  - every active, non-excluded subscription whose rule qualifies
 *    (dsg_cand_evaluate) gets exactly one open sam_candidate, keyed
 *    dsg_candidate_key(profile, external_user_id, generation) and written
 *    with SAM_IF_NEW, so a re-run never adds a second one; state Ready, or
 *    Attention Required with a message when the rule notifies users (this
 *    host has no user directory); potential_savings from the model's
 *    sam_entitlement unit_cost, else null;
 *  - an open candidate whose subscription disappeared, became inactive,
 *    excluded, an administrator or the integration's own user (userinfo
 *    sub, A24, asked once per run) closes as Closed Skipped with a history
 *    entry (actor "download").
 * Memory holds one page of records and a small index of the profile's
 * candidates (one entry per user that ever had one).
 *
 * Thread:    loop thread.
 * Ownership: profile_id and profile_json are copied; job is borrowed until
 *            cb runs (it is only used for log lines).
 * Callbacks: cb runs exactly once, never inside this call, with SAM_OK and
 *            summary_json {"created","closed_skipped","open_total"}
 *            (borrowed for the call), or a failure status and
 *            {"error": message}. It runs with SAM_ECANCELED when the
 *            plugin shuts down meanwhile.
 * Returns:   0, or SAM_EINVAL (no profile, bad profile JSON), SAM_ENOMEM,
 *            SAM_EBUSY (stopping); cb never runs then.
 */
int dsg_candidates_refresh(dsg_ctx *ctx,
                           sam_job *job,
                           const char *profile_id,
                           const char *profile_json,
                           void (*cb)(int status,
                                      const char *summary_json,
                                      void *ud),
                           void *ud);

#endif /* DSG_CANDIDATES_RUN_H */
