/*
 * sim_main.c: `docusign-sim` command line. Builds or loads the account,
 * starts the listeners, prints one JSON line with the base URLs on stdout
 * and runs the loop until SIGINT or SIGTERM.
 */
#include "sim.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static const char usage[] =
    "usage: docusign-sim [options]\n"
    "  --port N --tls-port N --cert FILE --key FILE\n"
    "  --users N --seed S | --account FILE   [--integration-user GUID]\n"
    "  --integration-non-admin --reseller\n"
    "  --client-id ID --client-secret S --redirect-uri URI (repeatable)\n"
    "  --auto-consent --access-ttl S --refresh-ttl S --code-ttl S\n"
    "  --no-limits --hourly-limit N --hourly-window-s S --burst-limit N\n"
    "  --burst-window-s S --limit-swap-status --retry-after\n"
    "  --latency-ms N --jitter-ms N --rate-500 P --rate-502 P --rate-503 P\n"
    "  --rate-reset P --rate-truncate P --rate-malformed P --rate-slow P\n"
    "  --next-429 N --slow-chunk-ms N --fault-scope rest|oauth|all\n"
    "  --fault-seed S\n"
    "See tools/docusign-sim/README.md.\n";

typedef struct opts {
  int port;
  int tls_port;
  const char *cert;
  const char *key;
  long users;
  unsigned long long seed;
  const char *account;
  const char *integ;
} opts;

static uv_signal_t sig_int;
static uv_signal_t sig_term;
static sim_server *server;

static void on_signal(uv_signal_t *h, int signum) {
  (void)signum;
  sim_server_stop(server);
  uv_close((uv_handle_t *)&sig_int, NULL);
  uv_close((uv_handle_t *)&sig_term, NULL);
  (void)h;
}

static long rss_kb(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  long pages = 0, res = 0;

  if (f == NULL)
    return 0;
  if (fscanf(f, "%ld %ld", &pages, &res) != 2)
    res = 0;
  fclose(f);
  return res * (sysconf(_SC_PAGESIZE) / 1024);
}

/* A whole-number option value in [lo, hi], or an error naming both. */
static int num_opt(const char *opt,
                   const char *v,
                   long long lo,
                   long long hi,
                   long long *out) {
  char *end = NULL;
  long long n;

  errno = 0;
  n = strtoll(v, &end, 10);
  if (v[0] == '\0' || end == NULL || *end != '\0' || errno != 0 || n < lo ||
      n > hi) {
    fprintf(stderr,
            "docusign-sim: bad %s [%s]: a whole number %lld..%lld "
            "expected\n",
            opt, v, lo, hi);
    return -1;
  }
  *out = n;
  return 0;
}

static int u64_opt(const char *opt, const char *v, uint64_t *out) {
  char *end = NULL;
  unsigned long long n;

  errno = 0;
  n = strtoull(v, &end, 10);
  if (v[0] < '0' || v[0] > '9' || end == NULL || *end != '\0' || errno != 0) {
    fprintf(stderr,
            "docusign-sim: bad %s [%s]: a whole number 0..2^64-1 expected\n",
            opt, v);
    return -1;
  }
  *out = (uint64_t)n;
  return 0;
}

