/*
 * serve.h: what serve.c and serve_plugins.c share.
 * Thread: the main thread, before the loop runs (loading blocks).
 */
#ifndef SAMHOST_SERVE_H
#define SAMHOST_SERVE_H

#include <stddef.h>

#include <json-c/json.h>

#include "sam/sam_runtime.h"

/* The DocuSign plugin's manifest in the build tree or the install tree
 * (see sh_running_installed); NULL when neither exists. Static storage. */
const char *sh_default_plugin_manifest(void);

/* 1 when this samhost runs from the install prefix's bin directory: the
 * installed plugin, web pages and probe are then preferred over the build
 * tree's. */
int sh_running_installed(void);

/* The admin pages: the source tree's host-sdk/web or the installed
 * share/samhost/web, whichever fits (see above); NULL when neither. */
const char *sh_default_web_dir(void);

/* The crash probe executable: $SAM_PLUGIN_PROBE, next to samhost, then
 * the build tree's or the installed one; NULL when none is found. */
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
