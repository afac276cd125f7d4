#ifndef DSG_PLUGIN_H
#define DSG_PLUGIN_H

#include <stddef.h>

#include "sam/sam_plugin.h"

/*
 * The plugin's init (ABI.md 13.2), behind sam_plugin_init_v1.
 *
 * Thread:    the loop thread, once.
 * Ownership: api and host are the host's for the process lifetime; args is
 *            borrowed; *ops_out points into the plugin's context.
 * Returns:   SAM_OK, or a negative code with a message in err.
 */
int dsg_init(const sam_host_api *api,
             sam_host *host,
             const sam_init_args *args,
             const sam_plugin_ops **ops_out,
             char *err,
             size_t err_len);

#endif /* DSG_PLUGIN_H */