static int parse_args(int argc, char **argv, sim_ctx *c, opts *o) {
  static const char *const fault_flags[][2] = {
      {"--latency-ms", "latency_ms"},
      {"--jitter-ms", "jitter_ms"},
      {"--rate-500", "rate_500"},
      {"--rate-502", "rate_502"},
      {"--rate-503", "rate_503"},
      {"--rate-reset", "rate_reset"},
      {"--rate-truncate", "rate_truncate"},
      {"--rate-malformed", "rate_malformed"},
      {"--rate-slow", "rate_slow"},
      {"--next-429", "next_429"},
      {"--slow-chunk-ms", "slow_chunk_ms"},
      {"--fault-scope", "scope"},
  };
  int i;
  size_t k;

  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    int takes = 1, found = 0;
    long long n = 0;
#define IS(name) (strcmp(a, name) == 0)
    for (k = 0; k < sizeof(fault_flags) / sizeof(fault_flags[0]); k++) {
      if (IS(fault_flags[k][0]) && v != NULL) {
        json_object *one = json_object_new_object();
        char err[300];
        const char *why;

        /* checked one by one, so the message names the option */
        json_object_object_add(one, fault_flags[k][1],
                               json_object_new_string(v));
        if (sim_faults_apply_json(&c->faults, one, err, sizeof(err)) != 0) {
          why = strstr(err, "]: ");
          fprintf(stderr, "docusign-sim: bad %s [%s]: %s\n", a, v,
                  why != NULL ? why + 3 : err);
          json_object_put(one);
          return -1;
        }
        json_object_put(one);
        found = 1;
      }
    }
    if (found) {
      i++;
      continue;
    }
    if (IS("--auto-consent")) {
      c->auto_consent = 1;
      takes = 0;
    } else if (IS("--integration-non-admin")) {
      c->integ_admin = 0;
      takes = 0;
    } else if (IS("--reseller")) {
      c->reseller = 1;
      takes = 0;
    } else if (IS("--no-limits")) {
      c->limits.enabled = 0;
      takes = 0;
    } else if (IS("--limit-swap-status")) {
      c->limits.swap_status = 1;
      takes = 0;
    } else if (IS("--retry-after")) {
      c->limits.retry_after = 1;
      takes = 0;
    } else if (IS("--help") || IS("-h")) {
      fputs(usage, stdout);
      exit(0);
    } else if (v == NULL) {
      fprintf(stderr, "docusign-sim: unknown option or missing value [%s]\n%s",
              a, usage);
      return -1;
    } else if (IS("--port")) {
      if (num_opt(a, v, 0, 65535, &n) != 0)
        return -1;
      o->port = (int)n;
    } else if (IS("--tls-port")) {
      if (num_opt(a, v, 0, 65535, &n) != 0)
        return -1;
      o->tls_port = (int)n;
    } else if (IS("--cert")) {
      o->cert = v;
    } else if (IS("--key")) {
      o->key = v;
    } else if (IS("--users")) {
      if (num_opt(a, v, 0, 50000000, &n) != 0)
        return -1;
      o->users = (long)n;
    } else if (IS("--seed")) {
      uint64_t seed;

      if (u64_opt(a, v, &seed) != 0)
        return -1;
      o->seed = seed;
    } else if (IS("--account")) {
      o->account = v;
    } else if (IS("--integration-user")) {
      o->integ = v;
    } else if (IS("--client-id")) {
      c->client_id = v;
    } else if (IS("--client-secret")) {
      c->client_secret = v;
    } else if (IS("--redirect-uri")) {
      if (c->nredirects == SIM_MAX_REDIRECTS) {
        fprintf(stderr, "docusign-sim: too many --redirect-uri [max=%d]\n",
                SIM_MAX_REDIRECTS);
        return -1;
      }
      c->redirects[c->nredirects++] = v;
    } else if (IS("--access-ttl")) {
      if (num_opt(a, v, 1, 100000000, &n) != 0)
        return -1;
      c->access_ttl = (long)n;
    } else if (IS("--refresh-ttl")) {
      if (num_opt(a, v, 1, 1000000000, &n) != 0)
        return -1;
      c->refresh_ttl = (long)n;
    } else if (IS("--code-ttl")) {
      if (num_opt(a, v, 1, 100000000, &n) != 0)
        return -1;
      c->code_ttl = (long)n;
    } else if (IS("--hourly-limit")) {
      if (num_opt(a, v, 1, 1000000000, &n) != 0)
        return -1;
      c->limits.hourly = (long)n;
    } else if (IS("--hourly-window-s")) {
      if (num_opt(a, v, 1, 86400, &n) != 0)
        return -1;
      c->limits.hourly_window_s = (long)n;
    } else if (IS("--burst-limit")) {
      if (num_opt(a, v, 1, 1000000000, &n) != 0)
        return -1;
      c->limits.burst = (long)n;
    } else if (IS("--burst-window-s")) {
      if (num_opt(a, v, 1, 86400, &n) != 0)
        return -1;
      c->limits.burst_window_s = (long)n;
    } else if (IS("--fault-seed")) {
      if (u64_opt(a, v, &c->fault_rng) != 0)
        return -1;
    } else {
      fprintf(stderr, "docusign-sim: unknown option [%s]\n%s", a, usage);
      return -1;
    }
#undef IS
    i += takes;
  }
  if ((o->cert == NULL) != (o->key == NULL)) {
    fprintf(stderr, "docusign-sim: --cert and --key go together [%s given]\n",
            o->cert != NULL ? "--cert" : "--key");
    return -1;
  }
  if (c->nredirects == 0)
    c->redirects[c->nredirects++] = "http://localhost/oauth_redirect.do";
  return 0;
}

