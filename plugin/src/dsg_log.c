/*
 * dsg_log.c: bounded formatting of log lines for the host's log_write.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dsg_ctx.h"
#include "dsg_log.h"

static size_t vformat(char *buf, size_t len, const char *fmt, va_list ap) {
  int n;

  if (buf == NULL || len == 0)
    return 0;
  n = vsnprintf(buf, len, fmt, ap);
  if (n < 0) {
    buf[0] = '\0';
    return 0;
  }
  if ((size_t)n >= len) {
    /* Truncated: say so rather than cutting silently. */
    if (len > 4)
      memcpy(buf + len - 4, "...", 4);
    return strlen(buf);
  }
  return (size_t)n;
}

size_t dsg_log_format(char *buf, size_t len, const char *fmt, ...) {
  va_list ap;
  size_t n;

  va_start(ap, fmt);
  n = vformat(buf, len, fmt, ap);
  va_end(ap);
  return n;
}

void dsg_logf(dsg_ctx *ctx, sam_job *job, int level, const char *fmt, ...) {
  char line[DSG_LOG_LINE_MAX];
  va_list ap;
  size_t n;

  if (ctx == NULL || ctx->api == NULL || ctx->api->log_write == NULL)
    return;
  va_start(ap, fmt);
  n = vformat(line, sizeof(line), fmt, ap);
  va_end(ap);
  ctx->api->log_write(ctx->host, job, (int32_t)level, line, n);
}
