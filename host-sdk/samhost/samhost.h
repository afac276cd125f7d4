/*
 * samhost.h: what the files of the `samhost` executable share: the exit
 * codes, the data directory, the command entry points and the CLI's HTTP
 * client. The executable links libsamhost (samhost_static).
 *
 * Thread: the CLI commands run on the main thread without an event loop
 * (they may block); `serve` runs everything on its libuv loop.
 */
#ifndef SAMHOST_H
#define SAMHOST_H

#include <stddef.h>

#include <json-c/json.h>

/* ---- exit codes (documented in `samhost --help`) ---- */
#define SH_EXIT_OK 0
#define SH_EXIT_USAGE 1
#define SH_EXIT_REMOTE 2 /* the server or the data refused: the message */
#define SH_EXIT_UNREACHABLE 3
#define SH_EXIT_AUTH 4
#define SH_EXIT_INTERNAL 70 /* serve: a handle was left on the loop */

#define SH_DEFAULT_LISTEN "127.0.0.1:8080"

/* ---- options every command understands ---- */
typedef struct sh_global {
  const char *data_dir;   /* --data-dir or $SAM_DATA_DIR or the default */
  const char *server;     /* --server URL */
  const char *token;      /* --token (or $SAM_ADMIN_TOKEN) */
  const char *token_file; /* --token-file */
  int json;               /* --json: print the raw reply */
  int help;               /* --help / -h */
} sh_global;

/*
 * Takes the global options out of argv (anywhere on the line), leaving the
 * others in order. Returns 0, or SH_EXIT_USAGE after printing the problem.
 */
int sh_global_parse(int *argc, char **argv, sh_global *g);

/* ---- the data directory (datadir.c) ---- */

/* The default data directory: $SAM_DATA_DIR, else $XDG_DATA_HOME/samhost,
 * else $HOME/.local/share/samhost. Static storage. */
const char *sh_default_data_dir(void);
/* Creates the directory (and parents) with mode 0700 when missing. 0 or -1
 * with a message on stderr. */
int sh_data_dir_ensure(const char *dir);
/* dir + "/" + name into a malloc'd string (caller frees); NULL on ENOMEM. */
char *sh_path(const char *dir, const char *name);

/*
 * Takes the data directory's lock (an fcntl write lock on samhost.lock,
 * which holds the owner's pid and URL). Returns the open fd (keep it open:
 * closing releases the lock), or -1 when another process holds it (its
 * pid in *holder, when readable) or on error (*holder = 0), with a message
 * on stderr naming what to do.
 */
int sh_lock_take(const char *dir, const char *what, long *holder);
/* Rewrites the lock file's content: "<pid>\n<url>\n". */
void sh_lock_write(int fd, const char *url);
/* The URL a running server wrote into the lock file of `dir`, malloc'd, or
 * NULL when none is known. */
char *sh_lock_read_url(const char *dir);

/* ---- the CLI's HTTP client (cli_http.c) ---- */

typedef struct sh_reply {
  long status; /* HTTP status */
  char *body;  /* NUL-terminated; owned */
  size_t len;
  json_object *json; /* parsed body or NULL; owned */
} sh_reply;

/*
 * One request to the server's REST API with the admin token. `path`
 * includes the query. `body` (may be NULL) is sent as application/json.
 * Returns SH_EXIT_OK for 2xx; otherwise prints the server's message (or
 * the transport error) on stderr and returns SH_EXIT_REMOTE,
 * SH_EXIT_UNREACHABLE or SH_EXIT_AUTH. The reply is filled whenever an
 * HTTP answer came; free it with sh_reply_free.
 */
int sh_request(const sh_global *g,
               const char *method,
               const char *path,
               const char *body,
               sh_reply *out);
void sh_reply_free(sh_reply *r);

/* Percent-encodes one path segment or query value (malloc'd). */
char *sh_escape(const char *s);

/* ---- output (cli_output.c) ---- */

/* Prints the reply's JSON as is (pretty) on stdout. */
void sh_print_json(const sh_reply *r);
/*
 * Prints an array of objects as a table with the given columns (each a
 * top-level key, or "a.b" for one nested level); strings as they are,
 * other values as JSON text.
 */
void sh_print_table(json_object *items, const char *const *cols);
/* Prints an object's top-level fields as "key: value" lines. */
void sh_print_object(json_object *o);
/* The string of key (nested "a.b" allowed), or NULL. Borrowed. */
const char *sh_jstr(json_object *o, const char *key);

/* ---- request bodies from options (cli_body.c) ---- */

typedef struct sh_body {
  json_object *base;       /* --json-body, or NULL */
  json_object *fields;     /* --field pairs (object) */
  const char *secrets[16]; /* --secret-stdin names, in order */
  size_t n_secrets;
} sh_body;

/*
 * Takes argv[*i] if it is --field NAME=VALUE (a string), --field
 * NAME:=JSON (any JSON value), --json-body FILE|- or --secret-stdin NAME,
 * advancing *i past its value. Returns 1 when taken, 0 when argv[*i] is
 * not one of them, -1 on a usage error (printed).
 */
int sh_body_opt(sh_body *b, int *i, int argc, char **argv);
/*
 * The body's text, malloc'd (caller frees): --json-body (or {}) with the
 * fields and the secrets (one line of stdin each, in order) merged in at
 * the top level, or inside the object `nest` (e.g. "form") when non-NULL.
 * *out is NULL when nothing was given. Returns 0 or SH_EXIT_USAGE.
 */
int sh_body_text(sh_body *b, const char *nest, char **out);
void sh_body_free(sh_body *b);

/* Value of "--name VALUE" or "--name=VALUE" at argv[*i]: returns 1 and
 * sets *v (advancing *i) when argv[*i] is that option, 0 when it is not,
 * -1 when the value is missing (printed). */
int sh_opt_value(
    const char *name, int *i, int argc, char **argv, const char **v);

/* ---- commands ----
 *
 * Each runs `samhost <command> ...`: argv[0] is the command's name, the
 * global options are already taken out into g. Thread: the main thread
 * (serve runs its own loop there until SIGINT/SIGTERM). Returns the exit
 * code (SH_EXIT_*), after printing any problem on stderr.
 */
int sh_cmd_serve(int argc, char **argv, sh_global *g);
int sh_cmd_profile(int argc, char **argv, sh_global *g);
int sh_cmd_action(int argc, char **argv, sh_global *g);
int sh_cmd_job(int argc, char **argv, sh_global *g);
int sh_cmd_list(int argc, char **argv, sh_global *g);
int sh_cmd_plugins(int argc, char **argv, sh_global *g);
int sh_cmd_key(int argc, char **argv, sh_global *g);
int sh_cmd_token(int argc, char **argv, sh_global *g);

/* The lines about exit codes and global options every --help ends with. */
void sh_help_common(void);

#endif /* SAMHOST_H */
