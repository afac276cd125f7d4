/*
 * dsg_reclaim.h: the Reclaim process (issue 7 item 4, ABI.md 10.4) and the
 * restore_subscription action (Undo, item 6).
 */
#ifndef DSG_RECLAIM_H
#define DSG_RECLAIM_H

#include "sam/sam_plugin.h"

/* Undo is refused after this many days since reclaimed_at. */
#define DSG_UNDO_WINDOW_DAYS 30

/*
 * The reclaim process's start (sam_start_fn; ud = dsg_ctx). Honours
 * SAM_JOB_DRY_RUN. Completes OK at once when the profile's
 * reclaim_enabled is false. Otherwise: reconciles intents left by an
 * interrupted run, then closes the candidates in Awaiting Revocation (and
 * Ready ones whose rule does not notify users) in batches of at most 50,
 * each preceded by an intent record and a re-check of every user, never
 * more than the cap per run. params_json may carry {"cap": n} (an absolute
 * cap) or {"cap_percent": p}; the profile may carry reclaim_cap_percent.
 *
 * Thread: loop thread. Returns SAM_OK (the job completes exactly once
 * later or inside), or SAM_EBUSY while stopping.
 */
int dsg_reclaim_start(sam_job *job, const sam_job_input *in, void *ud);

/*
 * The reclaim process's cancel (sam_cancel_fn; ud = dsg_ctx): the run stops
 * before its next DocuSign write, never cutting one in half, and completes
 * with SAM_ECANCELED naming the users it closed. Thread: loop thread.
 */
void dsg_reclaim_cancel(sam_job *job, void *ud);

/*
 * The restore_subscription action (sam_start_fn; ud = dsg_ctx), params
 * {"external_user_id": "..."}: within DSG_UNDO_WINDOW_DAYS of reclaimed_at
 * it reopens the user (PUT users, A12) and makes the subscription active
 * again, with an audit line; refused with a message otherwise.
 * Thread: loop thread. Returns SAM_OK or SAM_EBUSY while stopping.
 */
int dsg_restore_start(sam_job *job, const sam_job_input *in, void *ud);

#endif /* DSG_RECLAIM_H */
