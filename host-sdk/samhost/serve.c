/*
 * serve.c: `samhost serve`. One libuv loop owns everything. Start-up, in
 * order: data directory and its lock, the HTTP listener (bound first so
 * the default public URL knows the port, answering 503 until ready),
 * keyring, SQLite backend, runtime, plugins (crash probe first for a new
 * name+version), scheduler, service layer (its start renews the published
 * profiles' jobs), admin token, scheduler start (catch-up), then the routes are
 * served and one JSON line goes to stdout. SIGINT/SIGTERM close in
 * ABI.md 13.3's order: HTTP and service layer together (stop accepting; waiting
 * actions cancelled; requests in flight answered), scheduler (cancels jobs;
 * each completes), runtime (plugins' async shutdown, then the backend), signal
 * handles. The loop must close with no handle left, or the exit code is
 * SH_EXIT_INTERNAL.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <uv.h>

#include "sam/sam_loader.h"
#include "sam_admin_token.h"
#include "sam_backend_sqlite.h"
#include "sam_core.h"
#include "sam_hostsvc.h"
#include "sam_http.h"
#include "sam_sched.h"
#include "sam_seal.h"
#include "samhost.h"
#include "serve.h"

#define MAX_PLUGINS 32

typedef struct serve {
  uv_loop_t loop;
  uv_signal_t sig_int;
  uv_signal_t sig_term;
  int signals_open;
  sam__keyring *kr;
  sam_runtime *rt;
  sam_sched *sched;
  sam_hostsvc *svc;
  sam__http_api *api;
  sam__httpd *httpd;
  sam__admin_token token;
  json_object *plugins; /* [{"name", "manifest"}] of the loaded ones */
  int lock_fd;
  int ready;    /* started: routes are served */
  int starting; /* start steps (service layer, scheduler) not done */
  char addr[300];
  char url[320];
  int stopping;
  int front_open; /* HTTP server and service layer still closing */
  int exit_code;
  sam__backend store;   /* copy of the runtime's backend, for retention */
  uv_timer_t retention; /* purges usage events older than a year, daily */
  int retention_open;

  /* options */
  const char *data_dir;
  char listen_host[256];
  int listen_port;
  const char *public_url;
  const char *key_file;
  const char *web_dir;
  const char *daily_at;
  double time_scale;
  uint32_t cache_mib;
  int test_mode;
  char *manifests[MAX_PLUGINS];
  char *configs[MAX_PLUGINS];
  size_t n_plugins;
} serve;

static void help(void) {
  printf(
      "Usage: samhost serve [options]\n\n"
      "Runs the host: loads the plugins, serves the REST API, the OAuth\n"
      "redirect and the admin pages, and runs the scheduler. Prints the\n"
      "admin token once (first run) and then one JSON line:\n"
      "  {\"listen\":\"127.0.0.1:8080\",\"pid\":123,\"plugins\":[...]}\n"
      "Stops cleanly on SIGINT or SIGTERM.\n\n"
      "Options:\n"
      "  --listen HOST:PORT     address (default " SH_DEFAULT_LISTEN
      "; port 0 picks\n"
      "                         a free one)\n"
      "  --public-url URL       the URL browsers use (default "
      "http://<listen>)\n"
      "  --plugin MANIFEST      load this plugin (repeatable; default: the\n"
      "                         DocuSign plugin of the build or install)\n"
      "  --plugin-config JSON   config_json of the previous --plugin\n"
      "  --master-key-file F    key file (default DATA_DIR/master.key);\n"
      "                         $SAM_MASTER_KEY (base64, 32 bytes) wins\n"
      "  --web-dir DIR          static admin pages\n"
      "  --test-mode            validate every record write; plugins may use\n"
      "                         loopback http instance URLs\n"
      "  --time-scale X         scheduler clock speed (86400 = a day per s)\n"
      "  --daily-at HH:MM       daily run time, UTC (default 02:00)\n"
      "  --sqlite-cache-mib N   SQLite page cache, MiB (default 16)\n");
  sh_help_common();
}

/* ---- options ---- */

