/*
 * dsg_embed.h: the schemas/docusign-*.json files compiled into the plugin
 * (generated into the build directory's dsg_embedded.c by SamEmbed.cmake).
 * Each array is NUL-terminated; _len excludes the NUL. Static data.
 */
#ifndef DSG_EMBED_H
#define DSG_EMBED_H

#include <stddef.h>

#define DSG_EMBED_DECLARE(stem)                                                \
  extern const char dsg_embed_##stem[];                                        \
  extern const size_t dsg_embed_##stem##_len

DSG_EMBED_DECLARE(docusign_profile_form);
DSG_EMBED_DECLARE(docusign_consumption);
DSG_EMBED_DECLARE(docusign_download_state);
DSG_EMBED_DECLARE(docusign_reclaim_intent);
DSG_EMBED_DECLARE(docusign_model_catalog);
DSG_EMBED_DECLARE(docusign_rule_templates);

#undef DSG_EMBED_DECLARE

#endif /* DSG_EMBED_H */
