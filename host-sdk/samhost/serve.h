/*
 * serve.h: what serve.c and serve_plugins.c share.
 * Thread: the main thread, before the loop runs (loading blocks).
 */
#ifndef SAMHOST_SERVE_H
#define SAMHOST_SERVE_H

#include <stddef.h>

#include <json-c/json.h>

#include "sam/sam_runtime.h"

/* The DocuSign plugin's manifest in the build tree or the install tree,
 * whichever exists; NULL when neither does. Static storage. */
const char *sh_default_plugin_manifest(void);

/* The crash probe executable: $SAM_PLUGIN_PROBE, next to samhost, in the
 * build tree, or installed; NULL when none is found. Static storage. */
const char *sh_probe_exe(void);

/*
 * Loads each manifest (with its config JSON, may be NULL) into rt, running
 * the crash probe first for a name+version never seen in data_dir. A
 * plugin that fails is reported on stderr and skipped. Each loaded plugin
 * is appended to `loaded` as {"name", "manifest"}. Blocks (probe, init).
 * Returns the number of plugins that failed.
 */
int sh_plugins_load(sam_runtime *rt,
                    const char *data_dir,
                    char **manifests,
                    char **configs,
                    size_t n,
                    json_object *loaded);

#endif /* SAMHOST_SERVE_H */