static int parse_listen(serve *s, const char *v) {
  const char *colon;
  char *end;
  long port;
  size_t hl;

  if (v[0] == '[') { /* [::1]:8080 */
    const char *rb = strchr(v, ']');
    if (rb == NULL || rb[1] != ':')
      return -1;
    hl = (size_t)(rb - v - 1);
    if (hl == 0 || hl >= sizeof(s->listen_host))
      return -1;
    memcpy(s->listen_host, v + 1, hl);
    colon = rb + 1;
  } else {
    colon = strrchr(v, ':');
    if (colon == NULL)
      return -1;
    hl = (size_t)(colon - v);
    if (hl == 0 || hl >= sizeof(s->listen_host))
      return -1;
    memcpy(s->listen_host, v, hl);
  }
  s->listen_host[hl] = '\0';
  port = strtol(colon + 1, &end, 10);
  if (*end != '\0' || colon[1] == '\0' || port < 0 || port > 65535)
    return -1;
  s->listen_port = (int)port;
  return 0;
}

static int parse_args(serve *s, int argc, char **argv) {
  int i;

  if (parse_listen(s, SH_DEFAULT_LISTEN) != 0)
    return SH_EXIT_USAGE;
  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = NULL;
    const char *eq = strchr(a, '=');
    char name[64];

    if (strncmp(a, "--", 2) != 0 || strcmp(a, "--test-mode") == 0) {
      if (strcmp(a, "--test-mode") == 0) {
        s->test_mode = 1;
        continue;
      }
      fprintf(stderr, "samhost serve: unexpected argument [%s]\n", a);
      return SH_EXIT_USAGE;
    }
    snprintf(name, sizeof(name), "%.*s",
             (int)(eq != NULL ? (size_t)(eq - a) : strlen(a)), a);
    if (eq != NULL)
      v = eq + 1;
    else if (i + 1 < argc)
      v = argv[++i];
    if (v == NULL) {
      fprintf(stderr, "samhost serve: option needs a value [%s]\n", name);
      return SH_EXIT_USAGE;
    }
    if (strcmp(name, "--listen") == 0) {
      if (parse_listen(s, v) != 0) {
        fprintf(stderr,
                "samhost serve: bad --listen [%s]; give HOST:PORT, e.g. "
                "127.0.0.1:0\n",
                v);
        return SH_EXIT_USAGE;
      }
    } else if (strcmp(name, "--public-url") == 0) {
      s->public_url = v;
    } else if (strcmp(name, "--plugin") == 0) {
      if (s->n_plugins == MAX_PLUGINS) {
        fprintf(stderr, "samhost serve: too many plugins [max=%d]\n",
                MAX_PLUGINS);
        return SH_EXIT_USAGE;
      }
      s->manifests[s->n_plugins++] = (char *)v;
    } else if (strcmp(name, "--plugin-config") == 0) {
      if (s->n_plugins == 0) {
        fprintf(stderr, "samhost serve: --plugin-config follows a --plugin\n");
        return SH_EXIT_USAGE;
      }
      s->configs[s->n_plugins - 1] = (char *)v;
    } else if (strcmp(name, "--master-key-file") == 0) {
      s->key_file = v;
    } else if (strcmp(name, "--web-dir") == 0) {
      s->web_dir = v;
    } else if (strcmp(name, "--daily-at") == 0) {
      uint32_t sec;
      if (sam__sched_parse_daily(v, &sec) != 0) {
        fprintf(stderr, "samhost serve: bad --daily-at [%s]; give HH:MM\n", v);
        return SH_EXIT_USAGE;
      }
      s->daily_at = v;
    } else if (strcmp(name, "--time-scale") == 0) {
      char *end;
      s->time_scale = strtod(v, &end);
      if (*end != '\0' || s->time_scale <= 0) {
        fprintf(stderr, "samhost serve: bad --time-scale [%s]\n", v);
        return SH_EXIT_USAGE;
      }
    } else if (strcmp(name, "--sqlite-cache-mib") == 0) {
      char *end;
      unsigned long n = strtoul(v, &end, 10);
      if (*end != '\0' || v[0] < '0' || v[0] > '9' || n < 1 ||
          n > SAM__SQLITE_CACHE_MIB_MAX) {
        fprintf(stderr,
                "samhost serve: bad --sqlite-cache-mib [%s]; give 1..%u\n", v,
                SAM__SQLITE_CACHE_MIB_MAX);
        return SH_EXIT_USAGE;
      }
      s->cache_mib = (uint32_t)n;
    } else {
      fprintf(stderr, "samhost serve: unknown option [%s]; see --help\n", name);
      return SH_EXIT_USAGE;
    }
  }
  return 0;
}

