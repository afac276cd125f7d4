/*
 * The plugin's two exported entry points, emitted by SAM_PLUGIN_DEFINE. This
 * is the only file of the plugin that is not in dsg_core, so that unit tests
 * can link the plugin's logic without the exported symbols.
 */
#include <uv.h>

#include "sam/sam_plugin.h"

#include "dsg_plugin.h"

SAM_PLUGIN_DEFINE(
    DSG_NAME, DSG_VERSION, "DocuSign account-level subscriptions", 0, dsg_init)
