/*
 * dsg_log.h: the plugin's log lines, through the host's log_write.
 */
#ifndef DSG_LOG_H
#define DSG_LOG_H

#include "sam/sam_plugin.h"

typedef struct dsg_ctx dsg_ctx;

/* Longest line dsg_logf passes on; longer text is truncated with "...". */
#define DSG_LOG_LINE_MAX 1024

/*
 * Formats one line with a bounded vsnprintf and hands it to
 * api->log_write (which copies and redacts it). Never pass a token, secret,
 * OAuth code or Authorization value as an argument (ABI.md 9.8); the host's
 * redaction is the second line of defence, not the first.
 *
 * Thread:    loop thread.
 * Ownership: job may be NULL; it must not have completed (C2).
 * Returns:   nothing; a NULL ctx is ignored.
 */
void dsg_logf(dsg_ctx *ctx, sam_job *job, int level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * Formats into buf (len bytes) with vsnprintf, marking truncation with a
 * trailing "...". Returns the length written. Pure; used by dsg_logf.
 */
size_t dsg_log_format(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif /* DSG_LOG_H */