/* ---- shutdown, in ABI.md 13.3's order ---- */

static void noop_close(uv_handle_t *h) {
  (void)h;
}

static void after_runtime(void *ud) {
  serve *s = ud;

  if (s->signals_open) {
    s->signals_open = 0;
    uv_close((uv_handle_t *)&s->sig_int, noop_close);
    uv_close((uv_handle_t *)&s->sig_term, noop_close);
  }
}

static void after_sched(void *ud) {
  serve *s = ud;

  if (s->rt != NULL)
    sam_runtime_close(s->rt, after_runtime, s); /* closes the backend too */
  else
    after_runtime(s);
}

/* The HTTP server and the service layer close together (ABI.md 13.3 step
 * 1): the listener closes at once, the service cancels the actions that
 * requests wait for and answers 503 to anything new on a kept-alive
 * connection, so the requests in flight are answered quickly. */
static void after_front(void *ud) {
  serve *s = ud;

  if (--s->front_open > 0)
    return;
  if (s->sched != NULL)
    sam_sched_close(s->sched, after_sched, s); /* cancels jobs; each ends */
  else
    after_sched(s);
}

static void stop(serve *s) {
  if (s->stopping)
    return;
  s->stopping = 1;
  if (s->retention_open) {
    s->retention_open = 0;
    uv_close((uv_handle_t *)&s->retention, noop_close);
  }
  s->front_open = 2;
  if (s->httpd != NULL)
    sam__httpd_close(s->httpd, after_front, s);
  else
    after_front(s);
  if (s->svc != NULL)
    sam_hostsvc_close(s->svc, after_front, s);
  else
    after_front(s);
}

static void on_signal(uv_signal_t *h, int signum) {
  serve *s = h->data;

  if (!s->stopping)
    fprintf(stderr, "samhost: %s received, stopping\n",
            signum == SIGINT ? "SIGINT" : "SIGTERM");
  stop(s);
}

/* ---- start-up ---- */

static void on_log(void *ud,
                   int32_t level,
                   const char *plugin,
                   const char *job_id,
                   const char *line) {
  static const char *const names[] = {"error", "warn", "info", "debug"};

  (void)ud;
  fprintf(stderr, "samhost: [%s] [%s]%s%s%s %s\n",
          level >= 0 && level <= 3 ? names[level] : "log",
          plugin != NULL ? plugin : "host", job_id != NULL ? " [job=" : "",
          job_id != NULL ? job_id : "", job_id != NULL ? "]" : "", line);
}

static int open_token(serve *s) {
  char *path = sh_path(s->data_dir, SAM__ADMIN_TOKEN_FILE);
  char err[512] = "", tok[SAM__ADMIN_TOKEN_LEN];
  int rc;

  if (path == NULL)
    return -1;
  rc = sam__admin_token_load(path, &s->token, err, sizeof(err));
  if (rc == SAM_ENOENT) {
    rc = sam__admin_token_create(path, tok, sizeof(tok), &s->token, err,
                                 sizeof(err));
    if (rc == 0) {
      printf("admin token (shown once): %s\n", tok);
      fflush(stdout);
      OPENSSL_cleanse(tok, sizeof(tok));
    }
  }
  if (rc != 0)
    fprintf(stderr, "samhost: %s\n", err);
  free(path);
  return rc;
}

/* Until the scheduler has started, the listener is bound (so the public
 * URL knows its port) but every request is answered 503. */
