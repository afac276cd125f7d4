/* Placeholder until the registration lands; replaced by the plugin work. */
#include <stdio.h>

#include "dsg_plugin.h"

int dsg_init(const sam_host_api *api, sam_host *host, const sam_init_args *args,
             const sam_plugin_ops **ops_out, char *err, size_t err_len) {
  (void)api;
  (void)host;
  (void)args;
  (void)ops_out;
  snprintf(err, err_len, "registration not built yet");
  return SAM_ENOTSUP;
}
