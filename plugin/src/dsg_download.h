/*
 * dsg_download.h: the Download subscriptions process (issue 6): the daily
 * job that pages through the account's users and keeps the profile's
 * sam_subscription records, models, unrecognized identifiers and
 * consumption record up to date.
 */
#ifndef DSG_DOWNLOAD_H
#define DSG_DOWNLOAD_H

#include "sam/sam_plugin.h"

/*
 * The process's start function (sam_start_fn; ud is the dsg_ctx).
 *
 * Thread:    loop thread.
 * Ownership: in is borrowed during the call (C7); the job's state is the
 *            plugin's until it completes.
 * Callbacks: job_complete runs exactly once for an accepted job, never
 *            inside this call except for a bad profile (C1).
 * Returns:   SAM_OK (accepted), or SAM_EBUSY while the plugin stops.
 */
int dsg_download_start(sam_job *job, const sam_job_input *in, void *ud);

/*
 * The process's cancel function (sam_cancel_fn; ud is the dsg_ctx): stops
 * the transfers and store operations of the job, which then completes with
 * SAM_ECANCELED (or its real status if it had already finished), once.
 * Thread: loop thread.
 */
void dsg_download_cancel(sam_job *job, void *ud);

#endif /* DSG_DOWNLOAD_H */