static int on_http_req(h2o_req_t *req, void *ud) {
  serve *s = ud;

  if (s->ready && s->api != NULL)
    return sam__http_api_on_req(req, s->api);
  sam__http_security_headers(req);
  sam__httpd_add_header(req, "Retry-After", "1");
  sam__http_send_error(req, 503, "SAM_EAGAIN",
                       s->stopping ? "the host is stopping"
                                   : "the host is starting; retry");
  return 0;
}

/* Binds the listener; fills s->addr ("127.0.0.1:8080") and s->url. */
static int bind_http(serve *s) {
  sam__httpd_config hc;
  char err[512] = "";
  int rc;

  memset(&hc, 0, sizeof(hc));
  hc.loop = &s->loop;
  hc.host = s->listen_host;
  hc.port = s->listen_port;
  hc.on_req = on_http_req;
  hc.ud = s;
  rc = sam__httpd_start(&hc, &s->httpd, err, sizeof(err));
  if (rc != 0) {
    fprintf(stderr, "samhost: %s\n", err);
    return rc;
  }
  snprintf(s->addr, sizeof(s->addr),
           strchr(s->listen_host, ':') != NULL ? "[%s]:%d" : "%s:%d",
           s->listen_host, sam__httpd_port(s->httpd));
  snprintf(s->url, sizeof(s->url), "http://%s", s->addr);
  return 0;
}

/* The host is ready: serve the routes, tell the CLI where (lock file), and
 * print the JSON line. */
