/*
 * cli_job.c: `samhost job run|list|results`. `job run --wait` polls the
 * job result and draws a progress bar on a terminal (plain lines when
 * stdout is not one).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "samhost.h"

#define POLL_MS 400

static void help(void) {
  printf("Usage:\n"
         "  samhost job run JOB_KEY | --profile P [--process ID]\n"
         "                  [--wait] [--dry-run] [--confirm]\n"
         "  samhost job list [--profile P]\n"
         "  samhost job results [JOB_ID] [--profile P]\n\n"
         "JOB_KEY is <profile_id>:<process_id> (see `samhost job list`);\n"
         "--process defaults to download. --confirm is needed for processes\n"
         "that change the remote service (reclaim) unless --dry-run.\n"
         "--wait follows the run to its end (progress bar on a terminal)\n"
         "and exits 0 only when it succeeded.\n");
  sh_help_common();
}

static char *with_query(const char *base, const char *key, const char *val) {
  char *e = val != NULL ? sh_escape(val) : NULL;
  size_t n = strlen(base) + (e ? strlen(key) + strlen(e) + 3 : 0) + 1;
  char *p = malloc(n);

  if (p != NULL) {
    if (e != NULL)
      snprintf(p, n, "%s?%s=%s", base, key, e);
    else
      snprintf(p, n, "%s", base);
  }
  free(e);
  return p;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

  while (nanosleep(&ts, &ts) != 0)
    ;
}

/* {done,total,message} of a job result: the live progress, else stored. */
static json_object *progress_of(json_object *rec) {
  json_object *p = NULL;

  if (json_object_object_get_ex(rec, "live", &p) && p != NULL &&
      json_object_is_type(p, json_type_object))
    return p;
  if (json_object_object_get_ex(rec, "progress", &p) && p != NULL &&
      json_object_is_type(p, json_type_object))
    return p;
  return NULL;
}

static void show_progress(json_object *rec, int tty, char *last, size_t n) {
  json_object *p = progress_of(rec), *v;
  long long done = 0, total = 0;
  const char *msg = NULL;
  char line[256];

  if (p != NULL) {
    if (json_object_object_get_ex(p, "done", &v))
      done = json_object_get_int64(v);
    if (json_object_object_get_ex(p, "total", &v))
      total = json_object_get_int64(v);
    msg = sh_jstr(p, "message");
    if (msg == NULL)
      msg = sh_jstr(p, "msg");
  }
  if (tty) {
    int width = 30, fill = total > 0 ? (int)(done * width / total) : 0, i;
    char bar[64];
    if (fill > width)
      fill = width;
    for (i = 0; i < width; i++)
      bar[i] = i < fill ? '#' : '.';
    bar[width] = '\0';
    if (total > 0)
      printf("\r[%s] %3lld%% %lld/%lld %-30.30s", bar, done * 100 / total, done,
             total, msg ? msg : "");
    else
      printf("\r[%s] %lld %-30.30s", bar, done, msg ? msg : "");
    fflush(stdout);
    return;
  }
  snprintf(line, sizeof(line), "progress %lld/%lld %s", done, total,
           msg ? msg : "");
  if (strcmp(line, last) != 0) {
    printf("%s\n", line);
    fflush(stdout);
    snprintf(last, n, "%s", line);
  }
}

static int wait_for(const sh_global *g, const char *job_id) {
  char *esc = sh_escape(job_id), path[512], last[256] = "";
  int tty = isatty(STDOUT_FILENO) && !g->json, misses = 0, rc, drawn = 0;
  sh_reply r;

  if (esc == NULL)
    return SH_EXIT_REMOTE;
  snprintf(path, sizeof(path), "/api/v1/job-results/%s", esc);
  free(esc);
  for (;;) {
    const char *outcome;
    rc = sh_request(g, "GET", path, NULL, &r);
    if (rc == SH_EXIT_REMOTE && r.status == 404 && misses++ < 25) {
      sh_reply_free(&r); /* the record is written as the run starts */
      sleep_ms(POLL_MS);
      continue;
    }
    if (rc != SH_EXIT_OK) {
      sh_reply_free(&r);
      return rc;
    }
    outcome = sh_jstr(r.json, "outcome");
    if (outcome != NULL && strcmp(outcome, "running") != 0)
      break;
    if (!g->json) {
      show_progress(r.json, tty, last, sizeof(last));
      drawn = 1;
    }
    sh_reply_free(&r);
    sleep_ms(POLL_MS);
  }
  if (tty && drawn)
    printf("\n"); /* end the bar's line */
  if (g->json) {
    sh_print_json(&r);
  } else {
    printf("job %s: %s", job_id, sh_jstr(r.json, "outcome"));
    if (sh_jstr(r.json, "message") != NULL &&
        sh_jstr(r.json, "message")[0] != '\0')
      printf(" - %s", sh_jstr(r.json, "message"));
    printf("\n");
    if (sh_jstr(r.json, "counts") != NULL)
      printf("counts: %s\n", sh_jstr(r.json, "counts"));
  }
  rc = strcmp(sh_jstr(r.json, "outcome"), "success") == 0 ? SH_EXIT_OK
                                                          : SH_EXIT_REMOTE;
  sh_reply_free(&r);
  return rc;
}