int main(int argc, char **argv) {
  sim_ctx c;
  opts o;
  uv_loop_t loop;
  char err[512], sub[37];
  uint64_t t0;
  int rc = 1;

  memset(&c, 0, sizeof(c));
  memset(&o, 0, sizeof(o));
  o.users = 100;
  o.seed = 1;
  c.client_id = "sim-integration-key";
  c.client_secret = "sim-secret";
  c.integ_admin = 1;
  c.access_ttl = 28800;
  c.refresh_ttl = 30L * 86400;
  c.code_ttl = 120;
  c.fault_rng = 42;
  c.limits.enabled = 1;
  c.limits.hourly = 3000;
  c.limits.hourly_window_s = 3600;
  c.limits.burst = 500;
  c.limits.burst_window_s = 30;
  signal(SIGPIPE, SIG_IGN); /* a reset client must not kill the server */
  if (parse_args(argc, argv, &c, &o) != 0)
    goto done;
  t0 = uv_hrtime();
  if (o.account != NULL) {
    if (sim_load_account(&c.acct, o.account, err, sizeof(err)) != 0) {
      fprintf(stderr, "docusign-sim: %s\n", err);
      goto done;
    }
  } else if (sim_gen_account(&c.acct, (size_t)o.users, o.seed) != 0) {
    fprintf(stderr, "docusign-sim: out of memory generating [users=%ld]\n",
            o.users);
    goto done;
  }
  if (o.integ != NULL) {
    uint8_t id[16];
    if (sim_guid_parse(o.integ, id) != 0 || sim_user_find(&c.acct, id) < 0) {
      fprintf(stderr,
              "docusign-sim: --integration-user [%s] is not a user of the "
              "account\n",
              o.integ);
      goto done;
    }
    memcpy(c.acct.integ_id, id, 16);
  }
  if (!c.integ_admin) {
    long k = sim_user_find(&c.acct, c.acct.integ_id);
    if (k >= 0) {
      c.acct.users[k].flags &= (uint8_t)~SIM_UF_ADMIN;
      c.acct.users[k].profile =
          (uint8_t)sim_profile_find(&c.acct, "DocuSign Sender", 1);
    }
  }
  if (uv_loop_init(&loop) != 0)
    goto done;
  c.loop = &loop;
  if (sim_server_start(&c, o.port, o.tls_port, o.cert, o.key, &server) != 0) {
    sim_server_stop(server);
    uv_run(&loop, UV_RUN_DEFAULT);
    sim_server_free(server);
    uv_loop_close(&loop);
    goto done;
  }
  sim_guid_fmt(c.acct.integ_id, sub);
  {
    const char *base = c.https_base[0] ? c.https_base : c.http_base;
    printf("{\"http\":\"%s\",\"https\":%s%s%s,\"auth_base\":\"%s\","
           "\"rest_base\":\"%s/restapi\",\"control\":\"%s/_sim\","
           "\"account_id\":\"%s\",\"external_account_id\":\"%s\","
           "\"integration_user\":\"%s\",\"client_id\":\"%s\",\"users\":%zu,"
           "\"load_ms\":%.1f,\"rss_kb\":%ld}\n",
           c.http_base, c.https_base[0] ? "\"" : "",
           c.https_base[0] ? c.https_base : "null", c.https_base[0] ? "\"" : "",
           base, base, c.http_base, c.acct.guid, c.acct.external_id, sub,
           c.client_id, c.acct.nusers, (double)(uv_hrtime() - t0) / 1e6,
           rss_kb());
    fflush(stdout);
  }
  if (uv_signal_init(&loop, &sig_int) != 0 ||
      uv_signal_init(&loop, &sig_term) != 0 ||
      uv_signal_start(&sig_int, on_signal, SIGINT) != 0 ||
      uv_signal_start(&sig_term, on_signal, SIGTERM) != 0) {
    fprintf(stderr, "docusign-sim: cannot watch signals\n");
    goto done;
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  sim_server_free(server);
  server = NULL;
  rc = uv_loop_close(&loop);
  if (rc != 0)
    fprintf(stderr, "docusign-sim: loop not empty at exit [%s]\n",
            uv_strerror(rc));
  rc = rc != 0;

done:
  sim_oauth_free(&c);
  free(c.stats);
  sim_buf_free(&c.page);
  sim_account_free(&c.acct);
  return rc;
}
