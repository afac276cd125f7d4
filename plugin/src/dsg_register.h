/*
 * dsg_register.h: everything the plugin registers during init.
 */
#ifndef DSG_REGISTER_H
#define DSG_REGISTER_H

#include <stddef.h>

#include "dsg_ctx.h"

/* Record types of the plugin (schemas/docusign-<thing>.schema.json). */
#define DSG_RT_CONSUMPTION "docusign_consumption"
#define DSG_RT_DOWNLOAD_STATE "docusign_download_state"
#define DSG_RT_RECLAIM_INTENT "docusign_reclaim_intent"

/*
 * Registers, in order: the profile type docusign_subscription with its form
 * schema, the record types, the download and reclaim processes, the three
 * actions, the model catalog and the rule templates. Sets ctx->pt.
 *
 * Thread:    loop thread, inside sam_plugin_init_v1 only.
 * Ownership: every descriptor is built on the stack and deep-copied by the
 *            host; process and action ud is ctx, with no ud_free (the plugin
 *            keeps ctx until shutdown_done).
 * Returns:   0, or the first failing call's SAM_E* with a message naming
 *            what failed in err. The host rolls back what was registered.
 */
int dsg_register_all(dsg_ctx *ctx, char *err, size_t err_len);

#endif /* DSG_REGISTER_H */