static int run(int argc, char **argv, sh_global *g) {
  const char *key = NULL, *profile = NULL, *process = "download", *v;
  int wait = 0, dry = 0, confirm = 0, i, t, rc;
  char keybuf[512], path[1024], body[64], job_id[128];
  char *esc;
  sh_reply r;

  for (i = 1; i < argc; i++) {
    if ((t = sh_opt_value("--profile", &i, argc, argv, &v)) != 0)
      profile = v;
    else if ((t = sh_opt_value("--process", &i, argc, argv, &v)) != 0)
      process = v;
    else if (strcmp(argv[i], "--wait") == 0)
      wait = t = 1;
    else if (strcmp(argv[i], "--dry-run") == 0)
      dry = t = 1;
    else if (strcmp(argv[i], "--confirm") == 0)
      confirm = t = 1;
    else if (argv[i][0] != '-' && key == NULL)
      key = argv[i], t = 1;
    else
      t = -2;
    if (t == -2)
      fprintf(stderr, "samhost job run: unexpected argument [%s]\n", argv[i]);
    if (t < 0)
      return SH_EXIT_USAGE;
  }
  if (key == NULL && profile != NULL) {
    snprintf(keybuf, sizeof(keybuf), "%s:%s", profile, process);
    key = keybuf;
  }
  if (key == NULL) {
    fprintf(stderr, "samhost job run: give JOB_KEY or --profile P\n");
    return SH_EXIT_USAGE;
  }
  esc = sh_escape(key);
  if (esc == NULL)
    return SH_EXIT_REMOTE;
  snprintf(path, sizeof(path), "/api/v1/jobs/%s/run", esc);
  free(esc);
  snprintf(body, sizeof(body), "{\"dry_run\":%s,\"confirm\":%s}",
           dry ? "true" : "false", confirm ? "true" : "false");
  rc = sh_request(g, "POST", path, body, &r);
  if (rc != SH_EXIT_OK || sh_jstr(r.json, "job_id") == NULL) {
    sh_reply_free(&r);
    return rc != SH_EXIT_OK ? rc : SH_EXIT_REMOTE;
  }
  snprintf(job_id, sizeof(job_id), "%s", sh_jstr(r.json, "job_id"));
  if (!wait) {
    if (g->json)
      sh_print_json(&r);
    else
      printf("started job %s\n", job_id);
    sh_reply_free(&r);
    return SH_EXIT_OK;
  }
  sh_reply_free(&r);
  if (!g->json)
    printf("started job %s\n", job_id);
  return wait_for(g, job_id);
}

static int list_or_results(int argc, char **argv, sh_global *g, int results) {
  static const char *const job_cols[] = {
      "job_key",     "name",           "active", "next_run_at",
      "last_run_at", "running_job_id", NULL};
  static const char *const res_cols[] = {
      "job_id", "job_key", "trigger", "started_at", "outcome", "message", NULL};
  const char *profile = NULL, *id = NULL, *v;
  char *path = NULL;
  sh_reply r;
  int i, t, rc;

  for (i = 1; i < argc; i++) {
    if ((t = sh_opt_value("--profile", &i, argc, argv, &v)) != 0)
      profile = v;
    else if (results && argv[i][0] != '-' && id == NULL)
      id = argv[i], t = 1;
    else
      t = -2;
    if (t == -2)
      fprintf(stderr, "samhost job: unexpected argument [%s]\n", argv[i]);
    if (t < 0)
      return SH_EXIT_USAGE;
  }
  if (id != NULL) {
    char *e = sh_escape(id);
    path = e != NULL ? malloc(strlen(e) + 32) : NULL;
    if (path != NULL)
      sprintf(path, "/api/v1/job-results/%s", e);
    free(e);
  } else {
    path = with_query(results ? "/api/v1/job-results" : "/api/v1/jobs",
                      "profile", profile);
  }
  if (path == NULL)
    return SH_EXIT_REMOTE;
  rc = sh_request(g, "GET", path, NULL, &r);
  free(path);
  if (rc == SH_EXIT_OK) {
    if (g->json) {
      sh_print_json(&r);
    } else if (id != NULL) {
      sh_print_object(r.json);
    } else {
      json_object *items = NULL;
      json_object_object_get_ex(r.json, "items", &items);
      sh_print_table(items, results ? res_cols : job_cols);
    }
  }
  sh_reply_free(&r);
  return rc;
}

/*
 * See samhost.h.
 */
int sh_cmd_job(int argc, char **argv, sh_global *g) {
  if (g->help || argc < 2) {
    help();
    return g->help ? SH_EXIT_OK : SH_EXIT_USAGE;
  }
  argc--;
  argv++;
  if (strcmp(argv[0], "run") == 0)
    return run(argc, argv, g);
  if (strcmp(argv[0], "list") == 0)
    return list_or_results(argc, argv, g, 0);
  if (strcmp(argv[0], "results") == 0)
    return list_or_results(argc, argv, g, 1);
  fprintf(stderr, "samhost job: unknown subcommand [%s]; see --help\n",
          argv[0]);
  return SH_EXIT_USAGE;
}