static int announce(serve *s) {
  json_object *line;

  s->ready = 1;
  sh_lock_write(s->lock_fd, s->url);
  line = json_object_new_object();
  if (line == NULL)
    return SAM_ENOMEM;
  json_object_object_add(line, "listen", json_object_new_string(s->addr));
  json_object_object_add(line, "url", json_object_new_string(s->url));
  json_object_object_add(line, "public_url",
                         json_object_new_string(s->public_url));
  json_object_object_add(line, "pid", json_object_new_int64((int64_t)getpid()));
  json_object_object_add(line, "plugins", json_object_get(s->plugins));
  json_object_object_add(line, "data_dir", json_object_new_string(s->data_dir));
  printf("%s\n",
         json_object_to_json_string_ext(
             line, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
  fflush(stdout);
  json_object_put(line);
  return 0;
}

/* The service layer's start waits for the scheduler to write the renewed
 * jobs, which it does while it starts: both run at once, and the host is
 * ready when both have finished. */
static void start_step_done(serve *s) {
  if (--s->starting > 0 || s->stopping)
    return;
  if (s->exit_code != 0 || announce(s) != 0) {
    if (s->exit_code == 0)
      s->exit_code = SH_EXIT_REMOTE;
    stop(s);
  }
}

static void on_sched_started(int status, void *ud) {
  serve *s = ud;

  if (status != 0) {
    fprintf(stderr, "samhost: the scheduler did not start [%s]\n",
            sam_err_name(status));
    s->exit_code = SH_EXIT_REMOTE;
  }
  start_step_done(s);
}

static void on_svc_started(int status, void *ud) {
  serve *s = ud;

  if (status != 0)
    fprintf(stderr,
            "samhost: renewing the published profiles' jobs failed [%s]; "
            "their stored jobs run as they are\n",
            sam_err_name(status));
  start_step_done(s);
}

/* ---- retention: usage events are kept one year (SAM-MODEL.md 12) ---- */

/* How often the purge runs, and how long after start the first one does. */
#define RETENTION_EVERY_MS (24u * 3600u * 1000u)
#define RETENTION_FIRST_MS (60u * 1000u)

static void on_purged(int status, int64_t count, const char *errmsg, void *ud) {
  (void)ud;
  if (status != 0)
    fprintf(stderr, "samhost: usage-event purge failed [%s] [%s]\n",
            sam_err_name(status), errmsg != NULL ? errmsg : "");
  else if (count > 0)
    fprintf(stderr,
            "samhost: purged [%lld] usage events older than 365 "
            "days\n",
            (long long)count);
}

static void on_retention(uv_timer_t *t) {
  serve *s = t->data;
  int rc;

  if (s->stopping)
    return;
  rc = sam__sqlite_usage_purge(&s->store, 0, 365, on_purged, s);
  if (rc != 0)
    fprintf(stderr,
            "samhost: usage-event purge not queued [%s]; next try "
            "in a day\n",
            sam_err_name(rc));
}

static int retention_start(serve *s) {
  int rc = uv_timer_init(&s->loop, &s->retention);

  if (rc != 0)
    return rc;
  s->retention.data = s;
  s->retention_open = 1;
  return uv_timer_start(&s->retention, on_retention, RETENTION_FIRST_MS,
                        RETENTION_EVERY_MS);
}

/* Everything up to the scheduler's start. On failure, what was made is
 * closed by stop() on the loop. */
static int start(serve *s) {
  sam__runtime_config rc_cfg;
  sam__sqlite_opts sq_opts;
  sam_sched_config sc;
  sam_hostsvc_config hc;
  sam__backend backend;
  sam__http_api_config ac;
  char err[512] = "";
  char *db = NULL, *key = NULL;
  int rc = -1;

  if (sh_data_dir_ensure(s->data_dir) != 0)
    return -1;
  {
    long holder;
    s->lock_fd = sh_lock_take(s->data_dir, "serve", &holder);
    if (s->lock_fd < 0)
      return -1;
  }
  if (bind_http(s) != 0)
    return -1;
  key = s->key_file != NULL ? strdup(s->key_file)
                            : sh_path(s->data_dir, "master.key");
  db = sh_path(s->data_dir, "samhost.db");
  if (key == NULL || db == NULL)
    goto done;
  if (sam__keyring_load(getenv("SAM_MASTER_KEY"), key, 1, &s->kr, err,
                        sizeof(err)) != 0) {
    fprintf(stderr, "samhost: %s\n", err);
    goto done;
  }
  memset(&sq_opts, 0, sizeof(sq_opts));
  sq_opts.cache_mib = s->cache_mib;
  if (sam__backend_sqlite_open(&s->loop, db, &sq_opts, &backend, err,
                               sizeof(err)) != 0) {
    fprintf(stderr, "samhost: %s\n", err);
    goto done;
  }
  memset(&rc_cfg, 0, sizeof(rc_cfg));
  rc_cfg.loop = &s->loop;
  rc_cfg.backend = backend;
  rc_cfg.keyring = s->kr;
  rc_cfg.log_fn = on_log;
  rc_cfg.test_mode = s->test_mode;
  if (sam__runtime_new(&rc_cfg, &s->rt) != 0) {
    fprintf(stderr, "samhost: cannot create the runtime\n");
    backend.vt->close(backend.self, NULL, NULL);
    goto done;
  }
  s->store = backend; /* the runtime owns it; the copy only queues purges */
  if (retention_start(s) != 0) {
    fprintf(stderr, "samhost: cannot start the retention timer\n");
    goto done;
  }
  s->plugins = json_object_new_array();
  if (s->plugins == NULL)
    goto done;
  (void)sh_plugins_load(s->rt, s->data_dir, s->manifests, s->configs,
                        s->n_plugins, s->plugins);
  memset(&sc, 0, sizeof(sc));
  sc.rt = s->rt;
  sc.time_scale = s->time_scale;
  sc.daily_at = s->daily_at;
  sc.catch_up = 1;
  if (sam_sched_new(&sc, &s->sched, err, sizeof(err)) != 0) {
    fprintf(stderr, "samhost: %s\n", err);
    goto done;
  }
  if (s->public_url == NULL)
    s->public_url = s->url; /* the bound port, also when --listen said 0 */
  memset(&hc, 0, sizeof(hc));
  hc.rt = s->rt;
  hc.sched = s->sched;
  hc.public_url = s->public_url;
  hc.test_mode = s->test_mode;
  hc.audit = &backend; /* copied; the runtime owns and closes the store */
  if (sam_hostsvc_new(&hc, &s->svc, err, sizeof(err)) != 0) {
    fprintf(stderr, "samhost: %s\n", err);
    goto done;
  }
  if (open_token(s) != 0)
    goto done;
  memset(&ac, 0, sizeof(ac));
  ac.svc = s->svc;
  ac.token = &s->token;
  ac.web_dir = s->web_dir;
  if (sam__http_api_new(&ac, &s->api) != 0)
    goto done;
  /* the published profiles' jobs get their current profile JSON before
   * the scheduler loads them */
  s->starting = 2;
  if (sam_hostsvc_start(s->svc, on_svc_started, s) != 0)
    goto done;
  sam_sched_start(s->sched, on_sched_started, s);
  rc = 0;

done:
  free(db);
  free(key);
  return rc;
}

static void walk_report(uv_handle_t *h, void *ud) {
  (void)ud;
  fprintf(stderr, "samhost: handle left open [type=%s] [closing=%d]\n",
          uv_handle_type_name(uv_handle_get_type(h)), uv_is_closing(h));
}

/*
 * See samhost.h. Runs until SIGINT/SIGTERM; returns 0 after a clean stop.
 */
int sh_cmd_serve(int argc, char **argv, sh_global *g) {
  serve *s;
  int rc;

  if (g->help) {
    help();
    return SH_EXIT_OK;
  }
  s = calloc(1, sizeof(*s));
  if (s == NULL)
    return SH_EXIT_REMOTE;
  s->lock_fd = -1;
  s->data_dir = g->data_dir;
  rc = parse_args(s, argc, argv);
  if (rc != 0)
    goto out;
  if (s->n_plugins == 0) {
    const char *def = sh_default_plugin_manifest();
    if (def != NULL)
      s->manifests[s->n_plugins++] = (char *)def;
    else
      fprintf(stderr, "samhost: no plugin given and the DocuSign plugin was "
                      "not found; pass --plugin MANIFEST\n");
  }
  if (s->web_dir == NULL)
    s->web_dir = sh_default_web_dir();
  /* every file the host creates is private to its user */
  (void)umask(077);
  /* a peer closing its socket must not kill the host */
  signal(SIGPIPE, SIG_IGN);
  rc = uv_loop_init(&s->loop);
  if (rc != 0) {
    fprintf(stderr, "samhost: uv_loop_init failed [%s]\n", uv_strerror(rc));
    rc = SH_EXIT_REMOTE;
    goto out;
  }
  if (uv_signal_init(&s->loop, &s->sig_int) == 0 &&
      uv_signal_init(&s->loop, &s->sig_term) == 0) {
    s->signals_open = 1;
    s->sig_int.data = s;
    s->sig_term.data = s;
    if (uv_signal_start(&s->sig_int, on_signal, SIGINT) != 0 ||
        uv_signal_start(&s->sig_term, on_signal, SIGTERM) != 0)
      fprintf(stderr, "samhost: cannot watch SIGINT/SIGTERM\n");
  }
  if (start(s) != 0) {
    s->exit_code = SH_EXIT_REMOTE;
    stop(s);
  }
  (void)uv_run(&s->loop, UV_RUN_DEFAULT);
  sam__httpd_free(s->httpd);
  sam__http_api_free(s->api);
  sam_hostsvc_free(s->svc);
  sam_sched_free(s->sched);
  sam_runtime_free(s->rt);
  /* freeing may have closed a last handle: let it finish */
  (void)uv_run(&s->loop, UV_RUN_DEFAULT);
  rc = uv_loop_close(&s->loop);
  if (rc != 0) {
    /* the test contract: a leaked handle fails the exit code */
    uv_walk(&s->loop, walk_report, NULL);
    fprintf(stderr, "samhost: the loop did not close [%s]\n", uv_strerror(rc));
    rc = SH_EXIT_INTERNAL;
  } else {
    rc = s->exit_code;
  }
  if (rc == 0)
    fprintf(stderr, "samhost: stopped cleanly\n");

out:
  sam__keyring_free(s->kr);
  json_object_put(s->plugins);
  if (s->lock_fd >= 0)
    close(s->lock_fd);
  free(s);
  return rc;
}
