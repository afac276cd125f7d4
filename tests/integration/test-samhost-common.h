/*
 * test-samhost-common.h: helpers for the tests that drive the `samhost`
 * executable as a child process: start `samhost serve` on 127.0.0.1:0 and
 * read its port and admin token from stdout, stop it with a signal and get
 * its exit status, plain HTTP requests with libcurl, CLI runs with their
 * output and exit code, and a scan of a directory for a string.
 */
#ifndef TEST_SAMHOST_COMMON_H
#define TEST_SAMHOST_COMMON_H

#include <stddef.h>
#include <sys/types.h>

typedef struct th_server {
  pid_t pid;
  int port;
  char token[128]; /* "" when this start printed none (not the first) */
  char line[4096]; /* the JSON line */
  char url[64];
} th_server;

/*
 * Starts `samhost serve --data-dir DIR --listen 127.0.0.1:0 --plugin M
 * [extra...]` (extra is NULL-terminated, may be NULL) and waits for its
 * JSON line. Returns 0, or -1 when the child exited first (*exit_status
 * then holds its exit code, when exit_status is non-NULL).
 */
int th_server_start(const char *data_dir,
                    const char *const *extra,
                    th_server *s,
                    int *exit_status);

/* Sends `sig` and waits: the exit code, or 128 + signal when killed. */
int th_server_stop(th_server *s, int sig);

typedef struct th_resp {
  long status;
  char *headers; /* all header lines, lower-cased names */
  char *body;
} th_resp;

/*
 * One HTTP request to 127.0.0.1:port. token NULL = no Authorization;
 * ctype NULL = no Content-Type; body NULL = none; the path is sent as is
 * (no dot-segment removal); "X-SAM-CSRF: 1" is sent unless th_no_csrf.
 * Returns 0 (resp filled) or -1 (no answer).
 */
int th_http(int port,
            const char *method,
            const char *path,
            const char *token,
            const char *ctype,
            const char *body,
            size_t body_len,
            th_resp *resp);
void th_resp_free(th_resp *r);
/* Set to 1 to send requests without the X-SAM-CSRF: 1 header. */
extern int th_no_csrf;
/* The value of header `name` (lower case) in r, malloc'd, or NULL. */
char *th_header(const th_resp *r, const char *name);

/*
 * Runs `samhost ARGS...` (NULL-terminated) with SAM_ADMIN_TOKEN=token in
 * the environment when token is non-NULL, stdin from `input` (may be
 * NULL), and returns its exit code; *out (may be NULL) receives stdout
 * (malloc'd).
 */
int th_cli(const char *token, const char *input, char **out, ...);

/* 1 when any regular file under dir (recursively) contains needle. */
int th_dir_contains(const char *dir, const char *needle);

/* Makes a fresh private temporary directory (template in buf). */
void th_tmpdir(char *buf, size_t n, const char *tag);
/* rm -r of a test directory. */
void th_rmrf(const char *dir);

#endif /* TEST_SAMHOST_COMMON_H */
